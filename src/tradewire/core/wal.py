"""The background WAL checkpoint policy shared by the SQLite stores (event store, webhook idempotency store).

Each store runs :func:`checkpoint_round` every few tens of milliseconds on a connection of its own (prepared with
:func:`prepare_checkpoint_connection`); the figures behind the policy are in
:meth:`tradewire.persistence.store.EventStore._checkpoint_loop`.

This module stays interpreted in the optional mypyc build: it is SQLite I/O on a background thread, and tests
replace :func:`fdatasync_path` on the module, which a compiled :func:`checkpoint_round` would not see.
"""

from __future__ import annotations

import os
import sqlite3
import threading

RESTART_READER_WAIT_MS = 250
"""How long a ``RESTART`` waits for readers of the old WAL (it holds the writers meanwhile)."""
JOURNAL_SIZE_LIMIT = 64 * 2**20
"""Bytes a WAL file is cut back to when it starts over."""


def fdatasync_path(path: str | None) -> bool:
    """Flush the data of the file at ``path`` to the disk (``fdatasync(2)``).

    Returns
    -------
    bool
        True once flushed; False when there is no such file (no path, an in-memory database, a URI filename) or
        the flush failed. Callers use it to make a later sync cheaper, never for durability itself, so a False
        only means that later sync does the work.
    """
    if not path or path == ":memory:":
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        os.fdatasync(fd)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def prepare_checkpoint_connection(conn: sqlite3.Connection) -> None:
    """Set up ``conn`` for :func:`checkpoint_round`: wait at most :data:`RESTART_READER_WAIT_MS` for readers (a
    long read, such as an API query, must not hold the writers longer; the next round tries again) and cut a
    restarted WAL file back to :data:`JOURNAL_SIZE_LIMIT`."""
    conn.execute(f"PRAGMA busy_timeout={RESTART_READER_WAIT_MS}")
    conn.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")


def checkpoint_round(conn: sqlite3.Connection, path: str | None, writers: threading.Lock, restart_pages: int) -> bool:
    """One checkpoint round: ``PASSIVE``, and once the WAL holds more than ``restart_pages`` frames, a ``RESTART``.

    ``PASSIVE`` never blocks the writers (https://www.sqlite.org/pragma.html#pragma_wal_checkpoint). Under a
    steady stream of commits it never completes, so the WAL only starts over at a ``RESTART``, which holds the
    writers. Passive rounds write the database file without syncing it, so before the ``RESTART`` the file is
    synced and one more passive round runs, holding no one: the ``RESTART`` then copies and syncs only the last
    few milliseconds' pages. The store's writers wait on ``writers`` (held for the ``RESTART``) rather than in
    SQLite's busy handler, whose sleeps of 1, 2, 5, 10 ... ms overshoot.

    Parameters
    ----------
    conn : sqlite3.Connection
        The checkpoint thread's own connection (see :func:`prepare_checkpoint_connection`).
    path : str | None
        The database file (None or ``":memory:"``: no sync beforehand).
    writers : threading.Lock
        The lock the store's writers take for each statement.
    restart_pages : int
        WAL frames past which the round restarts the WAL.

    Returns
    -------
    bool
        True if the round ran a ``RESTART``.

    Raises
    ------
    sqlite3.Error
        From the checkpoint statements (busy, closing); the caller retries on its next round.
    """
    _busy, wal_pages, _done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    if wal_pages <= restart_pages:
        return False
    fdatasync_path(path)
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    with writers:
        conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
    return True


__all__ = [
    "JOURNAL_SIZE_LIMIT", "RESTART_READER_WAIT_MS", "checkpoint_round", "fdatasync_path",
    "prepare_checkpoint_connection",
]  # fmt: skip
