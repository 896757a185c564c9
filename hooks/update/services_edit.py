"""A change of the services answer: the stack files merged service by service.

Each service's block in the template-owned stack files lies between
`# begin NAME` and `# end NAME` lines (partials/compose/): the anchors that
keep the user's edits with their own service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gitutil import paths as git_paths
from gitutil import show as head_file

from update.core import Context, merge, say, service_names, settle, unified_diff, write_keeping_mode

STACK_FILES = ("deploy/dev/docker-compose.yml", "deploy/test/docker-compose.yml",
               "deploy/prod/docker-compose.yml")
REMOVED_DIR = ".template-removed"


def block_span(lines: list[str], name: str) -> tuple[int, int] | None:
    """Service `name`'s block in a stack file: (its begin line, after its end line)."""
    begin, end = f"  # begin {name}", f"  # end {name}"
    starts = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == begin]
    ends = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == end]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        return None
    return starts[0], ends[0] + 1


@dataclass
class Identity:
    merged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    # Removed service -> its template-owned files the user had edited, and the patch.
    edited: dict[str, list[str]] = field(default_factory=dict)
    patches: dict[str, str] = field(default_factory=dict)


def keep_service_edits(ctx: Context) -> Identity:
    """After a change of the services answer: stack files merged by block, removed edits kept.

    Copier applies the user's edits as a patch with three lines of context,
    and the blocks of two services look alike: an edit in a removed (or
    changed) block lands in another service's block. So each stack file is
    merged again, three-way from the user's committed file and pristine
    renders of the old and the new answers, with the removed services'
    blocks cut from both sides first: the begin/end lines anchor every
    other hunk to its own service. The removed services' blocks, and their
    template-owned files the user had edited, go to
    .template-removed/<name>.patch (a diff against the pristine render).
    """
    root, result = ctx.root, Identity()
    gone = [n for n in service_names(ctx.old) if n not in service_names(ctx.new)]
    diffs: dict[str, list[tuple[str, str]]] = {name: [] for name in gone}
    p0, p1 = ctx.old_render(), ctx.new_render()
    for path in STACK_FILES:
        committed, base_file, new_file = head_file(root, path), p0 / path, p1 / path
        if committed is None or not base_file.is_file() or not new_file.is_file():
            continue
        user, base = committed.decode(), base_file.read_text()
        for name in gone:
            user_lines, base_lines = user.splitlines(keepends=True), base.splitlines(keepends=True)
            user_span, base_span = block_span(user_lines, name), block_span(base_lines, name)
            if user_span is None or base_span is None:
                continue
            block = user_lines[user_span[0]:user_span[1]]
            if block != base_lines[base_span[0]:base_span[1]]:
                edited = base_lines[:base_span[0]] + block + base_lines[base_span[1]:]
                diffs[name].append((path, unified_diff(path, base, "".join(edited))))
            user = "".join(user_lines[:user_span[0]] + user_lines[user_span[1]:])
            base = "".join(base_lines[:base_span[0]] + base_lines[base_span[1]:])
        fresh = new_file.read_bytes()
        content, conflicted = merge(user.encode(), base.encode(), fresh) if user != base else (fresh, False)
        target = root / path
        if not target.is_file() or target.read_bytes() != content:
            write_keeping_mode(target, content)
            result.merged.append(path)
        settle(root, path)
        result.conflicts += [path] if conflicted else []
    for name in gone:
        for path in git_paths(root, "ls-tree", "-r", "--name-only", "HEAD", "--", f"services/{name}/"):
            user_bytes, base_file = head_file(root, path), p0 / path
            if ctx.owned(path) or user_bytes is None or not base_file.is_file():
                continue
            if user_bytes != base_file.read_bytes():
                diffs[name].append((path, unified_diff(
                    path, base_file.read_bytes().decode(errors="replace"), user_bytes.decode(errors="replace"))))
    for name, found in diffs.items():
        if found:
            write_patch(root, name, sorted(found), result)
    return result


def write_patch(root: Path, name: str, found: list[tuple[str, str]], result: Identity) -> None:
    """.template-removed/<name>.patch: the user's edits of a removed service's template files."""
    patch = f"{REMOVED_DIR}/{name}.patch"
    for number in range(2, 1000):  # a service removed before keeps its earlier patch
        if not (root / patch).exists():
            break
        patch = f"{REMOVED_DIR}/{name}-{number}.patch"
    header = (f"# Your edits of the template-owned files of the removed service '{name}', as a diff\n"
              "# against the template's own render of them (scripts/update.py remove-service).\n")
    write_keeping_mode(root / patch, (header + "".join(d for _, d in found)).encode())
    result.edited[name] = [path for path, _ in found]
    result.patches[name] = patch


def report_identity(identity: Identity) -> None:
    for name, patch in identity.patches.items():
        say(f"service '{name}': your edits of its template files are kept in {patch} "
            "(commit it with this change):")
        for path in identity.edited[name]:
            say(f"  {path}" + (f" (the '{name}' block)" if path in STACK_FILES else ""))
    for path in identity.conflicts:
        say(f"CONFLICT in {path}: your edits meet the template's changes; resolve the markers")
