"""Databento DBN files (``.dbn`` / ``.dbn.zst``), read with the official ``databento`` package.

Schemas and what they become (field meanings: Databento docs, "Schemas and data formats"):

- ``definition`` -> `Instrument` (futures: tick = ``min_price_increment``, multiplier =
  ``unit_of_measure_qty``, currency, venue = ``exchange``). Other instrument classes raise.
- ``mbp-1`` -> a `QuoteTick` from the top level of every record (skipped while a side is empty),
  plus a `TradeTick` for each ``action == 'T'`` record.
- ``trades`` -> `TradeTick`. ``side`` is the aggressor: ``B`` -> BUYER, ``A`` -> SELLER, ``N`` -> none.
  DBN has no trade id; the record's ``sequence`` (venue message sequence number) is used.
- ``ohlcv-1s/1m/1h/1d`` -> `Bar`; DBN stamps the bar **open**, tradewire's ``ts_event`` is the close.
- ``mbo`` (market by order, L3): `iter_mbo` yields every order event as an `MboEvent`;
  `iter_mbo_l2` aggregates them into market-by-price `OrderBookDelta`s (new total per level),
  following Databento's reference book ("Constructing a limit order book from MBO"): ``A`` adds,
  ``C`` removes ``size`` from the order, ``M`` moves/resizes it, ``R`` clears the book, and
  ``T``/``F``/``N`` leave the book unchanged (CME sends the matching cancel/modify). Deltas of one
  venue event are batched: the last carries ``F_LAST`` when DBN's ``F_LAST`` (128) ends the event;
  records flagged ``F_SNAPSHOT`` (32) give deltas with ``F_SNAPSHOT``, the first preceded by CLEAR.

Prices in DBN are already fixed-point integers at 1e-9, tradewire's raw scale; the display precision
is the fewest decimals that represent every price in the file (or ``price_precision``). ``ts_event`` is
the matching-engine time (``ts_event``), ``ts_init`` the capture time (``ts_recv``) where the schema
has one. Instrument ids are ``<raw_symbol>.<venue>`` from the file's symbology mappings; the venue
is the definition's exchange or, without one, from the dataset (``GLBX.MDP3`` -> ``XCME``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradewire.model.data import Bar, BarSpecification, BarType, OrderBookDelta, QuoteTick, TradeTick
from tradewire.model.enums import AggressorSide, AssetClass, BarAggregation, BookAction, BookSide, InstrumentClass
from tradewire.model.identifiers import InstrumentId, TradeId
from tradewire.model.instruments import Instrument
from tradewire.model.objects import FIXED_PRECISION, Currency, Price, Quantity

from .errors import DataFormatError

UNDEF_PRICE = 2**63 - 1
DBN_F_LAST = 1 << 7
DBN_F_SNAPSHOT = 1 << 5
_DATASET_VENUES = {"GLBX.MDP3": "XCME", "XNAS.ITCH": "XNAS", "XNYS.PILLAR": "XNYS", "OPRA.PILLAR": "OPRA"}
_AGGRESSOR = {"B": AggressorSide.BUYER, "A": AggressorSide.SELLER, "N": AggressorSide.NO_AGGRESSOR}
_BOOK_SIDE = {"B": BookSide.BID, "A": BookSide.ASK}
_OHLCV = {"ohlcv-1s": (1, BarAggregation.SECOND), "ohlcv-1m": (1, BarAggregation.MINUTE),
          "ohlcv-1h": (1, BarAggregation.HOUR), "ohlcv-1d": (1, BarAggregation.DAY)}  # fmt: skip


def _char(v: Any) -> str:
    return getattr(v, "value", v) if not isinstance(v, str) else v


def _store(path: Path):
    import databento as db

    try:
        return db.DBNStore.from_file(path)
    except Exception as exc:  # the decoder raises several types for bad input
        raise DataFormatError(path, f"not a readable DBN file ({exc})", offset=0) from None


def _records(path: Path, store) -> list:
    """All records; the package only *warns* on a truncated file, which is turned into an error here."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            recs = list(store)
        except Exception as exc:  # corrupt zstd frame or record header
            raise DataFormatError(path, f"DBN stream is corrupt ({exc})") from None
    for w in caught:
        if "truncated" in str(w.message) or "incomplete" in str(w.message):
            size = path.stat().st_size
            raise DataFormatError(
                path, f"DBN file is truncated: the stream ends inside the record after record {len(recs) - 1} "
                f"(file is {size} bytes)", offset=size,
            )  # fmt: skip
    return recs


def _symbols(path: Path, store) -> dict[int, str]:
    """Numeric instrument id -> raw symbol from the metadata mappings."""
    out: dict[int, str] = {}
    for raw, intervals in (store.metadata.mappings or {}).items():
        for iv in intervals:
            try:
                out[int(iv["symbol"])] = raw
            except (KeyError, ValueError):
                continue
    return out


class _Ids:
    def __init__(self, path: Path, store, instrument_id: InstrumentId | str | None) -> None:
        self.path = path
        self.fixed = InstrumentId(str(instrument_id)) if instrument_id else None
        self.symbols = _symbols(path, store)
        self.venue = _DATASET_VENUES.get(store.metadata.dataset or "", (store.metadata.dataset or "DBN").split(".")[0])
        self.cache: dict[int, InstrumentId] = {}

    def __call__(self, numeric: int, index: int) -> InstrumentId:
        if self.fixed is not None:
            return self.fixed
        iid = self.cache.get(numeric)
        if iid is None:
            sym = self.symbols.get(numeric)
            if sym is None:
                raise DataFormatError(self.path, f"instrument_id {numeric} has no symbol mapping", record=index)
            iid = self.cache[numeric] = InstrumentId.from_parts(sym, self.venue)
        return iid


def _precision_of(raws) -> int:
    """Fewest decimals representing every raw (scale 1e9) value."""
    p = 0
    for r in raws:
        if r == UNDEF_PRICE or r == 0:
            continue
        d = FIXED_PRECISION
        while d > p and r % 10 ** (FIXED_PRECISION - d + 1) == 0:
            d -= 1
        if d > p:
            p = d
            if p == FIXED_PRECISION:
                break
    return p


def _price(raw: int, pp: int) -> Price:
    return Price.from_raw(raw, pp)


def _qty(contracts: int) -> Quantity:
    return Quantity.from_raw(contracts * 10**FIXED_PRECISION, 0)


def _schema(path: Path, store, expected: tuple[str, ...] | None = None) -> str:
    schema = str(_char(store.metadata.schema) or "")
    if expected is not None and schema not in expected:
        raise DataFormatError(path, f"schema is {schema!r}, expected one of {expected}")
    return schema


def iter_definitions(path: str | Path) -> Iterator[Instrument]:
    """Yield an `Instrument` per ``definition`` record (futures only).

    Raises
    ------
    DataFormatError
        Wrong schema, unreadable file, or an instrument class other than future (``F``).
    """
    from .instruments import FUTURES_ROOTS

    path = Path(path)
    store = _store(path)
    _schema(path, store, ("definition",))
    for i, r in enumerate(_records(path, store)):
        cls = _char(r.instrument_class)
        if cls != "F":
            raise DataFormatError(
                path, f"instrument_class {cls!r} of {r.raw_symbol} is not supported (futures only)", record=i
            )
        tick_raw = int(r.min_price_increment)
        pp = _precision_of([tick_raw])
        mult_raw = int(r.unit_of_measure_qty)
        mult = Quantity.from_raw(mult_raw, _precision_of([mult_raw]))
        ccy = Currency.from_str(r.currency or "USD")
        root = FUTURES_ROOTS.get(r.asset)
        yield Instrument(
            id=InstrumentId.from_parts(r.raw_symbol, r.exchange or "XCME"),
            asset_class=root[3] if root else AssetClass.INDEX, instrument_class=InstrumentClass.FUTURE,
            quote_currency=ccy, settlement_currency=ccy, price_precision=pp, tick_size=Price.from_raw(tick_raw, pp),
            size_precision=0, lot_size=Quantity(1, 0), multiplier=mult,
        )  # fmt: skip


def iter_trades(
    path: str | Path, *, instrument_id: InstrumentId | str | None = None, price_precision: int | None = None,
) -> Iterator[TradeTick]:  # fmt: skip
    """Yield a `TradeTick` per record of a ``trades`` file, or per ``T`` record of ``mbp-1``/``mbp-10``."""
    path = Path(path)
    store = _store(path)
    _schema(path, store, ("trades", "mbp-1", "mbp-10", "tbbo"))
    recs = _records(path, store)
    pp = _precision_of(r.price for r in recs) if price_precision is None else price_precision
    ids = _Ids(path, store, instrument_id)
    for i, r in enumerate(recs):
        if _char(r.action) == "T":
            yield _trade(path, r, i, ids, pp)


def _trade(path: Path, r, i: int, ids: _Ids, pp: int) -> TradeTick:
    agg = _AGGRESSOR.get(_char(r.side))
    if agg is None or r.price == UNDEF_PRICE:
        raise DataFormatError(path, f"trade with side {_char(r.side)!r} / undefined price", record=i)
    return TradeTick(
        ids(r.instrument_id, i), _price(r.price, pp), Quantity.from_raw(r.size * 10**FIXED_PRECISION, 0), agg,
        TradeId(str(r.sequence)), r.ts_event, r.ts_recv,
    )  # fmt: skip


def iter_mbp1(
    path: str | Path, *, instrument_id: InstrumentId | str | None = None, price_precision: int | None = None,
) -> Iterator[QuoteTick | TradeTick]:  # fmt: skip
    """Yield, per ``mbp-1`` record, the top-of-book `QuoteTick` and, for ``T`` records first, the `TradeTick`."""
    path = Path(path)
    store = _store(path)
    _schema(path, store, ("mbp-1", "tbbo"))
    recs = _records(path, store)
    if price_precision is None:
        pp = _precision_of(x for r in recs for x in (r.price, r.levels[0].bid_px, r.levels[0].ask_px))
    else:
        pp = price_precision
    ids = _Ids(path, store, instrument_id)
    for i, r in enumerate(recs):
        if _char(r.action) == "T":
            yield _trade(path, r, i, ids, pp)
        lv = r.levels[0]
        if lv.bid_px == UNDEF_PRICE or lv.ask_px == UNDEF_PRICE:
            continue
        bid_sz, ask_sz = _qty(lv.bid_sz), _qty(lv.ask_sz)
        iid = ids(r.instrument_id, i)
        yield QuoteTick(iid, _price(lv.bid_px, pp), _price(lv.ask_px, pp), bid_sz, ask_sz, r.ts_event, r.ts_recv)


def iter_ohlcv(
    path: str | Path, *, bar_type: BarType | None = None, price_precision: int | None = None,
) -> Iterator[Bar]:  # fmt: skip
    """Yield a `Bar` per ``ohlcv-*`` record, ``ts_event = ts_init`` = open + interval (the bar close)."""
    path = Path(path)
    store = _store(path)
    schema = _schema(path, store, tuple(_OHLCV))
    step, agg = _OHLCV[schema]
    recs = _records(path, store)
    pp = (
        _precision_of(x for r in recs for x in (r.open, r.high, r.low, r.close))
        if price_precision is None
        else price_precision
    )
    ids = _Ids(path, store, None)
    spec = BarSpecification(step, agg)
    interval = spec.interval_ns
    types: dict[int, BarType] = {}
    for i, r in enumerate(recs):
        bt = bar_type or types.get(r.instrument_id)
        if bt is None:
            bt = types[r.instrument_id] = BarType(ids(r.instrument_id, i), spec)
        if not (r.low <= min(r.open, r.close) and r.high >= max(r.open, r.close)):
            raise DataFormatError(path, "inconsistent OHLC", record=i)
        ts = r.ts_event + interval
        yield Bar(bt, _price(r.open, pp), _price(r.high, pp), _price(r.low, pp), _price(r.close, pp),
                  Quantity.from_raw(r.volume * 10**FIXED_PRECISION, 0), ts, ts)  # fmt: skip


@dataclass(frozen=True, slots=True)
class MboEvent:
    """One market-by-order event (L3), as recorded by Databento.

    ``action``: ``A`` add, ``C`` cancel (``size`` = quantity removed), ``M`` modify (new ``price``/``size``),
    ``R`` clear book, ``T`` trade, ``F`` fill, ``N`` none. ``side``: ``B``/``A``/``N``. ``flags`` are DBN's
    (128 last record of the event, 32 snapshot). ``price`` is None when undefined.
    """

    instrument_id: InstrumentId
    order_id: int
    action: str
    side: str
    price: Price | None
    size: int
    flags: int
    sequence: int
    ts_event: int
    ts_init: int


def _mbo_setup(path: Path, instrument_id, price_precision):
    store = _store(path)
    _schema(path, store, ("mbo",))
    recs = _records(path, store)
    pp = _precision_of(r.price for r in recs) if price_precision is None else price_precision
    return recs, pp, _Ids(path, store, instrument_id)


def iter_mbo(
    path: str | Path, *, instrument_id: InstrumentId | str | None = None, price_precision: int | None = None,
) -> Iterator[MboEvent]:  # fmt: skip
    """Yield every record of an ``mbo`` file as an `MboEvent` (order-level, in file order)."""
    path = Path(path)
    recs, pp, ids = _mbo_setup(path, instrument_id, price_precision)
    for i, r in enumerate(recs):
        yield MboEvent(
            ids(r.instrument_id, i), r.order_id, _char(r.action), _char(r.side),
            None if r.price == UNDEF_PRICE else _price(r.price, pp), r.size, int(r.flags), r.sequence,
            r.ts_event, r.ts_recv,
        )  # fmt: skip


class _MboBook:
    """Per-instrument order and level state for L3 -> L2 aggregation."""

    __slots__ = ("levels", "orders")

    def __init__(self) -> None:
        self.orders: dict[int, tuple[str, int, int]] = {}  # order_id -> (side, price raw, size)
        self.levels: dict[tuple[str, int], int] = {}  # (side, price raw) -> total size


def iter_mbo_l2(
    path: str | Path, *, instrument_id: InstrumentId | str | None = None, price_precision: int | None = None,
) -> Iterator[OrderBookDelta]:  # fmt: skip
    """Aggregate an ``mbo`` file into market-by-price `OrderBookDelta`s (see module notes).

    Each changed level yields one delta with the level's new total size: ADD for a new level,
    UPDATE for a changed one, DELETE when it empties; ``R`` yields CLEAR. ``sequence`` is the DBN
    record's ``sequence``.

    Raises
    ------
    DataFormatError
        A cancel/modify of an unknown order, a cancel larger than the order, an add of an existing
        order id, or a book action with side ``N`` (record index named).
    """
    path = Path(path)
    recs, pp, ids = _mbo_setup(path, instrument_id, price_precision)
    books: dict[int, _MboBook] = {}
    pending: list[OrderBookDelta] = []
    in_snapshot: dict[int, bool] = {}
    zero_px, zero_sz = Price.from_raw(0, pp), Quantity.from_raw(0, 0)

    def level_delta(iid, book, side, px, change, flags, seq, ts, ts_init) -> None:
        key = (side, px)
        old = book.levels.get(key, 0)
        new = old + change
        if new < 0:
            raise DataFormatError(path, f"level {side}@{px} would go negative", record=i)
        if new:
            book.levels[key] = new
        else:
            book.levels.pop(key, None)
        action = BookAction.ADD if old == 0 else (BookAction.UPDATE if new else BookAction.DELETE)
        bside, price, size = _BOOK_SIDE[side], _price(px, pp), _qty(new)
        pending.append(OrderBookDelta(iid, action, bside, price, size, flags, seq, ts, ts_init))

    for i, r in enumerate(recs):
        action, side, flags_in = _char(r.action), _char(r.side), int(r.flags)
        iid = ids(r.instrument_id, i)
        book = books.get(r.instrument_id)
        if book is None:
            book = books[r.instrument_id] = _MboBook()
        snap = bool(flags_in & DBN_F_SNAPSHOT)
        flags = OrderBookDelta.F_SNAPSHOT if snap else 0
        ts, ts_init, seq = r.ts_event, r.ts_recv, r.sequence
        if snap and not in_snapshot.get(r.instrument_id) and action != "R":
            book.orders.clear()
            book.levels.clear()
            pending.append(
                OrderBookDelta(iid, BookAction.CLEAR, BookSide.BID, zero_px, zero_sz, flags, seq, ts, ts_init)
            )
        in_snapshot[r.instrument_id] = snap
        if action == "R":
            book.orders.clear()
            book.levels.clear()
            pending.append(
                OrderBookDelta(iid, BookAction.CLEAR, BookSide.BID, zero_px, zero_sz, flags, seq, ts, ts_init)
            )
        elif action in ("A", "C", "M"):
            if side not in _BOOK_SIDE:
                raise DataFormatError(path, f"{action} record with side {side!r}", record=i)
            oid = r.order_id
            if action == "A":
                if oid in book.orders:
                    raise DataFormatError(path, f"add of existing order {oid}", record=i)
                book.orders[oid] = (side, r.price, r.size)
                level_delta(iid, book, side, r.price, r.size, flags, seq, ts, ts_init)
            elif action == "C":
                old = book.orders.get(oid)
                if old is None:
                    raise DataFormatError(path, f"cancel of unknown order {oid}", record=i)
                o_side, o_px, o_size = old
                if r.size > o_size:
                    raise DataFormatError(path, f"cancel of {r.size} exceeds order {oid}'s {o_size}", record=i)
                left = o_size - r.size
                if left:
                    book.orders[oid] = (o_side, o_px, left)
                else:
                    del book.orders[oid]
                level_delta(iid, book, o_side, o_px, -r.size, flags, seq, ts, ts_init)
            else:  # M
                old = book.orders.get(oid)
                if old is None:  # Databento's reference book treats a modify of an unknown order as an add
                    book.orders[oid] = (side, r.price, r.size)
                    level_delta(iid, book, side, r.price, r.size, flags, seq, ts, ts_init)
                else:
                    o_side, o_px, o_size = old
                    book.orders[oid] = (side, r.price, r.size)
                    if o_px == r.price and o_side == side:
                        if r.size != o_size:
                            level_delta(iid, book, side, r.price, r.size - o_size, flags, seq, ts, ts_init)
                    else:
                        level_delta(iid, book, o_side, o_px, -o_size, flags, seq, ts, ts_init)
                        level_delta(iid, book, side, r.price, r.size, flags, seq, ts, ts_init)
        elif action not in ("T", "F", "N"):
            raise DataFormatError(path, f"unknown MBO action {action!r}", record=i)
        if flags_in & DBN_F_LAST and pending:
            pending[-1].flags |= OrderBookDelta.F_LAST
            yield from pending
            pending.clear()
    if pending:
        pending[-1].flags |= OrderBookDelta.F_LAST
        yield from pending


def iter_dbn(path: str | Path, **kw) -> Iterator[Any]:
    """Dispatch a DBN file by its schema: definition, mbo (L2 deltas; use `iter_mbo` for L3), mbp-1, trades, ohlcv."""
    path = Path(path)
    schema = _schema(path, _store(path))
    if schema == "definition":
        return iter_definitions(path)
    if schema == "mbo":
        return iter_mbo_l2(path, **kw)
    if schema in ("mbp-1", "tbbo"):
        return iter_mbp1(path, **kw)
    if schema == "trades":
        return iter_trades(path, **kw)
    if schema in _OHLCV:
        return iter_ohlcv(path, **kw)
    raise DataFormatError(path, f"DBN schema {schema!r} is not supported")
