"""After a crash, the event store is reconciled with the venue's reports from the ccxt client."""

from __future__ import annotations

from tradewire.model.enums import OrderSide, OrderStatus
from tradewire.model.events import OrderSubmitted
from tradewire.model.identifiers import AccountId, InstrumentId
from tradewire.model.objects import Price, Quantity
from tradewire.persistence import EventRecorder, open_store
from tradewire.persistence.reconciliation import reconcile
from tradewire.persistence.recovery import recover
from tradewire.venues.ccxt.execution import CcxtExecutionClient

IID = InstrumentId("BTCUSDT.BINANCE")


def test_restart_reconciles_fills_missed_while_down_without_doubling(h, server, conn, tmp_path):
    url = f"sqlite:///{tmp_path / 'tw.db'}"
    store = open_store(url)
    EventRecorder(store, h.bus)
    o = h.factory.limit(IID, OrderSide.BUY, Quantity.from_str("0.01000"), Price.from_str("61000.00"))
    h.engine.submit_order(o)
    assert h.pump(lambda: o.status is OrderStatus.ACCEPTED, 5)
    vid = int(o.venue_order_id)
    server.fill_resting(vid, "0.00300")
    assert h.pump(lambda: o.status is OrderStatus.PARTIALLY_FILLED, 5)
    h.client.disconnect()  # the node dies here ...
    store.close()
    server.fill_resting(vid, "0.00200")  # ... and the venue keeps trading
    server.fill_resting(vid, "0.00100", "60999.00")

    store = open_store(url)
    inst = conn.instruments.get(IID)
    state = recover(store, {IID: inst})
    assert state.orders[o.client_order_id].filled_qty == Quantity.from_str("0.00300")
    fresh = CcxtExecutionClient(conn, AccountId("BINANCE-001"), h.clock, lambda e: None, instrument_ids=[IID])
    kw = {"account_id": fresh.account_id, "ts_now": h.clock.timestamp_ns(), "venue": "BINANCE"}
    res = reconcile(state, store, order_reports=fresh.generate_order_status_reports(),
                    fill_reports=fresh.generate_fill_reports(0), **kw)  # fmt: skip
    assert res.count("missing_fill") == 2
    restored = state.orders[o.client_order_id]
    assert restored.filled_qty == Quantity.from_str("0.00600") and restored.status is OrderStatus.PARTIALLY_FILLED
    venue_ids = {(str(IID), str(t["id"])) for t in server.my_trades if t["orderId"] == vid}
    assert state.fill_keys == venue_ids
    again = reconcile(state, store, order_reports=fresh.generate_order_status_reports(),
                      fill_reports=fresh.generate_fill_reports(0), **kw)  # fmt: skip
    assert again.is_clean and state.orders[o.client_order_id].filled_qty == Quantity.from_str("0.00600")
    store.close()


def _crashed_after_sending(h, store, side: OrderSide, qty: str, price: str):
    """Store an order as SUBMITTED only: the node died after sending it, before any acknowledgement."""
    o = h.factory.limit(IID, side, Quantity.from_str(qty), Price.from_str(price))
    ts = h.clock.timestamp_ns()
    store.append_many([o.init, OrderSubmitted(o.client_order_id, o.strategy_id, o.instrument_id, ts, ts,
                                              account_id=AccountId("BINANCE-001"))], durable=True)  # fmt: skip
    return o


def test_order_filled_at_the_venue_before_its_ack_is_found_by_client_order_id_not_sent_again(h, server, conn, tmp_path):
    url = f"sqlite:///{tmp_path / 'tw.db'}"
    store = open_store(url)
    sent = _crashed_after_sending(h, store, OrderSide.BUY, "0.01000", "61000.00")
    lost = _crashed_after_sending(h, store, OrderSide.BUY, "0.02000", "60000.00")
    # only the first request reached the venue, which then filled the order completely while the node was down
    placed = conn.run(conn.exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 61000,
                                                 {"newClientOrderId": str(sent.client_order_id)}))  # fmt: skip
    vid = int(placed["id"])
    server.fill_resting(vid, "0.01000")
    store.close()

    store = open_store(url)
    state = recover(store, {IID: conn.instruments.get(IID)})
    assert state.orders[sent.client_order_id].status is OrderStatus.SUBMITTED
    fresh = CcxtExecutionClient(conn, AccountId("BINANCE-001"), h.clock, lambda e: None, instrument_ids=[IID])
    for order in state.orders.values():
        fresh.register_order(order)
    reports = fresh.generate_order_status_reports()
    # not open at the venue any more, yet reported: found by its client order id
    assert [(str(r.client_order_id), r.order_status) for r in reports] == [
        (str(sent.client_order_id), OrderStatus.FILLED)
    ]
    kw = {"account_id": fresh.account_id, "ts_now": h.clock.timestamp_ns(), "venue": "BINANCE"}
    res = reconcile(state, store, order_reports=reports, fill_reports=fresh.generate_fill_reports(0), **kw)
    restored = state.orders[sent.client_order_id]
    assert restored.status is OrderStatus.FILLED and restored.filled_qty == Quantity.from_str("0.01000")
    assert str(restored.venue_order_id) == str(vid)
    assert res.count("missing_fill") == 1 and not [d for d in res.discrepancies if d.action == "flagged"]
    # the one that never arrived is the only one to send again (with the same client order id)
    assert [o.client_order_id for o in res.to_resubmit] == [lost.client_order_id]
    store.close()
