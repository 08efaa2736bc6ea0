"""`Cache`: the in-memory state shared by engine components (single-threaded access).

Holds instruments, orders (by ``client_order_id``), positions, and the latest quote, trade and bar
per instrument. Components write what they own (ExecutionEngine: orders; Portfolio: positions;
DataEngine: market data) and read the rest.

Order retention
---------------
By default every order stays in :attr:`Cache.orders` for the life of the process (backtests and their
reports read them all). A long-running node enables a retention policy with
:meth:`Cache.enable_order_retention`: open orders are always kept; a *closed* order is evicted from memory
once more than ``max_closed_per_strategy`` orders of its strategy closed after it, or once it has been
closed longer than ``max_closed_age_s`` (whichever comes first). An order is evicted only when its whole
contingency group (its parent and its ``linked_order_ids``) is closed too, since bracket handling and
position attribution look parents up. Evicted orders are not lost: every order event is in the event
store (:mod:`tradewire.persistence`), from which an order is rebuilt with
:func:`tradewire.execution.engine.rebuild_order` (``EventStore.read(client_order_id=...)``).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Final

from tradewire.model.data import Bar, QuoteTick, TradeTick
from tradewire.model.identifiers import ClientOrderId, InstrumentId, PositionId, StrategyId
from tradewire.model.instruments import Instrument
from tradewire.model.orders import Order
from tradewire.model.position import Position

_NS: Final = 1_000_000_000
RETENTION_PRIORITY = -1_000_000
"""Bus priority of the retention handler: after every other subscriber has seen the closing event."""


class Cache:
    """In-memory state. All lookups are O(1) dict reads."""

    def __init__(self) -> None:
        self.instruments: dict[InstrumentId, Instrument] = {}
        self.orders: dict[ClientOrderId, Order] = {}
        self.positions: dict[PositionId, Position] = {}
        self.quotes: dict[InstrumentId, QuoteTick] = {}
        self.trades: dict[InstrumentId, TradeTick] = {}
        self.bars: dict[InstrumentId, Bar] = {}
        self.books: dict[InstrumentId, object] = {}
        self.max_closed_per_strategy: int | None = None
        self.max_closed_age_ns: int | None = None
        self.evicted_orders = 0
        # per strategy: closed orders in the order they closed -> ts_event of the closing event (UTC ns)
        self._closed: dict[StrategyId, OrderedDict[ClientOrderId, int]] = {}
        self._held: dict[ClientOrderId, int] = {}  # due for eviction, kept while its group has a live order

    def add_instrument(self, instrument: Instrument) -> None:
        """Add or replace an instrument."""
        self.instruments[instrument.id] = instrument

    def instrument(self, instrument_id: InstrumentId) -> Instrument:
        """The instrument; raises KeyError with the id if unknown."""
        try:
            return self.instruments[instrument_id]
        except KeyError:
            raise KeyError(f"unknown instrument {instrument_id}") from None

    def order(self, client_order_id: ClientOrderId) -> Order | None:
        """The order or None."""
        return self.orders.get(client_order_id)

    def orders_open(
        self, instrument_id: InstrumentId | None = None, strategy_id: StrategyId | None = None
    ) -> list[Order]:
        """Working orders, optionally filtered."""
        return [
            o
            for o in self.orders.values()
            if o.is_open
            and (instrument_id is None or o.instrument_id == instrument_id)
            and (strategy_id is None or o.strategy_id == strategy_id)
        ]

    def positions_open(
        self, instrument_id: InstrumentId | None = None, strategy_id: StrategyId | None = None
    ) -> list[Position]:
        """Non-flat positions, optionally filtered."""
        return [
            p
            for p in self.positions.values()
            if not p.is_flat
            and (instrument_id is None or p.instrument_id == instrument_id)
            and (strategy_id is None or p.strategy_id == strategy_id)
        ]

    def last_price_raw(self, instrument_id: InstrumentId) -> int | None:
        """Best available mark as a raw price: quote mid, else last trade, else last bar close."""
        q = self.quotes.get(instrument_id)
        if q is not None:
            return (q.bid_price.raw + q.ask_price.raw) // 2
        t = self.trades.get(instrument_id)
        if t is not None:
            return t.price.raw
        b = self.bars.get(instrument_id)
        if b is not None:
            return b.close.raw
        return None

    # -- order retention -----------------------------------------------------------------------
    def enable_order_retention(
        self, bus: Any, max_closed_per_strategy: int | None = 1000, max_closed_age_s: float | None = None
    ) -> None:
        """Evict closed orders from :attr:`orders` (see the module docstring); open orders are always kept.

        Subscribes :meth:`on_order_event` to ``events.order.*`` on ``bus`` at :data:`RETENTION_PRIORITY`, so
        every other handler of a closing event still finds the order. Eviction happens in that handler, on the
        engine thread: O(1) amortized per closed order, no periodic scan.

        Parameters
        ----------
        bus : MessageBus
            The engine's bus (order events are published on ``events.order.{strategy_id}``).
        max_closed_per_strategy : int | None
            Closed orders kept per strategy, newest by closing time (>= 1), or None for no count limit.
        max_closed_age_s : float | None
            Seconds a closed order is kept after the event that closed it (``ts_event`` of that event, against
            the ``ts_event`` of later closing events), or None for no age limit.

        Raises
        ------
        ValueError
            If both limits are None, ``max_closed_per_strategy < 1`` or ``max_closed_age_s <= 0``.
        """
        if max_closed_per_strategy is None and max_closed_age_s is None:
            raise ValueError("order retention needs max_closed_per_strategy or max_closed_age_s")
        if max_closed_per_strategy is not None and max_closed_per_strategy < 1:
            raise ValueError(f"max_closed_per_strategy must be >= 1, got {max_closed_per_strategy}")
        if max_closed_age_s is not None and not max_closed_age_s > 0:
            raise ValueError(f"max_closed_age_s must be positive, got {max_closed_age_s}")
        self.max_closed_per_strategy = max_closed_per_strategy
        self.max_closed_age_ns = None if max_closed_age_s is None else int(max_closed_age_s * _NS)
        bus.subscribe("events.order.*", self.on_order_event, priority=RETENTION_PRIORITY)

    def on_order_event(self, event: Any) -> None:
        """Note an order that an event closed, then evict what the retention policy lets go."""
        coid = event.client_order_id
        order = self.orders.get(coid)
        if order is None or not order.status.is_closed:
            return
        closed = self._closed.get(order.strategy_id)
        if closed is None:
            closed = self._closed[order.strategy_id] = OrderedDict()
        elif coid in closed:
            return  # an event after the order closed (e.g. a late cancel reject)
        now = event.ts_event
        closed[coid] = now
        limit = self.max_closed_per_strategy
        if limit is not None:
            while len(closed) > limit:
                old, ts = closed.popitem(last=False)
                self._evict(old, ts)
        max_age = self.max_closed_age_ns
        if max_age is not None:
            cutoff = now - max_age
            while closed:
                old, ts = next(iter(closed.items()))
                if ts > cutoff:
                    break
                del closed[old]
                self._evict(old, ts)
        if self._held:
            for old, ts in list(self._held.items()):
                if self._group_closed(self.orders.get(old)):
                    del self._held[old]
                    self._evict(old, ts)

    def _evict(self, coid: ClientOrderId, ts: int) -> None:
        order = self.orders.get(coid)
        if order is None:
            return
        if not self._group_closed(order):
            self._held[coid] = ts
            return
        self._held.pop(coid, None)
        del self.orders[coid]
        self.evicted_orders += 1

    def _group_closed(self, order: Order | None) -> bool:
        if order is None:
            return True
        orders = self.orders
        parent = order.parent_order_id
        if parent is not None:
            p = orders.get(parent)
            if p is not None and not p.status.is_closed:
                return False
        for cid in order.linked_order_ids:
            o = orders.get(cid)
            if o is not None and not o.status.is_closed:
                return False
        return True
