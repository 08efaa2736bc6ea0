"""Recorded sessions as ordered market-data streams for order-flow runs (CLI, tests, benchmarks).

:func:`load_session` detects the format and returns a :class:`RecordedSession`: the instrument and the
objects in delivery order (``TradeTick``, ``QuoteTick`` and ``list[OrderBookDelta]`` venue batches),
ready for ``DataEngine.process`` (batches delta by delta) or ``BacktestEngine.add_data``.

* **Binance combined-stream capture** (``<recv_ns> <json>`` lines, gzip or plain): the depth diffs go
  through :class:`tradewire.data.sync.BinanceSpotSynchronizer` (or the futures one when diffs carry
  ``pu``) exactly as a live client does: diffs before the REST snapshot are buffered, the snapshot is
  delivered, then the buffered and later diffs that pass the rule (``u > lastUpdateId``, no gap).
  Trades and book tickers are delivered as recorded, including those before the snapshot (trade
  metrics need no book). Everything is in local receive order (``ts_init``). Instrument: a crypto spot
  pair (``BTCUSDT`` -> base ``BTC``, quote ``USDT``) with tick 0.01 and lot 0.00001 (BTCUSDT's filters).
* **Databento MBO** (``.dbn`` / ``.dbn.zst``, schema ``mbo``): order-by-order events aggregated to L2
  batches with :func:`tradewire.data.loaders.databento.iter_mbo_l2`, plus a ``TradeTick`` per ``T``
  record (``side`` = aggressor: ``B`` buyer, ``A`` seller, ``N`` none, classified later by Lee-Ready /
  tick rule). Trades and batches are merged by ``ts_event``; at equal times the trade comes first, as in
  the venue message where the trade summary precedes the fills and book updates it caused.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradewire.data.loaders.binance import (
    BinanceBookTicker,
    BinanceDepthDiff,
    BinanceDepthSnapshot,
    iter_binance_stream,
)
from tradewire.data.loaders.errors import DataFormatError
from tradewire.data.sync import (
    BinanceFuturesSynchronizer,
    BinanceSpotSynchronizer,
    BookSynchronizer,
    SequenceGap,
)
from tradewire.model.data import OrderBookDelta, QuoteTick, TradeTick
from tradewire.model.enums import AggressorSide
from tradewire.model.identifiers import InstrumentId, TradeId
from tradewire.model.instruments import Instrument, crypto_spot, future
from tradewire.model.objects import FIXED_PRECISION, Quantity

_QUOTES = ("USDT", "USDC", "BUSD", "FDUSD", "TUSD", "BTC", "ETH", "BNB", "EUR", "TRY")
_MBO_AGGRESSOR = {"B": AggressorSide.BUYER, "A": AggressorSide.SELLER, "N": AggressorSide.NO_AGGRESSOR}


@dataclass
class RecordedSession:
    """A recorded session ready to replay.

    Attributes
    ----------
    instrument : Instrument
    items : list
        ``TradeTick`` / ``QuoteTick`` / ``list[OrderBookDelta]`` in delivery order.
    source : str
        ``"binance"`` or ``"dbn-mbo"``.
    gaps : list[SequenceGap]
        Sequence gaps found while synchronizing the book (Binance); the diffs after a gap wait for the
        next snapshot, as a live client would.
    """

    instrument: Instrument
    items: list[Any]
    source: str
    gaps: list[Any] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """Items per kind: trades, quotes, book batches and deltas."""
        c = {"trades": 0, "quotes": 0, "book_batches": 0, "book_deltas": 0}
        for it in self.items:
            t = type(it)
            if t is TradeTick:
                c["trades"] += 1
            elif t is QuoteTick:
                c["quotes"] += 1
            else:
                c["book_batches"] += 1
                c["book_deltas"] += len(it)
        return c


def _is_dbn(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".dbn", ".dbn.zst"))


def load_session(path: str | Path, symbol: str | None = None, venue: str | None = None) -> RecordedSession:
    """Load a recorded Binance capture or Databento MBO file (see module docs).

    Parameters
    ----------
    path : str | Path
    symbol, venue : str, optional
        Binance only: the instrument symbol and venue (default ``BTCUSDT`` / ``BINANCE``); the capture
        does not name its symbol on every line.

    Raises
    ------
    DataFormatError
        On a malformed file (file and line / record named), or a DBN file of another schema.
    FileNotFoundError
        If ``path`` does not exist.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if _is_dbn(path):
        return load_mbo_session(path)
    return load_binance_session(path, symbol or "BTCUSDT", venue or "BINANCE")


def load_binance_session(path: str | Path, symbol: str = "BTCUSDT", venue: str = "BINANCE") -> RecordedSession:
    """Binance capture synchronized under Binance's rules, in local receive order (see module docs).

    Raises
    ------
    DataFormatError
        Bad line, or no REST depth snapshot in the file.
    """
    path = Path(path)
    quote = next((q for q in _QUOTES if symbol.endswith(q) and len(symbol) > len(q)), None)
    if quote is None:
        raise ValueError(f"cannot split {symbol!r} into base and quote currency")
    inst = crypto_spot(symbol, venue, symbol[: -len(quote)], quote, 2, 5)
    iid = inst.id
    items: list[tuple[int, Any]] = []
    sync: BookSynchronizer | None = None
    early: BinanceDepthSnapshot | None = None  # a snapshot seen before the first diff tells spot/futures
    gaps: list[SequenceGap] = []

    def snapshot(rec: BinanceDepthSnapshot) -> None:
        items.append((rec.ts_init, list(rec.deltas)))
        for released in sync.on_snapshot(rec.last_update_id, rec.ts_event, rec.ts_init):
            if released:
                items.append((rec.ts_init, list(released)))

    for rec in iter_binance_stream(path, iid, inst.price_precision, inst.size_precision):
        if isinstance(rec, BinanceDepthDiff):
            if sync is None:
                cls = BinanceSpotSynchronizer if rec.prev_final_update_id is None else BinanceFuturesSynchronizer
                sync = cls(iid, on_gap=gaps.append)
                if early is not None:
                    snapshot(early)
            for deltas in sync.on_update(rec.first_update_id, rec.final_update_id, rec.prev_final_update_id,
                                         rec.deltas, rec.ts_event, rec.ts_init):  # fmt: skip
                if deltas:
                    items.append((rec.ts_init, list(deltas)))
        elif isinstance(rec, BinanceDepthSnapshot):
            if sync is None:
                early = rec
            else:
                snapshot(rec)
        elif isinstance(rec, BinanceBookTicker):
            items.append((rec.quote.ts_init, rec.quote))
        else:
            items.append((rec.ts_init, rec))
    if sync is None or sync.last_update_id is None:
        raise DataFormatError(path, "no REST depth snapshot (or no depth diff) in the recording; cannot build a book")
    items.sort(key=lambda x: x[0])  # stable: file order within one receive time
    return RecordedSession(inst, [obj for _, obj in items], "binance", gaps)


def load_mbo_session(path: str | Path) -> RecordedSession:
    """Databento MBO file as L2 batches plus trades (see module docs).

    Raises
    ------
    DataFormatError
        Not an MBO file, or an inconsistent order stream (record index named).
    """
    from tradewire.data.loaders.databento import iter_mbo, iter_mbo_l2

    path = Path(path)
    batches: list[list[OrderBookDelta]] = []
    cur: list[OrderBookDelta] = []
    for d in iter_mbo_l2(path):
        cur.append(d)
        if d.flags & OrderBookDelta.F_LAST:
            batches.append(cur)
            cur = []
    if cur:
        batches.append(cur)
    trades: list[TradeTick] = []
    iid: InstrumentId | None = None
    pp = 2
    for e in iter_mbo(path):
        if e.action != "T":
            continue
        if e.price is None:
            raise DataFormatError(path, f"trade record (sequence {e.sequence}) without a price")
        iid = e.instrument_id
        pp = e.price.precision
        trades.append(
            TradeTick(
                e.instrument_id,
                e.price,
                Quantity.from_raw(e.size * 10**FIXED_PRECISION, 0),
                _MBO_AGGRESSOR.get(e.side, AggressorSide.NO_AGGRESSOR),
                TradeId(str(e.sequence)),
                e.ts_event,
                e.ts_init,
            )
        )
    if iid is None:
        iid = batches[0][0].instrument_id if batches else None
    if iid is None:
        raise DataFormatError(path, "MBO file holds no records")
    # ES-style tick of 0.25 when the prices say so; else one unit of the last decimal
    tick = "0.25" if pp == 2 and all(t.price.raw % 250_000_000 == 0 for t in trades[:1000]) else f"{10**-pp:.{pp}f}"
    inst = future(iid.symbol, iid.venue, tick, "50" if iid.symbol.startswith("ES") else "1")
    merged = list(
        heapq.merge(
            ((t.ts_event, 0, i, t) for i, t in enumerate(trades)),
            ((b[-1].ts_event, 1, i, b) for i, b in enumerate(batches)),
        )
    )
    return RecordedSession(inst, [m[3] for m in merged], "dbn-mbo")


__all__ = ["RecordedSession", "load_binance_session", "load_mbo_session", "load_session"]
