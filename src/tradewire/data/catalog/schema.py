"""Arrow schemas of the Parquet data catalog and the conversions between model objects and record batches.

Prices, sizes and volumes are stored as their exact fixed-point ``raw`` integers (``int64``, value x 10**9,
see :mod:`tradewire.model.objects`) plus ``uint8`` precision columns, so a round trip is exact. The
representable range is therefore ``|value| < 9,223,372,036.854775807`` units; a value beyond it raises
``OverflowError`` on write (naming the object) rather than being rounded or wrapped. Timestamps are
``int64`` UTC nanoseconds.

=================  ===============================================================================
data type          columns (in file order)
=================  ===============================================================================
``quotes``         ts_event, ts_init, bid_price, ask_price, bid_size, ask_size, bid_price_precision,
                   ask_price_precision, bid_size_precision, ask_size_precision
``trades``         ts_event, ts_init, price, size, aggressor_side (``buyer``/``seller``/``none``),
                   trade_id, price_precision, size_precision
``bars``           ts_event (bar close), ts_init, open, high, low, close, volume, price_precision,
                   size_precision
``deltas``         ts_event, ts_init, action (``add``/``update``/``delete``/``clear``), side (1 bid,
                   2 ask), price, size, flags (bit 1 ``F_LAST``, bit 2 ``F_SNAPSHOT``), sequence,
                   price_precision, size_precision
=================  ===============================================================================

The instrument id (bar type for bars) is not a column: it is the partition directory name. A bar stores
one price precision for its four prices (the largest of them; raws stay exact, so only the display
precision of a bar whose prices were written with different decimals is normalised).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa

from tradewire.model.data import Bar, BarType, OrderBookDelta, QuoteTick, TradeTick
from tradewire.model.enums import AggressorSide, BookAction, BookSide
from tradewire.model.identifiers import InstrumentId, TradeId
from tradewire.model.objects import Price, Quantity

_I64 = pa.int64()
_U8 = pa.uint8()
_STR = pa.string()

SCHEMAS: dict[str, pa.Schema] = {
    "quotes": pa.schema(
        [
            ("ts_event", _I64),
            ("ts_init", _I64),
            ("bid_price", _I64),
            ("ask_price", _I64),
            ("bid_size", _I64),
            ("ask_size", _I64),
            ("bid_price_precision", _U8),
            ("ask_price_precision", _U8),
            ("bid_size_precision", _U8),
            ("ask_size_precision", _U8),
        ]
    ),
    "trades": pa.schema(
        [
            ("ts_event", _I64),
            ("ts_init", _I64),
            ("price", _I64),
            ("size", _I64),
            ("aggressor_side", _STR),
            ("trade_id", _STR),
            ("price_precision", _U8),
            ("size_precision", _U8),
        ]
    ),
    "bars": pa.schema(
        [
            ("ts_event", _I64),
            ("ts_init", _I64),
            ("open", _I64),
            ("high", _I64),
            ("low", _I64),
            ("close", _I64),
            ("volume", _I64),
            ("price_precision", _U8),
            ("size_precision", _U8),
        ]
    ),
    "deltas": pa.schema(
        [
            ("ts_event", _I64),
            ("ts_init", _I64),
            ("action", _STR),
            ("side", _U8),
            ("price", _I64),
            ("size", _I64),
            ("flags", _U8),
            ("sequence", _I64),
            ("price_precision", _U8),
            ("size_precision", _U8),
        ]
    ),
}

DATA_TYPES: dict[type, str] = {QuoteTick: "quotes", TradeTick: "trades", Bar: "bars", OrderBookDelta: "deltas"}
TYPE_NAMES: dict[str, type] = {v: k for k, v in DATA_TYPES.items()}


def partition_key(obj: Any) -> str:
    """The partition key of an object: its instrument id, or its bar type for bars."""
    return str(obj.bar_type) if type(obj) is Bar else str(obj.instrument_id)


def _columns(data_type: str, objs: list) -> dict[str, list]:
    if data_type == "quotes":
        return {
            "ts_event": [o.ts_event for o in objs],
            "ts_init": [o.ts_init for o in objs],
            "bid_price": [o.bid_price.raw for o in objs],
            "ask_price": [o.ask_price.raw for o in objs],
            "bid_size": [o.bid_size.raw for o in objs],
            "ask_size": [o.ask_size.raw for o in objs],
            "bid_price_precision": [o.bid_price.precision for o in objs],
            "ask_price_precision": [o.ask_price.precision for o in objs],
            "bid_size_precision": [o.bid_size.precision for o in objs],
            "ask_size_precision": [o.ask_size.precision for o in objs],
        }
    if data_type == "trades":
        return {
            "ts_event": [o.ts_event for o in objs],
            "ts_init": [o.ts_init for o in objs],
            "price": [o.price.raw for o in objs],
            "size": [o.size.raw for o in objs],
            "aggressor_side": [o.aggressor_side.value for o in objs],
            "trade_id": [str(o.trade_id) for o in objs],
            "price_precision": [o.price.precision for o in objs],
            "size_precision": [o.size.precision for o in objs],
        }
    if data_type == "bars":
        return {
            "ts_event": [o.ts_event for o in objs],
            "ts_init": [o.ts_init for o in objs],
            "open": [o.open.raw for o in objs],
            "high": [o.high.raw for o in objs],
            "low": [o.low.raw for o in objs],
            "close": [o.close.raw for o in objs],
            "volume": [o.volume.raw for o in objs],
            "price_precision": [
                max(o.open.precision, o.high.precision, o.low.precision, o.close.precision) for o in objs
            ],
            "size_precision": [o.volume.precision for o in objs],
        }
    if data_type == "deltas":
        return {
            "ts_event": [o.ts_event for o in objs],
            "ts_init": [o.ts_init for o in objs],
            "action": [o.action.value for o in objs],
            "side": [int(o.side) for o in objs],
            "price": [o.price.raw for o in objs],
            "size": [o.size.raw for o in objs],
            "flags": [o.flags for o in objs],
            "sequence": [o.sequence for o in objs],
            "price_precision": [o.price.precision for o in objs],
            "size_precision": [o.size.precision for o in objs],
        }
    raise ValueError(f"unknown catalog data type {data_type!r}")


def to_table(data_type: str, objs: list) -> pa.Table:
    """Convert model objects of one data type to an Arrow table with :data:`SCHEMAS` ``[data_type]``.

    Raises
    ------
    OverflowError
        If a raw value does not fit ``int64`` (the message names the first offending object).
    """
    schema = SCHEMAS[data_type]
    cols = _columns(data_type, objs)
    arrays = []
    for field in schema:
        try:
            arrays.append(pa.array(cols[field.name], type=field.type))
        except (OverflowError, pa.ArrowInvalid) as exc:
            bad = next(
                (i for i, v in enumerate(cols[field.name]) if isinstance(v, int) and not 0 <= v + 2**63 < 2**64),
                None,
            )
            where = f" (object #{bad}: {objs[bad]!r})" if bad is not None else ""
            raise OverflowError(f"{data_type}.{field.name} does not fit int64 raws{where}: {exc}") from None
    return pa.Table.from_arrays(arrays, schema=schema)


def _interning(factory: Callable[[int, int], Any], limit: int = 65_536) -> Callable[[int, int], Any]:
    """Wrap ``Price.from_raw``/``Quantity.from_raw`` so repeated (raw, precision) pairs share one object.

    Values are immutable, so sharing is safe; book levels and quotes repeat prices constantly, and reusing
    them saves most of the object construction in a replay. The table is cleared when it exceeds ``limit``.
    """
    cache: dict[tuple[int, int], Any] = {}

    def make(raw: int, precision: int) -> Any:
        k = (raw, precision)
        v = cache.get(k)
        if v is None:
            if len(cache) >= limit:
                cache.clear()
            v = cache[k] = factory(raw, precision)
        return v

    return make


def _builder(data_type: str, key: str) -> Callable[[pa.RecordBatch], list]:
    """Return a function that turns one record batch of ``data_type`` into model objects for ``key``."""
    P = _interning(Price.from_raw)
    Q = _interning(Quantity.from_raw)
    if data_type == "quotes":
        iid = InstrumentId(key)

        def build(b: pa.RecordBatch) -> list:
            c = [col.to_pylist() for col in b.columns]
            return [
                QuoteTick(iid, P(bp, bpp), P(ap, app), Q(bs, bsp), Q(asz, asp), te, ti)
                for te, ti, bp, ap, bs, asz, bpp, app, bsp, asp in zip(*c, strict=True)
            ]

        return build
    if data_type == "trades":
        iid = InstrumentId(key)
        sides = {s.value: s for s in AggressorSide}
        new_id = str.__new__

        def build(b: pa.RecordBatch) -> list:
            c = [col.to_pylist() for col in b.columns]
            return [
                TradeTick(iid, P(px, pp), Q(sz, sp), sides[ag], new_id(TradeId, tid), te, ti)
                for te, ti, px, sz, ag, tid, pp, sp in zip(*c, strict=True)
            ]

        return build
    if data_type == "bars":
        bt = BarType.from_str(key)

        def build(b: pa.RecordBatch) -> list:
            c = [col.to_pylist() for col in b.columns]
            return [
                Bar(bt, P(o, pp), P(h, pp), P(lo, pp), P(cl, pp), Q(v, sp), te, ti)
                for te, ti, o, h, lo, cl, v, pp, sp in zip(*c, strict=True)
            ]

        return build
    if data_type == "deltas":
        iid = InstrumentId(key)
        actions = {a.value: a for a in BookAction}
        sides_ = {int(s): s for s in BookSide}

        def build(b: pa.RecordBatch) -> list:
            c = [col.to_pylist() for col in b.columns]
            return [
                OrderBookDelta(iid, actions[a], sides_[sd], P(px, pp), Q(sz, sp), fl, seq, te, ti)
                for te, ti, a, sd, px, sz, fl, seq, pp, sp in zip(*c, strict=True)
            ]

        return build
    raise ValueError(f"unknown catalog data type {data_type!r}")


def objects_from_batches(data_type: str, key: str, batches: Iterator[pa.RecordBatch]) -> Iterator[Any]:
    """Yield model objects from record batches of one partition key, one batch converted at a time."""
    build = _builder(data_type, key)
    for b in batches:
        yield from build(b)
