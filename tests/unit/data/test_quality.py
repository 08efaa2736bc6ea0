"""DataQualityMonitor: staleness on clock time, gaps, out-of-order, crossed books, latency percentiles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tradewire.core.bus import MessageBus
from tradewire.core.clock import TestClock
from tradewire.data.book import OrderBook
from tradewire.data.loaders.binance import BinanceBookTicker, iter_binance_depth_csv, replay_depth
from tradewire.data.quality import DataQualityKind, DataQualityMonitor, percentile_nearest_rank
from tradewire.data.sync import BinanceFuturesSynchronizer
from tradewire.model.data import OrderBookDelta, QuoteTick, TradeTick
from tradewire.model.enums import AggressorSide, BookAction, BookSide
from tradewire.model.identifiers import InstrumentId, TradeId
from tradewire.model.objects import Price, Quantity

IID = InstrumentId("BTCUSDT.BINANCE")
S = 1_000_000_000
FIX = Path(__file__).parents[2] / "fixtures" / "binance"


def quote(bid, ask, ts_event, ts_init):
    return QuoteTick(IID, Price(bid, 2), Price(ask, 2), Quantity("1", 3), Quantity("1", 3), ts_event, ts_init)


def make(**kw):
    bus = MessageBus()
    clock = TestClock()
    got = []
    bus.subscribe("events.data_quality", got.append)
    mon = DataQualityMonitor(bus, clock, **kw)
    mon.attach()
    return bus, clock, mon, got


def test_staleness_on_clock_time_and_recovery():
    bus, clock, mon, got = make(stale_after_ns=5 * S)
    mon.start(check_interval_ns=S)
    bus.publish(f"data.quotes.{IID}", quote("1.00", "1.01", 0, 0))
    clock.advance_time(5 * S)  # exactly 5 s of silence is not yet stale
    assert got == []
    clock.advance_time(6 * S)
    assert [e.kind for e in got] == [DataQualityKind.STALE]
    assert got[0].ts_event == 6 * S and got[0].expected == 0 and got[0].got == 6 * S
    clock.advance_time(9 * S)  # no repeat while still stale
    assert len(got) == 1
    assert mon.snapshot()[f"{IID}:quotes"]["stale"] is True
    bus.publish(f"data.quotes.{IID}", quote("1.00", "1.01", 9 * S, 9 * S))
    assert got[-1].kind is DataQualityKind.RECOVERED
    assert mon.snapshot()[f"{IID}:quotes"]["stale"] is False
    mon.stop()


def test_out_of_order_time_gap_and_crossed_quotes():
    bus, clock, mon, got = make(max_time_gap_ns=2 * S)
    topic = f"data.quotes.{IID}"
    bus.publish(topic, quote("1.00", "1.01", 10 * S, 10 * S))
    bus.publish(topic, quote("1.00", "1.01", 9 * S, 10 * S))
    bus.publish(topic, quote("1.00", "1.01", 13 * S, 13 * S))
    bus.publish(topic, quote("1.02", "1.01", 13 * S, 13 * S))
    bus.publish(topic, quote("1.03", "1.01", 13 * S, 13 * S))  # still crossed: counted, no new event
    bus.publish(topic, quote("1.01", "1.01", 13 * S, 13 * S))
    kinds = [e.kind for e in got]
    assert kinds == [
        DataQualityKind.OUT_OF_ORDER_TIME,
        DataQualityKind.TIME_GAP,
        DataQualityKind.CROSSED,
        DataQualityKind.LOCKED,
    ]
    assert (got[0].expected, got[0].got) == (10 * S, 9 * S)
    assert (got[1].expected, got[1].got) == (10 * S, 13 * S)
    snap = mon.snapshot()[f"{IID}:quotes"]
    assert snap["crossed_count"] == 2 and snap["locked_count"] == 1
    assert snap["events"] == {"out_of_order_time": 1, "time_gap": 1, "crossed": 1, "locked": 1}
    json.dumps(mon.snapshot())  # JSON-friendly


def test_latency_percentiles_nearest_rank():
    bus, clock, mon, _ = make()
    lat = list(range(1, 101))  # 1..100 ns, shuffled order
    for i, d in enumerate(reversed(lat)):
        t = TradeTick(
            IID, Price("1", 0), Quantity("1", 0), AggressorSide.BUYER, TradeId(str(i)), i * 1000, i * 1000 + d
        )
        bus.publish(f"data.trades.{IID}", t)
    # nearest rank on 1..100: pXX is the XX-th smallest
    assert mon.latency_percentiles(IID, "trades") == {"p50": 50, "p90": 90, "p99": 99, "max": 100}
    assert mon.snapshot()[f"{IID}:trades"]["latency_ns"]["p99"] == 99
    assert percentile_nearest_rank([7], 1) == 7
    with pytest.raises(ValueError):
        percentile_nearest_rank([], 50)


def test_delta_sequences_and_contiguity():
    bus, clock, mon, got = make(contiguous_sequences=True)

    def d(seq, flags=OrderBookDelta.F_LAST):
        return OrderBookDelta(IID, BookAction.UPDATE, BookSide.BID, Price("1", 0), Quantity("1", 0), flags, seq, 0, 0)

    for delta in (d(5, 0), d(5), d(6), d(8)):
        bus.publish(f"data.book.deltas.{IID}", delta)
    bus.publish(f"data.book.deltas.{IID}", [d(7, 0), d(7)])  # a batch, as the DataEngine publishes
    assert [(e.kind, e.expected, e.got) for e in got] == [
        (DataQualityKind.SEQUENCE_GAP, 7, 8),
        (DataQualityKind.OUT_OF_ORDER_SEQUENCE, 9, 7),
    ]
    snap = mon.snapshot()[f"{IID}:book.deltas"]
    assert snap["last_sequence"] == 8 and snap["count"] == 6


def test_synchronizer_gap_from_real_csvs_reaches_the_bus():
    bus, clock, mon, got = make()
    book = OrderBook(IID, 2, 3)
    sync = BinanceFuturesSynchronizer(IID, on_gap=mon.record_sequence_gap)
    records = [*iter_binance_depth_csv(FIX / "binance_futures_btcusdt-depth-snap.csv", IID)]
    records += iter_binance_depth_csv(FIX / "binance_futures_btcusdt-depth-update.csv", IID)
    for _rec, applied in replay_depth(records, book, sync):
        if applied:
            assert not mon.check_book(book)
    assert [(e.kind, e.expected, e.got) for e in got] == [(DataQualityKind.SEQUENCE_GAP, 2098021528332, 2098041693435)]
    assert mon.snapshot()[f"{IID}:book.deltas"]["events"] == {"sequence_gap": 1}


def test_real_spot_book_tickers_latency_and_no_crossing():
    from tradewire.data.loaders.binance import iter_binance_stream

    bus, clock, mon, got = make()
    n = 0
    for rec in iter_binance_stream(FIX / "hftbacktest_binance_usdm_btcusdt_20240718.gz", IID):
        if isinstance(rec, BinanceBookTicker):
            bus.publish(f"data.quotes.{IID}", rec.quote)
            n += 1
    snap = mon.snapshot()[f"{IID}:quotes"]
    assert snap["count"] == n == 7113
    assert snap["crossed_count"] == 0
    lat = snap["latency_ns"]
    assert lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"]
