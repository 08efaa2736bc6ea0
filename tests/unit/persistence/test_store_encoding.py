"""The event store's row encoding: the same payload text and columns as the generic path, exact amounts, and
multi-row commits on either SQLite statement form."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields

import pytest
from hypothesis import given
from hypothesis import strategies as st
from persistence_factories import every_record, fill

from tradewire.model.objects import Currency, Money, Price, Quantity, parse_raw, raw_to_str
from tradewire.persistence import open_store
from tradewire.persistence.serialization import _fixed_to_json, _money_amount, encode, loads, register
from tradewire.persistence.store import _VALUES_MAX_ROWS, category_of, payload_json


def _reference_columns(record, now: int) -> dict:
    """The columns as the store computed them before per-type plans (getattr on every record)."""

    def opt(v):
        return None if v is None else str(v)

    return {
        "kind": type(record).__name__, "category": category_of(record),
        "client_order_id": opt(getattr(record, "client_order_id", None)),
        "strategy_id": opt(getattr(record, "strategy_id", None)),
        "instrument_id": opt(getattr(record, "instrument_id", None) or getattr(record, "id", None)),
        "account_id": opt(getattr(record, "account_id", None)), "trade_id": opt(getattr(record, "trade_id", None)),
        "ts_event": int(getattr(record, "ts_event", None) or now),
        "ts_init": int(getattr(record, "ts_init", None) or now), "ts_recorded": now,
    }  # fmt: skip


def test_payload_text_is_the_standard_librarys_compact_json_for_every_record_type():
    for rec in every_record():
        stdlib = json.dumps(encode(rec), separators=(",", ":"), ensure_ascii=False)
        assert payload_json(rec) == stdlib, type(rec).__name__
        assert encode(loads(type(rec).__name__, payload_json(rec))) == encode(rec)


def test_row_columns_match_the_generic_rule_for_every_record_type(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/e.db")
    try:
        for rec in every_record():
            row = store._row(rec, 123)
            assert {k: v for k, v in row.items() if k != "payload"} == _reference_columns(rec, 123)
    finally:
        store.close()


@register
@dataclass(frozen=True, slots=True)
class WideIntegerNote:
    """A record with an integer beyond 64 bits (orjson refuses those)."""

    value: int
    ts_event: int
    ts_init: int


def test_an_integer_beyond_64_bits_is_written_exactly():
    rec = WideIntegerNote(2**70 + 3, 5, 6)
    text = payload_json(rec)
    assert text == '{"value":1180591620717411303427,"ts_event":5,"ts_init":6}'
    assert loads("WideIntegerNote", text) == rec


@given(st.integers(min_value=-(10**28) + 1, max_value=10**28 - 1))
def test_money_amount_text_equals_the_decimal_path(raw):
    # up to 28 significant digits, Decimal's default context precision: the old path's text exactly
    assert _money_amount(raw) == str(Money.from_raw(raw, Currency.from_str("USD")).as_decimal())


@given(st.integers(min_value=10**28, max_value=10**40), st.booleans())
def test_money_amount_beyond_28_digits_stays_exact(raw, negative):
    # as_decimal rounds to 28 digits there (Decimal's default context); the integer path keeps every digit
    raw = -raw if negative else raw
    assert parse_raw(_money_amount(raw), 9) == raw


@pytest.mark.parametrize("raw", [0, 1, -1, 999, 1000, -1000, 10**9, -(10**9), 1_500_000_000, 123_456_789_000])
def test_money_amount_edges(raw):
    assert _money_amount(raw) == str(Money.from_raw(raw, Currency.from_str("USD")).as_decimal())


def _fixed_reference(v) -> str:
    text = raw_to_str(v.raw, v.precision)
    return f"{raw_to_str(v.raw, 9)}/{v.precision}" if parse_raw(text) != v.raw else text


@given(st.integers(min_value=-(10**20), max_value=10**20), st.integers(min_value=0, max_value=9), st.booleans())
def test_price_and_quantity_text_equals_the_rounding_check(raw, precision, on_grid):
    if on_grid:
        raw -= raw % 10 ** (9 - precision)
    for cls in (Price, Quantity):
        v = cls.from_raw(raw if cls is Price else abs(raw), precision)
        assert _fixed_to_json(v) == _fixed_reference(v)


@pytest.mark.parametrize("n", [1, _VALUES_MAX_ROWS, _VALUES_MAX_ROWS + 1, 3 * _VALUES_MAX_ROWS + 7])
def test_one_durable_commit_of_n_rows_is_gap_free_and_readable(tmp_path, n):
    store = open_store(f"sqlite:///{tmp_path}/e.db")
    try:
        store.append(fill(coid="first", trade="T-first"), durable=True)
        recs = [fill(coid=f"O-{i}", trade=f"T-{i}") for i in range(n)]
        assert store.append_many(recs, durable=True) == list(range(2, n + 2))
        got = list(store.read(since_seq=1))
        assert [g.record.trade_id for g in got] == [f"T-{i}" for i in range(n)]
        assert [g.seq for g in got] == list(range(2, n + 2))
    finally:
        store.close()


@pytest.mark.parametrize("n", [3, _VALUES_MAX_ROWS + 5])
def test_two_stores_on_one_file_interleave_without_gaps(tmp_path, n):
    url = f"sqlite:///{tmp_path}/e.db"
    a, b = open_store(url), open_store(url)
    try:
        for k in range(3):  # each store's cached last seq is stale after the other one's commit: re-read, retry
            a.append_many([fill(coid=f"A{k}-{i}", trade=f"A{k}-{i}") for i in range(n)], durable=True)
            b.append_many([fill(coid=f"B{k}-{i}", trade=f"B{k}-{i}") for i in range(n)], durable=True)
        got = list(a.read())
        assert [g.seq for g in got] == list(range(1, 6 * n + 1))
        want = [f"{s}{k}-{i}" for k in range(3) for s in "AB" for i in range(n)]
        assert [g.record.trade_id for g in got] == want
    finally:
        a.close()
        b.close()


def test_reference_covers_every_column():
    from tradewire.persistence.tables import events

    assert set(_reference_columns(fill(), 1)) | {"payload", "seq"} == {c.name for c in events.columns}
    assert {f.name for f in fields(WideIntegerNote)} == {"value", "ts_event", "ts_init"}
