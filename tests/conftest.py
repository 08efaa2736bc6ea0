"""Shared pytest fixtures. Databases for the persistence tests: one per test, on SQLite and on a real PostgreSQL.

``db_url`` is parametrized over ``sqlite`` (a WAL file under ``tmp_path``) and ``postgresql`` (a new
database on a throw-away server started once per test session on 127.0.0.1, see
:mod:`tradewire.persistence.pgtemp`). Without PostgreSQL server binaries the ``postgresql`` cases are
skipped with the reason.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tradewire.persistence.pgtemp import PostgresUnavailable, TempPostgres

# record builders shared by the persistence tests (``import persistence_factories``) and the API tests' doubles
# (``import api_fakes``)
for _dir in ("persistence", "api"):
    _HERE = str(Path(__file__).parent / "unit" / _dir)
    if _HERE not in sys.path:
        sys.path.insert(0, _HERE)


@pytest.fixture(scope="session")
def pg_server():
    """A running TempPostgres for the session (skips the test when PostgreSQL is unavailable)."""
    pg = TempPostgres(fsync=False)  # functional tests; benchmarks/store.py measures with fsync on
    try:
        pg.start()
    except PostgresUnavailable as exc:
        pg.stop()
        pytest.skip(f"PostgreSQL not available: {exc}")
    yield pg
    pg.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    """URL of a fresh, empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tradewire.db'}"
    return request.getfixturevalue("pg_server").create_database()
