"""`Order` and its state machine.

The whole lifecycle is one table, :data:`TRANSITIONS`: ``(status, event kind) -> new status``.
Applying an event whose pair is not in the table raises :class:`InvalidStateTransition` and leaves
the order unchanged. ``PREVIOUS`` means "back to the status before the pending request" (a
rejected modify or cancel). A fill goes to FILLED when nothing is left, else PARTIALLY_FILLED.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from mypy_extensions import mypyc_attr

from tradewire.model.enums import OrderSide, OrderStatus, OrderType
from tradewire.model.events import (
    ORDER_EVENT_TYPES,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderFilled,
    OrderInitialized,
    OrderModifyRejected,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderSubmitted,
    OrderUpdated,
)
from tradewire.model.identifiers import TradeId, VenueOrderId
from tradewire.model.objects import FIXED_SCALAR, Money, Quantity

# enum members as module constants: Enum class attribute access is a Python-level lookup in 3.11
_BUY: Final = OrderSide.BUY
_INITIALIZED: Final = OrderStatus.INITIALIZED
_MARKET: Final = OrderType.MARKET
_FILLED: Final = OrderStatus.FILLED
_PARTIALLY_FILLED: Final = OrderStatus.PARTIALLY_FILLED
_ZERO_QTY: dict[int, Quantity] = {}

S = OrderStatus
PREVIOUS = "previous"
FILL = "OrderFilled"


@mypyc_attr(native_class=False)  # a native class cannot derive from RuntimeError
class InvalidStateTransition(RuntimeError):
    """An event was applied to an order in a status that does not allow it."""


_T: dict[tuple[OrderStatus, str], OrderStatus | str] = {}


def _add(frm: tuple[OrderStatus, ...], event: str, to: OrderStatus | str) -> None:
    for s in frm:
        _T[(s, event)] = to


_OPEN: Final = (S.ACCEPTED, S.TRIGGERED, S.PARTIALLY_FILLED)
_add((S.INITIALIZED,), "OrderDenied", S.DENIED)
_add((S.INITIALIZED,), "OrderSubmitted", S.SUBMITTED)
_add((S.INITIALIZED,), "OrderUpdated", S.INITIALIZED)  # local (emulated/contingent) orders
_add((S.INITIALIZED,), "OrderCanceled", S.CANCELED)  # contingent child canceled before release
_add((S.INITIALIZED,), "OrderExpired", S.EXPIRED)
_add((S.INITIALIZED, S.SUBMITTED), "OrderRejected", S.REJECTED)
_add((S.INITIALIZED, S.SUBMITTED), "OrderAccepted", S.ACCEPTED)  # INITIALIZED: adopted venue order
_add((S.SUBMITTED,), "OrderCanceled", S.CANCELED)  # e.g. IOC/FOK canceled with no ack
_add((S.SUBMITTED,), "OrderExpired", S.EXPIRED)
_add((S.SUBMITTED,), "OrderUpdated", S.SUBMITTED)
_add((S.SUBMITTED, *_OPEN), "OrderPendingUpdate", S.PENDING_UPDATE)
_add((S.SUBMITTED, *_OPEN, S.PENDING_UPDATE), "OrderPendingCancel", S.PENDING_CANCEL)
_add((S.SUBMITTED, *_OPEN, S.PENDING_UPDATE, S.PENDING_CANCEL), FILL, FILL)
_add((S.ACCEPTED, S.TRIGGERED, S.PENDING_UPDATE, S.PENDING_CANCEL), "OrderRejected", S.REJECTED)
_add((*_OPEN, S.PENDING_UPDATE, S.PENDING_CANCEL), "OrderCanceled", S.CANCELED)
_add((*_OPEN, S.PENDING_UPDATE, S.PENDING_CANCEL), "OrderExpired", S.EXPIRED)
_add((S.ACCEPTED, S.PENDING_UPDATE), "OrderTriggered", S.TRIGGERED)
_add((S.ACCEPTED,), "OrderUpdated", S.ACCEPTED)
_add((S.TRIGGERED,), "OrderUpdated", S.TRIGGERED)
_add((S.PARTIALLY_FILLED,), "OrderUpdated", S.PARTIALLY_FILLED)
_add((S.PENDING_UPDATE,), "OrderUpdated", PREVIOUS)
_add((S.PENDING_UPDATE, S.PENDING_CANCEL), "OrderAccepted", PREVIOUS)
_add((S.PENDING_UPDATE, *_OPEN), "OrderModifyRejected", PREVIOUS)
_add((S.PENDING_CANCEL, *_OPEN, S.FILLED), "OrderCancelRejected", PREVIOUS)

TRANSITIONS: dict[tuple[OrderStatus, str], OrderStatus | str] = dict(_T)
"""The order state machine: ``(status, event kind) -> status`` (``FILL`` resolves by leaves qty)."""

# TRANSITIONS keyed by the event class instead of its name (derived, never edited: one lookup
# without reading ``__name__``); a class not listed here is looked up by name in TRANSITIONS
_BY_CLASS: dict[tuple[OrderStatus, type], OrderStatus | str] = {
    (status, ORDER_EVENT_TYPES[kind]): to for (status, kind), to in TRANSITIONS.items()
}


class Order:
    """A working or historical order, rebuilt from its events.

    Create with :meth:`from_init` (an :class:`OrderInitialized` event) and change only with
    :meth:`apply`. ``filled_qty``/``leaves_qty`` are Quantities; ``avg_px`` is an exact Decimal.

    Raises
    ------
    InvalidStateTransition
        From :meth:`apply` when the event is not allowed in the current status.
    ValueError
        From :meth:`apply` on a fill that would exceed the order quantity, or a duplicate trade id.
    """

    __slots__ = (
        "_notional_raw",
        "_previous_status",
        "_trade_ids",
        "client_order_id",
        "commissions",
        "contingency_type",
        "events",
        "expire_time_ns",
        "filled_qty",
        "init",
        "instrument_id",
        "last_reason",
        "limit_offset",
        "linked_order_ids",
        "order_list_id",
        "order_type",
        "parent_order_id",
        "post_only",
        "price",
        "quantity",
        "reduce_only",
        "side",
        "status",
        "strategy_id",
        "tags",
        "time_in_force",
        "trailing_offset",
        "trailing_offset_type",
        "trigger_price",
        "ts_init",
        "ts_last",
        "venue_order_id",
    )  # fmt: skip

    def __init__(self, init: OrderInitialized) -> None:
        self.init = init
        self.client_order_id = init.client_order_id
        self.strategy_id = init.strategy_id
        self.instrument_id = init.instrument_id
        self.side = init.side
        self.order_type = init.order_type
        self.quantity = init.quantity
        self.price = init.price
        self.trigger_price = init.trigger_price
        self.time_in_force = init.time_in_force
        self.expire_time_ns = init.expire_time_ns
        self.post_only = init.post_only
        self.reduce_only = init.reduce_only
        self.trailing_offset = init.trailing_offset
        self.trailing_offset_type = init.trailing_offset_type
        self.limit_offset = init.limit_offset
        self.order_list_id = init.order_list_id
        self.parent_order_id = init.parent_order_id
        self.linked_order_ids = init.linked_order_ids
        self.contingency_type = init.contingency_type
        self.tags = init.tags
        self.status = _INITIALIZED
        self._previous_status = _INITIALIZED
        self.venue_order_id: VenueOrderId | None = None
        precision = init.quantity.precision
        zero = _ZERO_QTY.get(precision)
        if zero is None:  # Quantities are immutable: one zero per precision serves every order
            zero = _ZERO_QTY[precision] = Quantity.from_raw(0, precision)
        self.filled_qty = zero
        self._notional_raw = 0
        self._trade_ids: set[TradeId] = set()
        self.commissions: dict[str, Money] = {}
        self.events: list[OrderEvent] = [init]
        self.ts_init = init.ts_init
        self.ts_last = init.ts_event
        self.last_reason: str | None = None

    @classmethod
    def from_init(cls, init: OrderInitialized) -> Order:
        """Create an order from its initialization event."""
        return cls(init)

    # -- queries -------------------------------------------------------------------------------
    @property
    def leaves_qty(self) -> Quantity:
        """Quantity still to fill."""
        return Quantity.from_raw(self.quantity.raw - self.filled_qty.raw, self.quantity.precision)

    @property
    def avg_px(self) -> Decimal | None:
        """Exact average fill price, or None before the first fill."""
        if not self.filled_qty.raw:
            return None
        return Decimal(self._notional_raw) / Decimal(self.filled_qty.raw) / FIXED_SCALAR

    @property
    def is_open(self) -> bool:
        """True while the order can still fill (accepted, triggered, partially filled, pending)."""
        return self.status in _OPEN_STATES

    @property
    def is_closed(self) -> bool:
        """True in a terminal status."""
        return self.status.is_closed

    @property
    def is_inflight(self) -> bool:
        """True when sent and not yet acknowledged (or a pending modify/cancel)."""
        return self.status in _INFLIGHT_STATES

    @property
    def is_passive(self) -> bool:
        """True for orders that rest (anything but market)."""
        return self.order_type is not _MARKET

    @property
    def signed_qty_raw(self) -> int:
        """Order quantity raw, negative for sells."""
        return self.quantity.raw if self.side is _BUY else -self.quantity.raw

    def would_reduce_only(self, position_qty_raw: int) -> bool:
        """True if filling this whole order cannot increase the absolute position size."""
        if position_qty_raw == 0:
            return False
        if (position_qty_raw > 0) == (self.side is _BUY):
            return False
        return self.leaves_qty.raw <= abs(position_qty_raw)

    # -- mutation -----------------------------------------------------------------------------
    def apply(self, event: OrderEvent) -> None:
        """Apply ``event`` through the transition table (see module docstring)."""
        if event.client_order_id != self.client_order_id:
            raise ValueError(f"event for {event.client_order_id} applied to {self.client_order_id}")
        cls = type(event)
        target = _BY_CLASS.get((self.status, cls))
        if target is None:  # not an exact event class of the table (or not allowed): decide by name
            kind = cls.__name__
            target = TRANSITIONS.get((self.status, kind))
            if target is None:
                raise InvalidStateTransition(f"{self.client_order_id}: {kind} not allowed in status {self.status.name}")
        if cls is OrderFilled or cls is OrderSubmitted or (cls is OrderAccepted and target is not PREVIOUS):
            # the hot events first, with the same outcome as the general path below
            if cls is OrderFilled:
                last_raw = event.last_qty.raw  # type: ignore[attr-defined]
                quantity_raw = self.quantity.raw
                new_filled = self.filled_qty.raw + last_raw
                if new_filled > quantity_raw:
                    raise ValueError(
                        f"{self.client_order_id}: fill {event.last_qty} exceeds leaves {self.leaves_qty} (overfill)"  # type: ignore[attr-defined]
                    )
                trade_ids = self._trade_ids
                trade_id = event.trade_id  # type: ignore[attr-defined]
                if trade_id in trade_ids:
                    raise ValueError(f"{self.client_order_id}: duplicate trade id {trade_id}")
                trade_ids.add(trade_id)
                # filled completely: the order quantity itself is that value (Quantities are immutable)
                qty = self.quantity
                self.filled_qty = qty if new_filled == quantity_raw else Quantity.from_raw(new_filled, qty.precision)
                self._notional_raw += event.last_px.raw * last_raw  # type: ignore[attr-defined]  # scale 1e18, exact
                comm = event.commission  # type: ignore[attr-defined]
                code = comm.currency.code
                prev = self.commissions.get(code)
                # same currency code: add the raws (Money.__add__ would re-check the currency)
                self.commissions[code] = comm if prev is None else Money.from_raw(prev.raw + comm.raw, prev.currency)
                self.venue_order_id = event.venue_order_id  # type: ignore[attr-defined]
                target = _FILLED if new_filled == quantity_raw else _PARTIALLY_FILLED
            elif cls is OrderAccepted:
                self.venue_order_id = event.venue_order_id  # type: ignore[attr-defined]
            self._previous_status = self.status = target  # type: ignore[assignment]
            self.events.append(event)
            self.ts_last = event.ts_event
            return
        if isinstance(event, OrderFilled):  # a subclass of OrderFilled
            new_filled = self.filled_qty.raw + event.last_qty.raw
            if new_filled > self.quantity.raw:
                raise ValueError(
                    f"{self.client_order_id}: fill {event.last_qty} exceeds leaves {self.leaves_qty} (overfill)"
                )
            if event.trade_id in self._trade_ids:
                raise ValueError(f"{self.client_order_id}: duplicate trade id {event.trade_id}")
            self._trade_ids.add(event.trade_id)
            self.filled_qty = Quantity.from_raw(new_filled, self.quantity.precision)
            self._notional_raw += event.last_px.raw * event.last_qty.raw  # scale 1e18, exact
            code = event.commission.currency.code
            prev = self.commissions.get(code)
            self.commissions[code] = event.commission if prev is None else prev + event.commission
            self.venue_order_id = event.venue_order_id
            if new_filled == self.quantity.raw:
                new_status = S.FILLED
            else:
                new_status = S.PARTIALLY_FILLED
        elif target == PREVIOUS:
            new_status = self._previous_status
        else:
            new_status = target  # type: ignore[assignment]
        if isinstance(event, OrderAccepted):
            self.venue_order_id = event.venue_order_id
        elif isinstance(event, OrderUpdated):
            if event.quantity is not None:
                if event.quantity.raw < self.filled_qty.raw:
                    raise ValueError(f"{self.client_order_id}: new quantity below filled quantity")
                self.quantity = event.quantity
                if self.filled_qty.raw == self.quantity.raw and self.filled_qty.raw:
                    new_status = S.FILLED
            if event.price is not None:
                self.price = event.price
            if event.trigger_price is not None:
                self.trigger_price = event.trigger_price
            if event.venue_order_id is not None:
                self.venue_order_id = event.venue_order_id
        elif isinstance(event, (OrderDenied, OrderRejected, OrderModifyRejected, OrderCancelRejected)) or (
            isinstance(event, OrderCanceled) and event.reason
        ):
            self.last_reason = event.reason
        if isinstance(event, (OrderPendingUpdate, OrderPendingCancel)):
            if self.status not in (S.PENDING_UPDATE, S.PENDING_CANCEL):
                self._previous_status = self.status
        elif new_status not in (S.PENDING_UPDATE, S.PENDING_CANCEL):
            self._previous_status = new_status
        self.status = new_status
        self.events.append(event)
        self.ts_last = event.ts_event

    def __repr__(self) -> str:
        px = f" @ {self.price}" if self.price is not None else ""
        trg = f" trigger {self.trigger_price}" if self.trigger_price is not None else ""
        return (
            f"Order({self.client_order_id}, {self.side.name} {self.quantity} {self.instrument_id} "
            f"{self.order_type.name}{px}{trg} {self.time_in_force.name}, {self.status.name}, "
            f"filled={self.filled_qty})"
        )


_OPEN_STATES: Final = frozenset({S.ACCEPTED, S.TRIGGERED, S.PARTIALLY_FILLED, S.PENDING_UPDATE, S.PENDING_CANCEL})
_INFLIGHT_STATES: Final = frozenset({S.SUBMITTED, S.PENDING_UPDATE, S.PENDING_CANCEL})

__all__ = ["FILL", "PREVIOUS", "TRANSITIONS", "InvalidStateTransition", "Order"]
