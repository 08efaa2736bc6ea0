"""Clocks: `TestClock` (simulated time) and `LiveClock` (wall time), with timers and alerts.

Nothing in tradewire reads the wall clock directly: components get time from a `Clock`, so the same
code runs exactly in a backtest. Times are UTC nanoseconds since the epoch.
"""

from __future__ import annotations

import heapq
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class TimeEvent:
    """A timer or alert firing: ``name``, the scheduled ``ts_event`` and ``ts_init`` (creation)."""

    name: str
    ts_event: int
    ts_init: int


TimerCallback = Callable[[TimeEvent], None]


class _Timer:
    __slots__ = ("callback", "interval_ns", "name", "next_ns", "stop_ns")

    def __init__(self, name: str, callback: TimerCallback, next_ns: int, interval_ns: int, stop_ns: int | None):
        self.name = name
        self.callback = callback
        self.next_ns = next_ns
        self.interval_ns = interval_ns  # 0 = one-shot alert
        self.stop_ns = stop_ns


class Clock(ABC):
    """Base clock: current time plus named timers and one-shot alerts."""

    def __init__(self) -> None:
        self._timers: dict[str, _Timer] = {}
        self._heap: list[tuple[int, int, str]] = []
        self._seq = 0

    @abstractmethod
    def timestamp_ns(self) -> int:
        """Current UTC time in ns."""

    def utc_now(self) -> datetime:
        """Current time as an aware UTC datetime."""
        ns = self.timestamp_ns()
        return datetime.fromtimestamp(ns // 1_000_000_000, tz=UTC).replace(microsecond=(ns // 1000) % 1_000_000)

    @property
    def timer_names(self) -> list[str]:
        """Names of active timers and alerts."""
        return sorted(self._timers)

    def set_time_alert(self, name: str, alert_time_ns: int, callback: TimerCallback) -> None:
        """Call ``callback`` once at ``alert_time_ns``. Raises ValueError if the name is in use."""
        self._add(_Timer(name, callback, alert_time_ns, 0, None))

    def set_timer(
        self, name: str, interval_ns: int, callback: TimerCallback, start_ns: int | None = None,
        stop_ns: int | None = None,
    ) -> None:  # fmt: skip
        """Call ``callback`` every ``interval_ns`` from ``start_ns + interval_ns`` until ``stop_ns``.

        Raises
        ------
        ValueError
            If ``interval_ns`` <= 0 or the name is in use.
        """
        if interval_ns <= 0:
            raise ValueError("interval_ns must be positive")
        start = self.timestamp_ns() if start_ns is None else start_ns
        self._add(_Timer(name, callback, start + interval_ns, interval_ns, stop_ns))

    def cancel_timer(self, name: str) -> None:
        """Cancel a timer or alert (no error if absent)."""
        self._timers.pop(name, None)

    def _add(self, timer: _Timer) -> None:
        if timer.name in self._timers:
            raise ValueError(f"timer {timer.name!r} already set")
        self._timers[timer.name] = timer
        self._seq += 1
        heapq.heappush(self._heap, (timer.next_ns, self._seq, timer.name))

    @property
    def next_time_ns(self) -> int | None:
        """When the next timer fires, or None."""
        while self._heap:
            ts, _, name = self._heap[0]
            t = self._timers.get(name)
            if t is not None and t.next_ns == ts:
                return ts
            heapq.heappop(self._heap)
        return None

    def _pop_due(self, until_ns: int) -> list[tuple[_Timer, TimeEvent]]:
        """Pop every firing due at or before ``until_ns`` in time order (rescheduling repeats)."""
        fired: list[tuple[_Timer, TimeEvent]] = []
        while True:
            ts = self.next_time_ns
            if ts is None or ts > until_ns:
                return fired
            _, _, name = heapq.heappop(self._heap)
            t = self._timers[name]
            fired.append((t, TimeEvent(name, ts, ts)))
            if t.interval_ns and (t.stop_ns is None or ts + t.interval_ns <= t.stop_ns):
                t.next_ns = ts + t.interval_ns
                self._seq += 1
                heapq.heappush(self._heap, (t.next_ns, self._seq, name))
            else:
                del self._timers[name]


class TestClock(Clock):
    """Simulated clock: time moves only by :meth:`set_time` / :meth:`advance_time`."""

    __test__: ClassVar[bool] = False  # not a pytest test class (ClassVar: a class attribute when compiled)

    def __init__(self, start_ns: int = 0) -> None:
        super().__init__()
        self._now = start_ns

    def timestamp_ns(self) -> int:
        """Current simulated time."""
        return self._now

    def set_time(self, ts_ns: int) -> None:
        """Jump to ``ts_ns`` without firing timers."""
        self._now = ts_ns

    def advance_time(self, to_ns: int, fire: bool = True) -> list[TimeEvent]:
        """Move to ``to_ns``, firing due timers in order (time set to each event's ts first).

        Raises
        ------
        ValueError
            If ``to_ns`` is earlier than now.
        """
        if to_ns < self._now:
            raise ValueError(f"cannot move time backwards ({to_ns} < {self._now})")
        events = []
        for timer, ev in self._pop_due(to_ns):
            self._now = ev.ts_event
            events.append(ev)
            if fire:
                timer.callback(ev)
        self._now = to_ns
        return events


class LiveClock(Clock):
    """Wall-clock time (``time.time_ns``). Timers fire from :meth:`run_due`, called by the node loop."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.RLock()

    def timestamp_ns(self) -> int:
        """Current UTC wall time in ns."""
        return time.time_ns()

    def run_due(self) -> list[TimeEvent]:
        """Fire every timer due now; return the events fired."""
        with self._lock:
            due = self._pop_due(time.time_ns())
        for timer, ev in due:
            timer.callback(ev)
        return [ev for _, ev in due]
