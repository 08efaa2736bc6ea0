"""The order state machine: every row of TRANSITIONS, every illegal pair, and random event sequences."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.model import (
    TRANSITIONS,
    ClientOrderId,
    InstrumentId,
    InvalidStateTransition,
    Money,
    Order,
    OrderInitialized,
    OrderSide,
    OrderStatus,
    OrderType,
    Quantity,
    StrategyId,
    TradeId,
    VenueOrderId,
)
from tradewire.model import events as ev
from tradewire.model.objects import USD, Price
from tradewire.model.orders import FILL, PREVIOUS

S = OrderStatus
COID = ClientOrderId("O-1")
SID = StrategyId("S-1")
IID = InstrumentId("ES.CME")
_trade = itertools.count(1)


def new_order() -> Order:
    init = OrderInitialized(COID, SID, IID, 1, 1, OrderSide.BUY, OrderType.LIMIT, Quantity(10, 0), price=Price("1", 0))
    return Order.from_init(init)


def make(kind: str, qty: int = 1):
    base = (COID, SID, IID, 2, 2)
    vid = VenueOrderId("V-1")
    if kind == FILL:
        return ev.OrderFilled(*base, vid, TradeId(f"T-{next(_trade)}"), OrderSide.BUY, OrderType.LIMIT,
                              Quantity(qty, 0), Price("1", 0), Money("0", USD))  # fmt: skip
    cls = ev.ORDER_EVENT_TYPES[kind]
    if kind in ("OrderDenied", "OrderRejected", "OrderModifyRejected", "OrderCancelRejected"):
        return cls(*base, reason="test")
    if kind == "OrderAccepted":
        return cls(*base, venue_order_id=vid)
    return cls(*base)


PATHS: dict[OrderStatus, list[tuple[str, int]]] = {
    S.INITIALIZED: [],
    S.DENIED: [("OrderDenied", 0)],
    S.SUBMITTED: [("OrderSubmitted", 0)],
    S.REJECTED: [("OrderSubmitted", 0), ("OrderRejected", 0)],
    S.ACCEPTED: [("OrderSubmitted", 0), ("OrderAccepted", 0)],
    S.TRIGGERED: [("OrderSubmitted", 0), ("OrderAccepted", 0), ("OrderTriggered", 0)],
    S.PARTIALLY_FILLED: [("OrderSubmitted", 0), ("OrderAccepted", 0), (FILL, 1)],
    S.PENDING_UPDATE: [("OrderSubmitted", 0), ("OrderAccepted", 0), ("OrderPendingUpdate", 0)],
    S.PENDING_CANCEL: [("OrderSubmitted", 0), ("OrderAccepted", 0), ("OrderPendingCancel", 0)],
    S.FILLED: [("OrderSubmitted", 0), ("OrderAccepted", 0), (FILL, 10)],
    S.CANCELED: [("OrderSubmitted", 0), ("OrderAccepted", 0), ("OrderCanceled", 0)],
    S.EXPIRED: [("OrderSubmitted", 0), ("OrderAccepted", 0), ("OrderExpired", 0)],
}
# the status a PREVIOUS transition returns to, for the paths above
PREVIOUS_OF = {S.PENDING_UPDATE: S.ACCEPTED, S.PENDING_CANCEL: S.ACCEPTED}


def order_in(status: OrderStatus) -> Order:
    o = new_order()
    for kind, qty in PATHS[status]:
        o.apply(make(kind, qty))
    assert o.status is status
    return o


KINDS = sorted({*ev.ORDER_EVENT_TYPES} - {"OrderInitialized", "OrderFilled"} | {FILL})


def test_paths_cover_every_status():
    assert set(PATHS) == set(OrderStatus)


@pytest.mark.parametrize("row", sorted(TRANSITIONS.items(), key=str), ids=lambda r: f"{r[0][0].name}-{r[0][1]}")
def test_every_transition_row(row):
    (frm, kind), to = row
    o = order_in(frm)
    o.apply(make(kind, 1))
    if to == FILL:
        assert o.status is (S.FILLED if o.filled_qty == o.quantity else S.PARTIALLY_FILLED)
    elif to == PREVIOUS:
        assert o.status is PREVIOUS_OF.get(frm, frm)
    else:
        assert o.status is to
    assert o.events[-1].__class__.__name__ == kind


@pytest.mark.parametrize(
    "pair",
    [(s, k) for s in OrderStatus for k in KINDS if (s, k) not in TRANSITIONS],
    ids=lambda p: f"{p[0].name}-{p[1]}",
)
def test_every_illegal_pair_raises_and_leaves_order_unchanged(pair):
    frm, kind = pair
    o = order_in(frm)
    n, filled = len(o.events), o.filled_qty
    with pytest.raises(InvalidStateTransition):
        o.apply(make(kind, 1))
    assert o.status is frm and len(o.events) == n and o.filled_qty == filled


def test_fill_to_filled_and_overfill_refused():
    o = order_in(S.PARTIALLY_FILLED)
    with pytest.raises(ValueError, match="overfill"):
        o.apply(make(FILL, 10))
    o.apply(make(FILL, 9))
    assert o.status is S.FILLED and o.leaves_qty.raw == 0


def test_cancel_rejected_returns_to_partially_filled():
    o = order_in(S.PARTIALLY_FILLED)
    o.apply(make("OrderPendingCancel"))
    o.apply(make("OrderCancelRejected"))
    assert o.status is S.PARTIALLY_FILLED


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(KINDS), st.integers(1, 6)), max_size=25))
def test_random_sequences_never_reach_an_illegal_state(seq):
    o = new_order()
    for kind, qty in seq:
        before = (o.status, len(o.events), o.filled_qty.raw)
        try:
            o.apply(make(kind, qty))
        except (InvalidStateTransition, ValueError):
            assert (o.status, len(o.events), o.filled_qty.raw) == before
            continue
        assert (before[0], kind) in TRANSITIONS
        if before[0].is_closed:  # the only event a closed order takes: a late cancel reject on FILLED
            assert before[0] is S.FILLED and kind == "OrderCancelRejected" and o.status is S.FILLED
        assert 0 <= o.filled_qty.raw <= o.quantity.raw
        assert (o.status is S.FILLED) == (o.filled_qty.raw == o.quantity.raw)
