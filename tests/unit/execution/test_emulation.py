"""Emulated stop, if-touched and trailing orders trigger on the right tick and are released correctly."""

from __future__ import annotations

from decimal import Decimal

from tradewire.execution.engine import rebuild_order
from tradewire.model import Bar, BarType, OrderSide, OrderStatus, OrderType, QuoteTick, TimeInForce, TradeId, TradeTick
from tradewire.model.commands import SubmitOrder
from tradewire.model.enums import AggressorSide


def q(rig, bid, ask):
    rig.clock.set_time(rig.clock.timestamp_ns() + 1_000_000)
    ts = rig.clock.timestamp_ns()
    return QuoteTick(rig.inst.id, rig.px(bid), rig.px(ask), rig.qty("5"), rig.qty("5"), ts, ts)


def t(rig, px):
    rig.clock.set_time(rig.clock.timestamp_ns() + 1_000_000)
    ts = rig.clock.timestamp_ns()
    return TradeTick(rig.inst.id, rig.px(px), rig.qty("1"), AggressorSide.BUYER, TradeId(str(ts)), ts, ts)


def submit(rig, order):
    rig.engine.execute(SubmitOrder(rig.sid, order.instrument_id, 0, order))


def test_emulated_sell_stop_triggers_on_bid_at_or_below_trigger(make_rig):
    rig = make_rig()
    o = rig.factory.stop_market(rig.inst.id, OrderSide.SELL, rig.qty("1"), rig.px("95.00"))
    submit(rig, o)
    assert o.status is OrderStatus.INITIALIZED and rig.client.submitted == []
    for bid in ("96.00", "95.01"):
        rig.engine.on_quote_tick(q(rig, bid, "97.00"))
        assert rig.client.submitted == []
    rig.client.market_px[rig.inst.id] = rig.px("94.90")
    rig.engine.on_quote_tick(q(rig, "95.00", "95.02"))  # bid touches the trigger
    released = rig.cache.orders[o.client_order_id]
    assert released is not o and released.order_type is OrderType.MARKET
    assert released.status is OrderStatus.FILLED and rig.client.submitted == [o.client_order_id]
    # the event history keeps both specifications: rebuilding gives the same order state
    again = rebuild_order(released.events)
    assert again.order_type is OrderType.MARKET and again.status is OrderStatus.FILLED
    assert again.events[0].order_type is OrderType.STOP_MARKET


def test_emulated_buy_stop_limit_and_mit_on_trades(make_rig):
    rig = make_rig()
    sl = rig.factory.stop_limit(rig.inst.id, OrderSide.BUY, rig.qty("1"), rig.px("105.50"), rig.px("105.00"))
    mit = rig.factory.market_if_touched(rig.inst.id, OrderSide.BUY, rig.qty("1"), rig.px("98.00"))
    submit(rig, sl)
    submit(rig, mit)
    rig.engine.on_trade_tick(t(rig, "104.99"))
    rig.engine.on_trade_tick(t(rig, "98.01"))
    assert rig.client.submitted == []
    rig.engine.on_trade_tick(t(rig, "105.00"))
    rel = rig.cache.orders[sl.client_order_id]
    assert rel.order_type is OrderType.LIMIT and rel.price == rig.px("105.50") and rel.status is OrderStatus.ACCEPTED
    rig.engine.on_trade_tick(t(rig, "97.99"))
    assert rig.cache.orders[mit.client_order_id].status is OrderStatus.FILLED


def test_trailing_stop_ratchets_only_favourably_and_triggers(make_rig):
    rig = make_rig()
    o = rig.factory.trailing_stop_market(rig.inst.id, OrderSide.SELL, rig.qty("1"), Decimal("2.00"))
    submit(rig, o)
    expected = [("100.00", "98.00"), ("103.00", "101.00"), ("102.00", "101.00"), ("101.50", "101.00")]
    for bid, trig in expected:
        rig.engine.on_quote_tick(q(rig, bid, "110.00"))
        assert o.trigger_price == rig.px(trig), bid
        assert o.status is OrderStatus.INITIALIZED
    rig.engine.on_quote_tick(q(rig, "101.00", "101.02"))
    assert rig.cache.orders[o.client_order_id].status is OrderStatus.FILLED


def test_trailing_stop_bps_offset_rounded_to_tick(make_rig):
    rig = make_rig()
    o = rig.factory.trailing_stop_market(rig.inst.id, OrderSide.BUY, rig.qty("1"), "25", trailing_offset_type="bps")
    submit(rig, o)
    rig.engine.on_quote_tick(q(rig, "99.00", "100.00"))  # 25 bps of 100.00 = 0.25
    assert o.trigger_price == rig.px("100.25")
    rig.engine.on_quote_tick(q(rig, "96.00", "97.13"))  # 25 bps of 97.13 = 0.242825 -> 0.24
    assert o.trigger_price == rig.px("97.37")
    rig.engine.on_quote_tick(q(rig, "97.00", "98.00"))  # would loosen: unchanged
    assert o.trigger_price == rig.px("97.37")
    rig.engine.on_quote_tick(q(rig, "97.30", "97.37"))
    assert rig.cache.orders[o.client_order_id].status is OrderStatus.FILLED


def test_trailing_stop_limit_releases_limit_beyond_trigger(make_rig):
    rig = make_rig()
    o = rig.factory.trailing_stop_limit(rig.inst.id, OrderSide.SELL, rig.qty("1"), "1.00", "0.50",
                                        trigger_price=rig.px("99.00"))  # fmt: skip
    submit(rig, o)
    rig.engine.on_quote_tick(q(rig, "99.50", "99.60"))
    assert o.trigger_price == rig.px("99.00")  # 99.50 - 1.00 = 98.50 would loosen
    rig.engine.on_quote_tick(q(rig, "98.99", "99.01"))
    rel = rig.cache.orders[o.client_order_id]
    assert rel.order_type is OrderType.LIMIT and rel.price == rig.px("98.50")


def test_bar_path_triggers_stop_and_expiry(make_rig):
    rig = make_rig()
    bt = BarType.from_str("BTCUSDT.SIM-1-MINUTE-LAST")
    stop = rig.factory.stop_market(rig.inst.id, OrderSide.SELL, rig.qty("1"), rig.px("95.00"))
    gtd = rig.factory.stop_market(rig.inst.id, OrderSide.BUY, rig.qty("1"), rig.px("200.00"),
                                  time_in_force=TimeInForce.GTD,
                                  expire_time_ns=rig.clock.timestamp_ns() + 60_000_000_000)  # fmt: skip
    submit(rig, stop)
    submit(rig, gtd)
    ts = rig.clock.timestamp_ns() + 60_000_000_000
    bar = Bar(bt, rig.px("100.00"), rig.px("101.00"), rig.px("94.00"), rig.px("99.00"), rig.qty("3"), ts, ts)
    rig.engine.on_bar(bar)
    assert rig.cache.orders[stop.client_order_id].status is OrderStatus.FILLED
    assert gtd.status is OrderStatus.EXPIRED and rig.engine.emulator.held() == []


def test_local_cancel_and_modify_of_emulated_order(make_rig):
    rig = make_rig()
    o = rig.factory.stop_market(rig.inst.id, OrderSide.SELL, rig.qty("1"), rig.px("95.00"))
    submit(rig, o)
    rig.engine.modify(o, trigger_price=rig.px("96.00"))
    assert o.trigger_price == rig.px("96.00") and o.status is OrderStatus.INITIALIZED
    rig.engine.cancel(o)
    assert o.status is OrderStatus.CANCELED
    rig.engine.on_quote_tick(q(rig, "90.00", "90.10"))
    assert rig.client.submitted == []


def test_emulated_gtd_order_expires_on_time_without_data(make_rig):
    rig = make_rig()
    exp = rig.clock.timestamp_ns() + 5_000_000_000
    o = rig.factory.stop_market(rig.inst.id, OrderSide.BUY, rig.qty("1"), rig.px("200.00"),
                                time_in_force=TimeInForce.GTD, expire_time_ns=exp)  # fmt: skip
    submit(rig, o)
    rig.engine.on_time(exp - 1)
    assert o.status is OrderStatus.INITIALIZED
    rig.engine.on_time(exp)
    assert o.status is OrderStatus.EXPIRED and o not in rig.engine.emulator


def test_trailing_stop_survives_restart_with_its_ratcheted_trigger(make_rig):
    rig = make_rig()
    o = rig.factory.trailing_stop_market(rig.inst.id, OrderSide.SELL, rig.qty("1"), "2.00")
    submit(rig, o)
    for bid in ("100.00", "104.00"):
        rig.engine.on_quote_tick(q(rig, bid, "110.00"))
    assert o.trigger_price == rig.px("102.00")
    new = make_rig()
    new.clock.set_time(rig.clock.timestamp_ns())
    (o2,) = new.engine.restore([list(o.events)])
    assert o2.trigger_price == rig.px("102.00") and o2 in new.engine.emulator
    new.engine.on_quote_tick(q(new, "103.00", "110.00"))  # would loosen: unchanged
    assert o2.trigger_price == rig.px("102.00")
    new.client.market_px[new.inst.id] = new.px("101.90")
    new.engine.on_quote_tick(q(new, "101.90", "102.00"))
    assert new.cache.orders[o.client_order_id].status is OrderStatus.FILLED
