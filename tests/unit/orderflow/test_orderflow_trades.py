"""Trade metrics: classification, CVD, VWAP bands, volume profile, footprint bars."""

from __future__ import annotations

import math
import random
from decimal import Decimal

import numpy as np
import pytest

from tradewire.model.enums import AggressorSide
from tradewire.orderflow.footprint import FootprintAggregator, FootprintBar
from tradewire.orderflow.trades import Classification, CumulativeDelta, TradeClassifier, VolumeProfile, Vwap

S = 1_000_000_000
N = AggressorSide.NO_AGGRESSOR


def px(x: str) -> int:
    return int(Decimal(x) * S)


# ---------------------------------------------------------------- classification
def test_aggressor_flag_wins_over_inference():
    c = TradeClassifier()
    # price above the mid, but the feed says the seller was the aggressor
    assert c.classify(px("101"), AggressorSide.SELLER, px("99"), px("100")) == (-1, Classification.AGGRESSOR)
    assert c.classify(px("90"), AggressorSide.BUYER, px("99"), px("100")) == (1, Classification.AGGRESSOR)


def test_tick_rule_up_down_and_zero_ticks():
    c = TradeClassifier()
    seq = ["10", "10.5", "10.5", "10.25", "10.25", "10.25", "11"]
    got = [c.classify(px(p), N) for p in seq]
    # first: no history; up-tick; zero-up-tick; down-tick; zero-down-ticks; up-tick
    assert [g[0] for g in got] == [0, 1, 1, -1, -1, -1, 1]
    assert got[0][1] is Classification.UNKNOWN
    assert all(m is Classification.TICK for _, m in got[1:])
    assert c.counts[Classification.TICK] == 6


def test_lee_ready_quote_rule_and_midpoint_fallback():
    c = TradeClassifier()
    bid, ask = px("100"), px("100.5")
    assert c.classify(px("100.4"), N, bid, ask) == (1, Classification.LEE_READY)
    assert c.classify(px("100.1"), N, bid, ask) == (-1, Classification.LEE_READY)
    # at the mid (100.25): tick rule; last change was 100.4 -> 100.1, then 100.1 -> 100.25 is an up-tick
    assert c.classify(px("100.25"), N, bid, ask) == (1, Classification.TICK)
    # crossed or missing quote -> tick rule only
    assert c.classify(px("100.2"), N, ask, bid) == (-1, Classification.TICK)


# ---------------------------------------------------------------- CVD
def test_cvd_session_and_rolling_window():
    cvd = CumulativeDelta(window_ns=10 * S)
    cvd.update(0, 1, 5)
    cvd.update(3 * S, -1, 2)
    cvd.update(6 * S, 0, 7)
    assert (cvd.session_raw, cvd.buy_raw, cvd.sell_raw, cvd.neutral_raw) == (3, 5, 2, 7)
    assert cvd.rolling_raw == 3
    cvd.update(10 * S, 1, 1)  # the trade at t=0 leaves the 10 s window (t <= now - window)
    assert cvd.rolling_raw == -1 and cvd.rolling_buy_raw == 1 and cvd.rolling_sell_raw == 2
    assert cvd.session_raw == 4
    cvd.expire(20 * S)
    assert cvd.rolling_raw == 0 and cvd.rolling_buy_raw == 0 and cvd.rolling_sell_raw == 0
    cvd.reset_session()
    assert cvd.session_raw == 0 and cvd.buy_raw == 0


def test_cvd_rolling_matches_bruteforce_on_random_trades():
    rng = random.Random(7)
    cvd = CumulativeDelta(window_ns=5 * S)
    trades = []
    t = 0
    for _ in range(2000):
        t += rng.randrange(0, S)
        trade = (t, rng.choice((-1, 1)), rng.randrange(1, 10**9))
        trades.append(trade)
        cvd.update(*trade)
        expect = sum(s * q for ts, s, q in trades if ts > t - 5 * S)
        assert cvd.rolling_raw == expect


# ---------------------------------------------------------------- VWAP
def test_vwap_and_bands_match_numpy_weighted_statistics():
    rng = random.Random(3)
    v = Vwap()
    prices = [px(f"{rng.randrange(9000, 11000) / 100:.2f}") for _ in range(500)]
    sizes = [rng.randrange(1, 5000) * 10**6 for _ in range(500)]
    for p, q in zip(prices, sizes, strict=True):
        v.update(p, q)
    exact = Decimal(sum(p * q for p, q in zip(prices, sizes, strict=True))) / Decimal(sum(sizes)) / S
    assert v.vwap == exact
    arr_p = np.array(prices, dtype=float) / S
    arr_q = np.array(sizes, dtype=float)
    mean = np.average(arr_p, weights=arr_q)
    sd = math.sqrt(np.average((arr_p - mean) ** 2, weights=arr_q))
    assert v.std == pytest.approx(sd, rel=1e-9)
    b = v.bands((1.0, 2.0))
    assert b["upper_2"] == pytest.approx(float(exact) + 2 * sd) and b["lower_1"] == pytest.approx(float(exact) - sd)
    v.reset()
    assert v.vwap is None and v.bands() is None


# ---------------------------------------------------------------- volume profile
def test_value_area_cbot_procedure_by_hand():
    # rows 1..9 (row height 1); volumes chosen so each step of the procedure is visible:
    #   price: 1  2  3  4  5  6  7  8  9   total 100, POC = 5 (30)
    #   vol:   2  3  5 10 30 20 15 10  5
    # 70% target = 70. Area {5}=30. Pair above (6,7)=35 vs below (4,3)=15 -> up: 65.
    # Next: above (8,9)=15 vs below (4,3)=15 -> tie goes up: 80 >= 70. Area = [5, 9].
    prof = VolumeProfile(S)
    for price, vol in zip(range(1, 10), (2, 3, 5, 10, 30, 20, 15, 10, 5), strict=True):
        prof.update(price * S, vol)
    assert prof.poc() == 5 * S
    assert prof.value_area() == (5 * S, 9 * S, 80)


def test_value_area_properties_on_random_profiles():
    rng = random.Random(11)
    for _ in range(50):
        prof = VolumeProfile(25 * 10**7)  # 0.25 rows
        for _ in range(rng.randrange(1, 300)):
            prof.update(
                px("4800") + rng.randrange(-40, 40) * 25 * 10**7 + rng.randrange(0, 25 * 10**7), rng.randrange(1, 50)
            )
        lo, hi, vol = prof.value_area()
        inside = sum(v for p, v in prof.rows.items() if lo <= p <= hi)
        assert vol == inside
        assert inside >= 0.7 * prof.total_raw
        assert lo <= prof.poc() <= hi
        assert max(prof.rows.values()) == prof.rows[prof.poc()]


def test_volume_profile_rejects_bad_input():
    with pytest.raises(ValueError):
        VolumeProfile(0)
    with pytest.raises(ValueError):
        VolumeProfile(1).value_area(0)
    assert VolumeProfile(1).value_area() is None


# ---------------------------------------------------------------- footprint
def _bar(rows: dict[int, tuple[int, int]]) -> FootprintBar:
    return FootprintBar(0, S, 1, {p: [b, a, 0] for p, (b, a) in rows.items()}, 0, 0, 0, 0)


def test_diagonal_imbalance_compares_ask_with_bid_one_row_lower():
    bar = _bar({10: (5, 9), 11: (3, 16), 12: (1, 2)})
    imb = bar.diagonal_imbalances(ratio=3.0)
    # ask(11)=16 vs bid(10)=5: 16 >= 15 -> buy imbalance at 11
    # ask(10)=9 vs bid(9)=0 (no row): buy imbalance at 10
    # ask(12)=2 vs bid(11)=3: no;  bid(12)=1 vs ask(13)=0: sell imbalance at 12
    # bid(10)=5 vs ask(11)=16: no; bid(11)=3 vs ask(12)=2: 3 < 6 no
    assert imb == {10: 1, 11: 1, 12: -1}
    assert bar.diagonal_imbalances(ratio=3.0, min_volume_raw=3) == {10: 1, 11: 1}


def test_stacked_imbalances_need_consecutive_rows_same_direction():
    # asks overwhelm the bids one row below on rows 2..5 (4 rows); row 6 is both a buy (5 >= 3 * 1) and a
    # sell (5 >= 3 * 1) imbalance, so it counts as neither; bids overwhelm the asks one row up on 7..10
    rows = {
        1: (1, 0),
        2: (1, 10),
        3: (1, 10),
        4: (1, 10),
        5: (1, 10),
        6: (5, 5),
        7: (30, 1),
        8: (30, 1),
        9: (30, 1),
        10: (30, 0),
    }
    bar = _bar(rows)
    imb = bar.diagonal_imbalances(3.0)
    assert [p for p, d in sorted(imb.items()) if d == 1] == [2, 3, 4, 5]
    assert bar.stacked_imbalances(3.0, stack=3) == [(2, 5, 1), (7, 10, -1)]
    assert bar.stacked_imbalances(3.0, stack=5) == []
    with pytest.raises(ValueError):
        bar.stacked_imbalances(stack=1)


def test_footprint_aggregator_bars_sum_to_trade_volume():
    rng = random.Random(5)
    bars: list[FootprintBar] = []
    agg = FootprintAggregator(10 * S, px("0.25"), on_bar=bars.append)
    trades = []
    t = 0
    for _ in range(3000):
        t += rng.randrange(0, S // 2)
        trades.append(
            (t, px("4800") + rng.randrange(-20, 20) * px("0.25"), rng.randrange(1, 30) * S, rng.choice((-1, 0, 1)))
        )
    for i, (ts, p, q, s) in enumerate(trades):
        agg.update(ts, p, q, s, i)
    agg.flush()
    assert agg.current is None
    for bar in bars:
        in_bar = [tr for tr in trades if bar.start_ns <= tr[0] < bar.ts_event]
        b, a, n = bar.bid_ask_neutral_totals()
        assert b + a + n == bar.volume_raw == sum(tr[2] for tr in in_bar)
        assert a - b == bar.delta_raw == sum(tr[2] * tr[3] for tr in in_bar)
        assert bar.high_raw == max(tr[1] for tr in in_bar) and bar.low_raw == min(tr[1] for tr in in_bar)
        assert bar.open_raw == in_bar[0][1] and bar.close_raw == in_bar[-1][1]
    assert sum(b.trades for b in bars) == len(trades)
