"""The user's additions to a template Makefile, told apart from edits of its lines."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

LOCAL_MK = "local.mk"
INCLUDE_LOCAL_MK = "-include local.mk"
# A line that includes local.mk, the template's or the user's own.
INCLUDES_LOCAL_MK = re.compile(r"^\s*(-|s)?include\s+(\./)?local\.mk\s*$")
RULE = re.compile(r"^[^\s#=:][^=]*?::?(?!=)")


def includes_local_mk(makefile: bytes | None) -> bool:
    """Whether a Makefile has the template's `-include local.mk` line."""
    return makefile is not None and INCLUDE_LOCAL_MK in makefile.decode(errors="replace").splitlines()


@dataclass
class MakefileEdit:
    """A change of the user's Makefile against the pristine render: where and what."""

    line: int  # first line in the user's Makefile (1-based); where a deletion was for deletions
    target: str  # the template target whose lines it touches, or ""
    removed: list[str]
    added: list[str]


@dataclass
class MakefileSplit:
    makefile: str  # the user's Makefile without the movable additions
    moved: list[str] = field(default_factory=list)  # lines for local.mk, blocks separated by ""
    kept: list[MakefileEdit] = field(default_factory=list)
    dropped_includes: bool = False


def _is_recipe(line: str) -> bool:
    return line.startswith("\t")


def _self_contained(block: list[str]) -> bool:
    """Lines that make sense on their own: every recipe line belongs to a rule of the block."""
    in_rule = continued = False
    for line in block:
        if continued:
            continued = line.rstrip("\n").endswith("\\")
            continue
        continued = line.rstrip("\n").endswith("\\")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if _is_recipe(line):
            if not in_rule:
                return False
        else:
            in_rule = bool(RULE.match(line))
    return not continued


def _target_at(pristine: list[str], index: int) -> str:
    """The template target whose rule or recipe line index is (or follows), if any."""
    for line in reversed(pristine[:index + 1]):
        if _is_recipe(line) or not line.strip() or line.startswith("#"):
            continue
        match = RULE.match(line)
        return match.group(0).rstrip(":") if match and not line.startswith(".") else ""
    return ""


def split_makefile(user: str, pristine: str) -> MakefileSplit:
    """Separate the user's additions to a template Makefile from edits of its lines.

    An addition moves to local.mk when it stands on its own: whole lines
    inserted between the template's rules, whose recipe lines belong to
    rules of their own. Edits of template lines, and lines inserted into a
    template recipe, stay where they are.
    """
    ours, theirs = pristine.splitlines(keepends=True), user.splitlines(keepends=True)
    result = MakefileSplit("")
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=ours, b=theirs, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        block = theirs[j1:j2]
        if tag == "equal":
            out += block
            continue
        inside_recipe = i1 < len(ours) and _is_recipe(ours[i1])
        after_continuation = i1 > 0 and ours[i1 - 1].rstrip("\n").endswith("\\")
        if tag == "insert" and not inside_recipe and not after_continuation and _self_contained(block):
            lines = [line.rstrip("\n") for line in block]
            if any(INCLUDES_LOCAL_MK.match(line) for line in lines):
                result.dropped_includes = True  # the template includes it now
                lines = [line for line in lines if not INCLUDES_LOCAL_MK.match(line)]
            while lines and not lines[0].strip():
                lines.pop(0)
            while lines and not lines[-1].strip():
                lines.pop()
            if lines:
                result.moved += ([""] if result.moved else []) + lines
            continue
        out += block
        result.kept.append(MakefileEdit(
            line=j1 + 1, target=_target_at(ours, max(i1 - 1, 0) if tag == "insert" else i1),
            removed=[line.rstrip("\n") for line in ours[i1:i2]],
            added=[line.rstrip("\n") for line in block],
        ))
    result.makefile = "".join(out)
    return result


def describe(edit: MakefileEdit) -> list[str]:
    where = "Makefile" + (f", target `{edit.target}`" if edit.target else "") + f" (line {edit.line} before the update)"
    lines = [f"{where}: your edit of the template's lines stays in the Makefile; "
             "to keep future updates free of conflicts, move it into local.mk by hand"
             + (" (a target of your own that runs the template's, say)" if edit.target else "") + ":"]
    lines += [f"  - {line}" for line in edit.removed] + [f"  + {line}" for line in edit.added]
    return lines

