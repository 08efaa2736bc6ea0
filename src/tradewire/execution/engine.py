"""`ExecutionEngine`: the order management system between the `RiskEngine` and the venues.

Bus endpoints (registered on construction):

* ``ExecutionEngine.execute`` takes commands that passed risk: ``SubmitOrder``, ``SubmitOrderList``,
  ``ModifyOrder``, ``CancelOrder``, ``CancelAllOrders``.
* ``ExecutionEngine.process`` takes order events from venues (and risk denials) and ``AccountState``.

Every order event is applied to its order through the transition table (an illegal event is logged,
counted in :attr:`ExecutionEngine.illegal_event_count` and dropped; the order is unchanged) and then
published on ``events.order.{strategy_id}``; ``OrderFilled`` is booked by the `Portfolio`.

A ``client_order_id`` already in the cache is never submitted again: the command is dropped with a
warning and counted in :attr:`ExecutionEngine.duplicate_count`.

Contingent orders (see :mod:`tradewire.execution.brackets`) and emulated orders (see
:mod:`tradewire.execution.emulator`) are handled here; both live only in fields of
``OrderInitialized`` and in the order's status, so :meth:`ExecutionEngine.restore` rebuilds them
from the event store after a restart.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from typing import Any, Final

from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import Clock
from tradewire.execution.brackets import ContingencyManager
from tradewire.execution.client import ExecutionClient
from tradewire.execution.emulator import REQUIRED_CAPABILITY, OrderEmulator, limit_price_after_trigger
from tradewire.model.account import AccountState
from tradewire.model.commands import CancelAllOrders, CancelOrder, ModifyOrder, SubmitOrder, SubmitOrderList
from tradewire.model.data import Bar, QuoteTick, TradeTick
from tradewire.model.enums import ContingencyType, OrderStatus, OrderType
from tradewire.model.events import (
    OrderCanceled,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderModifyRejected,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderSubmitted,
    OrderUpdated,
)
from tradewire.model.identifiers import StrategyId, Venue
from tradewire.model.objects import Price, Quantity
from tradewire.model.orders import InvalidStateTransition, Order

_log: Final = logging.getLogger(__name__)
_INIT: Final = OrderStatus.INITIALIZED
_NO_CLIENT: Final = object()
_MARKET: Final = OrderType.MARKET
_NONE: Final = ContingencyType.NONE
_RELEASE_TYPE: Final = {
    OrderType.STOP_MARKET: OrderType.MARKET,
    OrderType.MARKET_IF_TOUCHED: OrderType.MARKET,
    OrderType.TRAILING_STOP_MARKET: OrderType.MARKET,
    OrderType.STOP_LIMIT: OrderType.LIMIT,
    OrderType.LIMIT_IF_TOUCHED: OrderType.LIMIT,
    OrderType.TRAILING_STOP_LIMIT: OrderType.LIMIT,
}


def rebuild_order(events: Sequence[OrderEvent]) -> Order:
    """Rebuild an order from its events (first an ``OrderInitialized``).

    A later ``OrderInitialized`` with the same client order id is the release of an emulated order
    as a market/limit order: the order continues from that specification with its history kept.

    Raises
    ------
    ValueError
        If the sequence is empty, does not start with ``OrderInitialized``, mixes client order ids,
        or an event is not allowed in the status reached (the message names the event index).
    """
    if not events or not isinstance(events[0], OrderInitialized):
        raise ValueError("an order's events must start with OrderInitialized")
    order = Order.from_init(events[0])
    for i, ev in enumerate(events[1:], start=1):
        try:
            if isinstance(ev, OrderInitialized):
                if ev.client_order_id != order.client_order_id:
                    raise ValueError(f"OrderInitialized for {ev.client_order_id} in events of {order.client_order_id}")
                history = order.events
                order = Order.from_init(ev)
                order.events = [*history, ev]
            else:
                order.apply(ev)
        except (InvalidStateTransition, ValueError) as e:
            raise ValueError(f"event #{i} ({type(ev).__name__}) of {order.client_order_id}: {e}") from e
    return order


class ExecutionEngine:
    """Order management: routing to clients, state machine, brackets/OCO, emulation, portfolio updates.

    Parameters
    ----------
    bus : MessageBus
        Endpoints ``ExecutionEngine.execute``/``ExecutionEngine.process`` are registered on it.
    cache : Cache
        Orders are stored in ``cache.orders`` by client order id.
    clock : Clock
        Timestamps of locally created events.
    portfolio : Portfolio | None
        Receives ``update_fill``/``update_order``/``update_account`` (duck-typed).

    Attributes
    ----------
    illegal_event_count, duplicate_count, unknown_event_count, unsupported_count, busy_count : int
        Counters of dropped events/commands (see the module docstring and :meth:`modify`).
    """

    def __init__(self, bus: MessageBus, cache: Cache, clock: Clock, portfolio: Any = None) -> None:
        self.bus = bus
        self.cache = cache
        self.clock = clock
        self.portfolio = portfolio
        self._clients: dict[Venue, ExecutionClient] = {}
        self._default_client: ExecutionClient | None = None
        self._client_by_instrument: dict[Any, ExecutionClient | None] = {}
        self._topics: dict[StrategyId, str] = {}
        # handlers of events.order.{strategy_id}, valid while the bus version is _handlers_version
        self._order_handlers: dict[StrategyId, tuple[Any, ...]] = {}
        self._handlers_version = bus.version
        self.emulator = OrderEmulator(cache, self._on_emulated_trigger, self._on_trailing_update, self._on_expire)
        self.contingency = ContingencyManager(self)
        self.command_count = 0
        self.event_count = 0
        self.illegal_event_count = 0
        self.duplicate_count = 0
        self.unknown_event_count = 0
        self.unsupported_count = 0
        self.busy_count = 0
        bus.register("ExecutionEngine.execute", self.execute)
        bus.register("ExecutionEngine.process", self.process)

    # -- clients ---------------------------------------------------------------------------------
    def register_client(self, client: ExecutionClient, default: bool = False) -> None:
        """Route orders for ``client.venue`` to ``client`` (``default``: also orders of unknown venues).

        The venue decides how positions are booked: if the portfolio already holds the client's
        account, its ``oms_type`` is set to ``client.oms_type``.
        """
        self._clients[client.venue] = client
        self._client_by_instrument.clear()
        accounts = getattr(self.portfolio, "accounts", None)
        acct = accounts.get(client.account_id) if accounts is not None else None
        if acct is not None and acct.oms_type is not client.oms_type:
            _log.info("account %s books positions %s like its venue", acct.id, client.oms_type.value)
            acct.oms_type = client.oms_type
        if default:
            self._default_client = client

    def client_for(self, order: Order) -> ExecutionClient | None:
        """The client that trades ``order``'s venue, else the default client, else None."""
        iid = order.instrument_id
        client = self._client_by_instrument.get(iid, _NO_CLIENT)
        if client is _NO_CLIENT:  # InstrumentId.venue splits the string: resolve once per instrument
            client = self._client_by_instrument[iid] = self._clients.get(iid.venue, self._default_client)
        return client  # type: ignore[return-value]

    # -- event plumbing --------------------------------------------------------------------------
    def _topic(self, strategy_id: StrategyId) -> str:
        t = self._topics.get(strategy_id)
        if t is None:
            t = self._topics[strategy_id] = f"events.order.{strategy_id}"
        return t

    def _handlers(self, strategy_id: StrategyId) -> tuple[Any, ...]:
        """Handlers of ``events.order.{strategy_id}`` (kept per strategy until the bus's subscriptions change)."""
        bus = self.bus
        if bus.version != self._handlers_version:
            self._order_handlers.clear()
            self._handlers_version = bus.version
        hs = self._order_handlers.get(strategy_id)
        if hs is None:
            hs = self._order_handlers[strategy_id] = bus.handlers(self._topic(strategy_id))
        return hs

    def _publish(self, strategy_id: StrategyId, event: object) -> None:
        """``bus.publish(f"events.order.{strategy_id}", event)`` without formatting or looking up the topic."""
        bus = self.bus
        hs = self._order_handlers.get(strategy_id) if bus.version == self._handlers_version else None
        if hs is None:
            hs = self._handlers(strategy_id)
        bus.pub_count += 1
        for h in hs:
            h(event)

    def _apply(self, order: Order, event: OrderEvent) -> bool:
        """Apply and publish; on an illegal event log, count and return False (order unchanged)."""
        try:
            order.apply(event)
        except (InvalidStateTransition, ValueError) as e:
            self.illegal_event_count += 1
            _log.warning("dropped %s for %s: %s", type(event).__name__, order.client_order_id, e)
            return False
        self._publish(order.strategy_id, event)
        return True

    def _local(self, order: Order, cls: type[OrderEvent], **kw: Any) -> bool:
        ts = self.clock.timestamp_ns()
        return self._apply(order, cls(order.client_order_id, order.strategy_id, order.instrument_id, ts, ts, **kw))

    def is_local(self, order: Order) -> bool:
        """True while the order is held by the engine (emulated or contingent), not at a venue."""
        return order.status is _INIT and (order in self.emulator or self.contingency.is_held(order))

    # -- commands --------------------------------------------------------------------------------
    def execute(self, command: object) -> None:
        """Handle one trading command (bus endpoint ``ExecutionEngine.execute``).

        Raises
        ------
        TypeError
            If ``command`` is not a trading command.
        """
        self.command_count += 1
        t = type(command)
        if t is SubmitOrder:
            self.submit_order(command.order)  # type: ignore[attr-defined]
        elif t is SubmitOrderList:
            self.submit_order_list(command.orders)  # type: ignore[attr-defined]
        elif t is CancelOrder:
            self._cancel_command(command)  # type: ignore[arg-type]
        elif t is ModifyOrder:
            self._modify_command(command)  # type: ignore[arg-type]
        elif t is CancelAllOrders:
            self.cancel_all(command.instrument_id, command.strategy_id)  # type: ignore[attr-defined]
        else:
            raise TypeError(f"ExecutionEngine cannot execute {type(command).__name__}")

    def _accept_new(self, order: Order) -> bool:
        coid = order.client_order_id
        if coid in self.cache.orders:
            self.duplicate_count += 1
            _log.warning("duplicate client_order_id %s ignored (order already exists)", coid)
            return False
        if order.status is not _INIT:
            self.unsupported_count += 1
            _log.warning("order %s submitted in status %s ignored", coid, order.status.name)
            return False
        self.cache.orders[coid] = order
        self._publish(order.strategy_id, order.init)
        return True

    def submit_order(self, order: Order) -> None:
        """Store a new order and send it to its venue, or hold it (contingent child / emulated)."""
        if self._accept_new(order):
            self._route(order)

    def submit_order_list(self, orders: Iterable[Order]) -> None:
        """Store linked orders (e.g. a bracket) and route each; a list with any duplicate id is dropped whole."""
        orders = tuple(orders)
        dup = [o.client_order_id for o in orders if o.client_order_id in self.cache.orders]
        if dup or len({o.client_order_id for o in orders}) != len(orders):
            self.duplicate_count += 1
            _log.warning("order list with duplicate client_order_ids %s ignored", dup)
            return
        accepted = [o for o in orders if self._accept_new(o)]
        for o in accepted:  # parents first: a child's hold decision reads its parent's status
            if o.status is _INIT and o.parent_order_id is None:
                self._route(o)
        for o in accepted:
            if o.status is _INIT and o.parent_order_id is not None:
                self._route(o)

    def _route(self, order: Order) -> None:
        if order.parent_order_id is not None and self.contingency.should_hold(order):
            return
        client = self.client_for(order)
        if client is None:
            self._local(order, OrderDenied, reason=f"no execution client for venue {order.instrument_id.venue}")
            self.contingency.on_closed(order)
            return
        cap = REQUIRED_CAPABILITY.get(order.order_type)
        if cap is not None and cap not in client.supports:
            if order.trigger_price is None and order.order_type not in (
                OrderType.TRAILING_STOP_MARKET, OrderType.TRAILING_STOP_LIMIT
            ):  # fmt: skip
                self._local(order, OrderDenied, reason=f"{order.order_type.value} order without trigger_price")
                self.contingency.on_closed(order)
                return
            self.emulator.add(order)
            return
        self._send(order, client)

    def _send(self, order: Order, client: ExecutionClient) -> None:
        ts = self.clock.timestamp_ns()
        ev = OrderSubmitted(order.client_order_id, order.strategy_id, order.instrument_id, ts, ts, client.account_id)
        if not self._apply(order, ev):
            return
        if self.portfolio is not None and order.order_type is not _MARKET:
            self.portfolio.update_order(order)
        client.submit_order(order)

    def release(self, order: Order) -> None:
        """Send (or emulate) an order the engine was holding; used for bracket children."""
        self._route(order)

    def cancel(self, order: Order, reason: str = "") -> None:
        """Cancel locally (held/emulated) or ask the venue; no-op for closed or already pending-cancel orders."""
        if order.is_closed or order.status is OrderStatus.PENDING_CANCEL:
            return
        if order.status is _INIT:
            self.emulator.remove(order)
            self.contingency.unhold(order)
            if self._local(order, OrderCanceled, reason=reason):
                self.contingency.on_closed(order)
            return
        client = self.client_for(order)
        if client is None:
            return
        if self._local(order, OrderPendingCancel, venue_order_id=order.venue_order_id):
            client.cancel_order(order)

    def modify(self, order: Order, quantity: Quantity | None = None, price: Price | None = None,
               trigger_price: Price | None = None) -> bool:  # fmt: skip
        """Change a held order locally, or ask the venue (``OrderModifyRejected`` if it cannot modify).

        Returns False when nothing was requested: the order is closed, has no client, or already has a
        modify/cancel in flight (counted in ``busy_count``; contingent resizes are retried when the
        venue acknowledges the earlier modify).
        """
        if order.is_closed:
            return False
        if order.status is _INIT:
            return self._local(order, OrderUpdated, quantity=quantity, price=price, trigger_price=trigger_price)
        if order.status is OrderStatus.PENDING_UPDATE or order.status is OrderStatus.PENDING_CANCEL:
            self.busy_count += 1
            _log.warning("modify of %s skipped: a request is already in flight", order.client_order_id)
            return False
        client = self.client_for(order)
        if client is None:
            return False
        if "modify" not in client.supports:
            self.unsupported_count += 1
            self._local(order, OrderModifyRejected, reason=f"{client.venue} does not support modify",
                        venue_order_id=order.venue_order_id)  # fmt: skip
            return False
        if self._local(order, OrderPendingUpdate, venue_order_id=order.venue_order_id):
            client.modify_order(order, quantity, price, trigger_price)
            return True
        return False

    def _cancel_command(self, command: CancelOrder) -> None:
        order = self.cache.orders.get(command.client_order_id)
        if order is None:
            self.unknown_event_count += 1
            _log.warning("cancel for unknown order %s ignored", command.client_order_id)
            return
        self.cancel(order, reason="canceled by strategy")

    def _modify_command(self, command: ModifyOrder) -> None:
        order = self.cache.orders.get(command.client_order_id)
        if order is None:
            self.unknown_event_count += 1
            _log.warning("modify for unknown order %s ignored", command.client_order_id)
            return
        self.modify(order, command.quantity, command.price, command.trigger_price)

    def cancel_all(self, instrument_id: Any = None, strategy_id: StrategyId | None = None) -> int:
        """Cancel every open or held order (optionally of one instrument and/or strategy); return how many."""
        targets = [
            o for o in self.cache.orders.values()
            if not o.is_closed and (instrument_id is None or o.instrument_id == instrument_id)
            and (strategy_id is None or o.strategy_id == strategy_id)
        ]  # fmt: skip
        for o in targets:
            self.cancel(o, reason="cancel all")
        return len(targets)

    # -- events ----------------------------------------------------------------------------------
    def process(self, event: object) -> None:
        """Apply one event from a venue or the risk engine (bus endpoint ``ExecutionEngine.process``).

        Raises
        ------
        TypeError
            If ``event`` is neither an order event nor an ``AccountState``.
        """
        self.event_count += 1
        if type(event) is AccountState:
            if self.portfolio is not None:
                self.portfolio.update_account(event)
            else:
                self.bus.publish(f"events.account.{event.account_id}", event)
            return
        coid = getattr(event, "client_order_id", None)
        if coid is None:
            raise TypeError(f"ExecutionEngine.process: not an order event or AccountState: {event!r}")
        order = self.cache.orders.get(coid)
        if order is None:
            if type(event) is OrderDenied:  # denied by risk before it reached the OMS
                self._publish(event.strategy_id, event)
                return
            self.unknown_event_count += 1
            _log.warning("event %s for unknown order %s dropped", type(event).__name__, event.client_order_id)  # type: ignore[attr-defined]
            return
        if not self._apply(order, event):  # type: ignore[arg-type]
            return
        portfolio = self.portfolio
        if type(event) is OrderFilled:
            if portfolio is not None:
                portfolio.update_fill(event)
                if order.order_type is not _MARKET:
                    portfolio.update_order(order)
            if order.contingency_type is not _NONE:
                self.contingency.on_fill(order)
            return
        if portfolio is not None and order.order_type is not _MARKET:
            portfolio.update_order(order)
        if order.contingency_type is not _NONE:
            if order.is_closed:
                self.contingency.on_closed(order)
            elif type(event) is OrderUpdated:
                self.contingency.resync(order)

    # -- emulation -------------------------------------------------------------------------------
    def on_quote_tick(self, tick: QuoteTick) -> None:
        """Feed a quote to the emulator (node calls this for every quote)."""
        self.emulator.on_quote_tick(tick)

    def on_trade_tick(self, tick: TradeTick) -> None:
        """Feed a trade to the emulator."""
        self.emulator.on_trade_tick(tick)

    def on_bar(self, bar: Bar) -> None:
        """Feed a bar to the emulator."""
        self.emulator.on_bar(bar)

    def on_time(self, ts_ns: int) -> None:
        """Expire emulated GTD orders that are due at ``ts_ns`` (node calls this on its timer/clock ticks)."""
        self.emulator.on_time(ts_ns)

    def _on_trailing_update(self, order: Order, trigger: Price, ts: int) -> None:
        self._local(order, OrderUpdated, trigger_price=trigger)

    def _on_expire(self, order: Order, ts: int) -> None:
        self.emulator.remove(order)
        if self._local(order, OrderExpired):
            self.contingency.on_closed(order)

    def _on_emulated_trigger(self, order: Order, trigger_raw: int, ts: int) -> None:
        """Release a triggered emulated order as a market or limit order with the same client order id."""
        self.emulator.remove(order)
        new_type = _RELEASE_TYPE[order.order_type]
        price = order.price
        if order.order_type is OrderType.TRAILING_STOP_LIMIT and order.limit_offset is not None:
            inst = self.cache.instruments.get(order.instrument_id)
            tick = inst.tick_size.raw if inst is not None else 1
            prec = order.trigger_price.precision if order.trigger_price is not None else 9
            price = Price.from_raw(limit_price_after_trigger(order, trigger_raw, tick), prec)
        now = self.clock.timestamp_ns()
        note = f"emulated {order.order_type.value} triggered at {order.trigger_price}"
        init = dataclasses.replace(
            order.init, order_type=new_type, quantity=order.quantity, price=price if new_type is not _MARKET else None,
            trigger_price=None, trailing_offset=None, trailing_offset_type=None, limit_offset=None, ts_event=ts,
            ts_init=now, tags=f"{order.init.tags};{note}" if order.init.tags else note,
        )  # fmt: skip
        released = Order.from_init(init)
        released.events = [*order.events, init]
        self.cache.orders[order.client_order_id] = released
        self._publish(order.strategy_id, init)
        client = self.client_for(released)
        if client is not None:
            self._send(released, client)

    # -- restart ---------------------------------------------------------------------------------
    def restore(self, event_streams: Iterable[Sequence[OrderEvent]], replay_fills: bool = True) -> list[Order]:
        """Rebuild orders from their stored events and re-arm holds and emulation.

        Parameters
        ----------
        event_streams : iterable of sequences of OrderEvent
            One sequence per order, in the order they happened.
        replay_fills : bool
            Also book every fill into the portfolio (in ``ts_event`` order) to rebuild positions.

        Returns
        -------
        list[Order]
            The rebuilt orders (also stored in the cache).

        Raises
        ------
        ValueError
            If a stream is malformed (see :func:`rebuild_order`) or an order id is already cached.
        """
        orders = [rebuild_order(list(s)) for s in event_streams]
        for o in orders:
            if o.client_order_id in self.cache.orders:
                raise ValueError(f"restore: order {o.client_order_id} already in the cache")
            self.cache.orders[o.client_order_id] = o
        if replay_fills and self.portfolio is not None:
            fills = sorted((e for o in orders for e in o.events if type(e) is OrderFilled), key=lambda e: e.ts_event)
            for f in fills:
                self.portfolio.update_fill(f)
            for o in orders:
                if o.order_type is not _MARKET:
                    self.portfolio.update_order(o)
        for o in orders:
            if o.status is not _INIT:
                continue
            if o.parent_order_id is not None:
                parent = self.cache.orders.get(o.parent_order_id)
                if parent is not None and not parent.filled_qty.raw:
                    if parent.is_closed:
                        self.cancel(o, reason="parent closed unfilled")
                    else:
                        self.contingency.hold(o)
                    continue
                if parent is not None and o.quantity.raw != parent.filled_qty.raw:
                    self._local(o, OrderUpdated, quantity=parent.filled_qty)
                self._route(o)
                continue
            client = self.client_for(o)
            cap = REQUIRED_CAPABILITY.get(o.order_type)
            if client is not None and cap is not None and cap not in client.supports:
                self.emulator.add(o)
            else:
                _log.warning("restore: order %s was created but never submitted; left INITIALIZED", o.client_order_id)
        return orders


__all__ = ["ExecutionEngine", "rebuild_order"]
