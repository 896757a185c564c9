"""wait_for/waitFor moved into the template-owned testkit/ (30cbdc2).

Every template version before rendered its own copy of the helper into the
user-owned conftest.py files and Node live tests. A copy the user never
changed imports testkit's instead (a no-op once it does); a changed copy is
left alone and reported.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Callable
from pathlib import Path

from gitutil import paths as git_paths

from update.core import Context, tell

# The change: 30cbdc2; this repair since 45a1376 (projects updated in between lack it).
COMMIT = "45a1376"
STAGE = "after"
# wait_for/waitFor as every template version before testkit/ rendered them into
# the user-owned conftest.py files and Node live tests.
LEGACY_WAIT_FOR = '''\
def wait_for(predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.2,
             what: str = "condition") -> T:
    """Poll predicate until it returns something truthy; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as error:  # noqa: BLE001 - keep polling, report the last one
            last_error = error
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}") from last_error
        time.sleep(interval)
'''
LEGACY_WAIT_FOR_JS = '''\
export async function waitFor(predicate, { timeout = 30_000, interval = 200, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let lastError;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
'''
TESTKIT_IMPORT = "from testkit import wait_for\n"


class ChangedHelper(Exception):
    """The file defines the helper, but not as the template rendered it."""


def _top_level_names(tree: ast.Module, skip: ast.stmt | None = None) -> set[str]:
    """Every name the module reads or binds, outside the statement skip."""
    return {node.id for stmt in tree.body if stmt is not skip
            for node in ast.walk(stmt) if isinstance(node, ast.Name)}


def _drop_statement(text: str, stmt: ast.stmt) -> str:
    lines = text.splitlines(keepends=True)
    del lines[stmt.lineno - 1:stmt.end_lineno]
    return "".join(lines)


def _drop_unused(text: str, binds: Callable[[ast.stmt], bool], name: str) -> str:
    """Remove the top-level statement that only binds name, when nothing else uses name."""
    tree = ast.parse(text)
    found = next((stmt for stmt in tree.body if binds(stmt)), None)
    if found is None or name in _top_level_names(tree, skip=found):
        return text
    return _drop_statement(text, found)


def adopt_testkit_python(text: str) -> str | None:
    """A conftest.py with the template's old inline wait_for, importing testkit's instead.

    None when the file defines no wait_for; ChangedHelper when it defines one
    the user changed. Imports and the TypeVar only wait_for used go with it.
    """
    tree = ast.parse(text)
    defined = [s for s in tree.body if isinstance(s, ast.FunctionDef) and s.name == "wait_for"]
    if not defined:
        return None
    lines = text.splitlines(keepends=True)
    found = defined[0]
    if len(defined) > 1 or found.decorator_list or \
            "".join(lines[found.lineno - 1:found.end_lineno]) != LEGACY_WAIT_FOR:
        raise ChangedHelper("wait_for")
    text = _drop_statement(text, found)
    text = _drop_unused(text, lambda s: isinstance(s, ast.Assign) and len(s.targets) == 1
                        and isinstance(s.targets[0], ast.Name) and s.targets[0].id == "T", "T")
    text = _drop_unused(text, lambda s: isinstance(s, ast.ImportFrom) and s.module == "typing"
                        and [a.name for a in s.names] == ["TypeVar"] and not s.names[0].asname, "TypeVar")
    text = _drop_unused(text, lambda s: isinstance(s, ast.Import)
                        and [(a.name, a.asname) for a in s.names] == [("time", None)], "time")
    text = re.sub(r"\n{4,}", "\n\n\n", text)
    tree = ast.parse(text)
    imports = [s for s in tree.body if isinstance(s, ast.Import | ast.ImportFrom)
               and getattr(s, "module", "") != "__future__"]
    lines = text.splitlines(keepends=True)
    # After the last import (testkit is first-party: a section of its own).
    at = imports[-1].end_lineno if imports else (tree.body[0].end_lineno if tree.body else 0)
    lines[at:at] = ["\n", TESTKIT_IMPORT]
    return "".join(lines)


def adopt_testkit_node(text: str, module: str) -> str | None:
    """A Node test with the template's old inline waitFor, importing testkit's where it uses it."""
    if not re.search(r"^export async function waitFor\b", text, re.M):
        return None
    if LEGACY_WAIT_FOR_JS not in text:
        raise ChangedHelper("waitFor")
    text = text.replace("\n" + LEGACY_WAIT_FOR_JS, "", 1)
    if re.search(r"\bwaitFor\(", text):
        lines = text.splitlines(keepends=True)
        last = max((i for i, line in enumerate(lines) if re.match(r"import\b.*;\s*$", line)), default=-1)
        lines[last + 1:last + 1] = ["\n", f"import {{ waitFor }} from '{module}';\n"]
        text = "".join(lines)
    return text


def _project_of(root: Path, path: Path, manifest: str) -> Path | None:
    """The folder of the nearest manifest (pyproject.toml, package.json) above path, in root."""
    for folder in path.parents:
        if (folder / manifest).is_file():
            return folder
        if folder == root:
            return None
    return None


def adopt_testkit(root: Path) -> list[str]:
    """Replace the old inline wait_for/waitFor of user-owned tests by testkit's. The report."""
    report = []
    for rel in git_paths(root, "ls-files", "--", "*conftest.py", "*.test.js"):
        path = root / rel
        python = rel.endswith(".py")
        project = _project_of(root, path, "pyproject.toml" if python else "package.json")
        helper = Path("testkit/__init__.py" if python else "testkit/wait-for.js")
        try:
            text = path.read_text()
            if python:
                new = adopt_testkit_python(text)
            else:
                module = Path(os.path.relpath((project or root) / helper, path.parent)).as_posix()
                new = adopt_testkit_node(text, module if module.startswith(".") else f"./{module}")
        except (OSError, UnicodeDecodeError, SyntaxError):
            continue
        except ChangedHelper as changed:
            report.append(f"{rel}: defines its own {changed}, changed since the template made it: left "
                          f"alone; the template's, kept up to date by updates, is in {helper}")
            continue
        if new is None:
            continue
        if project is None or not (project / helper).is_file():
            report.append(f"{rel}: keeps its own copy of the template's old helper: no {helper} beside it")
            continue
        path.write_text(new)
        report.append(f"{rel}: imports the template's helper from {helper} instead of its own copy")
    return report


def apply(ctx: Context) -> list[str]:
    return tell(adopt_testkit(ctx.root), lambda line: "imports the template's helper" in line)
