"""usage: python3 scripts/stack COMMAND [ARG...]

  unit DIR                 stage 1 of one folder (scripts/unit-tests.sh)
  service NAME [--keep]    stage 2 of one service (scripts/test-service.sh)
  integration [OPTION...]  stage 3 (scripts/run-integration-tests.sh --help)
  instance-id              this checkout's test instance id (scripts/get-test-instance-id.sh)
  dev-compose              the dev stack's `docker compose -f ...` words (make's DEV)

The scripts pass their own path first (python3 scripts/stack "$0" ...): their
name starts each message and their header comment is the usage.
Exit codes: 0 done, 1 tests failed, 2 usage, 130 interrupted. TEST_HOLD=1 (the test
runner, starting a stack ahead of its stage): once the stack is up, test only after a
"go" line on stdin; anything else, or the end of input, tears it down untested.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ among the template's files
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import stack  # noqa: E402
from stack import ROOT, TEST_FILE, artifacts, instance_id, project_name, run, suites  # noqa: E402
from stack.registry import RegistryError  # noqa: E402
from stack.run import Usage, say  # noqa: E402

SCRIPTS = {"unit-tests": "unit", "test-service": "service", "run-integration-tests": "integration",
           "get-test-instance-id": "instance-id"}
SETTINGS = ROOT / ".env.integration"


def usage(script: str) -> str:
    """The header comment of the script from its usage: line on (this docstring without one)."""
    path = Path(script)
    text = path.read_text() if path.is_file() else "# " + __doc__.replace("\n", "\n# ")
    header = [line[2:] if line.startswith("# ") else line[1:] for line in text.splitlines()
              if line.startswith("#") and not line.startswith("#!")]
    start = next((i for i, line in enumerate(header) if "usage:" in line), 0)
    return "\n".join(header[start:])


def guarded(folder: Path, teardown: bool, hint: str, body: Callable[[], int]) -> int:
    """BODY; then, on any exit (success, failure, Ctrl-C, SIGTERM), collect the logs and
    remove the stack when TEARDOWN, else leave it running and print HINT."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return body()
    except KeyboardInterrupt:
        return 130
    finally:
        for number in (signal.SIGINT, signal.SIGTERM):  # the cleanup finishes
            signal.signal(number, signal.SIG_IGN)
        run.collect(folder)
        if teardown:
            run.down()
        else:
            say(f"{os.environ['COMPOSE_PROJECT_NAME']} left running ({hint})")


def go() -> bool:
    """TEST_HOLD=1: the test runner started this stack ahead of its stage; its line on
    stdin says whether to test ("go") or to tear down untested (an earlier stage failed)."""
    if os.environ.get("TEST_HOLD") != "1":
        return True
    if sys.stdin.readline().strip() == "go":
        return True
    say("not tested: an earlier stage did not pass")
    return False


def unit(script: str, args: list[str], instance: str) -> int:
    if len(args) != 1 or not Path(args[0]).is_dir():
        raise Usage("usage: scripts/unit-tests.sh DIR  (a service folder)")
    folder = Path(args[0]).resolve()
    return run.run_suite(folder, "unit", artifacts(instance, "unit", folder.name))


def service(script: str, args: list[str], instance: str) -> int:
    known = stack.stage2_files()
    line = f"usage: scripts/test-service.sh NAME [--keep]   (NAME: {' '.join(known)})"
    options = [a for a in args if a.startswith("-")]
    names = [a for a in args if not a.startswith("-")]
    if {"-h", "--help"} & set(options):
        print(line)
        return 0
    bad = next((a for a in options if a != "--keep"), None)
    name = names[-1] if names else ""
    if bad or name not in known:
        raise Usage(f"unknown option: {bad}" if bad else f"no service '{name}'", line)
    project = project_name(instance, service=name)
    folder = run.init(project, known[name], artifacts(instance, "service", name))

    def body() -> int:
        run.up(folder)
        run.export_urls()
        return run.run_suite(known[name].parents[2], "integration", folder) if go() else 0

    return guarded(folder, "--keep" not in options, "remove it with: make test-clean-all", body)


def env_file_value(key: str, file: Path) -> str:
    """The value of the last KEY= line of FILE, unquoted."""
    text = file.read_text() if file.is_file() else ""
    values = [line[len(key) + 1 :] for line in text.splitlines() if line.startswith(key + "=")]
    return values[-1].strip("\"'") if values else ""


def settings() -> None:
    """Copy deploy/test/integration.env.example to .env.integration on first use (then it
    is the developer's); compose reads it."""
    if not SETTINGS.is_file():
        shutil.copyfile(ROOT / "deploy/test/integration.env.example", SETTINGS)
        say(f"wrote {SETTINGS.name}: this stack's settings, yours to edit (kept from now on)")
    os.environ["COMPOSE_ENV_FILES"] = str(SETTINGS)


def optional_members() -> list[str]:
    """The stack's compose profiles: its optional members."""
    return run.lines("config", "--profiles", env={"COMPOSE_PROFILES": ""})


def select_members(names: list[str]) -> None:
    """COMPOSE_PROFILES: the environment's, else .env.integration's, plus NAMES ("all": all)."""
    chosen = os.environ.get("COMPOSE_PROFILES", env_file_value("COMPOSE_PROFILES", SETTINGS))
    wanted = [*re.split(r"[,\s]+", chosen.strip(", ")), *names] if chosen.strip(", ") else names
    picked: set[str] = set()
    valid = optional_members() if wanted else []  # nothing asked for: no compose call (1 s)
    for name in wanted:
        if name != "all" and name not in valid:
            shown = " ".join(valid) or "none"
            raise Usage(f"no optional stack member '{name}'; the optional members are: {shown}")
        picked |= set(valid) if name == "all" else {name}
    os.environ["COMPOSE_PROFILES"] = ",".join(sorted(picked))
    if picked:
        say(f"optional members: {os.environ['COMPOSE_PROFILES']}")


def integration(script: str, args: list[str], instance: str) -> int:
    flags, members, suite, rest = set(), [], "", iter(args)
    for arg in rest:
        if re.fullmatch(r"--with-.+", arg):
            members.append(arg[7:])
        elif re.fullmatch(r"--suite=.+", arg) or arg == "--suite":
            suite = arg[8:] or next(rest, None)
            if suite is None:
                raise Usage("--suite needs a NAME")
        elif arg in ("--up", "--test", "--down", "--fresh", "--keep"):
            flags.add(arg[2:])
        elif arg == "--clean-all":
            return run.clean_all(instance)
        elif arg in ("-h", "--help"):
            print(usage(script))
            return 0
        else:
            raise Usage(f"unknown option: {arg}", usage(script))
    every, keep = not flags & {"up", "test", "down"}, "keep" in flags
    up, test = keep or every or "up" in flags, keep or every or "test" in flags
    down = not keep and (every or "down" in flags)  # this run owns the stack's whole life
    project, tests = project_name(instance), "integration"
    folder = artifacts(instance, "integration")
    if suite:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", suite):
            raise Usage(f"suite '{suite}': lowercase letters, digits, '-' and '_' only "
                        "(it names a compose project)")
        if suite not in suites():
            raise Usage(f"no suite '{suite}' (a folder tests/integration/{suite}/); "
                        f"the suites are: {' '.join(suites()) or 'none'}")
        # The trailing slash: vitest takes the path as a filter (NAME-more/ would match too).
        project, tests = project_name(instance, suite=suite), f"integration/{suite}/"
        folder = artifacts(instance, "integration", suite)
    run.init(project, ROOT / TEST_FILE, folder)
    settings()
    select_members(members)
    if "fresh" in flags:
        run.down()
    if not (up or test):
        if down:
            run.down()
        return 0

    def body() -> int:
        if up:
            run.up(folder)
        if not test:
            return 0
        run.export_urls()
        return run.run_suite(ROOT, tests, folder) if go() else 0

    return guarded(folder, down, f"remove it with: {script} --down", body)


def main(argv: list[str]) -> int:
    script = argv[0] if argv else ""
    command = SCRIPTS.get(Path(script).name.removesuffix(".sh"), script)
    commands = {"unit": unit, "service": service, "integration": integration}
    run.PROG = Path(script).name if command != script else "stack"
    try:
        if command in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        if command == "dev-compose":
            print(shlex.join(stack.dev_compose()))
            return 0
        if command not in (*commands, "instance-id") or (command == "instance-id" and argv[1:]):
            raise Usage("takes no arguments" if command == "instance-id" else usage(""))
        instance = os.environ["TEST_INSTANCE_ID"] = instance_id()
        if command == "instance-id":
            print(instance)
            return 0
        return commands[command](script, argv[1:], instance)
    except Usage as error:
        say(error.args[0])
        for line in error.args[1:]:
            print(line, file=sys.stderr)
        return 2
    except RegistryError as error:
        say(str(error))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
