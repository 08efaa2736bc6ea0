"""Bookkeeping the pre-trade checks read: submit/modify throttles and the orders still working.

Both are kept by the :class:`~tradewire.risk.engine.RiskEngine` and read on every pre-trade check, so
their read paths allocate no garbage-collected objects (no temporary containers or iterators) in the
common cases: no working order on other instruments, no expired throttle entries to drop.
"""

from __future__ import annotations

from collections import deque
from typing import Final

from tradewire.model.enums import OrderSide, OrderStatus
from tradewire.model.events import (
    OrderAccepted,
    OrderInitialized,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderSubmitted,
    OrderTriggered,
)
from tradewire.model.identifiers import ClientOrderId, InstrumentId, StrategyId
from tradewire.model.orders import Order

_CLOSED: Final = frozenset(s for s in OrderStatus if s.is_closed)  # terminal states, as the model defines them
# events whose every transition (model.orders.TRANSITIONS) ends in an open or initial status: an order
# just changed by one of them is not closed (three of the four events of a filled market order)
_NEVER_CLOSING: Final = frozenset(
    {OrderInitialized, OrderSubmitted, OrderAccepted, OrderPendingUpdate, OrderPendingCancel, OrderTriggered}
)


class RateLimiter:
    """Sliding-window counter: at most ``limit`` events per ``window_ns`` per key (on the caller's clock).

    An event at time t counts against the window ``(t - window_ns, t]``. :meth:`allows` does not
    record; call :meth:`record` once the guarded action really happens, so denied orders do not use
    up the budget.
    """

    __slots__ = ("_events", "limit", "window_ns")

    def __init__(self, limit: int, window_ns: int) -> None:
        if limit <= 0 or window_ns <= 0:
            raise ValueError("limit and window_ns must be positive")
        self.limit = limit
        self.window_ns = window_ns
        self._events: dict[object, deque[int]] = {}

    def allows(self, key: object, ts_ns: int) -> bool:
        """True if one more event at ``ts_ns`` stays within the limit."""
        q = self._events.get(key)
        if q is None:
            return True
        edge = ts_ns - self.window_ns
        while q and q[0] <= edge:
            q.popleft()
        return len(q) < self.limit

    def record(self, key: object, ts_ns: int) -> None:
        """Count an event at ``ts_ns``."""
        q = self._events.get(key)
        if q is None:
            q = self._events[key] = deque()
        q.append(ts_ns)

    def count(self, key: object, ts_ns: int) -> int:
        """Events in the window ending at ``ts_ns``."""
        self.allows(key, ts_ns)
        q = self._events.get(key)
        return 0 if q is None else len(q)


class WorkingOrders:
    """Orders the risk engine forwarded and that are not closed yet (the same `Order` objects the OMS updates).

    Counts can be stale-high (an order closed without an event reaching :meth:`on_event`); callers
    :meth:`prune` before denying on a count.
    """

    __slots__ = ("by_instrument", "by_strategy", "orders")

    def __init__(self) -> None:
        self.orders: dict[ClientOrderId, Order] = {}
        self.by_instrument: dict[InstrumentId, dict[ClientOrderId, Order]] = {}
        self.by_strategy: dict[StrategyId, int] = {}

    def add(self, order: Order) -> None:
        """Track ``order``."""
        coid = order.client_order_id
        if coid in self.orders:
            return
        self.orders[coid] = order
        d = self.by_instrument.get(order.instrument_id)
        if d is None:
            d = self.by_instrument[order.instrument_id] = {}
        d[coid] = order
        self.by_strategy[order.strategy_id] = self.by_strategy.get(order.strategy_id, 0) + 1

    def remove(self, coid: ClientOrderId) -> None:
        """Stop tracking an order (no error if unknown)."""
        order = self.orders.pop(coid, None)
        if order is None:
            return
        self.by_instrument[order.instrument_id].pop(coid, None)
        self.by_strategy[order.strategy_id] -= 1

    def on_event(self, event: object) -> None:
        """Drop the order an order event closed (subscribe to ``events.order.*``; called for every order event)."""
        if type(event) in _NEVER_CLOSING:  # the order was just moved to an open status by this event
            return
        try:
            coid = event.client_order_id  # type: ignore[attr-defined]
        except AttributeError:
            return
        order = self.orders.get(coid)
        if order is not None and order.status in _CLOSED:
            self.remove(coid)

    def prune(self) -> None:
        """Drop every closed order."""
        for coid in [c for c, o in self.orders.items() if o.status.is_closed]:
            self.remove(coid)

    def has_orders_besides(self, instrument_id: InstrumentId | None) -> bool:
        """True if an order on an instrument other than ``instrument_id`` is tracked (no allocation)."""
        d = self.by_instrument.get(instrument_id) if instrument_id is not None else None
        return len(self.orders) > (0 if d is None else len(d))

    def same_side_leaves_raw(self, instrument_id: InstrumentId, side: OrderSide, exclude: ClientOrderId | None) -> int:
        """Sum of leaves quantity of open orders on ``side`` for the instrument (raw)."""
        d = self.by_instrument.get(instrument_id)
        if not d:
            return 0
        total = 0
        for coid, o in d.items():
            if o.side is side and coid != exclude and not o.status.is_closed:
                total += o.quantity.raw - o.filled_qty.raw
        return total


__all__ = ["RateLimiter", "WorkingOrders"]
