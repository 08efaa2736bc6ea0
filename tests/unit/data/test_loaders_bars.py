"""Bar loaders on the real recorded fixtures (counts from the data README, values from the file text)."""

from __future__ import annotations

import gzip
import itertools
import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tradewire.data.loaders import DataFormatError, detect_format, instrument_for, iter_bars, load, load_bars
from tradewire.data.loaders.lean import lean_bar_types
from tradewire.model import AssetClass, BarType, InstrumentClass, Price, PriceType, Quantity

FIX = Path(__file__).resolve().parents[2] / "fixtures"
BARS = FIX / "bars"
ET = ZoneInfo("America/New_York")


def ns(*args: int, tz=UTC) -> int:
    """Epoch ns of a wall-clock time (whole seconds) in ``tz``."""
    return int(datetime(*args, tzinfo=tz).timestamp()) * 1_000_000_000


def ohlcv(bar) -> tuple[str, str, str, str, str]:
    return str(bar.open), str(bar.high), str(bar.low), str(bar.close), str(bar.volume)


def test_yahoo_orcl_daily_counts_values_and_close_time():
    path = BARS / "backtrader_orcl-1995-2014.txt"
    assert detect_format(path) == "yahoo-csv"
    bars = load_bars(path)
    assert len(bars) == 5036
    first, last = bars[0], bars[-1]
    assert str(first.bar_type) == "ORCL.SIM-1-DAY-LAST"
    # 1995-01-03,2.179012,2.191358,2.117284,2.117284,1.883304,36301200 (Adj Close ignored)
    assert ohlcv(first) == ("2.179012", "2.191358", "2.117284", "2.117284", "36301200")
    assert first.ts_event == first.ts_init == ns(1995, 1, 4)  # end of the 1995-01-03 interval
    # 2014-12-31,45.450001,45.560001,44.970001,44.970001,42.303135,13269200
    assert ohlcv(last) == ("45.450001", "45.560001", "44.970001", "44.970001", "13269200")
    assert last.ts_event == ns(2015, 1, 1)
    assert all(a.ts_event < b.ts_event for a, b in itertools.pairwise(bars))
    assert first.open.raw == 2_179_012_000  # exact, not via float


def test_yahoo_nvda_count_and_symbol():
    bars = load_bars(BARS / "backtrader_nvda-1999-2014.txt")
    assert len(bars) == 4012
    assert bars[0].instrument_id == "NVDA.SIM"
    assert bars[0].ts_event == ns(1999, 1, 23)
    assert bars[-1].ts_event == ns(2015, 1, 1)


@pytest.fixture(scope="module")
def btc_perp() -> list:
    return load_bars(BARS / "btc-perp-20211231-20220201_1m.csv.gz")


@pytest.fixture(scope="module")
def cme_6e() -> list:
    return load_bars(BARS / "6EH4.XCME_1min_bars_20240101_20240131.csv.gz")


def test_btc_perp_gz_csv_timestamp_is_close_time_and_exact_values(btc_perp):
    path = BARS / "btc-perp-20211231-20220201_1m.csv.gz"
    assert detect_format(path) == "ohlcv-csv"
    bars = btc_perp
    assert len(bars) == 45031
    assert str(bars[0].bar_type) == "BTC-PERP.SIM-1-MINUTE-LAST"
    # 2021-12-31 23:01:00.000000,46319.0,46385.0,46319.0,46377.0,2300413.7295
    assert bars[0].ts_event == ns(2021, 12, 31, 23, 1)
    assert bars[0].open == Decimal("46319.0") and bars[0].volume == Decimal("2300413.7295")
    # 2022-02-01 05:31:00.000000,38525.0,38546.0,38525.0,38544.0,685906.9735
    assert bars[-1].ts_event == ns(2022, 2, 1, 5, 31)
    assert bars[-1].close == Decimal("38544.0") and bars[-1].volume == Decimal("685906.9735")
    # the file has gap-filled rows with 3-decimal prices, e.g. line 17524: ...,43613.875,260300.751275
    assert bars[0].open.precision == 3
    b = bars[17524 - 2]
    assert b.ts_event == ns(2022, 1, 13, 3, 3) and b.close == Decimal("43613.875")
    # float-written volume text 218102.59507500002 (line 249) rounds half-even to the 7 decimals seen elsewhere
    assert bars[249 - 2].volume == Decimal("218102.5950750")
    closes = [b.close.raw for b in bars]
    assert min(closes) == 33061 * 10**9 and max(closes) == 47988 * 10**9  # README: close 33,061-47,988


def test_btc_perp_open_label_shifts_by_one_interval():
    path = BARS / "btc-perp-20211231-20220201_1m.csv.gz"
    first = next(iter_bars(path, timestamp_label="open", price_precision=3, size_precision=7))
    assert first.ts_event == ns(2021, 12, 31, 23, 2)


def test_cme_6e_gz_close_time_convention_matches_daily_halt(cme_6e):
    bars = cme_6e
    assert len(bars) == 29996
    assert str(bars[0].bar_type) == "6EH4.XCME-1-MINUTE-LAST"
    assert bars[0].ts_event == ns(2024, 1, 1, 23, 1)
    assert ohlcv(bars[0]) == ("1.10760", "1.10785", "1.10760", "1.10780", "205")
    assert bars[-1].ts_event == ns(2024, 1, 31, 23, 59)
    # CME Globex halts 22:00-23:00 UTC in January: no bar may end strictly inside (22:00, 23:01)
    for b in bars:
        t = datetime.fromtimestamp(b.ts_event / 1e9, UTC)
        assert not (t.hour == 22 and t.minute > 0) and not (t.hour == 23 and t.minute == 0)
    inst = instrument_for(bars[0].bar_type)
    assert inst.instrument_class is InstrumentClass.FUTURE and inst.asset_class is AssetClass.FX
    assert inst.tick_size == Price("0.00005", 5) and inst.multiplier == Quantity(125000, 0)
    assert all(inst.is_on_tick(b.close) for b in bars)


def test_binance_kline_close_time_plus_one_ms():
    path = BARS / "binance_ADABTC-1m-2021-11-27.csv"
    assert detect_format(path) == "binance-kline-csv"
    bars = load_bars(path)
    assert len(bars) == 10
    assert str(bars[0].bar_type) == "ADABTC.BINANCE-1-MINUTE-LAST"
    # 1637971200000,0.00002853,0.00002854,0.00002851,0.00002854,36304.20000000,1637971259999,...
    assert bars[0].ts_event == 1637971259999 * 10**6 + 10**6
    assert ohlcv(bars[0]) == ("0.00002853", "0.00002854", "0.00002851", "0.00002854", "36304.20000000")
    assert bars[-1].ts_event == ns(2021, 11, 27, 0, 10)


def test_freqtrade_feather_open_time_plus_interval():
    path = BARS / "freqtrade_ETH_BTC-5m.feather"
    bars = load_bars(path)
    assert len(bars) == 5760
    assert str(bars[0].bar_type) == "ETHBTC.SIM-5-MINUTE-LAST"
    assert bars[0].ts_event == ns(2018, 1, 10, 5, 0)  # date 04:55 + 5 min
    assert bars[-1].ts_event == ns(2018, 1, 30, 4, 55)
    # stored doubles 0.0984 / 0.09946999000000001 -> shortest text, rounded to the 8 decimals seen
    assert bars[0].open == Decimal("0.0984")
    assert bars[1].open == Decimal("0.09946999")
    assert bars[0].open.precision == 8


def test_kraken_ohlc_drops_the_uncommitted_last_frame():
    path = FIX / "kraken" / "kraken_http_ohlc_XBTUSDT_1m.json"
    assert detect_format(path) == "kraken-ohlc-json"
    bars = load_bars(path)
    assert len(bars) == 720  # 721 entries; the last (time 1762820220 > last 1762820160) is not committed
    assert str(bars[0].bar_type) == "XBTUSDT.KRAKEN-1-MINUTE-LAST"
    assert bars[0].ts_event == (1762777020 + 60) * 10**9
    assert bars[0].open == Decimal("106038.2") and bars[0].volume == 0
    assert bars[-1].ts_event == (1762820160 + 60) * 10**9


def test_lean_equity_minute_trade_new_york_time_and_scaling():
    path = BARS / "lean_equity_usa_minute_spy_20131007_trade.zip"
    assert detect_format(path) == "lean-zip"
    bars = load_bars(path)
    assert len(bars) == 828
    # 14400000,1674100,1674100,1672500,1672700,3197 -> 04:00 ET open, 04:01 ET close (EDT = UTC-4)
    assert bars[0].ts_event == ns(2013, 10, 7, 4, 1, tz=ET) == ns(2013, 10, 7, 8, 1)
    assert ohlcv(bars[0]) == ("167.41", "167.41", "167.25", "167.27", "3197")


def test_lean_equity_daily_dst_aware_and_count():
    bars = load_bars(BARS / "lean_equity_usa_daily_spy.zip")
    assert len(bars) == 5849
    # 19980102 00:00,973100,975300,965300,973600,2150000: the period is 1998-01-02 in New York (EST)
    assert bars[0].ts_event == ns(1998, 1, 3, tz=ET) == ns(1998, 1, 3, 5)
    assert bars[0].open == Decimal("97.31") and bars[0].volume == 2150000
    assert bars[-1].ts_event == ns(2021, 4, 1, tz=ET)


def test_lean_quote_bars_split_into_bid_and_ask_series():
    bars = load_bars(BARS / "lean_equity_usa_minute_spy_20131007_quote.zip")
    bids = [b for b in bars if b.bar_type.spec.price_type is PriceType.BID]
    asks = [b for b in bars if b.bar_type.spec.price_type is PriceType.ASK]
    assert len(bids) == len(asks) == 908
    # 14400000,1672700,1672700,1671500,1672500,300,1680000,1680000,1672600,1672700,20000
    assert ohlcv(bids[0]) == ("167.27", "167.27", "167.15", "167.25", "300")
    assert ohlcv(asks[0]) == ("168.00", "168.00", "167.26", "167.27", "20000")


def test_lean_futures_zip_yields_each_contract_merged_in_time_order():
    path = BARS / "lean_future_cme_minute_es_20131008_trade.zip"
    types = [str(t) for t in lean_bar_types(path)]
    assert types == [f"ES{c}.XCME-1-MINUTE-LAST" for c in ("Z3", "H4", "M4", "U4")]
    bars = load_bars(path)
    counts = {t: sum(1 for b in bars if str(b.bar_type) == t) for t in types}
    assert list(counts.values()) == [1372, 342, 6, 1]
    assert all(a.ts_event <= b.ts_event for a, b in itertools.pairwise(bars))
    # futures times are UTC: 0,1667.5,1667.75,1667.25,1667.5,48 -> bar 00:00-00:01 UTC
    assert bars[0].ts_event == ns(2013, 10, 8, 0, 1)
    inst = instrument_for(bars[0].bar_type)
    assert inst.tick_size == Price("0.25", 2) and inst.multiplier == Quantity(50, 0)


def test_lean_futures_quote_rows_with_an_empty_side():
    bars = load_bars(BARS / "lean_future_cme_minute_es_20131008_quote.zip")
    z3 = [b for b in bars if b.instrument_id == "ESZ3.XCME"]
    bid = [b for b in z3 if b.bar_type.spec.price_type is PriceType.BID]
    ask = [b for b in z3 if b.bar_type.spec.price_type is PriceType.ASK]
    assert len(bid) == 1406 and len(ask) == 1408  # two rows of the 201312 file have an empty bid side


def test_lean_crypto_is_utc_and_unscaled():
    bars = load_bars(BARS / "lean_crypto_coinbase_minute_btcusd_20180405_trade.zip")
    assert len(bars) == 1440
    assert bars[0].instrument_id == "BTCUSD.COINBASE"
    assert bars[0].ts_event == ns(2018, 4, 5, 0, 1)
    assert ohlcv(bars[0]) == ("6791.68", "6791.68", "6778.01", "6778.01", "26.84379253")


def test_registry_load_returns_bars_iterator():
    it = load(BARS / "binance_ADABTC-1m-2021-11-27.csv")
    assert next(it).close == Decimal("0.00002854")


def test_explicit_bar_type_and_precision():
    bt = BarType.from_str("ORCL.XNYS-1-DAY-LAST")
    bars = load_bars(BARS / "backtrader_orcl-1995-2014.txt", bar_type=bt, price_precision=6)
    assert bars[0].bar_type == bt and bars[0].open.precision == 6
    with pytest.raises(DataFormatError, match=r"backtrader_orcl-1995-2014\.txt, line 2: open 2\.179012 has more"):
        load_bars(BARS / "backtrader_orcl-1995-2014.txt", price_precision=2)


def test_instrument_for_files(btc_perp):
    orcl = instrument_for(BARS / "backtrader_orcl-1995-2014.txt")
    assert orcl.asset_class is AssetClass.EQUITY and orcl.price_precision == 6 and orcl.id == "ORCL.SIM"
    perp = instrument_for(btc_perp[0].bar_type, price_precision=btc_perp[0].open.precision)
    assert perp.instrument_class is InstrumentClass.PERPETUAL and perp.tick_size == Decimal(1)
    ada = instrument_for(BARS / "binance_ADABTC-1m-2021-11-27.csv")
    assert ada.base_currency.code == "ADA" and ada.quote_currency.code == "BTC" and ada.price_precision == 8


# --- errors ------------------------------------------------------------------------------------------


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_bad_row_names_file_and_line(tmp_path):
    src = (BARS / "backtrader_orcl-1995-2014.txt").read_text().splitlines()
    src[3] = "1995-01-06,2.135803,2.1x,2.0,2.1,1.9,100"
    p = _write(tmp_path, "orcl-bad.txt", "\n".join(src))
    with pytest.raises(DataFormatError) as exc:
        load_bars(p)
    assert exc.value.line == 4 and "orcl-bad.txt, line 4" in str(exc.value) and "'2.1x'" in str(exc.value)


def test_unknown_column_is_rejected(tmp_path):
    p = _write(tmp_path, "x_1m.csv", "timestamp,open,high,low,close,volume,vwap\n2024-01-01 00:01:00,1,1,1,1,1,1\n")
    with pytest.raises(DataFormatError, match=r"x_1m\.csv, line 1: unknown column 'vwap'"):
        load_bars(p)


def test_wrong_field_count_and_inconsistent_ohlc(tmp_path):
    p = _write(
        tmp_path, "y_1m.csv", "timestamp,open,high,low,close\n2024-01-01 00:01:00,1,2,1,1\n2024-01-01 00:02:00,1,2\n"
    )
    with pytest.raises(DataFormatError, match=r"line 3: expected 5 fields, got 3"):
        load_bars(p)
    p = _write(tmp_path, "z_1m.csv", "timestamp,open,high,low,close\n2024-01-01 00:01:00,1,0.5,1,1\n")
    with pytest.raises(DataFormatError, match=r"line 2: inconsistent OHLC"):
        load_bars(p)
    p = _write(tmp_path, "t_1m.csv", "timestamp,open,high,low,close\n2024-13-01 00:01:00,1,1,1,1\n")
    with pytest.raises(DataFormatError, match=r"line 2: bad timestamp"):
        load_bars(p)


def test_truncated_gzip_names_file(tmp_path):
    data = (BARS / "6EH4.XCME_1min_bars_20240101_20240131.csv.gz").read_bytes()
    p = tmp_path / "6EH4.XCME_1min_cut.csv.gz"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFormatError, match=r"6EH4\.XCME_1min_cut\.csv\.gz, line \d+: cannot read past"):
        load_bars(p)


def test_plain_and_gzip_give_identical_bars(tmp_path):
    p = tmp_path / "6EH4.XCME_1min_plain.csv"
    with gzip.open(BARS / "6EH4.XCME_1min_bars_20240101_20240131.csv.gz", "rb") as src, p.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    a = list(itertools.islice(iter_bars(p, price_precision=5, size_precision=0), 500))
    b = list(itertools.islice(iter_bars(BARS / "6EH4.XCME_1min_bars_20240101_20240131.csv.gz"), 500))
    assert a == b and len(a) == 500


def test_timestamp_label_rejected_where_source_defines_it():
    with pytest.raises(ValueError, match="only"):
        load_bars(BARS / "binance_ADABTC-1m-2021-11-27.csv", timestamp_label="open")


def test_lean_bad_row_names_member_and_line(tmp_path):
    import zipfile

    p = tmp_path / "equity_usa_minute_spy_bad.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("20131007_spy_minute_trade.csv", "14400000,1674100,1674100,1672500,1672700,3197\n14460000,16,1\n")
    with pytest.raises(DataFormatError, match=r"spy_bad\.zip!20131007_spy_minute_trade\.csv, line 2: expected 6"):
        load_bars(p)


def test_date_only_timestamps_denote_the_period_start(tmp_path):
    p = _write(tmp_path, "abc.csv", ",Open,High,Low,Close,Volume\n2004-08-19,100.00,104.06,95.96,100.34,22351900\n"
                                   "2004-08-20,101.01,109.08,100.50,108.31,11428600\n")  # fmt: skip
    bars = load_bars(p)
    assert str(bars[0].bar_type) == "ABC.SIM-1-DAY-LAST"
    assert bars[0].ts_event == ns(2004, 8, 20) and bars[1].ts_event == ns(2004, 8, 21)
    assert bars[0].ts_event - ns(2004, 8, 19) == int(timedelta(days=1).total_seconds()) * 10**9


def test_databento_ohlcv_through_load_bars():
    path = FIX / "databento" / "databento_futures_ohlcv-1m_2024-07-01T23-40_2024-07-02T00-10.dbn.zst"
    bars = load_bars(path)
    assert len(bars) == 60 and bars[0].ts_event == ns(2024, 7, 1, 23, 41)


def test_timestamp_edge_cases(tmp_path):
    p = _write(
        tmp_path, "edge_1m.csv",
        "timestamp,open,high,low,close\n2024-01-01T00:01:00.123456789Z,1,1,1,1\n2024-01-01 00:02:00-01:00,1,1,1,1\n"
        "2024-01-01 24:03:00,1,1,1,1\n",
    )  # fmt: skip
    with pytest.raises(DataFormatError, match=r"edge_1m\.csv, line 4: bad timestamp '2024-01-01 24:03:00'"):
        load_bars(p, price_precision=0, size_precision=0)
    bars = list(itertools.islice(iter_bars(p, price_precision=0, size_precision=0), 2))
    assert bars[0].ts_event == ns(2024, 1, 1, 0, 1) + 123456789
    assert bars[1].ts_event == ns(2024, 1, 1, 1, 2)  # -01:00 offset


def test_lean_equity_times_on_a_dst_change_day_are_wall_clock(tmp_path):
    import zipfile

    # 3 Nov 2013: New York falls back from EDT (UTC-4) to EST (UTC-5) at 02:00 local.
    p = tmp_path / "equity_usa_minute_spy_dst.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("20131103_spy_minute_trade.csv", "0,1700000,1700000,1700000,1700000,1\n"
                                                     "10800000,1700000,1700000,1700000,1700000,1\n")  # fmt: skip
    a, b = load_bars(p)
    assert a.ts_event == ns(2013, 11, 3, 0, 1, tz=ET) == ns(2013, 11, 3, 4, 1)  # 00:01 EDT
    assert b.ts_event == ns(2013, 11, 3, 3, 1, tz=ET) == ns(2013, 11, 3, 8, 1)  # 03:01 EST
