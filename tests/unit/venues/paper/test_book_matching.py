"""L2 book walk, IOC/FOK, consumed liquidity and trade-driven fills on the real Binance BTCUSDT stream.

Expected prices and sizes were read off the fixture: after the REST snapshot and the first replayed diff
(stream events [0, 6)) the asks are 61837.64 x 1.60520, 61837.65 x 0.00843, 61837.68 x 0.00016,
61838.13 x 0.00086, 61838.95 x 0.00082, 61839.87 x 0.32331.
"""

from __future__ import annotations

from decimal import Decimal

from tradewire.model import InstrumentId, LiquiditySide, OrderStatus
from tradewire.venues.paper import BookLevel, FrontOfQueue, PaperVenueConfig

L2 = PaperVenueConfig(book_level=BookLevel.L2)
D = Decimal
BTC_ID = InstrumentId("BTCUSDT.PAPER")


def _fills(h, order):
    return [(str(f.last_px), str(f.last_qty)) for f in h.of(order, "OrderFilled")]


def test_market_order_walks_the_book(binance_stream, btc, harness):
    h = harness([btc], config=L2)
    h.feed(binance_stream.events, 6)
    order = h.submit(BTC_ID, "buy", "market", "1.62")
    assert _fills(h, order) == [
        ("61837.64", "1.60520"), ("61837.65", "0.00843"), ("61837.68", "0.00016"),
        ("61838.13", "0.00086"), ("61838.95", "0.00082"), ("61839.87", "0.00453"),
    ]  # fmt: skip
    first = h.of(order, "OrderFilled")[0]
    assert first.liquidity_side is LiquiditySide.TAKER
    assert first.commission.as_decimal() == D("1.60520") * D("61837.64") * D("0.001")
    assert first.commission.currency.code == "USDT"
    h.replay(order)
    assert order.status is OrderStatus.FILLED
    ts_snapshot = binance_stream.events[4][1]
    assert all(f.ts_event == ts_snapshot for f in h.of(order, "OrderFilled"))


def test_consumed_liquidity_is_not_taken_twice_until_the_level_updates(binance_stream, btc, harness):
    h = harness([btc], config=L2)
    h.feed(binance_stream.events, 6)
    first = h.submit(BTC_ID, "buy", "market", "1.60")
    second = h.submit(BTC_ID, "buy", "market", "0.01")
    assert _fills(h, first) == [("61837.64", "1.60000")]
    # only 0.00520 is left at 61837.64 in this book update
    assert _fills(h, second) == [("61837.64", "0.00520"), ("61837.65", "0.00480")]
    # a new diff for a level restores it: build the next real batch with an update at 61837.64
    for idx in range(6, len(binance_stream.events)):
        kind, _, payload = binance_stream.events[idx]
        h.feed(binance_stream.events[idx : idx + 1])
        if kind == "book" and any(d.price.raw == 61837_640_000_000 and d.side == 2 for d in payload):
            break
    else:  # pragma: no cover - fixture property
        raise AssertionError("fixture has no later update of ask 61837.64")
    engine = h.client.matching_engine(BTC_ID)
    assert 61837_640_000_000 not in engine.book.consumed_asks


def test_ioc_limit_fills_partially_across_levels(binance_stream, btc, harness):
    h = harness([btc], config=L2)
    h.feed(binance_stream.events, 6)
    order = h.submit(BTC_ID, "buy", "limit", "2", price="61837.68", tif="ioc")
    assert _fills(h, order) == [("61837.64", "1.60520"), ("61837.65", "0.00843"), ("61837.68", "0.00016")]
    canceled = h.of(order, "OrderCanceled")
    assert len(canceled) == 1 and "IOC" in canceled[0].reason
    h.replay(order)
    assert order.status is OrderStatus.CANCELED
    assert str(order.filled_qty) == "1.61379"
    expected_avg = (D("1.60520") * D("61837.64") + D("0.00843") * D("61837.65") + D("0.00016") * D("61837.68")) / D(
        "1.61379"
    )
    assert order.avg_px == expected_avg


def test_fok_larger_than_depth_is_canceled_without_fill(binance_stream, btc, harness):
    h = harness([btc], config=L2)
    h.feed(binance_stream.events, 6)
    big = h.submit(BTC_ID, "buy", "limit", "1.61380", price="61837.68", tif="fok")
    assert h.of(big, "OrderFilled") == []
    assert [type(e).__name__ for e in h.of(big)] == ["OrderAccepted", "OrderCanceled"]
    exact = h.submit(BTC_ID, "buy", "limit", "1.61379", price="61837.68", tif="fok")
    assert [f[1] for f in _fills(h, exact)] == ["1.60520", "0.00843", "0.00016"]


def test_resting_buy_limit_fills_from_trades_behind_the_displayed_queue(binance_stream, btc, harness):
    # Bid 61836.00 shows 0.54369 when the order joins (events [0, 8)), shrinks to 0.0897 at event 51;
    # three sells of 0.00009 at 61836.00 (events 79-81) only eat the queue ahead; the sells through the
    # price at 61834.63 (events 101, 103-106) fill the order at its limit.
    h = harness([btc], config=L2)
    ev = binance_stream.events
    h.feed(ev, 8)
    order = h.submit(BTC_ID, "buy", "limit", "0.001", price="61836.00")
    h.feed(ev[8:], 120)
    fills = h.of(order, "OrderFilled")
    assert [(str(f.last_px), str(f.last_qty)) for f in fills] == [("61836.00", "0.00021")] * 4 + [
        ("61836.00", "0.00016")
    ]
    assert [f.ts_event for f in fills] == [ev[i][1] for i in (101, 103, 104, 105, 106)]
    assert all(f.liquidity_side is LiquiditySide.MAKER for f in fills)
    assert fills[0].commission.as_decimal() == D("0.00021") * D("61836.00") * D("0.0002")


def test_front_of_queue_model_fills_on_trades_at_the_price(binance_stream, btc, harness):
    h = harness([btc], config=L2, queue_model=FrontOfQueue())
    ev = binance_stream.events
    h.feed(ev, 8)
    order = h.submit(BTC_ID, "buy", "limit", "0.001", price="61836.00")
    h.feed(ev[8:], 120)
    fills = h.of(order, "OrderFilled")
    assert [str(f.last_qty) for f in fills] == ["0.00009"] * 3 + ["0.00021"] * 3 + ["0.00010"]
    assert [f.ts_event for f in fills] == [ev[i][1] for i in (79, 80, 81, 101, 103, 104, 105)]


def test_trade_fills_never_exceed_the_trade_size(binance_stream, btc, harness):
    h = harness([btc], config=L2, queue_model=FrontOfQueue())
    ev = binance_stream.events
    h.feed(ev, 8)
    a = h.submit(BTC_ID, "buy", "limit", "0.00005", price="61836.00")
    b = h.submit(BTC_ID, "buy", "limit", "0.00005", price="61836.00")
    h.feed(ev[8:], 72)  # events 8..79: one sell of 0.00009 at 61836.00 (event 79)
    assert [str(f.last_qty) for f in h.of(a, "OrderFilled")] == ["0.00005"]
    assert [str(f.last_qty) for f in h.of(b, "OrderFilled")] == ["0.00004"]
