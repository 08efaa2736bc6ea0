"""L1 (bookTicker) matching, stop triggers, remainder policies and latency on the real Binance stream.

From the fixture: the first quote (event 0, ts 1723161254087891268) is 61837.63 x 3.78826 / 61837.64 x
1.54698; quote event 3 shows ask 61837.64 x 1.92853; the first quote with bid <= 61830.00 is event 155
(ts 1723161254393496467): bid 61830.00 x 0.08970.
"""

from __future__ import annotations

from tradewire.model import InstrumentId, OrderStatus
from tradewire.venues.paper import BookLevel, LatencyModel, PaperVenueConfig, RemainderPolicy

BTC_ID = InstrumentId("BTCUSDT.PAPER")
T0 = 1723161254087891268
T155 = 1723161254393496467


def _l1(policy=RemainderPolicy.SAME_PRICE):
    return PaperVenueConfig(book_level=BookLevel.L1, remainder_policy=policy)


def _fills(h, order):
    return [(str(f.last_px), str(f.last_qty)) for f in h.of(order, "OrderFilled")]


def test_sell_stop_triggers_on_bid_and_fills_remainder_at_same_price(binance_stream, btc, harness):
    h = harness([btc], config=_l1())
    h.feed(binance_stream.events, 1)
    stop = h.submit(BTC_ID, "sell", "stop_market", "0.1", trigger="61830.00")
    h.feed(binance_stream.events[1:], 154)  # events 1..154
    assert h.of(stop, "OrderTriggered") == []
    h.feed(binance_stream.events[155:], 1)
    trig = h.of(stop, "OrderTriggered")
    assert len(trig) == 1 and trig[0].ts_event == T155
    assert _fills(h, stop) == [("61830.00", "0.08970"), ("61830.00", "0.01030")]
    h.replay(stop)
    assert stop.status is OrderStatus.FILLED


def test_remainder_policy_cancel_and_slippage(binance_stream, btc, harness):
    for policy, expected in (
        (RemainderPolicy.CANCEL, [("61830.00", "0.08970")]),
        (RemainderPolicy.SLIPPAGE, [("61830.00", "0.08970"), ("61829.99", "0.01030")]),
    ):
        h = harness([btc], config=_l1(policy))
        h.feed(binance_stream.events, 1)
        stop = h.submit(BTC_ID, "sell", "stop_market", "0.1", trigger="61830.00")
        h.feed(binance_stream.events[1:], 155)
        assert _fills(h, stop) == expected, policy
        if policy is RemainderPolicy.CANCEL:
            assert h.of(stop, "OrderCanceled")


def test_buy_stop_limit_not_triggered_while_ask_stays_below(binance_stream, btc, harness):
    h = harness([btc], config=_l1())
    h.feed(binance_stream.events, 1)
    order = h.submit(BTC_ID, "buy", "stop_limit", "0.01", price="61840.00", trigger="61838.00")
    h.feed(binance_stream.events[1:])
    assert [type(e).__name__ for e in h.of(order)] == ["OrderAccepted"]


def test_market_if_touched_buy_triggers_when_ask_falls(binance_stream, btc, harness):
    h = harness([btc], config=_l1())
    h.feed(binance_stream.events, 1)
    order = h.submit(BTC_ID, "buy", "market_if_touched", "0.01", trigger="61830.01")
    h.feed(binance_stream.events[1:], 155)
    # event 155 is the first quote with ask <= 61830.01 (ask 61830.01 x 0.00021)
    assert h.of(order, "OrderTriggered")[0].ts_event == T155
    assert _fills(h, order) == [("61830.01", "0.00021"), ("61830.01", "0.00979")]


def test_submit_latency_delays_the_ack_and_the_fill(binance_stream, btc, harness):
    h = harness([btc], config=_l1(), latency_model=LatencyModel(submit_ns=100_000_000))
    h.feed(binance_stream.events, 1)
    h.clock.set_time(T0)
    order = h.submit(BTC_ID, "buy", "market", "0.01")
    assert h.of(order) == []  # nothing before the venue answers
    h.feed(binance_stream.events[1:], 4)  # events 1..4; event 4 is at 1723161254206652067 > T0 + 100 ms
    acc = h.of(order, "OrderAccepted")
    assert len(acc) == 1 and acc[0].ts_event == T0 + 100_000_000
    fills = h.of(order, "OrderFilled")
    assert [(str(f.last_px), str(f.last_qty), f.ts_event) for f in fills] == [("61837.64", "0.01000", T0 + 100_000_000)]


def test_match_latency_after_ack(binance_stream, btc, harness):
    h = harness([btc], config=_l1(), latency_model=LatencyModel(submit_ns=10_000_000, match_ns=40_000_000))
    h.feed(binance_stream.events, 1)
    h.clock.set_time(T0)
    order = h.submit(BTC_ID, "buy", "market", "0.01")
    h.client.process_time(T0 + 49_999_999)
    assert [type(e).__name__ for e in h.of(order)] == ["OrderAccepted"]
    assert h.of(order, "OrderAccepted")[0].ts_event == T0 + 10_000_000
    h.client.process_time(T0 + 50_000_000)
    assert [f.ts_event for f in h.of(order, "OrderFilled")] == [T0 + 50_000_000]


def test_cancel_latency_lets_the_order_fill_first(binance_stream, btc, harness):
    h = harness([btc], config=_l1(), latency_model=LatencyModel(cancel_ns=1_000_000_000))
    h.feed(binance_stream.events, 1)
    order = h.submit(BTC_ID, "sell", "stop_market", "0.01", trigger="61830.00")
    h.client.cancel_order(order)
    h.feed(binance_stream.events[1:], 155)  # triggers at event 155, before the cancel arrives
    assert _fills(h, order) == [("61830.00", "0.01000")]
    h.client.process_time(T0 + 2_000_000_000)
    rej = h.of(order, "OrderCancelRejected")
    assert len(rej) == 1 and "filled" in rej[0].reason
    h.replay(order)
    assert order.status is OrderStatus.FILLED
