"""Start-up cost of the hooks Copier runs as processes.

Every `copier update` starts hooks/migrations.py once per `_migrations`
entry (copier.yml), also when the update changes nothing: an import that a
no-op migration does not need is paid that many times (Jinja alone about
60 ms a process, Copier about a second).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

HOOKS = Path(__file__).resolve().parent.parent / "hooks"
HEAVY = ("jinja2", "copier", "copier_template_extensions", "pathspec")

PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import migrations
print(json.dumps({
    "heavy": sorted(m for m in sys.argv[2:] if m in sys.modules),
    "loader": migrations.SAFE_LOADER.__name__,
}))
"""


def probe() -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE, str(HOOKS), *HEAVY],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_migrations_start_without_jinja_or_copier() -> None:
    assert probe()["heavy"] == [], "imported at start-up by hooks/migrations.py (import it where it is used)"


def test_migrations_parse_yaml_with_libyaml_where_pyyaml_has_it() -> None:
    import yaml

    expected = "CSafeLoader" if getattr(yaml, "__with_libyaml__", False) else "SafeLoader"
    assert probe()["loader"] == expected


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
