"""Alembic migrations on SQLite and PostgreSQL: from empty, from the previous revision (with data), head == tables."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from tradewire.persistence import create_db_engine, open_store, upgrade
from tradewire.persistence.engine import _newest_revision_file, current_revision, head_revision, revisions
from tradewire.persistence.tables import metadata


def test_revision_chain_and_head_convention():
    assert revisions() == ["0001", "0002"]
    assert head_revision() == _newest_revision_file() == "0002"


def test_upgrade_from_empty_matches_tables_module(db_url):
    engine = create_db_engine(db_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        insp = sa.inspect(engine)
        for table in metadata.sorted_tables:
            cols = {c["name"] for c in insp.get_columns(table.name)}
            assert cols == {c.name for c in table.columns}, table.name
            idx = {i["name"] for i in insp.get_indexes(table.name)}
            assert {i.name for i in table.indexes} <= idx, table.name
        upgrade(engine)  # idempotent
    finally:
        engine.dispose()


def test_upgrade_from_previous_revision_backfills_and_keeps_append_only(db_url):
    engine = create_db_engine(db_url)
    try:
        upgrade(engine, "0001")
        assert current_revision(engine) == "0001"
        payload = json.dumps({"trade_id": "T-77", "instrument_id": "X.Y"})
        with engine.begin() as c:
            c.execute(sa.text(
                "INSERT INTO events (seq, kind, category, instrument_id, ts_event, ts_init, ts_recorded, payload) "
                "VALUES (1, 'OrderFilled', 'fill', 'X.Y', 1, 1, 1, :p), (2, 'Alert', 'alert', NULL, 1, 1, 1, '{}')"
            ), {"p": payload})  # fmt: skip
        upgrade(engine)
        assert current_revision(engine) == "0002"
        with engine.connect() as c:
            rows = c.execute(sa.text("SELECT seq, trade_id FROM events ORDER BY seq")).fetchall()
        assert [tuple(r) for r in rows] == [(1, "T-77"), (2, None)]
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as c:  # triggers are back
            c.execute(sa.text("DELETE FROM events"))
    finally:
        engine.dispose()
    store = open_store(db_url)  # the store works on the upgraded database and continues the sequence
    try:
        from tradewire.persistence import Alert

        assert store.append(Alert("t", "info", "after upgrade", 5, 5), durable=True) == 3
    finally:
        store.close()
