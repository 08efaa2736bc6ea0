"""Book metrics: weighted mid, imbalances, OFI, liquidity added/removed per level per interval."""

from __future__ import annotations

import math

import pytest

from tradewire.data.book import OrderBook
from tradewire.model.data import OrderBookDelta
from tradewire.model.enums import BookAction, BookSide
from tradewire.model.identifiers import InstrumentId
from tradewire.model.objects import Price, Quantity
from tradewire.orderflow.book_metrics import BookFlow

S = 1_000_000_000
IID = InstrumentId("TEST.SIM")
B, A = BookSide.BID, BookSide.ASK


def delta(side, price: str, size: str, ts: int = 0, action=None, flags: int = 0) -> OrderBookDelta:
    q = Quantity.from_str(size)
    act = action or (BookAction.UPDATE if q.raw else BookAction.DELETE)
    return OrderBookDelta(IID, act, side, Price.from_str(price), q, flags, 0, ts, ts)


def batch(*deltas: OrderBookDelta) -> list[OrderBookDelta]:
    deltas[-1].flags |= OrderBookDelta.F_LAST
    return list(deltas)


def apply(book: OrderBook, flow: BookFlow, deltas: list[OrderBookDelta]):
    book.apply_deltas(deltas)  # the data engine applies the batch before publishing it
    flow.on_deltas(deltas)
    flow.on_batch(book, deltas[-1].ts_event)
    return flow.top


@pytest.fixture
def setup():
    book = OrderBook(IID, 2, 0)
    flow = BookFlow(depth=2, decay_bps=5.0, interval_ns=S)
    top = apply(
        book,
        flow,
        batch(
            delta(B, "100.00", "3"),
            delta(B, "99.00", "5"),
            delta(B, "98.00", "100"),
            delta(A, "101.00", "1"),
            delta(A, "102.00", "1"),
            delta(A, "103.00", "50"),
        ),
    )
    return book, flow, top


def test_spread_mid_weighted_mid_and_imbalances(setup):
    _, _, top = setup
    assert top.spread_raw == 1 * S and top.mid2_raw == 201 * S
    # I = 3 / (3 + 1) = 0.75 -> 0.75 * 101 + 0.25 * 100
    assert top.weighted_mid == pytest.approx(100.75)
    assert top.tob_imbalance == pytest.approx((3 - 1) / (3 + 1))
    # top 2 levels: bids 3 + 5, asks 1 + 1 (the 3rd levels are outside the depth)
    assert top.depth_imbalance == pytest.approx((8 - 2) / 10)
    mid = 100.5
    w = [math.exp(-abs(p - mid) / mid * 1e4 / 5.0) for p in (100, 99, 101, 102)]
    wb, wa = 3 * w[0] + 5 * w[1], 1 * w[2] + 1 * w[3]
    assert top.weighted_depth_imbalance == pytest.approx((wb - wa) / (wb + wa))


def test_no_figures_for_one_sided_or_crossed_book():
    book = OrderBook(IID, 2, 0)
    flow = BookFlow()
    assert apply(book, flow, batch(delta(B, "100.00", "1"))) is None
    assert apply(book, flow, batch(delta(A, "99.00", "1"))) is None  # crossed


def test_order_flow_imbalance_cont_kukanov_stoikov(setup):
    book, flow, _ = setup
    # bid size 3 -> 5 at the same price: e = qb - qb' = +2; ask unchanged: -qa + qa' = 0
    apply(book, flow, batch(delta(B, "100.00", "5", ts=1)))
    # ask price improves 101 -> 100.5 (size 4): a < a' so e = -qa = -4 (qa' not added back)
    apply(book, flow, batch(delta(A, "100.50", "4", ts=2)))
    # bid price drops (100 deleted, best bid 99 x 5): b < b' so e = -qb' = -5
    apply(book, flow, batch(delta(B, "100.00", "0", ts=3)))
    iv = flow.close_interval()
    assert iv.ofi_raw == (2 - 4 - 5) * S


def test_liquidity_added_removed_and_traded_per_level(setup):
    book, flow, _ = setup
    flow.close_interval()  # the set-up batch is in the first interval
    flow.on_trade(S, 100 * S, 2 * S, -1)  # a sell of 2 hits the 100 bid
    apply(book, flow, batch(delta(B, "100.00", "1", ts=S), delta(A, "101.00", "4", ts=S)))
    apply(book, flow, batch(delta(B, "99.00", "0", ts=S + 5), delta(A, "104.00", "2", ts=S + 5)))
    apply(book, flow, batch(delta(A, "101.00", "7", ts=2 * S)))  # next interval: closes [1 s, 2 s)
    iv = flow.intervals[-1]
    assert (iv.start_ns, iv.end_ns) == (S, 2 * S)
    assert iv.bids == {100 * S: (0, 2 * S, 2 * S), 99 * S: (0, 5 * S, 0)}
    assert iv.asks == {101 * S: (3 * S, 0, 0), 104 * S: (2 * S, 0, 0)}
    assert (iv.added_raw, iv.removed_raw, iv.traded_raw) == (5 * S, 7 * S, 2 * S)


def test_snapshot_and_clear_reset_state_without_counting_liquidity():
    book = OrderBook(IID, 2, 0)
    flow = BookFlow()
    snap = OrderBookDelta.F_SNAPSHOT
    apply(
        book,
        flow,
        batch(
            delta(B, "0", "0", action=BookAction.CLEAR, flags=snap),
            delta(B, "10.00", "4", action=BookAction.ADD, flags=snap),
            delta(A, "11.00", "6", action=BookAction.ADD, flags=snap),
        ),
    )
    assert flow.bids == {10 * S: 4 * S} and flow.asks == {11 * S: 6 * S}
    iv = flow.close_interval()
    assert (iv.added_raw, iv.removed_raw) == (0, 0)


def test_bad_parameters():
    with pytest.raises(ValueError):
        BookFlow(depth=0)
    with pytest.raises(ValueError):
        BookFlow(decay_bps=0)
