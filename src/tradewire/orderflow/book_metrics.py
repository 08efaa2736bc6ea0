"""Book-side order-flow metrics computed from an L2 :class:`~tradewire.data.book.OrderBook`.

Figures after each applied venue batch (:class:`BookFlow.on_batch`):

* **spread** ``ask - bid`` and **mid** ``(bid + ask) / 2`` (exact raws; the mid is kept doubled,
  ``mid2_raw = bid + ask``, so it stays an integer);
* **weighted mid** (micro-price estimate) ``I * ask + (1 - I) * bid`` with ``I = q_bid / (q_bid + q_ask)``:
  the imbalance-weighted mid-price that Stoikov (2018, "The micro-price: a high-frequency estimator of
  future prices", Quantitative Finance 18(12), section 2) takes as the starting point of the micro-price;
  the full micro-price adds an adjustment ``g(I, S)`` estimated offline from a Markov model of imbalance
  and spread, which is not done here (float, price units);
* **top-of-book imbalance** ``(q_bid - q_ask) / (q_bid + q_ask)`` in [-1, 1] (Cartea, Jaimungal & Penalva
  2015, "Algorithmic and High-Frequency Trading", section 4.3 "order imbalance");
* **depth imbalance** over the top ``N`` levels of each side, plain ``(sum B_i - sum A_i) / (sum B_i +
  sum A_i)`` and **distance-weighted** with weights ``w = exp(-d / decay_bps)`` where ``d`` is the level's
  distance from the mid in basis points (levels near the touch count most; ``decay_bps`` default 5);
* **order-flow imbalance (OFI)** of Cont, Kukanov & Stoikov (2014, "The price impact of order book
  events", J. Financial Econometrics 12(1), eq. 2): per batch
  ``e = 1[Pb >= Pb'] qb - 1[Pb <= Pb'] qb' - 1[Pa <= Pa'] qa + 1[Pa >= Pa'] qa'`` (primes: previous
  batch), summed per interval (exact raw);
* **liquidity added / removed** per price level per interval (default 1 s), from the change of each
  level's size, with the volume traded at the level in the same interval (so ``removed - traded`` is an
  upper bound of the cancelled size). Snapshot deltas (``F_SNAPSHOT``) and ``CLEAR`` only reset state.

The level sizes before each delta are kept in a shadow map (the data engine applies a batch before it
publishes it, so the book itself only shows the new sizes).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from operator import itemgetter

from tradewire.model.data import OrderBookDelta
from tradewire.model.enums import BookAction

_F_SNAPSHOT = OrderBookDelta.F_SNAPSHOT
_CLEAR = BookAction.CLEAR
_DELETE = BookAction.DELETE
_NEG, _POS = -(1 << 127), 1 << 127
_second = itemgetter(1)


@dataclass(frozen=True, slots=True)
class LiquidityInterval:
    """Liquidity added/removed per level during ``[start_ns, end_ns)``.

    Attributes
    ----------
    bids, asks : dict[int, tuple[int, int, int]]
        Price raw -> ``(added_raw, removed_raw, traded_raw)``.
    added_raw, removed_raw, traded_raw : int
        Totals over both sides.
    ofi_raw : int
        Order-flow imbalance summed over the batches of the interval (raw size units).
    """

    start_ns: int
    end_ns: int
    bids: dict[int, tuple[int, int, int]]
    asks: dict[int, tuple[int, int, int]]
    added_raw: int
    removed_raw: int
    traded_raw: int
    ofi_raw: int


class TopOfBook:
    """Top-of-book and depth figures (see module docs). Sizes and prices are raws.

    ``depth_imbalance`` and the levels behind ``weighted_depth_imbalance`` come from the last depth sample
    (:class:`BookFlow` ``depth_sample_ns``); ``weighted_depth_imbalance`` is computed on first access
    (one ``exp`` per level).
    """

    __slots__ = ("_asks", "_bids", "_decay_bps", "_wdi", "ask_raw", "ask_size_raw", "bid_raw", "bid_size_raw",
                 "depth_imbalance", "mid2_raw", "spread_raw", "tob_imbalance", "ts_event", "weighted_mid")  # fmt: skip

    def __init__(
        self,
        ts_event: int,
        top: tuple[int, int, int, int],
        bids: list[tuple[int, int]],
        asks: list[tuple[int, int]],
        depth_imbalance: float,
        decay_bps: float,
    ) -> None:
        b, qb, a, qa = top
        self.ts_event = ts_event
        self.bid_raw, self.bid_size_raw, self.ask_raw, self.ask_size_raw = b, qb, a, qa
        self.spread_raw = a - b
        self.mid2_raw = a + b
        w = qb / (qb + qa)
        self.weighted_mid = (w * a + (1.0 - w) * b) / 1e9
        self.tob_imbalance = 2.0 * w - 1.0
        self.depth_imbalance = depth_imbalance
        self._bids, self._asks, self._decay_bps = bids, asks, decay_bps
        self._wdi: float | None = None

    @property
    def weighted_depth_imbalance(self) -> float:
        """Distance-weighted depth imbalance, weights ``exp(-d / decay_bps)`` (``d`` in bp of the mid)."""
        if self._wdi is None:
            mid = self.mid2_raw / 2
            k = 1e4 / (mid * self._decay_bps)
            exp = math.exp
            wb = sum(s * exp(-abs(mid - p) * k) for p, s in self._bids)
            wa = sum(s * exp(-abs(p - mid) * k) for p, s in self._asks)
            self._wdi = (wb - wa) / (wb + wa)
        return self._wdi

    @property
    def bids(self) -> list[tuple[int, int]]:
        """Top bid levels ``(price_raw, size_raw)`` of the last depth sample, best first."""
        return list(self._bids)

    @property
    def asks(self) -> list[tuple[int, int]]:
        """Top ask levels ``(price_raw, size_raw)`` of the last depth sample, best first."""
        return list(self._asks)


class BookFlow:
    """Per-instrument book metrics fed with delta batches.

    Parameters
    ----------
    depth : int
        Levels per side for the depth imbalances (default 10).
    decay_bps : float
        Distance decay of the weighted depth imbalance, in basis points of the mid.
    interval_ns : int
        Length of a liquidity interval (default 1 s).
    depth_sample_ns : int
        Minimum event time between two computations of the depth figures (0: after every batch that
        touched the top levels).
    keep : int
        Completed liquidity intervals kept in :attr:`intervals` (:attr:`closed_intervals` counts all).
    """

    __slots__ = (
        "_ask_ceil",
        "_bid_floor",
        "_cur_asks",
        "_cur_bids",
        "_cur_start",
        "_levels",
        "_next_depth_ts",
        "_ofi",
        "_top",
        "_touched",
        "asks",
        "bids",
        "closed_intervals",
        "decay_bps",
        "depth",
        "depth_imbalance",
        "depth_sample_ns",
        "interval_ns",
        "intervals",
        "level_hook",
        "mid2_raw",
        "top_raw",
        "top_ts",
    )

    def __init__(
        self,
        depth: int = 10,
        decay_bps: float = 5.0,
        interval_ns: int = 1_000_000_000,
        keep: int = 120,
        depth_sample_ns: int = 0,
    ) -> None:
        if depth < 1 or decay_bps <= 0 or interval_ns <= 0:
            raise ValueError(
                f"need depth >= 1, decay_bps > 0, interval_ns > 0; got {depth}, {decay_bps}, {interval_ns}"
            )
        self.depth = depth
        self.decay_bps = decay_bps
        self.interval_ns = interval_ns
        self.bids: dict[int, int] = {}  # shadow of level sizes before the next delta
        self.asks: dict[int, int] = {}
        self._cur_bids: dict[int, list[int]] = {}
        self._cur_asks: dict[int, list[int]] = {}
        self._cur_start: int | None = None
        self._ofi = 0
        self.intervals: deque[LiquidityInterval] = deque(maxlen=keep)
        self.closed_intervals = 0
        self.depth_sample_ns = depth_sample_ns
        self.top_raw: tuple[int, int, int, int] | None = None  # (bid, bid size, ask, ask size)
        self.mid2_raw: int | None = None  # bid + ask
        self.top_ts = 0
        self.depth_imbalance = 0.0
        self._levels: tuple[list, list] = ([], [])
        self._top: TopOfBook | None = None
        self._bid_floor, self._ask_ceil = _NEG, _POS  # the depth-th level prices of the last figures
        self._touched = True
        self._next_depth_ts = -(1 << 62)
        # Called as hook(side, price_raw, old_raw, new_raw, ts) for levels the hook's owner watches
        # (a dict keyed by (side, price_raw)); set by the engine for iceberg detection.
        self.level_hook: tuple[dict, object] | None = None

    # ------------------------------------------------------------------ intervals
    def _roll(self, ts: int) -> None:
        start = self._cur_start
        if start is None:
            self._cur_start = ts - ts % self.interval_ns
            return
        if ts < start + self.interval_ns:
            return
        self.close_interval()
        self._cur_start = ts - ts % self.interval_ns

    def close_interval(self) -> LiquidityInterval | None:
        """Finish the current interval now (called on roll-over and at the end of a session)."""
        start = self._cur_start
        if start is None:
            return None
        bids = {p: (c[0], c[1], c[2]) for p, c in self._cur_bids.items()}
        asks = {p: (c[0], c[1], c[2]) for p, c in self._cur_asks.items()}
        added = sum(c[0] for c in bids.values()) + sum(c[0] for c in asks.values())
        removed = sum(c[1] for c in bids.values()) + sum(c[1] for c in asks.values())
        traded = sum(c[2] for c in bids.values()) + sum(c[2] for c in asks.values())
        iv = LiquidityInterval(start, start + self.interval_ns, bids, asks, added, removed, traded, self._ofi)
        self.intervals.append(iv)
        self.closed_intervals += 1
        self._cur_bids = {}
        self._cur_asks = {}
        self._ofi = 0
        self._cur_start = None
        return iv

    def on_trade(self, ts: int, price_raw: int, size_raw: int, sign: int) -> None:
        """Record volume traded against a level (a sell hits the bid side, a buy lifts the ask side)."""
        if not sign:
            return
        self._roll(ts)
        cur = self._cur_bids if sign < 0 else self._cur_asks
        cell = cur.get(price_raw)
        if cell is None:
            cur[price_raw] = [0, 0, size_raw]
        else:
            cell[2] += size_raw

    # ------------------------------------------------------------------ deltas
    def on_deltas(self, deltas: list[OrderBookDelta]) -> tuple[int, int, int] | None:
        """Update the shadow sizes and the interval's added/removed liquidity from one batch.

        Returns
        -------
        (increase_raw, side, price_raw) | None
            The largest size increase of a single level in this batch (used by the large-resting-order
            detector), None if no level grew.
        """
        if not deltas:
            return None
        last = deltas[-1]
        ts = last.ts_event
        start = self._cur_start
        if start is None or ts >= start + self.interval_ns:
            self._roll(ts)
        bids, asks = self.bids, self.asks
        cur_b, cur_a = self._cur_bids, self._cur_asks
        hook = self.level_hook
        watch = hook[0] if hook is not None else None
        snapshot = last.flags & _F_SNAPSHOT
        floor, ceil = self._bid_floor, self._ask_ceil
        touched = self._touched
        biggest = 0
        big = None
        for d in deltas:
            act = d.action
            if act is _CLEAR:
                bids.clear()
                asks.clear()
                touched = True
                continue
            side = d.side
            p = d.price.raw
            new = d.size.raw
            if new and act is _DELETE:
                new = 0
            if side == 1:
                levels, cur = bids, cur_b
                if p >= floor:
                    touched = True
            else:
                levels, cur = asks, cur_a
                if p <= ceil:
                    touched = True
            old = levels.get(p, 0)
            if new:
                levels[p] = new
            elif old:
                del levels[p]
            if snapshot:
                continue
            change = new - old
            if change:
                cell = cur.get(p)
                if cell is None:
                    cell = cur[p] = [0, 0, 0]
                if change > 0:
                    cell[0] += change
                    if change > biggest:
                        biggest = change
                        big = (change, side, p)
                else:
                    cell[1] -= change
            if watch and (side, p) in watch:
                hook[1](side, p, old, new, d.ts_event)  # type: ignore[operator]
        self._touched = touched
        return big

    def on_batch(self, book, ts: int) -> bool | None:
        """Update the top-of-book figures (and, when due, the depth figures) from the updated ``book``.

        Top of book and OFI follow every batch. The figures over the top ``depth`` levels are recomputed
        only when a delta since the last computation touched those levels (a delta deeper in the book
        cannot change them) and ``depth_sample_ns`` of event time passed since the last computation.

        Returns
        -------
        bool | None
            None while a side is empty or the book is crossed/locked; True when the depth figures were
            recomputed by this batch, else False.
        """
        self._top = None
        b = book.top_bid_raw
        a = book.top_ask_raw
        if b is None or a is None or b >= a:
            self.top_raw = None
            self.mid2_raw = None
            self._bid_floor, self._ask_ceil = _NEG, _POS
            self._touched = True
            return None
        qb = book.best_bid_size_raw()
        qa = book.best_ask_size_raw()
        prev = self.top_raw
        if prev is not None:
            pb, pqb, pa, pqa = prev
            e = 0
            if b >= pb:
                e += qb
            if b <= pb:
                e -= pqb
            if a <= pa:
                e -= qa
            if a >= pa:
                e += pqa
            self._ofi += e
        self.top_raw = (b, qb, a, qa)
        self.mid2_raw = a + b
        self.top_ts = ts
        if not self._touched or ts < self._next_depth_ts:
            return False
        self._touched = False
        self._next_depth_ts = ts + self.depth_sample_ns
        depth = self.depth
        bl = book.bids_raw(depth)
        al = book.asks_raw(depth)
        # deltas below the depth-th bid / above the depth-th ask cannot change these figures
        self._bid_floor = bl[-1][0] if len(bl) == depth else _NEG
        self._ask_ceil = al[-1][0] if len(al) == depth else _POS
        sb = sum(map(_second, bl))
        sa = sum(map(_second, al))
        self.depth_imbalance = (sb - sa) / (sb + sa)
        self._levels = (bl, al)
        return True

    @property
    def top(self) -> TopOfBook | None:
        """The current :class:`TopOfBook` (built on first access after each batch), None if not two-sided."""
        t = self._top
        if t is None and self.top_raw is not None:
            bl, al = self._levels
            t = self._top = TopOfBook(self.top_ts, self.top_raw, bl, al, self.depth_imbalance, self.decay_bps)
        return t


__all__ = ["BookFlow", "LiquidityInterval", "TopOfBook"]
