"""`Strategy`: the base class every trading strategy derives from.

A strategy never talks to a venue. It subscribes to market data on the `MessageBus`, builds orders
with its `OrderFactory`, and sends commands to the ``RiskEngine.execute`` endpoint. The node (backtest,
paper or live) wires it with :meth:`Strategy.register`; a strategy cannot tell which node runs it.

Handlers to override: ``on_start``, ``on_stop``, ``on_bar``, ``on_quote_tick``, ``on_trade_tick``,
``on_order_book_deltas``, ``on_order_event``, ``on_position_event``, ``on_signal``.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from tradewire.model.commands import CancelAllOrders, CancelOrder, ModifyOrder, SubmitOrder, SubmitOrderList
from tradewire.model.data import Bar, BarType, OrderBookDelta, QuoteTick, TradeTick
from tradewire.model.enums import OrderSide, TimeInForce
from tradewire.model.events import OrderEvent
from tradewire.model.identifiers import InstrumentId, OrderListId, StrategyId
from tradewire.model.objects import Price, Quantity
from tradewire.model.orders import Order

if TYPE_CHECKING:
    from tradewire.core.bus import MessageBus
    from tradewire.core.cache import Cache
    from tradewire.core.clock import Clock


class StrategyNotRegistered(RuntimeError):
    """A strategy method that needs the engine was called before the node registered it."""


class Strategy:
    """Base class for strategies.

    Parameters
    ----------
    strategy_id : str
        Unique id of this strategy instance, e.g. ``"sma_cross-001"``.
    config : dict, optional
        Strategy parameters (also available as ``self.config``).
    """

    def __init__(self, strategy_id: str, config: dict[str, Any] | None = None) -> None:
        self.id = StrategyId(strategy_id)
        self.config: dict[str, Any] = dict(config or {})
        self.clock: Clock | None = None
        self.cache: Cache | None = None
        self.bus: MessageBus | None = None
        self.portfolio: Any = None
        self.order_factory: Any = None
        self.data_engine: Any = None
        self._subscriptions: list[tuple[str, Any]] = []
        self._send = self._not_registered

    # -- wiring ---------------------------------------------------------------------------------
    def register(
        self, *, clock: Clock, cache: Cache, bus: MessageBus, portfolio: Any, order_factory: Any,
        data_engine: Any = None,
    ) -> None:  # fmt: skip
        """Wire the strategy into a node (called by the node, not by users).

        With a ``data_engine``, subscriptions go through it (so it builds bars from ticks and keeps
        books on demand); without one, straight to the bus topics. ``events.order.{strategy_id}`` and
        ``events.position.{strategy_id}`` are subscribed only when the subclass overrides
        :meth:`on_order_event` / :meth:`on_position_event` (the base handlers do nothing); the handler
        the instance has at registration is the one subscribed.
        """
        self.data_engine = data_engine
        self.clock = clock
        self.cache = cache
        self.bus = bus
        self.portfolio = portfolio
        self.order_factory = order_factory
        # only handlers a subclass overrides: a publish with no subscriber is skipped by the publisher
        # (the portfolio builds no position event nobody listens to)
        if _overridden(self._handle_order_event, Strategy._handle_order_event):
            bus.subscribe(f"events.order.{self.id}", self._handle_order_event)
        elif _overridden(self.on_order_event, Strategy.on_order_event):
            # the handler itself, like on_position_event: no forwarding call per order event
            bus.subscribe(f"events.order.{self.id}", self.on_order_event)
        if _overridden(self.on_position_event, Strategy.on_position_event):
            bus.subscribe(f"events.position.{self.id}", self.on_position_event)
        # a C-level partial instead of a lambda: one Python frame less per command; the endpoint is still
        # looked up at every send
        self._send = partial(bus.send, "RiskEngine.execute")

    def _not_registered(self, _cmd: object) -> None:
        raise StrategyNotRegistered(f"strategy {self.id} is not registered with a node")

    def _handle_order_event(self, event: OrderEvent) -> None:
        self.on_order_event(event)

    # -- subscriptions ------------------------------------------------------------------------
    def _subscribe(self, topic: str, handler: Any, via: str | None = None, key: Any = None) -> None:
        if self.bus is None:
            raise StrategyNotRegistered(f"strategy {self.id} is not registered with a node")
        if self.data_engine is not None and via is not None:
            getattr(self.data_engine, via)(key, handler)
        else:
            self.bus.subscribe(topic, handler)
        self._subscriptions.append((topic, handler))

    def subscribe_bars(self, bar_type: BarType) -> None:
        """Receive bars of ``bar_type`` in :meth:`on_bar` (aggregated from ticks when the venue sends none)."""
        self._subscribe(f"data.bars.{bar_type}", self.on_bar, "subscribe_bars", bar_type)

    def subscribe_quote_ticks(self, instrument_id: InstrumentId) -> None:
        """Receive quotes in :meth:`on_quote_tick`."""
        self._subscribe(f"data.quotes.{instrument_id}", self.on_quote_tick, "subscribe_quote_ticks", instrument_id)

    def subscribe_trade_ticks(self, instrument_id: InstrumentId) -> None:
        """Receive trades in :meth:`on_trade_tick`."""
        self._subscribe(f"data.trades.{instrument_id}", self.on_trade_tick, "subscribe_trade_ticks", instrument_id)

    def subscribe_order_book_deltas(self, instrument_id: InstrumentId) -> None:
        """Receive book delta batches (lists) in :meth:`on_order_book_deltas`."""
        self._subscribe(
            f"data.book.deltas.{instrument_id}", self.on_order_book_deltas, "subscribe_order_book_deltas",
            instrument_id,
        )  # fmt: skip

    def subscribe_signals(self, pattern: str = "events.orderflow.*") -> None:
        """Receive analytics signals (e.g. order-flow) in :meth:`on_signal`."""
        self._subscribe(pattern, self.on_signal)

    def unsubscribe_all(self) -> None:
        """Drop every data subscription made through this strategy."""
        if self.bus is not None:
            for topic, handler in self._subscriptions:
                self.bus.unsubscribe(topic, handler)
        self._subscriptions.clear()

    # -- trading ----------------------------------------------------------------------------------
    def submit_order(self, order: Order) -> None:
        """Send ``order`` to the RiskEngine (then the OMS and venue)."""
        self._send(SubmitOrder(self.id, order.instrument_id, self.clock.timestamp_ns(), order))

    def submit_order_list(self, orders: list[Order] | tuple[Order, ...]) -> None:
        """Send linked orders (e.g. a bracket from ``order_factory.bracket``)."""
        first = orders[0]
        list_id = first.order_list_id or OrderListId(f"OL-{first.client_order_id}")
        self._send(SubmitOrderList(self.id, first.instrument_id, self.clock.timestamp_ns(), list_id, tuple(orders)))

    def modify_order(
        self, order: Order, quantity: Quantity | None = None, price: Price | None = None,
        trigger_price: Price | None = None,
    ) -> None:  # fmt: skip
        """Change a working order's quantity, price or trigger price."""
        self._send(
            ModifyOrder(
                self.id,
                order.instrument_id,
                self.clock.timestamp_ns(),
                order.client_order_id,
                quantity,
                price,
                trigger_price,
            )
        )

    def cancel_order(self, order: Order) -> None:
        """Cancel a working order."""
        self._send(CancelOrder(self.id, order.instrument_id, self.clock.timestamp_ns(), order.client_order_id))

    def cancel_all_orders(self, instrument_id: InstrumentId) -> None:
        """Cancel every working order of this strategy on ``instrument_id``."""
        self._send(CancelAllOrders(self.id, instrument_id, self.clock.timestamp_ns()))

    def position_qty_raw(self, instrument_id: InstrumentId) -> int:
        """This strategy's signed net position in raw units (1e9 = 1)."""
        return self.portfolio.net_position_raw(instrument_id, self.id)

    def close_position(self, instrument_id: InstrumentId, tif: TimeInForce = TimeInForce.GTC) -> Order | None:
        """Submit a reduce-only market order that flattens this strategy's position; None if flat."""
        q = self.position_qty_raw(instrument_id)
        if q == 0:
            return None
        inst = self.cache.instrument(instrument_id)
        order = self.order_factory.market(
            instrument_id,
            OrderSide.SELL if q > 0 else OrderSide.BUY,
            Quantity.from_raw(abs(q), inst.size_precision),
            time_in_force=tif,
            reduce_only=True,
        )
        self.submit_order(order)
        return order

    # -- handlers (override) ------------------------------------------------------------------
    def on_start(self) -> None:
        """Called once when the node starts (subscribe here)."""

    def on_stop(self) -> None:
        """Called once when the node stops."""

    def on_bar(self, bar: Bar) -> None:
        """A subscribed bar closed."""

    def on_quote_tick(self, tick: QuoteTick) -> None:
        """A subscribed quote arrived."""

    def on_trade_tick(self, tick: TradeTick) -> None:
        """A subscribed trade arrived."""

    def on_order_book_deltas(self, deltas: list[OrderBookDelta]) -> None:
        """A batch of book deltas arrived (the book in the cache is already updated)."""

    def on_order_event(self, event: OrderEvent) -> None:
        """An event of one of this strategy's orders."""

    def on_position_event(self, event: object) -> None:
        """A position of this strategy opened, changed or closed."""

    def on_signal(self, signal: object) -> None:
        """An analytics signal this strategy subscribed to."""


def _overridden(handler: Any, base: Any) -> bool:
    """True unless ``handler`` is ``base`` bound to an instance (a subclass or the instance replaced it)."""
    return getattr(handler, "__func__", None) is not base
