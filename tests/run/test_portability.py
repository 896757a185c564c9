"""Generated scripts and Makefile recipes run on bash 3.2 (macOS) and BSD userlands, from any folder.

There is no bash 3.2 on the test machines (Debian packages bash 5 only, and
no registry the tests may use ships its source), so the check is static:
tests/portability.py looks for what bash 4+ and GNU tools added. The tests
below prove it passes on every named combination and fails on each planted
construct. Paths: a project in a folder with spaces and parentheses works.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import support
from portability import check_makefile, check_project, check_script, recipe_lines, shell_files
from support import COMBOS, git_init, project_env, run, run_copy


@pytest.mark.parametrize("name", COMBOS)
def test_generated_shell_is_portable(render, name: str) -> None:
    project = render(name)
    scripts, makefiles = shell_files(project)
    assert len(scripts) >= 5 and makefiles, (scripts, makefiles)
    found = check_project(project)
    assert not found, "not portable to bash 3.2 / BSD tools:\n" + "\n".join(map(str, found))


# Each snippet is planted into a real generated script; the check must name it.
PLANTED = {
    "upper-case": ('v=${name^^}', "case modification"),
    "lower-case": ('v=${name,,}', "case modification"),
    "first-upper": ('v=${name^}', "case modification"),
    "first-lower": ('v=${name,}', "case modification"),
    "declare-A": ("declare -A seen=()", "associative array"),
    "local-A": ("f() { local -A seen=(); }", "associative array"),
    "mapfile": ("mapfile -t lines <file", "mapfile/readarray"),
    "readarray": ("readarray lines <file", "mapfile/readarray"),
    "append-both": ("echo x &>>log", "&>>"),
    "pipe-both": ("echo x |& cat", "|&"),
    "quote-op": ('printf "%s" "${name@Q}"', "transformation"),
    "nameref": ("f() { local -n ref=$1; }", "nameref"),
    "negative-index": ('last=${list[-1]}', "negative array subscript"),
    "coproc": ("coproc cat", "coproc"),
    "test-v": ("[[ -v name ]] && echo set", "[[ -v ]]"),
    "sed-i": ("sed -i 's/a/b/' file", "sed -i"),
    "sed-i-bsd": ("sed -i '' 's/a/b/' file", "sed -i"),
    "sed-r": ("sed -r 's/a+/b/' file", "sed -i/-r"),
    "readlink-f": ('here=$(readlink -f "$0")', "readlink -f"),
    "date-d": ("date -d yesterday", "date -d"),
    "grep-P": (r"grep -P '\d+' file", "grep -P"),
    "stat-c": ("stat -c %s file", "stat -c"),
    "find-printf": ("find . -printf '%p\\n'", "find -printf"),
    "xargs-r": ("find . -name x | xargs -r rm", "xargs -r"),
    "sort-V": ("sort -V file", "sort -V"),
    "timeout": ("timeout 5 true", "timeout (not on macOS)"),
}


@pytest.fixture
def script(render) -> str:  # noqa: ANN001
    """A real generated script with `set -euo pipefail`, to plant constructs in."""
    text = (render("multi-github-pg-redis-mixed") / "scripts/stack/launch.sh").read_text()
    assert "set -euo pipefail" in text and '\nmain "$@"\n' in text
    assert not check_script("launch.sh", text)
    return text


def plant(text: str, snippet: str) -> str:
    return text.replace('\nmain "$@"\n', f'\n{snippet}\nmain "$@"\n')


@pytest.mark.parametrize(("snippet", "rule"), PLANTED.values(), ids=PLANTED.keys())
def test_check_fails_on_a_planted_construct(script: str, snippet: str, rule: str) -> None:
    planted = plant(script, snippet)
    line = planted.splitlines().index(snippet) + 1
    found = check_script("s.sh", planted)
    assert [(f.line, rule in f.rule) for f in found] == [(line, True)], "\n".join(map(str, found)) or "no finding"


def test_check_ignores_comments_and_the_portable_forms(script: str) -> None:
    portable = "\n".join([
        "# ${name^^} in a comment, and sed -i: prose",
        "upper=$(printf '%s' \"$name\" | tr 'abcdefghijklmnopqrstuvwxyz' 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')",
        "sed -n -E 's/a+/b/p' file >file.new && mv file.new file",
        "grep -rnI -E x --exclude='*.rej' --exclude-dir=.git .",
        "echo \"${#list[@]}\" \"${name:-default}\" \"${name:0:3}\" >/dev/null 2>&1",
    ])
    found = check_script("s.sh", plant(script, portable))
    assert not found, "\n".join(map(str, found))


EMPTY_ARRAY = "\n".join([
    "f() {",
    "  local -a extra=()",
    '  read -r -a extra <<<"${TEST_ARGS:-}"',
    '  printf "%s\\n" "${extra[@]}"',
    "}",
])


def test_check_fails_on_an_empty_array_expansion_under_set_u(script: str) -> None:
    planted = plant(script, EMPTY_ARRAY)
    line = planted.splitlines().index('  printf "%s\\n" "${extra[@]}"') + 1
    found = check_script("s.sh", planted)
    assert [(f.line, f.rule.split(" of ")[0]) for f in found] == [(line, "${extra[@]}")], found
    assert '${extra[@]+"${extra[@]}"}' in found[0].rule


@pytest.mark.parametrize(
    "expansion",
    ['${extra[@]+"${extra[@]}"}', '"${extra[*]-}"', '"${#extra[@]}"'],
    ids=["plus-form", "default", "length"],
)
def test_check_accepts_the_safe_forms_of_an_empty_array(script: str, expansion: str) -> None:
    safe = EMPTY_ARRAY.replace('"${extra[@]}"', expansion)
    found = check_script("s.sh", plant(script, safe))
    assert not found, "\n".join(map(str, found))


def test_check_accepts_arrays_that_are_never_empty(script: str) -> None:
    never_empty = 'f() {\n  local -a args=(--reporter=junit "$1")\n  args+=("$@")\n  run "${args[@]}"\n}'
    assert not check_script("s.sh", plant(script, never_empty))


def test_empty_array_rule_needs_set_u_or_a_sourcing_caller(script: str) -> None:
    without_u = plant(script.replace("set -euo pipefail", "set -eo pipefail"), EMPTY_ARRAY)
    assert not check_script("s.sh", without_u), "bash 3.2 expands an empty array fine without set -u"
    library = "# shellcheck shell=bash\n" + EMPTY_ARRAY + "\n"
    assert check_script("lib.sh", library), "a sourced file runs under its callers' set -u"


def test_check_reads_makefile_recipes(render) -> None:  # noqa: ANN001
    text = (render("multi-github-pg-redis-mixed") / "Makefile").read_text()
    assert not check_makefile("Makefile", text)
    planted = text + "\n.PHONY: shout\nshout:\n\t@name=x; \\\n\techo $${name^^} $(SERVICES)\n"
    line = planted.splitlines().index("shout:") + 2
    found = check_makefile("Makefile", planted)
    assert [(f.line, "case modification" in f.rule) for f in found] == [(line, True)], found
    # $(make references) are not shell syntax, $$ is the shell's $.
    assert recipe_lines("x:\n\t@echo $(call f,$(A)) $$B\n") == [(2, "echo MAKEVAR $B")]


# ------------------------------------------------------------------ paths
PATH_REFERENCE = re.compile(r"\$\((ROOT|CURDIR|abspath [^)]*|realpath [^)]*|dir [^)]*|BIN|VENV)\)")


def unquoted_paths(text: str) -> list[str]:
    """Recipe lines where a make path reference sits outside double quotes."""
    bad = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("\t"):
            continue
        for match in PATH_REFERENCE.finditer(line):
            if line[: match.start()].count('"') % 2 == 0:
                bad.append(f"{number}: {line.strip()}")
    return bad


@pytest.mark.parametrize("name", COMBOS)
def test_makefile_paths_are_quoted(render, name: str) -> None:
    project = render(name)
    for makefile in shell_files(project)[1]:
        bad = unquoted_paths(makefile.read_text())
        assert not bad, f"{makefile.relative_to(project)}: unquoted paths:\n" + "\n".join(bad)


def test_template_makefile_paths_are_quoted() -> None:
    bad = unquoted_paths((support.TEMPLATE / "Makefile").read_text())
    assert not bad, "Makefile: unquoted paths:\n" + "\n".join(bad)
    assert unquoted_paths("x:\n\t$(ROOT)/scripts/a.sh\n") == ["2: $(ROOT)/scripts/a.sh"]


@pytest.fixture(scope="module")
def spaced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A multi-layout project in a folder whose path has a space and parentheses, committed."""
    project = run_copy(COMBOS["multi-github-pg-redis-mixed"],
                       tmp_path_factory.mktemp("paths") / "my (new) project" / "shop")
    git_init(project)
    return project


def test_project_in_a_folder_with_spaces_and_parentheses(spaced: Path) -> None:
    service = spaced / "services/api"
    # What make would run: the script path must stay one word.
    # --no-print-directory: under `make test` (MAKELEVEL=1) make would add "Entering directory" lines.
    dry = subprocess.run(["make", "--no-print-directory", "-n", "test-unit"], cwd=service,
                         capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    words = shlex.split(dry.stdout.strip())
    assert words == [str(spaced / "scripts/unit-tests.sh"), "."], dry.stdout
    # The scripts find the project root from their own location.
    instance = subprocess.run(["make", "--no-print-directory", "test-instance"], cwd=spaced,
                              capture_output=True, text=True)
    assert instance.returncode == 0 and re.fullmatch(r"main-\d{6}\n", instance.stdout), instance
    usage = subprocess.run([str(spaced / "scripts/unit-tests.sh"), "no-such-dir"], cwd=spaced,
                           capture_output=True, text=True)
    assert usage.returncode == 2 and "usage: scripts/unit-tests.sh DIR" in usage.stderr, usage.stderr
    run(["scripts/check-conflicts.sh"], cwd=spaced)


@pytest.mark.slow
def test_service_unit_tests_run_from_a_folder_with_spaces_and_parentheses(spaced: Path) -> None:
    run(["make", "test-unit"], cwd=spaced / "services/api", env=project_env(), timeout=900)
    assert (spaced / ".artifacts").is_dir()
