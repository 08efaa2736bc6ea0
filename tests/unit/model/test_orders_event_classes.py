"""Order.apply resolves transitions by event class, and by name for classes outside the table."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tradewire import _native
from tradewire.model import (
    ClientOrderId,
    InstrumentId,
    InvalidStateTransition,
    Money,
    Order,
    OrderAccepted,
    OrderFilled,
    OrderInitialized,
    OrderSide,
    OrderStatus,
    OrderSubmitted,
    OrderType,
    Price,
    Quantity,
    StrategyId,
    TradeId,
    VenueOrderId,
)
from tradewire.model.objects import USD, USDT

COID, SID, IID, VID = ClientOrderId("O-1"), StrategyId("S-1"), InstrumentId("ES.CME"), VenueOrderId("V-1")


def _accepted_order(qty: int = 10) -> Order:
    o = Order(OrderInitialized(COID, SID, IID, 1, 1, OrderSide.BUY, OrderType.MARKET, Quantity(qty, 0)))
    o.apply(OrderSubmitted(COID, SID, IID, 2, 2))
    o.apply(OrderAccepted(COID, SID, IID, 3, 3, VID))
    return o


def _fill(trade: str, qty: int, px: str, fee: Money, cls: type = OrderFilled) -> OrderFilled:
    return cls(COID, SID, IID, 4, 4, VID, TradeId(trade), OrderSide.BUY, OrderType.MARKET, Quantity(qty, 0),
               Price(px, 2), fee)  # fmt: skip


def test_fills_sum_commissions_per_currency_exactly_and_refuse_duplicates():
    o = _accepted_order()
    o.apply(_fill("T-1", 3, "100.10", Money("0.1", USD)))
    o.apply(_fill("T-2", 3, "100.20", Money("0.2", USD)))
    o.apply(_fill("T-3", 2, "100.30", Money("0.000000001", USDT)))
    assert o.commissions == {"USD": Money("0.3", USD), "USDT": Money("0.000000001", USDT)}
    assert o.status is OrderStatus.PARTIALLY_FILLED and o.filled_qty == Quantity(8, 0)
    assert o.avg_px == (3 * Price("100.10", 2).as_decimal() + 3 * Price("100.20", 2).as_decimal()
                        + 2 * Price("100.30", 2).as_decimal()) / 8  # fmt: skip
    n = len(o.events)
    with pytest.raises(ValueError, match="duplicate trade id"):
        o.apply(_fill("T-2", 1, "100.20", Money("0", USD)))
    with pytest.raises(ValueError, match="overfill"):
        o.apply(_fill("T-4", 3, "100.20", Money("0", USD)))
    assert len(o.events) == n and o.filled_qty == Quantity(8, 0)
    o.apply(_fill("T-4", 2, "100.40", Money("0", USD)))
    assert o.status is OrderStatus.FILLED and o.venue_order_id == VID


@pytest.mark.skipif(_native.IMPLEMENTATION == "native", reason="native event classes cannot be subclassed (next test)")
def test_a_subclass_named_like_a_table_event_follows_that_row():
    @dataclass(frozen=True, slots=True)
    class OrderFilled_(OrderFilled):  # a different name: not in the table
        pass

    # same name as the table's event: the row of "OrderFilled" applies
    Same = type("OrderFilled", (OrderFilled,), {"__slots__": ()})
    o = _accepted_order()
    o.apply(_fill("T-1", 4, "100.00", Money("1", USD), cls=Same))
    assert o.status is OrderStatus.PARTIALLY_FILLED and o.filled_qty == Quantity(4, 0)
    assert o.commissions == {"USD": Money("1", USD)}
    # any other name is not an event of the table: refused, order unchanged
    with pytest.raises(InvalidStateTransition, match="OrderFilled_ not allowed"):
        o.apply(_fill("T-2", 1, "100.00", Money("1", USD), cls=OrderFilled_))
    assert o.filled_qty == Quantity(4, 0) and len(o.events) == 4


@pytest.mark.skipif(_native.IMPLEMENTATION != "native", reason="the interpreted event classes can be subclassed")
def test_native_event_classes_refuse_interpreted_subclasses():
    # the by-name rule above exists for subclasses, which the compiled model does not allow
    Same = type("OrderFilled", (OrderFilled,), {"__slots__": ()})
    with pytest.raises(TypeError, match="interpreted classes cannot inherit from compiled"):
        _fill("T-1", 4, "100.00", Money("1", USD), cls=Same)
