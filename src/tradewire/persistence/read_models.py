"""Read models derived from the event log: orders, fills, positions, closed trades, daily P&L.

:func:`rebuild_read_models` replays the whole log (orders through the order state machine, fills
through exact `Position` accounting) and rewrites the ``rm_*`` tables in one transaction, so a reader
never sees a half-built model; ``rm_meta.last_seq`` says up to which event they are current. The
tables hold no information of their own: deleting them loses nothing (``tradewire db rebuild``).

Closed trades: one row per round trip of a position (flat -> open -> flat). ``quantity`` is the
total entry-side quantity, ``avg_px_entry``/``avg_px_exit`` the exact quantity-weighted averages of
entry-side and exit-side fills, ``realized_pnl`` the gross P&L from `Position`, ``commissions`` those
in the settlement currency (a fill that flips the position is split pro rata by quantity), and
``net_pnl = realized_pnl - commissions``. Daily P&L is by UTC calendar day of the fill's ``ts_event``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import delete, insert, select

from tradewire.model.enums import OrderSide
from tradewire.model.events import OrderFilled
from tradewire.model.identifiers import InstrumentId, PositionId
from tradewire.model.instruments import Instrument
from tradewire.model.objects import FIXED_SCALAR, raw_to_decimal
from tradewire.persistence.recovery import RecoveredState
from tradewire.persistence.store import EventStore
from tradewire.persistence.tables import (
    READ_MODEL_TABLES,
    rm_closed_trades,
    rm_daily_pnl,
    rm_fills,
    rm_meta,
    rm_orders,
    rm_positions,
)


@dataclass(slots=True)
class _RoundTrip:
    side: OrderSide
    ts_entry: int
    entry_qty: int = 0
    entry_notional: int = 0  # px_raw * qty_raw, scale 1e18
    exit_qty: int = 0
    exit_notional: int = 0
    commission: int = 0  # raw money in settlement currency
    realized: int = 0


def _money_str(raw: int) -> str:
    return str(Decimal(raw).scaleb(-9).normalize())


def _avg(notional: int, qty: int) -> str:
    return str((Decimal(notional) / Decimal(qty) / FIXED_SCALAR).normalize()) if qty else "0"


def _day(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns // 1_000_000_000, tz=UTC).strftime("%Y-%m-%d")


def rebuild_read_models(store: EventStore, instruments: Mapping[InstrumentId, Instrument] | None = None) -> dict:
    """Replay the event log and rewrite every read model table.

    Parameters
    ----------
    store : EventStore
    instruments : mapping, optional
        Instrument definitions not recorded in the store (see :func:`recover`).

    Returns
    -------
    dict
        Row counts per table and ``last_seq``.

    Raises
    ------
    RecoveryError
        If a fill's instrument is defined nowhere.
    """
    state = RecoveredState(instruments=dict(instruments or {}))
    for ev in store.read(kinds=["Instrument"]):  # instruments recorded anywhere in the log
        state.instruments.setdefault(ev.record.id, ev.record)
    fills_rows: list[dict] = []
    trades: list[dict] = []
    daily: dict[tuple[str, str, str], list[int]] = {}
    open_trips: dict[PositionId, _RoundTrip] = {}
    for ev in store.read():
        rec = ev.record
        state.last_seq = ev.seq
        if not hasattr(rec, "client_order_id") or type(rec).__name__ not in _ORDER_KINDS:
            continue
        before = None
        if isinstance(rec, OrderFilled):
            pid = rec.position_id or PositionId(f"{rec.instrument_id}-{rec.strategy_id}")
            pos = state.positions.get(pid)
            before = (pos.signed_qty_raw, pos._realized) if pos is not None else (0, 0)
        if not state.apply(rec, ev.seq) or not isinstance(rec, OrderFilled):
            continue
        pos = state.positions[pid]
        inst = state.instruments[rec.instrument_id]
        settle = inst.settlement_currency
        realized = _realized_delta(pos, before[1])
        fills_rows.append({
            "seq": ev.seq, "client_order_id": rec.client_order_id, "venue_order_id": rec.venue_order_id,
            "trade_id": rec.trade_id, "strategy_id": rec.strategy_id, "instrument_id": rec.instrument_id,
            "side": rec.order_side.value, "last_qty": str(rec.last_qty), "last_px": str(rec.last_px),
            "commission": _money_str(rec.commission.raw), "commission_currency": rec.commission.currency.code,
            "liquidity_side": rec.liquidity_side.value, "inferred": rec.inferred, "ts_event": rec.ts_event,
        })  # fmt: skip
        key = (_day(rec.ts_event), str(rec.strategy_id), settle.code)
        d = daily.setdefault(key, [0, 0, 0])
        d[0] += realized
        d[2] += 1
        fee_key = (key[0], key[1], rec.commission.currency.code)
        daily.setdefault(fee_key, [0, 0, 0])[1] += rec.commission.raw
        _track(open_trips, trades, pid, pos, rec, before[0], realized, settle.code)
    with store.engine.begin() as conn:
        for t in READ_MODEL_TABLES:
            conn.execute(delete(t))
        orders = [_order_row(o) for o in state.orders.values()]
        positions = [_position_row(p) for p in state.positions.values()]
        daily_rows = [
            {"day": k[0], "strategy_id": k[1], "currency": k[2], "realized_pnl": _money_str(v[0]),
             "commissions": _money_str(v[1]), "net_pnl": _money_str(v[0] - v[1]), "fills": v[2]}
            for k, v in sorted(daily.items())
        ]  # fmt: skip
        for table, rows in ((rm_orders, orders), (rm_fills, fills_rows), (rm_positions, positions),
                            (rm_closed_trades, trades), (rm_daily_pnl, daily_rows)):  # fmt: skip
            if rows:
                conn.execute(insert(table), rows)
        conn.execute(insert(rm_meta), [{"key": "last_seq", "value": str(state.last_seq)},
                                       {"key": "anomalies", "value": json.dumps(state.anomalies)}])  # fmt: skip
    return {"orders": len(orders), "fills": len(fills_rows), "positions": len(positions),
            "closed_trades": len(trades), "daily_pnl": len(daily_rows), "last_seq": state.last_seq,
            "anomalies": len(state.anomalies)}  # fmt: skip


_ORDER_KINDS = frozenset(
    {"OrderInitialized", "OrderDenied", "OrderSubmitted", "OrderAccepted", "OrderRejected", "OrderCanceled",
     "OrderExpired", "OrderTriggered", "OrderPendingUpdate", "OrderPendingCancel", "OrderModifyRejected",
     "OrderCancelRejected", "OrderUpdated", "OrderFilled"}
)  # fmt: skip
_S2 = FIXED_SCALAR * FIXED_SCALAR


def _realized_delta(pos, realized_before_1e27: int) -> int:
    from tradewire.model.objects import div_round

    return div_round(pos._realized, _S2) - div_round(realized_before_1e27, _S2)


def _track(trips: dict, out: list[dict], pid, pos, fill: OrderFilled, before: int, realized: int, settle: str) -> None:
    qty, px = fill.last_qty.raw, fill.last_px.raw
    fee = fill.commission.raw if fill.commission.currency.code == settle else 0
    after = pos.signed_qty_raw
    signed = qty if fill.order_side is OrderSide.BUY else -qty
    trip = trips.get(pid)
    if before == 0 or (before > 0) == (signed > 0):  # open or add
        if trip is None:
            trip = trips[pid] = _RoundTrip(fill.order_side, fill.ts_event)
        trip.entry_qty += qty
        trip.entry_notional += px * qty
        trip.commission += fee
        return
    closing = min(qty, abs(before))
    assert trip is not None
    trip.exit_qty += closing
    trip.exit_notional += px * closing
    trip.realized += realized
    close_fee = fee if closing == qty else fee * closing // qty
    trip.commission += close_fee
    if after == 0 or (after > 0) != (before > 0):
        out.append({
            "id": len(out) + 1, "position_id": pid, "instrument_id": pos.instrument_id, "strategy_id": pos.strategy_id,
            "side": trip.side.value, "quantity": str(raw_to_decimal(trip.entry_qty, pos.size_precision)),
            "ts_entry": trip.ts_entry, "ts_exit": fill.ts_event,
            "avg_px_entry": _avg(trip.entry_notional, trip.entry_qty),
            "avg_px_exit": _avg(trip.exit_notional, trip.exit_qty), "realized_pnl": _money_str(trip.realized),
            "commissions": _money_str(trip.commission), "net_pnl": _money_str(trip.realized - trip.commission),
            "currency": settle,
        })  # fmt: skip
        del trips[pid]
        rest = qty - closing
        if rest:
            trips[pid] = _RoundTrip(fill.order_side, fill.ts_event, rest, px * rest, 0, 0, fee - close_fee)


def _order_row(o) -> dict:
    avg = o.avg_px
    return {
        "client_order_id": o.client_order_id, "strategy_id": o.strategy_id, "instrument_id": o.instrument_id,
        "side": o.side.value, "order_type": o.order_type.value, "time_in_force": o.time_in_force.value,
        "quantity": str(o.quantity), "price": None if o.price is None else str(o.price),
        "trigger_price": None if o.trigger_price is None else str(o.trigger_price), "status": o.status.value,
        "filled_qty": str(o.filled_qty), "avg_px": None if avg is None else str(avg.normalize()),
        "venue_order_id": o.venue_order_id, "is_open": o.is_open, "ts_init": o.ts_init, "ts_last": o.ts_last,
        "last_seq": 0,
    }  # fmt: skip


def _position_row(p) -> dict:
    avg = p.avg_px_open
    return {
        "position_id": p.position_id, "instrument_id": p.instrument_id, "strategy_id": p.strategy_id,
        "side": p.side.value, "signed_qty": str(p.signed_qty.normalize()),
        "avg_px_open": None if avg is None else str(avg.normalize()),
        "realized_pnl": _money_str(p.realized_pnl.raw), "currency": p.currency.code,
        "commissions": json.dumps({k: _money_str(m.raw) for k, m in sorted(p.commissions.items())}),
        "ts_opened": p.ts_opened, "ts_last": p.ts_last,
    }  # fmt: skip


_TABLES = {"orders": rm_orders, "fills": rm_fills, "positions": rm_positions, "closed_trades": rm_closed_trades,
           "daily_pnl": rm_daily_pnl}  # fmt: skip


def read_table(store: EventStore, name: str) -> list[dict]:
    """All rows of read model ``name`` (``orders``, ``fills``, ``positions``, ``closed_trades``, ``daily_pnl``).

    Raises
    ------
    KeyError
        For an unknown name.
    """
    table = _TABLES[name]
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table).order_by(*table.primary_key.columns))]


__all__ = ["read_table", "rebuild_read_models"]
