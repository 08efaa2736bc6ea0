"""Random command/fill sequences through the OMS: no crash, legal states, positions match fills."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tradewire.model import TRANSITIONS, OrderSide, OrderStatus, OrderType, Quantity
from tradewire.model.commands import SubmitOrder
from tradewire.model.orders import FILL

ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("market"), st.booleans(), st.integers(1, 5)),
        st.tuples(st.just("limit"), st.booleans(), st.integers(1, 5)),
        st.tuples(st.just("stop"), st.booleans(), st.integers(1, 5)),
        st.tuples(st.just("fill"), st.integers(0, 30), st.integers(1, 5)),
        st.tuples(st.just("cancel"), st.integers(0, 30), st.just(0)),
        st.tuples(st.just("modify"), st.integers(0, 30), st.integers(1, 8)),
        st.tuples(st.just("quote"), st.integers(90, 110), st.just(0)),
    ),
    max_size=40,
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)  # make_rig is a class
@given(ACTIONS)
@example([("limit", False, 4), ("fill", 0, 3), ("modify", 0, 3)])  # modified down to the filled qty: FILLED
def test_random_sequences_keep_oms_and_portfolio_consistent(make_rig, actions):
    from tradewire.model import QuoteTick

    rig = make_rig()
    orders = []
    for kind, a, b in actions:
        if kind in ("market", "limit", "stop"):
            side = OrderSide.BUY if a else OrderSide.SELL
            qty = Quantity(b, 3)
            if kind == "market":
                o = rig.factory.market(rig.inst.id, side, qty)
            elif kind == "limit":
                o = rig.factory.limit(rig.inst.id, side, qty, rig.px("100.00"))
            else:
                o = rig.factory.stop_market(rig.inst.id, side, qty, rig.px("105.00" if a else "95.00"))
            rig.engine.execute(SubmitOrder(rig.sid, rig.inst.id, 0, o))
            orders.append(o.client_order_id)
        elif orders and kind == "fill":
            o = rig.cache.orders[orders[a % len(orders)]]
            # the venue may send anything, including fills of closed orders and overfills: the OMS must cope
            rig.client.fill(o, Quantity(b, 3), rig.px("100.00"))
        elif orders and kind == "cancel":
            rig.engine.cancel(rig.cache.orders[orders[a % len(orders)]])
        elif orders and kind == "modify":
            rig.engine.modify(rig.cache.orders[orders[a % len(orders)]], quantity=Quantity(b, 3))
        elif kind == "quote":
            rig.client.market_px[rig.inst.id] = rig.px(f"{a}.00")
            ts = rig.clock.timestamp_ns()
            rig.engine.on_quote_tick(QuoteTick(rig.inst.id, rig.px(f"{a}.00"), rig.px(f"{a}.01"), Quantity(5, 3),
                                               Quantity(5, 3), ts, ts))  # fmt: skip
    net = 0
    for o in rig.cache.orders.values():
        # every step of every order's history is a row of the transition table
        status = OrderStatus.INITIALIZED
        for ev in o.events[1:]:
            kind = type(ev).__name__
            if kind == "OrderInitialized":  # released emulated order
                status = OrderStatus.INITIALIZED
                continue
            assert (status, kind) in TRANSITIONS, (status, kind)
            status = _replay_status(o, ev, status)
        assert 0 <= o.filled_qty.raw <= o.quantity.raw
        net += o.filled_qty.raw if o.side is OrderSide.BUY else -o.filled_qty.raw
    assert rig.portfolio.net_position_raw(rig.inst.id) == net
    # base balance moves with fills exactly
    assert rig.portfolio.balance_total(rig.inst.base_currency).as_decimal() == Decimal(net) / 10**9
    # reservations: open buy limits lock notional + 0.1 % taker fee in USDT, open sell limits lock the BTC
    quote_lock = Decimal(0)
    base_lock = Decimal(0)
    for o in rig.cache.orders.values():
        if o.order_type is OrderType.LIMIT and (o.is_open or o.status is OrderStatus.SUBMITTED):
            if o.side is OrderSide.BUY:
                quote_lock += o.leaves_qty.as_decimal() * Decimal("100.00") * Decimal("1.001")
            else:
                base_lock += o.leaves_qty.as_decimal()
    assert rig.portfolio.balance_locked(rig.inst.quote_currency).as_decimal() == quote_lock
    assert rig.portfolio.balance_locked(rig.inst.base_currency).as_decimal() == base_lock


def _replay_status(order, ev, status):
    """Status after ``ev`` as the table says (fills resolve by the order's running filled quantity)."""
    target = TRANSITIONS[(status, type(ev).__name__)]
    if target == FILL:
        idx = order.events.index(ev)
        filled = sum(e.last_qty.raw for e in order.events[: idx + 1] if type(e).__name__ == "OrderFilled")
        qty = order.events[0].quantity.raw  # the quantity in force at the fill, not today's (a later modify)
        for e in order.events[: idx + 1]:
            if type(e).__name__ in ("OrderInitialized", "OrderUpdated") and e.quantity is not None:
                qty = e.quantity.raw
        return OrderStatus.FILLED if filled == qty else OrderStatus.PARTIALLY_FILLED
    if target == "previous":
        return _previous(order, ev)
    return target


def _previous(order, ev):
    idx = order.events.index(ev)
    # the status before the latest pending request, i.e. the last non-pending status reached
    status = OrderStatus.INITIALIZED
    prev = status
    for e in order.events[1:idx]:
        kind = type(e).__name__
        if kind == "OrderInitialized":
            status = prev = OrderStatus.INITIALIZED
            continue
        nxt = _replay_status(order, e, status)
        if nxt not in (OrderStatus.PENDING_UPDATE, OrderStatus.PENDING_CANCEL):
            prev = nxt
        status = nxt
    return prev
