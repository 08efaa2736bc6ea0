"""One retry helper for every venue call: exponential backoff with full jitter, honouring the error class.

Delays follow "exponential backoff with full jitter" (M. Brooker, AWS Architecture Blog, "Exponential
Backoff And Jitter", 2015): before retry ``n`` (0-based) wait a uniform random time in
``[0, min(max_delay, base_delay * multiplier**n)]``. A :class:`~tradewire.venues.ccxt.errors.RateLimited`
error waits at least its ``retry_after``; a :class:`~tradewire.venues.ccxt.errors.ClockSkew` error runs the
caller's clock resync before retrying; permanent errors are raised at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tradewire.venues.ccxt.errors import ClockSkew, RateLimited, VenueError, classify

T = TypeVar("T")
_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry temporary errors.

    Parameters
    ----------
    max_attempts : int
        Total calls including the first (1 = no retry).
    base_delay, max_delay : float
        Seconds: the backoff cap grows from ``base_delay`` by ``multiplier`` per attempt up to ``max_delay``.
    multiplier : float
        Growth factor of the cap.
    """

    max_attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 10.0
    multiplier: float = 2.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_delay < 0 or self.max_delay < self.base_delay or self.multiplier < 1:
            raise ValueError(f"invalid RetryPolicy {self}")

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry ``attempt`` (0-based): full jitter under the exponential cap."""
        cap = min(self.max_delay, self.base_delay * self.multiplier**attempt)
        return cap * rand()


async def retry_async(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy = RetryPolicy(),
    *,
    what: str = "venue call",
    on_clock_skew: Callable[[], Awaitable[None]] | None = None,
    on_retry: Callable[[int, VenueError, float], None] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rand: Callable[[], float] = random.random,
) -> T:
    """Call ``call()`` until it succeeds, a permanent error occurs, or the attempts run out.

    Parameters
    ----------
    call : callable returning an awaitable
        The venue request (a fresh awaitable per attempt).
    policy : RetryPolicy
    what : str
        Used in log lines.
    on_clock_skew : async callable, optional
        Run after a :class:`ClockSkew` error before retrying (e.g. ``exchange.load_time_difference``).
    on_retry : callable(attempt, error, delay), optional
        Told about every retry (metrics, tests).
    sleep, rand : injectable for tests.

    Returns
    -------
    The call's result.

    Raises
    ------
    VenueError
        The classified error: at once for a permanent one, after ``policy.max_attempts`` for a temporary one
        (chained to the original ccxt exception).
    """
    attempt = 0
    while True:
        try:
            return await call()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every ccxt/transport error goes through classify
            err = classify(exc)
            if not err.temporary or attempt + 1 >= policy.max_attempts:
                if err is exc:
                    raise
                raise err from exc
            delay = policy.delay(attempt, rand)
            if isinstance(err, RateLimited) and err.retry_after:
                delay = max(delay, err.retry_after)
            if isinstance(err, ClockSkew) and on_clock_skew is not None:
                await on_clock_skew()
                delay = 0.0
            _log.warning("%s failed (%s: %s); retry %d in %.2f s", what, type(err).__name__, err.reason[:200],
                         attempt + 1, delay)  # fmt: skip
            if on_retry is not None:
                on_retry(attempt, err, delay)
            await sleep(delay)
            attempt += 1


__all__ = ["RetryPolicy", "retry_async"]
