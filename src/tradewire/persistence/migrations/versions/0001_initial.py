"""Initial schema: append-only ``events`` log (with UPDATE/DELETE-rejecting triggers) and read models.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_S = sa.String
_B = sa.BigInteger


def upgrade() -> None:
    """Create the tables and the append-only triggers."""
    op.create_table(
        "events",
        sa.Column("seq", _B, primary_key=True, autoincrement=False),
        sa.Column("kind", _S(64), nullable=False),
        sa.Column("category", _S(16), nullable=False),
        sa.Column("client_order_id", _S(128)),
        sa.Column("strategy_id", _S(128)),
        sa.Column("instrument_id", _S(128)),
        sa.Column("account_id", _S(128)),
        sa.Column("ts_event", _B, nullable=False),
        sa.Column("ts_init", _B, nullable=False),
        sa.Column("ts_recorded", _B, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_index("ix_events_client_order_id", "events", ["client_order_id"])
    op.create_index("ix_events_kind_ts_event", "events", ["kind", "ts_event"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER events_no_{verb.lower()} BEFORE {verb} ON events "
                "BEGIN SELECT RAISE(ABORT, 'events is append-only: " + verb + " rejected'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION tradewire_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'events is append-only: % rejected', TG_OP; END $$"
        )
        op.execute(
            "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
            "FOR EACH ROW EXECUTE FUNCTION tradewire_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
            "FOR EACH STATEMENT EXECUTE FUNCTION tradewire_events_append_only()"
        )
    else:
        raise RuntimeError(f"unsupported database dialect {dialect!r} (SQLite and PostgreSQL are supported)")

    op.create_table(
        "rm_orders",
        sa.Column("client_order_id", _S(128), primary_key=True),
        sa.Column("strategy_id", _S(128), nullable=False),
        sa.Column("instrument_id", _S(128), nullable=False),
        sa.Column("side", _S(8), nullable=False),
        sa.Column("order_type", _S(32), nullable=False),
        sa.Column("time_in_force", _S(8), nullable=False),
        sa.Column("quantity", _S(64), nullable=False),
        sa.Column("price", _S(64)),
        sa.Column("trigger_price", _S(64)),
        sa.Column("status", _S(32), nullable=False),
        sa.Column("filled_qty", _S(64), nullable=False),
        sa.Column("avg_px", _S(64)),
        sa.Column("venue_order_id", _S(128)),
        sa.Column("is_open", sa.Boolean, nullable=False),
        sa.Column("ts_init", _B, nullable=False),
        sa.Column("ts_last", _B, nullable=False),
        sa.Column("last_seq", _B, nullable=False),
    )
    op.create_table(
        "rm_fills",
        sa.Column("seq", _B, primary_key=True, autoincrement=False),
        sa.Column("client_order_id", _S(128), nullable=False),
        sa.Column("venue_order_id", _S(128), nullable=False),
        sa.Column("trade_id", _S(128), nullable=False),
        sa.Column("strategy_id", _S(128), nullable=False),
        sa.Column("instrument_id", _S(128), nullable=False),
        sa.Column("side", _S(8), nullable=False),
        sa.Column("last_qty", _S(64), nullable=False),
        sa.Column("last_px", _S(64), nullable=False),
        sa.Column("commission", _S(64), nullable=False),
        sa.Column("commission_currency", _S(16), nullable=False),
        sa.Column("liquidity_side", _S(8), nullable=False),
        sa.Column("inferred", sa.Boolean, nullable=False),
        sa.Column("ts_event", _B, nullable=False),
    )
    op.create_table(
        "rm_positions",
        sa.Column("position_id", _S(256), primary_key=True),
        sa.Column("instrument_id", _S(128), nullable=False),
        sa.Column("strategy_id", _S(128), nullable=False),
        sa.Column("side", _S(8), nullable=False),
        sa.Column("signed_qty", _S(64), nullable=False),
        sa.Column("avg_px_open", _S(64)),
        sa.Column("realized_pnl", _S(64), nullable=False),
        sa.Column("currency", _S(16), nullable=False),
        sa.Column("commissions", sa.Text, nullable=False),
        sa.Column("ts_opened", _B, nullable=False),
        sa.Column("ts_last", _B, nullable=False),
    )
    op.create_table(
        "rm_closed_trades",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("position_id", _S(256), nullable=False),
        sa.Column("instrument_id", _S(128), nullable=False),
        sa.Column("strategy_id", _S(128), nullable=False),
        sa.Column("side", _S(8), nullable=False),
        sa.Column("quantity", _S(64), nullable=False),
        sa.Column("ts_entry", _B, nullable=False),
        sa.Column("ts_exit", _B, nullable=False),
        sa.Column("avg_px_entry", _S(64), nullable=False),
        sa.Column("avg_px_exit", _S(64), nullable=False),
        sa.Column("realized_pnl", _S(64), nullable=False),
        sa.Column("commissions", _S(64), nullable=False),
        sa.Column("net_pnl", _S(64), nullable=False),
        sa.Column("currency", _S(16), nullable=False),
    )
    op.create_table(
        "rm_daily_pnl",
        sa.Column("day", _S(10), primary_key=True),
        sa.Column("strategy_id", _S(128), primary_key=True),
        sa.Column("currency", _S(16), primary_key=True),
        sa.Column("realized_pnl", _S(64), nullable=False),
        sa.Column("commissions", _S(64), nullable=False),
        sa.Column("net_pnl", _S(64), nullable=False),
        sa.Column("fills", sa.Integer, nullable=False),
    )
    op.create_table(
        "rm_meta",
        sa.Column("key", _S(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    """Drop everything (the event log too: only for throw-away databases)."""
    for t in ("rm_meta", "rm_daily_pnl", "rm_closed_trades", "rm_positions", "rm_fills", "rm_orders"):
        op.drop_table(t)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS events_no_truncate ON events")
        op.execute("DROP TRIGGER IF EXISTS events_append_only ON events")
        op.execute("DROP FUNCTION IF EXISTS tradewire_events_append_only()")
    op.drop_table("events")
