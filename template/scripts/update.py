#!/usr/bin/env python3
# /// script
# requires-python = ">=3.9"
# dependencies = []
# ///
"""Keep this project in sync with its Copier template.

Usage: uv run scripts/update.py COMMAND [OPTION...]   (COMMAND -h: its options)

update, add-service, remove-service and switch-layout are each a `copier update`:
template-owned files (Dockerfiles, compose files, scripts, Makefiles, workflows) are merged
with your edits, user-owned ones (src/, tests/, .env) are never overwritten, and the
template's migrations run; the service commands stay at the project's template version
(--vcs-ref=:current:). Each ends with the summary the template's update engine wrote into
.git/copier-update-report.json, kept until the next update: `pull-request` posts it,
`template-diff` reads its diffs of files of yours.
Copier runs as `uvx --from 'copier>=9.19' --with copier-template-extensions copier`;
COPIER sets another command (COPIER=copier: the one on PATH). When Copier fails, its
message is one line; TRACEBACK=1 shows its traceback too. Standard library only.
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
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# scripts/lib/services.py reads scripts/services.json, the template's record of this
# project's services: never the services answer itself. (No __pycache__: running this
# changes nothing in the project's tree.)
sys.dont_write_bytecode = True
sys.path.insert(0, str(ROOT / "scripts" / "lib"))
# Ruff would sort `services` apart where the project has a services/ folder.
# isort: off
import gitutil  # noqa: E402  (scripts/lib/gitutil.py: the template's hooks/gitutil.py)
import services as registry  # noqa: E402
# isort: on

COPIER = "uvx --from copier>=9.19 --with copier-template-extensions>=0.3 copier"
# Trust the template (its migrations are code); conflicts as inline markers. Every answer
# comes from .copier-answers.yml as the migrations left it; a new question takes its
# default, which keeps the project's behaviour. (Never --skip-answered: with it Copier
# ignores answers a migration wrote.)
UPDATE = ["update", "--trust", "--conflict=inline", "--defaults"]
BOT = ("template-update[bot]", "template-update@users.noreply.github.com")
# A service name as the services answer takes it (the template checks the rest).
SERVICE_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
MAX_SERVICE_NAME = 30
# The last line of a Python traceback: "ValueError: Validation error for ...".
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt): (?P<text>.+)$")
CHECK_CONFLICTS = "scripts/check-conflicts.sh"
MARKER_LINE = re.compile(r"(?P<file>.+?):[0-9]+:")  # a conflict marker's "file:line:text"
# A report older than the update that just ran is the last update's (file systems keep
# modification times to a second or two).
REPORT, CLOCK_SLACK = "copier-update-report.json", 2.0


class Failure(Exception):
    """Stop with this message (exit 1)."""


def info(message: str) -> None:
    print(f"update: {message}", file=sys.stderr)


def require_clean_tree() -> None:
    if gitutil.text(ROOT, "rev-parse", "--is-inside-work-tree", check=False).strip() != "true":
        raise Failure("copier update needs a git repository: git init && git add -A && git commit")
    if gitutil.text(ROOT, "status", "--porcelain").strip():
        raise Failure("commit or stash your changes first: copier update needs a clean tree")


def load_report(since: float = 0.0) -> dict:
    """The last update's report; {} when there is none, it is unreadable, or older than since."""
    git_dir = gitutil.text(ROOT, "rev-parse", "--absolute-git-dir", check=False).strip()
    try:
        path = Path(git_dir, REPORT)
        if git_dir and path.stat().st_mtime >= since - CLOCK_SLACK:
            data = json.loads(path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        pass
    return {}


def summary(report: dict, found: list[str], form: str) -> list[str]:
    """The engine's summary as text or markdown lines; without one (an engine that writes
    none, or its summary failed): one line saying so, and the conflicts."""
    lines = (report.get("summary") or {}).get(form)
    if isinstance(lines, list):
        return [str(line) for line in lines]
    missing = "no update summary (the template's engine wrote none): "
    if form == "markdown":
        return [f"`copier update`, by the template-update workflow: {missing}the files changed "
                "are in this pull request's diff, what to do in docs/template-changes.md.",
                *(f"- conflict: `{line}`" for line in found)]
    return ["update: summary", f"  {missing}`git status` shows the changed files, "
            "docs/template-changes.md what to do", *(["  conflicts:"] if found else []),
            *(f"    {line}" for line in found)]


def run_copier(command: list[str]) -> tuple[int, list[str]]:
    """Run Copier, its output shown as it comes except a Python traceback: that is held back."""
    if os.environ.get("TRACEBACK") == "1":
        return subprocess.run(command, cwd=ROOT).returncode, []
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True,
                               errors="replace")
    assert process.stderr is not None
    held: list[str] = []
    for line in process.stderr:
        if held or line.startswith("Traceback (most recent call last):"):
            held.append(line)
        else:
            sys.stderr.write(line)
            sys.stderr.flush()
    return process.wait(), held


def copier(*args: str, allow_conflicts: bool = False) -> int:
    command = [*shlex.split(os.environ.get("COPIER", COPIER)), *args]
    info("running " + shlex.join(command))
    started = time.time()
    returncode, held = run_copier(command)
    if returncode != 0:
        # The exception that ended Copier: the traceback's last line, without its class.
        last = ([line.strip() for line in held if line.strip()] or [""])[-1]
        message = match["text"] if (match := EXCEPTION_LINE.match(last)) else last
        more = " (TRACEBACK=1 shows Copier's traceback)" if held else ""
        if not gitutil.text(ROOT, "status", "--porcelain", check=False).strip():
            raise Failure(f"{message or 'copier update failed'}; nothing was changed{more}")
        raise Failure(f"copier update failed{': ' + message if message else ''}{more}; your "
                      "files are as copier left them: see `git status`, undo with "
                      "`git reset --hard && git clean -fd`")
    found = gitutil.conflicts(ROOT)
    print(*summary(load_report(since=started), found, "text"), sep="\n", file=sys.stderr)
    if not found:
        info("done: review with `git status` and `git diff`, run `make test-unit`, then commit")
        return 0
    files = {m["file"] if (m := MARKER_LINE.match(line)) else line for line in found}
    # Not `make check-conflicts`: with markers in the Makefile make stops at parsing it.
    info(f"CONFLICTS in {len(files)} file{'s' if len(files) > 1 else ''}: keep the lines you "
         "want, delete the markers (and the .rej files), then commit; check again with: "
         + CHECK_CONFLICTS)
    return 0 if allow_conflicts else 1


def cmd_update(args: argparse.Namespace) -> int:
    require_clean_tree()
    # Already at the latest release: an update would render the same files again (seconds of
    # work that changes nothing); REF= or ASK=1 still run it. When Copier cannot tell (e.g. a
    # template without release tags), the update runs.
    try:
        current, latest, available = ("", "", True) if args.vcs_ref or args.ask else check_update()
    except Failure:
        current, latest, available = "", "", True
    if current and current == latest and not available:
        info(f"already at the template's latest release {current}: nothing to update "
             "(REF=<tag or branch> updates to another version, ASK=1 reviews the answers)")
        return 0
    # --ask: Copier asks every question, with this project's answers filled in.
    command = [arg for arg in UPDATE if not (args.ask and arg == "--defaults")]
    extra = [f"--vcs-ref={args.vcs_ref}"] if args.vcs_ref else []
    return copier(*command, *extra, allow_conflicts=args.allow_conflicts)


def services_update(words: list[str], *more: str) -> int:
    require_clean_tree()
    return copier(*UPDATE, "--vcs-ref=:current:", f"--data=services={' '.join(words)}", *more)


def cmd_add_service(args: argparse.Namespace) -> int:
    # One word as the services answer takes it, so NAME cannot bring options or more services.
    if not SERVICE_NAME.fullmatch(args.name):
        raise Failure(f"{args.name!r}: a service name is lowercase letters, digits and single "
                      "dashes, starting with a letter (LANG and KIND are separate options)")
    if len(args.name) > MAX_SERVICE_NAME:
        raise Failure(f"'{args.name}': a service name has at most {MAX_SERVICE_NAME} characters")
    data = registry.load(ROOT)
    if data.get("layout") != "multi":
        raise Failure("the single layout has exactly one service: run `make switch-layout` "
                      "first (your code moves into services/<name>/), then add services")
    words = [str(service["word"]) for service in data["services"]]
    if args.name in [str(service["name"]) for service in data["services"]]:
        raise Failure(f"'{args.name}' is already a service: {' '.join(words)}")
    if args.name in registry.names(ROOT):
        raise Failure(f"services/{args.name} exists, added by hand: the template would write "
                      "into it; move it away first, or pick another name")
    port = [f"port={args.port}"] if args.port else []
    return services_update([*words, ":".join([args.name, *filter(None, [args.lang, args.kind]),
                                              *port])])


def cmd_remove_service(args: argparse.Namespace) -> int:
    data = registry.load(ROOT)
    names = [str(service["name"]) for service in data["services"]]
    if args.name not in names:
        hand = args.name in registry.names(ROOT)
        by_hand = f" (services/{args.name} was added by hand: delete it yourself)" if hand else ""
        raise Failure(f"'{args.name}' is not a service{by_hand}; "
                      f"the services are: {' '.join(names)}")
    if len(names) == 1:
        raise Failure(f"'{args.name}' is the only service; a project needs at least one")
    return services_update([str(s["word"]) for s in data["services"] if s["name"] != args.name])


def cmd_switch_layout(args: argparse.Namespace) -> int:
    data = registry.load(ROOT)
    if data.get("layout") != "single":
        raise Failure("the project already has the multi layout")
    return services_update([str(s["word"]) for s in data["services"]], "--data=layout=multi")


def cmd_template_diff(args: argparse.Namespace) -> int:
    report = load_report()
    if not report:
        raise Failure("no update report: `make update` writes one (with this project's template "
                      "engine), and it is kept until the next update")
    diffs = {str(e.get("path")): e.get("diff") for e in report.get("user_owned_changed") or []
             if isinstance(e, dict)}
    unknown = [path for path in args.paths if path not in diffs]
    if unknown:
        which = [*diffs][:10] + ([f"... and {len(diffs) - 10} more"] if len(diffs) > 10 else [])
        raise Failure(f"{', '.join(unknown)}: not a file of yours whose template version changed "
                      f"in the last update (those are: {', '.join(which) or 'none'})")
    if not diffs:
        info("the last update changed the template's version of none of your files")
    for path in args.paths or diffs:
        diff = diffs[path]
        sys.stdout.write(diff if isinstance(diff, str) else
                         f"Binary or very large file {path}: the template's version changed\n")
    return 0


def cmd_check_conflicts(args: argparse.Namespace) -> int:
    """scripts/check-conflicts.sh: 1 when an update or a merge left markers or .rej files."""
    found = gitutil.conflicts(ROOT)
    if args.list or not found:
        sys.stdout.write("".join(f"{line}\n" for line in found))
        if not args.list:
            print("check-conflicts.sh: no conflict markers, no .rej files", file=sys.stderr)
        return 1 if found else 0
    markers = [line for line in found if MARKER_LINE.match(line)]
    for title, lines in (
        ("conflict markers (keep the lines you want, delete the markers)", markers),
        ("rejected hunks (apply them by hand, then delete the .rej files)", found[len(markers):]),
    ):
        if lines:
            print(f"check-conflicts.sh: {title}:", *(f"  {line}" for line in lines), sep="\n",
                  file=sys.stderr)
    return 1


def check_update() -> tuple[str, str, bool]:
    """Copier's check-update for this project: current version, latest release, newer?"""
    command = [*shlex.split(os.environ.get("COPIER", COPIER)), "check-update",
               "--output-format=json", str(ROOT)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise Failure(f"copier check-update failed:\n{result.stderr.strip()}")
    try:
        status = json.loads(result.stdout.strip().splitlines()[-1])
        return (str(status.get("current_version") or ""), str(status.get("latest_version") or ""),
                bool(status.get("update_available")))
    except (ValueError, IndexError, AttributeError):
        raise Failure(f"copier check-update printed no status:\n{result.stdout.strip()}") from None


def cmd_check_update(args: argparse.Namespace) -> int:
    current, latest, available = check_update()
    info(f"template {current}; latest release {latest}"
         + ("; an update is available" if available else "; up to date"))
    if args.github_output:
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
            out.write(f"available={'true' if available else 'false'}\n"
                      f"current={current}\nlatest={latest}\n")
    return 0


def api(method: str, url: str, token: str, body: dict | None = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    # GitHub and Gitea both take this form.
    headers = {"Authorization": f"token {token}", "Accept": "application/json",
               "Content-Type": "application/json"}
    request = urllib.request.Request(url, method=method, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")[:500]
        raise Failure(f"{method} {url}: HTTP {error.code} {detail}") from error


def cmd_pull_request(args: argparse.Namespace) -> int:
    env = {name: os.environ.get(name, "") for name in ("TOKEN", "API_URL", "REPOSITORY", "BASE")}
    missing = [name for name, value in env.items() if not value]
    if missing:
        raise Failure(f"set {', '.join(missing)} (the workflow passes them)")
    if not gitutil.text(ROOT, "status", "--porcelain").strip():
        info("the update changed nothing: no pull request")
        return 0
    body = "\n".join(summary(load_report(), gitutil.conflicts(ROOT), "markdown"))
    gitutil.text(ROOT, "switch", "--force-create", args.branch)
    gitutil.text(ROOT, "add", "--all")
    identity = ["-c", f"user.name={BOT[0]}", "-c", f"user.email={BOT[1]}"]
    gitutil.text(ROOT, *identity, "commit", "--quiet", "--no-verify", "-m", args.title)
    gitutil.text(ROOT, "push", "--force", "origin", f"HEAD:refs/heads/{args.branch}")
    # The open pull request from the branch, or a new one. GitHub filters by head and pages
    # by per_page, Gitea by limit; each ignores the other's.
    pulls = f"{env['API_URL'].rstrip('/')}/repos/{env['REPOSITORY']}/pulls"
    head = f"{env['REPOSITORY'].split('/')[0]}:{args.branch}"
    listed = api("GET", f"{pulls}?state=open&head={head}&per_page=100&limit=50", env["TOKEN"])
    pull = next((p for p in listed if (p.get("head") or {}).get("ref") == args.branch), None) \
        if isinstance(listed, list) else None
    pull = pull or api("POST", pulls, env["TOKEN"], {"title": args.title, "head": args.branch,
                                                     "base": env["BASE"], "body": body})
    info(f"pull request: {pull.get('html_url', '') if isinstance(pull, dict) else ''}")
    return 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="scripts/update.py", description=__doc__.split("\n\n")[0],
                                   epilog=__doc__.split("\n\n", 2)[2],
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    command = main.add_subparsers(dest="command", required=True, metavar="COMMAND").add_parser
    flag = {"action": "store_true"}
    update = command("update", help="merge the template's latest release (make update)")
    update.add_argument("--vcs-ref", help="a template tag or commit, not the latest release")
    update.add_argument("--ask", **flag, help="review every answer (default: keep them, new "
                                              "questions get their defaults)")
    update.add_argument("--allow-conflicts", **flag,
                        help="exit 0 even with conflicts (CI opens a pull request with them)")
    add = command("add-service", help="add a service (make add-service)")
    add.add_argument("name")
    add.add_argument("--lang", choices=["python", "node", "ts"])
    add.add_argument("--kind", choices=["api", "worker", "scheduler", "frontend"])
    # The option a refused port suggests ("add :port=N to 'name'"): the answer checks it.
    add.add_argument("--port", help="its dev host port (an api or frontend): the answer's port=N")
    command("remove-service", help="drop a service's template files (yours stay; your edits of "
            "them are kept in .template-removed/NAME.patch)").add_argument("name")
    command("switch-layout", help="single -> multi: your service moves into services/<name>/")
    command("template-diff", help="what the last update's template changed in files of yours "
            "it left as they are").add_argument("paths", nargs="*", metavar="PATH",
                                                 help="a file of yours the summary listed")
    command("check-update", help="is a newer template release out? (CI)").add_argument(
        "--github-output", **flag, help="write available, current, latest to $GITHUB_OUTPUT")
    pull = command("pull-request", help="commit, push the branch, open or refresh its pull "
                   "request (CI: TOKEN, API_URL, REPOSITORY, BASE)")
    pull.add_argument("--branch", default="template-update")
    pull.add_argument("--title", default="Update from the project template")
    command("check-conflicts", help=f"fail on conflict markers or .rej files ({CHECK_CONFLICTS})"
            ).add_argument("--list", **flag, help="print only the problems, one a line")
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:  # COMMAND runs cmd_COMMAND
        return globals()["cmd_" + args.command.replace("-", "_")](args)
    except (Failure, gitutil.GitError, registry.RegistryError) as failure:
        info(str(failure))
        return 1


if __name__ == "__main__":
    sys.exit(main())
