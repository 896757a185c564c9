"""Running the targets: one process group each, output pumped into the state, signals."""

from __future__ import annotations

import codecs
import os
import select
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.rule import Rule
from rich.text import Text

from .parsing import TOOL_ARGS, failure_report
from .reports import read_junit
from .state import RunState, Stage, Status, Target
from .view import MARKS, fmt_counts, fmt_seconds, render, render_summary

# Variables that force colours on; vitest even reads FORCE_COLOR=0 as "on".
COLOR_FORCING = ("FORCE_COLOR", "PY_COLORS", "CLICOLOR_FORCE")
EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130
# What scripts/lib/stack.sh prints for a container the kernel killed for memory.
OOM_MARK = "killed: out of memory"


def oom_kills(lines: Iterable[str]) -> list[str]:
    """'api: killed: out of memory (limit 256m)' for each such line of a target's output."""
    found = []
    for line in lines:
        if OOM_MARK in line:
            script, sep, rest = line.partition(": ")
            found.append(rest if sep and script.endswith(".sh") else line.strip())
    return found


def child_env(framework: str | None, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a target: no forced colours, TEST_ARGS for its tool."""
    base = dict(os.environ if base is None else base)
    env = {k: v for k, v in base.items() if k not in COLOR_FORCING}
    env["NO_COLOR"] = "1"
    env["PYTHONUNBUFFERED"] = "1"  # progress arrives as it happens, not in 8 KiB blocks
    args = [TOOL_ARGS.get(framework or "", ""), base.get("TEST_ARGS", "").strip()]
    env["TEST_ARGS"] = " ".join(a for a in args if a)
    return env


def resolve_command(root: Path, command: list[str]) -> list[str]:
    """Run a script through bash when it lost its executable bit."""
    script = root / command[0]
    if script.is_file() and not os.access(script, os.X_OK):
        return ["bash", *command]
    return command



class Runner:
    """Runs the stages of a RunState, keeping it up to date for the display."""

    def __init__(
        self,
        state: RunState,
        console: Console,
        jobs: int,
        live: bool,
        verbose: bool = False,
        grace: float = 30.0,
    ) -> None:
        self.state = state
        self.console = console
        self.jobs = max(1, jobs)
        self.live = live
        self.verbose = verbose
        self.grace = grace
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._interrupts = 0
        self._procs: dict[int, tuple[Target, subprocess.Popen[bytes]]] = {}
        self._name_width = max((len(t.name) for t in state.targets), default=0)

    # -- signals

    def interrupt(self, signum: int = signal.SIGINT, frame: object = None) -> None:
        """Signal handler: the first stops the targets, the second kills them."""
        self._interrupts += 1
        self._wake.set()

    def _install_handlers(self) -> dict[int, object]:
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous[signum] = signal.signal(signum, self.interrupt)
        return previous

    # -- output

    def _renderable(self) -> Group:
        with self._lock:
            return render(self.state, time.monotonic())

    def _print(self, renderable: RenderableType) -> None:
        self.console.print(renderable, soft_wrap=True, highlight=False)

    def _log_start(self, target: Target) -> None:
        if self.live:
            return
        command = shlex.join(target.command)
        self._print(Text(f"[{target.stage}] ● {target.name} started: {command}"))

    def _log_finish(self, target: Target) -> None:
        if self.live:
            return
        mark, style = MARKS[target.status]
        details = [fmt_counts(target.counts)]
        if target.status is not Status.PASSED and target.returncode is not None:
            details.append(f"exit {target.returncode}")
            details += oom_kills(target.output)
        detail = "; ".join(d for d in details if d)
        elapsed = fmt_seconds(target.elapsed(time.monotonic()))
        line = Text.assemble(
            f"[{target.stage}] ",
            (mark, style),
            f" {target.name} {target.status.value} in {elapsed}",
            f": {detail}" if detail else "",
        )
        self._print(line)

    def _log_lines(self, target: Target, lines: Iterable[str]) -> None:
        prefix = f"{target.name.ljust(self._name_width)} | "
        for line in lines:
            self._print(Text.assemble((prefix, "dim"), line))

    # -- one target

    def _consume(self, target: Target, text: str, final: bool = False) -> None:
        with self._lock:
            lines = target.parser.feed(text) if text else []
            if final:
                lines += target.parser.close()
            target.output.extend(lines)
        if self.verbose and lines:
            self._log_lines(target, lines)

    def _run_target(self, target: Target) -> None:
        env = child_env(target.framework)
        command = resolve_command(self.state.root, target.command)
        with self._lock:
            if self._interrupts:
                target.status = Status.SKIPPED
                self._wake.set()
                return
            target.status = Status.RUNNING
            target.started = time.monotonic()
            target.started_at = time.time()
            try:
                proc = subprocess.Popen(
                    command,
                    cwd=self.state.root,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    bufsize=0,
                    start_new_session=True,  # its own process group, for SIGINT
                )
            except OSError as exc:
                target.output.append(f"cannot run {shlex.join(command)}: {exc}")
                target.returncode = 127
                target.ended = time.monotonic()
                target.status = Status.FAILED
                proc = None
            else:
                self._procs[id(target)] = (target, proc)
        if proc is None:
            self._log_finish(target)
            self._wake.set()
            return
        self._log_start(target)
        self._pump(target, proc)
        returncode = proc.wait()
        junit = read_junit(target.report, target.started_at)
        with self._lock:
            self._procs.pop(id(target), None)
            target.junit = junit
            target.returncode = returncode
            target.ended = time.monotonic()
            if returncode == 0:
                target.status = Status.PASSED
            elif self._interrupts:
                target.status = Status.INTERRUPTED
            else:
                target.status = Status.FAILED
        self._log_finish(target)
        self._wake.set()

    def _pump(self, target: Target, proc: subprocess.Popen[bytes]) -> None:
        """Read the target's output until it ends (or it exits and goes quiet)."""
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while True:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                data = os.read(fd, 65536)
                if not data:
                    break
                self._consume(target, decoder.decode(data))
            elif proc.poll() is not None:
                break  # exited; a leftover background process may hold the pipe open
        self._consume(target, decoder.decode(b"", final=True), final=True)
        proc.stdout.close()

    # -- stopping

    def _signal_running(self, signum: int) -> None:
        with self._lock:
            running = [proc for _, proc in self._procs.values()]
        for proc in running:
            try:
                os.killpg(proc.pid, signum)
            except (ProcessLookupError, PermissionError):
                pass

    # -- stages

    def _run_stage(self, stage: Stage) -> None:
        sigint_sent: float | None = None
        killed = False
        with ThreadPoolExecutor(
            max_workers=min(self.jobs, len(stage.targets)), thread_name_prefix=stage.name
        ) as pool:
            futures = [pool.submit(self._run_target, t) for t in stage.targets]
            for future in futures:
                future.add_done_callback(lambda _: self._wake.set())
            while True:
                self._wake.clear()
                if all(f.done() for f in futures):
                    break
                if self._interrupts and sigint_sent is None:
                    sigint_sent = time.monotonic()
                    self._signal_running(signal.SIGINT)
                    self._print(
                        Text(
                            f"Interrupted: stopping the running targets "
                            f"(up to {self.grace:g}s; interrupt again to kill them now)",
                            style="bold yellow",
                        )
                    )
                if (
                    not killed
                    and sigint_sent is not None
                    and (self._interrupts > 1 or time.monotonic() - sigint_sent > self.grace)
                ):
                    killed = True
                    self._signal_running(signal.SIGKILL)
                self._wake.wait(0.2)
            for future in futures:
                future.result()  # re-raise a bug in the runner itself

    def run(self) -> int:
        previous = self._install_handlers()
        self.state.started = time.monotonic()
        try:
            display = (
                Live(
                    get_renderable=self._renderable,
                    console=self.console,
                    refresh_per_second=8,
                    redirect_stdout=False,
                    redirect_stderr=False,
                )
                if self.live
                else nullcontext()
            )
            with display as live:
                if live is not None:
                    self.console = live.console  # log above the live display
                failed = False
                for stage in self.state.stages:
                    if failed or self._interrupts:
                        for target in stage.targets:
                            target.status = Status.SKIPPED
                        continue
                    self._run_stage(stage)
                    failed = any(t.status is not Status.PASSED for t in stage.targets)
                if live is not None:
                    live.refresh()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.state.ended = time.monotonic()
        self.state.interrupted = self._interrupts > 0
        self.report()
        if self.state.interrupted:
            return EXIT_INTERRUPTED
        if any(t.status is not Status.PASSED for t in self.state.targets):
            return EXIT_FAILED
        return EXIT_OK

    def report(self) -> None:
        """Failure sections of the failed targets, then the summary table."""
        for target in self.state.targets:
            if target.status is not Status.FAILED:
                continue
            title = (
                f"{target.stage}/{target.name} failed: "
                f"{shlex.join(target.command)} exited {target.returncode}"
            )
            self.console.print(Rule(Text(title, style="bold red"), style="red"))
            junit = target.junit.failure_lines() if target.junit is not None else []
            report = oom_kills(target.output)
            report += failure_report(target.framework, list(target.output), junit)
            self._print(Text("\n".join(report) if report else "(no output)"))
        self.console.print()
        self.console.print(render_summary(self.state))


