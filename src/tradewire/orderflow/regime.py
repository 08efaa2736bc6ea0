"""Volatility/trend regime per instrument and a rolling return-correlation matrix across instruments.

Both sample prices on a fixed event-time grid (default every second, UTC-aligned): the price of a grid
slot is the last price seen before its end (forward-filled through quiet slots), and the returns are
log returns between consecutive slots.

Regime (:class:`RegimeIndicator`):

* **volatility**: realized volatility ``RV = sqrt(sum r_i^2)`` (Andersen & Bollerslev 1998, "Answering
  the skeptics", Int. Economic Review 39(4)) over the last ``short`` slots, compared with the long-run
  level over ``long`` slots, per slot: ``ratio = sqrt(mean_short(r^2) / mean_long(r^2))``;
  ``high`` if ``ratio >= high_ratio`` (1.5), ``low`` if ``ratio <= low_ratio`` (0.67), else ``normal``;
* **trend**: Kaufman's efficiency ratio (Kaufman 1995, "Smarter Trading", ch. 6)
  ``ER = |P_t - P_{t-n}| / sum |P_i - P_{i-1}|`` over the last ``short`` slots; ``up``/``down`` when
  ``ER >= trend_er`` (0.3) with the sign of the move, else ``range``.

Nothing is reported until ``long`` returns are known (warm-up). A new regime is reported only once it
has held for ``confirm`` consecutive grid steps (default 5), so a figure hovering at a bound does not
flip the regime every second.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np


class _Grid:
    """Forward-filled prices on a UTC-aligned grid."""

    __slots__ = ("_end", "_last", "interval_ns", "prices")

    def __init__(self, interval_ns: int, keep: int) -> None:
        if interval_ns <= 0:
            raise ValueError(f"interval_ns must be positive, got {interval_ns}")
        self.interval_ns = interval_ns
        self.prices: deque[float] = deque(maxlen=keep)
        self._end: int | None = None
        self._last: float | None = None

    def advance(self, ts: int) -> int:
        """Close every slot ending at or before ``ts``; returns how many slots closed."""
        end = self._end
        if end is None:
            self._end = ts - ts % self.interval_ns + self.interval_ns
            return 0
        if ts < end:
            return 0
        n = (ts - end) // self.interval_ns + 1
        if self._last is not None:
            for _ in range(min(n, self.prices.maxlen or n)):
                self.prices.append(self._last)
        self._end = end + n * self.interval_ns
        return n

    def set(self, price: float) -> None:
        self._last = price


class RegimeIndicator:
    """Volatility and trend regime from grid-sampled prices (module docs).

    Parameters
    ----------
    interval_ns : int
        Grid step (default 1 s).
    short, long : int
        Window lengths in grid steps (defaults 60 and 600).
    high_ratio, low_ratio : float
        Volatility-ratio bounds.
    trend_er : float
        Efficiency-ratio threshold for a trend.
    confirm : int
        Grid steps a new regime must hold before it is reported.
    """

    __slots__ = (
        "_cand",
        "_cand_n",
        "_grid",
        "_state",
        "confirm",
        "high_ratio",
        "long",
        "low_ratio",
        "short",
        "trend_er",
    )

    def __init__(
        self,
        interval_ns: int = 1_000_000_000,
        short: int = 60,
        long: int = 600,
        high_ratio: float = 1.5,
        low_ratio: float = 0.67,
        trend_er: float = 0.3,
        confirm: int = 5,
    ) -> None:
        if not 2 <= short < long:
            raise ValueError(f"need 2 <= short < long, got {short}, {long}")
        if not 0 < low_ratio < 1 < high_ratio or not 0 < trend_er < 1:
            raise ValueError("need 0 < low_ratio < 1 < high_ratio and 0 < trend_er < 1")
        self.short, self.long = short, long
        self.high_ratio, self.low_ratio, self.trend_er = high_ratio, low_ratio, trend_er
        self._grid = _Grid(interval_ns, long + 1)
        if confirm < 1:
            raise ValueError(f"confirm must be >= 1, got {confirm}")
        self.confirm = confirm
        self._state: dict[str, Any] | None = None
        self._cand: tuple[str, str] | None = None
        self._cand_n = 0

    def update(self, ts: int, price: float) -> dict[str, Any] | None:
        """Feed a price at ``ts``; returns the new regime when it changed (else None)."""
        g = self._grid
        closed = g.advance(ts)
        g.set(price)
        if not closed:
            return None
        st = self.compute()
        if st is None:
            return None
        key = (st["volatility"], st["trend"])
        prev = self._state
        if prev is not None and (prev["volatility"], prev["trend"]) == key:
            self._state = st  # same regime: refresh the figures
            self._cand, self._cand_n = None, 0
            return None
        if key == self._cand:
            self._cand_n += closed
        else:
            self._cand, self._cand_n = key, closed
        if self._cand_n >= self.confirm:
            self._state = st
            self._cand, self._cand_n = None, 0
            return st
        return None

    @property
    def state(self) -> dict[str, Any] | None:
        """Last computed regime (None during warm-up)."""
        return self._state

    def compute(self) -> dict[str, Any] | None:
        """Regime from the current grid: ``{"volatility", "trend", "vol_ratio", "efficiency_ratio", "rv_short"}``."""
        p = self._grid.prices
        if len(p) < self.long + 1:
            return None
        arr = np.log(np.fromiter(p, dtype=float, count=len(p)))
        r = np.diff(arr)
        r2 = r * r
        m_long = float(r2.mean())
        m_short = float(r2[-self.short :].mean())
        ratio = math.sqrt(m_short / m_long) if m_long > 0 else 1.0
        vol = "high" if ratio >= self.high_ratio else "low" if ratio <= self.low_ratio else "normal"
        seg = np.fromiter(p, dtype=float, count=len(p))[-(self.short + 1) :]
        path = float(np.abs(np.diff(seg)).sum())
        move = float(seg[-1] - seg[0])
        er = abs(move) / path if path > 0 else 0.0
        trend = ("up" if move > 0 else "down") if er >= self.trend_er else "range"
        return {
            "volatility": vol,
            "trend": trend,
            "vol_ratio": ratio,
            "efficiency_ratio": er,
            "rv_short": math.sqrt(m_short * self.short),
        }


class RollingCorrelation:
    """Pearson correlation of grid-sampled log returns across instruments over the last ``window`` steps.

    Parameters
    ----------
    interval_ns : int
        Grid step (default 1 s).
    window : int
        Returns per window (default 300).
    """

    __slots__ = ("_end", "_last", "interval_ns", "series", "window")

    def __init__(self, interval_ns: int = 1_000_000_000, window: int = 300) -> None:
        if interval_ns <= 0 or window < 3:
            raise ValueError("need interval_ns > 0 and window >= 3")
        self.interval_ns = interval_ns
        self.window = window
        self._last: dict[str, float] = {}
        self.series: dict[str, deque[float]] = {}
        self._end: int | None = None

    def update(self, key: str, ts: int, price: float) -> None:
        """Record ``price`` for instrument ``key`` at ``ts`` (closing grid slots that ended before ``ts``)."""
        end = self._end
        if end is None:
            self._end = ts - ts % self.interval_ns + self.interval_ns
        elif ts >= end:
            n = (ts - end) // self.interval_ns + 1
            for k, px in self._last.items():
                s = self.series.get(k)
                if s is None:
                    s = self.series[k] = deque(maxlen=self.window + 1)
                for _ in range(min(n, self.window + 1)):
                    s.append(px)
            self._end = end + n * self.interval_ns
        self._last[key] = price

    def matrix(self) -> tuple[list[str], list[list[float | None]]]:
        """``(keys, matrix)`` over the common tail of the series; None where a series is flat or too short."""
        keys = sorted(self.series)
        if not keys:
            return [], []
        n = min(len(self.series[k]) for k in keys)
        if n < 3:
            return keys, [[None] * len(keys) for _ in keys]
        rets = np.array([np.diff(np.log(np.array(self.series[k])[-n:])) for k in keys])
        out: list[list[float | None]] = []
        std = rets.std(axis=1)
        for i in range(len(keys)):
            row: list[float | None] = []
            for j in range(len(keys)):
                if std[i] == 0 or std[j] == 0:
                    row.append(None)
                else:
                    row.append(float(np.corrcoef(rets[i], rets[j])[0, 1]))
            out.append(row)
        return keys, out


__all__ = ["RegimeIndicator", "RollingCorrelation"]
