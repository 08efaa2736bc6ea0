"""Orders through the real ccxt client against the local Binance server: acks, fills, rejects, errors."""

from __future__ import annotations

import time
from decimal import Decimal

from tradewire.model.enums import LiquiditySide, OrderSide, OrderStatus
from tradewire.model.identifiers import InstrumentId
from tradewire.model.objects import Price, Quantity
from tradewire.testing.binance_server import Fault

IID = InstrumentId("BTCUSDT.BINANCE")


def q(s: str) -> Quantity:
    return Quantity.from_str(s)


def p(s: str) -> Price:
    return Price.from_str(s)


def venue_fills(server, order_id: int) -> list[dict]:
    return [t for t in server.my_trades if t["orderId"] == order_id]


def test_connect_publishes_exact_balances(h):
    assert h.pump(lambda: h.accounts, 5)
    bal = h.accounts[-1].balances
    assert str(bal["USDT"][0].as_decimal()) == "1000000" and str(bal["BTC"][2].as_decimal()) == "10"


def test_limit_order_partial_fills_from_execution_reports(h, server):
    o = h.factory.limit(IID, OrderSide.BUY, q("0.01000"), p("61800.00"))
    h.engine.submit_order(o)
    assert h.pump(lambda: o.status is OrderStatus.ACCEPTED, 5)
    vid = int(o.venue_order_id)
    assert server.orders[vid].client_order_id == str(o.client_order_id)  # newClientOrderId = ours
    server.fill_resting(vid, "0.00300")
    assert h.pump(lambda: o.status is OrderStatus.PARTIALLY_FILLED, 5)
    server.fill_resting(vid, "0.00250", "61799.50")
    server.fill_resting(vid, "0.00450")
    assert h.pump(lambda: o.status is OrderStatus.FILLED, 5)
    fills = h.of("OrderFilled", o.client_order_id)
    ours = [(str(f.trade_id), f.last_qty.as_decimal(), f.last_px.as_decimal(), f.commission.as_decimal(),
             f.commission.currency.code, f.liquidity_side) for f in fills]  # fmt: skip
    theirs = [(str(t["id"]), Decimal(t["qty"]), Decimal(t["price"]), Decimal(t["commission"]), t["commissionAsset"],
               LiquiditySide.MAKER) for t in venue_fills(server, vid)]  # fmt: skip
    assert ours == theirs and len(ours) == 3
    assert o.filled_qty == q("0.01000")


def test_market_order_walks_levels_and_charges_base_asset_fee(h, server):
    bids, asks = server.book_top(5)
    o = h.factory.market(IID, OrderSide.BUY, q("5.00000"))
    h.engine.submit_order(o)
    assert h.pump(lambda: o.status is OrderStatus.FILLED, 5)
    fills = h.of("OrderFilled", o.client_order_id)
    assert len(fills) > 1  # 5 BTC is more than the best ask level holds
    assert [f.last_px.as_decimal() for f in fills] == sorted(f.last_px.as_decimal() for f in fills)
    assert fills[0].last_px.as_decimal() == asks[0][0]
    assert all(f.commission.currency.code == "BTC" for f in fills)
    assert sum(f.last_qty.as_decimal() for f in fills) == Decimal("5")


def test_insufficient_balance_is_rejected_with_the_venue_reason(h, server):
    o = h.factory.limit(IID, OrderSide.BUY, q("20.00000"), p("61000.00"))  # 1.22M USDT > 1M
    h.engine.submit_order(o)
    assert h.pump(lambda: o.status is OrderStatus.REJECTED, 5)
    (rej,) = h.of("OrderRejected", o.client_order_id)
    assert "insufficient balance" in rej.reason
    assert ("POST", "order") in server.request_log
    assert sum(1 for r in server.request_log if r == ("POST", "order")) == 1  # a permanent error is not retried


def test_post_only_that_would_take_is_rejected(h, server):
    _, asks = server.book_top(1)
    o = h.factory.limit(IID, OrderSide.BUY, q("0.01000"), Price(str(asks[0][0]), 2), post_only=True)
    h.engine.submit_order(o)
    assert h.pump(lambda: o.status is OrderStatus.REJECTED, 5)
    assert "immediately match" in h.of("OrderRejected", o.client_order_id)[0].reason


def test_modify_uses_cancel_replace_and_cancel(h, server):
    o = h.factory.limit(IID, OrderSide.BUY, q("0.01000"), p("61000.00"))
    h.engine.submit_order(o)
    assert h.pump(lambda: o.status is OrderStatus.ACCEPTED, 5)
    old_vid = int(o.venue_order_id)
    h.engine.modify(o, q("0.02000"), p("61100.00"))
    assert h.pump(lambda: o.status is OrderStatus.ACCEPTED and o.price == p("61100.00"), 5)
    new_vid = int(o.venue_order_id)
    assert new_vid != old_vid and server.orders[old_vid].status == "CANCELED"
    new = server.orders[new_vid]
    assert (new.client_order_id, new.qty, new.price) == (str(o.client_order_id), Decimal("0.02"), Decimal("61100"))
    assert not h.of("OrderCanceled", o.client_order_id)  # the cancel leg is not the order's cancel
    h.engine.cancel(o)
    assert h.pump(lambda: o.status is OrderStatus.CANCELED, 5)
    assert server.orders[new_vid].status == "CANCELED"


def test_http_429_waits_for_retry_after_then_succeeds(h, server):
    server.inject(Fault("POST", "order", 429, -1003, "Too many requests; please use the websocket.", retry_after=1))
    o = h.factory.limit(IID, OrderSide.BUY, q("0.01000"), p("61000.00"))
    t0 = time.monotonic()
    h.engine.submit_order(o)
    assert h.pump(lambda: o.status is OrderStatus.ACCEPTED, 10)
    assert time.monotonic() - t0 >= 0.95
    assert h.conn.limiter.rate_limited == 1
    assert sum(1 for r in server.request_log if r == ("POST", "order")) == 2


def test_timestamp_outside_recv_window_resyncs_time_and_retries(h, server):
    server.clock_skew_ms = 25_000  # the venue clock runs 25 s ahead of ours: -1021 on every signed request
    o = h.factory.limit(IID, OrderSide.BUY, q("0.01000"), p("61000.00"))
    h.engine.submit_order(o)
    assert h.pump(lambda: o.status is OrderStatus.ACCEPTED, 10)
    assert abs(h.conn.exchange.options["timeDifference"] + 25_000) < 2_000
    assert ("GET", "time") in server.request_log


def test_network_error_on_submit_queries_by_client_order_id_instead_of_resubmitting(h, server):
    server.call(lambda: server.disconnect_after_next.add("POST order"))
    o = h.factory.limit(IID, OrderSide.BUY, q("0.01000"), p("61000.00"))
    h.engine.submit_order(o)
    assert h.pump(lambda: o.status is OrderStatus.ACCEPTED and ("GET", "order") in server.request_log, 10)
    time.sleep(0.3)
    h.conn.inbox.drain()
    assert sum(1 for r in server.request_log if r == ("POST", "order")) == 1
    assert [x.client_order_id for x in server.orders.values()].count(str(o.client_order_id)) == 1
    assert len(h.of("OrderAccepted", o.client_order_id)) == 1 and not h.client.in_doubt


def test_user_stream_drop_loses_no_fill_and_doubles_none(h, server):
    o = h.factory.limit(IID, OrderSide.SELL, q("0.05000"), p("62500.00"))
    h.engine.submit_order(o)
    assert h.pump(lambda: o.status is OrderStatus.ACCEPTED, 5)
    vid = int(o.venue_order_id)
    server.fill_resting(vid, "0.01000")
    assert h.pump(lambda: len(h.of("OrderFilled")) == 1, 5)
    server.drop_streams(market=False, user=True)
    server.fill_resting(vid, "0.01500")  # executionReports lost: nobody is subscribed
    server.fill_resting(vid, "0.00500")
    assert h.pump(lambda: h.client.reconnects >= 2 and len(h.of("OrderFilled")) == 3, 10)
    server.fill_resting(vid, "0.01000")  # after the reconnect: on the stream again
    assert h.pump(lambda: len(h.of("OrderFilled")) == 4, 5)
    h.client.reconcile_now()  # a further REST resync must not double anything
    h.conn.inbox.drain()
    fills = h.of("OrderFilled", o.client_order_id)
    assert sorted(str(f.trade_id) for f in fills) == sorted(str(t["id"]) for t in venue_fills(server, vid))
    assert o.filled_qty == q("0.04000") and o.status is OrderStatus.PARTIALLY_FILLED


def test_rest_polling_fallback_without_private_streams(h_polling, server):
    h = h_polling
    assert not h.client.stream
    o = h.factory.limit(IID, OrderSide.BUY, q("0.01000"), p("61000.00"))
    h.engine.submit_order(o)
    assert h.pump(lambda: o.status is OrderStatus.ACCEPTED, 5)
    vid = int(o.venue_order_id)
    server.fill_resting(vid, "0.00400")
    server.fill_resting(vid, "0.00600")
    assert h.pump(lambda: o.status is OrderStatus.FILLED, 5)  # found by the periodic REST resync
    assert sorted(str(f.trade_id) for f in h.of("OrderFilled")) == sorted(
        str(t["id"]) for t in venue_fills(server, vid)
    )


def test_stop_market_order_is_native_and_triggers_on_the_venue(h, server):
    o = h.factory.stop_market(IID, OrderSide.SELL, q("0.01000"), p("61800.00"))
    h.engine.submit_order(o)
    assert h.pump(lambda: o.status is OrderStatus.ACCEPTED, 5)
    placed = server.orders[int(o.venue_order_id)]
    assert (placed.type, placed.stop_price) == ("STOP_LOSS", Decimal("61800"))  # held by the venue, not emulated
    assert h.client.fetch_order_status(o.client_order_id) is OrderStatus.ACCEPTED
    first_hit = next(i for i, m in enumerate(server.messages)
                     if m["data"].get("e") == "trade" and Decimal(m["data"]["p"]) <= Decimal("61800"))  # fmt: skip
    server.advance(first_hit)  # every trade so far printed above the trigger
    time.sleep(0.2)
    h.conn.inbox.drain()
    assert o.status is OrderStatus.ACCEPTED and not h.of("OrderFilled")
    server.advance(1)  # the first print at or below 61800 triggers it
    assert h.pump(lambda: o.status is OrderStatus.FILLED, 5)
    fills = h.of("OrderFilled", o.client_order_id)
    assert sorted(str(f.trade_id) for f in fills) == sorted(str(t["id"]) for t in venue_fills(server, placed.order_id))
