#!/usr/bin/env python3
"""Write the template repository's CI workflows from their one source.

.github/workflows/ci.yml and .gitea/workflows/ci.yml are rendered from
tools/ci.yml.jinja (which imports the action pins of the generated projects'
CI partial). Both files are committed, because the forges read them from the
repository; tests/unit/test_repo_ci.py checks that they equal this render.

    python3 tools/workflows.py           # write both files
    python3 tools/workflows.py --check   # exit 1, naming each stale file; write nothing

Why a generator and not one file copied by hand: the two files differ in a
few comments only, but "identical except for a list of lines" is a rule a
hand edit breaks silently; a render cannot drift, and the test says which
command repairs it.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import jinja2

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "tools/ci.yml.jinja"
PINS_SOURCE = "partials/workflows/ci.yml.jinja"
# {forge: the file that forge reads}
OUTPUTS = {"github": ".github/workflows/ci.yml", "gitea": ".gitea/workflows/ci.yml"}
USAGE = "usage: python3 tools/workflows.py [--check]"


def render(root: Path = ROOT) -> dict[str, str]:
    """{output path relative to root: its text}, for every forge."""
    loader = jinja2.FileSystemLoader(root)
    env = jinja2.Environment(loader=loader, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    template = env.get_template(SOURCE)
    return {path: template.render(forge=forge, pins=pins(loader, forge)) for forge, path in OUTPUTS.items()}


def pins(loader: jinja2.BaseLoader, forge: str) -> dict[str, str]:
    """The action pins of the generated projects' CI partial, as it sets them for that forge.

    Only `pins` is read: the partial's body renders a project's workflow from
    answers this repository does not have, so that render runs with lenient
    undefined values and is thrown away.
    """
    env = jinja2.Environment(loader=loader, undefined=jinja2.ChainableUndefined)
    module = env.get_template(PINS_SOURCE).make_module({"provider": forge, "service_list": []})
    found = getattr(module, "pins", None)
    if not isinstance(found, dict):
        raise jinja2.TemplateError(f"{PINS_SOURCE} no longer sets a `pins` mapping")
    return dict(found)


def stale(root: Path = ROOT, outputs: dict[str, str] | None = None) -> list[str]:
    """A unified diff per output whose committed text differs from the render (or the given outputs)."""
    diffs = []
    for path, text in (render(root) if outputs is None else outputs).items():
        target = root / path
        current = target.read_text() if target.is_file() else ""
        if current != text:
            diffs.append("".join(difflib.unified_diff(
                current.splitlines(keepends=True), text.splitlines(keepends=True),
                f"{path} (committed)", f"{path} (from {SOURCE})")) or f"{path}: missing\n")
    return diffs


def main(argv: list[str]) -> int:
    if argv not in ([], ["--check"]):
        print(USAGE, file=sys.stderr)
        return 2
    try:
        outputs = render()
    except jinja2.TemplateError as error:
        print(f"tools/workflows.py: cannot render {SOURCE}: {error}", file=sys.stderr)
        return 1
    if argv == ["--check"]:
        diffs = stale(ROOT, outputs)
        for diff in diffs:
            sys.stdout.write(diff)
        if diffs:
            print(f"stale CI workflows: run `python3 tools/workflows.py` and commit "
                  f"{' and '.join(OUTPUTS.values())}", file=sys.stderr)
        return 1 if diffs else 0
    for path, text in outputs.items():
        target = ROOT / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
