"""WorkingOrders keeps the working leaves per instrument and side summed: always what a walk over the tracked
open orders gives, through fills, quantity updates, cancels, rejections and prunes in any order."""

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
    OrderRejected,
    OrderSide,
    OrderSubmitted,
    OrderType,
    OrderUpdated,
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


def _walk(w: WorkingOrders, iid: InstrumentId, side: OrderSide, exclude: ClientOrderId | None) -> int:
    """The definition: leaves of the tracked open orders of ``iid`` on ``side``, ``exclude`` left out."""
    return sum(
        o.quantity.raw - o.filled_qty.raw
        for c, o in w.orders.items()
        if o.instrument_id == iid and o.side is side and c != exclude and not o.status.is_closed
    )


def _apply(w: WorkingOrders, order: Order, cls: type, **kw) -> None:
    ev = cls(order.client_order_id, SID, order.instrument_id, 1, 1, **kw)
    order.apply(ev)
    w.on_event(ev)


def _fill(w: WorkingOrders, order: Order, n: int, qty: int) -> None:
    _apply(w, order, OrderFilled, venue_order_id=VenueOrderId(f"V-{order.client_order_id}"),
           trade_id=TradeId(f"T-{n}"), order_side=order.side, order_type=order.order_type,
           last_qty=Quantity(str(qty), 0), last_px=Price("100.00", 2), commission=Money("0", USDT))  # fmt: skip


STEPS = st.lists(
    st.tuples(st.sampled_from(["new", "fill", "update", "cancel", "reject", "prune"]), st.integers(0, 50),
              st.integers(1, 9), st.booleans(), st.booleans()),
    min_size=1, max_size=60,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(STEPS)
def test_the_kept_sum_equals_a_walk_over_the_open_orders(steps):
    w = WorkingOrders()
    orders: list[Order] = []
    for n, (op, pick, qty, buy, second) in enumerate(steps):
        if op == "new" or not orders:
            iid = IIDS[second]
            side = OrderSide.BUY if buy else OrderSide.SELL
            o = Order(OrderInitialized(ClientOrderId(f"O-{n}"), SID, iid, 0, 0, side, OrderType.LIMIT,
                                       Quantity(str(qty + 1), 0), price=Price("100.00", 2)))  # fmt: skip
            w.add(o)
            w.on_event(o.init)
            _apply(w, o, OrderSubmitted)
            if op != "reject":
                _apply(w, o, OrderAccepted, venue_order_id=VenueOrderId(f"V-{o.client_order_id}"))
            orders.append(o)
        else:
            o = orders[pick % len(orders)]
            if o.status.is_closed:
                pass
            elif op == "fill" and o.status.name in ("ACCEPTED", "PARTIALLY_FILLED"):
                _fill(w, o, n, min(qty, o.quantity.raw // 10**9 - o.filled_qty.raw // 10**9))
            elif op == "update" and o.status.name == "ACCEPTED":
                _apply(w, o, OrderUpdated, quantity=Quantity(str(qty), 0), price=None, trigger_price=None)
            elif op == "cancel" and o.status.name in ("ACCEPTED", "PARTIALLY_FILLED"):
                _apply(w, o, OrderCanceled, venue_order_id=o.venue_order_id)
            elif op == "reject" and o.status.name == "SUBMITTED":
                _apply(w, o, OrderRejected, reason="no")
            elif op == "prune":
                w.prune()
        for iid in IIDS:
            for side in (OrderSide.BUY, OrderSide.SELL):
                assert w.same_side_leaves_raw(iid, side, None) == _walk(w, iid, side, None)
                for o in orders:
                    assert w.same_side_leaves_raw(iid, side, o.client_order_id) == _walk(
                        w, iid, side, o.client_order_id
                    )
    assert all(not o.status.is_closed for o in w.orders.values())  # closed orders were dropped on their event


def test_an_order_added_twice_is_summed_once_and_a_filled_order_leaves_nothing():
    w = WorkingOrders()
    o = Order(OrderInitialized(ClientOrderId("O-1"), SID, IIDS[0], 0, 0, OrderSide.BUY, OrderType.LIMIT,
                               Quantity("5", 0), price=Price("100.00", 2)))  # fmt: skip
    w.add(o)
    w.add(o)
    assert w.same_side_leaves_raw(IIDS[0], OrderSide.BUY, None) == 5 * 10**9
    _apply(w, o, OrderSubmitted)
    _apply(w, o, OrderAccepted, venue_order_id=VenueOrderId("V-1"))
    _fill(w, o, 1, 2)
    assert w.same_side_leaves_raw(IIDS[0], OrderSide.BUY, None) == 3 * 10**9
    assert w.same_side_leaves_raw(IIDS[0], OrderSide.SELL, None) == 0
    _fill(w, o, 2, 3)
    assert w.orders == {} and w.same_side_leaves_raw(IIDS[0], OrderSide.BUY, None) == 0
