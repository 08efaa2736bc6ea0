"""Order retention of the `Cache`: closed orders leave memory, open orders and live contingency groups stay."""

from __future__ import annotations

import pytest

from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.model import (
    ClientOrderId,
    InstrumentId,
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderInitialized,
    OrderSide,
    OrderSubmitted,
    OrderType,
    Quantity,
    StrategyId,
    VenueOrderId,
)
from tradewire.model.orders import Order

IID = InstrumentId("BTCUSDT.BINANCE")
S1, S2 = StrategyId("s-001"), StrategyId("s-002")
NS = 1_000_000_000


class Oms:
    """Applies events to the cache's orders and publishes them, like the ExecutionEngine does."""

    def __init__(self, cache: Cache, bus: MessageBus) -> None:
        self.cache, self.bus = cache, bus

    def new(self, coid: str, sid: StrategyId = S1, ts: int = 0, **kw) -> Order:
        init = OrderInitialized(ClientOrderId(coid), sid, IID, ts, ts, side=OrderSide.BUY,
                                order_type=OrderType.MARKET, quantity=Quantity("1", 0), **kw)  # fmt: skip
        order = Order.from_init(init)
        self.cache.orders[order.client_order_id] = order
        self.bus.publish(f"events.order.{sid}", init)
        return order

    def emit(self, order: Order, cls, ts: int, **kw) -> None:
        ev = cls(order.client_order_id, order.strategy_id, IID, ts, ts, **kw)
        order.apply(ev)
        self.bus.publish(f"events.order.{order.strategy_id}", ev)

    def accept(self, order: Order, ts: int) -> None:
        self.emit(order, OrderSubmitted, ts)
        self.emit(order, OrderAccepted, ts, venue_order_id=VenueOrderId(f"V-{order.client_order_id}"))

    def close(self, order: Order, ts: int) -> None:
        self.emit(order, OrderCanceled, ts)

    def deny(self, order: Order, ts: int) -> None:
        self.emit(order, OrderDenied, ts, reason="test")


def _setup(**kw) -> tuple[Cache, MessageBus, Oms]:
    cache, bus = Cache(), MessageBus()
    cache.enable_order_retention(bus, **kw)
    return cache, bus, Oms(cache, bus)


def test_without_a_policy_every_order_stays():
    cache, bus = Cache(), MessageBus()
    oms = Oms(cache, bus)
    for i in range(50):
        oms.deny(oms.new(f"O-{i}", ts=i), i)
    assert len(cache.orders) == 50 and cache.evicted_orders == 0


def test_keeps_the_newest_closed_per_strategy_and_every_open_order():
    cache, _, oms = _setup(max_closed_per_strategy=3)
    working = oms.new("W-1", ts=0)
    oms.accept(working, 0)
    for i in range(10):
        oms.deny(oms.new(f"A-{i}", S1, ts=i), i)
        oms.deny(oms.new(f"B-{i}", S2, ts=i), i)
    assert set(map(str, cache.orders)) == {"W-1", "A-7", "A-8", "A-9", "B-7", "B-8", "B-9"}
    assert cache.evicted_orders == 14
    assert cache.orders[ClientOrderId("W-1")].is_open


def test_count_is_by_closing_order_not_creation_order():
    cache, _, oms = _setup(max_closed_per_strategy=2)
    first = oms.new("O-1", ts=0)
    oms.accept(first, 0)  # stays open while three later orders close
    for i in range(2, 5):
        oms.deny(oms.new(f"O-{i}", ts=i), i)
    assert set(map(str, cache.orders)) == {"O-1", "O-3", "O-4"}
    oms.close(first, 10)  # closes last: the newest closed order now
    assert set(map(str, cache.orders)) == {"O-1", "O-4"}


def test_age_limit_evicts_orders_closed_longer_ago():
    cache, _, oms = _setup(max_closed_per_strategy=None, max_closed_age_s=60)
    for i, ts in enumerate((0, 30 * NS, 59 * NS)):
        oms.deny(oms.new(f"O-{i}", ts=ts), ts)
    assert len(cache.orders) == 3
    oms.deny(oms.new("O-3", ts=90 * NS), 90 * NS)  # O-0 (90 s) and O-1 (60 s) are past 60 s
    assert set(map(str, cache.orders)) == {"O-2", "O-3"}


def test_a_closed_parent_stays_while_its_child_is_live():
    cache, _, oms = _setup(max_closed_per_strategy=1)
    parent = oms.new("E-1", ts=0, linked_order_ids=(ClientOrderId("SL-1"),))
    child = oms.new("SL-1", ts=0, parent_order_id=ClientOrderId("E-1"))  # held: INITIALIZED, not closed
    oms.accept(parent, 1)
    oms.close(parent, 2)
    for i in range(3):
        oms.deny(oms.new(f"X-{i}", ts=3 + i), 3 + i)
    assert ClientOrderId("E-1") in cache.orders  # due for eviction, held for its child
    oms.deny(child, 10)
    oms.deny(oms.new("X-9", ts=11), 11)
    assert ClientOrderId("E-1") not in cache.orders and ClientOrderId("SL-1") not in cache.orders


def test_events_after_close_do_not_count_twice():
    cache, bus, oms = _setup(max_closed_per_strategy=2)
    a = oms.new("O-1", ts=0)
    oms.deny(a, 0)
    bus.publish(f"events.order.{S1}", OrderDenied(a.client_order_id, S1, IID, 1, 1, reason="again"))
    oms.deny(oms.new("O-2", ts=2), 2)
    assert set(map(str, cache.orders)) == {"O-1", "O-2"} and cache.evicted_orders == 0


def test_other_handlers_see_the_closing_order_before_eviction():
    cache, bus = Cache(), MessageBus()
    seen: list[bool] = []
    bus.subscribe("events.order.*", lambda ev: seen.append(ev.client_order_id in cache.orders))
    cache.enable_order_retention(bus, max_closed_per_strategy=1)
    oms = Oms(cache, bus)
    for i in range(3):
        oms.deny(oms.new(f"O-{i}", ts=i), i)
    assert seen and all(seen)


@pytest.mark.parametrize(
    "kw", [{"max_closed_per_strategy": None}, {"max_closed_per_strategy": 0}, {"max_closed_age_s": 0}]
)
def test_invalid_policies_are_refused(kw):
    with pytest.raises(ValueError, match="max_closed"):
        Cache().enable_order_retention(MessageBus(), **kw)
