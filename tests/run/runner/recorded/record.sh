#!/usr/bin/env bash
# Re-record the real test-tool output the runner's parsers are tested against.
#
# Usage: tests/run/runner/recorded/record.sh [OUT_DIR]   (default: this folder)
#
# Writes small sample suites (passing, failing, erroring, skipped, xfail/xpass,
# a slow test, a collection error) to a temp dir and runs them with pytest 8,
# pytest 9 (throwaway `uv venv`s) and vitest 3 (`npm install vitest@3`),
# with exactly the TEST_ARGS and colour environment scripts/test-runner.py
# sets, saving stdout+stderr merged to <tool>-<suite>.txt and the junit
# report the project's stage scripts also ask for to <tool>-<suite>.junit.xml.
# Needs uv, node and npm, and network access to PyPI and npm.
set -euo pipefail

# Keep in sync with PYTEST_ARGS / VITEST_ARGS in template/scripts/test_runner/parsing.py.
readonly PYTEST_TEST_ARGS="-v --durations=0 --color=no -p no:cacheprovider"
readonly VITEST_TEST_ARGS="--reporter=verbose --no-color"

err() { echo "record.sh: $*" >&2; }

write_pytest_suites() {
  local root="$1"
  mkdir -p "${root}"/{mixed,passing,collect_error}/tests
  local d
  for d in mixed passing collect_error; do
    printf '[project]\nname = "sample-%s"\nversion = "0"\n' "${d}" >"${root}/${d}/pyproject.toml"
  done
  cat >"${root}/mixed/tests/test_outcomes.py" <<'EOF'
import time

import pytest


def test_passes():
    assert 1 + 1 == 2


def test_fails():
    assert [1, 2, 3] == [1, 2, 4]


@pytest.fixture
def broken_fixture():
    raise RuntimeError("database unreachable")


def test_errors_in_setup(broken_fixture):
    pass


@pytest.mark.skip(reason="not on this platform")
def test_skipped():
    pass


@pytest.mark.xfail(reason="known bug #12")
def test_xfail():
    assert False


@pytest.mark.xfail(reason="fixed upstream?")
def test_xpass():
    assert True


def test_slow():
    time.sleep(1.3)


@pytest.mark.parametrize("n", range(12))
def test_many(n):
    assert n >= 0


class TestGroup:
    def test_in_class(self):
        assert "a" in "abc"

    def test_fails_in_class(self):
        raise ValueError("bad value in class test")
EOF
  cat >"${root}/passing/tests/test_ok.py" <<'EOF'
import time

import pytest


def test_one():
    assert True


def test_slow_enough():
    time.sleep(1.2)


@pytest.mark.parametrize("word", ["alpha", "beta", "gamma with space"])
def test_words(word):
    assert word


@pytest.mark.skip(reason="documented skip")
def test_skip():
    pass
EOF
  cat >"${root}/passing/tests/test_more.py" <<'EOF'
def test_a():
    assert True


def test_b():
    assert True
EOF
  cat >"${root}/collect_error/tests/test_good.py" <<'EOF'
def test_good():
    assert True
EOF
  cat >"${root}/collect_error/tests/test_broken.py" <<'EOF'
import does_not_exist  # noqa: F401


def test_never_runs():
    pass
EOF
}

write_vitest_suites() {
  local root="$1"
  mkdir -p "${root}"/{mixed,passing,collect_error}/src
  local d
  for d in mixed passing collect_error; do
    printf '{"name": "sample-%s", "version": "0.0.0", "private": true, "type": "module"}\n' \
      "${d}" >"${root}/${d}/package.json"
  done
  cat >"${root}/mixed/src/math.test.js" <<'EOF'
import { describe, it, expect } from "vitest";

describe("math", () => {
  it("adds", () => {
    expect(1 + 1).toBe(2);
  });
  it("fails on purpose", () => {
    expect([1, 2, 3]).toEqual([1, 2, 4]);
  });
  it.skip("is skipped", () => {});
  it.todo("is a todo");
  it.fails("is an expected failure", () => {
    expect(true).toBe(false);
  });
  it.each([1, 2, 3, 4, 5, 6])("handles case %i", (n) => {
    expect(n).toBeGreaterThan(0);
  });
});
EOF
  cat >"${root}/mixed/src/slow.test.js" <<'EOF'
import { describe, it, expect } from "vitest";

describe("slow things", () => {
  it("takes a while", async () => {
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(true).toBe(true);
  });
  it("throws", () => {
    throw new TypeError("bad value in slow suite");
  });
});

it("top level test", () => {
  expect("abc").toContain("a");
});
EOF
  cat >"${root}/passing/src/ok.test.js" <<'EOF'
import { describe, it, expect } from "vitest";

describe("ok", () => {
  it("works", () => {
    expect(2 * 2).toBe(4);
  });
  it("takes a while", async () => {
    await new Promise((resolve) => setTimeout(resolve, 1200));
  });
  it.skip("is skipped", () => {});
});
EOF
  cat >"${root}/passing/src/more.test.js" <<'EOF'
import { it, expect } from "vitest";

it("a", () => expect(true).toBe(true));
it("b", () => expect("x").toHaveLength(1));
EOF
  cat >"${root}/collect_error/src/good.test.js" <<'EOF'
import { it, expect } from "vitest";

it("good", () => expect(1).toBe(1));
EOF
  cat >"${root}/collect_error/src/broken.test.js" <<'EOF'
import { missing } from "./does-not-exist.js";
import { it } from "vitest";

it("never runs", () => missing());
EOF
}

# The runner's child environment: no colours, unbuffered Python output.
run_tool() {
  local out="$1"
  shift
  env -u FORCE_COLOR -u PY_COLORS -u CLICOLOR_FORCE NO_COLOR=1 PYTHONUNBUFFERED=1 "$@" >"${out}" 2>&1 || true
  # Keep the recording machine's paths out of the repository.
  local prefix
  prefix="$(python3 -c 'import sys; print(sys.base_prefix)')"
  sed -i -e "s|${work}|<tmp>|g" -e "s|${prefix}|<python>|g" -e "s|${out_dir}|<out>|g" "${out}"
}

work=""

main() {
  local out_dir
  out_dir="$(cd "${1:-$(dirname "$0")}" && pwd)"
  work="$(mktemp -d)"
  trap 'rm -rf "${work}"' EXIT

  write_pytest_suites "${work}/py"
  local major spec suite
  for major in 8 9; do
    if [[ "${major}" == 8 ]]; then spec='pytest>=8,<9'; else spec='pytest>=9,<10'; fi
    uv venv --quiet --python 3.11 "${work}/venv${major}"
    VIRTUAL_ENV="${work}/venv${major}" uv pip install --quiet "${spec}"
    for suite in mixed passing collect_error; do
      # TEST_ARGS is word-split on purpose, as the project's scripts do.
      # shellcheck disable=SC2086
      (cd "${work}/py/${suite}" &&
        run_tool "${out_dir}/pytest${major}-${suite}.txt" \
          "${work}/venv${major}/bin/pytest" ${PYTEST_TEST_ARGS} \
          --junitxml="${out_dir}/pytest${major}-${suite}.junit.xml")
    done
  done
  # The reports name the recording machine too.
  sed -i -e "s|${work}|{tmp}|g" -e "s|hostname=\"[^\"]*\"|hostname=\"host\"|" "${out_dir}"/*.junit.xml

  write_vitest_suites "${work}/js"
  (cd "${work}/js" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund 'vitest@3' >/dev/null)
  for suite in mixed passing collect_error; do
    ln -s ../node_modules "${work}/js/${suite}/node_modules"
    # shellcheck disable=SC2086
    (cd "${work}/js/${suite}" &&
      run_tool "${out_dir}/vitest3-${suite}.txt" ./node_modules/.bin/vitest run \
        --reporter=junit --outputFile.junit="${out_dir}/vitest3-${suite}.junit.xml" ${VITEST_TEST_ARGS})
  done
  sed -i -e "s|${work}|{tmp}|g" -e "s|hostname=\"[^\"]*\"|hostname=\"host\"|" "${out_dir}"/*.junit.xml
  err "recorded into ${out_dir}"
}

main "$@"
