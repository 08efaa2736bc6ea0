"""Commands (imperative: what to do). Strategies, the webhook and the API send these to the
`RiskEngine` (endpoint ``RiskEngine.execute``), which forwards what passes to the
`ExecutionEngine` (endpoint ``ExecutionEngine.execute``)."""

from __future__ import annotations

from dataclasses import dataclass

from tradewire.model.events import fast_frozen_init
from tradewire.model.identifiers import ClientOrderId, InstrumentId, OrderListId, StrategyId
from tradewire.model.objects import Price, Quantity
from tradewire.model.orders import Order


@dataclass(frozen=True, slots=True)
class TradingCommand:
    """Base: who sends it, for which instrument, when (ns)."""

    strategy_id: StrategyId
    instrument_id: InstrumentId
    ts_init: int


@dataclass(frozen=True, slots=True)
class SubmitOrder(TradingCommand):
    """Submit a new order (already built, status INITIALIZED)."""

    order: Order


@dataclass(frozen=True, slots=True)
class SubmitOrderList(TradingCommand):
    """Submit linked orders (bracket: entry first, then stop-loss and take-profit)."""

    order_list_id: OrderListId
    orders: tuple[Order, ...]


@dataclass(frozen=True, slots=True)
class ModifyOrder(TradingCommand):
    """Change quantity, price or trigger price of a working order (None = unchanged)."""

    client_order_id: ClientOrderId
    quantity: Quantity | None = None
    price: Price | None = None
    trigger_price: Price | None = None


@dataclass(frozen=True, slots=True)
class CancelOrder(TradingCommand):
    """Cancel one working order."""

    client_order_id: ClientOrderId


@dataclass(frozen=True, slots=True)
class CancelAllOrders(TradingCommand):
    """Cancel every working order of the strategy for the instrument."""


# every strategy order builds a SubmitOrder: the descriptor-based __init__ instead of object.__setattr__ per field
for _cls in (TradingCommand, SubmitOrder, SubmitOrderList, ModifyOrder, CancelOrder, CancelAllOrders):
    fast_frozen_init(_cls)
del _cls
