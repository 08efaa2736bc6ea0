"""Order events reach exactly the handlers subscribed at the time of each event (kept handler tuples stay exact)."""

from __future__ import annotations

from tradewire.model import OrderSide, StrategyId
from tradewire.model.commands import SubmitOrder


def _submit(rig, order):
    rig.bus.send("ExecutionEngine.execute", SubmitOrder(rig.sid, order.instrument_id, rig.clock.timestamp_ns(), order))


def _kinds(events):
    return [type(e).__name__ for e in events]


def test_subscribing_and_unsubscribing_between_orders_changes_who_gets_the_next_events(rig):
    first = rig.factory.market(rig.inst.id, OrderSide.BUY, rig.qty("1"))
    _submit(rig, first)
    late: list = []
    rig.bus.subscribe(f"events.order.{rig.sid}", late.append)
    second = rig.factory.market(rig.inst.id, OrderSide.BUY, rig.qty("1"))
    _submit(rig, second)
    assert _kinds(late) == ["OrderInitialized", "OrderSubmitted", "OrderAccepted", "OrderFilled"]
    assert {e.client_order_id for e in late} == {second.client_order_id}
    rig.bus.unsubscribe(f"events.order.{rig.sid}", late.append)
    third = rig.factory.market(rig.inst.id, OrderSide.SELL, rig.qty("1"))
    _submit(rig, third)
    assert len(late) == 4  # nothing after unsubscribing
    assert _kinds(rig.events) == 3 * ["OrderInitialized", "OrderSubmitted", "OrderAccepted", "OrderFilled"]


def test_a_handler_subscribing_during_an_event_gets_the_following_events_of_the_same_order(rig):
    later: list = []

    def on_event(event):
        if type(event).__name__ == "OrderSubmitted":
            rig.bus.subscribe(f"events.order.{rig.sid}", later.append)

    rig.bus.subscribe(f"events.order.{rig.sid}", on_event)
    order = rig.factory.market(rig.inst.id, OrderSide.BUY, rig.qty("1"))
    _submit(rig, order)
    assert _kinds(later) == ["OrderAccepted", "OrderFilled"]


def test_each_strategy_gets_only_its_own_events_and_publishes_are_counted(rig):
    from tradewire.execution.factory import OrderFactory

    other = StrategyId("S-2")
    other_factory = OrderFactory(other, rig.clock)
    mine: list = []
    theirs: list = []
    rig.bus.subscribe(f"events.order.{rig.sid}", mine.append)
    rig.bus.subscribe(f"events.order.{other}", theirs.append)
    before = rig.bus.pub_count
    a = rig.factory.market(rig.inst.id, OrderSide.BUY, rig.qty("1"))
    b = other_factory.market(rig.inst.id, OrderSide.BUY, rig.qty("2"))
    _submit(rig, a)
    rig.bus.send("ExecutionEngine.execute", SubmitOrder(other, b.instrument_id, rig.clock.timestamp_ns(), b))
    assert {e.client_order_id for e in mine} == {a.client_order_id} and len(mine) == 4
    assert {e.client_order_id for e in theirs} == {b.client_order_id} and len(theirs) == 4
    assert rig.bus.pub_count - before == 8  # every order event is one publish (no position/account listeners)


def test_changing_the_factory_tag_changes_the_ids_built_from_then_on(rig):
    a = rig.factory.market(rig.inst.id, OrderSide.BUY, rig.qty("1"))
    rig.factory.tag = "X"
    b = rig.factory.market(rig.inst.id, OrderSide.BUY, rig.qty("1"))
    c = rig.factory.next_client_order_id()
    stamp = a.client_order_id.split("-")[1] + "-" + a.client_order_id.split("-")[2]
    assert a.client_order_id == f"O-{stamp}-S1-1"
    assert b.client_order_id == f"O-{stamp}-X-2" and c == f"O-{stamp}-X-3"
    assert rig.factory.tag == "X"
