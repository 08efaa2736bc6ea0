"""EventStore on SQLite and PostgreSQL: append/read, durability, append-only, gap-free sequences."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from persistence_factories import every_record, fill
from sqlalchemy.exc import DBAPIError

from tradewire.persistence import EventStore, StoreError, create_db_engine, open_store
from tradewire.persistence.serialization import SerializationError, dumps
from tradewire.persistence.tables import events


@pytest.fixture
def store(db_url):
    s = open_store(db_url, flush_interval_ms=5)
    yield s
    s.close()


def test_append_and_read_every_record_type(store):
    recs = every_record()
    seqs = store.append_many(recs, durable=True)
    assert seqs == list(range(1, len(recs) + 1))
    got = list(store.read())
    assert [g.seq for g in got] == seqs
    assert [dumps(g.record) for g in got] == [dumps(r) for r in recs]
    assert store.count() == len(recs) == store.last_seq()
    # filters
    fills = list(store.read(kinds=["OrderFilled"]))
    assert [type(g.record).__name__ for g in fills] == ["OrderFilled", "OrderFilled"]
    assert {g.record.client_order_id for g in store.read(client_order_id="O-1")} == {"O-1"}
    assert [g.seq for g in store.read(since_seq=3, until_seq=5)] == [4, 5]
    assert store.fill_keys() == {("BTCUSDT.BINANCE", "T-1"), ("BTCUSDT.BINANCE", "T-2")}
    assert store.recorded_client_order_ids(["O-1", "O-1", "O-nope"]) == {"O-1"}
    assert store.recorded_client_order_ids([]) == set()


def test_batched_appends_commit_on_flush_and_keep_call_order(store):
    for i in range(2500):
        store.append(fill(coid=f"O-{i}", trade=f"T-{i}"))
    store.flush()
    got = list(store.read(chunk=700))  # several chunks
    assert [g.seq for g in got] == list(range(1, 2501))
    assert [g.record.trade_id for g in got] == [f"T-{i}" for i in range(2500)]


def test_durable_append_is_committed_when_it_returns(db_url, store):
    seq = store.append(fill(), durable=True)
    other = create_db_engine(db_url)  # an independent connection sees it at once
    try:
        with other.connect() as c:
            assert c.execute(sa.select(events.c.kind).where(events.c.seq == seq)).scalar_one() == "OrderFilled"
    finally:
        other.dispose()


@pytest.mark.parametrize("stmt", ["UPDATE events SET kind = 'x'", "DELETE FROM events"])
def test_update_and_delete_rejected_by_database(store, stmt):
    store.append(fill(), durable=True)
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(sa.text(stmt))
    assert [g.record.trade_id for g in store.read()] == ["T-1"]


def test_no_update_or_delete_code_path():
    import inspect

    import tradewire.persistence.store as mod

    src = inspect.getsource(mod).lower()
    assert ".update(" not in src and ".delete(" not in src and "update events" not in src


def test_sequences_gap_free_under_concurrent_appenders(db_url):
    """4 threads on each of 2 stores (2 engines = 2 connection pools, like 2 processes) append at once."""
    a = open_store(db_url, flush_interval_ms=1, max_batch=50)
    b = EventStore(create_db_engine(db_url), flush_interval_ms=1, max_batch=37)
    n = 150

    def work(store, tag, durable):
        for i in range(n):
            store.append(fill(coid=f"{tag}-{i}", trade=f"{tag}-{i}"), durable=durable and i % 10 == 0)

    threads = [threading.Thread(target=work, args=(s, f"{name}{k}", k % 2 == 0))
               for name, s in (("a", a), ("b", b)) for k in range(4)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    a.flush()
    b.flush()
    got = list(a.read())
    assert [g.seq for g in got] == list(range(1, 8 * n + 1))
    # per appender, its records keep their call order
    by_tag: dict[str, list[int]] = {}
    for g in got:
        tag, i = str(g.record.trade_id).rsplit("-", 1)
        by_tag.setdefault(tag, []).append(int(i))
    assert len(by_tag) == 8 and all(v == list(range(n)) for v in by_tag.values())
    a.close()
    b.close()


def test_unregistered_record_rejected_before_queueing(store):
    class NotADataclass:
        pass

    with pytest.raises(SerializationError):
        store.append(NotADataclass())
    store.append(fill(), durable=True)  # store still healthy


def test_closed_store_refuses(store):
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.append(fill())


def test_corrupt_row_reported_with_its_seq(store):
    store.append(fill(), durable=True)
    with store.engine.begin() as conn:
        conn.execute(events.insert().values(seq=2, kind="OrderFilled", category="fill", ts_event=0, ts_init=0,
                                            ts_recorded=0, payload='{"client_order_id": 1}'))  # fmt: skip
    with pytest.raises(SerializationError, match="events seq 2"):
        list(store.read())
