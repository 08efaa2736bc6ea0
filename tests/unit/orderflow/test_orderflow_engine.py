"""OrderFlowEngine on a DataEngine and bus: topics, signals, snapshot, sessions."""

from __future__ import annotations

import json

import pytest

from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import TestClock
from tradewire.data.engine import DataEngine
from tradewire.model.data import OrderBookDelta, QuoteTick, TradeTick
from tradewire.model.enums import AggressorSide, BookAction, BookSide
from tradewire.model.identifiers import TradeId
from tradewire.model.instruments import future
from tradewire.model.objects import Price, Quantity
from tradewire.orderflow import OrderFlowConfig, OrderFlowEngine, OrderFlowSignal, SignalKind

S = 1_000_000_000
ES = future("ESH4", "XCME", "0.25", "50")
NQ = future("NQH4", "XCME", "0.25", "20")


def trade(inst, price: str, size: int, side: AggressorSide, ts: int) -> TradeTick:
    return TradeTick(inst.id, Price.from_str(price), Quantity(size, 0), side, TradeId(str(ts)), ts, ts)


def level(inst, side, price: str, size: int, ts: int, last: bool = True) -> OrderBookDelta:
    act = BookAction.UPDATE if size else BookAction.DELETE
    return OrderBookDelta(inst.id, act, side, Price.from_str(price), Quantity(size, 0), int(last), 0, ts, ts)


@pytest.fixture
def node():
    bus, cache, clock = MessageBus(), Cache(), TestClock(0)
    cache.add_instrument(ES)
    cache.add_instrument(NQ)
    de = DataEngine(bus, cache, clock)
    return bus, cache, clock, de


def test_signals_published_on_the_instrument_topic(node):
    bus, cache, clock, de = node
    cfg = OrderFlowConfig(imbalance={"threshold": 0.6, "min_trades": 20}, detectors=("imbalance",))
    eng = OrderFlowEngine(bus, cache, clock, de, cfg)
    eng.subscribe(ES.id)
    got: list = []
    bus.subscribe(f"events.orderflow.{ES.id}", got.append)
    other: list = []
    bus.subscribe(f"events.orderflow.{NQ.id}", other.append)
    for i in range(30):
        clock.set_time(i * S // 10)
        de.process(trade(ES, "4800.25", 1, AggressorSide.BUYER, i * S // 10))
    assert len(got) == 1 and other == []
    sig = got[0]
    assert isinstance(sig, OrderFlowSignal) and sig.kind is SignalKind.IMBALANCE and sig.strength > 1
    assert sig.instrument_id == ES.id and sig.price == Price.from_str("4800.25")
    # the 20th trade (t = 1.9 s) completes the window; ts_init comes from the node's clock at that moment
    assert sig.ts_event == 19 * S // 10 and sig.ts_init == 19 * S // 10
    with pytest.raises(Exception):  # noqa: B017 - frozen dataclass
        sig.strength = 0  # type: ignore[misc]


def test_snapshot_is_json_and_reports_book_cvd_footprint(node):
    bus, cache, clock, de = node
    eng = OrderFlowEngine(bus, cache, clock, de, OrderFlowConfig(footprint_interval_ns=10 * S))
    st = eng.subscribe(ES.id)
    for d in (level(ES, BookSide.BID, "4800.00", 30, 0, False), level(ES, BookSide.ASK, "4800.25", 10, 0)):
        de.process(d)
    de.process(trade(ES, "4800.25", 4, AggressorSide.BUYER, S))
    de.process(trade(ES, "4800.00", 1, AggressorSide.SELLER, 2 * S))
    de.process(trade(ES, "4800.00", 2, AggressorSide.NO_AGGRESSOR, 3 * S))  # below the mid: Lee-Ready sell
    snap = eng.snapshot()
    json.dumps(snap)
    s = snap["instruments"][str(ES.id)]
    assert s["book"]["spread"] == "0.25" and s["book"]["tob_imbalance"] == pytest.approx(0.5)
    assert s["totals"]["buy_volume"] == "4" and s["totals"]["sell_volume"] == "3" and s["totals"]["cvd"] == "1"
    assert s["totals"]["classification"]["lee_ready"] == 1
    fp = s["footprint"]
    assert fp["volume"] == "7" and {r["price"]: (r["bid"], r["ask"]) for r in fp["rows"]} == {
        "4800.25": ("0", "4"),
        "4800.00": ("3", "0"),
    }
    # sampled at each second of event time (the book at t=0 opened the first slot) with the CVD before it
    assert list(st.cvd_series) == [(S, 0), (2 * S, 4 * S), (3 * S, 3 * S)]
    assert set(snap["correlation"]) == {"instruments", "matrix"}


def test_quotes_feed_lee_ready_without_a_book(node):
    bus, cache, clock, de = node
    eng = OrderFlowEngine(bus, cache, clock, de)
    st = eng.subscribe(NQ.id)
    de.process(
        QuoteTick(NQ.id, Price.from_str("17000.00"), Price.from_str("17000.50"), Quantity(1, 0), Quantity(1, 0), 0, 0)
    )
    de.process(trade(NQ, "17000.50", 3, AggressorSide.NO_AGGRESSOR, 1))
    assert st.cvd.session_raw == 3 * S and st.classifier.counts["lee_ready"] == 1


def test_session_reset_and_unsubscribe(node):
    bus, cache, clock, de = node
    eng = OrderFlowEngine(bus, cache, clock, de, OrderFlowConfig(session_ns=60 * S))
    st = eng.subscribe(ES.id)
    de.process(trade(ES, "4800.25", 5, AggressorSide.BUYER, 59 * S))
    assert st.cvd.session_raw == 5 * S
    de.process(trade(ES, "4800.25", 2, AggressorSide.SELLER, 61 * S))  # new session
    assert st.cvd.session_raw == -2 * S and st.vwap.q_raw == 2 * S
    eng.unsubscribe(ES.id)
    de.process(trade(ES, "4800.25", 2, AggressorSide.SELLER, 62 * S))
    assert st.trades == 2 and ES.id not in eng.instruments


def test_unknown_detector_is_an_error(node):
    bus, cache, clock, de = node
    eng = OrderFlowEngine(bus, cache, clock, de, OrderFlowConfig(detectors=("spoofing",)))
    with pytest.raises(ValueError, match="spoofing"):
        eng.subscribe(ES.id)


def test_instrument_must_be_known(node):
    bus, cache, clock, de = node
    with pytest.raises(KeyError, match="not in the cache"):
        OrderFlowEngine(bus, cache, clock, de).subscribe("BTCUSDT.BINANCE")


def test_snapshot_lists_liquidity_per_level(node):
    bus, cache, clock, de = node
    eng = OrderFlowEngine(bus, cache, clock, de)
    eng.subscribe(ES.id)
    de.process(level(ES, BookSide.BID, "4800.00", 30, 0, False))
    de.process(level(ES, BookSide.ASK, "4800.25", 10, 0))
    de.process(level(ES, BookSide.BID, "4800.00", 12, S // 2))  # 18 pulled from the bid
    de.process(level(ES, BookSide.ASK, "4800.50", 7, 2 * S))  # closes [0, 1 s); [1 s, 2 s) had no change
    liq = eng.snapshot()["instruments"][str(ES.id)]["liquidity"]
    assert (liq["start_ns"], liq["end_ns"]) == (0, S)
    assert liq["bid_levels"] == [{"price": "4800.00", "added": "30", "removed": "18", "traded": "0"}]
    assert liq["ask_levels"] == [{"price": "4800.25", "added": "10", "removed": "0", "traded": "0"}]
    assert (liq["added"], liq["removed"]) == ("40", "18")


def test_signal_text_and_dict():
    sig = OrderFlowSignal(ES.id, SignalKind.ABSORPTION, 1.5, Price.from_str("4800.25"), 1, 2, {"side": "bid"})
    assert str(sig) == "ESH4.XCME absorption +1.50 at 4800.25 (bid)"
    assert sig.direction == 1 and json.loads(json.dumps(sig.to_dict()))["price"] == "4800.25"


def test_correlation_across_followed_instruments(node):
    bus, cache, clock, de = node
    eng = OrderFlowEngine(bus, cache, clock, de)
    eng.subscribe(ES.id)
    eng.subscribe(NQ.id)
    es_px = [4800 + (i % 5) for i in range(40)]
    nq_px = [17000 + 2 * (i % 5) for i in range(40)]  # moves with ES: correlation 1
    for i in range(40):
        de.process(trade(ES, f"{es_px[i]}.00", 1, AggressorSide.BUYER, i * S + 1))
        de.process(trade(NQ, f"{nq_px[i]}.00", 1, AggressorSide.BUYER, i * S + 2))
    keys, m = eng.snapshot()["correlation"].values()
    assert keys == [str(ES.id), str(NQ.id)]
    assert m[0][1] == pytest.approx(1.0, abs=1e-3) and m[1][0] == pytest.approx(1.0, abs=1e-3)
