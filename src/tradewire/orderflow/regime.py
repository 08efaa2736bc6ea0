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


class RegimeIndicator:
    """Volatility and trend regime from grid-sampled prices (module docs).

    The window sums (squared returns over ``short`` and ``long`` slots, absolute price changes over
    ``short`` slots) are kept incrementally, so closing a grid slot costs O(1); they are recomputed from
    the windows every ``long`` slots to keep float rounding from accumulating.

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
        "_end",
        "_last",
        "_moves",
        "_n_closed",
        "_path",
        "_prices",
        "_r2_long",
        "_r2_short",
        "_s2_long",
        "_s2_short",
        "_state",
        "confirm",
        "high_ratio",
        "interval_ns",
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
        if interval_ns <= 0:
            raise ValueError(f"interval_ns must be positive, got {interval_ns}")
        if not 2 <= short < long:
            raise ValueError(f"need 2 <= short < long, got {short}, {long}")
        if not 0 < low_ratio < 1 < high_ratio or not 0 < trend_er < 1:
            raise ValueError("need 0 < low_ratio < 1 < high_ratio and 0 < trend_er < 1")
        if confirm < 1:
            raise ValueError(f"confirm must be >= 1, got {confirm}")
        self.interval_ns = interval_ns
        self.short, self.long = short, long
        self.high_ratio, self.low_ratio, self.trend_er = high_ratio, low_ratio, trend_er
        self.confirm = confirm
        self._end: int | None = None
        self._last: float | None = None
        self._prices: deque[float] = deque(maxlen=short + 1)  # slot prices, for the efficiency ratio
        self._r2_long: deque[float] = deque()
        self._r2_short: deque[float] = deque()
        self._moves: deque[float] = deque()  # |P_i - P_{i-1}| over the short window
        self._s2_long = self._s2_short = self._path = 0.0
        self._n_closed = 0
        self._state: dict[str, Any] | None = None
        self._cand: tuple[str, str] | None = None
        self._cand_n = 0

    def _close_slot(self, price: float) -> None:
        prices = self._prices
        if prices:
            prev = prices[-1]
            r = math.log(price / prev)
            r2 = r * r
            mv = abs(price - prev)
            self._r2_long.append(r2)
            self._s2_long += r2
            if len(self._r2_long) > self.long:
                self._s2_long -= self._r2_long.popleft()
            self._r2_short.append(r2)
            self._s2_short += r2
            self._moves.append(mv)
            self._path += mv
            if len(self._r2_short) > self.short:
                self._s2_short -= self._r2_short.popleft()
                self._path -= self._moves.popleft()
        prices.append(price)
        self._n_closed += 1
        if self._n_closed % self.long == 0:  # bound float drift of the running sums
            self._s2_long = math.fsum(self._r2_long)
            self._s2_short = math.fsum(self._r2_short)
            self._path = math.fsum(self._moves)

    def update(self, ts: int, price: float) -> dict[str, Any] | None:
        """Feed a price at ``ts``; returns the new regime when it changed (else None)."""
        end = self._end
        if end is None:
            self._end = ts - ts % self.interval_ns + self.interval_ns
            self._last = price
            return None
        if ts < end:
            self._last = price
            return None
        closed = (ts - end) // self.interval_ns + 1
        last = self._last
        for _ in range(min(closed, self.long + 1)):  # quiet slots repeat the last price
            self._close_slot(last)
        self._end = end + closed * self.interval_ns
        self._last = price
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
        """Last reported regime with refreshed figures (None during warm-up)."""
        return self._state

    def compute(self) -> dict[str, Any] | None:
        """Regime from the current windows: ``{"volatility", "trend", "vol_ratio", "efficiency_ratio", "rv_short"}``."""
        if len(self._r2_long) < self.long:
            return None
        m_long = max(self._s2_long, 0.0) / self.long
        m_short = max(self._s2_short, 0.0) / self.short
        ratio = math.sqrt(m_short / m_long) if m_long > 0 else 1.0
        vol = "high" if ratio >= self.high_ratio else "low" if ratio <= self.low_ratio else "normal"
        p = self._prices
        move = p[-1] - p[0]
        path = self._path
        er = min(1.0, abs(move) / path) if path > 1e-12 * abs(p[-1]) else 0.0
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
