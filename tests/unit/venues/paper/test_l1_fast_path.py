"""The L1 shortcuts of the paper venue give the same results as the general L2 book walk.

The oracle is the venue itself fed the same top of book as one-level L2 batches (CLEAR, then one ADD per
side with F_LAST): that path walks the `SortedDict` levels and retries every working order, so it shares
none of the L1 shortcuts (`PaperBook.take_levels` on the L1 mirror, best prices from plain ints, waiting
market orders skipped while their side has nothing left).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.model import BookAction, BookSide, InstrumentId, OrderBookDelta, OrderStatus, Price, Quantity
from tradewire.venues.paper import BookLevel, PaperVenueConfig
from tradewire.venues.paper.book import PaperBook

BTC_ID = InstrumentId("BTCUSDT.PAPER")


def _as_l2_batch(q):
    ts = q.ts_event
    zero_px, zero_qty = Price.from_raw(0, 2), Quantity.from_raw(0, 5)
    out = [OrderBookDelta(BTC_ID, BookAction.CLEAR, BookSide.BID, zero_px, zero_qty, 0, 0, ts, ts)]
    if q.bid_size.raw > 0:
        out.append(OrderBookDelta(BTC_ID, BookAction.ADD, BookSide.BID, q.bid_price, q.bid_size, 0, 0, ts, ts))
    if q.ask_size.raw > 0:
        out.append(OrderBookDelta(BTC_ID, BookAction.ADD, BookSide.ASK, q.ask_price, q.ask_size, 0, 0, ts, ts))
    out[-1].flags |= OrderBookDelta.F_LAST
    return out


def _run(harness, btc, quotes, as_l2: bool, orders_per_quote: int, qty: str):
    config = PaperVenueConfig(book_level=BookLevel.AUTO if as_l2 else BookLevel.L1)
    h = harness([btc], config=config)
    submitted = []
    for i, q in enumerate(quotes):
        if as_l2:
            h.client.process_order_book_deltas(_as_l2_batch(q))
        else:
            h.client.process_quote_tick(q)
        for k in range(orders_per_quote):
            side = "buy" if (i + k) % 2 == 0 else "sell"
            # every fifth order is an IOC, every seventh a marketable limit: both end or rest at once
            if k % 5 == 4:
                submitted.append(h.submit(BTC_ID, side, "market", qty, tif="ioc"))
            elif k % 7 == 6:
                px = q.ask_price if side == "buy" else q.bid_price
                submitted.append(h.submit(BTC_ID, side, "limit", qty, price=str(px)))
            else:
                submitted.append(h.submit(BTC_ID, side, "market", qty))
    events = [e.to_dict() for e in h.events]
    return h, submitted, events


def test_l1_quotes_fill_exactly_like_one_level_l2_batches(binance_stream, btc, harness):
    quotes = [p for kind, _, p in binance_stream.events if kind == "quote"][:120]
    assert len(quotes) == 120
    # 0.3 BTC per order is more than many recorded top sizes: orders wait and fill over later quotes
    h1, orders1, ev1 = _run(harness, btc, quotes, as_l2=False, orders_per_quote=8, qty="0.30000")
    h2, orders2, ev2 = _run(harness, btc, quotes, as_l2=True, orders_per_quote=8, qty="0.30000")
    assert h1.client.matching_engine(BTC_ID).book.is_l1
    assert not h2.client.matching_engine(BTC_ID).book.is_l1
    kinds = {e["type"] for e in ev1}
    assert {"OrderAccepted", "OrderFilled", "OrderCanceled"} <= kinds
    working = [o for o in orders1 if h1.client.matching_engine(BTC_ID).working.get(o.client_order_id)]
    assert working, "the scenario must leave market orders waiting for liquidity"
    assert ev1 == ev2
    for o1, o2 in zip(orders1, orders2, strict=True):
        h1.replay(o1)
        h2.replay(o2)
        assert (o1.status, o1.filled_qty, o1.avg_px) == (o2.status, o2.filled_qty, o2.avg_px)


def test_waiting_market_order_fills_once_its_side_shows_size_again(binance_stream, btc, harness):
    quotes = [p for kind, _, p in binance_stream.events if kind == "quote"][:40]
    h = harness([btc], config=PaperVenueConfig(book_level=BookLevel.L1))
    h.client.process_quote_tick(quotes[0])
    ask_size = quotes[0].ask_size
    first = h.submit(BTC_ID, "buy", "market", str(ask_size))
    waiting = h.submit(BTC_ID, "buy", "market", "0.00100")
    assert first.client_order_id not in h.client.matching_engine(BTC_ID).working
    assert [type(e).__name__ for e in h.of(waiting)] == ["OrderAccepted"]
    h.client.process_quote_tick(quotes[1])
    fills = h.of(waiting, "OrderFilled")
    assert len(fills) == 1 and fills[0].last_px == quotes[1].ask_price and str(fills[0].last_qty) == "0.00100"
    assert h.replay(waiting).status is OrderStatus.FILLED


def test_fill_reports_are_built_from_the_recorded_fills(binance_stream, btc, harness):
    quotes = [p for kind, _, p in binance_stream.events if kind == "quote"][:3]
    h = harness([btc], config=PaperVenueConfig(book_level=BookLevel.L1))
    h.client.process_quote_tick(quotes[0])
    order = h.submit(BTC_ID, "sell", "market", "0.01000")
    fill = h.of(order, "OrderFilled")[0]
    (report,) = h.client.generate_fill_reports(0)
    assert type(report).__name__ == "FillReport"
    assert (report.account_id, report.instrument_id, report.venue_order_id, report.trade_id) == (
        fill.account_id, fill.instrument_id, fill.venue_order_id, fill.trade_id,
    )  # fmt: skip
    assert (report.order_side, report.last_qty, report.last_px, report.commission) == (
        fill.order_side, fill.last_qty, fill.last_px, fill.commission,
    )  # fmt: skip
    assert (report.liquidity_side, report.ts_event, report.ts_init, report.client_order_id) == (
        fill.liquidity_side, fill.ts_event, fill.ts_init, fill.client_order_id,
    )  # fmt: skip
    assert h.client.generate_fill_reports(fill.ts_event + 1) == []
    # a restored venue holds the same reports, and later fills add to them in order
    snap = h.client.snapshot()
    h2 = harness([btc], config=PaperVenueConfig(book_level=BookLevel.L1))
    h2.client.restore(snap)
    h2._n = h._n  # continue the client order ids (a duplicate id would be rejected)
    assert h2.client.generate_fill_reports(0) == [report]
    h2.client.process_quote_tick(quotes[1])
    h2.submit(BTC_ID, "buy", "market", "0.01000")
    reports = h2.client.generate_fill_reports(0)
    assert len(reports) == 2 and reports[0] == report and reports[1].last_px == quotes[1].ask_price
    assert h2.client.snapshot()["fills"][0] == snap["fills"][0]


_sizes = st.integers(min_value=0, max_value=5_000_000)
_prices = st.integers(min_value=1, max_value=10_000).map(lambda t: t * 10_000_000)


def _l2_twin(bid: int, bid_size: int, ask: int, ask_size: int) -> PaperBook:
    """The same top of book built from L2 deltas (sorted levels, no L1 mode)."""
    book = PaperBook()
    for side, px, size in ((BookSide.BID, bid, bid_size), (BookSide.ASK, ask, ask_size)):
        if size > 0:
            book.apply_delta(OrderBookDelta(BTC_ID, BookAction.ADD, side, Price.from_raw(px, 2),
                                            Quantity.from_raw(size, 5), 0, 1, 0, 0))  # fmt: skip
    return book


def _same_answers(l1: PaperBook, l2: PaperBook, probe_px: list[int]) -> None:
    assert l1.has_levels() == l2.has_levels()
    assert (l1.best_bid_raw(), l1.best_ask_raw()) == (l2.best_bid_raw(), l2.best_ask_raw())
    for px in probe_px:
        assert (l1.displayed(True, px), l1.displayed(False, px)) == (l2.displayed(True, px), l2.displayed(False, px))
    for take_asks in (True, False):
        for limit in (None, *probe_px):
            assert list(l1.liquidity(take_asks, limit)) == list(l2.liquidity(take_asks, limit))


@settings(max_examples=150, deadline=None)
@given(bid=_prices, spread=st.integers(min_value=0, max_value=20), bid_size=_sizes, ask_size=_sizes,
       takes=st.lists(st.tuples(st.booleans(), st.integers(min_value=1, max_value=3_000_000),
                                st.one_of(st.none(), _prices)), max_size=8))  # fmt: skip
def test_l1_mode_answers_like_the_same_book_built_from_deltas(bid, spread, bid_size, ask_size, takes):
    ask = bid + spread * 10_000_000
    book = PaperBook()
    book.apply_delta(OrderBookDelta(BTC_ID, BookAction.ADD, BookSide.BID, Price.from_raw(bid - 10_000_000, 2),
                                    Quantity.from_raw(7, 5), 0, 1, 0, 0))  # fmt: skip
    book.set_top(bid, bid_size, ask, ask_size)  # replaces the L2 level above
    twin = _l2_twin(bid, bid_size, ask, ask_size)
    assert book.is_l1 and not twin.is_l1
    assert not book.bids and not book.asks  # L1 mode keeps no sorted levels
    probes = [bid, ask, bid - 10_000_000, ask + 10_000_000]
    _same_answers(book, twin, probes)
    for take_asks, want, limit in takes:
        walked, total = [], 0
        for level in twin.liquidity(take_asks, limit):  # the sorted walk of the twin
            walked.append(level)
            total += level[1]
            if total >= want:
                break
        assert book.take_levels(take_asks, limit, want) == (walked, total)
        assert twin.take_levels(take_asks, limit, want) == (walked, total)
        top = next(iter(twin.liquidity(take_asks, None)), None)
        assert book.l1_available(take_asks) == (top[1] if top else 0)
        for px, avail in walked:
            book.consume(take_asks, px, min(avail, want))
            twin.consume(take_asks, px, min(avail, want))
        _same_answers(book, twin, probes)
    # an L2 delta ends L1 mode: the L1 levels (and what was consumed of them) carry over
    delta = OrderBookDelta(BTC_ID, BookAction.ADD, BookSide.ASK, Price.from_raw(ask + 10_000_000, 2),
                           Quantity.from_raw(1_000_000, 5), OrderBookDelta.F_LAST, 1, 0, 0)  # fmt: skip
    book.apply_delta(delta)
    twin.apply_delta(delta)
    assert not book.is_l1
    _same_answers(book, twin, probes)
    assert (dict(book.bids), dict(book.asks)) == (dict(twin.bids), dict(twin.asks))
    book.clear()
    assert not book.has_levels() and book.best_bid_raw() is None and book.best_ask_raw() is None
