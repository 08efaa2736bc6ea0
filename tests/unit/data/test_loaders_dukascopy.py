"""Dukascopy .bi5 tick and candle files (real EUR/USD data, Feb 2019)."""

from __future__ import annotations

import lzma
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tradewire.data.loaders import DataFormatError, detect_format, load, load_bars
from tradewire.data.loaders.dukascopy import iter_candles, iter_ticks, point_value
from tradewire.model import PriceType

DK = Path(__file__).resolve().parents[2] / "fixtures" / "dukascopy"
DAY = DK / "EURUSD" / "2019" / "01" / "04"  # months are 0-based: 4 February 2019


def ns(*args: int, ms: int = 0) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp()) * 1_000_000_000 + ms * 1_000_000


@pytest.mark.parametrize(
    ("hour", "count", "first_ms", "last_ms"),
    [(0, 3733, 994, 59 * 60_000 + 59_808), (14, 9986, 74, 59 * 60_000 + 59_860), (22, 2354, 66, 59 * 60_000 + 59_849)],
)
def test_hourly_tick_files_decode_to_the_verified_counts(hour, count, first_ms, last_ms):
    path = DAY / f"{hour:02d}h_ticks.bi5"
    assert detect_format(path) == "dukascopy-bi5"
    ticks = list(load(path))
    assert len(ticks) == count
    assert ticks[0].ts_event == ns(2019, 2, 4, hour) + first_ms * 1_000_000
    assert ticks[-1].ts_event == ns(2019, 2, 4, hour) + last_ms * 1_000_000
    assert ticks[0].instrument_id == "EURUSD.DUKASCOPY"


def test_first_tick_prices():
    t = next(iter_ticks(DAY / "00h_ticks.bi5"))
    assert (t.ask_price, t.bid_price) == (Decimal("1.14545"), Decimal("1.14543"))
    assert t.ask_price.precision == 5


def test_tick_bids_lie_inside_that_minutes_bid_candle():
    candles = {b.ts_event - 60_000_000_000: b for b in iter_candles(DAY / "BID_candles_min_1.bi5")}
    assert len(candles) == 1440
    checked = 0
    for hour in (0, 14, 22):
        for t in iter_ticks(DAY / f"{hour:02d}h_ticks.bi5"):
            c = candles[t.ts_event - t.ts_event % 60_000_000_000]
            assert c.low <= t.bid_price <= c.high, (t, c)
            checked += 1
    assert checked == 3733 + 9986 + 2354


def test_candles_field_order_and_periods_from_path():
    mins = list(iter_candles(DAY / "BID_candles_min_1.bi5"))
    assert str(mins[0].bar_type) == "EURUSD.DUKASCOPY-1-MINUTE-BID"
    assert mins[0].bar_type.spec.price_type is PriceType.BID
    assert mins[0].ts_event == ns(2019, 2, 4, 0, 1) and mins[-1].ts_event == ns(2019, 2, 5)
    # the first minute's open equals the first tick's bid; with O,C,L,H order low <= open,close <= high
    assert mins[0].open == Decimal("1.14543")
    hours = load_bars(DK / "EURUSD" / "2019" / "01" / "BID_candles_hour_1.bi5")
    assert len(hours) == 672 and hours[0].ts_event == ns(2019, 2, 1, 1) and hours[-1].ts_event == ns(2019, 3, 1)
    days = load_bars(DK / "EURUSD" / "2018" / "BID_candles_day_1.bi5")
    assert len(days) == 365 and days[0].ts_event == ns(2018, 1, 2) and days[-1].ts_event == ns(2019, 1, 1)
    # the 1-h candle of 4 Feb 00:00 aggregates the 1-min candles of that hour
    h = next(b for b in hours if b.ts_event == ns(2019, 2, 4, 1))
    first_hour = mins[:60]
    assert h.open == first_hour[0].open and h.close == first_hour[-1].close
    assert h.high == max(b.high for b in first_hour) and h.low == min(b.low for b in first_hour)


def test_empty_file_means_no_ticks():
    assert list(load(DK / "empty.bi5")) == []


def test_truncated_file_names_file_and_byte_offset(tmp_path):
    data = (DAY / "14h_ticks.bi5").read_bytes()
    cut = tmp_path / "EURUSD" / "2019" / "01" / "04" / "14h_ticks.bi5"
    cut.parent.mkdir(parents=True)
    cut.write_bytes(data[:30_000])
    with pytest.raises(DataFormatError) as exc:
        list(iter_ticks(cut))
    assert exc.value.offset == 30_000 and "14h_ticks.bi5, byte offset 30000" in str(exc.value)
    assert "truncated" in str(exc.value)


def test_partial_record_names_decompressed_offset(tmp_path):
    payload = lzma.decompress((DAY / "22h_ticks.bi5").read_bytes())
    bad = tmp_path / "EURUSD" / "2019" / "01" / "04" / "22h_ticks.bi5"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(lzma.compress(payload[:-7], format=lzma.FORMAT_ALONE))
    with pytest.raises(DataFormatError) as exc:
        list(iter_ticks(bad))
    assert exc.value.offset == (2354 - 1) * 20


def test_bad_path_and_point_table(tmp_path):
    p = tmp_path / "ticks.bi5"
    p.write_bytes((DAY / "22h_ticks.bi5").read_bytes())
    with pytest.raises(DataFormatError, match=r"HH>h_ticks\.bi5"):
        list(iter_ticks(p))
    assert point_value("USDJPY") == "0.001" and point_value("EURUSD") == "0.00001"
