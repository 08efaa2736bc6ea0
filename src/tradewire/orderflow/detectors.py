"""Order-flow signal detectors: large order, absorption, exhaustion, imbalance, iceberg.

Each detector is incremental and per instrument; it returns ``(strength, price_raw, details)`` when its
pattern completes (the engine turns that into an :class:`~tradewire.orderflow.signals.OrderFlowSignal`),
else None. Strength sign: + bullish, - bearish; ``|strength| = figure / threshold >= 1``.
Definitions and defaults (all parameters are constructor arguments):

**Large order** (:class:`LargeOrderDetector`). *Trades*: consecutive trades with the same ``ts_event``
and aggressor side are one aggressive order (a market order that walks several makers prints several
trades at one matching-engine time). It is large when its size exceeds the ``quantile`` (0.99) of the
last ``window`` (1,000) aggressive orders, once ``min_samples`` (200) are known; nearest-rank quantile.
Fires once per aggressive order, signed by the aggressor. *Resting*: a single level whose size grows by
more than ``z`` (4.0) standard deviations above the mean of the last ``resting_window`` (2,000) level
increases seen within ``near_bps`` (10 bp) of the mid; bid side bullish, ask side bearish. (The
rolling-quantile / z-score outlier rule is the usual definition in the order-flow literature, e.g.
Easley, Lopez de Prado & O'Hara 2012 use volume outliers; the thresholds here are tradewire defaults.)

**Absorption** (:class:`AbsorptionDetector`). Aggressive selling at one bid price ``p`` (or buying at one
ask price) within ``window_ns`` (10 s) of the first hit, totalling at least ``volume_multiple`` (10) times
the exponentially weighted mean aggressive-order size (span 500 orders) over at least ``min_trades`` (5)
trades, while no trade printed through ``p`` (below it for bids, above for asks) and at least
``min_hold_ns`` (1 s) passed since the first hit. Bid absorption is bullish (sellers absorbed), ask
absorption bearish. Fires once per episode; an episode ends when a trade prints through the level,
another price is hit on that side, or the window expires.

**Exhaustion** (:class:`ExhaustionDetector`), on each closed footprint bar. The bar makes a new
``lookback``-bar (10) high and (a) the buy-aggressor volume in the bar's top row is at most
``fade_ratio`` (0.25) of the bar's mean buy volume per row (aggression fading at the extreme) and (b) the
session CVD at the bar's close is below the CVD at the close of the bar that set the previous high
(delta divergence). Bearish; the mirror image at a new low is bullish. ``require_both=False`` fires on
either condition.

**Imbalance** (:class:`ImbalanceDetector`). *Depth*: the top-``N`` depth imbalance stays at or above
``threshold`` (0.6) in absolute value, with the same sign, for ``min_duration_ns`` (1 s) of event time.
*Volume*: over a rolling ``window_ns`` (10 s), ``(buy - sell) / (buy + sell)`` of aggressive volume is at
or above ``threshold`` in absolute value with at least ``min_trades`` (20) trades in the window. Each fires
once per episode and re-arms when the figure falls below ``exit_threshold`` (0.3) (hysteresis).

**Iceberg** (:class:`IcebergDetector`). A refill is a book update of a level that was traded against
since its previous update and now shows more than ``previous size - traded volume`` (the displayed size
came back). A level is reported as an iceberg when it has been refilled at least ``min_refills`` (3)
times and the volume traded against it exceeds ``hidden_ratio`` (1.0) times the largest size it ever
displayed, before it disappears from the book. Bid icebergs are bullish (hidden buyer), ask icebergs
bearish. (Refill detection after prints is the standard L2 iceberg heuristic, e.g. Frey & Sandas 2017,
"The impact of iceberg orders in limit order books", Quarterly Journal of Finance 7(3).)
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from sortedcontainers import SortedList

from tradewire.orderflow.footprint import FootprintBar
from tradewire.orderflow.trades import CumulativeDelta

Detection = tuple[float, int | None, dict[str, Any]]
BID, ASK = 1, 2


class LargeOrderDetector:
    """Large aggressive orders (rolling quantile) and large resting size increases (rolling z-score)."""

    __slots__ = (
        "_cur_fired",
        "_cur_key",
        "_cur_size",
        "_r_n",
        "_r_sum",
        "_r_sum2",
        "_r_win",
        "_sizes",
        "_win",
        "min_samples",
        "near_bps",
        "quantile",
        "resting_min_samples",
        "resting_window",
        "window",
        "z",
    )

    def __init__(
        self,
        window: int = 1000,
        quantile: float = 0.99,
        min_samples: int = 200,
        z: float = 4.0,
        resting_window: int = 2000,
        resting_min_samples: int = 200,
        near_bps: float = 10.0,
    ) -> None:
        if not 0 < quantile < 1 or window < 2 or min_samples < 2 or z <= 0:
            raise ValueError("need 0 < quantile < 1, window >= 2, min_samples >= 2, z > 0")
        self.window, self.quantile, self.min_samples, self.z = window, quantile, min_samples, z
        self.resting_window, self.resting_min_samples, self.near_bps = resting_window, resting_min_samples, near_bps
        self._sizes = SortedList()
        self._win: deque[int] = deque()
        self._cur_key: tuple[int, int] | None = None
        self._cur_size = 0
        self._cur_fired = False
        self._r_win: deque[float] = deque()
        self._r_n = 0
        self._r_sum = 0.0
        self._r_sum2 = 0.0

    def threshold_raw(self) -> int | None:
        """Current size threshold (nearest-rank quantile of the window), None while warming up."""
        n = len(self._sizes)
        if n < self.min_samples:
            return None
        return self._sizes[min(n - 1, math.ceil(self.quantile * n) - 1)]

    def _push(self, size: int) -> None:
        self._sizes.add(size)
        self._win.append(size)
        if len(self._win) > self.window:
            self._sizes.remove(self._win.popleft())

    def on_trade(self, ts: int, price_raw: int, size_raw: int, sign: int) -> Detection | None:
        """Feed one classified trade; returns a detection when its aggressive order crosses the threshold."""
        key = (ts, sign)
        if key != self._cur_key:
            if self._cur_key is not None:
                self._push(self._cur_size)
            self._cur_key = key
            self._cur_size = 0
            self._cur_fired = False
        self._cur_size += size_raw
        if self._cur_fired:
            return None
        thr = self.threshold_raw()
        if thr is None or self._cur_size <= thr:
            return None
        self._cur_fired = True
        ratio = self._cur_size / thr
        side = "buy" if sign > 0 else "sell" if sign < 0 else "unknown"
        return (
            ratio * (sign or 1),
            price_raw,
            {
                "source": "trade",
                "side": side,
                "size_raw": self._cur_size,
                "threshold_raw": thr,
                "quantile": self.quantile,
            },
        )

    def on_level_increase(self, side: int, price_raw: int, increase_raw: int, mid2_raw: int) -> Detection | None:
        """Feed a level's size increase (raw) near the touch; returns a detection for an outlier."""
        mid2 = mid2_raw
        if abs(2 * price_raw - mid2) * 1e4 > self.near_bps * mid2:
            return None
        x = float(increase_raw)
        n = self._r_n
        out = None
        if n >= self.resting_min_samples:
            mean = self._r_sum / n
            var = self._r_sum2 / n - mean * mean
            if var > 0:
                zs = (x - mean) / math.sqrt(var)
                if zs >= self.z:
                    out = (
                        (zs / self.z) * (1 if side == BID else -1),
                        price_raw,
                        {
                            "source": "resting",
                            "side": "bid" if side == BID else "ask",
                            "size_raw": increase_raw,
                            "zscore": zs,
                        },
                    )
        self._r_win.append(x)
        self._r_n += 1
        self._r_sum += x
        self._r_sum2 += x * x
        if self._r_n > self.resting_window:
            old = self._r_win.popleft()
            self._r_n -= 1
            self._r_sum -= old
            self._r_sum2 -= old * old
        return out


class _Episode:
    __slots__ = ("fired", "n", "price", "start", "volume")

    def __init__(self, price: int, start: int, volume: int) -> None:
        self.price, self.start, self.volume, self.n, self.fired = price, start, volume, 1, False


class AbsorptionDetector:
    """Heavy aggression at one price that fails to move price through it (module docs)."""

    __slots__ = (
        "_alpha",
        "_ask",
        "_bid",
        "_cur_size",
        "_last_key",
        "_mean",
        "min_hold_ns",
        "min_trades",
        "volume_multiple",
        "window_ns",
    )

    def __init__(
        self,
        window_ns: int = 10_000_000_000,
        volume_multiple: float = 10.0,
        min_trades: int = 5,
        min_hold_ns: int = 1_000_000_000,
        span: int = 500,
    ) -> None:
        if window_ns <= 0 or volume_multiple <= 0 or min_trades < 1 or span < 1:
            raise ValueError("need window_ns > 0, volume_multiple > 0, min_trades >= 1, span >= 1")
        self.window_ns, self.volume_multiple, self.min_trades, self.min_hold_ns = (
            window_ns,
            volume_multiple,
            min_trades,
            min_hold_ns,
        )
        self._alpha = 2.0 / (span + 1)
        self._mean: float | None = None
        self._bid: _Episode | None = None  # sellers hitting one bid price
        self._ask: _Episode | None = None  # buyers lifting one ask price
        self._last_key: tuple[int, int] | None = None
        self._cur_size = 0

    def on_trade(self, ts: int, price_raw: int, size_raw: int, sign: int) -> Detection | None:
        """Feed one classified trade."""
        # mean aggressive-order size: fills sharing (ts_event, side) are one order; an order enters the
        # mean once it is complete (the next trade has another time or side)
        key = (ts, sign)
        if key != self._last_key:
            done = self._cur_size
            if done:
                m = self._mean
                self._mean = float(done) if m is None else m + self._alpha * (done - m)
            self._last_key = key
            self._cur_size = 0
        self._cur_size += size_raw
        bid, ask = self._bid, self._ask
        if bid is not None and (price_raw < bid.price or ts - bid.start > self.window_ns):
            bid = self._bid = None
        if ask is not None and (price_raw > ask.price or ts - ask.start > self.window_ns):
            ask = self._ask = None
        if sign < 0:
            if bid is None or price_raw != bid.price:
                bid = self._bid = _Episode(price_raw, ts, size_raw)
            else:
                bid.volume += size_raw
                bid.n += 1
        elif sign > 0:
            if ask is None or price_raw != ask.price:
                ask = self._ask = _Episode(price_raw, ts, size_raw)
            else:
                ask.volume += size_raw
                ask.n += 1
        if self._mean is None:
            return None
        thr = self.volume_multiple * self._mean
        for ep, direction, name in ((bid, 1, "bid"), (ask, -1, "ask")):
            if (
                ep is not None
                and not ep.fired
                and ep.n >= self.min_trades
                and ep.volume >= thr
                and ts - ep.start >= self.min_hold_ns
            ):
                ep.fired = True
                return (
                    direction * ep.volume / thr,
                    ep.price,
                    {
                        "side": name,
                        "volume_raw": ep.volume,
                        "trades": ep.n,
                        "threshold_raw": int(thr),
                        "held_ns": ts - ep.start,
                    },
                )
        return None


class ExhaustionDetector:
    """Fading aggression at a new bar extreme with CVD divergence (module docs)."""

    __slots__ = ("_hist", "fade_ratio", "lookback", "require_both")

    def __init__(self, lookback: int = 10, fade_ratio: float = 0.25, require_both: bool = True) -> None:
        if lookback < 1 or not 0 < fade_ratio < 1:
            raise ValueError("need lookback >= 1 and 0 < fade_ratio < 1")
        self.lookback, self.fade_ratio, self.require_both = lookback, fade_ratio, require_both
        self._hist: deque[tuple[int, int, int]] = deque(maxlen=lookback)  # (high, low, cvd_close)

    def on_bar(self, bar: FootprintBar) -> Detection | None:
        """Feed a closed footprint bar."""
        hist = self._hist
        out = None
        if len(hist) == self.lookback:
            hi_i = max(range(len(hist)), key=lambda i: (hist[i][0], i))
            lo_i = min(range(len(hist)), key=lambda i: (hist[i][1], -i))
            step = bar.row_raw
            if bar.high_raw > hist[hi_i][0]:
                out = self._check(
                    bar, bar.high_raw - bar.high_raw % step, 1, bar.cvd_close_raw < hist[hi_i][2], hist[hi_i][2], -1
                )
            elif bar.low_raw < hist[lo_i][1]:
                out = self._check(
                    bar, bar.low_raw - bar.low_raw % step, 0, bar.cvd_close_raw > hist[lo_i][2], hist[lo_i][2], 1
                )
        hist.append((bar.high_raw, bar.low_raw, bar.cvd_close_raw))
        return out

    def _check(self, bar: FootprintBar, row: int, col: int, divergence: bool, ref_cvd: int, direction: int):
        vols = [c[col] for c in bar.rows.values()]
        mean = sum(vols) / len(vols)
        edge = bar.rows[row][col]
        limit = self.fade_ratio * mean
        fade = mean > 0 and edge <= limit
        ok = (fade and divergence) if self.require_both else (fade or divergence)
        if not ok:
            return None
        figure = min(10.0, limit / edge) if (fade and edge) else (10.0 if fade else 1.0)
        return (
            direction * max(1.0, figure),
            row,
            {
                "extreme": "high" if direction < 0 else "low",
                "fade": fade,
                "divergence": divergence,
                "edge_volume_raw": edge,
                "mean_row_volume_raw": int(mean),
                "cvd_raw": bar.cvd_close_raw,
                "reference_cvd_raw": ref_cvd,
            },
        )


class _Hysteresis:
    __slots__ = ("dir", "fired", "start")

    def __init__(self) -> None:
        self.start: int | None = None
        self.dir = 0
        self.fired = False


class ImbalanceDetector:
    """Sustained depth imbalance and rolling aggressive-volume imbalance (module docs)."""

    __slots__ = ("_depth", "_flow", "_vol", "exit_threshold", "min_duration_ns", "min_trades", "threshold")

    def __init__(
        self,
        threshold: float = 0.6,
        exit_threshold: float = 0.3,
        min_duration_ns: int = 1_000_000_000,
        window_ns: int = 10_000_000_000,
        min_trades: int = 20,
    ) -> None:
        if not 0 <= exit_threshold < threshold <= 1:
            raise ValueError(f"need 0 <= exit_threshold < threshold <= 1, got {exit_threshold}, {threshold}")
        self.threshold, self.exit_threshold = threshold, exit_threshold
        self.min_duration_ns, self.min_trades = min_duration_ns, min_trades
        self._depth = _Hysteresis()
        self._vol = _Hysteresis()
        self._flow = CumulativeDelta(window_ns)

    def _step(self, h: _Hysteresis, ts: int, x: float, min_ns: int) -> bool:
        a = abs(x)
        if a < self.exit_threshold:
            h.start, h.dir, h.fired = None, 0, False
            return False
        if a < self.threshold:
            if not h.fired:
                h.start, h.dir = None, 0
            return False
        d = 1 if x > 0 else -1
        if d != h.dir:
            h.start, h.dir, h.fired = ts, d, False
        if not h.fired and ts - h.start >= min_ns:
            h.fired = True
            return True
        return False

    def on_depth(self, ts: int, imbalance: float) -> Detection | None:
        """Feed the top-N depth imbalance after a book batch."""
        if self._step(self._depth, ts, imbalance, self.min_duration_ns):
            return (
                imbalance / self.threshold,
                None,
                {"source": "depth", "imbalance": imbalance, "held_ns": ts - self._depth.start},
            )
        return None

    def on_trade(self, ts: int, price_raw: int, size_raw: int, sign: int) -> Detection | None:
        """Feed a classified trade (volume imbalance over the rolling window)."""
        f = self._flow
        f.update(ts, sign, size_raw)
        tot = f.rolling_buy_raw + f.rolling_sell_raw
        if not tot or len(f._win) < self.min_trades:
            return None
        x = (f.rolling_buy_raw - f.rolling_sell_raw) / tot
        if self._step(self._vol, ts, x, 0):
            return (
                x / self.threshold,
                price_raw,
                {
                    "source": "volume",
                    "imbalance": x,
                    "buy_raw": f.rolling_buy_raw,
                    "sell_raw": f.rolling_sell_raw,
                    "trades": len(f._win),
                },
            )
        return None


class _Level:
    __slots__ = ("fired", "first_ts", "last_ts", "max_shown", "refills", "traded", "traded_since")

    def __init__(self, ts: int, shown: int) -> None:
        self.first_ts = self.last_ts = ts
        self.max_shown = shown
        self.traded = self.traded_since = self.refills = 0
        self.fired = False


class IcebergDetector:
    """Levels that keep refilling after being traded against (module docs).

    ``watch`` maps ``(side, price_raw)`` to the level's state; :class:`~tradewire.orderflow.book_metrics.BookFlow`
    calls :meth:`on_level` for every delta of a watched level.
    """

    __slots__ = ("hidden_ratio", "max_age_ns", "min_refills", "pending", "watch")

    def __init__(self, min_refills: int = 3, hidden_ratio: float = 1.0, max_age_ns: int = 60_000_000_000) -> None:
        if min_refills < 1 or hidden_ratio <= 0:
            raise ValueError("need min_refills >= 1 and hidden_ratio > 0")
        self.min_refills, self.hidden_ratio, self.max_age_ns = min_refills, hidden_ratio, max_age_ns
        self.watch: dict[tuple[int, int], _Level] = {}
        self.pending: list[Detection] = []

    def on_trade(self, ts: int, price_raw: int, size_raw: int, sign: int, shown_raw: int) -> None:
        """A trade against the level at ``price_raw`` (sell -> bid side, buy -> ask side) showing ``shown_raw``."""
        if not sign:
            return
        key = (BID if sign < 0 else ASK, price_raw)
        lv = self.watch.get(key)
        if lv is None:
            if not shown_raw:
                return
            lv = self.watch[key] = _Level(ts, shown_raw)
        lv.traded += size_raw
        lv.traded_since += size_raw
        lv.last_ts = ts

    def on_level(self, side: int, price_raw: int, old_raw: int, new_raw: int, ts: int) -> None:
        """A watched level changed from ``old_raw`` to ``new_raw``; detections go to :attr:`pending`."""
        key = (side, price_raw)
        lv = self.watch[key]
        if not new_raw:
            del self.watch[key]
            return
        if lv.traded_since and new_raw > old_raw - lv.traded_since:
            lv.refills += 1
        lv.traded_since = 0
        lv.last_ts = ts
        if new_raw > lv.max_shown:
            lv.max_shown = new_raw
        if not lv.fired and lv.refills >= self.min_refills and lv.traded > self.hidden_ratio * lv.max_shown:
            lv.fired = True
            ratio = lv.traded / (self.hidden_ratio * lv.max_shown)
            self.pending.append(
                (
                    ratio if side == BID else -ratio,
                    price_raw,
                    {
                        "side": "bid" if side == BID else "ask",
                        "refills": lv.refills,
                        "traded_raw": lv.traded,
                        "max_shown_raw": lv.max_shown,
                        "duration_ns": ts - lv.first_ts,
                    },
                )
            )

    def expire(self, now: int) -> None:
        """Stop watching levels not traded or updated for ``max_age_ns``."""
        cut = now - self.max_age_ns
        for key in [k for k, lv in self.watch.items() if lv.last_ts < cut]:
            del self.watch[key]


__all__ = ["AbsorptionDetector", "ExhaustionDetector", "IcebergDetector", "ImbalanceDetector", "LargeOrderDetector"]
