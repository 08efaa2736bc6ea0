"""Event-store tuning on SQLite: the synchronous setting, checkpoints off the commit path, durable appends
committed on the caller's thread in append order."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time

import pytest
from persistence_factories import fill

from tradewire.persistence import EventStore, create_db_engine, open_store
from tradewire.persistence.engine import SYNC_ENV_VAR, DatabaseConfigError, sqlite_synchronous

SYNC_LEVEL = {"FULL": 2, "NORMAL": 1}  # PRAGMA synchronous answers with the level number


def _pragma(engine, name: str) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"PRAGMA {name}").scalar_one()


@pytest.mark.parametrize(("arg", "env", "want"), [(None, None, "FULL"), (None, "normal", "NORMAL"),
                                                  ("FULL", "NORMAL", "FULL"), ("normal", None, "NORMAL")])  # fmt: skip
def test_synchronous_from_argument_then_environment_then_full(monkeypatch, tmp_path, arg, env, want):
    if env is None:
        monkeypatch.delenv(SYNC_ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(SYNC_ENV_VAR, env)
    assert sqlite_synchronous(arg) == want
    engine = create_db_engine(f"sqlite:///{tmp_path / 'x.db'}", synchronous=arg)
    try:
        assert _pragma(engine, "synchronous") == SYNC_LEVEL[want]
        assert _pragma(engine, "journal_mode") == "wal"
        assert _pragma(engine, "wal_autocheckpoint") == 0  # never inside a commit
    finally:
        engine.dispose()


def test_bad_synchronous_names_its_source(monkeypatch):
    monkeypatch.setenv(SYNC_ENV_VAR, "OFF")
    with pytest.raises(DatabaseConfigError, match=f"{SYNC_ENV_VAR}='OFF'"):
        sqlite_synchronous()
    with pytest.raises(DatabaseConfigError, match="synchronous argument='EXTRA'"):
        sqlite_synchronous("EXTRA")


def test_checkpoint_thread_copies_the_wal_into_the_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    store = open_store(url, flush_interval_ms=1, checkpoint_interval_s=0.02)
    try:
        store.append_many([fill(coid=f"O-{i}", trade=f"T-{i}") for i in range(200)], durable=True)
        after = store.checkpoints + 2  # a round that started after the commit
        deadline = time.monotonic() + 5
        while store.checkpoints < after and time.monotonic() < deadline:
            time.sleep(0.01)
        assert store.checkpoints >= after
        shutil.copyfile(tmp_path / "x.db", tmp_path / "main-only.db")  # the database file without its WAL
        conn = sqlite3.connect(tmp_path / "main-only.db")
        try:
            assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 200
        finally:
            conn.close()
    finally:
        store.close()


def test_durable_append_commits_queued_records_first_without_the_writer(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}", flush_interval_ms=60_000)  # the writer would wait 60 s
    try:
        store.append(fill(coid="O-1", trade="T-1"))
        store.append(fill(coid="O-2", trade="T-2"))
        t0 = time.monotonic()
        seq = store.append(fill(coid="O-3", trade="T-3"), durable=True)
        assert time.monotonic() - t0 < 5
        assert seq == 3
        assert [(e.seq, str(e.record.trade_id)) for e in store.read()] == [(1, "T-1"), (2, "T-2"), (3, "T-3")]
    finally:
        store.close()


def test_durable_and_batched_appends_from_two_threads_keep_each_threads_order(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}", flush_interval_ms=2, max_batch=16)
    n = 300

    def work(tag: str, durable_every: int) -> None:
        for i in range(n):
            store.append(fill(coid=f"{tag}-{i}", trade=f"{tag}-{i}"), durable=i % durable_every == 0)

    threads = [threading.Thread(target=work, args=("a", 3)), threading.Thread(target=work, args=("b", 1000))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.flush()
    got = list(store.read())
    assert [e.seq for e in got] == list(range(1, 2 * n + 1))
    for tag in ("a", "b"):
        assert [int(str(e.record.trade_id).split("-")[1]) for e in got if str(e.record.trade_id)[0] == tag] == list(
            range(n)
        )
    store.close()


def test_close_commits_what_is_queued(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    store = open_store(url, flush_interval_ms=60_000)
    for i in range(5):
        store.append(fill(coid=f"O-{i}", trade=f"T-{i}"))
    store.close()
    reopened = EventStore(create_db_engine(url))
    try:
        assert reopened.count() == 5
    finally:
        reopened.close()


def test_checkpoint_interval_and_restart_size_must_be_positive(tmp_path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with pytest.raises(ValueError, match="checkpoint_interval_s"):
            EventStore(engine, checkpoint_interval_s=0)
        with pytest.raises(ValueError, match="wal_restart_mib"):
            EventStore(engine, wal_restart_mib=0)
    finally:
        engine.dispose()


def _wal_frames(path) -> int:
    """Frames in the WAL now (a passive checkpoint from another connection reports them)."""
    probe = sqlite3.connect(path)
    try:
        return probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
    finally:
        probe.close()


def test_wal_starts_over_once_past_the_restart_size_under_steady_commits(tmp_path, monkeypatch):
    from tradewire.core import wal

    synced: list[tuple[str, int]] = []  # (file, restarts done when it was synced)
    real_sync = wal.fdatasync_path

    def sync(p):
        synced.append((p, store.wal_restarts))
        return real_sync(p)

    monkeypatch.setattr(wal, "fdatasync_path", sync)
    path = tmp_path / "x.db"
    store = open_store(f"sqlite:///{path}", checkpoint_interval_s=0.01, wal_restart_mib=0.25)  # 64 pages
    try:
        i = 0
        deadline = time.monotonic() + 10
        while store.wal_restarts == 0 and time.monotonic() < deadline:  # commits without a pause
            store.append(fill(coid=f"O-{i}", trade=f"T-{i}"), durable=True)
            i += 1
        assert store.wal_restarts >= 1
        assert store.count() == i  # nothing lost across the restart
        store.append(fill(coid="O-after", trade="T-after"), durable=True)
        assert _wal_frames(path) < 64  # the commit after the restart wrote from the start of the WAL
        assert (str(path), 0) in synced  # the database file was synced before the first RESTART held the writers
    finally:
        store.close()


def test_restart_gives_up_on_a_reader_instead_of_holding_the_writers(tmp_path):
    """A RESTART holds our writers while it waits for the readers of the old WAL; a reader that keeps its read
    transaction open must hold them about 250 ms per round, not for the connection's 30 s busy timeout."""
    path = tmp_path / "x.db"
    store = open_store(f"sqlite:///{path}", checkpoint_interval_s=0.01, wal_restart_mib=0.25)
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        for i in range(50):
            store.append(fill(coid=f"O-{i}", trade=f"T-{i}"), durable=True)
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM events").fetchone()[0] == 50  # holds its snapshot
        slowest = 0.0
        t_end = time.monotonic() + 1.5
        i = 50
        while time.monotonic() < t_end:
            t0 = time.monotonic()
            store.append(fill(coid=f"O-{i}", trade=f"T-{i}"), durable=True)
            slowest = max(slowest, time.monotonic() - t0)
            i += 1
        assert store.checkpoints > 0
        assert slowest < 2.0  # bounded by the checkpoint connection's 250 ms wait (plus a slow machine)
        reader.execute("COMMIT")
    finally:
        reader.close()
        store.close()


def _kinds_committed(url: str) -> list[str]:
    """What another process sees in the database right now."""
    probe = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return [k for (k,) in probe.execute("SELECT kind FROM events ORDER BY seq")]
    finally:
        probe.close()


def test_deferred_initialized_commits_with_the_next_durable_record(tmp_path):
    from persistence_factories import init

    from tradewire.core.bus import MessageBus
    from tradewire.model import OrderSubmitted
    from tradewire.persistence import EventRecorder

    url = f"sqlite:///{tmp_path / 'x.db'}"
    store = open_store(url, flush_interval_ms=60_000)
    bus = MessageBus()
    rec = EventRecorder(store, bus, defer_initialized=True)
    order = init("O-1")
    bus.publish(f"events.order.{order.strategy_id}", order)
    assert _kinds_committed(url) == [] and rec.deferred == 1  # not waited for
    sub = OrderSubmitted(order.client_order_id, order.strategy_id, order.instrument_id, 1, 1)
    bus.publish(f"events.order.{order.strategy_id}", sub)  # durable: the venue may get the order after this
    assert _kinds_committed(url) == ["OrderInitialized", "OrderSubmitted"] and rec.deferred == 0
    store.close()


def test_barrier_makes_a_held_orders_initialized_durable(tmp_path):
    from persistence_factories import init

    from tradewire.core.bus import MessageBus
    from tradewire.persistence import EventRecorder

    url = f"sqlite:///{tmp_path / 'x.db'}"
    store = open_store(url, flush_interval_ms=60_000)
    bus = MessageBus()
    rec = EventRecorder(store, bus, defer_initialized=True)
    held = init("SL-1")
    bus.publish(f"events.order.{held.strategy_id}", held)  # a bracket child: no OrderSubmitted yet
    assert _kinds_committed(url) == []
    rec.barrier()
    assert _kinds_committed(url) == ["OrderInitialized"] and rec.deferred == 0
    rec.barrier()  # nothing deferred: no commit needed
    store.close()


def test_default_recorder_waits_for_each_initialized(tmp_path):
    from persistence_factories import init

    from tradewire.core.bus import MessageBus
    from tradewire.persistence import EventRecorder

    url = f"sqlite:///{tmp_path / 'x.db'}"
    store = open_store(url, flush_interval_ms=60_000)
    bus = MessageBus()
    EventRecorder(store, bus)
    order = init("O-1")
    bus.publish(f"events.order.{order.strategy_id}", order)
    assert _kinds_committed(url) == ["OrderInitialized"]
    store.close()
