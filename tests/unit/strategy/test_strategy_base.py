"""Strategy.register subscribes order and position events only for handlers that do something."""

from __future__ import annotations

from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import TestClock
from tradewire.strategy.base import Strategy


def _register(s: Strategy) -> MessageBus:
    bus = MessageBus()
    s.register(clock=TestClock(0), cache=Cache(), bus=bus, portfolio=None, order_factory=None)
    return bus


class Plain(Strategy):
    pass


class Positions(Strategy):
    def __init__(self, sid: str) -> None:
        super().__init__(sid)
        self.got: list[object] = []

    def on_position_event(self, event: object) -> None:
        self.got.append(event)


class Orders(Strategy):
    def __init__(self, sid: str) -> None:
        super().__init__(sid)
        self.got: list[object] = []

    def on_order_event(self, event) -> None:
        self.got.append(event)


def test_base_handlers_are_not_subscribed():
    bus = _register(Plain("p-1"))
    assert bus.handlers("events.order.p-1") == ()
    assert bus.handlers("events.position.p-1") == ()


def test_overridden_handlers_get_their_events():
    s = Positions("pos-1")
    bus = _register(s)
    assert bus.handlers("events.order.pos-1") == ()
    bus.publish("events.position.pos-1", "opened")
    assert s.got == ["opened"]
    o = Orders("ord-1")
    bus = _register(o)
    assert bus.handlers("events.position.ord-1") == ()
    bus.publish("events.order.ord-1", "filled")
    assert o.got == ["filled"]


def test_handler_replaced_on_the_instance_before_register_counts_as_overridden():
    s = Plain("inst-1")
    got: list[object] = []
    s.on_position_event = got.append  # type: ignore[method-assign]
    s.on_order_event = got.append  # type: ignore[method-assign]
    bus = _register(s)
    bus.publish("events.position.inst-1", 1)
    bus.publish("events.order.inst-1", 2)
    assert got == [1, 2]
