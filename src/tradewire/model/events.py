"""Immutable order events (past tense: what happened).

Every event names its order (``client_order_id``), ``strategy_id``, ``instrument_id`` and carries
``ts_event`` (when it happened at the venue, or locally for local events) and ``ts_init`` (when
tradewire created the object), UTC nanoseconds. An `Order` changes only by applying these events
(see :mod:`tradewire.model.orders`).
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields, is_dataclass
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


def fast_frozen_init(cls: type) -> type:
    """Give a frozen ``slots`` dataclass a faster ``__init__`` with the same signature and behaviour.

    The ``__init__`` that ``dataclasses`` generates for a frozen class sets each field through
    ``object.__setattr__``; this one calls each slot's descriptor directly (about 2.5x faster for the
    17-22 fields of `OrderFilled`/`OrderInitialized`, which are built for every order). The instance
    stays immutable: ``__setattr__``/``__delattr__`` still raise ``FrozenInstanceError``. Parameters,
    their order and defaults (including ``default_factory``) are those of the dataclass.

    Raises
    ------
    TypeError
        If ``cls`` is not a slots dataclass without ``__post_init__`` (then the generated ``__init__``
        must stay).
    """
    if not is_dataclass(cls) or "__slots__" not in cls.__dict__ or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: fast_frozen_init needs a slots dataclass without __post_init__")
    ns: dict[str, Any] = {"_MISSING": MISSING}
    params: list[str] = []
    body: list[str] = []
    for f in fields(cls):
        if not f.init:
            raise TypeError(f"{cls.__name__}.{f.name}: init=False fields are not supported")
        desc = getattr(cls, f.name)
        if type(desc).__name__ != "member_descriptor":
            raise TypeError(f"{cls.__name__}.{f.name} is not a slot")
        ns[f"_s_{f.name}"] = desc.__set__
        if f.default is not MISSING:
            ns[f"_d_{f.name}"] = f.default
            params.append(f"{f.name}=_d_{f.name}")
        elif f.default_factory is not MISSING:
            ns[f"_f_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_MISSING")
            body.append(f"    if {f.name} is _MISSING:\n        {f.name} = _f_{f.name}()")
        else:
            params.append(f.name)
        body.append(f"    _s_{f.name}(self, {f.name})")
    src = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body or ["    pass"]) + "\n"
    exec(src, ns)  # the source is built above from the class's own field names only
    init = ns["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[misc]
    return cls


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


for _cls in (
    OrderEvent, OrderInitialized, OrderDenied, OrderSubmitted, OrderAccepted, OrderRejected, OrderCanceled,
    OrderExpired, OrderTriggered, OrderPendingUpdate, OrderPendingCancel, OrderModifyRejected,
    OrderCancelRejected, OrderUpdated, OrderFilled,
):  # fmt: skip
    fast_frozen_init(_cls)
del _cls

ORDER_EVENT_TYPES: dict[str, type[OrderEvent]] = {
    cls.__name__: cls
    for cls in (
        OrderInitialized, OrderDenied, OrderSubmitted, OrderAccepted, OrderRejected, OrderCanceled,
        OrderExpired, OrderTriggered, OrderPendingUpdate, OrderPendingCancel, OrderModifyRejected,
        OrderCancelRejected, OrderUpdated, OrderFilled,
    )
}  # fmt: skip
