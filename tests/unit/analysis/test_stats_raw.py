"""Raw-int statistics (what a backtest records) give exactly the figures of the Decimal-curve functions."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from operator import attrgetter, itemgetter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.analysis.stats import (
    NS_PER_DAY,
    TradeRecord,
    daily_returns,
    daily_returns_raw,
    day_ends,
    max_drawdown,
    max_drawdown_raw,
    raw_to_money_decimal,
    summarize,
    summarize_raw,
)
from tradewire.model import USD, Money

HOUR = 3_600_000_000_000

# equity raws around 1e17 (1e8 units at scale 1e9) with moves of up to ±1e12 raw, some runs flat
_raws = st.lists(st.one_of(st.integers(-(10**12), 10**12), st.just(0)), min_size=0, max_size=300).map(
    lambda steps: [10**17 + sum(steps[: i + 1]) for i in range(len(steps))]
)


@given(st.one_of(st.integers(-(10**24), 10**24), st.integers(-(10**12), 10**12).map(lambda v: v * 10**9)))
def test_raw_to_money_decimal_is_money_as_decimal(raw):
    got = raw_to_money_decimal(raw)
    want = Money.from_raw(raw, USD).as_decimal()
    assert got.as_tuple() == want.as_tuple() and str(got) == str(want)


@given(_raws)
def test_max_drawdown_raw_equals_decimal_version(raws):
    assert max_drawdown_raw(raws) == max_drawdown([raw_to_money_decimal(r) for r in raws])


@given(st.lists(st.integers(-(10**6), 10**6), max_size=60))
def test_max_drawdown_raw_small_and_negative_curves(raws):
    # peaks at or below zero are skipped by both, tiny ratios need the exact comparison
    assert max_drawdown_raw(raws) == max_drawdown([Decimal(r) for r in raws])


def test_max_drawdown_raw_hand_computed_and_beyond_int64():
    # peak 200 then 150: 25 %; later 300 then 240: 20 %; the worst is the first
    assert max_drawdown_raw([100, 200, 150, 300, 240, 310]) == 0.25
    assert max_drawdown_raw([]) == 0.0 and max_drawdown_raw([5]) == 0.0 and max_drawdown_raw([1, 2, 3]) == 0.0
    big = [3 * 2**70, 2**70, 4 * 2**70]  # past int64: the Decimal path, exact 2/3
    assert max_drawdown_raw(big) == float(Decimal(2) / Decimal(3))


def test_max_drawdown_raw_near_ties_are_resolved_exactly():
    # two falls whose ratios differ by ~1e-18 (a few float ulps): the exact larger one is reported
    p1, p2 = 10**18, 10**18 + 1
    curve = [p1, p1 - 3 * 10**15, p2, p2 - 3 * 10**15 - 1]
    exact = max(Fraction(3 * 10**15, p1), Fraction(3 * 10**15 + 1, p2))
    assert (
        max_drawdown_raw(curve)
        == max_drawdown([Decimal(v) for v in curve])
        == float(Decimal(exact.numerator) / Decimal(exact.denominator))
    )


@given(st.lists(st.integers(0, 6 * 24), min_size=0, max_size=200), _raws)
def test_daily_returns_raw_equals_decimal_version(hours, raws):
    n = min(len(hours), len(raws))
    ts = sorted(h * HOUR + 17 for h in hours[:n])
    raws = raws[:n]
    want = daily_returns([(t, raw_to_money_decimal(r)) for t, r in zip(ts, raws, strict=True)])
    assert daily_returns_raw(ts, raws, ordered=True) == want
    assert daily_returns_raw(ts, raws) == want
    objs = [(r, t) for t, r in zip(ts, raws, strict=True)]
    assert daily_returns_raw(objs, raws, ordered=True, key=itemgetter(1)) == want


def test_daily_returns_raw_unordered_input_and_errors():
    ts = [2 * NS_PER_DAY, 0, NS_PER_DAY]
    raws = [300, 100, 200]
    assert daily_returns_raw(ts, raws) == [1.0, 0.5]
    with pytest.raises(ValueError, match="3 timestamps for 2"):
        daily_returns_raw(ts, raws[:2])
    with pytest.raises(ValueError, match="ordered"):
        daily_returns_raw(ts, raws, key=int)


def test_day_ends():
    d = NS_PER_DAY
    assert day_ends([]) == []
    assert day_ends([0, 1, d - 1, d, 5 * d, 5 * d + 1]) == [2, 3, 5]
    assert day_ends([7]) == [0]


# trade amounts as raws: integral, a few decimals, or all nine; fees 0 or positive
_amount = st.one_of(
    st.integers(-5000, 5000).map(lambda v: v * 10**9),
    st.integers(-(10**6), 10**6).map(lambda v: v * 10**6),
    st.integers(-(10**13), 10**13),
)
_trades = st.lists(st.tuples(_amount, st.one_of(st.just(0), _amount.map(abs))), max_size=10)


@settings(max_examples=80)
@given(_raws, _trades)
def test_summarize_raw_equals_summarize(raws, trades_raw):
    ts = [i * HOUR for i in range(len(raws))]
    trades = [
        TradeRecord("X.SIM", "BUY", Decimal(1), 0, 1, Decimal(1), Decimal(2), raw_to_money_decimal(p),
                    raw_to_money_decimal(f), "USD")
        for p, f in trades_raw
    ]  # fmt: skip
    pnl = [p for p, _ in trades_raw]
    fees = [f for _, f in trades_raw]
    start = 10**17 + 123_456_789
    want = summarize(trades, [(t, raw_to_money_decimal(r)) for t, r in zip(ts, raws, strict=True)],
                     raw_to_money_decimal(start), 365, 7, "USD")  # fmt: skip
    got = summarize_raw(pnl, fees, ts, raws, start, 365, 7, "USD")
    assert got == want  # strings too: "closed_pnl" and "fees" keep the Decimal sums' exponents
    objs = [type("S", (), {"ts_event": t})() for t in ts]
    assert summarize_raw(pnl, fees, objs, raws, start, 365, 7, "USD", ts_key=attrgetter("ts_event")) == want


def test_summarize_raw_sum_representation_by_hand():
    # 1.50 + 2.25 -> "3.75"; 1.5 + 1.5 -> "3.0" (Decimal keeps the terms' exponent); no trades -> "0"
    s = summarize_raw([1_500_000_000, 2_250_000_000], [0, 0], [0], [10**9], 10**9)
    assert s["closed_pnl"] == "3.75" and s["fees"] == "0" and s["profit_factor"] is None
    s = summarize_raw([1_500_000_000, 1_500_000_000, -(10**9)], [0, 0, 10**9 // 2], [0], [10**9], 10**9)
    assert s["closed_pnl"] == "2.0" and s["fees"] == "0.5" and s["win_rate_pct"] == 2 / 3 * 100
    assert s["profit_factor"] == 2.0  # wins 3.0 over a loss of -1.5 net
    assert summarize_raw([], [], [], [], 10**9)["closed_pnl"] == "0"
    with pytest.raises(ValueError, match="1 trade P&Ls for 0 trade fees"):
        summarize_raw([1], [], [], [], 0)
