"""Polling helper for tests that watch a running process (a node, a local venue) from the outside."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(pred: Callable[[], T], timeout: float, what: str, step: float = 0.1) -> T:
    """Call ``pred`` every ``step`` seconds until it returns a truthy value, and return that value.

    Raises
    ------
    AssertionError
        When ``timeout`` seconds pass without a truthy value (the message names ``what``).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


__all__ = ["wait_for"]
