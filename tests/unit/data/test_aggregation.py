"""Bar aggregation: time bars against an independent polars resampling of real trades; tick/volume/value
bars and the empty-interval rule on hand-computed sequences."""

from __future__ import annotations

import csv
import itertools
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from tradewire.core.clock import TestClock
from tradewire.data.aggregation import (
    TickBarAggregator,
    TimeBarAggregator,
    ValueBarAggregator,
    VolumeBarAggregator,
    aggregate,
    make_aggregator,
)
from tradewire.model import (
    AggressorSide,
    BarAggregation,
    BarSpecification,
    BarType,
    InstrumentId,
    Price,
    PriceType,
    Quantity,
    QuoteTick,
    TradeId,
    TradeTick,
)

FIXTURE = Path(__file__).parents[2] / "fixtures" / "tardis" / "tardis_binance-futures_BTCUSDT_trades.csv"
IID = InstrumentId("BTCUSDT.BINANCE")
S = 1_000_000_000
M = 60 * S


def bt(step: int, agg: BarAggregation, pt: PriceType = PriceType.LAST) -> BarType:
    return BarType(IID, BarSpecification(step, agg, pt))


def trade(price: str, size: str, ts: int, n: int = 0) -> TradeTick:
    return TradeTick(IID, Price(price, 2), Quantity(size, 3), AggressorSide.BUYER, TradeId(str(n or ts)), ts, ts)


def quote(bid: str, ask: str, bsz: str, asz: str, ts: int) -> QuoteTick:
    return QuoteTick(IID, Price(bid, 2), Price(ask, 2), Quantity(bsz, 3), Quantity(asz, 3), ts, ts)


def ohlcv(bar) -> tuple[str, ...]:
    return (str(bar.open), str(bar.high), str(bar.low), str(bar.close), str(bar.volume))


@pytest.fixture(scope="module")
def tardis_trades() -> list[TradeTick]:
    out = []
    with FIXTURE.open(newline="") as fh:
        for row in csv.DictReader(fh):
            ts = int(row["timestamp"]) * 1000
            side = AggressorSide.BUYER if row["side"] == "buy" else AggressorSide.SELLER
            out.append(
                TradeTick(IID, Price(row["price"], 2), Quantity(row["amount"], 3), side, TradeId(row["id"]), ts, ts)
            )
    return out


def polars_bars(every: str) -> pl.DataFrame:
    """Independent OHLCV resampling of the same CSV (windows closed left, labelled at their right edge)."""
    df = pl.read_csv(FIXTURE, schema_overrides={"price": pl.String, "amount": pl.String})
    df = df.with_columns(
        pl.col("price").cast(pl.Decimal(20, 9)),
        pl.col("amount").cast(pl.Decimal(20, 9)),
        (pl.col("timestamp") * 1000).cast(pl.Datetime("ns", "UTC")).alias("ts"),
    ).sort("ts")
    return df.group_by_dynamic("ts", every=every, closed="left", label="right").agg(
        pl.col("price").first().alias("open"),
        pl.col("price").max().alias("high"),
        pl.col("price").min().alias("low"),
        pl.col("price").last().alias("close"),
        pl.col("amount").sum().alias("volume"),
    )


def as_rows(frame: pl.DataFrame) -> list[tuple]:
    return [
        (int(r["ts"].timestamp()) * S, *(Decimal(r[c]) for c in ("open", "high", "low", "close", "volume")))
        for r in frame.iter_rows(named=True)
    ]


def bars_rows(bars) -> list[tuple]:
    return [(b.ts_event, *(x.as_decimal() for x in (b.open, b.high, b.low, b.close, b.volume))) for b in bars]


@pytest.mark.parametrize(("step", "agg", "every"), [(1, BarAggregation.MINUTE, "1m"), (1, BarAggregation.SECOND, "1s")])
def test_time_bars_match_polars_resampling(tardis_trades, step, agg, every):
    bars = aggregate(tardis_trades, bt(step, agg), flush=True)
    expected = as_rows(polars_bars(every))
    assert len(expected) > 100
    assert bars_rows(bars) == expected
    assert all(b.ts_init == b.ts_event for b in bars)


def test_time_bars_without_flush_drop_the_unfinished_last_bar(tardis_trades):
    bars = aggregate(tardis_trades, bt(1, BarAggregation.MINUTE))
    assert bars_rows(bars) == as_rows(polars_bars("1m"))[:-1]


def test_flat_empty_rule_matches_upsampled_polars(tardis_trades):
    bars = aggregate(tardis_trades, bt(1, BarAggregation.SECOND), empty="flat", flush=True)
    filled = polars_bars("1s").upsample("ts", every="1s").with_columns(pl.col("close").forward_fill())
    expected = []
    prev_close = None
    for r in filled.iter_rows(named=True):
        ts = int(r["ts"].timestamp()) * S
        if r["open"] is None:  # empty second: flat at the previous close, zero volume
            c = prev_close
            expected.append((ts, c, c, c, c, Decimal(0)))
        else:
            expected.append((ts, *(Decimal(r[k]) for k in ("open", "high", "low", "close", "volume"))))
        prev_close = Decimal(r["close"])
    assert sum(1 for e in expected if e[5] == 0) > 100  # the file does have empty seconds
    assert bars_rows(bars) == expected
    ts = [b.ts_event for b in bars]
    assert all(b - a == S for a, b in itertools.pairwise(ts))


@pytest.mark.parametrize("empty", ["skip", "flat"])
def test_clock_timer_gives_same_bars_as_tick_driven(tardis_trades, empty):
    offline = aggregate(tardis_trades[:3000], bt(1, BarAggregation.SECOND), empty=empty)
    clock = TestClock(tardis_trades[0].ts_event)
    live = []
    agg = TimeBarAggregator(bt(1, BarAggregation.SECOND), live.append, clock=clock, empty=empty)
    n_before_tick = []
    for t in tardis_trades[:3000]:
        clock.advance_time(t.ts_event)  # timers fire at boundaries before the tick is handled
        n_before_tick.append(len(live))
        agg.handle_trade_tick(t)
    assert bars_rows(live) == bars_rows(offline)
    # with a clock, a bar is out as soon as its boundary passes, even with no tick after it
    clock.advance_time(tardis_trades[2999].ts_event + 10 * S)
    assert len(live) == len(offline) + (1 if empty == "skip" else 10)
    agg.stop()
    assert clock.timer_names == []


def test_time_bar_boundary_tick_opens_next_bar_and_alignment():
    out = []
    a = TimeBarAggregator(bt(5, BarAggregation.MINUTE), out.append)
    t0 = 1_600_000_000 * S  # 2020-09-13 12:26:40 UTC: not on a 5-minute boundary
    start = t0 - t0 % (5 * M)
    a.handle_trade_tick(trade("10.00", "1", t0))
    a.handle_trade_tick(trade("11.00", "1", start + 5 * M - 1))
    a.handle_trade_tick(trade("9.00", "2", start + 5 * M))  # exactly on the boundary: next bar
    assert len(out) == 1
    assert out[0].ts_event == start + 5 * M
    assert ohlcv(out[0]) == ("10.00", "11.00", "10.00", "11.00", "2.000")
    a.flush()
    assert ohlcv(out[1]) == ("9.00", "9.00", "9.00", "9.00", "2.000")
    assert out[1].ts_event == start + 10 * M


def test_day_and_week_bars_align_to_utc_midnight_and_monday():
    day = []
    a = TimeBarAggregator(bt(1, BarAggregation.DAY), day.append)
    ts = 1_582_329_602_111_000_000  # 2020-02-22 00:00:02.111 UTC (Saturday)
    a.handle_trade_tick(trade("1.00", "1", ts))
    a.flush()
    assert day[0].ts_event == 1_582_416_000 * S  # 2020-02-23 00:00 UTC
    week = []
    w = TimeBarAggregator(bt(1, BarAggregation.WEEK), week.append)
    w.handle_trade_tick(trade("1.00", "1", ts))
    w.flush()
    assert week[0].ts_event == 1_582_502_400 * S  # Monday 2020-02-24 00:00 UTC


def test_skip_rule_emits_nothing_for_gaps_and_flat_rule_fills_them():
    ticks = [trade("100.00", "1", 0 * S + 1), trade("101.00", "2", 0 * S + 2), trade("99.00", "1", 3 * S + 5)]
    skip = aggregate(ticks, bt(1, BarAggregation.SECOND), flush=True)
    assert [b.ts_event for b in skip] == [1 * S, 4 * S]
    flat = aggregate(ticks, bt(1, BarAggregation.SECOND), empty="flat", flush=True)
    assert [b.ts_event for b in flat] == [1 * S, 2 * S, 3 * S, 4 * S]
    assert ohlcv(flat[1]) == ohlcv(flat[2]) == ("101.00", "101.00", "101.00", "101.00", "0.000")
    assert ohlcv(flat[3]) == ("99.00", "99.00", "99.00", "99.00", "1.000")


def test_late_tick_is_counted_and_added_to_open_bar():
    out = []
    a = TimeBarAggregator(bt(1, BarAggregation.SECOND), out.append)
    a.handle_trade_tick(trade("10.00", "1", 5 * S))
    a.handle_trade_tick(trade("12.00", "1", 6 * S))
    a.handle_trade_tick(trade("8.00", "1", 5 * S + 3))  # late: its second is already closed
    a.flush()
    assert a.late_ticks == 1
    assert ohlcv(out[1]) == ("12.00", "12.00", "8.00", "8.00", "2.000")


def test_tick_bars():
    out = []
    a = TickBarAggregator(bt(3, BarAggregation.TICK), out.append)
    prices = ["10.00", "12.00", "9.00", "11.00", "11.50", "10.50", "13.00"]
    for i, p in enumerate(prices):
        a.handle_trade_tick(trade(p, "1", i))
    assert [ohlcv(b) for b in out] == [
        ("10.00", "12.00", "9.00", "9.00", "3.000"),
        ("11.00", "11.50", "10.50", "10.50", "3.000"),
    ]
    assert [b.ts_event for b in out] == [2, 5]
    assert a.has_partial


def test_volume_bars_split_the_crossing_tick():
    out = []
    a = VolumeBarAggregator(bt(10, BarAggregation.VOLUME), out.append)
    # sizes 4, 5, 3 (crosses at 10: 1 of the 3 goes to bar 1), 25 (fills bar 2 with 8 more, a full bar 3,
    # and 7 left over), then 3 closes bar 4.
    for ts, (p, s) in enumerate([("10.00", "4"), ("11.00", "5"), ("12.00", "3"), ("9.00", "25"), ("9.50", "3")]):
        a.handle_trade_tick(trade(p, s, ts))
    assert [ohlcv(b) for b in out] == [
        ("10.00", "12.00", "10.00", "12.00", "10.000"),
        ("12.00", "12.00", "9.00", "9.00", "10.000"),
        ("9.00", "9.00", "9.00", "9.00", "10.000"),
        ("9.00", "9.50", "9.00", "9.50", "10.000"),
    ]
    assert [b.ts_event for b in out] == [2, 3, 3, 4]
    assert not a.has_partial


def test_volume_bars_without_split_keep_whole_ticks():
    out = []
    a = VolumeBarAggregator(bt(10, BarAggregation.VOLUME), out.append, split=False)
    for ts, s in enumerate(["4", "5", "3", "25"]):
        a.handle_trade_tick(trade("10.00", s, ts))
    assert [str(b.volume) for b in out] == ["12.000", "25.000"]


def test_volume_bars_conserve_total_volume_on_real_trades(tardis_trades):
    out = []
    a = VolumeBarAggregator(bt(50, BarAggregation.VOLUME), out.append)
    for t in tardis_trades:
        a.handle_trade_tick(t)
    total = sum(t.size.raw for t in tardis_trades)
    partial = a.partial_bar(0)
    assert all(b.volume.raw == 50 * 10**9 for b in out)
    assert len(out) * 50 * 10**9 + (partial.volume.raw if partial else 0) == total


def test_value_bars_close_on_crossing_tick_without_split():
    out = []
    a = ValueBarAggregator(bt(1000, BarAggregation.VALUE), out.append)
    # notionals: 10*20=200, 12.5*40=500 (700), 11*30=330 (1030 >= 1000: close), 9*100=900, 8*20=160 (1060: close)
    for ts, (p, s) in enumerate([("10.00", "20"), ("12.50", "40"), ("11.00", "30"), ("9.00", "100"), ("8.00", "20")]):
        a.handle_trade_tick(trade(p, s, ts))
    assert [ohlcv(b) for b in out] == [
        ("10.00", "12.50", "10.00", "11.00", "90.000"),
        ("9.00", "9.00", "8.00", "8.00", "120.000"),
    ]
    assert [b.ts_event for b in out] == [2, 4]
    assert a.value_raw == 0


def test_quote_bars_bid_ask_mid():
    qs = [quote("100.00", "100.02", "1", "2", 1), quote("100.01", "100.05", "3", "1", 2)]
    bid = aggregate(qs, bt(2, BarAggregation.TICK, PriceType.BID))
    ask = aggregate(qs, bt(2, BarAggregation.TICK, PriceType.ASK))
    mid = aggregate(qs, bt(2, BarAggregation.TICK, PriceType.MID))
    assert ohlcv(bid[0]) == ("100.00", "100.01", "100.00", "100.01", "4.000")
    assert ohlcv(ask[0]) == ("100.02", "100.05", "100.02", "100.05", "3.000")
    # mid = (bid+ask)/2 exactly, one more decimal: 100.010 and 100.030; size (1+2)/2 + (3+1)/2 = 3.5
    assert ohlcv(mid[0]) == ("100.010", "100.030", "100.010", "100.030", "3.5000")


def test_wrong_tick_kind_and_bad_specs_raise():
    a = make_aggregator(bt(1, BarAggregation.TICK, PriceType.MID), lambda b: None)
    with pytest.raises(ValueError, match="quotes, not trades"):
        a.handle_trade_tick(trade("1.00", "1", 0))
    b = make_aggregator(bt(1, BarAggregation.TICK), lambda b: None)
    with pytest.raises(ValueError, match="trades, not quotes"):
        b.handle_quote_tick(quote("1.00", "1.01", "1", "1", 0))
    with pytest.raises(ValueError, match="no fixed length"):
        make_aggregator(bt(1, BarAggregation.MONTH), lambda b: None)
    with pytest.raises(ValueError, match="positive"):
        make_aggregator(bt(0, BarAggregation.TICK), lambda b: None)
    with pytest.raises(ValueError, match="empty"):
        TimeBarAggregator(bt(1, BarAggregation.SECOND), lambda b: None, empty="zero")  # type: ignore[arg-type]
