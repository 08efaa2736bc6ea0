"""Token-bucket rate limiting on an injected clock, in exact integer arithmetic.

A bucket holds at most ``burst`` tokens and refills at ``rate_per_s`` tokens per second; each request
takes one token (Turner, "New directions in communications", 1986; the classic token bucket). The
state is kept in integers scaled by the rate's denominator so that no refill is lost to rounding.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

_NS = 1_000_000_000


class TokenBucket:
    """A thread-safe token bucket.

    Parameters
    ----------
    rate_per_s : Decimal | int
        Refill rate in tokens per second (> 0).
    burst : int
        Capacity in tokens (>= 1); the bucket starts full.
    now_ns : Callable[[], int]
        Time source in ns (e.g. ``clock.timestamp_ns``).

    Raises
    ------
    ValueError
        If the rate is not positive or the burst is below 1.
    """

    __slots__ = ("_cap", "_cost", "_den", "_last", "_lock", "_now", "_num", "_tokens")

    def __init__(self, rate_per_s: Decimal | int, burst: int, now_ns: Callable[[], int]) -> None:
        rate = Decimal(rate_per_s)
        if not rate.is_finite() or rate <= 0 or burst < 1:
            raise ValueError(f"rate_per_s must be > 0 and burst >= 1 (got {rate_per_s}, {burst})")
        num, den = rate.as_integer_ratio()
        self._num, self._den = num, den  # tokens per ns = num / (den * 1e9)
        self._cost = _NS * den  # one token, in scaled units (token * 1e9 * den)
        self._cap = burst * self._cost
        self._tokens = self._cap
        self._now = now_ns
        self._last = now_ns()
        self._lock = threading.Lock()

    def try_acquire(self) -> tuple[bool, int]:
        """Take one token if available.

        Returns
        -------
        (bool, int)
            ``(True, 0)`` when allowed; ``(False, retry_after_s)`` otherwise, where ``retry_after_s``
            is the whole number of seconds (>= 1, rounded up) until a token is available.
        """
        with self._lock:
            now = self._now()
            if now > self._last:
                self._tokens = min(self._cap, self._tokens + (now - self._last) * self._num)
                self._last = now
            if self._tokens >= self._cost:
                self._tokens -= self._cost
                return True, 0
            missing = self._cost - self._tokens
            wait_ns = -(-missing // self._num)
            return False, max(1, -(-wait_ns // _NS))

    @property
    def tokens(self) -> Decimal:
        """Tokens currently available (as of the last acquire), exact."""
        return Decimal(self._tokens) / Decimal(self._cost)
