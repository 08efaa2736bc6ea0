"""Footprint bars: aggressive volume per price row per bar, with diagonal and stacked imbalances.

A footprint ("bid x ask", "cluster") bar splits each bar's traded volume by price row and aggressor:
the **bid** column holds sell-aggressor volume (sellers hitting bids), the **ask** column holds
buy-aggressor volume (buyers lifting offers); trades whose side could not be determined go to
``neutral``. So ``bid + ask + neutral`` over all rows equals the bar's volume.

Diagonal imbalance (the convention of footprint platforms such as Sierra Chart's "Numbers Bars" and
ATAS "Cluster imbalance": ask volume is compared with the bid volume one row *lower*, because a buyer
lifting the offer at ``p`` meets sellers hitting the bid at ``p - row``):

* **buy imbalance** at row ``p`` when ``ask(p) >= ratio * bid(p - row)`` and ``ask(p) >= min_volume``;
* **sell imbalance** at row ``p`` when ``bid(p) >= ratio * ask(p + row)`` and ``bid(p) >= min_volume``.

A zero on the compared side counts as an imbalance as soon as the volume reaches ``min_volume``.
Defaults: ``ratio = 3.0`` (300%, the usual platform default), ``min_volume`` = 0 (any volume).

**Stacked imbalance**: ``stack >= 3`` (default) consecutive rows with an imbalance of the same
direction; reported as ``(low_row, high_row, direction)``.

Bars are time bars aligned to UTC multiples of ``interval_ns`` (like tradewire's time bar aggregator):
a bar covering ``[start, start + interval)`` closes when the first trade at or after its end arrives
(or on :meth:`FootprintAggregator.flush`); its ``ts_event`` is the interval end. Empty intervals yield
no bar.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tradewire.model.objects import raw_to_str


@dataclass(slots=True)
class FootprintBar:
    """One footprint bar (mutable while open, not modified after it was handed out closed).

    Attributes
    ----------
    start_ns, ts_event : int
        Interval start and end (UTC ns); ``ts_event`` is the close time.
    row_raw : int
        Row height (price raw).
    rows : dict[int, list[int]]
        Row price raw -> ``[bid_raw, ask_raw, neutral_raw]`` (sell-aggressor, buy-aggressor, unknown volume).
    open_raw, high_raw, low_raw, close_raw : int
        Trade prices (raws, not rounded to rows).
    volume_raw, delta_raw : int
        Total volume and buy minus sell volume.
    trades : int
    cvd_close_raw : int
        Session cumulative delta at the bar's last trade.
    """

    start_ns: int
    ts_event: int
    row_raw: int
    rows: dict[int, list[int]]
    open_raw: int
    high_raw: int
    low_raw: int
    close_raw: int
    volume_raw: int = 0
    delta_raw: int = 0
    trades: int = 0
    cvd_close_raw: int = 0

    def bid_ask_neutral_totals(self) -> tuple[int, int, int]:
        """Column sums ``(bid_raw, ask_raw, neutral_raw)``."""
        b = a = n = 0
        for cell in self.rows.values():
            b += cell[0]
            a += cell[1]
            n += cell[2]
        return b, a, n

    def diagonal_imbalances(self, ratio: float = 3.0, min_volume_raw: int = 0) -> dict[int, int]:
        """Row price raw -> +1 (buy imbalance) / -1 (sell imbalance) by the diagonal rule (module docs).

        A row can carry both; then it is reported as 0 and ignored by :meth:`stacked_imbalances`.

        Raises
        ------
        ValueError
            If ``ratio`` <= 0.
        """
        if ratio <= 0:
            raise ValueError(f"ratio must be positive, got {ratio}")
        rows, step = self.rows, self.row_raw
        out: dict[int, int] = {}
        for p, (bid, ask, _) in rows.items():
            d = 0
            if ask and ask >= min_volume_raw:
                below = rows.get(p - step)
                if ask >= ratio * (below[0] if below else 0):
                    d += 1
            if bid and bid >= min_volume_raw:
                above = rows.get(p + step)
                if bid >= ratio * (above[1] if above else 0):
                    d -= 1
            if d:
                out[p] = d
        return out

    def stacked_imbalances(
        self, ratio: float = 3.0, min_volume_raw: int = 0, stack: int = 3
    ) -> list[tuple[int, int, int]]:
        """Runs of ``>= stack`` consecutive rows with same-direction diagonal imbalances.

        Returns
        -------
        list[(low_row_raw, high_row_raw, direction)]
            Ascending by price; ``direction`` +1 buy, -1 sell.

        Raises
        ------
        ValueError
            If ``stack`` < 2.
        """
        if stack < 2:
            raise ValueError(f"stack must be >= 2, got {stack}")
        imb = self.diagonal_imbalances(ratio, min_volume_raw)
        out: list[tuple[int, int, int]] = []
        step = self.row_raw
        run_lo = run_hi = None
        run_dir = 0
        for p in sorted(imb):
            d = imb[p]
            if run_hi is not None and d == run_dir and p == run_hi + step:
                run_hi = p
                continue
            if run_hi is not None and (run_hi - run_lo) // step + 1 >= stack:
                out.append((run_lo, run_hi, run_dir))
            run_lo = run_hi = p
            run_dir = d
        if run_hi is not None and (run_hi - run_lo) // step + 1 >= stack:
            out.append((run_lo, run_hi, run_dir))
        return out

    def to_dict(self, price_precision: int, size_precision: int, ratio: float = 3.0, stack: int = 3) -> dict[str, Any]:
        """JSON-friendly form: decimal strings for prices and sizes, rows descending by price."""

        def px(r: int) -> str:
            return raw_to_str(r, price_precision)

        def sz(r: int) -> str:
            return raw_to_str(r, size_precision)

        imb = self.diagonal_imbalances(ratio)
        return {
            "start_ns": self.start_ns,
            "ts_event": self.ts_event,
            "open": px(self.open_raw),
            "high": px(self.high_raw),
            "low": px(self.low_raw),
            "close": px(self.close_raw),
            "volume": sz(self.volume_raw),
            "delta": sz(self.delta_raw),
            "trades": self.trades,
            "rows": [
                {"price": px(p), "bid": sz(c[0]), "ask": sz(c[1]), "neutral": sz(c[2]), "imbalance": imb.get(p, 0)}
                for p, c in sorted(self.rows.items(), reverse=True)
            ],
            "stacked_imbalances": [
                {"low": px(lo), "high": px(hi), "direction": d}
                for lo, hi, d in self.stacked_imbalances(ratio, 0, stack)
            ],
        }


class FootprintAggregator:
    """Build :class:`FootprintBar` s from classified trades.

    Parameters
    ----------
    interval_ns : int
        Bar length (UTC-aligned).
    row_raw : int
        Row height as a price raw (a trade at ``p`` goes to row ``floor(p / row) * row``).
    on_bar : callable(FootprintBar), optional
        Called with each closed bar.
    keep : int
        Closed bars kept in :attr:`bars` (oldest dropped first).

    Raises
    ------
    ValueError
        If ``interval_ns`` or ``row_raw`` is not positive.
    """

    __slots__ = ("bars", "current", "interval_ns", "keep", "on_bar", "row_raw")

    def __init__(
        self,
        interval_ns: int,
        row_raw: int,
        on_bar: Callable[[FootprintBar], None] | None = None,
        keep: int = 500,
    ) -> None:
        if interval_ns <= 0 or row_raw <= 0:
            raise ValueError(f"interval_ns and row_raw must be positive, got {interval_ns}, {row_raw}")
        self.interval_ns = interval_ns
        self.row_raw = row_raw
        self.on_bar = on_bar
        self.keep = keep
        self.current: FootprintBar | None = None
        self.bars: list[FootprintBar] = []

    def update(self, ts: int, price_raw: int, size_raw: int, sign: int, cvd_raw: int) -> None:
        """Add a classified trade (``sign`` +1 buy, -1 sell, 0 unknown) at ``ts`` with the session CVD after it."""
        bar = self.current
        if bar is None or ts >= bar.ts_event:
            if bar is not None:
                self._close(bar)
            start = ts - ts % self.interval_ns
            bar = self.current = FootprintBar(
                start, start + self.interval_ns, self.row_raw, {}, price_raw, price_raw, price_raw, price_raw
            )
        r = price_raw - price_raw % self.row_raw
        cell = bar.rows.get(r)
        if cell is None:
            cell = bar.rows[r] = [0, 0, 0]
        if sign > 0:
            cell[1] += size_raw
            bar.delta_raw += size_raw
        elif sign < 0:
            cell[0] += size_raw
            bar.delta_raw -= size_raw
        else:
            cell[2] += size_raw
        if price_raw > bar.high_raw:
            bar.high_raw = price_raw
        elif price_raw < bar.low_raw:
            bar.low_raw = price_raw
        bar.close_raw = price_raw
        bar.volume_raw += size_raw
        bar.trades += 1
        bar.cvd_close_raw = cvd_raw

    def _close(self, bar: FootprintBar) -> None:
        self.current = None
        self.bars.append(bar)
        if len(self.bars) > self.keep:
            del self.bars[: len(self.bars) - self.keep]
        if self.on_bar is not None:
            self.on_bar(bar)

    def flush(self) -> FootprintBar | None:
        """Close the open bar now (end of a recorded session); returns it, or None if none is open."""
        bar = self.current
        if bar is not None:
            self._close(bar)
        return bar


__all__ = ["FootprintAggregator", "FootprintBar"]
