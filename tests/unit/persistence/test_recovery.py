"""Recovery from the store, reconciliation with venue reports, and read models (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from persistence_factories import ACC, IID, SID, T0, fill, init

from tradewire.execution.reports import FillReport, OrderStatusReport, PositionReport
from tradewire.model import (
    ClientOrderId,
    LiquiditySide,
    OrderAccepted,
    OrderSide,
    OrderStatus,
    OrderSubmitted,
    OrderType,
    PositionSide,
    Price,
    Quantity,
    TimeInForce,
    TradeId,
    VenueOrderId,
    crypto_spot,
)
from tradewire.model.objects import USDT, Money
from tradewire.persistence import open_store
from tradewire.persistence.read_models import read_table, rebuild_read_models
from tradewire.persistence.reconciliation import reconcile
from tradewire.persistence.recovery import RecoveryError, recover

BTC = crypto_spot("BTCUSDT", "BINANCE", "BTC", "USDT", 2, 3)


@pytest.fixture
def store(db_url):
    s = open_store(db_url, flush_interval_ms=2)
    yield s
    s.close()


def _sub(coid):
    return OrderSubmitted(ClientOrderId(coid), SID, IID, T0, T0, account_id=ACC)


def _life(coid, side, qty, px, trade, ts):
    c = ClientOrderId(coid)
    return [
        init(coid, side=side, qty=qty, ts=ts),
        OrderSubmitted(c, SID, IID, ts, ts, account_id=ACC),
        OrderAccepted(c, SID, IID, ts + 1, ts + 1, venue_order_id=VenueOrderId(f"V-{coid}")),
        fill(coid, trade, side=side, qty=qty, px=px, fee="0.1", ts=ts + 2),
    ]


def test_recover_orders_and_positions_exactly(store):
    store.append(BTC, durable=True)
    recs = [
        *_life("O-1", OrderSide.BUY, "1.000", "100.10", "T-1", T0),
        *_life("O-2", OrderSide.BUY, "0.500", "101.00", "T-2", T0 + 10),
        *_life("O-3", OrderSide.SELL, "1.500", "102.01", "T-3", T0 + 20),
    ]
    store.append_many(recs, durable=True)
    st = recover(store)
    assert [o.status for o in st.orders.values()] == [OrderStatus.FILLED] * 3
    (pos,) = st.positions.values()
    assert pos.signed_qty_raw == 0
    # realized = 1.5*102.01 - (1*100.10 + 0.5*101.00), derived by hand: 153.015 - 150.6 = 2.415
    assert pos.realized_pnl == Money("2.415", USDT)
    assert st.fill_keys == {(IID, "T-1"), (IID, "T-2"), (IID, "T-3")} and not st.anomalies
    assert st.last_seq == 13

    summary = rebuild_read_models(store)
    assert summary["closed_trades"] == 1 and summary["fills"] == 3
    (trade,) = read_table(store, "closed_trades")
    assert trade["realized_pnl"] == "2.415" and trade["commissions"] == "0.3" and trade["net_pnl"] == "2.115"
    assert trade["avg_px_entry"] == "100.4" and trade["avg_px_exit"] == "102.01" and trade["quantity"] == "1.500"
    (day,) = read_table(store, "daily_pnl")
    assert (day["day"], day["realized_pnl"], day["commissions"], day["fills"]) == ("2024-11-07", "2.415", "0.3", 3)
    assert [r["status"] for r in read_table(store, "orders")] == ["filled"] * 3
    (p,) = read_table(store, "positions")
    assert p["signed_qty"] == "0" and json.loads(p["commissions"]) == {"USDT": "0.3"}
    assert rebuild_read_models(store) == summary  # rebuildable, idempotent


def test_illegal_event_is_reported_not_skipped_silently(store):
    store.append(BTC)
    dup = [fill("O-1", "T-1", qty="0.200"), fill("O-1", "T-1", qty="0.200")]  # duplicate trade id
    store.append_many([init("O-1"), _sub("O-1"), *dup], durable=True)
    st = recover(store)
    assert len(st.anomalies) == 1 and st.anomalies[0].startswith("seq 5:") and "duplicate trade id" in st.anomalies[0]
    assert next(iter(st.positions.values())).signed_qty_raw == Quantity("0.2", 3).raw


def test_fill_without_instrument_definition_is_an_error(store):
    store.append_many([init("O-1"), _sub("O-1"), fill("O-1", "T-1")], durable=True)
    with pytest.raises(RecoveryError, match=r"BTCUSDT\.BINANCE"):
        recover(store)
    assert recover(store, {IID: BTC}).positions


def _osr(coid, vid, status, filled, qty="1.000", side=OrderSide.BUY):
    return OrderStatusReport(
        ACC,
        IID,
        ClientOrderId(coid) if coid else None,
        VenueOrderId(vid),
        side,
        OrderType.LIMIT,
        TimeInForce.GTC,
        status,
        Quantity(qty, 3),
        Quantity(filled, 3),
        T0,
        T0 + 50,
        T0 + 60,
        price=Price("100.00", 2),
    )


def _fr(coid, vid, trade, qty, px="100.00", side=OrderSide.BUY):
    return FillReport(
        ACC,
        IID,
        VenueOrderId(vid),
        TradeId(trade),
        side,
        Quantity(qty, 3),
        Price(px, 2),
        Money("0.01", USDT),
        LiquiditySide.MAKER,
        T0 + 40,
        T0 + 60,
        client_order_id=ClientOrderId(coid),
    )


def test_reconcile_every_kind_of_difference(store):
    c = ClientOrderId
    store.append(BTC)
    store.append_many(
        [
            # A: accepted, venue filled it fully while we were down (fills lost)
            init("A", qty="1.000", order_type=OrderType.LIMIT, price=Price("100.00", 2)),
            OrderSubmitted(c("A"), SID, IID, T0, T0),
            OrderAccepted(c("A"), SID, IID, T0, T0, venue_order_id=VenueOrderId("VA")),
            # B: submitted, venue got it and it rests (ack lost)
            init("B", qty="1.000", order_type=OrderType.LIMIT, price=Price("100.00", 2)),
            OrderSubmitted(c("B"), SID, IID, T0, T0),
            # C: submitted, never reached the venue
            init("C", qty="1.000"),
            OrderSubmitted(c("C"), SID, IID, T0, T0),
            # D: accepted, gone at the venue
            init("D", qty="1.000", order_type=OrderType.LIMIT, price=Price("90.00", 2)),
            OrderSubmitted(c("D"), SID, IID, T0, T0),
            OrderAccepted(c("D"), SID, IID, T0, T0, venue_order_id=VenueOrderId("VD")),
            # E: accepted; venue canceled it
            init("E", qty="1.000", order_type=OrderType.LIMIT, price=Price("90.00", 2)),
            OrderSubmitted(c("E"), SID, IID, T0, T0),
            OrderAccepted(c("E"), SID, IID, T0, T0, venue_order_id=VenueOrderId("VE")),
        ],
        durable=True,
    )
    st = recover(store)
    orders = [
        _osr("A", "VA", OrderStatus.FILLED, "1.000"),
        _osr("B", "VB", OrderStatus.ACCEPTED, "0.000"),
        _osr("E", "VE", OrderStatus.CANCELED, "0.000"),
        _osr(None, "VX", OrderStatus.ACCEPTED, "0.000"),
    ]
    fills = [_fr("A", "VA", "TA1", "0.400"), _fr("A", "VA", "TA2", "0.600")]
    positions = [PositionReport(ACC, IID, PositionSide.LONG, Quantity("1.000", 3), T0, T0)]
    res = reconcile(
        st, store, account_id=ACC, order_reports=orders, fill_reports=fills, position_reports=positions, ts_now=T0 + 100
    )
    assert res.count("missing_fill") == 2
    assert st.orders[c("A")].status is OrderStatus.FILLED
    assert st.orders[c("B")].status is OrderStatus.ACCEPTED and st.orders[c("B")].venue_order_id == "VB"
    assert [o.client_order_id for o in res.to_resubmit] == ["C"]
    assert st.orders[c("C")].status is OrderStatus.SUBMITTED
    assert st.orders[c("D")].status is OrderStatus.CANCELED and "not found" in st.orders[c("D")].last_reason
    assert st.orders[c("E")].status is OrderStatus.CANCELED
    assert [o.client_order_id for o in res.adopted] == ["EXT-VX"]
    assert res.count("position_mismatch") == 0  # 1.000 long after the inferred fills, as the venue says
    inferred = [e for e in res.inferred_events if type(e).__name__ == "OrderFilled"]
    assert all(e.inferred for e in inferred) and len(inferred) == 2
    # everything was recorded: a second recovery sees the same state and a second reconcile is clean but C
    st2 = recover(store)
    assert {k: o.status for k, o in st2.orders.items()} == {k: o.status for k, o in st.orders.items()}
    kinds = [e.kind for e in store.read(kinds=["ReconciliationDiscrepancy"])]
    assert len(kinds) == len(res.discrepancies)
    res2 = reconcile(
        st2,
        store,
        account_id=ACC,
        order_reports=[*orders, _osr("EXT-VX", "VX", OrderStatus.ACCEPTED, "0")],
        fill_reports=fills,
        position_reports=positions,
        ts_now=T0 + 200,
    )
    assert [d.kind for d in res2.discrepancies] == ["not_sent"]


def test_position_mismatch_is_flagged(store):
    store.append(BTC)
    store.append_many(_life("O-1", OrderSide.BUY, "1.000", "100.00", "T-1", T0), durable=True)
    st = recover(store)
    rep = [PositionReport(ACC, IID, PositionSide.LONG, Quantity("2.000", 3), T0, T0)]
    res = reconcile(
        st,
        store,
        account_id=ACC,
        order_reports=[_osr("O-1", "V-O-1", OrderStatus.FILLED, "1.000")],
        fill_reports=[],
        position_reports=rep,
        ts_now=T0,
    )
    (d,) = res.discrepancies
    assert d.kind == "position_mismatch" and "net 1 locally, 2 at the venue" in d.detail
