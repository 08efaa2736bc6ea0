"""`EventStore`: the append-only event log, written off the hot path by one writer thread.

Durability policy
-----------------
* ``append(record)`` (batched, the default) serializes nothing in the caller: it puts the record on
  an in-memory queue and returns at once. The writer thread commits the queue every
  ``flush_interval_ms`` (at once when ``max_batch`` records wait), in transactions of up to ``max_batch``
  records, unless a durable append commits them first. A process crash loses at most the records not yet
  committed (bounded by that window).
* ``append(record, durable=True)`` commits on the calling thread, in one transaction with everything
  queued before it (a store-wide commit lock keeps commits in ``append`` order with the writer thread),
  and returns the record's sequence number once committed and, per the database's setting, fsynced (see
  :mod:`tradewire.persistence.engine` for what a commit fsyncs on each backend).
* What must be durable: everything whose loss could make the engine act twice or act unrecorded.
  The rule is *nothing is sent to a venue that is not recorded*: ``OrderInitialized`` and
  ``OrderSubmitted`` (the intent) are appended durably before the order is handed to the venue
  client, and so are modify/cancel requests (``OrderPendingUpdate``/``OrderPendingCancel``) and
  operator actions (:data:`DURABLE_KINDS`). Venue-originated events (acceptances, fills, cancels)
  may be batched: if they are lost in a crash the venue still has them, and recovery's
  reconciliation brings them back (fills as ``OrderFilled(inferred=True)``).

Sequence numbers
----------------
Every row gets ``seq`` = previous maximum + 1, assigned inside the committing transaction while it
holds the database's write lock (SQLite ``BEGIN IMMEDIATE``; PostgreSQL a transaction-scoped advisory
lock), so numbers are gap-free and strictly increasing in commit order even with several processes
appending to one database. Within one store they also follow ``append`` call order.

Append-only
-----------
This class has no update or delete path, and the database rejects UPDATE/DELETE on ``events`` with
a trigger (created by the initial migration).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import operator
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine, func, select, text

from tradewire.core.wal import checkpoint_round, prepare_checkpoint_connection
from tradewire.model.events import OrderEvent, OrderFilled
from tradewire.persistence.serialization import SerializationError, encode, is_registered, loads
from tradewire.persistence.tables import events

DURABLE_KINDS: frozenset[str] = frozenset(
    {"OrderInitialized", "OrderSubmitted", "OrderPendingUpdate", "OrderPendingCancel", "OperatorAction"}
)
"""Record types that :class:`EventRecorder` appends with ``durable=True``."""

_PG_SEQ_LOCK = 0x7472_6577  # pg_advisory_xact_lock key serializing appenders across processes
CHECKPOINT_INTERVAL_S = 0.05  # see _checkpoint_loop
WAL_RESTART_MIB = 64.0  # see _checkpoint_loop
_COLUMNS = ("seq", "kind", "category", "client_order_id", "strategy_id", "instrument_id", "account_id", "trade_id",
            "ts_event", "ts_init", "ts_recorded", "payload")  # fmt: skip
_SQLITE_INSERT = (
    f"INSERT INTO events ({', '.join(_COLUMNS)}) SELECT :base + 1 + j.key, "
    + ", ".join(f"json_extract(j.value, '$[{i}]')" for i in range(len(_COLUMNS) - 1))
    + " FROM json_each(:rows) AS j WHERE (SELECT coalesce(max(seq), 0) FROM events) = :base ORDER BY j.key"
)
_SQLITE_LAST_SEQ = "SELECT coalesce(max(seq), 0) FROM events"
_ROW_VALUES = operator.itemgetter(*_COLUMNS[1:])  # a row dict -> its column values after seq, as a tuple
_VALUES_MAX_ROWS = 64  # rows per VALUES statement: 64 * 12 + 1 parameters, under SQLite's 999 before 3.32


@functools.cache
def _sqlite_values_insert(n: int) -> str:
    """The guarded ``INSERT ... SELECT * FROM (VALUES ...)`` of ``n`` rows (see ``EventStore._insert_sqlite``)."""
    row = "(" + ", ".join("?" * len(_COLUMNS)) + ")"
    return (
        f"INSERT INTO events ({', '.join(_COLUMNS)}) SELECT * FROM (VALUES {', '.join([row] * n)}) "
        "WHERE (SELECT coalesce(max(seq), 0) FROM events) = ?"
    )


class StoreError(RuntimeError):
    """The store cannot accept or commit records (closed, or the database failed)."""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One row of the event log: ``seq``, the record's type name, timestamps (UTC ns) and the record."""

    seq: int
    kind: str
    ts_event: int
    ts_init: int
    ts_recorded: int
    record: Any


def category_of(record: Any) -> str:
    """Classify a record for the ``events.category`` column (``order``, ``fill``, ``account``, …)."""
    return category_of_type(type(record))


def category_of_type(cls: type) -> str:
    """:func:`category_of` for a record type (the category depends on the type only)."""
    name = cls.__name__
    if issubclass(cls, OrderFilled):
        return "fill"
    if issubclass(cls, OrderEvent):
        return "order"
    if name.startswith("Position"):
        return "position"
    if name == "AccountState":
        return "account"
    if name == "Instrument":
        return "instrument"
    if name == "OperatorAction":
        return "operator"
    if name == "Alert":
        return "alert"
    if name == "ReconciliationDiscrepancy":
        return "reconcile"
    if name.endswith("Report"):
        return "report"
    if cls.__module__.startswith("tradewire.risk"):
        return "risk"
    return "other"


class _Waiter:
    __slots__ = ("done", "error", "seqs")

    def __init__(self, inline: bool = False) -> None:
        self.done = _COMMITTED if inline else threading.Event()
        self.error: BaseException | None = None
        self.seqs: list[int] = []


class _Committed:
    """``done`` of a waiter whose own thread runs the commit: nothing to signal or wait for."""

    __slots__ = ()

    def set(self) -> None:
        pass

    def wait(self, timeout: float | None = None) -> bool:
        return True


_COMMITTED = _Committed()


class EventStore:
    """Append-only event log over a SQLAlchemy engine (see the module docstring for the policy).

    Parameters
    ----------
    engine : sqlalchemy.Engine
        From :func:`tradewire.persistence.engine.create_db_engine`, already migrated to head (use
        :func:`tradewire.persistence.open_store` to do both).
    flush_interval_ms : float
        Longest time a batched record waits in memory before its commit starts.
    max_batch : int
        Most records per transaction.
    clock : callable, optional
        Returns UTC ns for ``ts_recorded`` (default ``time.time_ns``).
    checkpoint_interval_s : float
        SQLite only: period of the WAL checkpoint thread (see :mod:`tradewire.persistence.engine`; the
        engine's connections never checkpoint inside a commit).
    wal_restart_mib : float
        SQLite only: WAL size past which the checkpoint thread makes the writers wait once so that the WAL
        starts over (see ``_checkpoint_loop``).

    Raises
    ------
    StoreError
        From ``append``/``flush`` once the store is closed or after the database failed; the
        message names the original error.
    """

    def __init__(
        self, engine: Engine, *, flush_interval_ms: float = 20.0, max_batch: int = 2000, clock=time.time_ns,
        checkpoint_interval_s: float = CHECKPOINT_INTERVAL_S, wal_restart_mib: float = WAL_RESTART_MIB,
    ) -> None:  # fmt: skip
        if max_batch < 1:
            raise ValueError("max_batch must be >= 1")
        if not checkpoint_interval_s > 0:
            raise ValueError(f"checkpoint_interval_s must be positive, got {checkpoint_interval_s!r}")
        if not wal_restart_mib > 0:
            raise ValueError(f"wal_restart_mib must be positive, got {wal_restart_mib!r}")
        self._wal_restart_pages = int(wal_restart_mib * 256)  # 4 KiB pages
        self.engine = engine
        self.flush_interval = flush_interval_ms / 1000.0
        self.max_batch = max_batch
        self._clock = clock
        self._pending: deque[tuple[Any, _Waiter | None]] = deque()  # queued records, oldest first
        # rows the writer thread encoded ahead of its commit, outside the commit lock: id(entry) -> (entry, row)
        self._encoded: dict[int, tuple[tuple[Any, _Waiter | None], dict[str, Any]]] = {}
        self.preencoded = 0  # rows encoded ahead (counted when a commit used them)
        self._wake = threading.Event()  # set by appends and close
        self._commit_lock = threading.Lock()  # one committer at a time: commits follow append order
        self._stopping = False
        self._sqlite = engine.dialect.name == "sqlite" and sqlite3.sqlite_version_info >= (3, 9)  # json_each
        self._raw: Any = None  # the SQLite DBAPI connection of the committer (under the commit lock)
        self._raw_cursor: Any = None  # its sqlite3 cursor, reused for every commit
        self._base: int | None = None  # the last seq this store committed on it (None: read it)
        self._error: BaseException | None = None
        self._closed = False
        self._lock = threading.Lock()
        self.committed_batches = 0
        self.committed_events = 0
        self._thread = threading.Thread(target=self._run, name="tradewire-event-writer", daemon=True)
        self._thread.start()
        self.checkpoints = 0
        self.wal_restarts = 0  # RESTART checkpoints (the WAL grew past wal_restart_mib)
        self._stop_checkpoints = threading.Event()
        self._checkpointer: threading.Thread | None = None
        if engine.dialect.name == "sqlite":
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, args=(checkpoint_interval_s,), name="tradewire-wal-checkpoint",
                daemon=True,
            )  # fmt: skip
            self._checkpointer.start()

    def _checkpoint_loop(self, interval_s: float) -> None:
        """Copy the SQLite WAL into the database file every ``interval_s``, off the writer thread.

        ``PASSIVE`` copies what no reader still needs and never blocks the writers
        (https://www.sqlite.org/pragma.html#pragma_wal_checkpoint). When a round completes with no commit
        after it, the next commit starts the WAL over from its beginning (https://www.sqlite.org/wal.html), which
        is what happens whenever orders pause. Under a steady stream of commits a round never completes (new
        frames arrive while it fsyncs), so the WAL grows; past ``wal_restart_mib`` one ``RESTART`` holds the
        writers while it copies what the passive rounds left, fsyncs, and starts the WAL over. The WAL file is cut
        back to 64 MiB when it starts over (``journal_size_limit``).

        Passive rounds write the database file without syncing it, so the ``RESTART``'s sync of the database file
        used to flush seconds of their writes while it held the writers: 10-13 ms on the CI machine's disk. The
        thread therefore syncs the database file and runs one more passive round first, without holding anyone;
        the ``RESTART`` then copies and syncs only the frames of the last few milliseconds (1.0-1.4 ms against
        11-13 ms, measured at 500 commits/s).

        Settings measured with ``benchmarks/wal_checkpoint.py`` (durable appends of one order's records at 500
        orders/s for 20 s, two alternating rounds per setting; the WAL grows by about 13 MiB/s):

        ==========================  ============  ============  ======  ========
        period / restart past       commit p99.9  commit max    > 2 ms  restarts
        ==========================  ============  ============  ======  ========
        before the sync-first RESTART:
        0.2 s / 64 MiB              6.1-9.8 ms    15.6-16.4 ms  20-21   7
        0.05 s / 64 MiB             2.4-3.1 ms    10.0-12.3 ms  12      8
        with it:
        0.2 s / 64 MiB              0.9-1.8 ms    1.6-13.1 ms   0-6     7
        **0.05 s / 64 MiB**         0.7-1.4 ms    2.9-4.6 ms    1-4     8
        0.05 s / 256 MiB            0.8-1.5 ms    1.5-9.2 ms    0-8     2
        ==========================  ============  ============  ======  ========

        Each passive round fsyncs the WAL frames that arrived since the last one, and a commit that runs into
        that fsync waits for it: short rounds mean short waits. A larger limit gains nothing measurable.

        The thread's connection gives up waiting for readers after 250 ms (``busy_timeout``): a ``RESTART``
        waits for the readers of the old WAL while holding our writers, and a long read (an API query) must
        not stall them for longer; the next round tries again.
        """
        conn = self.engine.raw_connection()
        db_path = self.engine.url.database
        try:
            raw = conn.driver_connection
            prepare_checkpoint_connection(raw)
            while not self._stop_checkpoints.wait(interval_s):
                try:
                    if checkpoint_round(raw, db_path, self._commit_lock, self._wal_restart_pages):
                        self.wal_restarts += 1
                    self.checkpoints += 1
                except Exception:  # busy or closing: the next round retries
                    continue
        finally:
            conn.close()

    # -- writing -------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._error is not None:
            raise StoreError(f"event store failed: {self._error!r}") from self._error
        if self._closed:
            raise StoreError("event store is closed")

    def append(self, record: Any, *, durable: bool = False) -> int | None:
        """Queue ``record`` for the log; with ``durable=True`` commit it (and everything queued before it) now.

        A durable append runs the commit on the calling thread, under the store's commit lock: no hand-off to
        the writer thread and back (two thread wake-ups, each waiting for the GIL, measured as most of a
        durable append's 1-2 ms on a busy 2-core machine), the same fsync.

        Parameters
        ----------
        record : registered frozen dataclass
            An order event, account state, position event, operator action, alert, …
        durable : bool
            Commit (and, per the database's synchronous setting, fsync) before returning (see the module
            docstring for when this is required).

        Returns
        -------
        int | None
            The record's sequence number when ``durable``, else None.

        Raises
        ------
        SerializationError
            If the record's type is not registered (checked before queueing).
        StoreError
            If the store is closed or failed, or (durable) the commit failed.
        """
        if not is_registered(type(record)):
            raise SerializationError(f"{type(record).__qualname__} is not a registered record type")
        self._check_open()
        if not durable:
            pending = self._pending
            pending.append((record, None))
            if len(pending) >= self.max_batch:  # else the writer's next round (no wake-up per append)
                self._wake.set()
            return None
        w = _Waiter(inline=True)
        self._commit_now([(record, w)])
        self._wait(w)
        return w.seqs[0]

    def append_many(self, records: Iterable[Any], *, durable: bool = False) -> list[int] | None:
        """Append several records, in order; with ``durable`` commit them now and return their sequence numbers."""
        recs = list(records)
        for r in recs:
            if not is_registered(type(r)):
                raise SerializationError(f"{type(r).__qualname__} is not a registered record type")
        self._check_open()
        if not durable:
            self._pending.extend((r, None) for r in recs)
            if len(self._pending) >= self.max_batch:
                self._wake.set()
            return None
        waiters = [_Waiter(inline=True) for _ in recs]
        self._commit_now(list(zip(recs, waiters, strict=True)))
        for w in waiters:
            self._wait(w)
        return [w.seqs[0] for w in waiters]

    def flush(self, timeout: float | None = 60.0) -> None:
        """Return once every record appended before this call is committed.

        Raises
        ------
        StoreError
            On a commit failure, or if ``timeout`` seconds pass first.
        """
        self._check_open()
        w = _Waiter(inline=True)
        self._commit_now([(None, w)], timeout)
        self._wait(w, timeout)

    def _commit_now(self, own: list[tuple[Any, _Waiter | None]], timeout: float | None = None) -> None:
        """Commit everything queued, then ``own``, in one transaction on this thread (FIFO with the writer)."""
        if not self._commit_lock.acquire(timeout=-1 if timeout is None else timeout):
            raise StoreError(f"event store commit did not finish within {timeout} s")
        try:
            self._commit_batch(self._take() + own)
        finally:
            self._commit_lock.release()

    def _take(self, limit: int | None = None) -> list[tuple[Any, _Waiter | None]]:
        """Pop queued records, oldest first (call with the commit lock held: one consumer at a time)."""
        pending = self._pending
        n = len(pending) if limit is None else min(limit, len(pending))
        return [pending.popleft() for _ in range(n)]

    def _wait(self, w: _Waiter, timeout: float | None = None) -> None:
        if not w.done.wait(timeout):
            raise StoreError(f"event store commit did not finish within {timeout} s")
        if w.error is not None:
            raise StoreError(f"event store commit failed: {w.error!r}") from w.error

    def close(self, timeout: float = 60.0) -> None:
        """Flush what is queued, stop the writer thread and dispose of the engine (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout)
        self._stop_checkpoints.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout)
        with self._commit_lock:
            if self._raw is not None:
                self._raw_cursor.close()
                self._raw.close()
                self._raw = self._raw_cursor = None
        self.engine.dispose()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writer thread -------------------------------------------------------------------------
    def _run(self) -> None:
        """Commit the batched records every ``flush_interval`` (a record waits at most about that long), at once
        when ``max_batch`` are waiting, and everything left on close. The round is a timer, not a wake-up per
        append: waking this thread for each record cost the appending engine thread a GIL hand-off each time."""
        pending, wake = self._pending, self._wake
        while True:
            wake.wait(self.flush_interval)
            wake.clear()
            if pending:
                self._preencode()
                with self._commit_lock:
                    while pending:
                        self._commit_batch(self._take(self.max_batch))
                    self._encoded.clear()  # rows of entries another committer took in the meantime
            if self._stopping and not pending:
                return

    def _preencode(self) -> None:
        """Encode the queued records into rows before taking the commit lock (writer thread only).

        A durable append on another thread waits for the commit lock; while the writer held it for a whole
        batch, that wait included encoding every batched record (about 40 us each), so an order's durable
        commit could wait milliseconds behind the venue events of earlier orders. Encoding first and holding
        the lock only for the database statement shortens that wait to the statement. Entries stay queued
        (commits still follow append order); a committer that takes an entry uses its row when there is one
        and encodes it itself otherwise. A record that does not encode is left to the committer, which reports
        the error as before.
        """
        encoded = self._encoded
        now = self._clock()
        for entry in list(self._pending):  # a snapshot: appends from other threads go on meanwhile
            rec = entry[0]
            if rec is None or id(entry) in encoded:
                continue
            try:
                encoded[id(entry)] = (entry, self._row(rec, now))
            except (SerializationError, TypeError, ValueError):
                continue

    def _row(self, record: Any, now: int) -> dict[str, Any]:
        cls = type(record)
        plan = _ROW_PLANS.get(cls)
        if plan is None:
            plan = _ROW_PLANS[cls] = _row_plan(cls)
        category, attrs = plan
        row: dict[str, Any] = {"kind": cls.__name__, "category": category}
        for column, names in attrs:
            v = None
            for name in names:  # instrument_id: the record's instrument_id, else its id (an Instrument)
                v = getattr(record, name, None)
                if v:
                    break
            row[column] = None if v is None else str(v)
        row["ts_event"] = int(getattr(record, "ts_event", None) or now)
        row["ts_init"] = int(getattr(record, "ts_init", None) or now)
        row["ts_recorded"] = now
        row["payload"] = payload_json(record)
        return row

    def _commit_batch(self, batch: list[tuple[Any, _Waiter | None]]) -> None:
        if not batch:
            return
        if self._error is not None:
            for _, w in batch:
                if w is not None:
                    w.error = self._error
                    w.done.set()
            return
        now = self._clock()
        rows: list[dict[str, Any]] = []
        owners: list[_Waiter | None] = []
        bad: list[tuple[_Waiter | None, BaseException]] = []
        encoded = self._encoded
        for entry in batch:
            rec, w = entry
            if rec is None:
                continue
            pre = encoded.pop(id(entry), None) if encoded else None
            if pre is not None and pre[0] is entry:
                row = pre[1]
                row["ts_recorded"] = now  # the commit's time, as for the rows encoded here
                rows.append(row)
                owners.append(w)
                self.preencoded += 1
                continue
            try:
                rows.append(self._row(rec, now))
                owners.append(w)
            except (SerializationError, TypeError, ValueError) as exc:
                bad.append((w, exc))
        error: BaseException | None = None
        for attempt in range(5):
            try:
                if rows:
                    self._insert(rows)
                error = None
                break
            except Exception as exc:  # transient lock/connection errors: retry with backoff
                error = exc
                time.sleep(0.05 * 2**attempt)
        if error is not None:
            self._error = error
        else:
            self.committed_batches += 1
            self.committed_events += len(rows)
        for row, w in zip(rows, owners, strict=True):
            if w is not None:
                w.seqs.append(row["seq"])
        for w, exc in bad:
            if w is not None:
                w.error = exc
            elif self._error is None:
                self._error = exc  # an unencodable batched record: fail loudly, not silently
        for _, w in batch:
            if w is not None:
                if w.error is None:
                    w.error = error
                w.done.set()

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        if self._sqlite:
            self._insert_sqlite(rows)
            return
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_SEQ_LOCK})
            last = conn.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one()
            for i, row in enumerate(rows, start=1):
                row["seq"] = last + i
            conn.execute(events.insert(), rows)

    def _insert_sqlite(self, rows: list[dict[str, Any]]) -> None:
        """The same transaction as one autocommit statement on the store's own DBAPI connection (used under the
        commit lock only).

        ``INSERT ... SELECT * FROM (VALUES (?, ...), ...) WHERE (SELECT max(seq) FROM events) = ?`` with the
        rows' values bound as parameters (``seq`` = ``base`` + 1, 2, ...) and ``base`` the last sequence number
        this store committed; batches of more than :data:`_VALUES_MAX_ROWS` rows pass as one JSON parameter
        instead (``INSERT ... SELECT :base + 1 + j.key, json_extract(j.value, ...) FROM json_each(:rows) WHERE
        ...``), which keeps the statement within SQLite's limit on parameters. SQLite takes the write lock
        when the statement starts and evaluates the guard once before inserting, so the guard and the inserts
        are one atomic step even with other processes appending; when another process appended in between,
        nothing is inserted, ``base`` is read again and the statement repeated. The implicit transaction
        commits when the statement completes. One statement and one release of the GIL per commit, where
        SQLAlchemy's ``BEGIN``/``SELECT``/``INSERT``/``COMMIT`` took four (and 1.9 of 2.4 ms per small durable
        append, profiled): each release costs the engine thread up to a thread switch interval to get the GIL
        back while another thread runs Python code. Binding the values (rather than one JSON text of all rows,
        each payload escaped a second time) saves the engine thread that encoding on every durable commit.
        """
        conn = self._raw
        if conn is None:
            conn = self._raw = self.engine.raw_connection()  # pragmas and autocommit from create_db_engine
            self._raw_cursor = conn.driver_connection.cursor()  # the pool proxy's cursor() costs 20-60 us a call
            self._base = None
        n = len(rows)
        values = list(map(_ROW_VALUES, rows))
        base = self._base
        cur = self._raw_cursor
        try:
            for _ in range(100):
                if base is None:
                    base = cur.execute(_SQLITE_LAST_SEQ).fetchone()[0]
                if n <= _VALUES_MAX_ROWS:
                    params: Any = [x for i, v in enumerate(values, start=base + 1) for x in (i, *v)]
                    params.append(base)
                    inserted = cur.execute(_sqlite_values_insert(n), params).rowcount
                else:
                    text_rows = json.dumps(values, separators=(",", ":"), ensure_ascii=False)
                    inserted = cur.execute(_SQLITE_INSERT, {"rows": text_rows, "base": base}).rowcount
                if inserted == n:
                    break
                if inserted != 0:
                    raise StoreError(f"event store insert wrote {inserted} of {n} rows")
                base = None  # another process appended since: read the last seq again
            else:
                raise StoreError("event store insert: the last sequence number kept changing (100 attempts)")
        except BaseException:
            self._raw = self._raw_cursor = None
            cur.close()
            conn.invalidate()  # a broken connection is not reused: the retry gets a fresh one
            raise
        for i, row in enumerate(rows, start=1):
            row["seq"] = base + i
        self._base = base + n

    # -- reading -------------------------------------------------------------------------------
    def last_seq(self) -> int:
        """Highest committed sequence number (0 when empty)."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one()

    def count(self) -> int:
        """Number of committed records."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(events)).scalar_one()

    def read(
        self, since_seq: int = 0, until_seq: int | None = None, *, kinds: Iterable[str] | None = None,
        client_order_id: str | None = None, ts_from: int | None = None, ts_until: int | None = None,
        chunk: int = 5000,
    ) -> Iterator[StoredEvent]:  # fmt: skip
        """Yield committed records with ``since_seq < seq <= until_seq`` in sequence order.

        Parameters
        ----------
        kinds : iterable of str, optional
            Only these record type names.
        client_order_id : str, optional
            Only records of this order.
        ts_from, ts_until : int, optional
            Only records with ``ts_from <= ts_event < ts_until`` (UTC ns).
        chunk : int
            Rows fetched per query (memory bound).

        Raises
        ------
        SerializationError
            If a stored payload does not decode; the message names its ``seq``.
        """
        kinds_t = tuple(kinds) if kinds is not None else None
        cursor = since_seq
        while True:
            q = select(events.c.seq, events.c.kind, events.c.ts_event, events.c.ts_init, events.c.ts_recorded,
                       events.c.payload).where(events.c.seq > cursor)  # fmt: skip
            if until_seq is not None:
                q = q.where(events.c.seq <= until_seq)
            if kinds_t is not None:
                q = q.where(events.c.kind.in_(kinds_t))
            if client_order_id is not None:
                q = q.where(events.c.client_order_id == str(client_order_id))
            if ts_from is not None:
                q = q.where(events.c.ts_event >= ts_from)
            if ts_until is not None:
                q = q.where(events.c.ts_event < ts_until)
            with self.engine.connect() as conn:
                rows = conn.execute(q.order_by(events.c.seq).limit(chunk)).fetchall()
            for seq, kind, ts_event, ts_init, ts_rec, payload in rows:
                try:
                    rec = loads(kind, payload)
                except SerializationError as exc:
                    raise SerializationError(f"events seq {seq}: {exc}") from None
                yield StoredEvent(seq, kind, ts_event, ts_init, ts_rec, rec)
            if len(rows) < chunk:
                return
            cursor = rows[-1][0]

    def recorded_client_order_ids(self, client_order_ids: Iterable[str]) -> set[str]:
        """Which of ``client_order_ids`` have at least one committed record (any kind, any order event).

        Uses the ``client_order_id`` index; records still queued for the writer are not seen (call
        :meth:`flush` first for those). Used after a restart to tell whether an order was already placed.
        """
        ids = list(dict.fromkeys(map(str, client_order_ids)))
        if not ids:
            return set()
        q = select(events.c.client_order_id).where(events.c.client_order_id.in_(ids)).distinct()
        with self.engine.connect() as conn:
            return {r for (r,) in conn.execute(q)}

    def fill_keys(self) -> set[tuple[str, str]]:
        """``(instrument_id, trade_id)`` of every stored ``OrderFilled`` (for exactly-once checks)."""
        q = select(events.c.instrument_id, events.c.trade_id).where(events.c.kind == "OrderFilled")
        with self.engine.connect() as conn:
            return {(i, t) for i, t in conn.execute(q)}


_ID_COLUMNS = (
    ("client_order_id", ("client_order_id",)), ("strategy_id", ("strategy_id",)),
    ("instrument_id", ("instrument_id", "id")), ("account_id", ("account_id",)), ("trade_id", ("trade_id",)),
)  # fmt: skip
_ROW_PLANS: dict[type, tuple[str, tuple[tuple[str, tuple[str, ...]], ...]]] = {}


def _row_plan(cls: type) -> tuple[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """A record type's ``category`` and, per identifier column, the attributes the type has for it (computed
    once per type: the category depends on the type only, and an attribute a type lacks reads as None)."""
    fields = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
    has = tuple((col, tuple(n for n in names if n in fields or hasattr(cls, n))) for col, names in _ID_COLUMNS)
    return category_of_type(cls), has


def payload_json(record: Any) -> str:
    """The ``events.payload`` text of ``record``: :func:`tradewire.persistence.serialization.encode` as compact
    JSON (the text :func:`tradewire.persistence.serialization.loads` reads).

    Written with orjson (UTF-8 as is, no spaces, like ``json.dumps(..., separators=(",", ":"),
    ensure_ascii=False)``); an integer beyond 64 bits, which orjson refuses, takes the standard library's
    encoder.

    Raises
    ------
    SerializationError
        If the record cannot be encoded exactly.
    """
    data = encode(record)
    try:
        return orjson.dumps(data).decode()
    except TypeError:  # an int beyond 64 bits
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


__all__ = [
    "DURABLE_KINDS", "EventStore", "StoreError", "StoredEvent", "category_of", "category_of_type",
    "payload_json",
]  # fmt: skip
