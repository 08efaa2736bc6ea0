"""Pure domain types (stdlib only): identifiers, exact values, instruments, data, orders, positions."""

from tradewire.model.account import AccountState, MarginBalance
from tradewire.model.data import Bar, BarSpecification, BarType, OrderBookDelta, QuoteTick, TradeTick
from tradewire.model.enums import (
    AggressorSide,
    AssetClass,
    BarAggregation,
    BookAction,
    BookSide,
    ContingencyType,
    InstrumentClass,
    LiquiditySide,
    OmsType,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionSide,
    PriceType,
    TimeInForce,
    TradingState,
)
from tradewire.model.events import (
    ORDER_EVENT_TYPES,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderModifyRejected,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderSubmitted,
    OrderTriggered,
    OrderUpdated,
)
from tradewire.model.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    OrderListId,
    PositionId,
    StrategyId,
    Symbol,
    TradeId,
    TraderId,
    Venue,
    VenueOrderId,
)
from tradewire.model.instruments import Instrument, crypto_spot, equity, future
from tradewire.model.objects import FIXED_SCALAR, USD, USDT, Currency, Money, Price, Quantity
from tradewire.model.orders import TRANSITIONS, InvalidStateTransition, Order
from tradewire.model.position import Position

__all__ = [
    "FIXED_SCALAR", "ORDER_EVENT_TYPES", "TRANSITIONS", "USD", "USDT", "AccountId", "AccountState", "AggressorSide",
    "AssetClass", "Bar", "BarAggregation", "BarSpecification", "BarType", "BookAction", "BookSide",
    "ClientOrderId", "ContingencyType", "Currency", "Instrument", "InstrumentClass", "InstrumentId",
    "InvalidStateTransition", "LiquiditySide", "MarginBalance", "Money", "OmsType", "Order", "OrderAccepted",
    "OrderBookDelta",
    "OrderCancelRejected", "OrderCanceled", "OrderDenied", "OrderEvent", "OrderExpired", "OrderFilled",
    "OrderInitialized", "OrderListId", "OrderModifyRejected", "OrderPendingCancel", "OrderPendingUpdate",
    "OrderRejected", "OrderSide", "OrderStatus", "OrderSubmitted", "OrderTriggered", "OrderType",
    "OrderUpdated", "Position", "PositionId", "PositionSide", "Price", "PriceType", "Quantity", "QuoteTick",
    "StrategyId", "Symbol", "TimeInForce", "TradeId", "TradeTick", "TraderId", "TradingState", "Venue",
    "VenueOrderId", "crypto_spot", "equity", "future",
]  # fmt: skip
