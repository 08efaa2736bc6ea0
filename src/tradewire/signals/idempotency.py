"""Exactly-once handling of alerts: an idempotency store with an atomic claim.

The first request with a key *claims* it with a single atomic statement (``INSERT ... ON CONFLICT
DO NOTHING``; an expired entry is re-claimed with a conditional ``UPDATE ... WHERE expires_ns <=
now``). Only the claimant goes on to place orders, then stores its response with :meth:`complete`.
Every other request with the same key gets the stored response (or waits while it is pending).
Because the database decides who wins, there is no check-then-insert race between threads or
processes sharing the file.

The webhook hot path uses :meth:`SqlIdempotencyStore.claim_accept` instead: one upsert (``INSERT ...
ON CONFLICT (key) DO UPDATE ... WHERE expires_ns <= now``, one commit) claims the key, stores the 202
response *and* the serialized order intent with ``dispatched = 0``. Once that commit returns, the alert
is durable: if the process dies after answering 202 but before the engine placed the order, the next
start finds the intent with :meth:`SqlIdempotencyStore.undispatched` and hands it to the engine again
(with the client order ids reserved at the first attempt). The engine marks intents it has handled with
:meth:`SqlIdempotencyStore.mark_dispatched` (one statement per drained batch).

:class:`SqlIdempotencyStore` uses SQLAlchemy on SQLite (``./tradewire-data/webhook.sqlite`` by
default, WAL journal, ``synchronous=NORMAL``: a committed claim survives a crash of the process;
use ``synchronous="FULL"`` to survive power loss too). The persistence layer can supply any other
implementation of :class:`IdempotencyStore`.

What is fsynced when (https://www.sqlite.org/pragma.html#pragma_synchronous, https://www.sqlite.org/wal.html):

* a claim's commit (one per group-commit batch on the event loop) appends its pages to the WAL file. With
  ``NORMAL`` that is a ``write`` into the OS page cache and no fsync: the 202 is sent once the commit returns,
  and the claim survives a crash or kill of the process (the OS writes the file out), not an OS crash or a
  power loss. With ``FULL`` the commit also fsyncs the WAL before returning, on the event loop (0.2 ms median
  on the CI machine's quiet disk, 4 ms median and 9-12 ms p99 while other jobs write to it);
* the checkpoint thread (``PASSIVE`` every ``checkpoint_interval_s``, ``RESTART`` past 64 MiB of WAL) fsyncs
  the WAL, copies it into the database file and fsyncs that file, on its own connection: the request path
  never checkpoints (the claim connections have ``wal_autocheckpoint=0``; SQLite's automatic checkpoint ran
  inside the commit that crossed 1,000 pages and stalled the event loop 12-15 ms every ~270 claims).
  Under steady writes a passive round never completes (frames arrive while it fsyncs), so the WAL only starts
  over at the ``RESTART`` (or when alerts pause), which holds the writers while it copies what the passive
  rounds left and fsyncs. Short rounds (0.05 s) keep each fsync, and the writes that wait behind it, short.
  Both stores follow one policy (:func:`tradewire.core.wal.checkpoint_round`); the figures are in
  :meth:`tradewire.persistence.store.EventStore._checkpoint_loop`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import orjson
from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, Text, create_engine, event, text

from tradewire.core.wal import checkpoint_round, prepare_checkpoint_connection


@dataclass(frozen=True, slots=True)
class StoredResult:
    """What is stored under a key: ``status_code``/``response`` are None while the claim is pending."""

    key: str
    source: str
    claimed_ns: int
    expires_ns: int
    status_code: int | None
    response: dict[str, Any] | None

    @property
    def pending(self) -> bool:
        """True while the claimant has not stored its result."""
        return self.status_code is None


class IdempotencyStore(Protocol):
    """Storage of idempotency keys (see module docstring for the contract)."""

    def claim(self, key: str, source: str, now_ns: int, expires_ns: int) -> StoredResult | None:
        """Claim ``key``; return None if the caller now owns it, else the existing live entry."""
        ...

    def complete(self, key: str, status_code: int, response: dict[str, Any]) -> None:
        """Store the claimant's result."""
        ...

    def release(self, key: str, accepted: bool = False) -> None:
        """Drop a claim whose processing failed before any order was placed (``accepted``: a claim made
        by :meth:`claim_accept`)."""
        ...

    def get(self, key: str) -> StoredResult | None:
        """The entry for ``key`` or None."""
        ...

    def purge(self, now_ns: int) -> int:
        """Delete expired entries; return how many."""
        ...

    def claim_accept(
        self, key: str, source: str, now_ns: int, expires_ns: int, status_code: int, response: dict[str, Any],
        intent: str,
    ) -> StoredResult | None:  # fmt: skip
        """Claim ``key`` and store its response and undispatched ``intent`` in one commit; None if claimed,
        else the existing live entry."""
        ...

    def mark_dispatched(self, keys: list[str], state: int = 1) -> None:
        """Record that the intents of ``keys`` were handled by the engine (``state`` 1) or dropped (2)."""
        ...

    def undispatched(self) -> list[tuple[str, str, int, str]]:
        """``(key, source, claimed_ns, intent)`` of accepted intents not yet handled, oldest first."""
        ...


_metadata = MetaData()
idempotency_table = Table(
    "webhook_idempotency",
    _metadata,
    Column("key", String(128), primary_key=True),
    Column("source", String(64), nullable=False),
    Column("claimed_ns", BigInteger, nullable=False),
    Column("expires_ns", BigInteger, nullable=False, index=True),
    Column("status_code", Integer, nullable=True),
    Column("response", Text, nullable=True),
    Column("intent", Text, nullable=True),  # serialized AlertIntent of an accepted alert
    Column("dispatched", Integer, nullable=True),  # 0 waiting for the engine, 1 handled, 2 dropped; NULL: none
)


# Statements are built once (textual SQL: statement construction would dominate the cost of a claim).
_INSERT = text(
    "INSERT INTO webhook_idempotency (key, source, claimed_ns, expires_ns) VALUES (:key, :source, :now, :exp) "
    "ON CONFLICT (key) DO NOTHING"
)
_RECLAIM = text(
    "UPDATE webhook_idempotency SET source = :source, claimed_ns = :now, expires_ns = :exp, status_code = NULL, "
    "response = NULL WHERE key = :key AND expires_ns <= :now"
)
_SELECT = text(
    "SELECT key, source, claimed_ns, expires_ns, status_code, response FROM webhook_idempotency WHERE key = :key"
)
_COMPLETE = text("UPDATE webhook_idempotency SET status_code = :status, response = :response WHERE key = :key")
_RELEASE = text("DELETE FROM webhook_idempotency WHERE key = :key AND status_code IS NULL")
_RELEASE_ACCEPTED = text("DELETE FROM webhook_idempotency WHERE key = :key AND dispatched = 0")
_PURGE = text(
    "DELETE FROM webhook_idempotency WHERE expires_ns <= :now AND status_code IS NOT NULL "
    "AND (dispatched IS NULL OR dispatched <> 0)"
)
_CLAIM_ACCEPT = text(
    "INSERT INTO webhook_idempotency (key, source, claimed_ns, expires_ns, status_code, response, intent, dispatched) "
    "VALUES (:key, :source, :now, :exp, :status, :response, :intent, 0) "
    "ON CONFLICT (key) DO UPDATE SET source = excluded.source, claimed_ns = excluded.claimed_ns, "
    "expires_ns = excluded.expires_ns, status_code = excluded.status_code, response = excluded.response, "
    "intent = excluded.intent, dispatched = 0 WHERE webhook_idempotency.expires_ns <= excluded.claimed_ns"
)
_UNDISPATCHED = text(
    "SELECT key, source, claimed_ns, intent FROM webhook_idempotency WHERE dispatched = 0 ORDER BY claimed_ns"
)
_ADDED_COLUMNS = (("intent", "TEXT"), ("dispatched", "INTEGER"))
_CLAIM_ACCEPT_SQL = _CLAIM_ACCEPT.text
_SELECT_SQL = _SELECT.text
_MARK_SQL = "UPDATE webhook_idempotency SET dispatched = :state WHERE key = :key"
_RAW_LOCK = threading.Lock()


def _dumps(response: dict[str, Any]) -> str:
    """A stored response as JSON text (orjson: the claim is on the request path; ``json.loads`` reads it)."""
    return orjson.dumps(response).decode()


_WAL_MAX_PAGES = 16_384  # 64 MiB of 4 KiB pages (see SqlIdempotencyStore._checkpoint_loop)


@dataclass(frozen=True, slots=True)
class _Row:
    key: str
    source: str
    claimed_ns: int
    expires_ns: int
    status_code: int | None
    response: str | None


def _row_to_result(row) -> StoredResult:
    return StoredResult(
        key=row.key,
        source=row.source,
        claimed_ns=row.claimed_ns,
        expires_ns=row.expires_ns,
        status_code=row.status_code,
        response=json.loads(row.response) if row.response is not None else None,
    )


class SqlIdempotencyStore:
    """SQLite-backed :class:`IdempotencyStore` (thread-safe; safe across processes on one file).

    Parameters
    ----------
    path : str | Path
        Database file; parent directories are created. ``":memory:"`` for a private in-memory DB.
    synchronous : {"NORMAL", "FULL"}
        SQLite ``PRAGMA synchronous`` (see module docstring).
    checkpoint_interval_s : float
        Period of the background WAL checkpoint of a file store (the request path never checkpoints).
    """

    def __init__(
        self, path: str | Path = "./tradewire-data/webhook.sqlite", synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        checkpoint_interval_s: float = 0.05,
    ):  # fmt: skip
        if str(path) == ":memory:":
            from sqlalchemy.pool import StaticPool

            self._engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
            self._path: str | None = None  # one shared connection, used under self._lock
        else:
            p = Path(path)
            p.parent.mkdir(parents=True, exist_ok=True)
            self._engine = create_engine(
                f"sqlite:///{p}", connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8
            )
            self._path = str(p)
        # One statement at a time from this process. In memory: the single shared connection. In a file (each
        # thread has its own connection): a thread that found SQLite's write lock taken by another of ours slept
        # in SQLite's busy handler (1, 2, 5, 10 ... ms steps), measured 14 ms on average for the engine's
        # mark_dispatched behind the event loop's claims; waiting on this lock instead, it runs as soon as the
        # other statement is done.
        self._lock = threading.Lock()
        sync = synchronous
        self._sync = synchronous
        self._local = threading.local()
        self._raw_conns: list[sqlite3.Connection] = []
        self._shared_raw: sqlite3.Connection | None = None
        self._checkpointer: threading.Thread | None = None
        self._checkpoint_interval_s = checkpoint_interval_s
        self._stop = threading.Event()

        @event.listens_for(self._engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - exercised via connect
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={sync}")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        _metadata.create_all(self._engine)
        with self._engine.begin() as conn:  # files created before the intent columns existed
            have = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(webhook_idempotency)")}
            for name, sql_type in _ADDED_COLUMNS:
                if name not in have:
                    conn.exec_driver_sql(f"ALTER TABLE webhook_idempotency ADD COLUMN {name} {sql_type}")

    def _begin(self):
        return self._engine.begin()

    def _raw(self) -> sqlite3.Connection:
        """The calling thread's own ``sqlite3`` connection in autocommit mode (the hot path skips SQLAlchemy:
        its per-statement overhead was most of the cost of a claim). In-memory stores share their single
        connection. Callers hold ``self._lock`` (both kinds of store: one statement at a time)."""
        if self._path is None:
            if self._shared_raw is None:
                self._shared_raw = self._engine.raw_connection().driver_connection
            return self._shared_raw
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self._sync}")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints run in the background thread instead
            self._local.conn = conn
            with _RAW_LOCK:
                self._raw_conns.append(conn)
                if self._checkpointer is None:
                    self._checkpointer = threading.Thread(
                        target=self._checkpoint_loop, name="webhook-wal-checkpoint", daemon=True
                    )
                    self._checkpointer.start()
        return conn

    def _checkpoint_loop(self) -> None:
        """Copy the WAL into the database file every ``checkpoint_interval_s``, off the request path.

        SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL pages and fsyncs the
        database file there: measured 12-15 ms every ~270 claims on the event loop. ``PASSIVE`` never
        blocks the writers (https://www.sqlite.org/pragma.html#pragma_wal_checkpoint). Past 64 MiB of WAL one
        ``RESTART`` holds the writers while the WAL starts over; it waits for readers at most 250 ms (the next
        round tries again), so a long read does not hold the writers longer. Before it, the database file is
        synced and one more passive round runs, without holding the writers, so that the ``RESTART`` syncs only
        the last few milliseconds' pages (see :meth:`tradewire.persistence.store.EventStore._checkpoint_loop`).
        """
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            prepare_checkpoint_connection(conn)
            while not self._stop.wait(self._checkpoint_interval_s):
                try:
                    checkpoint_round(conn, self._path, self._lock, _WAL_MAX_PAGES)  # our writers wait on the lock
                except sqlite3.Error:  # busy or closing: the next round retries
                    continue
        finally:
            conn.close()

    def _raw_exec(self, sql: str, params: Any) -> int:
        conn = self._raw()
        cur = conn.execute(sql, params)
        if conn.in_transaction:  # the shared in-memory connection is not in autocommit mode
            conn.commit()
        return cur.rowcount

    def claim(self, key: str, source: str, now_ns: int, expires_ns: int) -> StoredResult | None:
        """Atomically claim ``key`` (see :class:`IdempotencyStore`)."""
        with self._lock:
            return self._claim(key, source, now_ns, expires_ns)

    def _claim(self, key: str, source: str, now_ns: int, expires_ns: int) -> StoredResult | None:
        params = {"key": key, "source": source, "now": now_ns, "exp": expires_ns}
        with self._begin() as conn:
            if conn.execute(_INSERT, params).rowcount == 1:
                return None
            if conn.execute(_RECLAIM, params).rowcount == 1:
                return None
            return _row_to_result(conn.execute(_SELECT, {"key": key}).one())

    def claim_accept(
        self, key: str, source: str, now_ns: int, expires_ns: int, status_code: int, response: dict[str, Any],
        intent: str,
    ) -> StoredResult | None:  # fmt: skip
        """Claim ``key`` and store the response and the undispatched intent with one statement and one commit.

        Parameters
        ----------
        key, source : str
            Idempotency key and webhook source.
        now_ns, expires_ns : int
            Claim time and expiry (UTC ns); an entry whose ``expires_ns <= now_ns`` is claimed again.
        status_code : int
            The HTTP status a duplicate will be answered with.
        response : dict
            Its JSON body.
        intent : str
            Serialized order intent (opaque to the store), returned by :meth:`undispatched` until
            :meth:`mark_dispatched`.

        Returns
        -------
        StoredResult | None
            None if the caller now owns the key; otherwise the live entry that won (a second statement,
            only on this duplicate path).
        """
        params = {"key": key, "source": source, "now": now_ns, "exp": expires_ns, "status": status_code,
                  "response": _dumps(response), "intent": intent}  # fmt: skip
        with self._lock:
            return self._claim_accept(params)

    def claim_accept_many(self, items: list[tuple]) -> list[StoredResult | None]:
        """:meth:`claim_accept` for several alerts in one transaction (one commit: group commit).

        Parameters
        ----------
        items : list[tuple]
            ``(key, source, now_ns, expires_ns, status_code, response, intent)`` per alert, in arrival order.
            A key repeated in the batch is claimed by its first occurrence; the later ones get that entry.

        Returns
        -------
        list[StoredResult | None]
            Per item, as :meth:`claim_accept` returns it.
        """
        params = [
            {"key": k, "source": src, "now": now, "exp": exp, "status": st, "response": _dumps(resp), "intent": it}
            for k, src, now, exp, st, resp, it in items
        ]
        with self._lock:
            if len(params) == 1:  # one statement in autocommit mode (no BEGIN/COMMIT round trips)
                return [self._claim_accept(params[0])]
            return self._claim_accept_many(params)

    def _claim_accept_many(self, params: list[dict[str, Any]]) -> list[StoredResult | None]:
        conn = self._raw()
        out: list[StoredResult | None] = []
        if not conn.in_transaction:
            conn.execute("BEGIN IMMEDIATE")
        try:
            for p in params:
                if conn.execute(_CLAIM_ACCEPT_SQL, p).rowcount == 1:
                    out.append(None)
                else:
                    row = conn.execute(_SELECT_SQL, {"key": p["key"]}).fetchone()
                    out.append(_row_to_result(_Row(*row)))
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
        return out

    def _claim_accept(self, params: dict[str, Any]) -> StoredResult | None:
        while True:
            if self._raw_exec(_CLAIM_ACCEPT_SQL, params) == 1:  # one statement = one transaction (autocommit)
                return None
            row = self._raw().execute(_SELECT_SQL, {"key": params["key"]}).fetchone()
            if row is not None:
                return _row_to_result(_Row(*row))
            # the winner's entry was released (deleted) in between: try to claim again

    def mark_dispatched(self, keys: list[str], state: int = 1) -> None:
        """Set ``dispatched = state`` (1 handled by the engine, 2 dropped) for ``keys``, in one transaction."""
        if not keys:
            return
        marks = [{"key": k, "state": state} for k in keys]
        with self._lock:
            self._mark(marks)

    def _mark(self, marks: list[dict[str, Any]]) -> None:
        if len(marks) == 1:
            self._raw_exec(_MARK_SQL, marks[0])
            return
        conn = self._raw()
        if not conn.in_transaction:
            conn.execute("BEGIN")
        try:
            conn.executemany(_MARK_SQL, marks)
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    def undispatched(self) -> list[tuple[str, str, int, str]]:
        """Accepted intents the engine has not handled, oldest first: ``(key, source, claimed_ns, intent)``."""
        with self._lock, self._engine.connect() as conn:
            rows = conn.execute(_UNDISPATCHED).all()
        return [(r.key, r.source, r.claimed_ns, r.intent) for r in rows]

    def complete(self, key: str, status_code: int, response: dict[str, Any]) -> None:
        """Store the result of a claimed key."""
        self._exec(_COMPLETE, {"key": key, "status": status_code, "response": json.dumps(response)})

    def release(self, key: str, accepted: bool = False) -> None:
        """Delete a pending claim (``accepted``: also a claim made by :meth:`claim_accept` whose intent was
        never handed to the engine)."""
        if accepted:
            self._exec(_RELEASE_ACCEPTED, {"key": key})
            return
        self._exec(_RELEASE, {"key": key})

    def get(self, key: str) -> StoredResult | None:
        """Read one entry."""
        with self._lock, self._engine.connect() as conn:
            row = conn.execute(_SELECT, {"key": key}).one_or_none()
        return None if row is None else _row_to_result(row)

    def purge(self, now_ns: int) -> int:
        """Delete expired, completed entries."""
        return self._exec(_PURGE, {"now": now_ns})

    def _exec(self, stmt, params: dict[str, Any]) -> int:
        with self._lock, self._begin() as conn:
            return conn.execute(stmt, params).rowcount

    def close(self) -> None:
        """Close the raw connections and dispose of the connection pool."""
        self._stop.set()
        if self._checkpointer is not None:
            self._checkpointer.join(5)
        with _RAW_LOCK:
            conns, self._raw_conns = self._raw_conns, []
        for conn in conns:
            conn.close()
        self._local = threading.local()
        self._engine.dispose()
