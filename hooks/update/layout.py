"""The single -> multi layout switch of `copier update` (the after stage runs it
every update, before the repairs that find the service in services/<name>/;
check_layouts refuses the other direction in both stages).

The files a service folder owns are read off the template's two service
folders (hooks/files.py says what each holds), so a file the template adds
there moves with the service without a list to keep in step:

- `template/{% yield svc from service_list %}{{ svc.path }}...`: in every
  layout; in single its files sit at the root.
- `template/services/{% yield svc from service_list %}{{ svc.name }}...`: the
  multi layout only. In single the root file of the same path is the
  service's where it renders the same body (both use the same partial:
  pyproject.toml, the test stack, testkit/); the project's own Makefile
  shares none, and stays the project's.

Which of them a service of each kind has is hooks/files.py's excluded_paths,
as Copier applies it. tests/update/test_layout_switch.py ties them to renders
of both layouts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import model
from gitutil import git
from gitutil import paths as git_paths
from gitutil import show as head_file

from update.core import (
    Context,
    MigrationError,
    merge,
    remove_empty_dirs,
    say,
    service_names,
    settle,
    tracked,
    user_owned,
    write_keeping_mode,
)
from update.ownership import new_user_files

STAGE = "after"
COMMIT = None  # not a repair: part of every update

SUFFIX = ".jinja"
# The components a project may have (hooks/model.py, copier.yml's choices): files that
# only some projects get count (alembic.ini with postgres, the llm sample's runs.py).
COMPONENTS = model.COMPONENTS
# Files the service's tools write beside its manifests: never rendered by the
# template, so they cannot be read off it. They move with the service.
SERVICE_OWN_FILES = ("uv.lock", "package-lock.json", ".python-version", ".nvmrc")
# The service variables a path of the service folder may use, one per kind of service.
SAMPLE_SERVICES = tuple(
    {"name": "svc", "package": "svc", "path": ".", "language": language, "kind": kind}
    for language in ("python", "node", "ts") for kind in ("api", "worker", "scheduler")
)


@dataclass(frozen=True)
class ServiceFiles:
    """What the template's service folder renders at the root of a single-layout project."""

    build: tuple[str, ...]  # template-owned files of the service's root: merged into services/<name>/
    dirs: tuple[str, ...]  # user-owned folders ("src/"): moved with git mv
    # Template-owned files in its subfolders (the test stack, testkit/): where the multi
    # layout has the same file at the root, that one gets the user's edits.
    nested: tuple[str, ...]
    # User-owned files of the service's root (its dependency manifests): moved with git mv.
    owned: tuple[str, ...] = ()


def _yield_folder(parent: Path, where: str) -> Path:
    found = [p for p in parent.iterdir() if p.is_dir() and p.name.startswith("{% yield svc ")] \
        if parent.is_dir() else []
    if len(found) != 1:
        raise MigrationError(f"{where}: expected one service folder, found {len(found)}")
    return found[0]


def service_folder(template: Path) -> Path:
    """The template's `{% yield svc ... %}{{ svc.path }}` folder: every layout
    (copier.yml _subdirectory: template)."""
    return _yield_folder(template / "template", f"{template}/template")


def multi_service_folder(template: Path) -> Path | None:
    """The template's `services/{% yield svc ... %}{{ svc.name }}` folder (multi
    layout only), or None where the template has none."""
    services = template / "template" / "services"
    if not services.is_dir():
        return None
    return _yield_folder(services, f"{template}/template/services")


def _excluded(path: str, patterns: list[str]) -> bool:
    """Whether an anchored `_exclude` pattern of hooks/files.py covers path."""
    return any(path == p.lstrip("/") or path.startswith(p.lstrip("/") + "/") for p in patterns)


def _names(template_path: str, layout: str) -> set[str]:
    """The single-layout root paths a service-folder path renders to for some
    kind of service that has it (hooks/files.py's tables)."""
    # Only where a switch happens: every update starts this package, and hooks/files.py
    # imports Copier's extensions (Jinja).
    import jinja2
    from files import excluded_paths

    env = jinja2.Environment(keep_trailing_newline=True)
    names = set()
    for svc in SAMPLE_SERVICES:
        parts = [env.from_string(part).render(layout=layout, svc=svc) for part in template_path.split("/")]
        parts[-1] = parts[-1].removesuffix(SUFFIX) if template_path.endswith(SUFFIX) else parts[-1]
        path = "/".join(parts)
        # Every component: a file that exists for some project counts (alembic.ini).
        if all(parts) and not _excluded(path, excluded_paths([svc], "single", "none", COMPONENTS)):
            names.add(path)
    return names


_PARTIAL = re.compile(r"""\{%-?\s*(?:include|import|from)\s+['"](partials/[^'"]+)['"]""")


def _partials(file: Path) -> set[str]:
    return set(_PARTIAL.findall(file.read_text())) if file.is_file() else set()


def _root_renders_service(multi_file: Path, root_file: Path) -> bool:
    """Whether the root file at a multi-only service file's path renders the
    service's version in the single layout: both use the same partial."""
    return bool(_partials(multi_file) & _partials(root_file))


@cache
def moves(path: str, files: ServiceFiles) -> bool:
    """A single project's root path that single -> multi moves to services/<name>/<path>."""
    return path.startswith(files.dirs) or path in SERVICE_OWN_FILES or path in files.owned


def service_files(template: Path) -> ServiceFiles:
    """The single layout's service files, read off the template's service folders."""
    owned = user_owned(template)
    found: set[str] = set()
    folder = service_folder(template)
    for file in folder.rglob("*"):
        if file.is_file():
            found |= _names(file.relative_to(folder).as_posix(), "single")
    multi = multi_service_folder(template)
    for file in multi.rglob("*") if multi else ():
        if not file.is_file():
            continue
        relative = file.relative_to(multi).as_posix()
        if _root_renders_service(file, template / "template" / relative):
            found |= _names(relative, "single")
    build, dirs, stacks, mine = set(), set(), set(), set()
    for path in found:
        top = path.split("/")[0]
        if "/" in path and owned(f"{top}/any-file"):  # the whole folder is the user's
            dirs.add(f"{top}/")
        elif owned(path):
            if "/" not in path:
                mine.add(path)
            # A user-owned folder inside a template-owned one (migrations/versions/).
            parts = path.split("/")
            dirs.update(f"{folder}/" for folder in ("/".join(parts[:i]) for i in range(2, len(parts)))
                        if owned(f"{folder}/any-file"))
            continue
        elif "/" not in path:
            build.add(path)
        else:
            stacks.add(path)
    return ServiceFiles(tuple(sorted(build)), tuple(sorted(dirs)), tuple(sorted(stacks)),
                        tuple(sorted(mine)))


@dataclass
class Switch:
    name: str
    moved: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    fresh: set[str] = field(default_factory=set)


def check_layouts(old: dict, new: dict) -> None:
    """Raise when the answers ask for a layout change the template cannot do."""
    before, after = old.get("layout", "multi"), new.get("layout") or old.get("layout", "multi")
    if before == "multi" and after == "single":
        raise MigrationError(
            "switching a project from the multi to the single layout is not supported; "
            "keep layout=multi (a multi project may have a single service)"
        )
    if before == "single" and after == "multi" and new.get("services"):
        name = service_names(old)[:1]
        names = service_names({"services": new["services"], "layout": "multi"})
        if name and names and name[0] not in names:
            raise MigrationError(
                f"switching to the multi layout moves your service into services/{name[0]}/: "
                f"keep '{name[0]}' in services (got '{new['services']}')"
            )


def switch_layout(ctx: Context) -> Switch:
    """single -> multi: move the one service's files into services/<name>/.

    User-owned files (src/, tests/, the manifests) and the service's own
    files (lock files) move with git mv, so git shows them as renames; the service's
    template-owned build files get the user's edits merged into the new
    services/<name>/ copies; root files whose meaning changes (the test
    stack) get the user's edits merged into the multi version.
    """
    root, template, old, new = ctx.root, ctx.template, ctx.old, ctx.new
    check_layouts(old, new)
    files = service_files(template)
    name = service_names(old)[0]
    dest = f"services/{name}"
    switch = Switch(name)
    head = git_paths(root, "ls-tree", "-r", "--name-only", "HEAD")
    p0 = ctx.old_render()
    # Copier's checkout of the template is at the new version: its HEAD.
    p1 = ctx.new_render()
    for path in head:
        if moves(path, files):
            # The manifests keep what sync-dependencies (hooks/dependencies.py) just applied.
            _git_move(root, path, f"{dest}/{path}", keep=path in files.owned)
            switch.moved.append(path)
    for path in files.build:
        user = head_file(root, path)
        target = f"{dest}/{path}"
        if user is None or not (p1 / target).is_file():
            continue
        base = (p0 / path).read_bytes() if (p0 / path).is_file() else b""
        new_content = (p1 / target).read_bytes()
        content, conflicted = merge(user, base, new_content) if user != base else (new_content, False)
        write_keeping_mode(root / target, content)
        switch.merged += [f"{path} -> {target}"] if user != base else []
        switch.conflicts += [target] if conflicted else []
        root_version = p1 / path
        if root_version.is_file():  # pyproject.toml: the root project of the multi layout
            write_keeping_mode(root / path, root_version.read_bytes())
        else:
            (root / path).unlink(missing_ok=True)
        settle(root, path)
    for path in files.nested:
        user, base_path, new_path = head_file(root, path), p0 / path, p1 / path
        if user is None or not new_path.is_file():
            continue
        base = base_path.read_bytes() if base_path.is_file() else b""
        new_content = new_path.read_bytes()
        content, conflicted = merge(user, base, new_content) if user != base else (new_content, False)
        write_keeping_mode(root / path, content)
        switch.merged += [path] if user != base else []
        switch.conflicts += [path] if conflicted else []
        settle(root, path)
    # The multi layout's own user-owned root files (cross-service tests):
    # the user's single-layout files just left these paths.
    for file in sorted(p for p in p1.rglob("*") if p.is_file()):
        path = file.relative_to(p1).as_posix()
        if not path.startswith("services/") and ctx.owned(path) and not (root / path).exists():
            write_keeping_mode(root / path, file.read_bytes())
            switch.fresh.add(path)
    return switch


def _git_move(root: Path, src: str, dst: str, keep: bool = False) -> None:
    """git mv src dst, with src as committed (keep: as it is now) and over whatever the update put at dst."""
    if not (root / src).is_file() or (not keep and (root / src).read_bytes() != head_file(root, src)):
        git(root, "checkout", "HEAD", "--", src)
    target = root / dst
    if target.exists() or target.is_symlink():
        if dst in tracked(root):
            git(root, "rm", "--quiet", "--force", "--", dst)
        else:
            target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    git(root, "mv", "--", src, dst)
    remove_empty_dirs(root, root / src)


def apply(ctx: Context) -> list[str]:
    """single -> multi when the answers ask for it; then which user-owned files are new.

    Runs after the repairs of the files where they were (sync-dependencies edits
    the manifests at their old paths) and before those that read the service
    where it is now. Records in ctx.fresh the user-owned files this update
    creates on purpose (ownership.new_user_files): the end of the stage keeps them.
    """
    root, changed, moved = ctx.root, [], None
    layout = ctx.new.get("layout", "multi")
    if ctx.old.get("layout") == "single" and layout == "multi":
        files = service_files(ctx.template)
        moved = lambda path: moves(path, files)  # noqa: E731
        switch = switch_layout(ctx)
        ctx.fresh |= switch.fresh
        changed = [f"services/{switch.name}/{path}" for path in switch.moved]
        say(f"single -> multi: moved {len(switch.moved)} files of '{switch.name}' into "
            f"services/{switch.name}/ with git mv (staged, so git shows the renames)")
        for line in switch.merged:
            say(f"  your edits merged: {line}")
        for path in switch.conflicts:
            say(f"  CONFLICT in {path}: resolve the markers")
        leftovers = [p for p in ("src", "tests", ".venv", "node_modules") if (root / p).exists()
                     and not git_paths(root, "ls-files", "--cached", "--others", "--exclude-standard", "--", p)]
        if leftovers:
            say(f"  left at the root, ignored by git (delete them): {', '.join(leftovers)}")
    ctx.fresh |= new_user_files(root, ctx.owned, layout, ctx.old, ctx.old_files,
                                moved=moved)
    return changed
