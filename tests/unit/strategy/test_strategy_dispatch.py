"""Strategy wiring: order events reach the overriding handler; commands reach the endpoint registered at send time."""

from __future__ import annotations

import pytest

from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import TestClock
from tradewire.model import InstrumentId, Order, OrderInitialized, OrderSide, OrderType, Quantity
from tradewire.model.commands import CancelOrder, SubmitOrder
from tradewire.strategy.base import Strategy


def _register(s: Strategy) -> MessageBus:
    bus = MessageBus()
    s.register(clock=TestClock(5), cache=Cache(), bus=bus, portfolio=None, order_factory=None)
    return bus


class Handles(Strategy):
    """Overrides the forwarding hook itself (and on_order_event): the hook is what gets subscribed."""

    def __init__(self, sid: str) -> None:
        super().__init__(sid)
        self.hook: list[object] = []
        self.got: list[object] = []

    def _handle_order_event(self, event) -> None:
        self.hook.append(event)
        self.on_order_event(event)

    def on_order_event(self, event) -> None:
        self.got.append(event)


def test_an_overridden_forwarding_hook_is_subscribed_once_and_forwards():
    s = Handles("h-1")
    bus = _register(s)
    assert len(bus.handlers("events.order.h-1")) == 1
    bus.publish("events.order.h-1", "e1")
    assert s.hook == ["e1"] and s.got == ["e1"]


def test_commands_go_to_the_endpoint_registered_when_they_are_sent():
    s = Strategy("c-1")
    bus = _register(s)
    first: list[object] = []
    second: list[object] = []
    bus.register("RiskEngine.execute", first.append)
    order = _order()
    s.submit_order(order)
    bus.register("RiskEngine.execute", second.append)  # e.g. a restarted risk engine
    s.cancel_order(order)
    assert [type(c) for c in first] == [SubmitOrder] and first[0].order is order and first[0].ts_init == 5
    assert [type(c) for c in second] == [CancelOrder] and second[0].client_order_id == order.client_order_id


def test_sending_without_a_registered_endpoint_raises_key_error_naming_it():
    s = Strategy("c-2")
    _register(s)
    with pytest.raises(KeyError, match=r"RiskEngine\.execute"):
        s.submit_order(_order())


def _order() -> Order:
    iid = InstrumentId("BTCUSDT.SIM")
    return Order(OrderInitialized("O-1", "c-1", iid, 0, 0, OrderSide.BUY, OrderType.MARKET, Quantity("1", 0)))
