#!/usr/bin/env python3
"""Lock files of this project: uv.lock per python project, package-lock.json per node service.

The folders: every service of scripts/services.json and, in the multi layout, the root
(the cross-service tests). The images install exactly these locks (`uv sync --locked`,
`npm ci`): commit them. Needs uv and npm; standard library only, Python 3.9 or newer.
Template-owned: `make update` merges template changes. Exit codes: 0 done, 1 a lock
failed or is stale, 2 usage error. No option: create or refresh every lock (`make lock`).
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
NPM_LOCK = ["npm", "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund",
            "--loglevel=error"]
FIX = "run `make lock` and commit the lock"


def folders(root: Path) -> dict[str, str]:
    """{folder relative to root: language} of every project that has a lock."""
    result = {s["path"]: s["language"] for s in services.services(root)
              if s.get("language") in LOCKS}
    if services.load(root).get("layout") == "multi" and (root / "pyproject.toml").is_file():
        result["."] = "python"
    return result


def run(cmd: list[str], folder: Path, failed: str = "`{cmd}` failed: {last}") -> str | None:
    """None when `cmd` succeeds in folder, else why not (`failed`: last, its last output line)."""
    if shutil.which(cmd[0]) is None:
        return f"{cmd[0]} is not installed"
    try:
        result = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return f"`{' '.join(cmd[:2])}` took more than 10 minutes"
    lines = [line.strip() for line in (result.stderr or result.stdout).splitlines() if line.strip()]
    return None if result.returncode == 0 else failed.format(
        cmd=" ".join(cmd[:2]), last=lines[-1] if lines else "no output")


def check_lock(folder: Path, language: str) -> str | None:
    """None when the lock matches the manifest, else what is wrong."""
    if not (folder / LOCKS[language]).is_file():
        return f"no {LOCKS[language]}"
    if language == "python":
        return run(["uv", "lock", "--check", "--quiet"], folder, "uv.lock is out of date ({last})")
    try:
        manifest = json.loads((folder / "package.json").read_text())
        root = json.loads((folder / "package-lock.json").read_text()).get("packages", {}).get("")
    except (OSError, ValueError) as error:
        return f"unreadable package.json or package-lock.json ({error})"
    # npm copies the manifest's ranges into the lock's root entry; `npm ci` refuses a difference.
    for field in ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies"):
        want, have = manifest.get(field) or {}, (root or {}).get(field) or {}
        names = sorted(n for n in set(want) | set(have) if want.get(n) != have.get(n))
        if names:
            return f"package-lock.json is out of date: {field} differ ({', '.join(names)})"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="*", metavar="FOLDER",
                        help="only these folders (services/<name>, or . for the root)")
    for option, text in (
            ("--check", "change nothing; fail when a lock is missing or no longer matches its "
                        "manifest (`make lock-check`, CI)"),
            ("--missing", "also create every lock that is missing"),
            ("--from-copier", "run by `copier copy` / `make update`: a lock that cannot be made "
                              "(no package index, no uv or npm) is one line saying so and the exit "
                              "status stays 0; SKIP_LOCK=1 skips the locking")):
        parser.add_argument(option, action="store_true", help=text)
    args = parser.parse_args(argv)
    try:
        known = folders(ROOT)
    except services.RegistryError as error:
        print(f"lock.py: {error}", file=sys.stderr)
        return 1
    chosen = [f.rstrip("/") for f in args.folders]
    unknown = [f for f in chosen if f not in known]
    if unknown:
        parser.error(f"not a project folder: {', '.join(unknown)} (one of: {', '.join(known)})")
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
        language, lock = known[folder], (Path(folder) / LOCKS[known[folder]]).as_posix()
        if args.check:
            problem = check_lock(ROOT / folder, language)
            if problem:
                print(f"lock.py: {folder}: {problem}: {FIX}", file=sys.stderr)
        else:
            cmd = ["uv", "lock", "--quiet"] if language == "python" else NPM_LOCK
            problem = run(cmd, ROOT / folder)
            if problem:
                state = "not refreshed" if (ROOT / lock).is_file() else "missing"
                print(f"lock.py: {lock} {state} ({problem}); run `make lock` once the package "
                      "index is reachable, then commit it", file=sys.stderr)
            else:
                print(f"lock.py: {lock} written")
        failed += bool(problem)
    if args.check and not failed:
        print(f"lock.py: {len(chosen)} locks match their manifests")
    return 0 if args.from_copier else min(failed, 1)


if __name__ == "__main__":
    sys.exit(main())
