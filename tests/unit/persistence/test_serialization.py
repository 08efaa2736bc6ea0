"""Round trip of every stored record type through the generic serializer, and its error reporting."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

import pytest
from persistence_factories import every_record, fill

from tradewire.model import ORDER_EVENT_TYPES, Price, Quantity
from tradewire.persistence.serialization import SerializationError, decode, dumps, encode, loads, registered_names


def _deep_equal(a, b) -> bool:
    """Equality that also compares precisions of Price/Quantity and currency precision of Money."""
    if isinstance(a, (Price, Quantity)):
        return type(a) is type(b) and a.raw == b.raw and a.precision == b.precision
    if dataclasses.is_dataclass(a):
        return type(a) is type(b) and all(
            _deep_equal(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
        )
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_deep_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_deep_equal(a[k], b[k]) for k in a)
    if isinstance(a, Decimal):
        return isinstance(b, Decimal) and a == b and str(a) == str(b)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("record", every_record(), ids=lambda r: type(r).__name__)
def test_round_trip_exact(record):
    text = dumps(record)
    back = loads(type(record).__name__, text)
    assert _deep_equal(record, back)
    assert dumps(back) == text


def test_every_order_event_type_is_covered_and_registered():
    covered = {type(r).__name__ for r in every_record()}
    assert set(ORDER_EVENT_TYPES) <= covered
    for name in ("AccountState", "OrderStatusReport", "FillReport", "PositionReport", "OperatorAction", "Alert",
                 "ReconciliationDiscrepancy", "Instrument"):  # fmt: skip
        assert name in registered_names()


def test_encoding_is_exact_text():
    f = fill(fee="-0.000000001", px="60123.40")
    d = encode(f)
    assert d["last_px"] == "60123.40"  # precision kept, trailing zero included
    assert d["last_qty"] == "0.500"
    assert d["commission"] == {"amount": "-1E-9", "currency": "USDT"}
    assert d["order_side"] == "buy"
    json.dumps(d)  # JSON-ready


def test_raw_beyond_precision_is_not_rounded():
    p = Price.from_raw(1_234_567_891, 2)  # 1.234567891 shown with 2 decimals
    from tradewire.model import OrderUpdated

    ev = OrderUpdated(*[*dataclasses.astuple(fill())[:5]], price=p)
    back = loads("OrderUpdated", dumps(ev))
    assert back.price.raw == 1_234_567_891 and back.price.precision == 2


def test_float_refused_where_an_exact_type_is_declared():
    @dataclasses.dataclass(frozen=True)
    class HasFloat:
        x: Decimal

    from tradewire.persistence.serialization import register

    register(HasFloat)
    with pytest.raises(SerializationError, match=r"HasFloat\.x: binary float"):
        encode(HasFloat(0.1))


def test_declared_float_statistic_round_trips_exactly():
    @dataclasses.dataclass(frozen=True)
    class HasStat:
        strength: float
        details: dict[str, Any]

    from tradewire.persistence.serialization import register

    register(HasStat)
    rec = HasStat(0.1 + 0.2, {"ratio": 1 / 3})
    back = loads("HasStat", dumps(rec))
    assert back.strength == 0.1 + 0.2 and back.details["ratio"] == 1 / 3
    with pytest.raises(SerializationError, match="binary float"):
        encode(HasStat(float("nan"), {}))


def test_unregistered_type_refused():
    @dataclasses.dataclass(frozen=True)
    class Unknown:
        x: int

    with pytest.raises(SerializationError, match="not a registered record type"):
        encode(Unknown(1))
    with pytest.raises(SerializationError, match="unknown record type 'Nope'"):
        decode("Nope", {})


def test_bad_payloads_name_the_problem():
    good = encode(fill())
    with pytest.raises(SerializationError, match=r"OrderFilled\.last_px: .*'abc'"):
        decode("OrderFilled", {**good, "last_px": "abc"})
    with pytest.raises(SerializationError, match="missing field 'trade_id'"):
        decode("OrderFilled", {k: v for k, v in good.items() if k != "trade_id"})
    with pytest.raises(SerializationError, match=r"unknown fields \['bogus'\]"):
        decode("OrderFilled", {**good, "bogus": 1})
    with pytest.raises(SerializationError, match="invalid JSON at offset 1"):
        loads("OrderFilled", "{x")
    with pytest.raises(SerializationError, match=r"ts_event: expected int"):
        decode("OrderFilled", {**good, "ts_event": "1"})
