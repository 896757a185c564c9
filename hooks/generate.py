"""`make generate`: render a project from this checkout that can be updated from day one.

usage: python hooks/generate.py DEST [-d NAME=VALUE]... [--data-file FILE]

A project records where its template is (`_src_path`) and the template commit
it was rendered from (`_commit`); `make update`, `make add-service` and
`make remove-service` in the project need both. So:

- the template checkout must be committed: from a dirty checkout Copier would
  render a throwaway commit of the draft, and every later update of the
  project fails with "Unknown revision";
- `_src_path` is the checkout's absolute path, which works from the project
  folder (a relative one would not);
- `project_name` defaults to DEST's folder name;
- a refused answer prints Copier's message on one line and exits 1; nothing
  is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gitutil  # noqa: E402

TEMPLATE = Path(__file__).resolve().parent.parent


class Refused(Exception):
    """Stop with this one-line message (exit 1); nothing was written."""


def check_template(root: Path) -> None:
    """Refuse a template checkout whose HEAD does not hold what would be rendered."""
    try:
        top = gitutil.text(root, "rev-parse", "--show-toplevel").strip()
    except gitutil.GitError:
        top = ""
    if not top or Path(top).resolve() != root.resolve():
        raise Refused(f"{root} is not a git checkout of the template: clone it with git")
    if not gitutil.ok(root, "rev-parse", "--verify", "--quiet", "HEAD"):
        raise Refused(f"{root} has no commit yet: commit the template first")
    changed = gitutil.text(root, "status", "--porcelain", check=False).splitlines()
    if changed:
        paths = ", ".join(line[3:] for line in changed[:5]) + (", ..." if len(changed) > 5 else "")
        raise Refused(
            f"the template checkout has uncommitted changes ({paths}): commit or stash them first; "
            "a project records the template commit it came from, and its `make update`, "
            "`make add-service` and `make remove-service` need that commit to exist"
        )


def parse_data(pairs: list[str], data_file: Path | None) -> dict[str, object]:
    """Answers from --data-file, then -d NAME=VALUE (the later wins), as Copier's CLI reads them."""
    data: dict[str, object] = {}
    if data_file is not None:
        try:
            loaded = yaml.safe_load(data_file.read_text())
        except (OSError, yaml.YAMLError) as error:
            raise Refused(f"--data-file {data_file}: {one_line(str(error))}") from error
        if not isinstance(loaded, dict):
            raise Refused(f"--data-file {data_file}: expected a mapping of question: answer")
        data.update(loaded)
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise Refused(f"-d {pair}: expected NAME=VALUE")
        data[name] = value
    return data


def check_destination(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise Refused(f"{dest} already exists and is not empty: pick a new folder (make generate DEST=...)")


def one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.strip().splitlines() if part.strip())


def generate(template: Path, dest: Path, data: dict[str, object]) -> None:
    from copier import run_copy
    from copier.errors import CopierError

    check_template(template)
    check_destination(dest)
    answers = {"project_name": dest.resolve().name, **data}
    try:
        run_copy(str(template.resolve()), str(dest), data=answers, defaults=True, unsafe=True, vcs_ref="HEAD")
    except (ValueError, CopierError) as error:
        # Copier validates every answer before it writes, and removes a
        # destination it created when a later step fails.
        raise Refused(one_line(str(error)) or type(error).__name__) from error


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="generate", description=__doc__.split("\n\n")[0])
    main.add_argument("dest", type=Path, help="the new project's folder")
    main.add_argument("-d", "--data", action="append", default=[], metavar="NAME=VALUE",
                      help="an answer (repeatable), as for copier copy")
    main.add_argument("--data-file", type=Path, help="a YAML file of answers")
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        generate(TEMPLATE, args.dest, parse_data(args.data, args.data_file))
    except Refused as refused:
        print(f"generate: {refused}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
