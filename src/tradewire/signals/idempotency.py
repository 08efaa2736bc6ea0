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

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, Text, create_engine, event, text


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
_PURGE = text("DELETE FROM webhook_idempotency WHERE expires_ns <= :now AND status_code IS NOT NULL")


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
        params = {"key": key, "source": source, "now": now_ns, "exp": expires_ns}
        with self._begin() as conn:
            if conn.execute(_INSERT, params).rowcount == 1:
                return None
            if conn.execute(_RECLAIM, params).rowcount == 1:
                return None
            return _row_to_result(conn.execute(_SELECT, {"key": key}).one())

    def complete(self, key: str, status_code: int, response: dict[str, Any]) -> None:
        """Store the result of a claimed key."""
        self._exec(_COMPLETE, {"key": key, "status": status_code, "response": json.dumps(response)})

    def release(self, key: str) -> None:
        """Delete a pending claim."""
        self._exec(_RELEASE, {"key": key})

    def get(self, key: str) -> StoredResult | None:
        """Read one entry."""
        if self._lock is not None:
            with self._lock, self._engine.connect() as conn:
                row = conn.execute(_SELECT, {"key": key}).one_or_none()
        else:
            with self._engine.connect() as conn:
                row = conn.execute(_SELECT, {"key": key}).one_or_none()
        return None if row is None else _row_to_result(row)

    def purge(self, now_ns: int) -> int:
        """Delete expired, completed entries."""
        return self._exec(_PURGE, {"now": now_ns})

    def _exec(self, stmt, params: dict[str, Any]) -> int:
        if self._lock is not None:
            with self._lock, self._begin() as conn:
                return conn.execute(stmt, params).rowcount
        with self._begin() as conn:
            return conn.execute(stmt, params).rowcount

    def close(self) -> None:
        """Dispose of the connection pool."""
        self._engine.dispose()
