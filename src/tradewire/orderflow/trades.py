"""Trade-side order-flow metrics: aggressor classification, cumulative volume delta, VWAP, volume profile.

All state holds exact fixed-point raws (scale 10**9, see :mod:`tradewire.model.objects`): volumes and
deltas are ``int`` sums of ``Quantity.raw``; ``sum(price_raw * size_raw)`` is an exact ``int`` at scale
10**18. Floats appear only in ratios and statistics (standard deviations).

Aggressor side
--------------
When the feed says who the taker was (Binance ``m``, Databento ``side``), that side is used
(:attr:`Classification.AGGRESSOR`). Otherwise:

* **quote rule / Lee-Ready** (Lee & Ready 1991, "Inferring Trade Direction from Intraday Data",
  J. Finance 46(2)): a trade above the prevailing mid is a buy, below is a sell; a trade at the mid
  falls back to the tick rule. Used when a two-sided quote is known (:attr:`Classification.LEE_READY`).
  The 5-second quote lag of the 1991 paper was a correction for 1988 NYSE reporting delays and is not
  applied to modern feeds whose quotes and trades share one clock (Bessembinder 2003).
* **tick rule**: up-tick or zero-up-tick (last different price was lower) is a buy, down-tick or
  zero-down-tick a sell (:attr:`Classification.TICK`). The very first trade, with no earlier price,
  is :attr:`Classification.UNKNOWN` and counted as neutral volume (in totals, not in the delta).
"""

from __future__ import annotations

import math
from collections import deque
from decimal import Decimal

from tradewire.model.enums import AggressorSide, StrEnum
from tradewire.model.objects import FIXED_SCALAR

BUY = 1
SELL = -1
NEUTRAL = 0
_SCALE = Decimal(FIXED_SCALAR)


class Classification(StrEnum):
    """How a trade's side was determined."""

    AGGRESSOR = "aggressor"
    LEE_READY = "lee_ready"
    TICK = "tick"
    UNKNOWN = "unknown"


class TradeClassifier:
    """Signed side (+1 buy, -1 sell, 0 unknown) for each trade, and the method used.

    Attributes
    ----------
    counts : dict[Classification, int]
        Trades classified by each method.
    """

    __slots__ = ("_last_px", "_last_sign", "counts")

    def __init__(self) -> None:
        self._last_px: int | None = None
        self._last_sign = NEUTRAL  # sign of the last non-zero price change
        self.counts = {c: 0 for c in Classification}

    def tick_rule(self, price_raw: int) -> int:
        """Sign by the tick rule, updating the price history. 0 before any price change is seen."""
        last = self._last_px
        if last is not None and price_raw != last:
            self._last_sign = BUY if price_raw > last else SELL
        self._last_px = price_raw
        return self._last_sign

    def classify(
        self, price_raw: int, aggressor: AggressorSide, bid_raw: int | None = None, ask_raw: int | None = None
    ) -> tuple[int, Classification]:
        """Classify one trade.

        Parameters
        ----------
        price_raw : int
            Trade price raw.
        aggressor : AggressorSide
            The feed's aggressor side; ``NO_AGGRESSOR`` triggers inference.
        bid_raw, ask_raw : int | None
            Prevailing best bid/ask raws (before this trade) for the quote rule; None if unknown.

        Returns
        -------
        (sign, method) : tuple[int, Classification]
        """
        tick = self.tick_rule(price_raw)
        if aggressor is AggressorSide.BUYER:
            method, sign = Classification.AGGRESSOR, BUY
        elif aggressor is AggressorSide.SELLER:
            method, sign = Classification.AGGRESSOR, SELL
        elif bid_raw is not None and ask_raw is not None and bid_raw < ask_raw:
            twice = 2 * price_raw
            mid2 = bid_raw + ask_raw
            if twice > mid2:
                method, sign = Classification.LEE_READY, BUY
            elif twice < mid2:
                method, sign = Classification.LEE_READY, SELL
            elif tick:
                method, sign = Classification.TICK, tick
            else:
                method, sign = Classification.UNKNOWN, NEUTRAL
        elif tick:
            method, sign = Classification.TICK, tick
        else:
            method, sign = Classification.UNKNOWN, NEUTRAL
        self.counts[method] += 1
        return sign, method


class CumulativeDelta:
    """Cumulative volume delta (buy volume minus sell volume), per session and over a rolling window.

    Parameters
    ----------
    window_ns : int
        Rolling window length in ns (default 60 s).

    Attributes
    ----------
    session_raw : int
        Session CVD, raw size units (resets with :meth:`reset_session`).
    buy_raw, sell_raw, neutral_raw : int
        Session aggressive buy / sell volume and unclassified volume.
    rolling_raw : int
        CVD over the trades of the last ``window_ns`` (relative to the latest trade's time).
    rolling_buy_raw, rolling_sell_raw : int
        Buy / sell volume over the same window.
    """

    __slots__ = (
        "_win",
        "buy_raw",
        "neutral_raw",
        "rolling_buy_raw",
        "rolling_raw",
        "rolling_sell_raw",
        "sell_raw",
        "session_raw",
        "window_ns",
    )

    def __init__(self, window_ns: int = 60_000_000_000) -> None:
        if window_ns <= 0:
            raise ValueError(f"window_ns must be positive, got {window_ns}")
        self.window_ns = window_ns
        self._win: deque[tuple[int, int]] = deque()  # (ts, signed size raw)
        self.session_raw = self.buy_raw = self.sell_raw = self.neutral_raw = 0
        self.rolling_raw = self.rolling_buy_raw = self.rolling_sell_raw = 0

    def update(self, ts: int, sign: int, size_raw: int) -> None:
        """Add one classified trade (``sign`` +1/-1/0) at time ``ts`` (ns)."""
        if sign > 0:
            self.buy_raw += size_raw
            self.session_raw += size_raw
            self.rolling_buy_raw += size_raw
            self._win.append((ts, size_raw))
        elif sign < 0:
            self.sell_raw += size_raw
            self.session_raw -= size_raw
            self.rolling_sell_raw += size_raw
            self._win.append((ts, -size_raw))
        else:
            self.neutral_raw += size_raw
        self.rolling_raw += sign * size_raw
        self.expire(ts)

    def expire(self, now: int) -> None:
        """Drop trades older than ``now - window_ns`` from the rolling figures."""
        win = self._win
        cut = now - self.window_ns
        while win and win[0][0] <= cut:
            _, s = win.popleft()
            self.rolling_raw -= s
            if s > 0:
                self.rolling_buy_raw -= s
            else:
                self.rolling_sell_raw += s

    def reset_session(self) -> None:
        """Start a new session (the rolling window is kept)."""
        self.session_raw = self.buy_raw = self.sell_raw = self.neutral_raw = 0


class Vwap:
    """Session VWAP with volume-weighted standard-deviation bands.

    ``VWAP = sum(p_i q_i) / sum(q_i)``; ``sigma^2 = sum(q_i p_i^2) / sum(q_i) - VWAP^2`` (the volume-weighted
    variance of traded prices around the VWAP, as in the common "VWAP standard deviation bands"). The sums
    are exact integers; VWAP is returned as an exact ``Decimal``, sigma and bands as floats (statistics).
    """

    __slots__ = ("ppq_raw", "pq_raw", "q_raw")

    def __init__(self) -> None:
        self.pq_raw = 0  # sum p*q, scale 1e18
        self.ppq_raw = 0  # sum p*p*q, scale 1e27
        self.q_raw = 0

    def update(self, price_raw: int, size_raw: int) -> None:
        """Add a trade."""
        pq = price_raw * size_raw
        self.pq_raw += pq
        self.ppq_raw += pq * price_raw
        self.q_raw += size_raw

    def reset(self) -> None:
        """Start a new session."""
        self.pq_raw = self.ppq_raw = self.q_raw = 0

    @property
    def vwap(self) -> Decimal | None:
        """Exact VWAP in price units, None before the first trade."""
        return None if not self.q_raw else Decimal(self.pq_raw) / Decimal(self.q_raw) / _SCALE

    @property
    def std(self) -> float | None:
        """Volume-weighted standard deviation of prices, price units (None before the first trade)."""
        q = self.q_raw
        if not q:
            return None
        # exact integer numerator: q * sum(p^2 q) - (sum p q)^2, scale 1e36 after dividing by q^2
        num = q * self.ppq_raw - self.pq_raw * self.pq_raw
        var = num / (q * q) / 1e18 if num > 0 else 0.0
        return math.sqrt(var)

    def bands(self, ks: tuple[float, ...] = (1.0, 2.0, 3.0)) -> dict[str, float] | None:
        """``{"vwap": v, "upper_1": v + 1 sigma, "lower_1": v - 1 sigma, ...}`` as floats, None if no trade."""
        v = self.vwap
        s = self.std
        if v is None or s is None:
            return None
        fv = float(v)
        out = {"vwap": fv, "std": s}
        for k in ks:
            tag = f"{k:g}"
            out[f"upper_{tag}"] = fv + k * s
            out[f"lower_{tag}"] = fv - k * s
        return out


class VolumeProfile:
    """Traded volume per price row for a session: point of control and the 70% value area.

    Parameters
    ----------
    row_raw : int
        Row height as a price raw (e.g. the tick size, or a coarser bucket); a trade at price ``p`` falls
        in row ``floor(p / row) * row``.
    """

    __slots__ = ("row_raw", "rows", "total_raw")

    def __init__(self, row_raw: int) -> None:
        if row_raw <= 0:
            raise ValueError(f"row_raw must be positive, got {row_raw}")
        self.row_raw = row_raw
        self.rows: dict[int, int] = {}
        self.total_raw = 0

    def update(self, price_raw: int, size_raw: int) -> None:
        """Add a trade's volume to its row."""
        r = price_raw - price_raw % self.row_raw
        rows = self.rows
        rows[r] = rows.get(r, 0) + size_raw
        self.total_raw += size_raw

    def reset(self) -> None:
        """Start a new session."""
        self.rows.clear()
        self.total_raw = 0

    def poc(self) -> int | None:
        """Point of control: the row price raw with the most volume (ties: the lowest price); None if empty."""
        if not self.rows:
            return None
        return min(self.rows.items(), key=lambda kv: (-kv[1], kv[0]))[0]

    def value_area(self, fraction: float = 0.70) -> tuple[int, int, int] | None:
        """Value area ``(val_raw, vah_raw, volume_raw)`` holding at least ``fraction`` of the volume.

        The CBOT Market Profile procedure (CBOT, "Market Profile" handbook, 1984/1991): start at the POC;
        repeatedly compare the volume of the next two rows above the area with the next two rows below
        (empty rows count as 0) and add the larger pair (ties go up); stop once the area holds at least
        ``fraction`` of the session volume. Rows are the ``row_raw`` grid, so missing prices inside the
        traded range are empty rows.

        Returns
        -------
        (val_raw, vah_raw, volume_raw) or None if no volume
            Lowest and highest row price raws of the area and the volume inside it.

        Raises
        ------
        ValueError
            If ``fraction`` is not in (0, 1].
        """
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction}")
        poc = self.poc()
        if poc is None:
            return None
        rows, step = self.rows, self.row_raw
        lo_row, hi_row = min(rows), max(rows)
        target = math.ceil(self.total_raw * fraction)
        lo = hi = poc
        vol = rows[poc]
        while vol < target and (lo > lo_row or hi < hi_row):
            up = [hi + step * i for i in (1, 2) if hi + step * i <= hi_row]
            dn = [lo - step * i for i in (1, 2) if lo - step * i >= lo_row]
            vu = sum(rows.get(p, 0) for p in up)
            vd = sum(rows.get(p, 0) for p in dn)
            if up and (not dn or vu >= vd):
                hi = up[-1]
                vol += vu
            else:
                lo = dn[-1]
                vol += vd
        return lo, hi, vol


__all__ = ["BUY", "NEUTRAL", "SELL", "Classification", "CumulativeDelta", "TradeClassifier", "VolumeProfile", "Vwap"]
