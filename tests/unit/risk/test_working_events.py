"""WorkingOrders drops an order on the event that closes it and never on the events that cannot close one."""

from __future__ import annotations

from tradewire.model import (
    ClientOrderId,
    InstrumentId,
    Money,
    Order,
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderInitialized,
    OrderPendingCancel,
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
from tradewire.model.objects import USDT
from tradewire.model.orders import PREVIOUS, TRANSITIONS
from tradewire.risk.working import _NEVER_CLOSING, WorkingOrders

IID = InstrumentId("BTCUSDT.SIM")
SID = StrategyId("S-1")


def test_no_transition_of_a_never_closing_event_ends_closed():
    names = {cls.__name__ for cls in _NEVER_CLOSING}
    pending = {OrderStatus.PENDING_UPDATE, OrderStatus.PENDING_CANCEL}
    checked = 0
    for (status, kind), target in TRANSITIONS.items():
        if kind not in names:
            continue
        checked += 1
        if target == PREVIOUS:
            # back to the status before a pending request: that status was open (pending states start from one)
            assert status in pending, (status, kind)
        else:
            assert not target.is_closed, (status, kind, target)
    assert checked >= 10


def _order(n: int, order_type=OrderType.LIMIT) -> Order:
    price = Price("100.00", 2) if order_type is OrderType.LIMIT else None
    return Order(OrderInitialized(ClientOrderId(f"O-{n}"), SID, IID, 0, 0, OrderSide.BUY, order_type,
                                  Quantity("1", 0), price=price))  # fmt: skip


def _ev(order, cls, **kw):
    ev = cls(order.client_order_id, SID, IID, 1, 1, **kw)
    order.apply(ev)
    return ev


def test_an_order_is_dropped_by_its_closing_event_only():
    w = WorkingOrders()
    filled, canceled = _order(1), _order(2)
    for o in (filled, canceled):
        w.add(o)
        w.on_event(o.init)
        w.on_event(_ev(o, OrderSubmitted))
        w.on_event(_ev(o, OrderAccepted, venue_order_id=VenueOrderId(f"V-{o.client_order_id}")))
    w.on_event(_ev(canceled, OrderPendingCancel))
    w.on_event(_ev(canceled, OrderAccepted, venue_order_id=VenueOrderId("V-O-2")))  # back to ACCEPTED
    assert canceled.status is OrderStatus.ACCEPTED and set(w.orders) == {"O-1", "O-2"}
    fill = _ev(filled, OrderFilled, venue_order_id=VenueOrderId("V-O-1"), trade_id=TradeId("T-1"),
               order_side=OrderSide.BUY, order_type=OrderType.LIMIT, last_qty=Quantity("1", 0),
               last_px=Price("100.00", 2), commission=Money("0", USDT))  # fmt: skip
    w.on_event(fill)
    assert set(w.orders) == {"O-2"} and w.by_strategy[SID] == 1
    w.on_event(_ev(canceled, OrderCanceled))
    assert w.orders == {} and w.by_instrument[IID] == {} and w.by_strategy[SID] == 0
