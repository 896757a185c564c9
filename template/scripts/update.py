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
  template-diff [PATH...]               what the last update's template changed in
                                        files of yours it left as they are (make template-diff)
  check-update [--github-output]        is a newer template release out? (CI)
  pull-request --branch B --title T     commit, push B, open or refresh its pull
                                        request (CI; TOKEN, API_URL, REPOSITORY, BASE)

Every change is a `copier update`: template-owned files (Dockerfiles, compose
files, scripts, Makefiles, workflows) are merged with your edits,
user-owned files (src/, tests/, .env) are never overwritten, and the
template's migrations run. The service commands stay at the template version
the project has (`--vcs-ref=:current:`); `update` moves to a newer one.

Each ends with one summary: the template files merged, the files created and
deleted, your files whose template version changed (left as they are;
`template-diff` shows the template's change), the conflicts by file, and what
to do before the next deploy (the new `- **Action:**` lines of
docs/template-changes.md). The template's update engine writes the lists into
.git/copier-update-report.json, kept until the next update.

Copier runs as `uvx --from 'copier>=9.19' --with copier-template-extensions
copier`; set COPIER to use another command (COPIER=copier for one on PATH).
When Copier refuses an answer or fails, its message is shown on one line;
TRACEBACK=1 shows Copier's whole traceback as well.
Exit codes: 0 done, 1 failed or conflicts left to resolve, 2 usage error.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
import time
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
    started = time.time()
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
    summary = Summary(load_report(since=started), by_file(found), actions(changelog_additions()))
    for line in summary.text():
        print(line, file=sys.stderr)
    if found:
        # Not `make check-conflicts`: with markers in the Makefile make stops at parsing it.
        info(f"CONFLICTS in {plural(len(summary.conflicts), 'file')}: keep the lines you want, "
             f"delete the markers (and the .rej files), then commit; check again with: "
             f"{CHECK_CONFLICTS}")
        return 0 if allow_conflicts else 1
    info("done: review with `git status` and `git diff`, run `make test-unit`, then commit")
    return 0


# ------------------------------------------------------------------ the summary
# The template's update engine (hooks/update/report.py) writes what the update did
# into the git directory; it stays there until the next update, for `template-diff`.
REPORT = "copier-update-report.json"
# A report older than the update that just ran is the last update's (the engine wrote
# none this time); file systems keep modification times to a second or two.
CLOCK_SLACK = 2.0
SHOWN = 10
CONFLICT_LINE = re.compile(r"^(?P<file>.+?):(?P<line>[0-9]+):")
# An action for the team: a changelog bullet that starts with "- **Action:**";
# its indented lines below continue it.
ACTION = re.compile(r"^\s*- \*\*Action:\*\*\s*(?P<text>.*)$")
BULLET = re.compile(r"^\s*[-*+] ")
# What the pull request shows of a template diff, of all of them, and of the changelog's
# new lines: GitHub refuses a body over 65,536 characters.
PR_DIFF_LINES = 150
PR_DIFF_CHARS = 12_000
PR_DIFFS_CHARS = 35_000
PR_DIFF_FILES = 30
PR_CHANGES_CHARS = 12_000


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def report_file() -> Path | None:
    git_dir = gitutil.text(ROOT, "rev-parse", "--absolute-git-dir", check=False).strip()
    return Path(git_dir) / REPORT if git_dir else None


def load_report(since: float | None = None) -> dict | None:
    """The last update's report; None when there is none, it is unreadable, or older than since."""
    path = report_file()
    if path is None:
        return None
    try:
        if since is not None and path.stat().st_mtime < since - CLOCK_SLACK:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def by_file(found: list[str]) -> dict[str, list[str]]:
    """conflicts() per file: the marker line numbers (none for a .rej file), in their order."""
    files: dict[str, list[str]] = {}
    for line in found:
        match = CONFLICT_LINE.match(line)
        if match:
            files.setdefault(match["file"], []).append(match["line"])
        else:
            files.setdefault(line, [])
    return files


def changelog_additions() -> list[str]:
    """The lines the uncommitted update adds to the template's changelog, as written there."""
    if not (ROOT / CHANGES).is_file():
        return []
    if gitutil.show(ROOT, CHANGES) is None:  # new with this update: every line is
        return (ROOT / CHANGES).read_text(encoding="utf-8", errors="replace").splitlines()
    diff = gitutil.text(ROOT, "diff", "HEAD", "--no-color", "--no-ext-diff", "--unified=0", "--",
                        CHANGES, check=False)
    return [line[1:] for line in diff.splitlines()
            if line.startswith("+") and not line.startswith("+++")]


def actions(lines: list[str]) -> list[str]:
    """The text of every `- **Action:**` bullet in changelog lines, each on one line."""
    found: list[list[str]] = []
    current: list[str] | None = None
    for line in lines:
        match = ACTION.match(line)
        if match:
            current = [match["text"].strip()]
            found.append(current)
        elif current is not None and line[:1].isspace() and line.strip() and not BULLET.match(line):
            current.append(line.strip())
        else:
            current = None
    return [" ".join(part for part in parts if part) for parts in found]


def shown(items: list[str]) -> list[str]:
    """At most SHOWN items, then how many more."""
    return items[:SHOWN] + ([f"... and {len(items) - SHOWN} more"] if len(items) > SHOWN else [])


def conflict_note(lines: list[str]) -> str:
    if not lines:
        return "a rejected change: apply it by hand, then delete the file"
    numbers = ", ".join(lines[:6]) + (", ..." if len(lines) > 6 else "")
    return f"{plural(len(lines), 'marker line')} ({numbers})"


def fence(text: str) -> str:
    """A Markdown code fence longer than any backtick run in text."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def truncated(diff: str, lines: int, chars: int) -> tuple[str, int]:
    """diff cut to lines and chars; how many of its lines were left off."""
    all_lines = diff.splitlines(keepends=True)
    kept = all_lines[:lines]
    while kept and sum(map(len, kept)) > chars:
        kept.pop()
    return "".join(kept), len(all_lines) - len(kept)


class Summary:
    """What an update did, from the engine's report, conflicts() and the changelog's new lines."""

    def __init__(self, report: dict | None, conflicts: dict[str, list[str]], actions: list[str]):
        self.report = report
        self.conflicts = conflicts
        self.actions = actions

    def lists(self) -> list[tuple[str, list[str]]]:
        """(title, paths) of the report's lists that are not empty."""
        report = self.report or {}
        titles = {
            "merged": ("template file", "merged"),
            "created": ("file", "created"),
            "deleted": ("file", "deleted"),
            "edited": ("file", "of yours edited by the template's update steps"),
        }
        found = []
        for key, (word, what) in titles.items():
            paths = [str(p) for p in report.get(key) or []]
            if paths:
                found.append((f"{plural(len(paths), word)} {what}", paths))
        return found

    def user_owned(self) -> list[dict]:
        return [e for e in (self.report or {}).get("user_owned_changed") or []
                if isinstance(e, dict) and e.get("path")]

    def versions(self) -> str:
        report = self.report or {}
        old, new = str(report.get("from") or ""), str(report.get("to") or "")
        if not new:
            return ""
        return f"template {new}" if old in ("", new) else f"template {old} -> {new}"

    def text(self) -> list[str]:
        """The summary for the terminal: stderr lines, most urgent last."""
        versions = self.versions()
        lines = [f"update: summary{f' ({versions})' if versions else ''}"]
        if self.report is None:
            lines.append("  no update report (the template's engine wrote none): "
                         "`git status` shows the changed files")
        for title, paths in self.lists():
            lines.append(f"  {title}:")
            lines += [f"    {p}" for p in shown(paths)]
        owned = self.user_owned()
        if owned:
            # make cannot read a Makefile with conflict markers: then the script itself.
            command = ("uv run scripts/update.py template-diff [PATH...]"
                       if "Makefile" in self.conflicts else "make template-diff [FILES=path]")
            lines.append(f"  {plural(len(owned), 'file')} of yours kept as they are, although the "
                         f"template's version changed; its change: {command}")
            lines += [f"    {p}" for p in shown([str(e["path"]) for e in owned])]
        if self.report is not None and not self.lists() and not owned:
            lines.append("  no file changed")
        if self.conflicts:
            lines.append(f"  conflicts in {plural(len(self.conflicts), 'file')}:")
            lines += [f"    {name}: {conflict_note(numbers)}"
                      for name, numbers in self.conflicts.items()]
        if self.actions:
            lines.append("  Before your next deploy:")
            for action in self.actions:
                lines += textwrap.wrap(action, width=88, initial_indent="    - ",
                                       subsequent_indent="      ", break_on_hyphens=False)
        return lines

    def markdown(self, changes: list[str]) -> list[str]:
        """The summary for the pull request body, with the changelog's new lines."""
        body: list[str] = []
        if self.actions:
            body += ["", "**Before your next deploy:**", ""]
            body += [f"- {action}" for action in self.actions]
        if self.conflicts:
            body += ["", "**Conflicts to resolve** (CI's conflict check fails until they are):",
                     ""]
            body += [f"- `{name}`: {conflict_note(numbers)}"
                     for name, numbers in self.conflicts.items()]
        if changes:
            text, left = truncated("".join(f"{line}\n" for line in changes), len(changes),
                                   PR_CHANGES_CHARS)
            body += ["", f"**What changed in the template** (new lines of {CHANGES}):", "",
                     text.rstrip("\n")]
            if left:
                body += ["", f"... {plural(left, 'more line')} in {CHANGES}."]
        if self.report is None:
            body += ["", "No update report (the template's engine wrote none): the files "
                         "changed are in this pull request's diff."]
        for title, paths in self.lists():
            body += ["", f"**{title[0].upper()}{title[1:]}:**", ""]
            body += [f"- `{p}`" if not p.startswith("... and ") else f"- {p}" for p in shown(paths)]
        owned = self.user_owned()
        if owned:
            body += ["", f"**{plural(len(owned), 'file')} of yours kept as they are, although the "
                         "template's version changed.** The template's change of each, to apply "
                         "what you want of it (`make template-diff` shows it after `make update`):"]
            budget = PR_DIFFS_CHARS
            for entry in owned[:PR_DIFF_FILES]:
                path, diff = str(entry["path"]), entry.get("diff")
                body += ["", f"<details><summary><code>{html.escape(path)}</code></summary>", ""]
                text, left = "", 0
                if not isinstance(diff, str):
                    body += ["A binary or very large file: compare it with a new project's copy."]
                else:
                    text, left = truncated(diff, PR_DIFF_LINES, min(PR_DIFF_CHARS, budget))
                    budget -= len(text)
                if text:
                    marks = fence(text)
                    body += [f"{marks}diff", text.rstrip("\n"), marks]
                if left:
                    body += ["", f"{'... ' if text else ''}{plural(left, 'more line')}: `make "
                                 f"template-diff FILES={path}` after a local `make update` shows "
                                 "them all."]
                body += ["", "</details>"]
            if len(owned) > PR_DIFF_FILES:
                body += ["", f"... and {len(owned) - PR_DIFF_FILES} more: `make template-diff` "
                             "after a local `make update` shows them all."]
        return body


def cmd_update(args: argparse.Namespace) -> int:
    require_clean_tree()
    # Already at the latest release: an update would render the same files again
    # (seconds of work that changes nothing); REF= or ASK=1 still run it.
    if not args.vcs_ref and not args.ask and (release := latest_release()):
        info(f"already at the template's latest release {release}: nothing to update "
             "(REF=<tag or branch> updates to another version, ASK=1 reviews the answers)")
        return 0
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


def cmd_template_diff(args: argparse.Namespace) -> int:
    report = load_report()
    if report is None:
        raise Failure("no update report: `make update` writes one (with this project's template "
                      "engine), and it is kept until the next update")
    diffs = {str(e.get("path")): e.get("diff") for e in report.get("user_owned_changed") or []
             if isinstance(e, dict)}
    unknown = [path for path in args.paths if path not in diffs]
    if unknown:
        which = ", ".join(shown(list(diffs))) or "none"
        raise Failure(f"{', '.join(unknown)}: not a file of yours whose template version changed "
                      f"in the last update (those are: {which})")
    if not diffs:
        info("the last update changed the template's version of none of your files")
    for path in args.paths or list(diffs):
        diff = diffs[path]
        sys.stdout.write(diff if isinstance(diff, str) else
                         f"Binary or very large file {path}: the template's version changed\n")
    return 0


def check_update() -> dict:
    """Copier's check-update for this project: current_version, latest_version, update_available."""
    command = [*shlex.split(os.environ.get("COPIER", COPIER)), "check-update",
               "--output-format=json", str(ROOT)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise Failure(f"copier check-update failed:\n{result.stderr.strip()}")
    try:
        status = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise Failure(f"copier check-update printed no status:\n{result.stdout.strip()}") from None
    return status if isinstance(status, dict) else {}


def latest_release() -> str:
    """The release this project is at when it is the template's latest, else "" (also when
    Copier cannot tell, e.g. a template without release tags: then the update runs)."""
    try:
        status = check_update()
    except Failure:
        return ""
    current = str(status.get("current_version") or "")
    latest = str(status.get("latest_version") or "")
    return current if current and current == latest and not status.get("update_available") else ""


def cmd_check_update(args: argparse.Namespace) -> int:
    status = check_update()
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


def cmd_pull_request(args: argparse.Namespace) -> int:
    env = {name: os.environ.get(name, "") for name in ("TOKEN", "API_URL", "REPOSITORY", "BASE")}
    missing = [name for name, value in env.items() if not value]
    if missing:
        raise Failure(f"set {', '.join(missing)} (the workflow passes them)")
    if not gitutil.text(ROOT, "status", "--porcelain").strip():
        info("the update changed nothing: no pull request")
        return 0
    found = conflicts()
    changes = changelog_additions()
    summary = Summary(load_report(), by_file(found), actions(changes))
    gitutil.text(ROOT, "switch", "--force-create", args.branch)
    gitutil.text(ROOT, "add", "--all")
    identity = ["-c", f"user.name={BOT[0]}", "-c", f"user.email={BOT[1]}"]
    gitutil.text(ROOT, *identity, "commit", "--quiet", "--no-verify", "-m", args.title)
    gitutil.text(ROOT, "push", "--force", "origin", f"HEAD:refs/heads/{args.branch}")
    versions = summary.versions()
    body = [
        f"`copier update` to the template's latest release{f' ({versions})' if versions else ''}, "
        "by the template-update workflow.",
        "Template-owned files are merged with this project's edits; src/, tests/ and .env "
        "files are untouched. Review, run the tests, merge.",
        *summary.markdown(changes),
    ]
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
    diff = commands.add_parser("template-diff",
                               help="the last update's template change of files of yours it kept")
    diff.add_argument("paths", nargs="*", metavar="PATH",
                      help="a file of yours the summary listed (default: all of them)")
    diff.set_defaults(run=cmd_template_diff)
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
