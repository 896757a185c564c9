"""Alembic revisions of a generated project's python services (not Copier's migrations)."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable
from pathlib import Path

from update.core import say

LLM_REVISION = "migrations/versions/llm_0001_runs.py"


def revision_ids(path: Path) -> tuple[str, tuple[str, ...]] | None:
    """A revision file's `revision` and `down_revision` (read with ast), or None if it has no revision."""
    try:
        tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return None
    found: dict[str, object] = {}
    for node in tree.body:
        # `revision = "..."`, or Alembic's newer `revision: str = "..."`
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target = node.target
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            try:
                found[target.id] = ast.literal_eval(node.value)
            except ValueError:
                return None
    revision, down = found.get("revision"), found.get("down_revision")
    if not isinstance(revision, str):
        return None
    downs = (down,) if isinstance(down, str) else tuple(d for d in down or () if isinstance(d, str))
    return revision, downs


def stack_llm_revision(root: Path, fresh: Iterable[str]) -> list[str]:
    """The llm revision this update created goes on top of the team's own revisions (one head).

    It revises 0001; a service whose team wrote revisions after 0001 would get
    a second Alembic head, and `alembic upgrade head` refuses that. The file is
    new in this update (the team never had it), so rewriting it is safe. The
    component's later revisions (llm_0002 ...), new in this update too, follow
    it and are not the team's. The files rewritten.
    """
    fresh = set(fresh)
    rewritten = []
    for rel in sorted(p for p in fresh if p == LLM_REVISION or p.endswith(f"/{LLM_REVISION}")):
        path = root / rel
        folder = Path(rel).parent
        revisions = dict(filter(None, (revision_ids(other) for other in path.parent.glob("*.py")
                                       if (folder / other.name).as_posix() not in fresh)))
        parents = {parent for downs in revisions.values() for parent in downs}
        heads = sorted(set(revisions) - parents)
        if not heads or heads == ["0001"]:
            continue
        if len(heads) > 1:
            service = Path(rel).parent.parent.parent.as_posix()
            say(f"{rel}: revises 0001, and this service's revisions have several heads already "
                f"({', '.join(heads)}): join them with `alembic merge heads` in {service} before `make migrate`")
            continue
        head = heads[0]
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        at = [i for i, line in enumerate(lines) if line.rstrip() == 'down_revision = "0001"']
        if len(at) != 1:
            continue
        lines[at[0]] = f"down_revision = {json.dumps(head)}\n"
        docstring = next((i for i, line in enumerate(lines[:at[0]]) if line.rstrip() == "Revises: 0001"), None)
        if docstring is not None:
            lines[docstring] = f"Revises: {head}\n"
        path.write_text("".join(lines), encoding="utf-8")
        rewritten.append(rel)
        say(f"{rel}: revises {head} now, the head of your revisions (not 0001: one Alembic head)")
    return rewritten
