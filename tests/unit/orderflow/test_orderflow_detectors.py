"""Each signal on constructed sequences: where it must fire and where it must not."""

from __future__ import annotations

import random

import numpy as np
import pytest

from tradewire.orderflow.detectors import (
    AbsorptionDetector,
    ExhaustionDetector,
    IcebergDetector,
    ImbalanceDetector,
    LargeOrderDetector,
)
from tradewire.orderflow.footprint import FootprintBar
from tradewire.orderflow.regime import RegimeIndicator, RollingCorrelation

S = 1_000_000_000
MS = 1_000_000
P = 100 * S  # a price raw


# ---------------------------------------------------------------- large order
def _warm_large(det: LargeOrderDetector, n: int = 300) -> None:
    rng = random.Random(1)
    for i in range(n):
        assert det.on_trade(i * MS, P, rng.randrange(1, 11) * S, 1) is None  # sizes 1..10


def test_large_order_fires_above_rolling_quantile():
    det = LargeOrderDetector(window=1000, quantile=0.99, min_samples=200)
    _warm_large(det)
    assert det.threshold_raw() == 10 * S  # the 99% nearest-rank quantile of 1..10 is 10
    hit = det.on_trade(10 * S, P, 11 * S, -1)
    assert hit is not None
    strength, price, details = hit
    assert strength == pytest.approx(-1.1) and price == P and details["side"] == "sell"


def test_large_order_merges_fills_of_one_aggressive_order():
    det = LargeOrderDetector(window=1000, quantile=0.99, min_samples=200)
    _warm_large(det)
    # 3 fills at one matching-engine time, same side: 6 + 6 = 12 > 10 on the second fill, fires once
    assert det.on_trade(10 * S, P, 6 * S, 1) is None
    assert det.on_trade(10 * S, P + 1, 6 * S, 1) is not None
    assert det.on_trade(10 * S, P + 2, 6 * S, 1) is None
    # the same sizes at distinct times are separate small orders
    assert det.on_trade(11 * S, P, 6 * S, 1) is None
    assert det.on_trade(12 * S, P, 6 * S, 1) is None


def test_large_order_silent_in_warm_up_and_for_typical_sizes():
    det = LargeOrderDetector(window=1000, quantile=0.99, min_samples=200)
    assert det.on_trade(0, P, 10**6 * S, 1) is None  # no history: no threshold
    _warm_large(det)
    assert det.on_trade(10 * S, P, 10 * S, 1) is None  # equal to the threshold: not above it


def test_large_resting_increase_zscore_near_the_touch_only():
    det = LargeOrderDetector(resting_window=500, resting_min_samples=200, z=4.0, near_bps=10)
    rng = random.Random(2)
    mid2 = 2 * P
    for _ in range(300):
        assert det.on_level_increase(1, P - S // 100, rng.randrange(1, 11) * S, mid2) is None
    assert det.on_level_increase(1, P - S // 100, 11 * S, mid2) is None  # within 4 sigma
    # 30 is ~8 sigma above a uniform(1..10) mean of 5.5 (sd ~2.9)
    far = det.on_level_increase(2, P + 20 * S, 30 * S, mid2)  # 20% away from the mid: ignored
    assert far is None
    hit = det.on_level_increase(2, P + S // 100, 30 * S, mid2)
    assert hit is not None and hit[0] < -1 and hit[2]["side"] == "ask"


# ---------------------------------------------------------------- absorption
def _warm_abs(det: AbsorptionDetector) -> None:
    for i in range(200):  # mean aggressive size 1, at prices far away, alternating sides
        det.on_trade(i * MS, 200 * S + i * 10**7, S, 1 if i % 2 else -1)


def test_absorption_fires_when_heavy_selling_holds_the_bid():
    det = AbsorptionDetector(window_ns=10 * S, volume_multiple=10, min_trades=5, min_hold_ns=S)
    _warm_abs(det)
    t0 = 10 * S
    fired = [det.on_trade(t0 + i * 200 * MS, P, 2 * S, -1) for i in range(8)]  # 16 units over 1.4 s
    hits = [f for f in fired if f is not None]
    assert len(hits) == 1  # once per episode
    strength, price, details = hits[0]
    assert price == P and strength >= 1 and details["side"] == "bid" and details["held_ns"] >= S


def test_absorption_silent_when_price_moves_through_or_volume_is_light():
    det = AbsorptionDetector(window_ns=10 * S, volume_multiple=10, min_trades=5, min_hold_ns=S)
    _warm_abs(det)
    t0 = 10 * S
    # heavy selling at P, but a trade prints below P after 4 hits: the level broke, the episode restarts
    out = [det.on_trade(t0 + i * 200 * MS, P, 2 * S, -1) for i in range(4)]
    out.append(det.on_trade(t0 + 900 * MS, P - S // 100, S, -1))
    out += [det.on_trade(t0 + (5 + i) * 200 * MS, P, 2 * S, -1) for i in range(3)]
    assert all(o is None for o in out)
    # light selling (5 units) held for 3 s: below the 10 x mean-size threshold
    det2 = AbsorptionDetector(window_ns=10 * S, volume_multiple=10, min_trades=5, min_hold_ns=S)
    _warm_abs(det2)
    assert all(det2.on_trade(t0 + i * 600 * MS, P, S, -1) is None for i in range(5))


# ---------------------------------------------------------------- exhaustion
def _fbar(i: int, high: int, low: int, cvd: int, rows: dict[int, tuple[int, int]]) -> FootprintBar:
    return FootprintBar(
        i * 60 * S,
        (i + 1) * 60 * S,
        S,
        {p: [b, a, 0] for p, (b, a) in rows.items()},
        low,
        high,
        low,
        high,
        cvd_close_raw=cvd,
    )


def _history(det: ExhaustionDetector) -> None:
    # 10 bars between 95 and 100; the bar that made the 100 high closed with CVD 500
    for i in range(10):
        high = 100 * S if i == 4 else 99 * S
        rows = {p * S: (10, 10) for p in range(95, high // S + 1)}
        assert det.on_bar(_fbar(i, high, 95 * S, 500 if i == 4 else 300, rows)) is None


def test_exhaustion_fires_on_new_high_with_fading_buys_and_delta_divergence():
    det = ExhaustionDetector(lookback=10, fade_ratio=0.25, require_both=True)
    _history(det)
    # new high 101: only 1 unit bought in the 101 row vs a mean of 10 per row; CVD 400 < 500 at the old high
    rows = {97 * S: (10, 12), 98 * S: (10, 12), 99 * S: (10, 12), 100 * S: (10, 12), 101 * S: (0, 1)}
    hit = det.on_bar(_fbar(10, 101 * S, 97 * S, 400, rows))
    assert hit is not None
    strength, price, details = hit
    assert strength <= -1 and price == 101 * S and details["fade"] and details["divergence"]


def test_exhaustion_silent_with_strong_buying_at_the_high_or_confirming_delta():
    det = ExhaustionDetector(lookback=10, fade_ratio=0.25, require_both=True)
    _history(det)
    strong = {99 * S: (10, 12), 100 * S: (10, 12), 101 * S: (0, 30)}
    assert det.on_bar(_fbar(10, 101 * S, 99 * S, 400, strong)) is None  # no fade
    det = ExhaustionDetector(lookback=10, fade_ratio=0.25, require_both=True)
    _history(det)
    fading = {99 * S: (10, 12), 100 * S: (10, 12), 101 * S: (0, 1)}
    assert det.on_bar(_fbar(10, 101 * S, 99 * S, 900, fading)) is None  # CVD confirms the high
    det = ExhaustionDetector(lookback=10)
    # fewer than lookback bars: nothing
    assert det.on_bar(_fbar(0, 101 * S, 99 * S, 0, fading)) is None


def test_exhaustion_at_a_low_is_bullish():
    det = ExhaustionDetector(lookback=3, fade_ratio=0.25)
    for i in range(3):
        det.on_bar(
            _fbar(
                i,
                105 * S,
                (100 if i == 1 else 101) * S,
                -500 if i == 1 else -300,
                {p * S: (10, 10) for p in range(100, 106)},
            )
        )
    rows = {99 * S: (1, 0), 100 * S: (12, 10), 101 * S: (12, 10), 102 * S: (12, 10)}
    hit = det.on_bar(_fbar(3, 102 * S, 99 * S, -400, rows))
    assert hit is not None and hit[0] >= 1 and hit[2]["extreme"] == "low"


# ---------------------------------------------------------------- imbalance
def test_depth_imbalance_fires_once_when_sustained():
    det = ImbalanceDetector(threshold=0.6, exit_threshold=0.3, min_duration_ns=S)
    outs = [det.on_depth(i * 100 * MS, 0.7) for i in range(30)]  # 2.9 s above 0.6
    hits = [o for o in outs if o is not None]
    assert len(hits) == 1 and hits[0][0] == pytest.approx(0.7 / 0.6) and hits[0][2]["held_ns"] == S
    assert det.on_depth(4 * S, 0.2) is None  # re-arms
    outs = [det.on_depth(5 * S + i * 100 * MS, -0.8) for i in range(12)]
    assert [o[0] for o in outs if o is not None] == [pytest.approx(-0.8 / 0.6)]


def test_depth_imbalance_silent_when_brief_or_flipping():
    det = ImbalanceDetector(threshold=0.6, exit_threshold=0.3, min_duration_ns=S)
    seq = [0.7] * 5 + [0.5] * 2 + [0.7] * 5 + [-0.7] * 5 + [0.7] * 5  # never 1 s on one side above 0.6
    assert all(det.on_depth(i * 100 * MS, x) is None for i, x in enumerate(seq))


def test_volume_imbalance_over_rolling_window():
    det = ImbalanceDetector(threshold=0.6, window_ns=10 * S, min_trades=20)
    balanced = [det.on_trade(i * 100 * MS, P, S, 1 if i % 2 else -1) for i in range(40)]
    assert all(o is None for o in balanced)
    outs = [det.on_trade(4 * S + i * 100 * MS, P, S, 1) for i in range(60)]
    hits = [o for o in outs if o is not None]
    assert len(hits) == 1 and hits[0][0] >= 1 and hits[0][2]["source"] == "volume"


# ---------------------------------------------------------------- iceberg
def test_iceberg_fires_after_repeated_refills_beyond_displayed_size():
    det = IcebergDetector(min_refills=3, hidden_ratio=1.0)
    ask = 2
    shown = 5 * S
    for k in range(4):
        det.on_trade(k * S, P, 5 * S, 1, shown)  # buyers take the 5 shown at the ask ...
        assert (ask, P) in det.watch
        det.on_level(ask, P, shown, shown, k * S + 100 * MS)  # ... and the level shows 5 again
    # fires once, at the 3rd refill: 15 traded > 1.0 x 5 ever shown
    assert len(det.pending) == 1
    strength, price, details = det.pending[0]
    assert price == P and strength == pytest.approx(-3.0) and details["refills"] == 3
    assert details["traded_raw"] == 15 * S and details["max_shown_raw"] == 5 * S


def test_iceberg_silent_when_the_level_just_depletes_or_is_pulled():
    det = IcebergDetector(min_refills=3, hidden_ratio=1.0)
    size = 20 * S
    for k in range(3):  # each trade of 5 is followed by the expected decrease: no refill
        det.on_trade(k * S, P, 5 * S, -1, size)
        det.on_level(1, P, size, size - 5 * S, k * S + 1)
        size -= 5 * S
    assert det.pending == [] and det.watch[(1, P)].refills == 0
    det.on_level(1, P, size, 0, 5 * S)  # level gone: no longer watched
    assert (1, P) not in det.watch
    det.expire(10**12)
    assert det.watch == {}


# ---------------------------------------------------------------- regime and correlation
def test_regime_trend_and_volatility_states():
    reg = RegimeIndicator(short=20, long=100, confirm=3)
    rng = random.Random(4)
    price = 100.0
    states = []
    for i in range(101 + 10):  # quiet random walk: range, normal-ish volatility
        price *= 1 + rng.gauss(0, 1e-4)
        if (st := reg.update(i * S, price)) is not None:
            states.append(st)
    assert reg.state is not None and reg.state["trend"] == "range"
    # a steady climb, 20x the quiet volatility: after 29 steps the short window (20) is all climb while
    # the long one (100) is still mostly quiet -> ratio ~ sqrt(100 / 29) > 1.5
    for i in range(111, 140):
        price *= 1.002
        reg.update(i * S, price)
    assert reg.state["trend"] == "up" and reg.state["volatility"] == "high"


def test_rolling_correlation_matches_numpy():
    rng = np.random.default_rng(9)
    common = rng.normal(0, 1e-3, 200)
    a = 100 * np.exp(np.cumsum(common + rng.normal(0, 5e-4, 200)))
    b = 50 * np.exp(np.cumsum(-common + rng.normal(0, 5e-4, 200)))
    corr = RollingCorrelation(interval_ns=S, window=150)
    for i in range(200):
        corr.update("A", i * S + 10, float(a[i]))
        corr.update("B", i * S + 20, float(b[i]))
    corr.update("A", 200 * S + 10, float(a[-1]))  # closes the last slot
    keys, m = corr.matrix()
    assert keys == ["A", "B"]
    ra = np.diff(np.log(a[-151:]))
    rb = np.diff(np.log(b[-151:]))
    assert m[0][1] == pytest.approx(float(np.corrcoef(ra, rb)[0, 1]))
    assert m[0][1] < -0.5 and m[0][0] == pytest.approx(1.0)


# ---------------------------------------------------------------- micro-price
def test_microprice_on_a_chain_solved_by_hand():
    from tradewire.orderflow.microprice import fit_transitions

    # 3 imbalance buckets, spread always 1 tick. High imbalance (bucket 2): half the time nothing moves,
    # half the time the mid ticks up half a tick and the book goes to the middle bucket. Middle bucket:
    # half the time nothing moves, else +/- half a tick (symmetric), staying in the middle.
    # By hand: from bucket 2, (1 - Q)^-1 = 1 / (1 - 0.5) = 2; G1 = 2 * 0.5 * 0.5 = +0.5 tick; B sends it to
    # the middle, whose G1 is 0 and stays 0, so g* = +0.5 tick; the mirror bucket 0 gets -0.5; middle 0.
    trans = [(2, 1, 0.0, 2, 1)] * 10 + [(2, 1, 0.5, 1, 1)] * 10
    trans += [(1, 1, 0.0, 1, 1)] * 10 + [(1, 1, 0.5, 1, 1)] * 5 + [(1, 1, -0.5, 1, 1)] * 5
    model = fit_transitions(trans, tick_raw=S // 4, n_imbalance=3, n_spread=1)
    assert model.g.shape == (1, 3)
    assert model.g[0].tolist() == pytest.approx([-0.5, 0.0, 0.5])
    # bid 100, ask 100.25, bid size 9 vs ask 1 -> I = 0.9, bucket 2: mid 100.125 + 0.5 * 0.25
    assert model.microprice(100 * S, 9, 100 * S + S // 4, 1) == pytest.approx(100.25)
    assert model.microprice(100 * S, 9, 100 * S + S // 2, 1) is None  # 2-tick spread: outside the model


def test_microprice_needs_usable_transitions():
    from tradewire.orderflow.microprice import fit_microprice

    with pytest.raises(ValueError):
        fit_microprice([(100, 1, 99, 1)], tick_raw=1)  # crossed: nothing usable
