"""Databento DBN loaders on real CME files (ESH4 MBO, ESU4/NQU4 mbp-1, trades, ohlcv-1m, definitions)."""

from __future__ import annotations

import collections
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tradewire.data.loaders import DataFormatError, detect_format, load
from tradewire.data.loaders.databento import iter_definitions, iter_mbo, iter_mbp1, iter_ohlcv, iter_trades
from tradewire.model import AggressorSide, BookAction, BookSide, OrderBookDelta, Price, QuoteTick, TradeTick

DB = Path(__file__).resolve().parents[2] / "fixtures" / "databento"
MBO = DB / "esh4-glbx-mdp3-20231225.mbo.dbn.zst"
MBP1 = DB / "databento_futures_mbp-1_2024-07-01T23-58_2024-07-02T00-02.dbn.zst"
TRADES = DB / "databento_futures_trades_2024-07-01T23-58_2024-07-02T00-02.dbn.zst"
OHLCV = DB / "databento_futures_ohlcv-1m_2024-07-01T23-40_2024-07-02T00-10.dbn.zst"
DEFS = DB / "databento_futures_definition.dbn.zst"


def ns(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp()) * 1_000_000_000


def test_definitions_give_tick_and_multiplier():
    insts = {str(i.id): i for i in iter_definitions(DEFS)}
    assert set(insts) == {"ESU4.XCME", "NQU4.XCME"}
    es, nq = insts["ESU4.XCME"], insts["NQU4.XCME"]
    assert es.tick_size == Price("0.25", 2) and es.multiplier == 50 and es.quote_currency.code == "USD"
    assert nq.multiplier == 20 and nq.price_precision == 2


def test_trades_with_side_match_the_package_dataframe():
    import databento as db

    ticks = list(iter_trades(TRADES))
    assert len(ticks) == 120
    df = db.DBNStore.from_file(TRADES).to_df()  # independent decode (float prices) by the vendor package
    assert [str(t.price) for t in ticks] == [f"{p:.2f}" for p in df["price"]]
    expected = ["B" if t.aggressor_side is AggressorSide.BUYER else "A" for t in ticks]
    assert expected == list(df["side"])
    t = ticks[0]
    assert t.instrument_id == "ESU4.XCME" and t.price == Decimal("5528.75") and t.size == 2
    assert t.ts_event == 1719878281218218853 and t.ts_init == 1719878281218485389
    assert ticks[-1].ts_event < ns(2024, 7, 2, 0, 2)


def test_mbp1_quotes_and_trades():
    objs = list(iter_mbp1(MBP1))
    quotes = [o for o in objs if isinstance(o, QuoteTick)]
    trades = [o for o in objs if isinstance(o, TradeTick)]
    assert len(quotes) == 2288  # one per record: both sides are always set in this file
    assert len(trades) == sum(1 for _ in iter_trades(TRADES)) == 120  # the same session's trades
    q = quotes[0]
    assert (q.bid_price, q.ask_price, q.bid_size, q.ask_size) == (Decimal("5528.5"), Decimal("5528.75"), 29, 6)
    assert all(x.bid_price < x.ask_price for x in quotes)
    assert objs[0] is trades[0]  # a trade record yields its trade before the resulting quote


def test_ohlcv_close_times_and_two_instruments():
    bars = list(iter_ohlcv(OHLCV))
    assert len(bars) == 60
    counts = collections.Counter(str(b.bar_type) for b in bars)
    assert counts == {"ESU4.XCME-1-MINUTE-LAST": 30, "NQU4.XCME-1-MINUTE-LAST": 30}
    b = bars[0]  # ESU4 23:40 open bar: o 5527.25 h 5527.5 l 5527 c 5527.5 v 180
    assert b.ts_event == ns(2024, 7, 1, 23, 41)
    assert (b.open, b.high, b.low, b.close, b.volume) == (
        Decimal("5527.25"), Decimal("5527.5"), Decimal(5527), Decimal("5527.5"), 180,
    )  # fmt: skip
    assert max(x.ts_event for x in bars) == ns(2024, 7, 2, 0, 10)


def test_mbo_events_count_and_first_record():
    events = list(iter_mbo(MBO))
    assert len(events) == 68792
    e = events[0]
    assert (e.action, e.side, e.price, e.size, e.order_id) == ("A", "B", Decimal(4799), 2, 6412777162812)
    assert e.flags & 32 and e.ts_event == 1703422805243925307  # snapshot record, 2023-12-24 13:00:05.24
    assert events[-1].ts_event < ns(2023, 12, 26)


def test_mbo_l2_aggregation_replays_to_a_consistent_book():
    deltas = list(load(MBO))
    assert detect_format(MBO) == "databento-dbn"
    assert deltas[0].action is BookAction.CLEAR and deltas[0].flags & OrderBookDelta.F_SNAPSHOT
    # replay: level sizes must match the sum of resting orders rebuilt independently from the L3 events
    book: dict[tuple[BookSide, int], int] = {}
    for d in deltas:
        if d.action is BookAction.CLEAR:
            book.clear()
        elif d.action is BookAction.DELETE:
            assert (d.side, d.price.raw) in book
            del book[(d.side, d.price.raw)]
        else:
            assert (d.action is BookAction.ADD) == ((d.side, d.price.raw) not in book)
            book[(d.side, d.price.raw)] = d.size.raw // 10**9
    orders: dict[int, tuple[str, int, int]] = {}
    for e in iter_mbo(MBO):
        if e.action == "A" or (e.action == "M" and e.order_id not in orders):
            orders[e.order_id] = (e.side, e.price.raw, e.size)
        elif e.action == "C":
            s, p, q = orders[e.order_id]
            orders[e.order_id] = (s, p, q - e.size)
        elif e.action == "M":
            orders[e.order_id] = (e.side, e.price.raw, e.size)
    levels: dict[tuple[BookSide, int], int] = collections.Counter()
    for s, p, q in orders.values():
        if q:
            levels[(BookSide.BID if s == "B" else BookSide.ASK, p)] += q
    assert book == dict(levels)
    bids = [p for (s, p) in book if s is BookSide.BID]
    asks = [p for (s, p) in book if s is BookSide.ASK]
    assert max(bids) < min(asks)  # the final book is not crossed
    # a batch ends only where DBN marks the end of a venue event
    assert deltas[-1].is_last and sum(d.is_last for d in deltas) <= 68792


def test_truncated_dbn_is_an_error(tmp_path):
    cut = tmp_path / "cut.mbo.dbn.zst"
    cut.write_bytes(MBO.read_bytes()[:400_000])
    with pytest.raises(DataFormatError, match=r"cut\.mbo\.dbn\.zst, byte offset 400000: DBN file is truncated"):
        list(iter_mbo(cut))
    bad = tmp_path / "junk.dbn"
    bad.write_bytes(b"not a dbn file at all")
    with pytest.raises(DataFormatError, match=r"junk\.dbn.*byte offset 0"):
        list(iter_trades(bad))
