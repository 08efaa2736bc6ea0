"""Replay of recorded Binance streams for paper trading (`tradewire run`).

:class:`BinanceReplay` loads a raw combined-stream capture once (depth diffs, book ticker, trades,
and the REST depth snapshot), orders it the way a correctly synchronized live client would deliver
it — the snapshot first, then only the diffs that follow it under Binance's rules (diffs with
``u <= lastUpdateId`` dropped; see :mod:`tradewire.data.sync`) — and yields model objects with
timestamps shifted so the session plays as if it were happening now. Each loop starts again from the
snapshot, with timestamps moved forward by the session length, so a node can run until stopped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradewire.data.loaders.binance import (
    BinanceBookTicker,
    BinanceDepthDiff,
    BinanceDepthSnapshot,
    iter_binance_stream,
)
from tradewire.model.data import OrderBookDelta, QuoteTick, TradeTick
from tradewire.model.identifiers import InstrumentId


@dataclass(frozen=True, slots=True)
class ReplayItem:
    """One replayed message: offset from the session start (ns) and its model object(s)."""

    offset_ns: int
    obj: Any  # QuoteTick | TradeTick | list[OrderBookDelta]


def _shift(obj: Any, f: Any) -> Any:
    if type(obj) is list:
        return [
            OrderBookDelta(
                d.instrument_id, d.action, d.side, d.price, d.size, d.flags, d.sequence, f(d.ts_event), f(d.ts_init)
            )
            for d in obj
        ]
    if type(obj) is QuoteTick:
        return QuoteTick(obj.instrument_id, obj.bid_price, obj.ask_price, obj.bid_size, obj.ask_size,
                         f(obj.ts_event), f(obj.ts_init))  # fmt: skip
    return TradeTick(obj.instrument_id, obj.price, obj.size, obj.aggressor_side, obj.trade_id,
                     f(obj.ts_event), f(obj.ts_init))  # fmt: skip


class BinanceReplay:
    """A recorded Binance session, synchronized and ready to replay in loops.

    Parameters
    ----------
    path : Path
        hftbacktest-style capture (``<recv_ns> <json>`` lines, gzip or plain).
    instrument_id : InstrumentId
        Instrument the records belong to.
    price_precision, size_precision : int
        Instrument precisions.

    Raises
    ------
    ValueError
        If the file holds no REST depth snapshot (the book could not be synchronized).
    """

    def __init__(self, path: Path, instrument_id: InstrumentId, price_precision: int, size_precision: int) -> None:
        self.path = Path(path)
        items: list[tuple[int, Any]] = []
        buffered: list[BinanceDepthDiff] = []
        snapshot: BinanceDepthSnapshot | None = None
        last_u: int | None = None
        self.dropped_diffs = 0
        for rec in iter_binance_stream(self.path, instrument_id, price_precision, size_precision):
            if isinstance(rec, BinanceDepthSnapshot):
                snapshot = rec
                items.append((rec.ts_init, list(rec.deltas)))
                last_u = rec.last_update_id
                for d in buffered:  # diffs that arrived before the snapshot
                    if d.final_update_id > last_u and d.deltas:
                        items.append((rec.ts_init, list(d.deltas)))
                        last_u = d.final_update_id
                    else:
                        self.dropped_diffs += 1
                buffered.clear()
            elif isinstance(rec, BinanceDepthDiff):
                if snapshot is None:
                    buffered.append(rec)
                elif rec.final_update_id <= last_u:
                    self.dropped_diffs += 1
                else:
                    if rec.deltas:
                        items.append((rec.ts_init, list(rec.deltas)))
                    last_u = rec.final_update_id
            elif isinstance(rec, BinanceBookTicker):
                if snapshot is not None:
                    items.append((rec.quote.ts_init, rec.quote))
            elif isinstance(rec, TradeTick) and snapshot is not None:
                items.append((rec.ts_init, rec))
        if snapshot is None:
            raise ValueError(f"{self.path}: no REST depth snapshot in the recording; cannot build a book")
        items.sort(key=lambda x: x[0])
        t0 = items[0][0]
        self.start_ns = t0
        self.items = [ReplayItem(t - t0, obj) for t, obj in items]
        self.span_ns = self.items[-1].offset_ns + 1_000_000_000
        self.counts = {
            "book_batches": sum(1 for it in self.items if type(it.obj) is list),
            "quotes": sum(1 for it in self.items if type(it.obj) is QuoteTick),
            "trades": sum(1 for it in self.items if type(it.obj) is TradeTick),
        }

    def play(self, start_ns: int, speed: float = 1.0, loops: int | None = None) -> Iterator[tuple[int, Any]]:
        """Yield ``(due_ns, obj)`` forever (or ``loops`` times).

        Every timestamp ``ts`` of the recording becomes ``base + (ts - session_start) / speed`` where
        ``base = start_ns + loop * span / speed``: the session plays from ``start_ns`` at ``speed`` times
        real time (a 1-second bar at speed 10 holds 10 recorded seconds), and each loop follows the last.
        ``due_ns`` is when the message is due on the wall clock.

        Raises
        ------
        ValueError
            If ``speed`` is not positive.
        """
        if speed <= 0:
            raise ValueError("speed must be positive")
        n = 0
        t0 = self.start_ns
        span = int(self.span_ns / speed)
        while loops is None or n < loops:
            base = start_ns + n * span

            def f(ts: int, base: int = base) -> int:
                return base + int((ts - t0) / speed)

            for it in self.items:
                yield base + int(it.offset_ns / speed), _shift(it.obj, f)
            n += 1
