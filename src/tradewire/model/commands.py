"""Commands (imperative: what to do). Strategies, the webhook and the API send these to the
`RiskEngine` (endpoint ``RiskEngine.execute``), which forwards what passes to the
`ExecutionEngine` (endpoint ``ExecutionEngine.execute``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tradewire.model.events import fast_frozen_init, reduce_by_fields
from tradewire.model.identifiers import ClientOrderId, InstrumentId, OrderListId, StrategyId
from tradewire.model.objects import Price, Quantity
from tradewire.model.orders import Order


@dataclass(frozen=True, slots=True, init=False)
class TradingCommand:
    """Base: who sends it, for which instrument, when (ns)."""

    strategy_id: StrategyId
    instrument_id: InstrumentId
    ts_init: int

    def __init__(
        self,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        ts_init: int,
    ) -> None:
        self.strategy_id = strategy_id  # type: ignore[misc]
        self.instrument_id = instrument_id  # type: ignore[misc]
        self.ts_init = ts_init  # type: ignore[misc]

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return reduce_by_fields(self)


@dataclass(frozen=True, slots=True, init=False)
class SubmitOrder(TradingCommand):
    """Submit a new order (already built, status INITIALIZED)."""

    order: Order

    def __init__(
        self,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        ts_init: int,
        order: Order,
    ) -> None:
        super().__init__(strategy_id, instrument_id, ts_init)
        self.order = order  # type: ignore[misc]


@dataclass(frozen=True, slots=True, init=False)
class SubmitOrderList(TradingCommand):
    """Submit linked orders (bracket: entry first, then stop-loss and take-profit)."""

    order_list_id: OrderListId
    orders: tuple[Order, ...]

    def __init__(
        self,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        ts_init: int,
        order_list_id: OrderListId,
        orders: tuple[Order, ...],
    ) -> None:
        super().__init__(strategy_id, instrument_id, ts_init)
        self.order_list_id = order_list_id  # type: ignore[misc]
        self.orders = orders  # type: ignore[misc]


@dataclass(frozen=True, slots=True, init=False)
class ModifyOrder(TradingCommand):
    """Change quantity, price or trigger price of a working order (None = unchanged)."""

    client_order_id: ClientOrderId
    quantity: Quantity | None = None
    price: Price | None = None
    trigger_price: Price | None = None

    def __init__(
        self,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        ts_init: int,
        client_order_id: ClientOrderId,
        quantity: Quantity | None = None,
        price: Price | None = None,
        trigger_price: Price | None = None,
    ) -> None:
        super().__init__(strategy_id, instrument_id, ts_init)
        self.client_order_id = client_order_id  # type: ignore[misc]
        self.quantity = quantity  # type: ignore[misc]
        self.price = price  # type: ignore[misc]
        self.trigger_price = trigger_price  # type: ignore[misc]


@dataclass(frozen=True, slots=True, init=False)
class CancelOrder(TradingCommand):
    """Cancel one working order."""

    client_order_id: ClientOrderId

    def __init__(
        self,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        ts_init: int,
        client_order_id: ClientOrderId,
    ) -> None:
        super().__init__(strategy_id, instrument_id, ts_init)
        self.client_order_id = client_order_id  # type: ignore[misc]


@dataclass(frozen=True, slots=True, init=False)
class CancelAllOrders(TradingCommand):
    """Cancel every working order of the strategy for the instrument."""

    def __init__(
        self,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        ts_init: int,
    ) -> None:
        super().__init__(strategy_id, instrument_id, ts_init)


# every strategy order builds a SubmitOrder: the descriptor-based __init__ instead of object.__setattr__ per field
for _cls in (TradingCommand, SubmitOrder, SubmitOrderList, ModifyOrder, CancelOrder, CancelAllOrders):
    fast_frozen_init(_cls)
del _cls
