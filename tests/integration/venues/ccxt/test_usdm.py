"""USD-M perpetuals through the real ccxt.pro client against the local Binance futures server (no network).

Market data is the real recorded USD-M BTCUSDT session (tests/fixtures/binance/...usdm...20240718.gz).
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path

import pytest

from tradewire.core.clock import LiveClock
from tradewire.data.book import OrderBook
from tradewire.data.sync import BinanceFuturesSynchronizer
from tradewire.model.data import OrderBookDelta
from tradewire.model.enums import OrderSide, PositionSide
from tradewire.model.identifiers import InstrumentId
from tradewire.model.objects import Price, Quantity
from tradewire.testing.binance_futures_orders import _Position, apply_fill
from tradewire.testing.binance_futures_server import BinanceFuturesServer
from tradewire.venues.ccxt.config import ConnectionConfig
from tradewire.venues.ccxt.data import CcxtDataClient
from tradewire.venues.ccxt.factories import CcxtConnection
from tradewire.venues.ccxt.retry import RetryPolicy

from .conftest import ENV, KEY, SECRET, ExecHarness

RECORDING = Path(__file__).parents[3] / "fixtures/binance/hftbacktest_binance_usdm_btcusdt_20240718.gz"
IID = InstrumentId("BTCUSDT-PERP.BINANCE")
SYM = "BTC/USDT:USDT"


def usdm_config(srv: BinanceFuturesServer, **kw) -> ConnectionConfig:
    args = {"name": "local-usdm", "exchange": "binance", "market_type": "linear", "api_key_env": "TW_BINANCE_KEY",
            "api_secret_env": "TW_BINANCE_SECRET", "url_rewrites": srv.ccxt_url_rewrites()} | kw  # fmt: skip
    return ConnectionConfig(**args)


@pytest.fixture
def fserver():
    srv = BinanceFuturesServer(RECORDING, KEY, SECRET, wallet="100000")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def fconn(fserver):
    c = CcxtConnection.from_config(usdm_config(fserver), env=ENV)
    c.load_instruments()
    yield c
    c.close()


@pytest.fixture
def fh(fconn):
    from tradewire.execution.factory import OrderFactory
    from tradewire.model.identifiers import StrategyId

    harness = ExecHarness(fconn)
    harness.client.connect()
    harness.factory = OrderFactory(StrategyId("s-1"), harness.clock)
    yield harness
    harness.client.disconnect()


def test_markets_load_as_a_linear_perpetual_with_the_exchange_filters(fserver, fconn):
    inst = fconn.instruments.get(IID)
    assert inst is not None
    market = fconn.exchange.market(SYM)
    assert market["linear"] and market["swap"] and market["id"] == "BTCUSDT"
    assert inst.instrument_class.name == "PERPETUAL"
    assert inst.tick_size.as_decimal() == Decimal("0.1") and inst.lot_size.as_decimal() == Decimal("0.001")
    assert inst.multiplier.as_decimal() == 1 and market["contractSize"] == 1
    assert inst.min_quantity.as_decimal() == Decimal("0.001") and inst.min_notional.as_decimal() == 100
    assert inst.settlement_currency.code == "USDT"
    assert ("GET", "v1/exchangeInfo") in fserver.request_log


def _top(book: OrderBook, n: int):
    bids = [(Decimal(p) / 10**9, Decimal(q) / 10**9) for p, q in book.bids_raw(n)]
    asks = [(Decimal(p) / 10**9, Decimal(q) / 10**9) for p, q in book.asks_raw(n)]
    return bids, asks


def test_futures_book_is_gap_free_under_the_pu_rule_and_equals_the_server(fserver, fconn):
    client = CcxtDataClient(fconn, LiveClock(), None,
                            retry=RetryPolicy(1000, 0.05, 0.2), keep_books=True)  # fmt: skip
    delivered: list[OrderBookDelta] = []
    client.set_handler(lambda obj: delivered.append(obj) if type(obj) is OrderBookDelta else None)
    raw: list[dict] = []
    fconn.add_depth_listener(raw.append)
    client.connect_blocking()
    client.subscribe_order_book_deltas(IID)
    assert fconn.inbox.pump_until(lambda: fserver.subscriber_count() >= 1 and client.books.get(IID) is not None, 10)
    fserver.advance(60)
    assert fconn.inbox.pump_until(lambda: not client.books[IID].stale, 10)
    for _ in range(10):
        fserver.advance(150)
    want_bids, want_asks = fserver.book_top(20)
    assert fconn.inbox.pump_until(lambda: raw and raw[-1]["u"] == fserver.last_update_id, 10)
    fconn.inbox.pump_until(lambda: False, 0.2)
    synced = client.books[IID]
    assert isinstance(synced.sync, BinanceFuturesSynchronizer)
    assert not synced.stale
    # the raw stream really is chained by pu (each pu equals the previous u), as the recording has it
    assert all(b["pu"] == a["u"] for a, b in itertools.pairwise(raw))
    assert _top(synced.book, 20) == (want_bids, want_asks)
    engine_book = OrderBook(IID, 2, 3)
    for d in delivered:
        engine_book.apply_delta(d)
    assert _top(engine_book, 20) == (want_bids, want_asks)
    client.disconnect_blocking()


def test_limit_submit_and_cancel_then_market_fill_and_reduce_only_close(fserver, fh):
    fserver.advance(300)  # the book and a last trade price exist
    best_bid = max(fserver.bids)
    o = fh.factory.limit(IID, OrderSide.BUY, Quantity.from_str("0.010"), Price(best_bid - Decimal("500"), 2))
    fh.engine.submit_order(o)
    assert fh.pump(lambda: fh.of("OrderAccepted", o.client_order_id), 10)
    [resting] = [x for x in fserver.orders.values() if x.client_order_id == str(o.client_order_id)]
    assert resting.status == "NEW" and resting.position_side == "BOTH"
    fh.engine.cancel(o)
    assert fh.pump(lambda: fh.of("OrderCanceled", o.client_order_id), 10)
    assert resting.status == "CANCELED"

    buy = fh.factory.market(IID, OrderSide.BUY, Quantity.from_str("0.020"))
    fh.engine.submit_order(buy)
    assert fh.pump(lambda: fh.of("OrderFilled", buy.client_order_id)
                   and sum(f.last_qty.as_decimal() for f in fh.of("OrderFilled", buy.client_order_id))
                   == Decimal("0.020"), 10)  # fmt: skip
    pos = fserver.position()
    assert Decimal(pos["positionAmt"]) == Decimal("0.020")
    fills = fh.of("OrderFilled", buy.client_order_id)
    notional = sum(f.last_qty.as_decimal() * f.last_px.as_decimal() for f in fills)
    assert Decimal(pos["entryPrice"]) == notional / Decimal("0.020")

    [report] = fh.client.generate_position_reports()
    assert report.instrument_id == IID and report.position_side is PositionSide.LONG
    assert report.quantity.as_decimal() == Decimal(pos["positionAmt"])
    assert report.avg_px_open.as_decimal() == Decimal(pos["entryPrice"])

    close = fh.factory.market(IID, OrderSide.SELL, Quantity.from_str("0.020"), reduce_only=True)
    fh.engine.submit_order(close)
    assert fh.pump(lambda: fh.of("OrderFilled", close.client_order_id)
                   and sum(f.last_qty.as_decimal() for f in fh.of("OrderFilled", close.client_order_id))
                   == Decimal("0.020"), 10)  # fmt: skip
    assert Decimal(fserver.position()["positionAmt"]) == 0
    assert fh.client.generate_position_reports() == []
    sent = [x for x in fserver.orders.values() if x.client_order_id == str(close.client_order_id)]
    assert sent[0].reduce_only


def test_reduce_only_without_a_position_is_rejected_by_the_venue(fserver, fh):
    fserver.advance(300)
    o = fh.factory.market(IID, OrderSide.SELL, Quantity.from_str("0.010"), reduce_only=True)
    fh.engine.submit_order(o)
    assert fh.pump(lambda: fh.of("OrderRejected", o.client_order_id), 10)
    assert "ReduceOnly" in fh.of("OrderRejected", o.client_order_id)[0].reason


def test_leverage_and_margin_mode_are_applied_before_the_first_order(fserver):
    cfg = usdm_config(fserver, leverage=7, margin_mode="isolated", position_mode="one_way")
    conn = CcxtConnection.from_config(cfg, env=ENV)
    conn.load_instruments()
    harness = ExecHarness(conn)
    try:
        harness.client.connect()  # one-way already: no position-mode change is sent (Binance refuses a no-op)
        assert ("POST", "v1/positionSide/dual") not in fserver.request_log
        assert ("GET", "v1/positionSide/dual") in fserver.request_log
        fserver.advance(300)
        from tradewire.execution.factory import OrderFactory
        from tradewire.model.identifiers import StrategyId

        o = OrderFactory(StrategyId("s-1"), harness.clock).limit(
            IID, OrderSide.BUY, Quantity.from_str("0.010"), Price(max(fserver.bids) - Decimal("300"), 2)
        )
        harness.engine.submit_order(o)
        assert harness.pump(lambda: harness.of("OrderAccepted", o.client_order_id), 10)
        log = fserver.request_log
        assert (
            log.index(("POST", "v1/marginType")) < log.index(("POST", "v1/leverage")) < log.index(("POST", "v1/order"))
        )
        row = fserver.position()
        assert row["leverage"] == "7" and row["marginType"] == "isolated"
    finally:
        harness.client.disconnect()
        conn.close()


def test_signed_endpoints_need_a_valid_signature(fserver):
    import urllib.error
    import urllib.request

    req = urllib.request.Request(f"{fserver.rest_url}/openOrders?timestamp=1", headers={"X-MBX-APIKEY": KEY})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=5)
    assert e.value.code == 400 and b"-1102" in e.value.read()
    req = urllib.request.Request(f"{fserver.rest_url}/openOrders?timestamp=1&signature=00",
                                 headers={"X-MBX-APIKEY": KEY})  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=5)
    assert b"-1022" in e.value.read()


def test_position_bookkeeping_matches_binance_rules():
    p = _Position()
    assert apply_fill(p, Decimal("0.010"), Decimal("60000")) == 0
    assert apply_fill(p, Decimal("0.030"), Decimal("60400")) == 0
    # weighted entry: (0.010*60000 + 0.030*60400) / 0.040 = 60300
    assert (p.amt, p.entry) == (Decimal("0.040"), Decimal("60300"))
    # reduce 0.015 at 60500: realized 0.015 * 200 = 3, entry unchanged
    assert apply_fill(p, Decimal("-0.015"), Decimal("60500")) == Decimal("3.000")
    assert (p.amt, p.entry) == (Decimal("0.025"), Decimal("60300"))
    # flip: close 0.025 at 60100 (realized -5), open 0.010 short at 60100
    assert apply_fill(p, Decimal("-0.035"), Decimal("60100")) == Decimal("-5.000")
    assert (p.amt, p.entry) == (Decimal("-0.010"), Decimal("60100"))


def test_maker_fill_arrives_through_order_trade_update(fserver, fh):
    fserver.advance(300)
    px = Price(max(fserver.bids) - Decimal("200"), 2)
    o = fh.factory.limit(IID, OrderSide.BUY, Quantity.from_str("0.005"), px)
    fh.engine.submit_order(o)
    assert fh.pump(lambda: fh.of("OrderAccepted", o.client_order_id), 10)
    before = list(fserver.request_log)
    fserver.fill_resting(int(o.venue_order_id), "0.005")  # a counterparty arrives: only the user stream tells
    assert fh.pump(lambda: fh.of("OrderFilled", o.client_order_id), 10)
    [fill] = fh.of("OrderFilled", o.client_order_id)
    [venue] = [t for t in fserver.my_trades if t["orderId"] == int(o.venue_order_id)]
    assert (str(fill.trade_id), fill.last_qty.as_decimal(), fill.last_px.as_decimal()) == (
        str(venue["id"]), Decimal(venue["qty"]), Decimal(venue["price"]))  # fmt: skip
    assert (
        fill.commission.as_decimal()
        == Decimal(venue["commission"])
        == px.as_decimal() * Decimal("0.005") * Decimal("0.0002")
    )
    assert [r for r in fserver.request_log[len(before) :] if r[1] in ("v1/userTrades", "v1/order")] == []
    pos = fserver.position()
    assert (pos["positionAmt"], Decimal(pos["entryPrice"])) == ("0.005", px.as_decimal())
    [report] = fh.client.generate_position_reports()
    assert report.quantity.as_decimal() == Decimal("0.005") and report.avg_px_open == px


def test_hedge_mode_opens_both_sides_and_reduce_only_closes_the_opposite_one(fserver):
    cfg = usdm_config(fserver, position_mode="hedge")
    conn = CcxtConnection.from_config(cfg, env=ENV)
    conn.load_instruments()
    harness = ExecHarness(conn)
    try:
        harness.client.connect()
        assert ("POST", "v1/positionSide/dual") in fserver.request_log and fserver.dual_side
        fserver.advance(300)
        from tradewire.execution.factory import OrderFactory
        from tradewire.model.identifiers import StrategyId

        factory = OrderFactory(StrategyId("s-1"), harness.clock)

        def fill(side: OrderSide, qty: str, **kw):
            o = factory.market(IID, side, Quantity.from_str(qty), **kw)
            harness.engine.submit_order(o)

            def done() -> bool:
                return sum(f.last_qty.as_decimal() for f in harness.of("OrderFilled", o.client_order_id)) == Decimal(
                    qty
                )

            assert harness.pump(done, 10), harness.of("OrderRejected")
            [sent] = [x for x in fserver.orders.values() if x.client_order_id == str(o.client_order_id)]
            return sent

        assert fill(OrderSide.BUY, "0.030").position_side == "LONG"
        assert fill(OrderSide.SELL, "0.010").position_side == "SHORT"  # not reduce-only: a short beside the long
        assert Decimal(fserver.position(position_side="LONG")["positionAmt"]) == Decimal("0.030")
        assert Decimal(fserver.position(position_side="SHORT")["positionAmt"]) == Decimal("-0.010")
        sides = {r.position_side: r.quantity.as_decimal() for r in harness.client.generate_position_reports()}
        assert sides == {PositionSide.LONG: Decimal("0.030"), PositionSide.SHORT: Decimal("0.010")}

        closing = fill(OrderSide.SELL, "0.030", reduce_only=True)  # closes the LONG, leaves the SHORT
        assert closing.position_side == "LONG"
        assert Decimal(fserver.position(position_side="LONG")["positionAmt"]) == 0
        assert Decimal(fserver.position(position_side="SHORT")["positionAmt"]) == Decimal("-0.010")
        assert fill(OrderSide.BUY, "0.010", reduce_only=True).position_side == "SHORT"
        assert harness.client.generate_position_reports() == []
    finally:
        harness.client.disconnect()
        conn.close()
