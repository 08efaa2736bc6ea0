"""The bars-only replay loop: progress calls, subscriptions made mid-run, set-up order, lazy results."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

from tradewire.analysis.stats import raw_to_money_decimal
from tradewire.model import USD, Money
from tradewire.model.data import Bar, BarType
from tradewire.model.instruments import equity
from tradewire.model.objects import Price, Quantity
from tradewire.node.backtest import BacktestEngine
from tradewire.node.kernel import VenueConfig
from tradewire.strategy.base import Strategy
from tradewire.strategy.examples.sma_cross import SmaCross

BARS = Path(__file__).resolve().parents[2] / "fixtures" / "bars" / "btc-perp-20211231-20220201_1m.csv.gz"
BT = BarType.from_str("BTCPERP.SIM-1-MINUTE-LAST")
BT2 = BarType.from_str("ETHPERP.SIM-1-MINUTE-LAST")


def _bars(n: int, bar_type: BarType = BT) -> list[Bar]:
    out = []
    with gzip.open(BARS, "rt") as fh:
        next(fh)
        for line in fh:
            ts, o, h, lo, c, _v = line.rstrip("\n").split(",")
            t = int(datetime.strptime(ts, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC).timestamp()) * 10**9
            out.append(Bar(bar_type, *(Price.from_str(x) for x in (o, h, lo, c)), Quantity(1, 0), t, t))
            if len(out) == n:
                break
    return out


def _engine(venue_first: bool = True) -> BacktestEngine:
    e = BacktestEngine(periods_per_year=365)
    if venue_first:
        e.add_venue(VenueConfig("SIM", [Money("1000000", USD)]))
    e.add_instrument(equity("BTCPERP", "SIM", "USD", 1))
    e.add_instrument(equity("ETHPERP", "SIM", "USD", 1))
    if not venue_first:
        e.add_venue(VenueConfig("SIM", [Money("1000000", USD)]))
    return e


def test_progress_reports_the_same_indices_as_a_per_event_check():
    e = _engine()
    e.add_data(_bars(30))
    calls: list[tuple[int, int]] = []
    e.run(progress=lambda done, total: calls.append((done, total)), progress_every=7)
    assert calls == [(i, 30) for i in range(0, 30, 7)] + [(30, 30)]


class LateSubscriber(Strategy):
    """Takes BT bars from the start and BT2 bars from its 5th BT bar on."""

    def __init__(self) -> None:
        super().__init__("late-001")
        self.got: list[tuple[str, int]] = []

    def on_start(self) -> None:
        self.subscribe_bars(BT)

    def on_bar(self, bar: Bar) -> None:
        self.got.append((str(bar.bar_type.instrument_id), bar.ts_event))
        if bar.bar_type == BT and len(self.got) == 5:
            self.subscribe_bars(BT2)


def test_subscription_made_during_the_run_takes_effect_from_the_next_bar():
    a, b = _bars(20, BT), _bars(20, BT2)  # same timestamps: BT bars come first at each time (added first)
    e = _engine()
    e.add_data(a)
    e.add_data(b)
    s = LateSubscriber()
    e.add_strategy(s)
    e.run()
    t5 = a[4].ts_event  # the 5th BT bar: its BT2 twin (same time, later in the stream) is delivered
    want = [("BTCPERP.SIM", x.ts_event) for x in a]
    want += [("ETHPERP.SIM", x.ts_event) for x in b if x.ts_event >= t5]
    assert sorted(s.got, key=lambda g: (g[1], g[0])) == sorted(want, key=lambda g: (g[1], g[0]))
    assert e.kernel.data_engine.counts["bars"] == 40


def test_instrument_added_before_its_venue_trades_the_same():
    bars = _bars(3000)
    results = []
    for venue_first in (True, False):
        e = _engine(venue_first)
        e.add_data(bars)
        e.add_strategy(SmaCross("sma-001", {"bar_type": BT, "fast": 10, "slow": 30, "quantity": "1"}))
        results.append(e.run())
    assert results[0].summary["fills"] > 20
    assert results[0].fills == results[1].fills and results[0].equity_raw == results[1].equity_raw


def test_pipeline_rebuilt_when_topology_changes():
    e = BacktestEngine()
    e.add_instrument(equity("BTCPERP", "SIM", "USD", 1))
    k = e.kernel
    before = k.bar_pipeline(BT)
    assert k.bar_pipeline(BT) is before
    e.add_venue(VenueConfig("SIM", [Money("1000000", USD)]))
    assert k.bar_pipeline(BT) is not before


def test_result_curve_and_fills_built_on_access_match_the_recorded_raws():
    bars = _bars(3000)
    e = _engine()
    e.add_data(bars)
    e.add_strategy(SmaCross("sma-001", {"bar_type": BT, "fast": 10, "slow": 30, "quantity": "1"}))
    r = e.run()
    assert r.equity_ts == [b.ts_event for b in bars]
    assert r.equity_curve == [(b.ts_event, raw_to_money_decimal(x)) for b, x in zip(bars, r.equity_raw, strict=True)]
    assert r.equity_curve is r.equity_curve and r.fills is r.fills
    assert len(r.fills) == r.summary["fills"] and r.fills[0]["instrument_id"] == "BTCPERP.SIM"
    assert r.summary["final_equity"] == str(r.equity_curve[-1][1])
