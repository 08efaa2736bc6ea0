"""Immutable order events (past tense: what happened).

Every event names its order (``client_order_id``), ``strategy_id``, ``instrument_id`` and carries
``ts_event`` (when it happened at the venue, or locally for local events) and ``ts_init`` (when
tradewire created the object), UTC nanoseconds. An `Order` changes only by applying these events
(see :mod:`tradewire.model.orders`).
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from decimal import Decimal
from inspect import signature
from types import FunctionType
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


def _check_declared_init(cls: type, init: Any) -> None:
    """Raise TypeError unless ``init`` takes exactly the fields of ``cls``, in order, with their defaults."""
    want = [(f.name, f.default) for f in fields(cls)]
    got = [(p.name, p.default if p.default is not p.empty else MISSING) for p in signature(init).parameters.values()]
    if got[1:] != want:
        raise TypeError(f"{cls.__name__}.__init__ parameters {got[1:]} do not match its fields {want}")


def reduce_by_fields(obj: Any) -> tuple[Any, tuple[Any, ...]]:
    """``__reduce__`` of a dataclass instance rebuilt by its constructor: ``(type, field values in order)``.

    The classes compiled by mypyc cannot be pickled the default way (their type builds an instance only
    through ``__init__``), so the event, command and position classes pickle by value with this.
    """
    return (type(obj), tuple(getattr(obj, f.name) for f in fields(obj)))


def fast_frozen_init(cls: type) -> type:
    """Give a frozen ``slots`` dataclass a faster ``__init__`` with the same signature and behaviour.

    Event and command classes declare ``init=False`` and write their ``__init__`` out (one assignment
    per field, in field order), so that mypyc compiles it to direct slot stores when the model is
    built as a native extension (see ``setup.py``); this function then leaves the class alone. In
    the interpreted source those assignments would hit the frozen ``__setattr__``, so the declared
    ``__init__`` is checked against the fields (same parameter names, order and defaults) and
    replaced by one that calls each slot's descriptor directly (about 2.5x faster than the
    ``object.__setattr__`` per field of the ``__init__`` that ``dataclasses`` generates for a
    frozen class). The instance stays immutable: ``__setattr__``/``__delattr__`` still raise
    ``FrozenInstanceError``. A class without a declared ``__init__`` gets the same fast one, with
    the dataclass's parameters and defaults (including ``default_factory``).

    Raises
    ------
    TypeError
        If ``cls`` is not a slots dataclass without ``__post_init__`` (then the generated ``__init__``
        must stay), or if its declared ``__init__`` does not match its fields.
    """
    own = cls.__dict__.get("__init__")
    if own is not None and not isinstance(own, FunctionType):
        return cls  # compiled: the declared __init__ stores the slots natively
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
    if not cls.__dataclass_params__.init:  # type: ignore[attr-defined]  # the class declares its __init__
        _check_declared_init(cls, cls.__init__)  # type: ignore[misc]
    src = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body or ["    pass"]) + "\n"
    exec(src, ns)  # the source is built above from the class's own field names only
    init = ns["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[misc, method-assign]
    return cls


@dataclass(frozen=True, slots=True, init=False)
class OrderEvent:
    """Base of all order events."""

    client_order_id: ClientOrderId
    strategy_id: StrategyId
    instrument_id: InstrumentId
    ts_event: int
    ts_init: int

    def __init__(
        self,
        client_order_id: ClientOrderId,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        ts_event: int,
        ts_init: int,
    ) -> None:
        self.client_order_id = client_order_id  # type: ignore[misc]
        self.strategy_id = strategy_id  # type: ignore[misc]
        self.instrument_id = instrument_id  # type: ignore[misc]
        self.ts_event = ts_event  # type: ignore[misc]
        self.ts_init = ts_init  # type: ignore[misc]

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return reduce_by_fields(self)

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


@dataclass(frozen=True, slots=True, init=False)
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

    def __init__(
        self,
        client_order_id: ClientOrderId,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        ts_event: int,
        ts_init: int,
        side: OrderSide,
        order_type: OrderType,
        quantity: Quantity,
        time_in_force: TimeInForce = TimeInForce.GTC,
        price: Price | None = None,
        trigger_price: Price | None = None,
        expire_time_ns: int | None = None,
        post_only: bool = False,
        reduce_only: bool = False,
        trailing_offset: Decimal | None = None,
        trailing_offset_type: str | None = None,
        limit_offset: Decimal | None = None,
        order_list_id: OrderListId | None = None,
        parent_order_id: ClientOrderId | None = None,
        linked_order_ids: tuple[ClientOrderId, ...] = (),
        contingency_type: ContingencyType = ContingencyType.NONE,
        tags: str | None = None,
    ) -> None:
        super().__init__(client_order_id, strategy_id, instrument_id, ts_event, ts_init)
        self.side = side  # type: ignore[misc]
        self.order_type = order_type  # type: ignore[misc]
        self.quantity = quantity  # type: ignore[misc]
        self.time_in_force = time_in_force  # type: ignore[misc]
        self.price = price  # type: ignore[misc]
        self.trigger_price = trigger_price  # type: ignore[misc]
        self.expire_time_ns = expire_time_ns  # type: ignore[misc]
        self.post_only = post_only  # type: ignore[misc]
        self.reduce_only = reduce_only  # type: ignore[misc]
        self.trailing_offset = trailing_offset  # type: ignore[misc]
        self.trailing_offset_type = trailing_offset_type  # type: ignore[misc]
        self.limit_offset = limit_offset  # type: ignore[misc]
        self.order_list_id = order_list_id  # type: ignore[misc]
        self.parent_order_id = parent_order_id  # type: ignore[misc]
        self.linked_order_ids = linked_order_ids  # type: ignore[misc]
        self.contingency_type = contingency_type  # type: ignore[misc]
        self.tags = tags  # type: ignore[misc]


@dataclass(frozen=True, slots=True, init=False)
class OrderDenied(OrderEvent):
    """The RiskEngine refused the order before it reached a venue."""

    reason: str

    def __init__(
        self,
        client_order_id: ClientOrderId,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        ts_event: int,
        ts_init: int,
        reason: str,
    ) -> None:
        super().__init__(client_order_id, strategy_id, instrument_id, ts_event, ts_init)
        self.reason = reason  # type: ignore[misc]


@dataclass(frozen=True, slots=True, init=False)
class OrderSubmitted(OrderEvent):
    """The order was sent to the venue."""

    account_id: AccountId | None = None

    def __init__(
        self,
        client_order_id: ClientOrderId,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        ts_event: int,
        ts_init: int,
        account_id: AccountId | None = None,
    ) -> None:
        super().__init__(client_order_id, strategy_id, instrument_id, ts_event, ts_init)
        self.account_id = account_id  # type: ignore[misc]


@dataclass(frozen=True, slots=True, init=False)
class OrderAccepted(OrderEvent):
    """The venue acknowledged the order."""

    venue_order_id: VenueOrderId
    account_id: AccountId | None = None

    def __init__(
        self,
        client_order_id: ClientOrderId,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        ts_event: int,
        ts_init: int,
        venue_order_id: VenueOrderId,
        account_id: AccountId | None = None,
    ) -> None:
        super().__init__(client_order_id, strategy_id, instrument_id, ts_event, ts_init)
        self.venue_order_id = venue_order_id  # type: ignore[misc]
        self.account_id = account_id  # type: ignore[misc]


@dataclass(frozen=True, slots=True, init=False)
class OrderRejected(OrderEvent):
    """The venue refused the order."""

    reason: str
    account_id: AccountId | None = None

    def __init__(
        self,
        client_order_id: ClientOrderId,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        ts_event: int,
        ts_init: int,
        reason: str,
        account_id: AccountId | None = None,
    ) -> None:
        super().__init__(client_order_id, strategy_id, instrument_id, ts_event, ts_init)
        self.reason = reason  # type: ignore[misc]
        self.account_id = account_id  # type: ignore[misc]


@dataclass(frozen=True, slots=True, init=False)
class OrderCanceled(OrderEvent):
    """The order was canceled (by request, by the venue, or by its time in force)."""

    venue_order_id: VenueOrderId | None = None
    reason: str = ""

    def __init__(
        self,
        client_order_id: ClientOrderId,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        ts_event: int,
        ts_init: int,
        venue_order_id: VenueOrderId | None = None,
        reason: str = "",
    ) -> None:
        super().__init__(client_order_id, strategy_id, instrument_id, ts_event, ts_init)
        self.venue_order_id = venue_order_id  # type: ignore[misc]
        self.reason = reason  # type: ignore[misc]


@dataclass(frozen=True, slots=True, init=False)
class OrderExpired(OrderEvent):
    """The order expired (DAY/GTD)."""

    venue_order_id: VenueOrderId | None = None

    def __init__(
        self,
        client_order_id: ClientOrderId,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        ts_event: int,
        ts_init: int,
        venue_order_id: VenueOrderId | None = None,
    ) -> None:
        super().__init__(client_order_id, strategy_id, instrument_id, ts_event, ts_init)
        self.venue_order_id = venue_order_id  # type: ignore[misc]


@dataclass(frozen=True, slots=True, init=False)
class OrderTriggered(OrderEvent):
    """A stop or if-touched order's trigger price was reached."""

    venue_order_id: VenueOrderId | None = None

    def __init__(
        self,
        client_order_id: ClientOrderId,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        ts_event: int,
        ts_init: int,
        venue_order_id: VenueOrderId | None = None,
    ) -> None:
        super().__init__(client_order_id, strategy_id, instrument_id, ts_event, ts_init)
        self.venue_order_id = venue_order_id  # type: ignore[misc]


@dataclass(frozen=True, slots=True, init=False)
class OrderPendingUpdate(OrderEvent):
    """A modify request was sent."""

    venue_order_id: VenueOrderId | None = None

    def __init__(
        self,
        client_order_id: ClientOrderId,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        ts_event: int,
        ts_init: int,
        venue_order_id: VenueOrderId | None = None,
    ) -> None:
        super().__init__(client_order_id, strategy_id, instrument_id, ts_event, ts_init)
        self.venue_order_id = venue_order_id  # type: ignore[misc]


@dataclass(frozen=True, slots=True, init=False)
class OrderPendingCancel(OrderEvent):
    """A cancel request was sent."""

    venue_order_id: VenueOrderId | None = None

    def __init__(
        self,
        client_order_id: ClientOrderId,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        ts_event: int,
        ts_init: int,
        venue_order_id: VenueOrderId | None = None,
    ) -> None:
        super().__init__(client_order_id, strategy_id, instrument_id, ts_event, ts_init)
        self.venue_order_id = venue_order_id  # type: ignore[misc]


@dataclass(frozen=True, slots=True, init=False)
class OrderModifyRejected(OrderEvent):
    """The venue refused a modify request."""

    reason: str
    venue_order_id: VenueOrderId | None = None

    def __init__(
        self,
        client_order_id: ClientOrderId,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        ts_event: int,
        ts_init: int,
        reason: str,
        venue_order_id: VenueOrderId | None = None,
    ) -> None:
        super().__init__(client_order_id, strategy_id, instrument_id, ts_event, ts_init)
        self.reason = reason  # type: ignore[misc]
        self.venue_order_id = venue_order_id  # type: ignore[misc]


@dataclass(frozen=True, slots=True, init=False)
class OrderCancelRejected(OrderEvent):
    """The venue refused a cancel request."""

    reason: str
    venue_order_id: VenueOrderId | None = None

    def __init__(
        self,
        client_order_id: ClientOrderId,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        ts_event: int,
        ts_init: int,
        reason: str,
        venue_order_id: VenueOrderId | None = None,
    ) -> None:
        super().__init__(client_order_id, strategy_id, instrument_id, ts_event, ts_init)
        self.reason = reason  # type: ignore[misc]
        self.venue_order_id = venue_order_id  # type: ignore[misc]


@dataclass(frozen=True, slots=True, init=False)
class OrderUpdated(OrderEvent):
    """Quantity, price or trigger price changed (None = unchanged)."""

    quantity: Quantity | None = None
    price: Price | None = None
    trigger_price: Price | None = None
    venue_order_id: VenueOrderId | None = None

    def __init__(
        self,
        client_order_id: ClientOrderId,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        ts_event: int,
        ts_init: int,
        quantity: Quantity | None = None,
        price: Price | None = None,
        trigger_price: Price | None = None,
        venue_order_id: VenueOrderId | None = None,
    ) -> None:
        super().__init__(client_order_id, strategy_id, instrument_id, ts_event, ts_init)
        self.quantity = quantity  # type: ignore[misc]
        self.price = price  # type: ignore[misc]
        self.trigger_price = trigger_price  # type: ignore[misc]
        self.venue_order_id = venue_order_id  # type: ignore[misc]


@dataclass(frozen=True, slots=True, init=False)
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

    def __init__(
        self,
        client_order_id: ClientOrderId,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        ts_event: int,
        ts_init: int,
        venue_order_id: VenueOrderId,
        trade_id: TradeId,
        order_side: OrderSide,
        order_type: OrderType,
        last_qty: Quantity,
        last_px: Price,
        commission: Money,
        liquidity_side: LiquiditySide = LiquiditySide.TAKER,
        position_id: PositionId | None = None,
        account_id: AccountId | None = None,
        inferred: bool = False,
    ) -> None:
        super().__init__(client_order_id, strategy_id, instrument_id, ts_event, ts_init)
        self.venue_order_id = venue_order_id  # type: ignore[misc]
        self.trade_id = trade_id  # type: ignore[misc]
        self.order_side = order_side  # type: ignore[misc]
        self.order_type = order_type  # type: ignore[misc]
        self.last_qty = last_qty  # type: ignore[misc]
        self.last_px = last_px  # type: ignore[misc]
        self.commission = commission  # type: ignore[misc]
        self.liquidity_side = liquidity_side  # type: ignore[misc]
        self.position_id = position_id  # type: ignore[misc]
        self.account_id = account_id  # type: ignore[misc]
        self.inferred = inferred  # type: ignore[misc]


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
