"""`WeightRateLimiter`: one request-weight budget per venue connection, shared by data and execution.

Binance (and most venues) count *request weight* per IP in a rolling window (Binance Spot API docs,
"LIMITS": ``REQUEST_WEIGHT`` 6000 per minute, every answer reports the count in
``X-MBX-USED-WEIGHT-1M``; exceeding it answers HTTP 429 with ``Retry-After``, repeated abuse HTTP 418).
The limiter keeps a local estimate of the weight spent in the window, corrects it upward with the venue's
own count whenever an answer reports one, and blocks every caller until ``Retry-After`` has passed after a
429/418. Requests wait in :meth:`acquire` while the estimate plus the request's weight would exceed
``headroom * limit``. ccxt's own token bucket (``enableRateLimit``) stays on underneath.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any


class WeightRateLimiter:
    """Rolling-window request-weight limiter.

    Parameters
    ----------
    limit : int
        Weight allowed per window (Binance spot: 6000 per minute).
    window_s : float
        Window length in seconds.
    headroom : float
        Fraction of ``limit`` this process allows itself (leaves room for other clients of the same IP).
    used_weight_header : str
        Header carrying the venue's count (case-insensitive).
    clock : callable
        Monotonic seconds (injectable for tests).

    Raises
    ------
    ValueError
        If ``limit`` or ``window_s`` is not positive or ``headroom`` not in (0, 1].
    """

    def __init__(
        self,
        limit: int = 6000,
        window_s: float = 60.0,
        headroom: float = 0.9,
        used_weight_header: str = "X-MBX-USED-WEIGHT-1M",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit <= 0 or window_s <= 0 or not 0 < headroom <= 1:
            raise ValueError(f"invalid limiter settings limit={limit} window_s={window_s} headroom={headroom}")
        self.limit = limit
        self.window_s = window_s
        self.headroom = headroom
        self.header = used_weight_header.lower()
        self.clock = clock
        self._spent: deque[tuple[float, float]] = deque()
        self._venue_used: float | None = None
        self._venue_at = 0.0
        self.blocked_until = 0.0
        self.waits = 0
        self.rate_limited = 0

    def _expire(self, now: float) -> None:
        while self._spent and now - self._spent[0][0] >= self.window_s:
            self._spent.popleft()
        if self._venue_used is not None and now - self._venue_at >= self.window_s:
            self._venue_used = None

    def used(self) -> float:
        """Estimated weight used in the current window (max of the local count and the venue's last report)."""
        now = self.clock()
        self._expire(now)
        local = sum(w for _, w in self._spent)
        if self._venue_used is None:
            return local
        since = sum(w for t, w in self._spent if t > self._venue_at)
        return max(local, self._venue_used + since)

    def wait_time(self, weight: float) -> float:
        """Seconds until a request of ``weight`` may go (0 = now)."""
        now = self.clock()
        if now < self.blocked_until:
            return self.blocked_until - now
        budget = self.limit * self.headroom
        if self.used() + weight <= budget or not self._spent:
            return 0.0
        return max(0.0, self._spent[0][0] + self.window_s - now)

    async def acquire(self, weight: float = 1.0) -> None:
        """Wait until ``weight`` fits the budget, then book it."""
        while (delay := self.wait_time(weight)) > 0:
            self.waits += 1
            await asyncio.sleep(min(delay, 1.0))
        self._spent.append((self.clock(), float(weight)))

    def observe(self, status: int, headers: Mapping[str, Any]) -> None:
        """Read the venue's weight count and, on 429/418, its ``Retry-After`` from one HTTP answer."""
        now = self.clock()
        for k, v in headers.items():
            lk = k.lower()
            if lk == self.header:
                with contextlib.suppress(ValueError):
                    self._venue_used, self._venue_at = float(v), now
            elif lk == "retry-after" and status in (418, 429):
                with contextlib.suppress(ValueError):
                    self.blocked_until = max(self.blocked_until, now + float(v))
        if status in (418, 429):
            self.rate_limited += 1
            if self.blocked_until <= now:
                self.blocked_until = now + 1.0

    def retry_after(self) -> float | None:
        """Seconds left of a venue-imposed pause, None if none is active."""
        left = self.blocked_until - self.clock()
        return left if left > 0 else None

    def headroom_report(self) -> dict[str, float]:
        """``{"limit", "used", "remaining", "remaining_pct"}`` for status pages and ``connections test``."""
        used = self.used()
        return {"limit": float(self.limit), "used": used, "remaining": self.limit - used,
                "remaining_pct": round(100 * (self.limit - used) / self.limit, 2)}  # fmt: skip


__all__ = ["WeightRateLimiter"]
