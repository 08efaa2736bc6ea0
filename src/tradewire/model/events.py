"""Immutable order events (past tense: what happened).

Every event names its order (``client_order_id``), ``strategy_id``, ``instrument_id`` and carries
``ts_event`` (when it happened at the venue, or locally for local events) and ``ts_init`` (when
tradewire created the object), UTC nanoseconds. An `Order` changes only by applying these events
(see :mod:`tradewire.model.orders`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from tradewire.model.enums import (
    ContingencyType,
    LiquiditySide,
    OrderSide,
    OrderType,
    TimeInForce,
)
from tradewire.model.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    OrderListId,
    PositionId,
    StrategyId,
    TradeId,
    VenueOrderId,
)
from tradewire.model.objects import Money, Price, Quantity


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """Base of all order events."""

    client_order_id: ClientOrderId
    strategy_id: StrategyId
    instrument_id: InstrumentId
    ts_event: int
    ts_init: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly dict (Prices/Quantities/Money as strings) with a ``type`` key."""
        out: dict[str, Any] = {"type": type(self).__name__}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, (Price, Quantity, Decimal)):
                v = str(v)
            elif isinstance(v, Money):
                v = {"amount": str(v.as_decimal()), "currency": v.currency.code}
            elif isinstance(v, tuple):
                v = [str(x) for x in v]
            elif v is not None and not isinstance(v, (int, bool, str)):
                v = str(v)
            out[f.name] = v
        return out


@dataclass(frozen=True, slots=True)
class OrderInitialized(OrderEvent):
    """The order was created locally; carries its full specification."""

    side: OrderSide
    order_type: OrderType
    quantity: Quantity
    time_in_force: TimeInForce = TimeInForce.GTC
    price: Price | None = None
    trigger_price: Price | None = None
    expire_time_ns: int | None = None
    post_only: bool = False
    reduce_only: bool = False
    trailing_offset: Decimal | None = None
    trailing_offset_type: str | None = None  # "price" or "bps"
    limit_offset: Decimal | None = None
    order_list_id: OrderListId | None = None
    parent_order_id: ClientOrderId | None = None
    linked_order_ids: tuple[ClientOrderId, ...] = ()
    contingency_type: ContingencyType = ContingencyType.NONE
    tags: str | None = None


@dataclass(frozen=True, slots=True)
class OrderDenied(OrderEvent):
    """The RiskEngine refused the order before it reached a venue."""

    reason: str


@dataclass(frozen=True, slots=True)
class OrderSubmitted(OrderEvent):
    """The order was sent to the venue."""

    account_id: AccountId | None = None


@dataclass(frozen=True, slots=True)
class OrderAccepted(OrderEvent):
    """The venue acknowledged the order."""

    venue_order_id: VenueOrderId
    account_id: AccountId | None = None


@dataclass(frozen=True, slots=True)
class OrderRejected(OrderEvent):
    """The venue refused the order."""

    reason: str
    account_id: AccountId | None = None


@dataclass(frozen=True, slots=True)
class OrderCanceled(OrderEvent):
    """The order was canceled (by request, by the venue, or by its time in force)."""

    venue_order_id: VenueOrderId | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OrderExpired(OrderEvent):
    """The order expired (DAY/GTD)."""

    venue_order_id: VenueOrderId | None = None


@dataclass(frozen=True, slots=True)
class OrderTriggered(OrderEvent):
    """A stop or if-touched order's trigger price was reached."""

    venue_order_id: VenueOrderId | None = None


@dataclass(frozen=True, slots=True)
class OrderPendingUpdate(OrderEvent):
    """A modify request was sent."""

    venue_order_id: VenueOrderId | None = None


@dataclass(frozen=True, slots=True)
class OrderPendingCancel(OrderEvent):
    """A cancel request was sent."""

    venue_order_id: VenueOrderId | None = None


@dataclass(frozen=True, slots=True)
class OrderModifyRejected(OrderEvent):
    """The venue refused a modify request."""

    reason: str
    venue_order_id: VenueOrderId | None = None


@dataclass(frozen=True, slots=True)
class OrderCancelRejected(OrderEvent):
    """The venue refused a cancel request."""

    reason: str
    venue_order_id: VenueOrderId | None = None


@dataclass(frozen=True, slots=True)
class OrderUpdated(OrderEvent):
    """Quantity, price or trigger price changed (None = unchanged)."""

    quantity: Quantity | None = None
    price: Price | None = None
    trigger_price: Price | None = None
    venue_order_id: VenueOrderId | None = None


@dataclass(frozen=True, slots=True)
class OrderFilled(OrderEvent):
    """A (partial) execution.

    ``commission`` is positive for a fee paid and negative for a rebate; ``last_px`` x ``last_qty``
    is the execution; ``trade_id`` is unique per venue and instrument (used to drop duplicates).
    """

    venue_order_id: VenueOrderId
    trade_id: TradeId
    order_side: OrderSide
    order_type: OrderType
    last_qty: Quantity
    last_px: Price
    commission: Money
    liquidity_side: LiquiditySide = LiquiditySide.TAKER
    position_id: PositionId | None = None
    account_id: AccountId | None = None
    inferred: bool = field(default=False)


ORDER_EVENT_TYPES: dict[str, type[OrderEvent]] = {
    cls.__name__: cls
    for cls in (
        OrderInitialized, OrderDenied, OrderSubmitted, OrderAccepted, OrderRejected, OrderCanceled,
        OrderExpired, OrderTriggered, OrderPendingUpdate, OrderPendingCancel, OrderModifyRejected,
        OrderCancelRejected, OrderUpdated, OrderFilled,
    )
}  # fmt: skip
