"""The live display on a real terminal: the runner under a pseudo-terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Callable

from runner_fakes import FakeProject, plain_env

ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]|\r")


def run_in_pty(cmd: list[str], timeout: float = 30) -> tuple[int, str]:
    """Run cmd with a 100x40 terminal as stdin/stdout/stderr; return (exit code, output)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    env = {**plain_env(), "TERM": "xterm-256color"}
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        returncode = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return returncode, b"".join(chunks).decode("utf-8", "replace")


def test_live_display_on_a_terminal(fake_project: Callable[..., FakeProject]) -> None:
    project = fake_project()
    project.behave("unit", "web", "pass", "vitest3-passing.txt")
    returncode, raw = run_in_pty(project.command("--stage", "unit"))
    text = ANSI.sub("", raw)
    assert returncode == 0, raw
    # rich's Live hides the cursor and redraws in place, rather than plain lines.
    assert "\x1b[?25l" in raw, raw
    assert "started:" not in text, text
    rows = [line.strip() for line in text.splitlines()]
    for name, count in (("api", "8/8"), ("web", "5/5"), ("worker", "8/8")):
        assert any(re.match(rf"✓ {name}\s+{count}\s+\d+\.\ds$", row) for row in rows), text
    assert "Test summary" in text
    assert "✓ all 3 targets passed" in text


def test_no_live_on_a_terminal_prints_plain_lines(fake_project: Callable[..., FakeProject]) -> None:
    project = fake_project({"api": "python"})
    returncode, raw = run_in_pty(project.command("--stage", "unit", "--no-live"))
    text = ANSI.sub("", raw)
    assert returncode == 0, raw
    assert "[unit] ● api started: scripts/unit-tests.sh services/api" in text
    assert "\x1b[?25l" not in raw
