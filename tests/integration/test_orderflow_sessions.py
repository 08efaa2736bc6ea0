"""Order flow on the real recorded sessions: Binance BTCUSDT spot (2024-08-08) and Databento ES MBO (2023-12-25),
and a backtest of the order-flow example strategy on the Binance session (paper venue, L2 fills).

Totals are checked against independent parses of the raw files (pandas on the JSON lines; the
``databento`` package's own DataFrame for DBN), footprint bars against tradewire's time-bar aggregator,
and every signal's rate on time-shuffled trades against the real ordering.
"""

from __future__ import annotations

import gzip
import json
import random
from collections import Counter
from dataclasses import replace
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest

from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import TestClock
from tradewire.data.aggregation import aggregate
from tradewire.data.engine import DataEngine
from tradewire.model.data import BarSpecification, BarType, TradeTick
from tradewire.model.enums import BarAggregation
from tradewire.model.events import OrderFilled
from tradewire.model.objects import Currency, Money
from tradewire.node.backtest import BacktestEngine
from tradewire.node.kernel import VenueConfig
from tradewire.orderflow import OrderFlowConfig, OrderFlowEngine, SignalKind
from tradewire.orderflow.sessions import load_session
from tradewire.orderflow.trades import Classification
from tradewire.strategy.examples import STRATEGIES
from tradewire.venues.paper.config import BookLevel, PaperVenueConfig

FIX = Path(__file__).parent.parent / "fixtures"
BINANCE = FIX / "binance" / "hftbacktest_binance_spot_btcusdt_20240808.gz"
MBO = FIX / "databento" / "esh4-glbx-mdp3-20231225.mbo.dbn.zst"
S = 1_000_000_000


def run(session, items=None, **cfg):
    """Replay items through a DataEngine and an OrderFlowEngine; returns (state, signals)."""
    bus, cache, clock = MessageBus(), Cache(), TestClock(0)
    cache.add_instrument(session.instrument)
    de = DataEngine(bus, cache, clock)
    eng = OrderFlowEngine(bus, cache, clock, de, OrderFlowConfig(session_ns=None, **cfg))
    st = eng.subscribe(session.instrument.id)
    sigs: list = []
    bus.subscribe("events.orderflow.*", sigs.append)
    p = de.process
    for it in session.items if items is None else items:
        if type(it) is list:
            for d in it:
                p(d)
        else:
            p(it)
    eng.flush()
    return st, sigs


@pytest.fixture(scope="module")
def binance():
    return load_session(BINANCE)


@pytest.fixture(scope="module")
def mbo():
    return load_session(MBO)


@pytest.fixture(scope="module")
def binance_run(binance):
    return run(binance, footprint_interval_ns=10 * S)


@pytest.fixture(scope="module")
def mbo_run(mbo):
    return run(mbo, footprint_interval_ns=60 * S)


def _raw_binance_trades(path: Path) -> pd.DataFrame:
    """Every trade message of the capture, parsed from the raw text with pandas (no tradewire code)."""
    with gzip.open(path, "rt") as fh:
        lines = pd.Series(fh.read().splitlines())
    body = lines.str.partition(" ")[2]
    trades = body[body.str.contains('"e":"trade"', regex=False)].map(lambda s: json.loads(s)["data"])
    return pd.DataFrame(list(trades))


def test_binance_cvd_equals_signed_aggressor_volume_from_raw_file(binance, binance_run):
    st, _ = binance_run
    raw = _raw_binance_trades(BINANCE)
    qty = raw["q"].map(Decimal)
    # m = true: the buyer was the maker, so the seller was the aggressor
    signed = qty.where(~raw["m"], -qty)
    scale = Decimal(S)
    assert st.trades == len(raw) == binance.counts["trades"] == 9757  # the README's count for this file
    assert Decimal(st.cvd.session_raw) / scale == signed.sum()
    assert Decimal(st.cvd.buy_raw) / scale == qty[~raw["m"]].sum()
    assert Decimal(st.cvd.sell_raw) / scale == qty[raw["m"]].sum()
    assert st.classifier.counts[Classification.AGGRESSOR] == len(raw)
    # the VWAP is exact: sum(p q) / sum(q) over the raw strings
    pq = sum(Decimal(p) * Decimal(q) for p, q in zip(raw["p"], raw["q"], strict=True))
    assert st.vwap.vwap == pq / qty.sum()


def test_binance_book_metrics_cover_the_whole_session(binance, binance_run):
    st, sigs = binance_run
    c = binance.counts
    assert st.batches == c["book_batches"] and st.deltas == c["book_deltas"] and binance.gaps == []
    top = st.book.top
    assert top is not None and 0 < top.spread_raw < 10 * S and -1 <= top.depth_imbalance <= 1
    assert -1 <= top.weighted_depth_imbalance <= 1 and top.bid_raw / S < top.weighted_mid < top.ask_raw / S
    # one liquidity interval per second of the ~6-minute session (a few seconds may have no batch)
    assert 300 <= st.book.closed_intervals <= 400 and len(st.book.intervals) == 120  # the last 120 are kept
    assert all(iv.added_raw > 0 and iv.removed_raw > 0 for iv in st.book.intervals)
    assert sum(iv.traded_raw for iv in st.book.intervals) > 0
    va = st.profile.value_area()
    assert va[0] <= st.profile.poc() <= va[1] and va[2] >= 0.7 * st.profile.total_raw
    assert {s.kind for s in sigs} >= {SignalKind.LARGE_ORDER, SignalKind.ABSORPTION, SignalKind.IMBALANCE}


def _check_footprint_against_time_bars(st, trades: list[TradeTick], interval_s: int) -> None:
    bt = BarType(trades[0].instrument_id, BarSpecification(interval_s, BarAggregation.SECOND))
    bars = {b.ts_event: b for b in aggregate(trades, bt, flush=True)}
    fps = st.footprint.bars
    assert len(fps) == len(bars) and sum(f.volume_raw for f in fps) == sum(t.size.raw for t in trades)
    for fp in fps:
        b, a, n = fp.bid_ask_neutral_totals()
        bar = bars[fp.ts_event]
        assert b + a + n == fp.volume_raw == bar.volume.raw
        assert (fp.high_raw, fp.low_raw, fp.close_raw) == (bar.high.raw, bar.low.raw, bar.close.raw)


def test_binance_footprint_bars_sum_to_bar_volume(binance, binance_run):
    st, _ = binance_run
    trades = [it for it in binance.items if type(it) is TradeTick]
    assert all(a.ts_event <= b.ts_event for a, b in pairwise(trades))
    _check_footprint_against_time_bars(st, trades, 10)


def test_mbo_cvd_equals_signed_aggressor_volume_from_dbn(mbo, mbo_run):
    import databento as db

    st, _ = mbo_run
    df = db.DBNStore.from_file(MBO).to_df()
    tr = df[df["action"] == "T"]
    by_side = tr.groupby("side")["size"].sum().to_dict()
    n_side = int((tr["side"] == "N").sum())
    assert st.trades == len(tr) and st.volume_raw == int(tr["size"].sum()) * S
    counts = st.classifier.counts
    assert counts[Classification.AGGRESSOR] == len(tr) - n_side
    assert counts[Classification.LEE_READY] + counts[Classification.TICK] + counts[Classification.UNKNOWN] == n_side
    # every flagged trade counts by its side; the unflagged ones are inferred (recorded which way)
    flagged_cvd = (by_side.get("B", 0) - by_side.get("A", 0)) * S
    inferred = st.cvd.session_raw - flagged_cvd
    assert abs(inferred) <= by_side.get("N", 0) * S
    assert st.cvd.buy_raw + st.cvd.sell_raw + st.cvd.neutral_raw == st.volume_raw


def test_mbo_metrics_and_footprint(mbo, mbo_run):
    st, sigs = mbo_run
    assert st.batches == mbo.counts["book_batches"] and st.deltas == mbo.counts["book_deltas"]
    assert st.book.top.spread_raw == S // 4  # one ES tick at the end of the session
    assert st.profile.row_raw == S // 4  # automatic rows: the 0.25 tick
    trades = [it for it in mbo.items if type(it) is TradeTick]
    _check_footprint_against_time_bars(st, trades, 60)
    assert Counter(s.kind for s in sigs)[SignalKind.ICEBERG] > 0


def _shuffled(session, seed: int) -> list:
    """Trades' (price, size, side) permuted across the trade slots; book and quotes stay as recorded."""
    idx = [i for i, it in enumerate(session.items) if type(it) is TradeTick]
    payload = [(session.items[i].price, session.items[i].size, session.items[i].aggressor_side) for i in idx]
    random.Random(seed).shuffle(payload)
    items = list(session.items)
    for i, (p, q, a) in zip(idx, payload, strict=True):
        t = items[i]
        items[i] = TradeTick(t.instrument_id, p, q, a, t.trade_id, t.ts_event, t.ts_init)
    return items


def _key(sig) -> str:
    src = sig.details.get("source")  # imbalance: depth/volume; large order: trade/resting
    return f"{sig.kind}/{src}" if src else str(sig.kind)


def _rates(session, real: list, seeds: tuple[int, ...], interval_ns: int) -> dict:
    real_n = Counter(_key(s) for s in real if s.kind is not SignalKind.REGIME)
    runs = [
        Counter(_key(s) for s in run(session, _shuffled(session, seed), footprint_interval_ns=interval_ns)[1])
        for seed in seeds
    ]
    rates = {}
    for kind in sorted(set(real_n) | {k for r in runs for k in r}):
        if kind == "regime":
            continue
        shuffled = sum(r[kind] for r in runs) / len(runs)
        rates[kind] = {
            "real": real_n[kind],
            "shuffled_mean": shuffled,
            "fp_rate": round(shuffled / real_n[kind], 3) if real_n[kind] else None,
        }
    return rates


def test_signal_rates_on_time_shuffled_trades(binance, binance_run, mbo, mbo_run, capsys):
    """False-positive rate of each signal: signals on shuffled trades / signals on the real ordering.

    Shuffling destroys the time structure of the trades (and their consistency with the book) but keeps
    their sizes, sides and prices. A signal that keeps firing as often on shuffled data does not depend on
    the ordering it claims to detect.
    """
    btc = _rates(binance, binance_run[1], (1, 2), 10 * S)
    es = _rates(mbo, mbo_run[1], (1, 2), 60 * S)
    with capsys.disabled():
        print("\norder-flow signal rates, shuffled vs real trades, BTCUSDT 2024-08-08:", json.dumps(btc))
        print("order-flow signal rates, shuffled vs real trades, ESH4 2023-12-25:", json.dumps(es))
    # absorption needs repeated hits at one price within seconds: shuffling scatters the prices
    assert btc["absorption"]["fp_rate"] < 0.5 and es["absorption"]["fp_rate"] < 0.5
    # resting large orders read only the book, which the shuffle leaves alone: same count (a control)
    assert btc["large_order/resting"]["fp_rate"] == 1.0 and es["large_order/resting"]["fp_rate"] == 1.0
    # a one-sided run of aggressive volume is mostly an ordering effect
    assert btc["imbalance/volume"]["fp_rate"] < 1 and es["imbalance/volume"]["fp_rate"] < 1
    # aggressive-order size quantiles do not depend on order, so large trades stay: a sanity check that
    # the shuffle kept the trades themselves
    assert btc["large_order/trade"]["shuffled_mean"] > 0 and es["large_order/trade"]["shuffled_mean"] > 0


def test_stoikov_microprice_on_es_mbo(mbo, mbo_run):
    """The fitted adjustment rises with the bid imbalance and stays inside the spread (Stoikov 2018, fig. 4)."""
    import numpy as np

    from tradewire.data.book import OrderBook
    from tradewire.orderflow.microprice import fit_microprice

    book = OrderBook(mbo.instrument.id, 2, 0)
    tops = []
    for it in mbo.items:
        if type(it) is list:
            book.apply_deltas(it)
            if book.top_bid_raw is not None and book.top_ask_raw is not None:
                tops.append((book.top_bid_raw, book.best_bid_size_raw(), book.top_ask_raw, book.best_ask_size_raw()))
    model = fit_microprice(tops, mbo.instrument.tick_size.raw, n_imbalance=10, n_spread=2)
    one_tick = model.g[0]
    assert model.transitions > 10_000
    assert np.all(np.diff(one_tick) > 0)  # more bid size -> higher expected mid
    assert np.all(np.abs(one_tick) < 0.5)  # the micro-price stays between bid and ask
    assert one_tick[-1] > 0.2  # and the effect is material: > 0.2 tick at the most imbalanced bucket
    st, _ = mbo_run
    st.config = replace(st.config, microprice=model)  # the same state, now reporting the micro-price
    snap = st.snapshot()["book"]
    bid, ask = float(snap["bid"]), float(snap["ask"])
    assert bid < snap["microprice"] < ask


def test_orderflow_strategy_backtest_fills_against_the_l2_book(binance):
    session = binance
    engine = BacktestEngine(periods_per_year=365)
    engine.add_venue(
        VenueConfig(
            "BINANCE", [Money("100000", Currency.from_str("USDT"))], paper=PaperVenueConfig(book_level=BookLevel.L2)
        )
    )
    engine.add_instrument(session.instrument)
    engine.add_data(session.items)
    strat = STRATEGIES["orderflow_imbalance"](
        "ofi-001",
        {
            "instrument_id": str(session.instrument.id),
            "quantity": "0.01",
            "hold_seconds": 20,
            "orderflow": {"session_ns": None},
        },
    )
    engine.add_strategy(strat)
    cache = engine.kernel.cache
    iid = session.instrument.id
    checked = []

    def on_fill(ev) -> None:
        if isinstance(ev, OrderFilled):
            book = cache.books[iid]
            # a market order takes the visible book: a buy fills at an ask level, a sell at a bid level
            levels = book.asks_raw(20) if str(ev.order_side) == "buy" else book.bids_raw(20)
            checked.append(ev.last_px.raw in {p for p, _ in levels} or ev.last_px.raw == levels[0][0])

    engine.kernel.bus.subscribe("events.order.*", on_fill)
    result = engine.run()
    assert strat.entries >= 5 and strat.exits >= 5
    fills = result.fills
    assert len(fills) >= 10 and len(checked) == len(fills) and all(checked)
    assert {f["side"] for f in fills} == {"buy", "sell"}
    # long only: every round trip is buy then sell of the same 0.01 BTC, so the position ends flat or long 0.01
    net = sum((1 if f["side"] == "buy" else -1) * float(f["quantity"]) for f in fills)
    assert round(net, 8) in (0.0, 0.01)
    assert result.summary["trades"] >= 5
    eng_state = strat.engine.instruments[iid]
    assert eng_state.trades == session.counts["trades"]
