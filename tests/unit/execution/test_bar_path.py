"""One intrabar path for the whole engine: `bar_path_raw`, used by the OMS emulator and the paper venue."""

from __future__ import annotations

from tradewire.model import Bar, BarType, OrderSide, OrderStatus
from tradewire.model.commands import SubmitOrder
from tradewire.model.data import bar_path_raw


def _bar(rig, o, h, lo, c, ts):
    bt = BarType.from_str("BTCUSDT.SIM-1-MINUTE-LAST")
    return Bar(bt, rig.px(o), rig.px(h), rig.px(lo), rig.px(c), rig.qty("3"), ts, ts)


def test_bar_path_raw_up_flat_and_down_bars(rig):
    ts = rig.clock.timestamp_ns()
    up = _bar(rig, "100.00", "106.00", "97.00", "102.00", ts)
    flat = _bar(rig, "100.00", "101.00", "99.00", "100.00", ts)
    down = _bar(rig, "100.00", "101.00", "94.00", "99.00", ts)
    raw = rig.px
    assert bar_path_raw(up) == (raw("100.00").raw, raw("106.00").raw, raw("97.00").raw, raw("102.00").raw)
    assert bar_path_raw(flat) == (raw("100.00").raw, raw("101.00").raw, raw("99.00").raw, raw("100.00").raw)
    assert bar_path_raw(down) == (raw("100.00").raw, raw("94.00").raw, raw("101.00").raw, raw("99.00").raw)


def test_emulator_walks_an_up_bar_high_first_even_when_the_low_is_nearer_the_open(make_rig):
    # Up bar whose low (3 away) is nearer the open than its high (6 away): the engine's single rule
    # says the high traded first, so the buy stop is released before the sell stop.
    rig = make_rig()
    buy = rig.factory.stop_market(rig.inst.id, OrderSide.BUY, rig.qty("1"), rig.px("105.00"))
    sell = rig.factory.stop_market(rig.inst.id, OrderSide.SELL, rig.qty("1"), rig.px("98.00"))
    for o in (sell, buy):  # held in this order: the release order comes from the path, not insertion
        rig.engine.execute(SubmitOrder(rig.sid, o.instrument_id, 0, o))
    ts = rig.clock.timestamp_ns() + 60_000_000_000
    rig.engine.on_bar(_bar(rig, "100.00", "106.00", "97.00", "102.00", ts))
    assert rig.client.submitted == [buy.client_order_id, sell.client_order_id]
    assert rig.cache.orders[buy.client_order_id].status is OrderStatus.FILLED
    assert rig.cache.orders[sell.client_order_id].status is OrderStatus.FILLED


def test_emulator_walks_a_down_bar_low_first(make_rig):
    rig = make_rig()
    buy = rig.factory.stop_market(rig.inst.id, OrderSide.BUY, rig.qty("1"), rig.px("100.50"))
    sell = rig.factory.stop_market(rig.inst.id, OrderSide.SELL, rig.qty("1"), rig.px("95.00"))
    for o in (buy, sell):
        rig.engine.execute(SubmitOrder(rig.sid, o.instrument_id, 0, o))
    ts = rig.clock.timestamp_ns() + 60_000_000_000
    rig.engine.on_bar(_bar(rig, "100.00", "101.00", "94.00", "99.00", ts))  # high nearer, but a down bar
    assert rig.client.submitted == [sell.client_order_id, buy.client_order_id]
