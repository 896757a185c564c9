#!/usr/bin/env python3
"""Lock files of this project: uv.lock per python project, package-lock.json per node service.

Template-owned: `make update` merges template changes. The images install
exactly these locks (`uv sync --locked`, `npm ci`): commit them. Standard
library only, Python 3.9 or newer; needs uv (python) and npm (node).

usage: scripts/lock.py [--check] [--missing] [--from-copier] [FOLDER...]

  (no option)     create or refresh every lock from its manifest (`make lock`)
  FOLDER...       only these folders (services/<name>, or . for the root)
  --check         change nothing; fail when a lock is missing or no longer
                  matches its manifest (`make lock-check`, CI)
  --missing       also create every lock that is missing
  --from-copier   run by `copier copy` / `make update`: a lock that cannot be
                  made (no package index, no uv or npm) is one line saying so
                  and the exit status stays 0; SKIP_LOCK=1 skips the locking

The folders: every service of scripts/services.json and, in the multi layout,
the root (the cross-service tests). Exit codes: 0 done, 1 a lock failed or is
stale, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts" / "lib"))
import services  # noqa: E402

LOCKS = {"python": "uv.lock", "node": "package-lock.json", "ts": "package-lock.json"}
FIX = "run `make lock` and commit the lock"


def folders(root: Path) -> dict[str, str]:
    """{folder relative to root: language} of every project that has a lock."""
    result = {s["path"]: s["language"] for s in services.services(root)
              if s.get("language") in LOCKS}
    if services.load(root).get("layout") == "multi" and (root / "pyproject.toml").is_file():
        result["."] = "python"
    return result


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def lock_command(language: str) -> list[str]:
    if language == "python":
        return ["uv", "lock", "--quiet"]
    return ["npm", "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund",
            "--loglevel=error"]


def make_lock(folder: Path, language: str) -> str | None:
    """Create or refresh the folder's lock; None when done, else why not."""
    cmd = lock_command(language)
    if shutil.which(cmd[0]) is None:
        return f"{cmd[0]} is not installed"
    try:
        result = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return f"`{' '.join(cmd[:2])}` took more than 10 minutes"
    if result.returncode != 0:
        return f"`{' '.join(cmd[:2])}` failed: {last_line(result.stderr or result.stdout)}"
    return None


def npm_stale(folder: Path) -> str | None:
    """Why package-lock.json does not match package.json (what `npm ci` refuses), or None.

    npm copies the manifest's dependency ranges into the lock's root entry:
    any difference means the lock was made from another package.json.
    """
    manifest = json.loads((folder / "package.json").read_text())
    root = json.loads((folder / "package-lock.json").read_text()).get("packages", {}).get("", {})
    for field in ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies"):
        want, have = manifest.get(field) or {}, root.get(field) or {}
        if want != have:
            names = sorted(n for n in set(want) | set(have) if want.get(n) != have.get(n))
            return f"{field} differ ({', '.join(names)})"
    return None


def check_lock(folder: Path, language: str) -> str | None:
    """None when the lock matches the manifest, else what is wrong."""
    if not (folder / LOCKS[language]).is_file():
        return f"no {LOCKS[language]}"
    if language in ("node", "ts"):
        try:
            reason = npm_stale(folder)
        except (OSError, ValueError) as error:
            return f"unreadable package.json or package-lock.json ({error})"
        return f"package-lock.json is out of date: {reason}" if reason else None
    if shutil.which("uv") is None:
        return "uv is not installed"
    result = subprocess.run(["uv", "lock", "--check", "--quiet"], cwd=folder, capture_output=True,
                            text=True, timeout=600)
    if result.returncode != 0:
        return f"uv.lock is out of date ({last_line(result.stderr or result.stdout)})"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*", metavar="FOLDER")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--missing", action="store_true")
    parser.add_argument("--from-copier", action="store_true")
    args = parser.parse_args(argv)
    try:
        known = folders(ROOT)
    except services.RegistryError as error:
        print(f"lock.py: {error}", file=sys.stderr)
        return 1
    unknown = [f for f in args.folders if f.rstrip("/") not in known]
    if unknown:
        parser.error(f"not a project folder: {', '.join(unknown)} (one of: {', '.join(known)})")
    chosen = [f.rstrip("/") for f in args.folders]
    if args.missing:
        chosen += [f for f, lang in known.items()
                   if f not in chosen and not (ROOT / f / LOCKS[lang]).is_file()]
    elif not chosen:
        chosen = list(known)
    if args.from_copier and os.environ.get("SKIP_LOCK") == "1":
        if chosen:
            print(f"lock.py: SKIP_LOCK=1, not locking {', '.join(chosen)}: run `make lock`")
        return 0
    failed = 0
    for folder in chosen:
        language = known[folder]
        lock = (Path(folder) / LOCKS[language]).as_posix()
        if args.check:
            problem = check_lock(ROOT / folder, language)
            if problem:
                print(f"lock.py: {folder}: {problem}: {FIX}", file=sys.stderr)
                failed += 1
            continue
        problem = make_lock(ROOT / folder, language)
        if problem is None:
            print(f"lock.py: {lock} written")
            continue
        failed += 1
        exists = (ROOT / lock).is_file()
        state = "not refreshed" if exists else "missing"
        print(f"lock.py: {lock} {state} ({problem}); run `make lock` once the package index "
              "is reachable, then commit it", file=sys.stderr)
    if args.check and not failed:
        print(f"lock.py: {len(chosen)} locks match their manifests")
    return 0 if args.from_copier else min(failed, 1)


if __name__ == "__main__":
    sys.exit(main())
