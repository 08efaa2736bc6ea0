"""Add ``events.trade_id`` (indexed with ``instrument_id``) for fast duplicate-fill checks; backfill fills.

Existing ``OrderFilled`` rows get their ``trade_id`` copied from the JSON payload. The backfill is an
UPDATE, which the append-only trigger forbids, so the trigger is dropped for the duration of this
migration (inside its transaction) and created again: no other writer can observe the gap.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _drop_triggers(dialect: str) -> None:
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS events_no_update")
        op.execute("DROP TRIGGER IF EXISTS events_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS events_append_only ON events")


def _create_triggers(dialect: str) -> None:
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER events_no_{verb.lower()} BEFORE {verb} ON events "
                "BEGIN SELECT RAISE(ABORT, 'events is append-only: " + verb + " rejected'); END"
            )
    else:
        op.execute(
            "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
            "FOR EACH ROW EXECUTE FUNCTION tradewire_events_append_only()"
        )


def upgrade() -> None:
    """Add the column and index, backfill fills."""
    bind = op.get_bind()
    dialect = bind.dialect.name
    # ALTER TABLE ... ADD COLUMN (not batch mode: a SQLite table copy would lose the triggers).
    op.execute("ALTER TABLE events ADD COLUMN trade_id VARCHAR(128)")
    op.create_index("ix_events_instrument_trade_id", "events", ["instrument_id", "trade_id"])
    rows = bind.execute(sa.text("SELECT seq, payload FROM events WHERE kind = 'OrderFilled'")).fetchall()
    if rows:
        _drop_triggers(dialect)
        stmt = sa.text("UPDATE events SET trade_id = :trade_id WHERE seq = :seq")
        bind.execute(stmt, [{"seq": seq, "trade_id": json.loads(payload)["trade_id"]} for seq, payload in rows])
        _create_triggers(dialect)


def downgrade() -> None:
    """Remove the column and index."""
    op.drop_index("ix_events_instrument_trade_id", table_name="events")
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _drop_triggers(dialect)
        op.execute("ALTER TABLE events DROP COLUMN trade_id")
        _create_triggers(dialect)
    else:
        op.execute("ALTER TABLE events DROP COLUMN trade_id")
