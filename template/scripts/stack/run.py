"""Start, test, collect and remove a test stack (the work behind scripts/*.sh).

Every docker compose call of this process, and of the tests it starts, talks to
one project through the environment (COMPOSE_PROJECT_NAME, COMPOSE_FILE, ...).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import ROOT, SEPARATOR, TEST_FILE, compose_files, project_name, stage2_files, suites
from .registry import RegistryError, built_from, framework, services

PROG = Path(sys.argv[0]).name
# What a test reaches of the infrastructure: service -> (container port, variable, URL).
INFRA = {
    "postgres": (5432, "TEST_DATABASE_URL", "postgresql://app:app@{}/app"),
    "redis": (6379, "TEST_REDIS_URL", "redis://{}/0"),
    "llm": (8080, "TEST_LLM_URL", "http://{}"),  # the openai client's base_url: this plus /v1
}
Done = subprocess.CompletedProcess
# What a node folder's modules were installed from (installed_from), written after npm ci.
INSTALLED = "node_modules/.installed-from"
# vitest's coverage provider (a devDependency): with it, unit runs report line coverage.
V8_COVERAGE = "node_modules/@vitest/coverage-v8"


class Usage(Exception):
    """Bad input: one line (then any more lines as they are), exit 2."""


def say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


def project_env(project: str, file: Path) -> dict[str, str]:
    """The variables that point docker compose at PROJECT: FILE, then its override."""
    files = SEPARATOR.join(map(str, compose_files(file)))
    return {"COMPOSE_PROJECT_NAME": project, "COMPOSE_FILE": files,
            "COMPOSE_PATH_SEPARATOR": SEPARATOR}


def compose(*args: str, env: dict | None = None, capture: bool = True, **kw) -> Done:
    """docker compose ARGS for this process's project; output captured unless told."""
    return subprocess.run(["docker", "compose", *args], text=True, capture_output=capture,
                          env={**os.environ, **(env or {})}, **kw)


def check(done: Done) -> Done:
    if done.returncode:
        raise SystemExit(done.returncode)
    return done


def lines(*args: str, env: dict | None = None) -> list[str]:
    done = compose(*args, env=env)
    if done.returncode:
        raise SystemExit(done.stderr.strip() or f"docker compose {' '.join(args)} failed")
    return done.stdout.split()


def init(project: str, file: Path, artifacts: Path) -> Path:
    """Point every later compose call at PROJECT (FILE + override); empty ARTIFACTS."""
    os.environ.update(project_env(project, file))
    shutil.rmtree(artifacts, ignore_errors=True)
    artifacts.mkdir(parents=True)
    if os.environ.get("TEST_IMAGE_TAG"):
        prebuilt_images(artifacts)
    return artifacts


def prebuilt_images(artifacts: Path) -> None:
    """TEST_IMAGE_TAG (the release tests the images it then pushes): whatever the stack
    builds from service <name>'s folder runs $TEST_IMAGE_PREFIX/<name>:$TEST_IMAGE_TAG,
    which must exist locally; nothing is built or pulled. tested-images.txt: what ran."""
    prefix, tag = os.environ.get("TEST_IMAGE_PREFIX"), os.environ["TEST_IMAGE_TAG"]
    if not prefix:
        raise Usage("TEST_IMAGE_TAG needs TEST_IMAGE_PREFIX (registry/namespace of the images)")
    # Every service, optional members too (profile '*'): a later --with-NAME runs them.
    done = compose("config", "--format", "json", env={"COMPOSE_PROFILES": "*"})
    if done.returncode:
        raise SystemExit(done.stderr.strip())
    file = artifacts / "prebuilt-images.yml"
    file.write_text("# Written by scripts/stack for TEST_IMAGE_TAG; do not edit.\nservices:\n")
    with file.open("a") as out:
        for svc, name in built_from(json.loads(done.stdout)):
            out.write(f"  {svc}:\n    image: {prefix}/{name}:{tag}\n    pull_policy: never\n")
    os.environ["COMPOSE_FILE"] += SEPARATOR + str(file)


def up(artifacts: Path) -> None:
    """Build (FRESH=1: without the layer cache; TEST_IMAGE_TAG: nothing), start, and wait
    until every healthcheck passes (compose does the waiting)."""
    say(f"starting {os.environ['COMPOSE_PROJECT_NAME']}")
    prebuilt, fresh = os.environ.get("TEST_IMAGE_TAG"), os.environ.get("FRESH") == "1"
    build = ["build", *(["--no-cache"] if fresh else [])]
    if fresh and not prebuilt:
        say("building without the layer cache (FRESH=1)")
        check(compose(*build, capture=False))
    if prebuilt and "llm" in lines("config", "--services"):
        check(compose(*build, "llm", capture=False))  # the llm stand-in is no release image
    wait = os.environ.get("TEST_WAIT_TIMEOUT", "180")
    check(compose("up", "--detach", "--no-build" if prebuilt else "--build", "--wait",
                  "--wait-timeout", wait, capture=False))
    if prebuilt:  # "REF IMAGE-ID" lines: the release pushes an image only when these name it
        with (artifacts / "tested-images.txt").open("a") as tested:
            for ref, image in (line.split() for line in inspect("{{.Config.Image}} {{.Image}}")):
                if ref.startswith(os.environ["TEST_IMAGE_PREFIX"] + "/"):
                    say(f"testing {ref} ({image})")
                    tested.write(f"{ref} {image}\n")


def inspect(fmt: str) -> list[str]:
    """`docker inspect --format FMT` of every container of the project, a line each."""
    ids = compose("ps", "--all", "--quiet").stdout.split()
    if not ids:
        return []
    done = subprocess.run(["docker", "inspect", "--format", fmt, *ids], capture_output=True,
                          text=True)
    return done.stdout.splitlines()


def report_oom_kills() -> None:
    """One line for each container the kernel killed for memory: its service and limit."""
    for line in inspect("{{.Name}} {{.State.OOMKilled}} {{.HostConfig.Memory}}"):
        name, oom, limit = line.split()
        if oom == "true":  # /<project>-<service>-<number>
            service = name.removeprefix(f"/{os.environ['COMPOSE_PROJECT_NAME']}-")
            shown = f"{int(limit) // 1048576}m" if int(limit) else "none"
            say(f"{service.rsplit('-', 1)[0]}: killed: out of memory (limit {shown})")


# A line of `docker compose logs`: "<service>-<number><padding> | <timestamp> <text>".
LOG_LINE = re.compile(rb"(?P<svc>\S+)(?P<n>-\d+) *\| (?P<rest>.*)", re.DOTALL)
STAMP = re.compile(rb"\S+ ?")


def collect(artifacts: Path) -> None:
    """Each container's log and the final `ps`, kept under .artifacts/<instance>/: one
    `logs` call for the whole stack, split by service (each file as `logs SERVICE` writes
    it), at the same time as the other calls (each costs a second on a busy machine)."""
    with ThreadPoolExecutor() as pool:
        ps = pool.submit(compose, "ps", "--all")
        members = pool.submit(compose, "config", "--services")
        logs = pool.submit(subprocess.run, ["docker", "compose", "logs", "--no-color",
                                            "--timestamps"], capture_output=True)
        oom = pool.submit(report_oom_kills)
    (artifacts / "ps.txt").write_text(ps.result().stdout + ps.result().stderr)
    oom.result()
    split: dict[str, list[tuple[bytes, bytes]]] = {s: [] for s in members.result().stdout.split()}
    for line in io.BytesIO(logs.result().stdout):  # lines end at \n only
        match = LOG_LINE.fullmatch(line)
        if match and match["svc"].decode() in split:
            split[match["svc"].decode()].append((match["svc"] + match["n"], match["rest"]))
    for svc, entries in split.items():
        width = max((len(name) for name, _ in entries), default=0) + 1
        text = b"".join(name.ljust(width) + b" | " + rest for name, rest in entries)
        (artifacts / f"{svc}.log").write_bytes(logs.result().stderr + text)
    if "llm" in split:  # the stand-in's request log: one JSON object a line
        text = b"".join(STAMP.sub(b"", rest, count=1) for _, rest in split["llm"])
        (artifacts / "llm-requests.jsonl").write_bytes(text)


def down() -> None:
    """Remove the project's containers, networks and volumes (images stay, for speed),
    optional members too, whether this run selected them or not (profile '*'). The
    containers are killed first: their logs are collected and their data is throwaway,
    and a kill ends them all at once where a stop waits for them tier by tier."""
    everyone = {"COMPOSE_PROFILES": "*"}
    compose("kill", env=everyone)
    if compose("down", "--volumes", "--remove-orphans", env=everyone).returncode:
        say(f"could not remove {os.environ['COMPOSE_PROJECT_NAME']}; run: make test-clean-all")


def published() -> dict[str, dict[int, str]]:
    """Each service with a container: container port -> the host:port it is published on
    (one `ps` call, where `port SERVICE PORT` costs one a port)."""
    done = compose("ps", "--all", "--format", "json")
    if done.returncode:
        raise SystemExit(done.stderr.strip() or "docker compose ps failed")
    text = done.stdout.strip()  # a JSON object a line (compose 2.21 on), an array before
    rows = json.loads(text) if text.startswith("[") else map(json.loads, text.splitlines())
    found: dict[str, dict[int, str]] = {}
    for row in sorted(rows, key=lambda r: r["Name"]):  # <service>-1 first, as `port` does
        ports = found.setdefault(row["Service"], {})
        for pub in (p for p in row.get("Publishers") or [] if p["PublishedPort"]):
            host = f"[{pub['URL']}]" if ":" in pub["URL"] else pub["URL"]
            ports.setdefault(pub["TargetPort"], f"{host}:{pub['PublishedPort']}")
    return found


def export_urls() -> None:
    """TEST_<ENV>_URL of every published API (ENV and container port from the registry),
    the infrastructure's URLs, TEST_API_URL (the api named api, else the first) and
    TEST_STACK_SERVICES (the members whose containers exist: tests of an absent one skip)."""
    ports = published()
    found: dict[str, str] = {}
    for svc, (port, variable, url) in INFRA.items():
        if port in ports.get(svc, {}):
            os.environ[variable] = url.format(ports[svc][port])
    for entry in (s for s in services() if s["port"] in ports.get(s["name"], {})):
        addr = ports[entry["name"]][entry["port"]]
        found[entry["name"]] = os.environ[f"TEST_{entry['env']}_URL"] = f"http://{addr}"
    os.environ["TEST_API_URL"] = found.get("api") or next(iter(found.values()), "")
    os.environ["TEST_STACK_SERVICES"] = "".join(f"{s} " for s in sorted(ports))


def installed_from(folder: Path) -> str:
    """What a node folder's modules are installed from: a hash of package.json and its lock."""
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        content = (folder / name).read_bytes() if (folder / name).is_file() else b""
        digest.update(f"{name} {len(content)}\n".encode() + content)
    return digest.hexdigest()


def node_modules(folder: Path, who: str = PROG) -> int:
    """npm ci (npm install without a lock) unless the modules match package.json and its
    lock; npm's exit status. By content, not modification times: `npm install
    --package-lock-only` (an update re-locks so) rewrites the lock and
    node_modules/.package-lock.json without installing. scripts/lint.py's too."""
    stamp = folder / INSTALLED
    if stamp.is_file() and stamp.read_text().strip() == installed_from(folder):
        return 0
    if shutil.which("npm") is None:
        print(f"{who}: npm not found: install Node.js to use {os.path.relpath(folder, ROOT)}")
        return 1
    how = "ci" if (folder / "package-lock.json").is_file() else "install"
    code = subprocess.run(["npm", how, "--no-audit", "--no-fund", "--loglevel=error"],
                          cwd=folder).returncode
    if code == 0:  # npm install writes the lock: hash it afterwards
        stamp.parent.mkdir(exist_ok=True)  # npm ci of a package without dependencies makes none
        stamp.write_text(installed_from(folder) + "\n")
    return code


def run_suite(folder: Path, kind: str, reports: Path) -> int:
    """The tests of tests/KIND of FOLDER, with the words of TEST_ARGS appended (the test
    runner passes its options that way), a junit report (and coverage for python unit
    tests) in REPORTS. Exit status of the test tool; pytest's 5 (no test) is 0."""
    extra, shown = os.environ.get("TEST_ARGS", "").split(), os.path.relpath(folder, ROOT)
    reports.mkdir(parents=True, exist_ok=True)
    if not (folder / "tests" / kind).is_dir():
        say(f"{shown}: no tests/{kind} folder, nothing to run")
        return 0
    try:
        tool = framework(folder)
    except RegistryError as error:
        say(str(error))
        return 2
    junit = f"{reports}/junit.xml"
    if tool == "pytest":
        cov = ["--cov=src", f"--cov-report=xml:{reports}/coverage.xml"] if kind == "unit" else []
        status = subprocess.run(["uv", "run", "--quiet", "pytest", f"tests/{kind}",
                                 f"--junitxml={junit}", *cov, *extra], cwd=folder).returncode
        if status == 5:  # no test collected (a team may delete the samples)
            say(f"{shown}: no tests in tests/{kind}")
        return 0 if status == 5 else status
    if tool == "vitest":
        if status := node_modules(folder):
            return status
        reporters = ["--reporter=junit", f"--outputFile.junit={junit}"]
        if not any(word.startswith("--reporter") for word in extra):
            reporters.append("--reporter=default")
        # Line coverage of src/ as Cobertura XML (cobertura-coverage.xml), as pytest-cov
        # writes coverage.xml: where the folder has vitest's v8 coverage provider installed.
        cov = [] if kind != "unit" or not (folder / V8_COVERAGE).is_dir() else [
            "--coverage.enabled", "--coverage.provider=v8", "--coverage.reporter=cobertura",
            f"--coverage.reportsDirectory={reports}", "--coverage.include=src/**"]
        return subprocess.run(["npx", "--no-install", "vitest", "run", f"tests/{kind}",
                               "--passWithNoTests", *reporters, *cov, *extra],
                              cwd=folder).returncode
    say(f"{shown}: no test runner for framework '{tool}'")
    return 2


def clean_all(instance: str) -> int:
    """Remove every stack of this instance (stage 3, stage 2, suites: their folders' and
    any compose still knows by the suite prefix) and its artifacts; nothing of others."""
    test_file, prefix = ROOT / TEST_FILE, project_name(instance) + "-suite-"
    projects = [(project_name(instance), test_file)]
    projects += [(project_name(instance, service=n), f) for n, f in stage2_files().items()]
    known = {p for p in compose("ls", "--all", "--quiet").stdout.split() if p.startswith(prefix)}
    known |= {project_name(instance, suite=s) for s in suites()}
    projects += [(name, test_file) for name in sorted(known)]
    failed = 0
    for name, file in projects:
        say(f"removing {name} (containers, networks, volumes, images)")
        failed |= compose("down", "--volumes", "--remove-orphans", "--rmi", "local", "--timeout",
                          "10", env={**project_env(name, file), "COMPOSE_PROFILES": "*"},
                          capture=False, stdout=subprocess.DEVNULL).returncode
    shutil.rmtree(ROOT / ".artifacts" / instance, ignore_errors=True)
    return 1 if failed else 0
