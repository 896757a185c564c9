"""Start-up cost of the hooks Copier runs as processes.

Every `copier update` starts hooks/update twice (copier.yml `_migrations`:
before and after), also when the update changes nothing: an import that a
stage with nothing to do does not need is paid every time (Jinja alone
about 60 ms a process, Copier about a second).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TEMPLATE = Path(__file__).resolve().parents[2]
HOOKS = TEMPLATE / "hooks"
HEAVY = ("jinja2", "copier", "copier_template_extensions", "pathspec")

# `python hooks/update before` as Copier runs it, reporting the modules loaded when it exits.
PROBE = """
import atexit, json, runpy, sys
heavy = sys.argv[2:]
atexit.register(lambda: print(json.dumps({
    "heavy": sorted(m for m in heavy if m in sys.modules),
    "loader": sys.modules["update.core"].SAFE_LOADER.__name__,
})))
sys.argv = [sys.argv[1], "before", "--layout=multi", "--services=api"]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def probe(project: Path) -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE, str(HOOKS / "update"), *HEAVY],
                            cwd=project, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project made at the template's own commit: no repair is due, the stage does nothing."""
    root = tmp_path_factory.mktemp("current")
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=TEMPLATE, capture_output=True,
                          text=True, check=False).stdout.strip()
    (root / ".copier-answers.yml").write_text(f"_commit: {head or 'unknown'}\nlayout: multi\nservices: api\n")
    (root / "Makefile").write_text("all:\n\t@true\n\n-include local.mk\n")
    for args in (["init", "--quiet"], ["add", "--all"], ["-c", "user.name=Test", "-c", "user.email=test@example.com",
                                                            "commit", "--quiet", "-m", "a current project"]):
        subprocess.run(["git", *args], cwd=root, capture_output=True, check=True)
    return root


def test_the_update_starts_without_jinja_or_copier(project: Path) -> None:
    assert probe(project)["heavy"] == [], "imported at start-up by hooks/update (import it where it is used)"


def test_the_update_parses_yaml_with_libyaml_where_pyyaml_has_it(project: Path) -> None:
    import yaml

    expected = "CSafeLoader" if getattr(yaml, "__with_libyaml__", False) else "SafeLoader"
    assert probe(project)["loader"] == expected


def test_the_rules_import_without_jinja_or_copier() -> None:
    """The parser, the answers' checks and the file tables are pure: only hooks/jinja.py
    (the extensions Copier loads) imports Jinja and Copier."""
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import answers, files, model, services;"
            "print(json.dumps(sorted(m for m in sys.argv[2:] if m in sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code, str(HOOKS), *HEAVY],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


# Two clones of the template in one process, as Copier's update renders them: the
# second's hooks/model.py reserves one more service name.
TWO_VERSIONS = """
import sys
from importlib.util import module_from_spec, spec_from_file_location
import jinja2

def extensions(folder):
    # As copier-template-extensions loads hooks/jinja.py: by path, under one shared name.
    spec = spec_from_file_location("copier_template_extensions.jinja", f"{folder}/hooks/jinja.py")
    module = module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module

old, new = extensions(sys.argv[1]), extensions(sys.argv[2])
for module in (old, new):
    env = jinja2.Environment(extensions=[module.ServicesExtension])
    print(env.from_string("{{ 'extra' | services_error }}|{{ 'extra' in reserved_service_names }}").render())
"""


def test_two_template_versions_in_one_process_keep_their_own_rules(tmp_path: Path) -> None:
    """Copier renders the project's old version and the new one in one process: each
    version's extensions use that version's hooks/ modules, whichever was imported first."""
    for version in ("old", "new"):
        shutil.copytree(HOOKS, tmp_path / version / "hooks", ignore=shutil.ignore_patterns("__pycache__"))
    model = tmp_path / "new" / "hooks" / "model.py"
    text = model.read_text()
    assert "RESERVED = frozenset(" in text, "the test adds a name to model.RESERVED"
    model.write_text(text.replace("RESERVED = frozenset(", "RESERVED = {'extra'} | frozenset(", 1))
    result = subprocess.run([sys.executable, "-c", TWO_VERSIONS, str(tmp_path / "old"), str(tmp_path / "new")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    old, new = result.stdout.splitlines()
    assert old == "|False", f"the old version refused or reserved 'extra': {old}"
    assert new.startswith("'extra' is a reserved name|True"), f"the new version did not: {new}"
