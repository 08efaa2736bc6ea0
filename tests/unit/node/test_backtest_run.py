"""BacktestEngine.run: equity curve values, GC tuning restored, identical results with and without it."""

from __future__ import annotations

import gc
import gzip
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tradewire.model import USD, Money
from tradewire.model.data import Bar, BarType
from tradewire.model.instruments import equity
from tradewire.model.objects import Price, Quantity
from tradewire.node.backtest import BacktestEngine, raw_to_money_decimal
from tradewire.node.kernel import VenueConfig
from tradewire.strategy.examples.sma_cross import SmaCross

BARS = Path(__file__).resolve().parents[2] / "fixtures" / "bars" / "btc-perp-20211231-20220201_1m.csv.gz"
BT = BarType.from_str("BTCPERP.SIM-1-MINUTE-LAST")


@given(st.one_of(st.integers(-(10**24), 10**24), st.integers(-(10**12), 10**12).map(lambda v: v * 10**9)))
def test_raw_to_money_decimal_is_money_as_decimal(raw):
    got = raw_to_money_decimal(raw)
    want = Money.from_raw(raw, USD).as_decimal()
    assert got.as_tuple() == want.as_tuple() and str(got) == str(want)


def _bars(n: int) -> list[Bar]:
    out = []
    with gzip.open(BARS, "rt") as fh:
        next(fh)
        for line in fh:
            ts, o, h, lo, c, _v = line.rstrip("\n").split(",")
            t = int(datetime.strptime(ts, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC).timestamp()) * 10**9
            px = [Price.from_str(x) for x in (o, h, lo, c)]
            out.append(Bar(BT, *px, Quantity(1, 0), t, t))
            if len(out) == n:
                break
    return out


def _run(bars: list[Bar], tune_gc: bool):
    e = BacktestEngine(periods_per_year=365, tune_gc=tune_gc)
    e.add_venue(VenueConfig("SIM", [Money("1000000", USD)]))
    e.add_instrument(equity("BTCPERP", "SIM", "USD", 1))
    e.add_data(bars)
    e.add_strategy(SmaCross("sma-001", {"bar_type": BT, "fast": 10, "slow": 30, "quantity": "1"}))
    return e.run(), e


def test_gc_tuning_changes_nothing_but_speed_and_is_restored():
    bars = _bars(3000)  # real BTC-PERP minutes: the SMA 10/30 crosses dozens of times
    before = gc.get_threshold()
    tuned, engine = _run(bars, True)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    plain, _ = _run(bars, False)
    assert tuned.summary["fills"] > 20
    assert tuned.fills == plain.fills and tuned.equity_curve == plain.equity_curve
    assert [t.pnl for t in tuned.trades] == [t.pnl for t in plain.trades]
    # the curve's raw fast path agrees with Portfolio.equity (full recomputation) at the end of the run
    assert tuned.equity_curve[-1][1] == engine.kernel.portfolio.equity(USD).as_decimal()
    assert len(tuned.equity_curve) == len(bars)
