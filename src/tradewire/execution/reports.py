"""Venue reports used for reconciliation (and a re-export of the `AccountState` event).

An `ExecutionClient` answers three questions about what the venue knows: which orders exist and in
what state (:class:`OrderStatusReport`), which executions happened (:class:`FillReport`) and which
positions are open (:class:`PositionReport`). The engine compares them with its own cache after a
(re)connect. :class:`~tradewire.model.account.AccountState` (defined in the model layer, re-exported here) is pushed
by clients through the same event handler as order events whenever the venue reports new balances or
margins.

All timestamps are UTC nanoseconds: ``ts_event`` when the venue says it happened, ``ts_init`` when
tradewire built the object.
"""

from __future__ import annotations

from dataclasses import dataclass

from tradewire.model.account import AccountState, MarginBalance  # re-exported: they live in the model layer
from tradewire.model.enums import (
    LiquiditySide,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionSide,
    TimeInForce,
)
from tradewire.model.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    PositionId,
    TradeId,
    VenueOrderId,
)
from tradewire.model.objects import Money, Price, Quantity


@dataclass(frozen=True, slots=True)
class OrderStatusReport:
    """The venue's view of one order.

    Parameters
    ----------
    account_id, instrument_id : identifiers
    client_order_id : ClientOrderId | None
        None for an order placed outside tradewire (e.g. by hand on the venue's website).
    venue_order_id : VenueOrderId
    order_side, order_type, time_in_force : enums
    order_status : OrderStatus
        Status as mapped from the venue's vocabulary.
    quantity, filled_qty : Quantity
        Ordered and filled quantity.
    price, trigger_price : Price | None
        Limit and trigger prices where the order type has them.
    avg_px : Price | None
        Venue-reported average fill price.
    ts_accepted, ts_last, ts_init : int
        UTC ns.
    """

    account_id: AccountId
    instrument_id: InstrumentId
    client_order_id: ClientOrderId | None
    venue_order_id: VenueOrderId
    order_side: OrderSide
    order_type: OrderType
    time_in_force: TimeInForce
    order_status: OrderStatus
    quantity: Quantity
    filled_qty: Quantity
    ts_accepted: int
    ts_last: int
    ts_init: int
    price: Price | None = None
    trigger_price: Price | None = None
    avg_px: Price | None = None
    reduce_only: bool = False
    post_only: bool = False


@dataclass(frozen=True, slots=True)
class FillReport:
    """One execution as reported by the venue (``commission`` positive = fee paid, negative = rebate)."""

    account_id: AccountId
    instrument_id: InstrumentId
    venue_order_id: VenueOrderId
    trade_id: TradeId
    order_side: OrderSide
    last_qty: Quantity
    last_px: Price
    commission: Money
    liquidity_side: LiquiditySide
    ts_event: int
    ts_init: int
    client_order_id: ClientOrderId | None = None
    venue_position_id: PositionId | None = None


@dataclass(frozen=True, slots=True)
class PositionReport:
    """The venue's view of one open position (``quantity`` absolute, ``position_side`` gives the sign)."""

    account_id: AccountId
    instrument_id: InstrumentId
    position_side: PositionSide
    quantity: Quantity
    ts_last: int
    ts_init: int
    avg_px_open: Price | None = None
    venue_position_id: PositionId | None = None

    @property
    def signed_qty_raw(self) -> int:
        """Signed quantity raw (scale 1e9): negative for a short."""
        if self.position_side is PositionSide.SHORT:
            return -self.quantity.raw
        return self.quantity.raw if self.position_side is PositionSide.LONG else 0


__all__ = ["AccountState", "FillReport", "MarginBalance", "OrderStatusReport", "PositionReport"]
