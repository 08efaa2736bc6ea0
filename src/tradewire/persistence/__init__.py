"""Persistence: append-only event store (SQLite or PostgreSQL), read models, recovery, reconciliation.

Start with :func:`open_store`, which resolves the database URL, creates the engine, applies schema
migrations and starts the store's writer thread.
"""

from __future__ import annotations

from tradewire.persistence.engine import DEFAULT_URL, ENV_VAR, create_db_engine, database_url, upgrade
from tradewire.persistence.recorder import EventRecorder
from tradewire.persistence.records import Alert, OperatorAction, ReconciliationDiscrepancy
from tradewire.persistence.serialization import SerializationError, decode, dumps, encode, loads, register
from tradewire.persistence.store import DURABLE_KINDS, EventStore, StoredEvent, StoreError


def open_store(url: str | None = None, *, migrate: bool = True, **store_kwargs) -> EventStore:
    """Open (and by default migrate to head) the event store at ``url``.

    Parameters
    ----------
    url : str, optional
        Database URL; default ``TRADEWIRE_DATABASE_URL`` or ``sqlite:///./tradewire-data/tradewire.db``.
    migrate : bool
        Apply pending Alembic migrations first.
    **store_kwargs
        Passed to :class:`EventStore` (``flush_interval_ms``, ``max_batch``, ``clock``).

    Raises
    ------
    DatabaseConfigError
        On a malformed or unsupported URL.
    sqlalchemy.exc.OperationalError
        If the database cannot be reached.
    """
    engine = create_db_engine(url)
    if migrate:
        upgrade(engine)
    return EventStore(engine, **store_kwargs)


__all__ = [
    "DEFAULT_URL", "DURABLE_KINDS", "ENV_VAR", "Alert", "EventRecorder", "EventStore", "OperatorAction",
    "ReconciliationDiscrepancy", "SerializationError", "StoreError", "StoredEvent", "create_db_engine",
    "database_url", "decode", "dumps", "encode", "loads", "open_store", "register", "upgrade",
]  # fmt: skip
