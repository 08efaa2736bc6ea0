"""SQLAlchemy Core tables of the event store and its read models (the schema at Alembic ``head``).

``events`` is the append-only log: one row per record, ``seq`` gap-free from 1, the record's JSON in
``payload`` (see :mod:`tradewire.persistence.serialization`) and a few columns copied out of it for
indexed lookups. Database triggers reject UPDATE and DELETE on it (see the migrations).

The ``rm_*`` tables are read models: derived from ``events`` only, deleted and rebuilt at will
(:mod:`tradewire.persistence.read_models`). Amounts and quantities are stored as exact decimal
strings, never as floating point columns.

Schema changes go through a new Alembic revision in ``migrations/versions``; this module must match
the newest revision (``tests/integration/test_migrations.py`` checks it).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

events = Table(
    "events",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(64), nullable=False),
    Column("category", String(16), nullable=False),
    Column("client_order_id", String(128)),
    Column("strategy_id", String(128)),
    Column("instrument_id", String(128)),
    Column("account_id", String(128)),
    Column("ts_event", BigInteger, nullable=False),
    Column("ts_init", BigInteger, nullable=False),
    Column("ts_recorded", BigInteger, nullable=False),
    Column("payload", Text, nullable=False),
    Column("trade_id", String(128)),  # revision 0002
    Index("ix_events_client_order_id", "client_order_id"),
    Index("ix_events_kind_ts_event", "kind", "ts_event"),
    Index("ix_events_instrument_trade_id", "instrument_id", "trade_id"),  # revision 0002
)

rm_orders = Table(
    "rm_orders",
    metadata,
    Column("client_order_id", String(128), primary_key=True),
    Column("strategy_id", String(128), nullable=False),
    Column("instrument_id", String(128), nullable=False),
    Column("side", String(8), nullable=False),
    Column("order_type", String(32), nullable=False),
    Column("time_in_force", String(8), nullable=False),
    Column("quantity", String(64), nullable=False),
    Column("price", String(64)),
    Column("trigger_price", String(64)),
    Column("status", String(32), nullable=False),
    Column("filled_qty", String(64), nullable=False),
    Column("avg_px", String(64)),
    Column("venue_order_id", String(128)),
    Column("is_open", Boolean, nullable=False),
    Column("ts_init", BigInteger, nullable=False),
    Column("ts_last", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
)

rm_fills = Table(
    "rm_fills",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("client_order_id", String(128), nullable=False),
    Column("venue_order_id", String(128), nullable=False),
    Column("trade_id", String(128), nullable=False),
    Column("strategy_id", String(128), nullable=False),
    Column("instrument_id", String(128), nullable=False),
    Column("side", String(8), nullable=False),
    Column("last_qty", String(64), nullable=False),
    Column("last_px", String(64), nullable=False),
    Column("commission", String(64), nullable=False),
    Column("commission_currency", String(16), nullable=False),
    Column("liquidity_side", String(8), nullable=False),
    Column("inferred", Boolean, nullable=False),
    Column("ts_event", BigInteger, nullable=False),
)

rm_positions = Table(
    "rm_positions",
    metadata,
    Column("position_id", String(256), primary_key=True),
    Column("instrument_id", String(128), nullable=False),
    Column("strategy_id", String(128), nullable=False),
    Column("side", String(8), nullable=False),
    Column("signed_qty", String(64), nullable=False),
    Column("avg_px_open", String(64)),
    Column("realized_pnl", String(64), nullable=False),
    Column("currency", String(16), nullable=False),
    Column("commissions", Text, nullable=False),  # JSON {code: exact decimal string}
    Column("ts_opened", BigInteger, nullable=False),
    Column("ts_last", BigInteger, nullable=False),
)

rm_closed_trades = Table(
    "rm_closed_trades",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("position_id", String(256), nullable=False),
    Column("instrument_id", String(128), nullable=False),
    Column("strategy_id", String(128), nullable=False),
    Column("side", String(8), nullable=False),
    Column("quantity", String(64), nullable=False),
    Column("ts_entry", BigInteger, nullable=False),
    Column("ts_exit", BigInteger, nullable=False),
    Column("avg_px_entry", String(64), nullable=False),
    Column("avg_px_exit", String(64), nullable=False),
    Column("realized_pnl", String(64), nullable=False),
    Column("commissions", String(64), nullable=False),
    Column("net_pnl", String(64), nullable=False),
    Column("currency", String(16), nullable=False),
)

rm_daily_pnl = Table(
    "rm_daily_pnl",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("strategy_id", String(128), primary_key=True),
    Column("currency", String(16), primary_key=True),
    Column("realized_pnl", String(64), nullable=False),
    Column("commissions", String(64), nullable=False),
    Column("net_pnl", String(64), nullable=False),
    Column("fills", Integer, nullable=False),
)

rm_meta = Table(
    "rm_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

READ_MODEL_TABLES = (rm_orders, rm_fills, rm_positions, rm_closed_trades, rm_daily_pnl, rm_meta)

__all__ = ["READ_MODEL_TABLES", "events", "metadata", "rm_closed_trades", "rm_daily_pnl", "rm_fills", "rm_meta",
           "rm_orders", "rm_positions"]  # fmt: skip
