"""The summary of an update, composed from its report (hooks/update/report.py).

text() is what `make update` prints at its end (stderr lines, most urgent
last); markdown() is the body of the template-sync pull request (the
project's `scripts/update.py pull-request`). Both are written into the
report, so a project prints the summary of the template version it updates
to, whatever its own scripts/update.py knows. Pure: a report in, lines out.

A report here is the dict report.build() returns: from, to, merged, edited,
created, deleted (paths), user_owned_changed ({path, diff}), conflicts
({file: [marker line numbers]}, [] for a .rej file), changes (the lines the
update adds to docs/template-changes.md) and actions (their `- **Action:**`
bullets, one line each).
"""

from __future__ import annotations

import html
import re
import textwrap

CHANGES = "docs/template-changes.md"
SHOWN = 10
# An action for the team: a changelog bullet that starts with "- **Action:**";
# its indented lines below continue it.
ACTION = re.compile(r"^\s*- \*\*Action:\*\*\s*(?P<text>.*)$")
BULLET = re.compile(r"^\s*[-*+] ")
CONFLICT_LINE = re.compile(r"^(?P<file>.+?):(?P<line>[0-9]+):")
# What the pull request shows of a template diff, of all of them, and of the changelog's
# new lines: GitHub refuses a body over 65,536 characters.
PR_DIFF_LINES = 150
PR_DIFF_CHARS = 12_000
PR_DIFFS_CHARS = 35_000
PR_DIFF_FILES = 30
PR_CHANGES_CHARS = 12_000
LISTS = {
    "merged": ("template file", "merged"),
    "created": ("file", "created"),
    "deleted": ("file", "deleted"),
    "edited": ("file", "of yours edited by the template's update steps"),
}


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


def by_file(found: list[str]) -> dict[str, list[str]]:
    """Conflict lines (gitutil.conflicts) per file: the marker line numbers (none for a .rej
    file), in their order."""
    files: dict[str, list[str]] = {}
    for line in found:
        match = CONFLICT_LINE.match(line)
        if match:
            files.setdefault(match["file"], []).append(match["line"])
        else:
            files.setdefault(line, [])
    return files


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


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


def lists(report: dict) -> list[tuple[str, list[str]]]:
    """(title, paths) of the report's lists that are not empty."""
    found = []
    for key, (word, what) in LISTS.items():
        paths = [str(p) for p in report.get(key) or []]
        if paths:
            found.append((f"{plural(len(paths), word)} {what}", paths))
    return found


def user_owned(report: dict) -> list[dict]:
    return [e for e in report.get("user_owned_changed") or [] if isinstance(e, dict) and e.get("path")]


def versions(report: dict) -> str:
    old, new = str(report.get("from") or ""), str(report.get("to") or "")
    if not new:
        return ""
    return f"template {new}" if old in ("", new) else f"template {old} -> {new}"


def text(report: dict) -> list[str]:
    """The summary for the terminal: stderr lines, most urgent last."""
    conflicts: dict[str, list[str]] = report.get("conflicts") or {}
    lines = [f"update: summary{f' ({versions(report)})' if versions(report) else ''}"]
    for title, paths in lists(report):
        lines.append(f"  {title}:")
        lines += [f"    {p}" for p in shown(paths)]
    owned = user_owned(report)
    if owned:
        # make cannot read a Makefile with conflict markers: then the script itself.
        command = ("uv run scripts/update.py template-diff [PATH...]"
                   if "Makefile" in conflicts else "make template-diff [FILES=path]")
        lines.append(f"  {plural(len(owned), 'file')} of yours kept as they are, although the "
                     f"template's version changed; its change: {command}")
        lines += [f"    {p}" for p in shown([str(e["path"]) for e in owned])]
    if not lists(report) and not owned:
        lines.append("  no file changed")
    if conflicts:
        lines.append(f"  conflicts in {plural(len(conflicts), 'file')}:")
        lines += [f"    {name}: {conflict_note(numbers)}" for name, numbers in conflicts.items()]
    if report.get("actions"):
        lines.append("  Before your next deploy:")
        for action in report["actions"]:
            lines += textwrap.wrap(action, width=88, initial_indent="    - ",
                                   subsequent_indent="      ", break_on_hyphens=False)
    return lines


def markdown(report: dict) -> list[str]:
    """The pull request's body: the summary, the changelog's new lines, the template's diffs of
    files of the team's, within the forge's limit."""
    conflicts: dict[str, list[str]] = report.get("conflicts") or {}
    changes: list[str] = report.get("changes") or []
    body = [
        f"`copier update` to the template's latest release"
        f"{f' ({versions(report)})' if versions(report) else ''}, by the template-update workflow.",
        "Template-owned files are merged with this project's edits; src/, tests/ and .env "
        "files are untouched. Review, run the tests, merge.",
    ]
    if report.get("actions"):
        body += ["", "**Before your next deploy:**", ""]
        body += [f"- {action}" for action in report["actions"]]
    if conflicts:
        body += ["", "**Conflicts to resolve** (CI's conflict check fails until they are):", ""]
        body += [f"- `{name}`: {conflict_note(numbers)}" for name, numbers in conflicts.items()]
    if changes:
        kept, left = truncated("".join(f"{line}\n" for line in changes), len(changes), PR_CHANGES_CHARS)
        body += ["", f"**What changed in the template** (new lines of {CHANGES}):", "", kept.rstrip("\n")]
        if left:
            body += ["", f"... {plural(left, 'more line')} in {CHANGES}."]
    for title, paths in lists(report):
        body += ["", f"**{title[0].upper()}{title[1:]}:**", ""]
        body += [f"- `{p}`" if not p.startswith("... and ") else f"- {p}" for p in shown(paths)]
    owned = user_owned(report)
    if owned:
        body += ["", f"**{plural(len(owned), 'file')} of yours kept as they are, although the "
                     "template's version changed.** The template's change of each, to apply "
                     "what you want of it (`make template-diff` shows it after `make update`):"]
        budget = PR_DIFFS_CHARS
        for entry in owned[:PR_DIFF_FILES]:
            path, diff = str(entry["path"]), entry.get("diff")
            body += ["", f"<details><summary><code>{html.escape(path)}</code></summary>", ""]
            kept, left = "", 0
            if not isinstance(diff, str):
                body += ["A binary or very large file: compare it with a new project's copy."]
            else:
                kept, left = truncated(diff, PR_DIFF_LINES, min(PR_DIFF_CHARS, budget))
                budget -= len(kept)
            if kept:
                marks = fence(kept)
                body += [f"{marks}diff", kept.rstrip("\n"), marks]
            if left:
                body += ["", f"{'... ' if kept else ''}{plural(left, 'more line')}: `make "
                             f"template-diff FILES={path}` after a local `make update` shows "
                             "them all."]
            body += ["", "</details>"]
        if len(owned) > PR_DIFF_FILES:
            body += ["", f"... and {len(owned) - PR_DIFF_FILES} more: `make template-diff` "
                         "after a local `make update` shows them all."]
    return body
