"""OrderBook: deltas, queries, book walk, and a property test against a naive reference book.

Every test runs on both level stores: the pure-Python core and the compiled one (skipped, with the
reason shown, when the extension is not built).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.data.book import BookType, CompiledOrderBook, OrderBook, OrderBookDepth, PurePythonOrderBook
from tradewire.model.data import OrderBookDelta, QuoteTick
from tradewire.model.enums import BookAction, BookSide, OrderSide
from tradewire.model.identifiers import InstrumentId
from tradewire.model.objects import Price, Quantity

IID = InstrumentId("BTCUSDT.BINANCE")
F_LAST = OrderBookDelta.F_LAST

IMPLS = pytest.mark.parametrize(
    "book_cls",
    [
        pytest.param(PurePythonOrderBook, id="python"),
        pytest.param(
            CompiledOrderBook,
            id="compiled",
            marks=pytest.mark.skipif(CompiledOrderBook is None, reason="compiled book core not built"),
        ),
    ],
)


def delta(action, side, price, size, flags=F_LAST, seq=0, ts=0):
    return OrderBookDelta(IID, action, side, Price(price, 2), Quantity(size, 3), flags, seq, ts, ts + 1)


def sample_book(book_cls) -> OrderBook:
    book = book_cls(IID, 2, 3)
    for p, s in (("100.00", "1"), ("99.50", "2"), ("99.00", "3")):
        book.apply_delta(delta(BookAction.ADD, BookSide.BID, p, s, flags=0))
    for p, s in (("101.00", "1.5"), ("101.50", "0.5"), ("102.00", "4")):
        book.apply_delta(delta(BookAction.ADD, BookSide.ASK, p, s, flags=0))
    book.apply_delta(delta(BookAction.UPDATE, BookSide.ASK, "103.00", "1", seq=7, ts=55))
    return book


@IMPLS
def test_top_of_book_and_levels(book_cls):
    book = sample_book(book_cls)
    assert book.best_bid_price() == Price("100.00", 2)
    assert book.best_ask_price() == Price("101.00", 2)
    assert book.best_bid_size() == Quantity("1", 3)
    assert book.best_ask_size() == Quantity("1.5", 3)
    assert book.spread() == Price("1.00", 2)
    assert book.midpoint() == Decimal("100.5")
    assert [str(lv.price) for lv in book.bids()] == ["100.00", "99.50", "99.00"]
    assert [str(lv.price) for lv in book.asks(2)] == ["101.00", "101.50"]
    assert book.bids_raw(0) == [] and book.asks_raw(0) == []
    assert [str(lv.size) for lv in book.cumulative_depth(BookSide.ASK)] == ["1.500", "2.000", "6.000", "7.000"]
    assert book.volume_within(BookSide.BID, Price("99.50", 2)) == Quantity("3", 3)
    assert book.volume_within(BookSide.ASK, Price("101.50", 2)) == Quantity("2", 3)
    assert (book.sequence, book.ts_event, book.ts_init, book.in_batch) == (7, 55, 56, False)
    assert not book.is_crossed() and not book.is_locked()


@IMPLS
def test_update_delete_clear_and_batch_flag(book_cls):
    book = sample_book(book_cls)
    book.apply_delta(delta(BookAction.UPDATE, BookSide.BID, "100.00", "0.25", flags=0))
    assert book.best_bid_size() == Quantity("0.25", 3)
    assert book.in_batch
    book.apply_delta(delta(BookAction.DELETE, BookSide.BID, "100.00", "0"))
    assert book.best_bid_price() == Price("99.50", 2)
    assert not book.in_batch
    book.apply_delta(delta(BookAction.DELETE, BookSide.BID, "42.00", "0"))  # absent level: no-op
    assert book.bid_level_count == 2
    book.clear_side(BookSide.ASK)
    book.check_integrity()
    assert book.best_ask_raw() is None and book.best_bid_price() == Price("99.50", 2)
    book.apply_delta(delta(BookAction.ADD, BookSide.ASK, "100.50", "1"))
    book.apply_delta(delta(BookAction.CLEAR, BookSide.BID, "0", "0"))
    book.check_integrity()
    assert book.best_bid_raw() is None and book.best_ask_raw() is None
    assert book.spread() is None and book.midpoint() is None


@IMPLS
def test_crossed_and_locked(book_cls):
    book = sample_book(book_cls)
    book.apply_delta_raw(BookSide.BID, Price("101.00", 2).raw, 10**9)
    assert book.is_locked() and not book.is_crossed()
    book.apply_delta_raw(BookSide.BID, Price("101.20", 2).raw, 10**9)
    assert book.is_crossed()
    assert book.spread() == Price("-0.20", 2)


@IMPLS
def test_simulate_fill_walks_levels_exactly(book_cls):
    book = sample_book(book_cls)
    # buy 2.5: 1.5 @ 101.00 + 0.5 @ 101.50 + 0.5 @ 102.00 = 151.5 + 50.75 + 51 = 253.25 -> 101.3
    est = book.simulate_fill(OrderSide.BUY, Quantity("2.5", 3))
    assert est.fully_filled
    assert est.avg_px == Decimal("101.3")
    assert est.worst_px == Price("102.00", 2)
    assert est.slippage == Decimal("0.3")
    assert est.slippage_bps == Decimal("0.3") / Decimal("101") * 10_000
    # sell 10 against 6 of bids: 1@100 + 2@99.5 + 3@99 = 100 + 199 + 297 = 596 -> 596/6 (partial fill)
    est = book.simulate_fill(OrderSide.SELL, Quantity("10", 3))
    assert not est.fully_filled
    assert est.filled == Quantity("6", 3)
    assert est.avg_px == Decimal(596) / Decimal(6)
    assert est.notional_raw == 596 * 10**18
    assert est.slippage == Decimal(100) - Decimal(596) / Decimal(6)
    assert book.get_avg_px_for_quantity(OrderSide.BUY, Quantity("1", 3)) == Decimal("101")
    with pytest.raises(ValueError, match="positive"):
        book.simulate_fill(OrderSide.BUY, Quantity("0", 3))
    empty = book_cls(IID, 2, 3)
    assert empty.simulate_fill(OrderSide.BUY, Quantity("1", 3)).avg_px is None


@IMPLS
def test_depth_snapshot_object(book_cls):
    book = sample_book(book_cls)
    depth = book.to_depth(2)
    assert isinstance(depth, OrderBookDepth)
    assert [str(lv.price) for lv in depth.bids] == ["100.00", "99.50"]
    assert depth.best_ask.price == Price("101.00", 2)
    assert (depth.sequence, depth.ts_event, depth.ts_init) == (7, 55, 56)
    assert len(book.to_depth().asks) == 4


@IMPLS
def test_l1_book_from_quotes_and_type_guards(book_cls):
    l1 = book_cls(IID, 2, 3, BookType.L1_MBP)
    q = QuoteTick(IID, Price("10.00", 2), Price("10.05", 2), Quantity("1", 3), Quantity("2", 3), 5, 6)
    l1.update_quote_tick(q)
    q2 = QuoteTick(IID, Price("10.01", 2), Price("10.04", 2), Quantity("3", 3), Quantity("4", 3), 7, 8)
    l1.update_quote_tick(q2)
    assert (l1.best_bid_price(), l1.best_ask_price()) == (Price("10.01", 2), Price("10.04", 2))
    assert l1.bid_level_count == 1 and l1.ask_level_count == 1 and l1.ts_event == 7
    with pytest.raises(ValueError, match="L2_MBP"):
        l1.apply_delta(delta(BookAction.ADD, BookSide.BID, "1", "1"))
    l2 = book_cls(IID, 2, 3)
    with pytest.raises(ValueError, match="L1_MBP"):
        l2.update_quote_tick(q)
    with pytest.raises(ValueError, match="positive size"):
        l2.apply_delta(delta(BookAction.ADD, BookSide.BID, "1", "0"))
    with pytest.raises(ValueError, match="side"):
        l2.apply_delta_raw(3, 1, 1)


@IMPLS
def test_snapshot_raw_replaces_book(book_cls):
    book = sample_book(book_cls)
    book.apply_snapshot_raw([(5, 1), (6, 0)], [(9, 2)], sequence=99, ts_event=1, ts_init=2)
    assert book.bids_raw() == [(5, 1)] and book.asks_raw() == [(9, 2)] and book.sequence == 99
    with pytest.raises(ValueError, match="negative"):
        book.apply_snapshot_raw([(5, -1)], [])


# --------------------------------------------------------------------------- property test

ops = st.lists(
    st.tuples(
        st.sampled_from([1, 2]),  # side
        st.integers(min_value=1, max_value=60),  # price in ticks
        st.integers(min_value=0, max_value=5),  # size (0 = delete)
        st.integers(min_value=0, max_value=40),  # 0 -> a CLEAR
    ),
    max_size=300,
)


@IMPLS
@settings(max_examples=150, deadline=None)
@given(ops)
def test_book_matches_naive_reference(book_cls, operations):
    """Any valid delta sequence keeps sides sorted, sizes positive and equal to dict-based reference."""
    book = book_cls(IID, 2, 3)
    ref = {1: {}, 2: {}}
    tick = 10**7  # 0.01 in raws
    for side, p, s, c in operations:
        if c == 0:
            book.apply_delta(delta(BookAction.CLEAR, BookSide.BID, "0", "0"))
            ref = {1: {}, 2: {}}
            continue
        price = Price.from_raw(p * tick, 2)
        size = Quantity.from_raw(s * 10**9, 3)
        action = BookAction.DELETE if s == 0 else BookAction.UPDATE
        book.apply_delta(OrderBookDelta(IID, action, BookSide(side), price, size, F_LAST, 0, 0, 0))
        if s:
            ref[side][p * tick] = s * 10**9
        else:
            ref[side].pop(p * tick, None)
        book.check_integrity()
        exp_bids = sorted(ref[1].items(), reverse=True)
        exp_asks = sorted(ref[2].items())
        assert book.bids_raw() == exp_bids
        assert book.asks_raw() == exp_asks
        assert book.best_bid_raw() == (exp_bids[0][0] if exp_bids else None)
        assert book.best_ask_raw() == (exp_asks[0][0] if exp_asks else None)
        assert (book.top_bid_raw, book.top_ask_raw) == (book.best_bid_raw(), book.best_ask_raw())
        assert all(sz > 0 for _, sz in exp_bids + exp_asks)
        prices = [lv[0] for lv in book.bids_raw()]
        assert prices == sorted(prices, reverse=True)
