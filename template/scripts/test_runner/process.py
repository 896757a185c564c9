"""Running the targets: a process group each, output into the state, signals, the report."""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import select
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console, RenderableType
from rich.live import Live
from rich.rule import Rule
from rich.text import Text

from .parsing import TOOL_ARGS, failure_report, read_coverage, read_junit
from .state import CONTAINER_STAGES, RunState, Stage, Status, Target
from .view import MARKS, fmt_results, fmt_seconds, render, render_summary

# Variables that force colours on; vitest even reads FORCE_COLOR=0 as "on".
COLOR_FORCING = ("FORCE_COLOR", "PY_COLORS", "CLICOLOR_FORCE")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
GOOD = (Status.PASSED, Status.PENDING)  # a run goes on while every target is one of these
# What scripts/lib/stack.sh prints for a container the kernel killed for memory.
OOM_MARK = "killed: out of memory"


def oom_kills(lines: Iterable[str]) -> list[str]:
    """'api: killed: out of memory (limit 256m)' for each such line of a target's output."""
    return [re.sub(r"^(?:(?!: ).)*\.sh: ", "", line.strip()) for line in lines if OOM_MARK in line]


def child_env(framework: str | None, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a target: no forced colours, TEST_ARGS for its tool."""
    base = dict(os.environ if base is None else base)
    args = [TOOL_ARGS.get(framework or "", ""), base.get("TEST_ARGS", "").strip()]
    env = {k: v for k, v in base.items() if k not in COLOR_FORCING}
    env["TEST_ARGS"] = " ".join(filter(None, args))
    # PYTHONUNBUFFERED: progress arrives as it happens, not in 8 KiB blocks.
    return {**env, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}


def resolve_command(root: Path, command: list[str]) -> list[str]:
    """Run a script through bash when it lost its executable bit."""
    script = root / command[0]
    return ["bash", *command] if script.is_file() and not os.access(script, os.X_OK) else command


@dataclass
class Launch:
    """A target's process: its output is pumped until it exits (then `done` is set). A held
    one (TEST_HOLD=1) starts its stack and waits for a line on stdin: "go" runs its tests,
    end of input tears the stack down untested (an earlier stage did not pass)."""

    proc: subprocess.Popen[bytes] | None
    held: bool
    done: threading.Event = field(default_factory=threading.Event)
    returncode: int = 127


class Runner:
    """Runs the stages of a RunState, keeping it up to date for the display."""

    def __init__(self, state: RunState, console: Console, jobs: int, live: bool,
                 verbose: bool = False, grace: float = 30.0, stacks: int = 0) -> None:
        self.state, self.console, self.jobs, self.live = state, console, jobs, live
        self.verbose, self.grace, self.interrupts = verbose, grace, 0
        self.lock, self.wake = threading.RLock(), threading.Event()
        self.launches: dict[int, Launch] = {}
        self.width = max((len(t.name) for t in state.targets), default=0)
        # Container targets whose stacks start while the stage before theirs runs, STACKS at
        # most up at once; TURN: the last stage whose stacks may start (None: none any more).
        self.ahead = {id(t): i for i, stage in enumerate(state.stages) for t in stage.targets
                      if stacks and t.stage in CONTAINER_STAGES}
        self.stacks, self.up = stacks, 0
        self.turn: int | None = 0
        self.changed = threading.Condition(self.lock)
        self.sigint_at: float | None = None
        self.killed = False

    def interrupt(self, signum: int = signal.SIGINT, frame: object = None) -> None:
        """Signal handler: the first stops the targets, the second kills them."""
        self.interrupts += 1
        self.wake.set()

    def log(self, *parts: str | tuple[str, str]) -> None:
        self.console.print(Text.assemble(*parts), soft_wrap=True, highlight=False)

    def log_finish(self, target: Target) -> None:
        mark, style = MARKS[target.status]
        details = [fmt_results(target)]
        if target.status is not Status.PASSED:
            details += [f"exit {target.returncode}", *oom_kills(target.output)]
        detail = "; ".join(filter(None, details))
        took = fmt_seconds(target.elapsed(time.monotonic()))
        self.log(f"[{target.stage}] ", (mark, style), f" {target.name} {target.status.value} in "
                 f"{took}", f": {detail}" if detail else "")

    def launch(self, target: Target, held: bool) -> Launch:
        """Start TARGET's command in a process group of its own (for SIGINT); a held one's
        output is pumped by a thread of its own from now on, the others' by the caller."""
        command = resolve_command(self.state.root, target.command)
        env = {**child_env(target.framework), **({"TEST_HOLD": "1"} if held else {})}
        launch = self.launches[id(target)] = Launch(None, held)
        try:
            launch.proc = subprocess.Popen(
                command, cwd=self.state.root, env=env,
                stdin=subprocess.PIPE if held else subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
            )
        except OSError as exc:
            target.output.append(f"cannot run {shlex.join(command)}: {exc}")
            self.finished(target, launch)
        if held and launch.proc is not None:
            threading.Thread(target=self.finish, args=(target, launch), daemon=True).start()
        return launch

    def finish(self, target: Target, launch: Launch) -> None:
        """Pump the target's output until its process exits."""
        assert launch.proc is not None
        self.pump(target, launch.proc)
        launch.returncode = launch.proc.wait()
        self.finished(target, launch)

    def finished(self, target: Target, launch: Launch) -> None:
        with self.changed:
            self.up -= launch.held  # its stack is gone: another may start
            launch.done.set()
            self.changed.notify_all()
        self.wake.set()

    def next_turn(self, turn: int | None) -> None:
        """Let the stacks of stage TURN start (None: no more stacks start)."""
        with self.changed:
            self.turn = turn
            self.changed.notify_all()

    def prepare(self) -> None:
        """Start the held targets' stacks in plan order as their turn comes and the STACKS
        limit allows; each waits for its go (or for the end of its input)."""
        for target in (t for t in self.state.targets if id(t) in self.ahead):
            with self.changed:  # (polled: an interrupt notifies no one)
                while not (self.turn is None or self.interrupts or (
                        self.ahead[id(target)] <= self.turn and self.up < self.stacks)):
                    self.changed.wait(0.2)
                if self.turn is None or self.interrupts:
                    return
                self.up += 1
                self.launch(target, held=True)

    def run_target(self, target: Target) -> None:
        since = time.time()  # tells this run's junit report from an older one
        if id(target) in self.ahead:  # its stack is (being) started: wait for it, then say go
            while (launch := self.launches.get(id(target))) is None and not self.interrupts:
                self.wake.wait(0.2)
        with self.lock:
            if self.interrupts:
                target.status = Status.SKIPPED
                return
            target.status, target.started = Status.RUNNING, time.monotonic()
            if id(target) not in self.ahead:
                launch = self.launch(target, held=False)
            elif launch.proc is not None and launch.proc.stdin is not None:
                with contextlib.suppress(OSError):  # it ended already: its exit status tells
                    launch.proc.stdin.write(b"go\n")
                    launch.proc.stdin.close()
        if launch.proc is not None:
            if not self.live:
                self.log(f"[{target.stage}] ● {target.name} started: {shlex.join(target.command)}")
            if not launch.held:
                self.finish(target, launch)
        launch.done.wait()
        junit = read_junit(target.report, since) if launch.proc is not None else None
        covered = read_coverage(target.report.parent, since) if junit and target.report else None
        with self.lock:
            target.junit, target.coverage, target.ended = junit, covered, time.monotonic()
            target.returncode = launch.returncode
            target.status = (Status.PASSED if launch.returncode == 0 else
                             Status.INTERRUPTED if self.interrupts else Status.FAILED)
        if not self.live:
            self.log_finish(target)

    def pump(self, target: Target, proc: subprocess.Popen[bytes]) -> None:
        """Read the target's output until it ends (or it exits and goes quiet)."""
        assert proc.stdout is not None
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while True:
            if select.select([proc.stdout], [], [], 0.2)[0]:
                data = os.read(proc.stdout.fileno(), 65536)
                if not data:
                    break
                self.consume(target, decoder.decode(data))
            elif proc.poll() is not None:
                break  # exited; a leftover background process may hold the pipe open
        self.consume(target, decoder.decode(b"", final=True), final=True)
        proc.stdout.close()

    def consume(self, target: Target, text: str, final: bool = False) -> None:
        with self.lock:
            lines = target.parser.feed(text) if text else []
            lines += target.parser.close() if final else []
            target.output.extend(lines)
        for line in lines if self.verbose else ():
            self.log((f"{target.name.ljust(self.width)} | ", "dim"), line)

    def signal_running(self, signum: int) -> None:
        with self.lock:
            running = [x.proc for x in self.launches.values() if x.proc and not x.done.is_set()]
        for proc in running:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signum)

    def wait_for(self, finished: Callable[[], bool]) -> None:
        """Until FINISHED(); on an interrupt SIGINT to every process, then SIGKILL once the
        grace is over or on a second interrupt."""
        while True:
            self.wake.clear()
            if finished():
                return
            if self.interrupts and self.sigint_at is None:
                self.sigint_at = time.monotonic()
                self.signal_running(signal.SIGINT)
                self.log((f"Interrupted: stopping the running targets (up to {self.grace:g}s; "
                          "interrupt again to kill them now)", "bold yellow"))
            if self.sigint_at is not None and not self.killed and (
                self.interrupts > 1 or time.monotonic() - self.sigint_at > self.grace
            ):
                self.killed = True
                self.signal_running(signal.SIGKILL)
            self.wake.wait(0.2)

    def run_stage(self, stage: Stage) -> None:
        """The stage's targets, at most --jobs at once."""
        with ThreadPoolExecutor(min(self.jobs, len(stage.targets))) as pool:
            futures = [pool.submit(self.run_target, target) for target in stage.targets]
            for future in futures:
                future.add_done_callback(lambda _: self.wake.set())
            self.wait_for(lambda: all(future.done() for future in futures))
            for future in futures:
                future.result()  # re-raise a bug in the runner itself

    def run(self) -> int:
        """Every stage while the previous one passed; 0 passed, 1 failed, 130 interrupted."""
        handlers = {}
        if threading.current_thread() is threading.main_thread():
            handlers = {s: signal.signal(s, self.interrupt) for s in STOP_SIGNALS}
        self.state.started = time.monotonic()
        preparer = threading.Thread(target=self.prepare, daemon=True)
        try:
            live = Live(get_renderable=self.renderable, console=self.console,
                        redirect_stdout=False, redirect_stderr=False, refresh_per_second=8)
            with live if self.live else contextlib.nullcontext():  # logs print above it
                preparer.start()
                for index, stage in enumerate(self.state.stages):  # while the earlier passed
                    if self.interrupts or any(t.status not in GOOD for t in self.state.targets):
                        for target in stage.targets:
                            target.status = Status.SKIPPED
                    else:
                        self.next_turn(index + 1)  # the next stage's stacks may start
                        self.run_stage(stage)
                self.next_turn(None)  # the stacks no stage needs: end of input, torn down
                preparer.join()
                for launch in list(self.launches.values()):
                    if launch.proc is not None and launch.proc.stdin is not None:
                        with contextlib.suppress(OSError):
                            launch.proc.stdin.close()  # a no-op on a closed one
                self.wait_for(lambda: all(x.done.is_set() for x in list(self.launches.values())))
        finally:
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
        self.state.ended, self.state.interrupted = time.monotonic(), self.interrupts > 0
        self.report()
        passed = all(t.status is Status.PASSED for t in self.state.targets)
        return 130 if self.interrupts else 0 if passed else 1

    def renderable(self) -> RenderableType:
        with self.lock:
            return render(self.state, time.monotonic())

    def report(self) -> None:
        """Failure sections of the failed targets, then the summary table."""
        for t in (t for t in self.state.targets if t.status is Status.FAILED):
            title = f"{t.stage}/{t.name} failed: {shlex.join(t.command)} exited {t.returncode}"
            self.console.print(Rule(Text(title, style="bold red"), style="red"))
            junit = t.junit.failure_lines() if t.junit is not None else []
            report = oom_kills(t.output) + failure_report(t.parser, list(t.output), junit)
            self.log("\n".join(report) or "(no output)")
        self.console.print()
        self.console.print(render_summary(self.state))
