"""Helpers of this project's Python tests: `from testkit import wait_for`.

Template-owned: `copier update` brings their fixes (pytest finds this package
through `pythonpath` in pyproject.toml). Keep your own helpers in your tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

__all__ = ["wait_for"]


def wait_for(predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.2,
             what: str = "condition") -> T:
    """Poll predicate until it returns something truthy; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as error:  # noqa: BLE001 - keep polling, report the last one
            last_error = error
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}") from last_error
        time.sleep(interval)
