"""After a crash, the event store is reconciled with the venue's reports from the ccxt client."""

from __future__ import annotations

from tradewire.model.enums import OrderSide, OrderStatus
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
