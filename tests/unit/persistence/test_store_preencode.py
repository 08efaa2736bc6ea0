"""The writer thread's encoding of batched records ahead of the commit lock (``EventStore._preencode``)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import pytest
from persistence_factories import every_record, fill

from tradewire.persistence import open_store, register
from tradewire.persistence.store import StoreError, payload_json


def _rows(url: str) -> list[tuple]:
    probe = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return probe.execute(
            "SELECT seq, kind, client_order_id, ts_recorded, payload FROM events ORDER BY seq"
        ).fetchall()
    finally:
        probe.close()


def test_rows_encoded_ahead_are_committed_in_append_order_with_identical_payloads(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    ticks = iter(range(1_000, 10**6, 1_000))
    store = open_store(url, flush_interval_ms=60_000, clock=lambda: next(ticks))  # the writer never runs alone
    records = every_record()
    half = len(records) // 2
    for r in records[:half]:
        store.append(r)
    store._preencode()  # what the writer does before it takes the lock
    for r in records[half:]:
        store.append(r)  # appended after: encoded by the committer
    store.flush()
    rows = _rows(url)
    assert [r[1] for r in rows] == [type(r).__name__ for r in records]
    assert [r[4] for r in rows] == [payload_json(r) for r in records]  # byte-identical either way
    assert store.preencoded == half
    assert len({r[3] for r in rows}) == 1  # ts_recorded: the commit's time for all, also the rows encoded ahead
    assert rows[0][3] > 1_000  # not the time they were encoded at
    assert store._encoded == {}
    store.close()


def test_a_durable_append_uses_the_rows_encoded_ahead_and_a_stale_row_is_dropped(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    store = open_store(url, flush_interval_ms=60_000)
    a, b = fill("O-1", "T-1"), fill("O-2", "T-2")
    store.append(a)
    store._preencode()
    assert len(store._encoded) == 1
    store.append(b, durable=True)  # the caller's commit takes a (encoded ahead) and b
    assert [r[2] for r in _rows(url)] == ["O-1", "O-2"] and store.preencoded == 1
    assert store._encoded == {}
    store.append(a)  # the same record object again: a new entry, encoded anew
    store.flush()
    assert [r[2] for r in _rows(url)] == ["O-1", "O-2", "O-1"] and store.preencoded == 1
    store.close()


@dataclass(frozen=True)
class _Unencodable:
    value: int  # holds a binary float below, which the encoder refuses for this hint


def test_a_record_that_does_not_encode_fails_the_store_as_before(tmp_path):
    register(_Unencodable)
    url = f"sqlite:///{tmp_path / 'x.db'}"
    store = open_store(url, flush_interval_ms=60_000)
    store.append(fill("O-1", "T-1"))
    store.append(_Unencodable(0.1))
    store._preencode()  # skips the bad one, leaves it to the committer
    assert len(store._encoded) == 1
    store.flush()
    assert [r[2] for r in _rows(url)] == ["O-1"]
    with pytest.raises(StoreError, match="binary float"):
        store.append(fill("O-2", "T-2"))
    store.close()
