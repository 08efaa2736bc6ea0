"""Tardis.dev CSV datasets: ``trades``, ``quotes``, ``incremental_book_L2`` and ``book_snapshot_25``.

Columns follow the Tardis "Downloadable CSV files" documentation: ``exchange, symbol, timestamp,
local_timestamp, ...`` with both times in µs since the epoch. ``timestamp`` is the exchange time
(``ts_event``), ``local_timestamp`` the time Tardis received the message (``ts_init``).

- ``trades``: ``id, side, price, amount``; ``side`` is the aggressor (``buy``/``sell``/``unknown``).
- ``quotes``: ``ask_amount, ask_price, bid_price, bid_amount``.
- ``incremental_book_L2``: ``is_snapshot, side, price, amount``; ``amount`` is the new total size at
  the level and 0 removes it. Rows of one message share ``timestamp``/``local_timestamp``/``is_snapshot``;
  the last delta of each message carries ``F_LAST``. A snapshot that follows updates starts with a
  CLEAR delta (Tardis: "if is_snapshot is true and the previous row was not, a new snapshot begins,
  so the book must be reset").
- ``book_snapshot_25``: ``asks[0..24].price/amount, bids[0..24].price/amount`` per row; each row
  becomes CLEAR + one ADD per level, all flagged ``F_SNAPSHOT``, the last with ``F_LAST``.

Instrument ids: ``<symbol>.<venue>`` with the venue from the exchange name (``binance-futures`` ->
``BINANCE`` with symbol suffix ``-PERP``, ``bitmex`` -> ``BITMEX``, ``deribit`` -> ``DERIBIT``), or pass
``instrument_id``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tradewire.model.data import OrderBookDelta, QuoteTick, TradeTick
from tradewire.model.enums import AggressorSide, BookAction, BookSide
from tradewire.model.identifiers import InstrumentId, TradeId
from tradewire.model.objects import Price, Quantity

from ._common import NS_PER_US, csv_fields, iter_lines
from ._rows import Maker, precisions
from .errors import DataFormatError

_VENUES = {
    "binance": "BINANCE", "binance-futures": "BINANCE", "binance-delivery": "BINANCE", "bitmex": "BITMEX",
    "deribit": "DERIBIT", "bybit": "BYBIT", "bybit-spot": "BYBIT", "coinbase": "COINBASE", "kraken": "KRAKEN",
    "okex": "OKX", "okx": "OKX", "okex-swap": "OKX", "okx-swap": "OKX", "ftx": "FTX", "huobi": "HUOBI",
}  # fmt: skip
_SIDES = {"buy": AggressorSide.BUYER, "sell": AggressorSide.SELLER, "unknown": AggressorSide.NO_AGGRESSOR}
_HEAD = ["exchange", "symbol", "timestamp", "local_timestamp"]


def tardis_instrument_id(exchange: str, symbol: str) -> InstrumentId:
    """Instrument id for a Tardis (exchange, symbol) pair (see module notes)."""
    venue = _VENUES.get(exchange, exchange.upper().replace("-", "_"))
    if exchange == "binance-futures" and "_" not in symbol:
        symbol = f"{symbol}-PERP"
    return InstrumentId.from_parts(symbol, venue)


def _rows(path: Path, columns: list[str]) -> Iterator[tuple]:
    """Yield (line, iid_key, ts_event, ts_init, *fields[4:]) checking the header is exactly ``columns``."""
    lines = iter_lines(path)
    _, header = next(lines, (1, ""))
    cols = header.split(",")
    if cols != columns:
        unknown = [c for c in cols if c not in columns]
        what = f"unknown column {unknown[0]!r}" if unknown else "missing or reordered columns"
        raise DataFormatError(path, f"{what}: expected {','.join(columns)}", line=1)
    n = len(columns)
    for no, f in csv_fields(path, lines, n):
        try:
            ts, ts_init = int(f[2]) * NS_PER_US, int(f[3]) * NS_PER_US
        except ValueError:
            raise DataFormatError(path, f"bad timestamp {f[2]!r} / {f[3]!r}", line=no) from None
        yield no, (f[0], f[1]), ts, ts_init, *f[4:]


class _Ids:
    def __init__(self, fixed: InstrumentId | str | None) -> None:
        self.fixed = InstrumentId(str(fixed)) if fixed is not None else None
        self.cache: dict[tuple[str, str], InstrumentId] = {}

    def __call__(self, key: tuple[str, str]) -> InstrumentId:
        if self.fixed is not None:
            return self.fixed
        iid = self.cache.get(key)
        if iid is None:
            iid = self.cache[key] = tardis_instrument_id(*key)
        return iid


TRADES_COLUMNS = [*_HEAD, "id", "side", "price", "amount"]
QUOTES_COLUMNS = [*_HEAD, "ask_amount", "ask_price", "bid_price", "bid_amount"]
L2_COLUMNS = [*_HEAD, "is_snapshot", "side", "price", "amount"]


def iter_tardis_trades(
    path: str | Path, *, instrument_id: InstrumentId | str | None = None, price_precision: int | None = None,
    size_precision: int | None = None,
) -> Iterator[TradeTick]:  # fmt: skip
    """Stream a Tardis ``trades`` CSV as `TradeTick` (aggressor from ``side``; precisions inferred if None).

    Raises
    ------
    DataFormatError
        Wrong header, wrong field count, bad number/timestamp, unknown side (file and line named).
    """
    path = Path(path)
    pp, sp = precisions(lambda: _rows(path, TRADES_COLUMNS), (6,), (7,), price_precision, size_precision)
    mk, ids = Maker(path, pp, sp), _Ids(instrument_id)
    for no, key, ts, ts_init, tid, side, px, amt in _rows(path, TRADES_COLUMNS):
        agg = _SIDES.get(side)
        if agg is None:
            raise DataFormatError(path, f"unknown side {side!r} (buy/sell/unknown)", line=no)
        if not tid:
            raise DataFormatError(path, "empty trade id", line=no)
        yield TradeTick(ids(key), mk.price(px, no), mk.size(amt, no, "amount"), agg, TradeId(tid), ts, ts_init)


def iter_tardis_quotes(
    path: str | Path, *, instrument_id: InstrumentId | str | None = None, price_precision: int | None = None,
    size_precision: int | None = None,
) -> Iterator[QuoteTick]:  # fmt: skip
    """Stream a Tardis ``quotes`` CSV as `QuoteTick`.

    Raises
    ------
    DataFormatError
        As `iter_tardis_trades`; also for a row with an empty side (Tardis leaves a side empty when
        the book side is empty; a `QuoteTick` needs both).
    """
    path = Path(path)
    pp, sp = precisions(lambda: _rows(path, QUOTES_COLUMNS), (5, 6), (4, 7), price_precision, size_precision)
    mk, ids = Maker(path, pp, sp), _Ids(instrument_id)
    for no, key, ts, ts_init, ask_amt, ask_px, bid_px, bid_amt in _rows(path, QUOTES_COLUMNS):
        if not (ask_amt and ask_px and bid_px and bid_amt):
            raise DataFormatError(path, "one-sided quote (empty bid or ask field)", line=no)
        yield QuoteTick(
            ids(key), mk.price(bid_px, no, "bid_price"), mk.price(ask_px, no, "ask_price"),
            mk.size(bid_amt, no, "bid_amount"), mk.size(ask_amt, no, "ask_amount"), ts, ts_init,
        )  # fmt: skip


_BOOK_SIDES = {"bid": BookSide.BID, "ask": BookSide.ASK}


def iter_tardis_incremental_l2(
    path: str | Path, *, instrument_id: InstrumentId | str | None = None, price_precision: int | None = None,
    size_precision: int | None = None,
) -> Iterator[OrderBookDelta]:  # fmt: skip
    """Stream a Tardis ``incremental_book_L2`` CSV as `OrderBookDelta` batches (see module notes).

    Raises
    ------
    DataFormatError
        Wrong header or field count, bad number, ``is_snapshot`` not true/false, unknown side.
    """
    path = Path(path)
    pp, sp = precisions(lambda: _rows(path, L2_COLUMNS), (6,), (7,), price_precision, size_precision)
    mk, ids = Maker(path, pp, sp), _Ids(instrument_id)
    zero_px, zero_sz = Price.from_raw(0, pp), Quantity.from_raw(0, sp)
    pending: OrderBookDelta | None = None
    pending_key = None
    in_snapshot = False
    for no, key, ts, ts_init, snap, side, px, amt in _rows(path, L2_COLUMNS):
        if snap not in ("true", "false"):
            raise DataFormatError(path, f"is_snapshot must be true/false, got {snap!r}", line=no)
        bside = _BOOK_SIDES.get(side)
        if bside is None:
            raise DataFormatError(path, f"unknown side {side!r} (bid/ask)", line=no)
        is_snap = snap == "true"
        msg_key = (key, ts, ts_init, is_snap)
        if pending is not None:
            if msg_key != pending_key:
                pending.flags |= OrderBookDelta.F_LAST
            yield pending
        iid = ids(key)
        if is_snap and not in_snapshot:
            snap_flag = OrderBookDelta.F_SNAPSHOT
            yield OrderBookDelta(iid, BookAction.CLEAR, BookSide.BID, zero_px, zero_sz, snap_flag, 0, ts, ts_init)
        in_snapshot = is_snap
        size = mk.size(amt, no, "amount")
        if is_snap:
            action, flags = (BookAction.ADD if size.raw else BookAction.DELETE), OrderBookDelta.F_SNAPSHOT
        else:
            action, flags = (BookAction.UPDATE if size.raw else BookAction.DELETE), 0
        pending = OrderBookDelta(iid, action, bside, mk.price(px, no), size, flags, 0, ts, ts_init)
        pending_key = msg_key
    if pending is not None:
        pending.flags |= OrderBookDelta.F_LAST
        yield pending


def _snapshot_columns(header: str, path: Path) -> tuple[list[str], list[tuple[BookSide, int, int]]]:
    cols = header.split(",")
    if cols[:4] != _HEAD:
        raise DataFormatError(path, f"expected {','.join(_HEAD)} first", line=1)
    levels: list[tuple[BookSide, int, int]] = []
    index = {c: i for i, c in enumerate(cols)}
    n = 0
    while f"asks[{n}].price" in index or f"bids[{n}].price" in index:
        n += 1
    for i in range(n):
        for name, side in (("bids", BookSide.BID), ("asks", BookSide.ASK)):
            pc, ac = f"{name}[{i}].price", f"{name}[{i}].amount"
            if pc not in index or ac not in index:
                raise DataFormatError(path, f"missing column {pc if pc not in index else ac!r}", line=1)
            levels.append((side, index[pc], index[ac]))
    known = set(_HEAD) | {cols[p] for _, p, _ in levels} | {cols[a] for _, _, a in levels}
    for c in cols:
        if c not in known:
            raise DataFormatError(path, f"unknown column {c!r}", line=1)
    return cols, levels


def iter_tardis_book_snapshot(
    path: str | Path, *, instrument_id: InstrumentId | str | None = None, price_precision: int | None = None,
    size_precision: int | None = None,
) -> Iterator[OrderBookDelta]:  # fmt: skip
    """Stream a Tardis ``book_snapshot_25`` (or ``_5``) CSV: each row -> CLEAR + ADD per level (see module notes).

    Raises
    ------
    DataFormatError
        Wrong header, field count or number; a price given without an amount or vice versa.
    """
    path = Path(path)
    lines = iter_lines(path)
    _, header = next(lines, (1, ""))
    cols, levels = _snapshot_columns(header, path)
    n = len(cols)

    def rows() -> Iterator[tuple]:
        it = iter_lines(path)
        next(it, None)
        yield from csv_fields(path, it, n)

    if price_precision is None or size_precision is None:
        from ._common import text_decimals

        p = s = 0
        for _, f in rows():
            for _, pi, ai in levels:
                if f[pi]:
                    p = max(p, text_decimals(f[pi]))
                if f[ai]:
                    s = max(s, text_decimals(f[ai]))
        price_precision = p if price_precision is None else price_precision
        size_precision = s if size_precision is None else size_precision
    mk, ids = Maker(path, price_precision, size_precision), _Ids(instrument_id)
    zero_px, zero_sz = Price.from_raw(0, price_precision), Quantity.from_raw(0, size_precision)
    snap = OrderBookDelta.F_SNAPSHOT
    for no, f in rows():
        try:
            ts, ts_init = int(f[2]) * NS_PER_US, int(f[3]) * NS_PER_US
        except ValueError:
            raise DataFormatError(path, f"bad timestamp {f[2]!r} / {f[3]!r}", line=no) from None
        iid = ids((f[0], f[1]))
        out = [OrderBookDelta(iid, BookAction.CLEAR, BookSide.BID, zero_px, zero_sz, snap, 0, ts, ts_init)]
        for side, pi, ai in levels:
            if not f[pi] and not f[ai]:
                continue  # fewer levels than the column count
            if not f[pi] or not f[ai]:
                raise DataFormatError(path, f"{cols[pi]} and {cols[ai]} must both be set", line=no)
            price, size = mk.price(f[pi], no, cols[pi]), mk.size(f[ai], no, cols[ai])
            out.append(OrderBookDelta(iid, BookAction.ADD, side, price, size, snap, 0, ts, ts_init))
        out[-1].flags |= OrderBookDelta.F_LAST
        yield from out
