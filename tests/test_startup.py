"""Start-up cost of the hooks Copier runs as processes.

Every `copier update` starts hooks/update twice (copier.yml `_migrations`:
before and after), also when the update changes nothing: an import that a
stage with nothing to do does not need is paid every time (Jinja alone
about 60 ms a process, Copier about a second).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

TEMPLATE = Path(__file__).resolve().parent.parent
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


def test_services_extensions_are_built_on_first_use() -> None:
    """copier-template-extensions asks the module for the classes by name (getattr)."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import services, jinja2.ext;"
        "assert issubclass(services.ServicesExtension, jinja2.ext.Extension);"
        "assert services.ServicesExtension is services.ServicesExtension;"
        "env = jinja2.Environment(extensions=[services.ServicesExtension]);"
        "print(env.from_string('{{ \"api\" | services_error }}|{{ \"API\" | services_error }}').render())"
    )
    result = subprocess.run([sys.executable, "-c", code, str(HOOKS)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    ok, refused = result.stdout.strip().split("|", 1)
    assert ok == ""
    assert refused
