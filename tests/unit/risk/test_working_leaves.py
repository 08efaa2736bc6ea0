"""WorkingOrders.same_side_leaves_raw equals its definition (leaves of the tracked open orders of the instrument
on that side), also for orders changed without their events reaching on_event."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.model import (
    ClientOrderId,
    InstrumentId,
    Money,
    Order,
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderInitialized,
    OrderSide,
    OrderSubmitted,
    OrderType,
    Price,
    Quantity,
    StrategyId,
    TradeId,
    VenueOrderId,
)
from tradewire.model.objects import USDT
from tradewire.risk.working import WorkingOrders

IIDS = (InstrumentId("BTCUSDT.SIM"), InstrumentId("ETHUSDT.SIM"))
SID = StrategyId("S-1")


def _definition(w: WorkingOrders, iid: InstrumentId, side: OrderSide, exclude: ClientOrderId | None) -> int:
    return sum(
        o.quantity.raw - o.filled_qty.raw
        for c, o in w.by_instrument.get(iid, {}).items()
        if o.side is side and c != exclude and not o.status.is_closed
    )


def _apply(w: WorkingOrders, order: Order, cls: type, publish: bool, **kw) -> None:
    ev = cls(order.client_order_id, SID, order.instrument_id, 1, 1, **kw)
    order.apply(ev)
    if publish:
        w.on_event(ev)


STEPS = st.lists(
    st.tuples(st.sampled_from(["new", "fill", "cancel", "prune"]), st.integers(0, 40), st.integers(1, 5),
              st.booleans(), st.booleans(), st.booleans()),
    min_size=1, max_size=50,
)  # fmt: skip


@settings(max_examples=120, deadline=None)
@given(STEPS)
def test_same_side_leaves_equal_the_definition_with_and_without_events(steps):
    w = WorkingOrders()
    orders: list[Order] = []
    for n, (op, pick, qty, buy, second, publish) in enumerate(steps):
        if op == "new" or not orders:
            o = Order(OrderInitialized(ClientOrderId(f"O-{n}"), SID, IIDS[second], 0, 0,
                                       OrderSide.BUY if buy else OrderSide.SELL, OrderType.LIMIT,
                                       Quantity(str(qty + 2), 0), price=Price("100.00", 2)))  # fmt: skip
            w.add(o)
            _apply(w, o, OrderSubmitted, publish)
            _apply(w, o, OrderAccepted, publish, venue_order_id=VenueOrderId(f"V-{n}"))
            orders.append(o)
        else:
            o = orders[pick % len(orders)]
            left = (o.quantity.raw - o.filled_qty.raw) // 10**9
            if op == "fill" and not o.status.is_closed:
                _apply(w, o, OrderFilled, publish, venue_order_id=o.venue_order_id, trade_id=TradeId(f"T-{n}"),
                       order_side=o.side, order_type=o.order_type, last_qty=Quantity(str(min(qty, left)), 0),
                       last_px=Price("100.00", 2), commission=Money("0", USDT))  # fmt: skip
            elif op == "cancel" and not o.status.is_closed:
                _apply(w, o, OrderCanceled, publish, venue_order_id=o.venue_order_id)
            elif op == "prune":
                w.prune()
        for iid in IIDS:
            for side in (OrderSide.BUY, OrderSide.SELL):
                for exclude in (None, *(o.client_order_id for o in orders[-3:])):
                    assert w.same_side_leaves_raw(iid, side, exclude) == _definition(w, iid, side, exclude)
