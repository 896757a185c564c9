#!/usr/bin/env python3
# /// script
# requires-python = ">=3.10"
# dependencies = []
# ///
"""Keep this project in sync with its Copier template.

Usage: uv run scripts/update.py COMMAND [OPTION...]

  update [--vcs-ref REF] [--ask]        merge the template's latest release (make update)
  add-service NAME [--lang L] [--kind K] [--port N]
                                        a new service, L python|node|ts,
                                        K api|worker|scheduler|frontend, N its
                                        dev host port (the answer's port=N)
  remove-service NAME                   drop a service's template files (yours stay;
                                        your edits of its template files are kept
                                        in .template-removed/NAME.patch)
  switch-layout                         single -> multi: your service moves into
                                        services/<name>/ (make switch-layout)
  check-update [--github-output]        is a newer template release out? (CI)
  pull-request --branch B --title T     commit, push B, open or refresh its pull
                                        request (CI; TOKEN, API_URL, REPOSITORY, BASE)

Every change is a `copier update`: template-owned files (Dockerfiles, compose
files, scripts, Makefiles, workflows) are merged with your edits,
user-owned files (src/, tests/, .env) are never overwritten, and the
template's migrations run. The service commands stay at the template version
the project has (`--vcs-ref=:current:`); `update` moves to a newer one.

Copier runs as `uvx --from 'copier>=9.19' --with copier-template-extensions
copier`; set COPIER to use another command (COPIER=copier for one on PATH).
When Copier refuses an answer or fails, its message is shown on one line;
TRACEBACK=1 shows Copier's whole traceback as well.
Exit codes: 0 done, 1 failed or conflicts left to resolve, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# scripts/lib/services.py reads scripts/services.json, the template's record of
# this project's services: never the services answer itself.
# (No __pycache__ beside it: nothing of the project's tree changes by running this.)
sys.dont_write_bytecode = True
sys.path.insert(0, str(ROOT / "scripts" / "lib"))
# Ruff would sort `services` apart where the project has a services/ folder.
# isort: off
import gitutil  # noqa: E402  (scripts/lib/gitutil.py: the template's hooks/gitutil.py)
import services as registry  # noqa: E402
# isort: on

COPIER = "uvx --from copier>=9.19 --with copier-template-extensions>=0.3 copier"
# Trust the template (its migrations are code); conflicts as inline markers,
# which scripts/check-conflicts.sh, the pre-commit hook and CI catch. Every
# answer comes from .copier-answers.yml, as the template's migrations left it,
# and a new question takes its default, which keeps the project's behaviour.
# (Never --skip-answered: with it Copier ignores answers a migration wrote.)
UPDATE = ["update", "--trust", "--conflict=inline"]
UNATTENDED = ["--defaults"]
BOT = ("template-update[bot]", "template-update@users.noreply.github.com")
# A service name as the template's `services` question takes it (the template
# checks the rest: reserved names, Python modules, duplicates).
SERVICE_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
MAX_SERVICE_NAME = 30
# The last line of a Python traceback: "ValueError: Validation error for ...".
EXCEPTION_LINE = re.compile(
    r"^(?:[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)): (?P<message>.+)$"
)


class Failure(Exception):
    """Stop with this message (exit 1)."""


def info(message: str) -> None:
    print(f"update: {message}", file=sys.stderr)


def project() -> dict:
    """scripts/services.json: the layout and, per service, its word in the services answer."""
    try:
        return registry.load(ROOT)
    except registry.RegistryError as error:
        raise Failure(str(error)) from None


def service_words(data: dict) -> list[str]:
    """The services answer as the template last rendered it, one word a service."""
    return [str(service["word"]) for service in data["services"]]


def registered_names(data: dict) -> list[str]:
    return [str(service["name"]) for service in data["services"]]


def require_clean_tree() -> None:
    if gitutil.text(ROOT, "rev-parse", "--is-inside-work-tree", check=False).strip() != "true":
        raise Failure("copier update needs a git repository: git init && git add -A && git commit")
    if gitutil.text(ROOT, "status", "--porcelain").strip():
        raise Failure("commit or stash your changes first: copier update needs a clean tree")


CHECK_CONFLICTS = "scripts/check-conflicts.sh"
MARKER = re.compile(r"^(?:<{7}|>{7})(?: |$)")


def conflicts() -> list[str]:
    """What scripts/check-conflicts.sh reports, one line per problem (file:line: text, or .rej)."""
    try:
        result = subprocess.run([str(ROOT / CHECK_CONFLICTS), "--list"], cwd=ROOT,
                                capture_output=True, text=True)
    except OSError:
        return scan_conflicts()
    if result.returncode in (0, 1):
        return result.stdout.splitlines() if result.returncode == 1 else []
    # The script itself did not run (say, the update left markers in it): look here.
    return scan_conflicts()


def scan_conflicts() -> list[str]:
    """The same problems as scripts/check-conflicts.sh finds, without it."""
    listed = gitutil.text(ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z",
                          check=False)
    files = sorted({p for p in listed.split("\0") if p}) or sorted(
        p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*")
        if p.is_file() and not {".git", "node_modules", ".venv"} & set(p.relative_to(ROOT).parts)
    )
    found = []
    for rel in files:
        if rel.endswith(".rej"):
            continue
        try:
            lines = (ROOT / rel).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        found += [f"{rel}:{number}:{line}"
                  for number, line in enumerate(lines, 1) if MARKER.match(line)]
    rejects = sorted(
        p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*.rej")
        if p.is_file() and not {".git", "node_modules", ".venv"} & set(p.relative_to(ROOT).parts)
    )
    return found + rejects


def run_copier(command: list[str]) -> tuple[int, list[str]]:
    """Run Copier, its output shown as it comes except a Python traceback: that is held back."""
    if os.environ.get("TRACEBACK") == "1":
        return subprocess.run(command, cwd=ROOT).returncode, []
    process = subprocess.Popen(
        command, cwd=ROOT, stderr=subprocess.PIPE, text=True, errors="replace"
    )
    assert process.stderr is not None
    held: list[str] = []
    for line in process.stderr:
        if held or line.startswith("Traceback (most recent call last):"):
            held.append(line)
        else:
            sys.stderr.write(line)
            sys.stderr.flush()
    return process.wait(), held


def failure_message(held: list[str]) -> str:
    """The message of the exception that ended Copier: the traceback's last line, no class."""
    lines = [line.strip() for line in held if line.strip()]
    if not lines:
        return ""
    match = EXCEPTION_LINE.match(lines[-1])
    return match.group("message") if match else lines[-1]


def copier(*args: str, allow_conflicts: bool = False) -> int:
    command = [*shlex.split(os.environ.get("COPIER", COPIER)), *args]
    info("running " + shlex.join(command))
    returncode, held = run_copier(command)
    if returncode != 0:
        message = failure_message(held)
        more = " (TRACEBACK=1 shows Copier's traceback)" if held else ""
        if not gitutil.text(ROOT, "status", "--porcelain", check=False).strip():
            raise Failure(f"{message or 'copier update failed'}; nothing was changed{more}")
        raise Failure(f"copier update failed{': ' + message if message else ''}{more}; your "
                      "files are as copier left them: see `git status`, undo with "
                      "`git reset --hard && git clean -fd`")
    found = conflicts()
    if found:
        # Not `make check-conflicts`: with markers in the Makefile make stops at parsing it.
        info(f"CONFLICTS in {len(found)} place(s): keep the lines you want, delete the markers "
             f"(and the .rej files), then commit; check again with: {CHECK_CONFLICTS}")
        for line in found:
            print(f"  {line}", file=sys.stderr)
        return 0 if allow_conflicts else 1
    info("done: review with `git status` and `git diff`, run `make test-unit`, then commit")
    return 0


def cmd_update(args: argparse.Namespace) -> int:
    require_clean_tree()
    extra = [f"--vcs-ref={args.vcs_ref}"] if args.vcs_ref else []
    # --ask: Copier asks every question, with this project's answers filled in.
    mode = [] if args.ask else UNATTENDED
    return copier(*UPDATE, *mode, *extra, allow_conflicts=args.allow_conflicts)


def services_update(services: list[str], *more: str) -> int:
    return copier(*UPDATE, *UNATTENDED, "--vcs-ref=:current:",
                  f"--data=services={' '.join(services)}", *more)


def check_service_name(name: str) -> None:
    """One word as the services answer takes it, so NAME cannot bring options or more services."""
    if not SERVICE_NAME.fullmatch(name):
        raise Failure(f"{name!r}: a service name is lowercase letters, digits and single dashes, "
                      "starting with a letter (LANG and KIND are separate options)")
    if len(name) > MAX_SERVICE_NAME:
        raise Failure(f"'{name}': a service name has at most {MAX_SERVICE_NAME} characters")


def cmd_add_service(args: argparse.Namespace) -> int:
    check_service_name(args.name)
    data = project()
    if data.get("layout") != "multi":
        raise Failure("the single layout has exactly one service: run `make switch-layout` "
                      "first (your code moves into services/<name>/), then add services")
    words = service_words(data)
    if args.name in registered_names(data):
        raise Failure(f"'{args.name}' is already a service: {' '.join(words)}")
    if args.name in registry.names(ROOT):
        raise Failure(f"services/{args.name} exists, added by hand: the template would write "
                      "into it; move it away first, or pick another name")
    require_clean_tree()
    port = [f"port={args.port}"] if args.port else []
    word = ":".join([args.name, *(o for o in (args.lang, args.kind) if o), *port])
    return services_update([*words, word])


def cmd_remove_service(args: argparse.Namespace) -> int:
    data = project()
    names = registered_names(data)
    if args.name not in names:
        hand = args.name in registry.names(ROOT)
        by_hand = f" (services/{args.name} was added by hand: delete it yourself)" if hand else ""
        raise Failure(f"'{args.name}' is not a service{by_hand}; "
                      f"the services are: {' '.join(names)}")
    if len(names) == 1:
        raise Failure(f"'{args.name}' is the only service; a project needs at least one")
    require_clean_tree()
    return services_update([str(s["word"]) for s in data["services"] if s["name"] != args.name])


def cmd_switch_layout(args: argparse.Namespace) -> int:
    data = project()
    if data.get("layout") != "single":
        raise Failure("the project already has the multi layout")
    require_clean_tree()
    return services_update(service_words(data), "--data=layout=multi")


def cmd_check_update(args: argparse.Namespace) -> int:
    command = [*shlex.split(os.environ.get("COPIER", COPIER)), "check-update",
               "--output-format=json", str(ROOT)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise Failure(f"copier check-update failed:\n{result.stderr.strip()}")
    status = json.loads(result.stdout.strip().splitlines()[-1])
    available = bool(status.get("update_available"))
    current, latest = status.get("current_version", ""), status.get("latest_version", "")
    info(f"template {current}; latest release {latest}"
         + ("; an update is available" if available else "; up to date"))
    if args.github_output:
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
            out.write(f"available={'true' if available else 'false'}\n"
                      f"current={current}\nlatest={latest}\n")
    return 0


def api(method: str, url: str, token: str, body: dict | None = None) -> object:
    request = urllib.request.Request(
        url,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            # GitHub and Gitea both take this form.
            "Authorization": f"token {token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")[:500]
        raise Failure(f"{method} {url}: HTTP {error.code} {detail}") from error


def open_pull_request(api_url: str, repository: str, token: str, *, branch: str, base: str,
                      title: str, body: str) -> str:
    """Open a pull request from branch into base, or find the open one; its web URL."""
    pulls = f"{api_url.rstrip('/')}/repos/{repository}/pulls"
    owner = repository.split("/")[0]
    # GitHub filters by head and pages by per_page, Gitea by limit; each ignores the other's.
    existing = api("GET", f"{pulls}?state=open&head={owner}:{branch}&per_page=100&limit=50", token)
    for pull in existing if isinstance(existing, list) else []:
        if (pull.get("head") or {}).get("ref") == branch:
            return str(pull.get("html_url", ""))
    payload = {"title": title, "head": branch, "base": base, "body": body}
    created = api("POST", pulls, token, payload)
    return str(created.get("html_url", "")) if isinstance(created, dict) else ""


CHANGES = "docs/template-changes.md"


def template_changes() -> list[str]:
    """The lines the staged update adds to the template's changelog, as written there."""
    diff = gitutil.text(ROOT, "diff", "--cached", "--no-color", "--unified=0", "--", CHANGES)
    return [line[1:] for line in diff.splitlines()
            if line.startswith("+") and not line.startswith("+++")]


def cmd_pull_request(args: argparse.Namespace) -> int:
    env = {name: os.environ.get(name, "") for name in ("TOKEN", "API_URL", "REPOSITORY", "BASE")}
    missing = [name for name, value in env.items() if not value]
    if missing:
        raise Failure(f"set {', '.join(missing)} (the workflow passes them)")
    if not gitutil.text(ROOT, "status", "--porcelain").strip():
        info("the update changed nothing: no pull request")
        return 0
    found = conflicts()
    gitutil.text(ROOT, "switch", "--force-create", args.branch)
    gitutil.text(ROOT, "add", "--all")
    changes = template_changes()
    identity = ["-c", f"user.name={BOT[0]}", "-c", f"user.email={BOT[1]}"]
    gitutil.text(ROOT, *identity, "commit", "--quiet", "--no-verify", "-m", args.title)
    gitutil.text(ROOT, "push", "--force", "origin", f"HEAD:refs/heads/{args.branch}")
    body = [
        "`copier update` to the template's latest release, by the template-update workflow.",
        "Template-owned files are merged with this project's edits; src/, tests/ and .env "
        "files are untouched. Review, run the tests, merge.",
    ]
    if changes:
        body += ["", f"**What changed in the template** (new lines of {CHANGES}):", "", *changes]
    if found:
        body += ["", "**Conflicts to resolve** (CI's conflict check fails until they are):", ""]
        body += [f"- `{line}`" for line in found]
    url = open_pull_request(env["API_URL"], env["REPOSITORY"], env["TOKEN"], branch=args.branch,
                            base=env["BASE"], title=args.title, body="\n".join(body))
    info(f"pull request: {url}")
    return 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = main.add_subparsers(dest="command", required=True)
    update = commands.add_parser("update", help="merge the template's latest release")
    update.add_argument("--vcs-ref", help="a template tag or commit, not the latest release")
    update.add_argument("--ask", action="store_true",
                        help="review every answer (default: keep them, new questions get defaults)")
    update.add_argument("--allow-conflicts", action="store_true",
                        help="exit 0 even with conflicts (CI opens a pull request with them)")
    update.set_defaults(run=cmd_update)
    add = commands.add_parser("add-service", help="add a service")
    add.add_argument("name")
    add.add_argument("--lang", choices=["python", "node", "ts"])
    add.add_argument("--kind", choices=["api", "worker", "scheduler", "frontend"])
    # The option a refused port suggests ("add :port=N to 'name'"): the services answer checks it.
    add.add_argument("--port",
                     help="its dev host port (an api or frontend), as the answer's port=N")
    add.set_defaults(run=cmd_add_service)
    remove = commands.add_parser("remove-service", help="remove a service's template files")
    remove.add_argument("name")
    remove.set_defaults(run=cmd_remove_service)
    switch = commands.add_parser("switch-layout", help="single -> multi")
    switch.set_defaults(run=cmd_switch_layout)
    check = commands.add_parser("check-update", help="is a newer template release out?")
    check.add_argument("--github-output", action="store_true",
                       help="write available/current/latest to $GITHUB_OUTPUT")
    check.set_defaults(run=cmd_check_update)
    pull = commands.add_parser("pull-request", help="commit, push and open the pull request")
    pull.add_argument("--branch", default="template-update")
    pull.add_argument("--title", default="Update from the project template")
    pull.set_defaults(run=cmd_pull_request)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (Failure, gitutil.GitError) as failure:
        print(f"update: {failure}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
