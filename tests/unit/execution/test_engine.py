"""ExecutionEngine: routing, idempotency, illegal events, commands."""

from __future__ import annotations

from decimal import Decimal

from tradewire.model import (
    OrderAccepted,
    OrderDenied,
    OrderFilled,
    OrderModifyRejected,
    OrderSide,
    OrderStatus,
    OrderSubmitted,
    VenueOrderId,
)
from tradewire.model.commands import CancelAllOrders, CancelOrder, ModifyOrder, SubmitOrder


def submit(rig, order):
    rig.bus.send("ExecutionEngine.execute", SubmitOrder(rig.sid, order.instrument_id, rig.clock.timestamp_ns(), order))


def test_market_order_flows_to_fill_and_position(rig):
    o = rig.factory.market(rig.inst.id, OrderSide.BUY, rig.qty("1.5"))
    submit(rig, o)
    assert o.status is OrderStatus.FILLED
    assert [type(e).__name__ for e in rig.events] == [
        "OrderInitialized",
        "OrderSubmitted",
        "OrderAccepted",
        "OrderFilled",
    ]
    assert rig.portfolio.net_position_raw(rig.inst.id) == 1_500_000_000
    # cash: 1,000,000 - 1.5 * 100.00
    assert rig.portfolio.balance_total(rig.inst.quote_currency).as_decimal() == Decimal("999850")
    assert rig.portfolio.balance_total(rig.inst.base_currency).as_decimal() == Decimal("1.5")


def test_duplicate_client_order_id_makes_one_order(rig):
    o = rig.factory.limit(rig.inst.id, OrderSide.BUY, rig.qty("1"), rig.px("90.00"))
    submit(rig, o)
    again = rig.factory._build(o.instrument_id, OrderSide.SELL, o.order_type, rig.qty("2"), price=rig.px("91.00"),
                               client_order_id=o.client_order_id)  # fmt: skip
    submit(rig, again)
    submit(rig, o)
    assert rig.client.submitted == [o.client_order_id]
    assert rig.cache.orders[o.client_order_id] is o
    assert rig.engine.duplicate_count == 2
    assert o.status is OrderStatus.ACCEPTED


def test_illegal_event_is_counted_and_order_unchanged(rig):
    o = rig.factory.market(rig.inst.id, OrderSide.BUY, rig.qty("1"))
    submit(rig, o)
    n_events = len(o.events)
    ts = rig.clock.timestamp_ns()
    rig.engine.process(OrderAccepted(o.client_order_id, rig.sid, o.instrument_id, ts, ts, VenueOrderId("V-2")))
    rig.engine.process(OrderSubmitted(o.client_order_id, rig.sid, o.instrument_id, ts, ts))
    assert rig.engine.illegal_event_count == 2
    assert o.status is OrderStatus.FILLED and len(o.events) == n_events


def test_duplicate_fill_trade_id_is_dropped_and_not_booked(rig):
    o = rig.factory.limit(rig.inst.id, OrderSide.BUY, rig.qty("2"), rig.px("99.00"))
    submit(rig, o)
    rig.client.fill(o, rig.qty("1"), rig.px("99.00"))
    fill = next(e for e in rig.events if isinstance(e, OrderFilled))
    rig.engine.process(fill)
    assert rig.engine.illegal_event_count == 1
    assert o.filled_qty == rig.qty("1")
    assert rig.portfolio.net_position_raw(rig.inst.id) == 1_000_000_000


def test_unknown_event_is_counted(rig):
    o = rig.factory.market(rig.inst.id, OrderSide.BUY, rig.qty("1"))
    ts = rig.clock.timestamp_ns()
    rig.engine.process(OrderAccepted(o.client_order_id, rig.sid, o.instrument_id, ts, ts, VenueOrderId("V-1")))
    assert rig.engine.unknown_event_count == 1


def test_no_client_for_venue_denies(rig):
    from tradewire.model import crypto_spot

    other = crypto_spot("ETHUSDT", "OTHER", "ETH", "USDT", 2, 3)
    rig.cache.add_instrument(other)
    o = rig.factory.market(other.id, OrderSide.BUY, rig.qty("1"))
    submit(rig, o)
    assert o.status is OrderStatus.DENIED
    assert isinstance(rig.events[-1], OrderDenied)


def test_cancel_modify_and_cancel_all(rig):
    a = rig.factory.limit(rig.inst.id, OrderSide.BUY, rig.qty("1"), rig.px("90.00"))
    b = rig.factory.limit(rig.inst.id, OrderSide.BUY, rig.qty("1"), rig.px("91.00"))
    c = rig.factory.limit(rig.inst.id, OrderSide.SELL, rig.qty("1"), rig.px("120.00"))
    for o in (a, b, c):
        submit(rig, o)
    ts = rig.clock.timestamp_ns()
    rig.engine.execute(ModifyOrder(rig.sid, a.instrument_id, ts, a.client_order_id, price=rig.px("89.50")))
    assert a.price == rig.px("89.50") and a.status is OrderStatus.ACCEPTED
    rig.engine.execute(CancelOrder(rig.sid, a.instrument_id, ts, a.client_order_id))
    assert a.status is OrderStatus.CANCELED
    rig.engine.execute(CancelAllOrders(rig.sid, rig.inst.id, ts))
    assert b.status is OrderStatus.CANCELED and c.status is OrderStatus.CANCELED
    assert rig.client.canceled == [a.client_order_id, b.client_order_id, c.client_order_id]
    # nothing locked once everything is canceled
    assert rig.portfolio.balance_locked(rig.inst.quote_currency).raw == 0


def test_modify_without_venue_support_is_rejected(rig):
    rig.client.supports = frozenset()
    o = rig.factory.limit(rig.inst.id, OrderSide.BUY, rig.qty("1"), rig.px("90.00"))
    submit(rig, o)
    rig.engine.modify(o, price=rig.px("91.00"))
    assert isinstance(rig.events[-1], OrderModifyRejected)
    assert o.status is OrderStatus.ACCEPTED and o.price == rig.px("90.00")


def test_limit_order_locks_quote_until_filled(rig):
    o = rig.factory.limit(rig.inst.id, OrderSide.BUY, rig.qty("2"), rig.px("95.00"))
    submit(rig, o)
    # 2 x 95.00 plus 0.1 % taker fee reserve = 190.19
    assert rig.portfolio.balance_locked(rig.inst.quote_currency).as_decimal() == Decimal("190.19")
    rig.client.fill(o, rig.qty("1"), rig.px("95.00"))
    assert rig.portfolio.balance_locked(rig.inst.quote_currency).as_decimal() == Decimal("95.095")
    rig.client.fill(o, rig.qty("1"), rig.px("95.00"))
    assert rig.portfolio.balance_locked(rig.inst.quote_currency).raw == 0
    assert rig.portfolio.balance_free(rig.inst.quote_currency).as_decimal() == Decimal("999810")


def test_client_oms_type_decides_position_booking(make_rig):
    from tradewire.model import OmsType

    rig = make_rig()
    rig.client.oms_type = OmsType.HEDGING
    rig.engine.register_client(rig.client)
    assert rig.account.oms_type is OmsType.HEDGING
    submit(rig, rig.factory.market(rig.inst.id, OrderSide.BUY, rig.qty("1")))
    submit(rig, rig.factory.market(rig.inst.id, OrderSide.SELL, rig.qty("1")))
    assert len(rig.portfolio.positions(open_only=True)) == 2  # two hedged legs, not one flat netting position


def test_process_refuses_non_events(rig):
    import pytest

    with pytest.raises(TypeError, match="not an order event"):
        rig.engine.process("hello")
