"""DataEngine + DataClient seam: routing, cache, bus topics, aggregation on subscription, book batches."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import pytest

from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import TestClock
from tradewire.data.aggregation import aggregate
from tradewire.data.client import DataKind, ReplayDataClient
from tradewire.data.engine import DataEngine
from tradewire.model import (
    AggressorSide,
    BarAggregation,
    BarSpecification,
    BarType,
    BookAction,
    BookSide,
    InstrumentId,
    OrderBookDelta,
    Price,
    PriceType,
    Quantity,
    QuoteTick,
    TradeId,
    TradeTick,
)

FIXTURE = Path(__file__).parents[2] / "fixtures" / "tardis" / "tardis_binance-futures_BTCUSDT_trades.csv"
IID = InstrumentId("BTCUSDT.BINANCE")
ETH = InstrumentId("ETHUSDT.BINANCE")
S = 1_000_000_000
MIN1 = BarType(IID, BarSpecification(1, BarAggregation.MINUTE, PriceType.LAST))


@pytest.fixture(scope="module")
def trades() -> list[TradeTick]:
    out = []
    with FIXTURE.open(newline="") as fh:
        for row in csv.DictReader(fh):
            ts = int(row["timestamp"]) * 1000
            side = AggressorSide.BUYER if row["side"] == "buy" else AggressorSide.SELLER
            out.append(
                TradeTick(IID, Price(row["price"], 2), Quantity(row["amount"], 3), side, TradeId(row["id"]), ts, ts)
            )
    return out


def make(data, deliver_all=False):
    bus, cache, clock = MessageBus(), Cache(), TestClock(0)
    engine = DataEngine(bus, cache, clock)
    client = ReplayDataClient("BINANCE", data, clock=clock, deliver_all=deliver_all)
    engine.register_client(client)
    return bus, cache, clock, engine, client


def q(iid, bid, ask, ts):
    return QuoteTick(iid, Price(bid, 2), Price(ask, 2), Quantity("1", 0), Quantity("2", 0), ts, ts)


def delta(action, side, price, size, flags, seq, ts):
    return OrderBookDelta(IID, action, side, Price(price, 2), Quantity(size, 3), flags, seq, ts, ts)


def test_bars_aggregated_on_subscription_match_offline_and_cache(trades):
    bus, cache, clock, engine, client = make(trades)
    got = []
    engine.subscribe_bars(MIN1, got.append)
    assert client.subscriptions[DataKind.TRADES] == {IID}  # the aggregator pulled in the trade stream
    n = client.replay()
    assert n == len(trades) and client.exhausted
    offline = aggregate(trades, MIN1)
    assert [(b.ts_event, str(b.open), str(b.high), str(b.low), str(b.close), str(b.volume)) for b in got] == [
        (b.ts_event, str(b.open), str(b.high), str(b.low), str(b.close), str(b.volume)) for b in offline
    ]
    assert cache.trades[IID] is trades[-1]
    assert cache.bars[IID] is got[-1]
    # the clock timer closes the last minute once time passes its end, with no further tick
    clock.advance_time(trades[-1].ts_event + 60 * S)
    assert len(got) == len(offline) + 1
    engine.unsubscribe_bars(MIN1, got.append)
    assert client.subscriptions[DataKind.TRADES] == set()
    assert clock.timer_names == []


def test_publishes_only_to_subscribed_topics(trades):
    bus, cache, clock, engine, client = make(trades[:100], deliver_all=True)
    client.replay()
    assert bus.pub_count == 0  # nobody listens: no publish at all
    assert engine.counts["trades"] == 100
    got = []
    bus.subscribe("data.trades.*", got.append)
    engine.process(trades[100])
    assert got == [trades[100]] and bus.pub_count == 1


def test_replay_filters_by_subscription_and_routes_quotes():
    data = [q(IID, "10.00", "10.01", 1), q(ETH, "2.00", "2.01", 2), q(IID, "10.01", "10.02", 3)]
    bus, cache, clock, engine, client = make(data)
    got = []
    engine.subscribe_quote_ticks(IID, got.append)
    client.replay()
    assert got == [data[0], data[2]]
    assert client.skipped == 1 and ETH not in cache.quotes
    assert cache.quotes[IID] is data[2]
    assert clock.timestamp_ns() == 3


def test_replay_until_keeps_pending_and_advances_clock():
    data = [q(IID, "10.00", "10.01", t) for t in (1 * S, 2 * S, 5 * S)]
    bus, cache, clock, engine, client = make(data, deliver_all=True)
    assert client.replay(until_ns=3 * S) == 2
    assert clock.timestamp_ns() == 3 * S
    assert client.replay() == 1 and clock.timestamp_ns() == 5 * S


def test_async_run_delivers_everything(trades):
    bus, cache, clock, engine, client = make(trades[:2500], deliver_all=True)
    assert asyncio.run(client.run(chunk=1000)) == 2500
    assert engine.counts["trades"] == 2500


def test_quote_bars_mid_subscribe_quotes():
    data = [q(IID, "10.00", "10.02", 1), q(IID, "10.02", "10.04", 2), q(IID, "10.04", "10.06", 3)]
    bus, cache, clock, engine, client = make(data)
    got = []
    engine.subscribe_bars(BarType(IID, BarSpecification(3, BarAggregation.TICK, PriceType.MID)), got.append)
    assert client.subscriptions[DataKind.QUOTES] == {IID}
    client.replay()
    assert [str(got[0].open), str(got[0].high), str(got[0].close)] == ["10.010", "10.050", "10.050"]


def test_book_batches_applied_and_published_whole():
    L, SNAP = OrderBookDelta.F_LAST, OrderBookDelta.F_SNAPSHOT
    data = [
        delta(BookAction.CLEAR, BookSide.BID, "0", "0", SNAP, 10, 1),
        delta(BookAction.ADD, BookSide.BID, "99.00", "1.000", SNAP, 10, 1),
        delta(BookAction.ADD, BookSide.ASK, "101.00", "2.000", SNAP | L, 10, 1),
        delta(BookAction.UPDATE, BookSide.BID, "100.00", "0.500", 0, 11, 2),
        delta(BookAction.DELETE, BookSide.ASK, "101.00", "0", 0, 11, 2),
        delta(BookAction.ADD, BookSide.ASK, "100.50", "3.000", L, 11, 2),
    ]
    bus, cache, clock, engine, client = make(data)
    batches, depths = [], []
    engine.subscribe_order_book_deltas(IID, batches.append)
    engine.subscribe_order_book_depth(IID, depths.append)
    assert client.subscriptions[DataKind.DELTAS] == {IID}
    client.replay(limit=4)
    assert [len(b) for b in batches] == [3]
    assert engine.pending_deltas(IID) == 1
    book = cache.books[IID]
    assert book.best_bid_price() == Price("99.00", 2) and book.best_ask_price() == Price("101.00", 2)
    client.replay()
    assert [len(b) for b in batches] == [3, 3] and batches[1] == data[3:]
    assert book.best_bid_price() == Price("100.00", 2) and book.best_ask_price() == Price("100.50", 2)
    assert [str(d.best_bid.price) for d in depths] == ["99.00", "100.00"]
    assert engine.counts["batches"] == 2 and engine.counts["deltas"] == 6


def test_quality_monitor_sees_every_object(trades):
    seen = []

    class Monitor:
        def process(self, obj):
            seen.append(obj)

    bus, cache, clock = MessageBus(), Cache(), TestClock(0)
    engine = DataEngine(bus, cache, clock, quality_monitor=Monitor())
    for t in trades[:10]:
        engine.process(t)
    assert seen == trades[:10]


def test_refcounted_client_subscriptions_and_errors():
    bus, cache, clock, engine, client = make([])
    h1, h2 = (lambda x: None), (lambda x: None)
    engine.subscribe_trade_ticks(IID, h1)
    engine.subscribe_trade_ticks(IID, h2)
    engine.unsubscribe_trade_ticks(IID, h1)
    assert client.subscriptions[DataKind.TRADES] == {IID}
    engine.unsubscribe_trade_ticks(IID, h2)
    assert client.subscriptions[DataKind.TRADES] == set()
    engine.unsubscribe_trade_ticks(IID, h2)  # extra unsubscribe is harmless
    with pytest.raises(TypeError, match="cannot process str"):
        engine.process("not data")
    with pytest.raises(ValueError, match="no fixed length"):
        engine.subscribe_bars(BarType(IID, BarSpecification(1, BarAggregation.MONTH)))
    orphan = ReplayDataClient("X", [])
    with pytest.raises(RuntimeError, match="no handler"):
        orphan.replay()


def test_bar_aggregator_shared_between_subscribers(trades):
    bus, cache, clock, engine, client = make(trades[:500])
    a, b = [], []
    engine.subscribe_bars(MIN1, a.append)
    engine.subscribe_bars(MIN1, b.append)
    assert len(engine.aggregators) == 1
    engine.unsubscribe_bars(MIN1, a.append)
    assert len(engine.aggregators) == 1
    client.replay()
    assert a == [] and len(b) == len(aggregate(trades[:500], MIN1)) > 0
    engine.unsubscribe_bars(MIN1, b.append)
    assert engine.aggregators == {} and client.subscriptions[DataKind.TRADES] == set()


def test_data_quality_monitor_fed_by_engine_flags_crossed_book_and_out_of_order():
    quality = pytest.importorskip("tradewire.data.quality")
    bus, cache, clock = MessageBus(), Cache(), TestClock(0)
    monitor = quality.DataQualityMonitor(bus, clock)
    events = []
    bus.subscribe("events.data_quality", events.append)
    engine = DataEngine(bus, cache, clock, quality_monitor=monitor)
    L = OrderBookDelta.F_LAST
    engine.process(delta(BookAction.ADD, BookSide.BID, "100.00", "1", 0, 1, 5))
    engine.process(delta(BookAction.ADD, BookSide.ASK, "99.00", "1", L, 1, 5))  # crossed after the batch
    engine.process(q(IID, "10.00", "10.01", 7))
    engine.process(q(IID, "10.00", "10.01", 6))  # earlier than the previous quote
    kinds = {e.kind.value for e in events}
    assert "crossed" in kinds and "out_of_order_time" in kinds
    snap = monitor.snapshot()
    assert snap[f"{IID}:quotes"]["count"] == 2 and snap[f"{IID}:book.deltas"]["count"] == 2
