"""Binance raw-stream and depth-CSV loaders, replayed into an OrderBook under the venue's sequence rules.

Book vs bookTicker comparison, precisely: after each depth message that reached the book (and after
the snapshot together with the buffered diffs it released), the book is at update id ``u`` of that
message. A bookTicker carries the update id ``u`` of the top-of-book change it reports. Where a
ticker's ``u`` equals the final update id of an applied depth message, both describe the book at
the same update id, so best bid/ask price *and* size must be equal. Tickers whose ``u`` falls inside
a diff's ``[U, u]`` range describe an intermediate state the diff stream never exposes, so they are
not compared.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from tradewire.data.book import OrderBook
from tradewire.data.loaders.binance import (
    BinanceBookTicker,
    BinanceDepthDiff,
    BinanceDepthSnapshot,
    iter_binance_depth_csv,
    iter_binance_stream,
    replay_depth,
)
from tradewire.data.loaders.errors import DataFormatError
from tradewire.data.sync import BinanceFuturesSynchronizer, BinanceSpotSynchronizer
from tradewire.model.data import OrderBookDelta, TradeTick
from tradewire.model.enums import AggressorSide, BookAction
from tradewire.model.objects import Price, Quantity

FIX = Path(__file__).parents[2] / "fixtures" / "binance"
SPOT = FIX / "hftbacktest_binance_spot_btcusdt_20240808.gz"
USDM = FIX / "hftbacktest_binance_usdm_btcusdt_20240718.gz"
IID = "BTCUSDT.BINANCE"


def replay_and_compare(path: Path, price_precision: int, size_precision: int, futures: bool):
    book = OrderBook(IID, price_precision, size_precision)
    sync = (BinanceFuturesSynchronizer if futures else BinanceSpotSynchronizer)(book.instrument_id)
    states: dict[int, tuple] = {}
    tickers: list[BinanceBookTicker] = []
    applied = crossed = 0
    for rec, changed in replay_depth(iter_binance_stream(path, IID, price_precision, size_precision), book, sync):
        if changed:
            applied += 1
            assert not book.in_batch
            crossed += book.is_crossed()
            states[book.sequence] = (
                book.best_bid_raw(),
                book.best_bid_size_raw(),
                book.best_ask_raw(),
                book.best_ask_size_raw(),
            )
        elif isinstance(rec, BinanceBookTicker):
            tickers.append(rec)
    lined_up = [t for t in tickers if t.update_id in states]
    matches = sum(
        states[t.update_id]
        == (t.quote.bid_price.raw, t.quote.bid_size.raw, t.quote.ask_price.raw, t.quote.ask_size.raw)
        for t in lined_up
    )
    return sync, book, applied, crossed, tickers, lined_up, matches


def test_spot_replay_matches_book_ticker():
    sync, book, applied, crossed, tickers, lined_up, matches = replay_and_compare(SPOT, 2, 5, futures=False)
    # 3,451 diffs: 2 precede the snapshot (lastUpdateId 50093239218) and are dropped, the 3rd bridges it
    assert sync.gaps == [] and not sync.stale
    assert sync.dropped == 2 and sync.applied == 3449
    assert applied == 1 + 3448  # the snapshot (with the released diff), then every later diff
    assert crossed == 0
    assert len(tickers) == 28_040
    assert len(lined_up) >= 500
    assert matches / len(lined_up) == 1.0, f"match rate {matches}/{len(lined_up)}"
    book.check_integrity()
    assert book.bid_level_count > 900 and book.ask_level_count > 900


def test_usdm_replay_matches_book_ticker():
    sync, book, applied, crossed, tickers, lined_up, matches = replay_and_compare(USDM, 1, 3, futures=True)
    assert sync.gaps == [] and not sync.stale
    assert sync.applied + sync.dropped == 3326
    assert crossed == 0
    assert len(tickers) == 7113
    assert len(lined_up) >= 150
    assert matches / len(lined_up) == 1.0, f"match rate {matches}/{len(lined_up)}"


def test_stream_record_contents():
    recs = iter_binance_stream(SPOT, IID)
    first = next(recs)
    assert isinstance(first, BinanceDepthDiff)
    assert (first.first_update_id, first.final_update_id, first.prev_final_update_id) == (
        50093239189,
        50093239202,
        None,
    )
    assert first.ts_event == 1723161255208 * 1_000_000 and first.ts_init == 1723161253937085768
    d0 = first.deltas[0]
    assert (d0.action, d0.price, d0.sequence, d0.flags) == (BookAction.DELETE, Price("61737.63", 2), 50093239202, 0)
    assert first.deltas[-1].flags == OrderBookDelta.F_LAST
    assert sum(d.is_last for d in first.deltas) == 1
    assert len(first.deltas) == 12
    next(recs)
    tick = next(recs)
    assert isinstance(tick, BinanceBookTicker) and tick.update_id == 50093239212
    assert tick.quote.ask_size == Quantity("1.54698", 5)
    assert tick.quote.ts_event == tick.quote.ts_init == 1723161254087891268  # spot bookTicker has no E
    trade = next(recs)
    assert isinstance(trade, TradeTick)
    assert trade.aggressor_side is AggressorSide.SELLER  # "m": true -> buyer is maker -> seller aggressed
    assert trade.trade_id == "3735683259" and trade.ts_event == 1723161255342 * 1_000_000
    snap = next(r for r in recs if isinstance(r, BinanceDepthSnapshot))
    assert snap.last_update_id == 50093239218 and snap.line == 8  # zcat | grep -n lastUpdateId
    assert snap.deltas[0].action is BookAction.CLEAR
    assert all(d.flags & OrderBookDelta.F_SNAPSHOT for d in snap.deltas)
    assert [d.is_last for d in snap.deltas].count(True) == 1 and snap.deltas[-1].is_last
    assert len(snap.deltas) == 1 + 2000


def test_usdm_records_carry_pu_and_transaction_time():
    first = next(iter_binance_stream(USDM, IID))
    assert first.prev_final_update_id == 4984028367494
    assert first.ts_event == 1721347022504 * 1_000_000
    trades = [r for r in iter_binance_stream(USDM, IID) if isinstance(r, TradeTick)]
    assert len(trades) == 974
    buyers = sum(t.aggressor_side is AggressorSide.BUYER for t in trades)
    assert 0 < buyers < len(trades)


def test_futures_depth_csvs_report_the_gap():
    book = OrderBook(IID, 2, 3)
    sync = BinanceFuturesSynchronizer(book.instrument_id)
    records = [*iter_binance_depth_csv(FIX / "binance_futures_btcusdt-depth-snap.csv", IID)]
    records += iter_binance_depth_csv(FIX / "binance_futures_btcusdt-depth-update.csv", IID)
    assert [type(r).__name__ for r in records] == ["BinanceDepthSnapshot", "BinanceDepthDiff"]
    snap, diff = records
    assert snap.last_update_id == 2098021528332 and len(snap.deltas) == 101
    assert (diff.first_update_id, diff.final_update_id, diff.prev_final_update_id) == (
        2098041693435,
        2098041696700,
        2098041693400,
    )
    out = list(replay_depth(records, book, sync))
    assert [applied for _, applied in out] == [True, False]
    # without an explicit synchronizer the rule is taken from the first diff ('pu' present -> futures)
    auto_book, auto_gaps = OrderBook(IID, 2, 3), []
    assert [a for _, a in replay_depth(records, auto_book, on_gap=auto_gaps.append)] == [True, False]
    assert auto_gaps == sync.gaps
    assert auto_book.bids_raw() == book.bids_raw() and auto_book.sequence == 2098021528332
    assert len(sync.gaps) == 1 and sync.stale
    gap = sync.gaps[0]
    assert gap.kind == "gap" and gap.expected == 2098021528332 and gap.got == 2098041693435
    assert gap.ts_event == 1667347199939 * 1_000_000
    assert book.bid_level_count + book.ask_level_count == 100  # snapshot kept, diff not applied


def test_truncated_gzip_names_file_and_line(tmp_path):
    data = SPOT.read_bytes()
    bad = tmp_path / "truncated.gz"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFormatError) as ei:
        for _ in iter_binance_stream(bad, IID):
            pass
    assert "truncated.gz" in str(ei.value) and ei.value.line is not None and ei.value.line > 1000


def test_corrupt_line_names_file_and_line(tmp_path):
    lines = gzip.decompress(SPOT.read_bytes()).decode().splitlines()[:10]
    lines[4] = lines[4][:60]  # JSON cut in the middle
    bad = tmp_path / "cut.gz"
    bad.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    with pytest.raises(DataFormatError, match=r"cut\.gz, line 5: bad Binance stream line"):
        list(iter_binance_stream(bad, IID))
    lines = gzip.decompress(SPOT.read_bytes()).decode().splitlines()[:10]
    lines[2] = lines[2].replace('"u":', '"x":')
    bad.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    with pytest.raises(DataFormatError, match=r"line 3: .*missing field 'u'"):
        list(iter_binance_stream(bad, IID))
    lines[2] = "notanumber " + lines[2].partition(" ")[2]
    bad.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    with pytest.raises(DataFormatError, match="line 3"):
        list(iter_binance_stream(bad, IID))


def test_bad_csv_row_names_line(tmp_path):
    src = FIX / "binance_futures_btcusdt-depth-update.csv"
    bad = tmp_path / "upd.csv"
    shutil.copy(src, bad)
    text = bad.read_text().splitlines()
    text[3] = text[3].replace(",a,", ",x,")
    bad.write_text("\n".join(text) + "\n")
    with pytest.raises(DataFormatError, match=r"upd\.csv, line 4: .*side"):
        list(iter_binance_depth_csv(bad, IID))


def test_agg_trade_and_futures_snapshot_lines(tmp_path):
    """Message layouts from the Binance docs ("Aggregate Trade Streams"; USD-M REST depth with E/T)."""
    agg = (
        '{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1672515782136,"s":"BTCUSDT","a":12345,'
        '"p":"0.001","q":"100","f":100,"l":105,"T":1672515782100,"m":false,"M":true}}'
    )
    snap = (
        '{"lastUpdateId":1027024,"E":1589436922972,"T":1589436922959,"bids":[["4.00000000","431.00000000"]],"asks":[]}'
    )
    path = tmp_path / "agg.txt"
    path.write_text(f"1672515782200000000 {agg}\n\n1589436923000000000 {snap}\n")
    trade, book = list(iter_binance_stream(path, IID))
    assert isinstance(trade, TradeTick)
    assert trade.aggressor_side is AggressorSide.BUYER and trade.trade_id == "12345"
    assert trade.ts_event == 1672515782100 * 1_000_000 and trade.ts_init == 1672515782200000000
    assert trade.price == Price("0.001", 3) and trade.size == Quantity("100", 0)
    assert isinstance(book, BinanceDepthSnapshot) and book.ts_event == 1589436922959 * 1_000_000
    assert [d.action for d in book.deltas] == [BookAction.CLEAR, BookAction.ADD]
    path.write_text(f"1 {agg.replace('false', '0')}\n")
    with pytest.raises(DataFormatError, match=r"line 1: .*'m'"):
        list(iter_binance_stream(path, IID))
