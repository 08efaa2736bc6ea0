"""Exactly-once handling of alerts: an idempotency store with an atomic claim.

The first request with a key *claims* it with a single atomic statement (``INSERT ... ON CONFLICT
DO NOTHING``; an expired entry is re-claimed with a conditional ``UPDATE ... WHERE expires_ns <=
now``). Only the claimant goes on to place orders, then stores its response with :meth:`complete`.
Every other request with the same key gets the stored response (or waits while it is pending).
Because the database decides who wins, there is no check-then-insert race between threads or
processes sharing the file.

:class:`SqlIdempotencyStore` uses SQLAlchemy on SQLite (``./tradewire-data/webhook.sqlite`` by
default, WAL journal, ``synchronous=NORMAL``: a committed claim survives a crash of the process;
use ``synchronous="FULL"`` to survive power loss too). The persistence layer can supply any other
implementation of :class:`IdempotencyStore`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, Text, create_engine, event, select, update
from sqlalchemy import delete as sa_delete
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


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

    def release(self, key: str) -> None:
        """Drop a claim whose processing failed before any order was placed."""
        ...

    def get(self, key: str) -> StoredResult | None:
        """The entry for ``key`` or None."""
        ...

    def purge(self, now_ns: int) -> int:
        """Delete expired entries; return how many."""
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
)


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
    """

    def __init__(
        self, path: str | Path = "./tradewire-data/webhook.sqlite", synchronous: Literal["NORMAL", "FULL"] = "NORMAL"
    ):
        if str(path) == ":memory:":
            from sqlalchemy.pool import StaticPool

            self._engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
            self._lock: threading.Lock | None = threading.Lock()  # one shared connection
        else:
            p = Path(path)
            p.parent.mkdir(parents=True, exist_ok=True)
            self._engine = create_engine(
                f"sqlite:///{p}", connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8
            )
            self._lock = None
        sync = synchronous

        @event.listens_for(self._engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - exercised via connect
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={sync}")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        _metadata.create_all(self._engine)

    def _begin(self):
        return self._engine.begin()

    def claim(self, key: str, source: str, now_ns: int, expires_ns: int) -> StoredResult | None:
        """Atomically claim ``key`` (see :class:`IdempotencyStore`)."""
        if self._lock is not None:
            with self._lock:
                return self._claim(key, source, now_ns, expires_ns)
        return self._claim(key, source, now_ns, expires_ns)

    def _claim(self, key: str, source: str, now_ns: int, expires_ns: int) -> StoredResult | None:
        t = idempotency_table
        with self._begin() as conn:
            res = conn.execute(
                sqlite_insert(t)
                .values(key=key, source=source, claimed_ns=now_ns, expires_ns=expires_ns)
                .on_conflict_do_nothing(index_elements=[t.c.key])
            )
            if res.rowcount == 1:
                return None
            res = conn.execute(
                update(t)
                .where(t.c.key == key, t.c.expires_ns <= now_ns)
                .values(source=source, claimed_ns=now_ns, expires_ns=expires_ns, status_code=None, response=None)
            )
            if res.rowcount == 1:
                return None
            row = conn.execute(select(t).where(t.c.key == key)).one()
            return _row_to_result(row)

    def complete(self, key: str, status_code: int, response: dict[str, Any]) -> None:
        """Store the result of a claimed key."""
        t = idempotency_table
        stmt = update(t).where(t.c.key == key).values(status_code=status_code, response=json.dumps(response))
        self._exec(stmt)

    def release(self, key: str) -> None:
        """Delete a pending claim."""
        t = idempotency_table
        self._exec(sa_delete(t).where(t.c.key == key, t.c.status_code.is_(None)))

    def get(self, key: str) -> StoredResult | None:
        """Read one entry."""
        t = idempotency_table
        if self._lock is not None:
            with self._lock, self._engine.connect() as conn:
                row = conn.execute(select(t).where(t.c.key == key)).one_or_none()
        else:
            with self._engine.connect() as conn:
                row = conn.execute(select(t).where(t.c.key == key)).one_or_none()
        return None if row is None else _row_to_result(row)

    def purge(self, now_ns: int) -> int:
        """Delete expired, completed entries."""
        t = idempotency_table
        return self._exec(sa_delete(t).where(t.c.expires_ns <= now_ns, t.c.status_code.is_not(None)))

    def _exec(self, stmt) -> int:
        if self._lock is not None:
            with self._lock, self._begin() as conn:
                return conn.execute(stmt).rowcount
        with self._begin() as conn:
            return conn.execute(stmt).rowcount

    def close(self) -> None:
        """Dispose of the connection pool."""
        self._engine.dispose()
