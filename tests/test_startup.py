"""Start-up cost of the hooks Copier runs as processes.

Every `copier update` starts hooks/migrations.py once per `_migrations`
entry (copier.yml), also when the update changes nothing: an import that a
no-op migration does not need is paid that many times (Jinja alone about
60 ms a process, Copier about a second).
"""

from __future__ import annotations

import json
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
