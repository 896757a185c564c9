"""The shape of hooks/: imports go one way, modules stay small, no module aliases another.

Read off the source with ast (nothing is imported): every import statement of
every .py under hooks/, function-level ones too, resolved to the hooks
modules and packages it names (relative imports as well).
"""

from __future__ import annotations

import ast
from pathlib import Path

from support import TEMPLATE

HOOKS = TEMPLATE / "hooks"
MAX_LINES = 500


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path) -> dict[str, Path]:
    """{dotted name: file} of every module and package below root."""
    return {module_name(p, root): p for p in sorted(root.rglob("*.py")) if "__pycache__" not in p.parts}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of `known` that the file imports, wherever the import statement is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                parts = parts[:len(parts) - (node.level - 1)] if node.level > 1 else parts
                base = ".".join([*parts, *([base] if base else [])])
            # `from package import module` names the module; `from module import name` the module.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import a.b.c` of a module a.b
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    found = modules(root)
    return {name: imports_of(name, path, set(found)) for name, path in found.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as [a, b, ..., a], or [] when there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return []


def test_the_graph_reads_every_kind_of_import(tmp_path: Path) -> None:
    (tmp_path / "pkg/sub").mkdir(parents=True)
    for rel, text in {
        "top.py": "import pkg.sub.leaf\n",
        "pkg/__init__.py": '"""docstring only"""\n',
        "pkg/a.py": "from . import b\n",
        "pkg/b.py": "def later():\n    from pkg.sub import leaf\n",
        "pkg/sub/__init__.py": "from ..a import x\n",
        "pkg/sub/leaf.py": "from .. import a\nimport json\n",
    }.items():
        (tmp_path / rel).write_text(text)
    assert import_graph(tmp_path) == {
        "top": {"pkg.sub.leaf"}, "pkg": set(), "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.sub.leaf"},
        "pkg.sub": {"pkg.a"}, "pkg.sub.leaf": {"pkg.a"},
    }
    assert find_cycle(import_graph(tmp_path)) == ["pkg.a", "pkg.b", "pkg.sub.leaf", "pkg.a"]


def test_hooks_imports_have_no_cycle() -> None:
    graph = import_graph(HOOKS)
    assert "update.core" in graph["update.cli"], "the graph lost the update package's imports"
    cycle = find_cycle(graph)
    assert not cycle, "import cycle in hooks/: " + " -> ".join(cycle)


def test_model_level_modules_never_import_the_update_package() -> None:
    graph = import_graph(HOOKS)
    upward = sorted(f"{name} -> {target}" for name, targets in graph.items() if not name.startswith("update")
                    for target in targets if target.startswith("update"))
    assert not upward, "hooks/ modules importing the update package: " + ", ".join(upward)


def line_counts() -> dict[str, int]:
    return {path.relative_to(HOOKS).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
            for path in modules(HOOKS).values()}


def test_no_hooks_module_is_over_500_lines() -> None:
    long = {path: count for path, count in line_counts().items() if count > MAX_LINES}
    assert not long, f"hooks/ modules over {MAX_LINES} lines: " + ", ".join(
        f"{path} ({count})" for path, count in sorted(long.items()))


def is_sys_modules(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "modules"
            and isinstance(node.value, ast.Name) and node.value.id == "sys")


def from_spec(node: ast.AST | None) -> bool:
    """`importlib.util.module_from_spec(...)`: a new module object."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "module_from_spec")


def loaded_from_spec(tree: ast.AST) -> set[str]:
    """Names bound to `importlib.util.module_from_spec(...)`."""
    return {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign) and from_spec(node.value)
            for target in node.targets if isinstance(target, ast.Name)}


def sys_modules_writes(tree: ast.Module) -> list[int]:
    """Lines that put something into sys.modules, except importlib's loader recipe (a module
    object made by module_from_spec, registered before it runs): those alias a module."""
    lines, fresh = [], loaded_from_spec(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Subscript) and is_sys_modules(target.value) and not (
                        from_spec(node.value) or isinstance(node.value, ast.Name) and node.value.id in fresh):
                    lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and is_sys_modules(node.func.value) and node.func.attr in ("setdefault", "update", "__setitem__"):
            lines.append(node.lineno)
    return sorted(set(lines))


def test_the_sys_modules_check_finds_aliases() -> None:
    tree = ast.parse("import sys\nsys.modules.setdefault('a', sys.modules[__name__])\n"
                     "sys.modules['b'] = sys\n"
                     "def load(spec):\n    module = importlib.util.module_from_spec(spec)\n"
                     "    sys.modules['c'] = module\n    sys.modules['d'] = other\n"
                     "    sys.modules['e'] = importlib.util.module_from_spec(spec)\n")
    assert sys_modules_writes(tree) == [2, 3, 7]


def test_no_hooks_module_writes_sys_modules() -> None:
    found = {path.relative_to(HOOKS).as_posix(): lines for path in modules(HOOKS).values()
             if (lines := sys_modules_writes(ast.parse(path.read_text(encoding="utf-8"))))}
    assert not found, "sys.modules written (import the module instead): " + ", ".join(
        f"hooks/{path} line {', '.join(map(str, lines))}" for path, lines in sorted(found.items()))
