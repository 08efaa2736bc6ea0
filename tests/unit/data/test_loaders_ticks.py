"""Tick and order book loaders on the real recorded fixtures (counts from the data README)."""

from __future__ import annotations

import collections
import itertools
import zipfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tradewire.data.loaders import FORMATS, DataFormatError, detect_format, load
from tradewire.data.loaders.bybit import iter_bybit_orderbook
from tradewire.data.loaders.coinbase import iter_coinbase_ws
from tradewire.data.loaders.lean import iter_lean_ticks
from tradewire.data.loaders.tardis import (
    iter_tardis_book_snapshot,
    iter_tardis_incremental_l2,
    iter_tardis_quotes,
    iter_tardis_trades,
)
from tradewire.data.loaders.ticks import (
    iter_binance_trades_parquet,
    iter_freqtrade_trades_csv,
    iter_freqtrade_trades_json,
    iter_histdata,
    iter_kraken_trades,
    iter_truefx,
)
from tradewire.model import AggressorSide, BookAction, BookSide, OrderBookDelta, QuoteTick, TradeTick

FIX = Path(__file__).resolve().parents[2] / "fixtures"
ET = ZoneInfo("America/New_York")


def ns(*args: int, us: int = 0, tz=UTC) -> int:
    return int(datetime(*args, tzinfo=tz).timestamp()) * 1_000_000_000 + us * 1_000


def sides(ticks) -> collections.Counter:
    return collections.Counter(t.aggressor_side for t in ticks)


# --- Tardis ------------------------------------------------------------------------------------------


def test_tardis_trades_counts_sides_and_times():
    path = FIX / "tardis" / "tardis_binance-futures_BTCUSDT_trades.csv"
    assert detect_format(path) == "tardis-trades"
    ticks = list(iter_tardis_trades(path))
    assert len(ticks) == 9999
    assert sides(ticks) == {AggressorSide.BUYER: 5267, AggressorSide.SELLER: 4732}
    # binance-futures,BTCUSDT,1582329602111000,1582329602418379,42377944,buy,9682,0.132
    t = ticks[0]
    assert t.instrument_id == "BTCUSDT-PERP.BINANCE"
    assert (t.ts_event, t.ts_init) == (1582329602111000 * 1000, 1582329602418379 * 1000)
    assert t.price == Decimal(9682) and t.size == Decimal("0.132") and t.trade_id == "42377944"
    assert ticks[-1].ts_event == ns(2020, 2, 22, 2, 5, 47, us=728000)


def test_tardis_bitmex_trades_sample():
    ticks = list(load(FIX / "tardis" / "tardis_bitmex_trades_XBTUSD.csv"))
    assert len(ticks) == 10 and sides(ticks) == {AggressorSide.SELLER: 10}
    assert ticks[0].instrument_id == "XBTUSD.BITMEX"


def test_tardis_quotes():
    path = FIX / "tardis" / "tardis_binance-futures_BTCUSDT_quotes.csv"
    q = list(iter_tardis_quotes(path))
    assert len(q) == 9999
    # first: ask_amount 0.84, ask 9682, bid 9681.92, bid_amount 0.67
    assert (str(q[0].bid_price), str(q[0].ask_price), str(q[0].bid_size), str(q[0].ask_size)) == (
        "9681.92", "9682.00", "0.670", "0.840",
    )  # fmt: skip
    # last: 1582329827061000,1582329827181582,0.031,9672.09,9671.19,0.012
    assert q[-1].bid_price == Decimal("9671.19") and q[-1].ask_size == Decimal("0.031")
    assert (q[-1].ts_event, q[-1].ts_init) == (1582329827061000000, 1582329827181582000)


def test_tardis_incremental_l2_snapshot_batch():
    deltas = list(iter_tardis_incremental_l2(FIX / "tardis" / "tardis_deribit_incremental_book_L2_BTC-PERPETUAL.csv"))
    assert len(deltas) == 16  # CLEAR + 15 snapshot rows
    assert deltas[0].action is BookAction.CLEAR
    assert all(d.flags & OrderBookDelta.F_SNAPSHOT for d in deltas)
    assert [d.is_last for d in deltas].count(True) == 1 and deltas[-1].is_last
    assert deltas[1].side is BookSide.ASK and deltas[1].price == Decimal("6421.5") and deltas[1].size == 18640
    assert deltas[-1].price == Decimal("6428.5") and deltas[-1].size == 39950


def test_tardis_incremental_l2_updates_and_deletes(tmp_path):
    p = tmp_path / "l2.csv"
    p.write_text(
        "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n"
        "deribit,X,1,2,true,bid,10,1\nderibit,X,1,2,true,ask,11,2\n"
        "deribit,X,5,6,false,bid,10,0\nderibit,X,5,6,false,bid,9.5,3\nderibit,X,7,8,false,ask,11,4\n"
        "deribit,X,9,9,true,bid,10,1\n"
    )
    d = list(iter_tardis_incremental_l2(p))
    actions = [(x.action, x.is_last) for x in d]
    assert actions == [
        (BookAction.CLEAR, False), (BookAction.ADD, False), (BookAction.ADD, True),
        (BookAction.DELETE, False), (BookAction.UPDATE, True), (BookAction.UPDATE, True),
        (BookAction.CLEAR, False), (BookAction.ADD, True),
    ]  # fmt: skip
    assert d[4].price == Decimal("9.5") and d[4].ts_event == 5000 and d[4].ts_init == 6000


def test_tardis_book_snapshot_25():
    deltas = list(iter_tardis_book_snapshot(FIX / "tardis" / "tardis_binance-futures_book_snapshot_25_BTCUSDT.csv"))
    assert len(deltas) == 10 * 51  # 10 rows x (CLEAR + 25 bids + 25 asks)
    assert sum(d.is_last for d in deltas) == 10
    # first row: asks[0] 11657.08 x 1.714, bids[0] 11657.07 x 10.896
    first = deltas[:51]
    bids0 = next(d for d in first if d.side is BookSide.BID and d.action is BookAction.ADD)
    asks0 = next(d for d in first if d.side is BookSide.ASK)
    assert (bids0.price, bids0.size) == (Decimal("11657.07"), Decimal("10.896"))
    assert (asks0.price, asks0.size) == (Decimal("11657.08"), Decimal("1.714"))
    assert first[0].ts_event == 1598918403696000 * 1000


def test_tardis_unknown_column_and_bad_row(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("exchange,symbol,timestamp,local_timestamp,id,side,price,amount,extra\n")
    with pytest.raises(DataFormatError, match=r"t\.csv, line 1: unknown column 'extra'"):
        list(iter_tardis_trades(p))
    p.write_text(
        "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\nx,Y,1,2,9,buy,1,1\nx,Y,1,2,9,up,1,1\n"
    )
    with pytest.raises(DataFormatError, match=r"t\.csv, line 3: unknown side 'up'"):
        list(iter_tardis_trades(p))


# --- Binance Parquet ---------------------------------------------------------------------------------


def test_binance_parquet_trades_and_quotes():
    trades = list(iter_binance_trades_parquet(FIX / "ticks" / "binance_spot_btcusdt-trades.parquet"))
    assert len(trades) == 2001
    t = trades[0]  # 2021-01-08 00:00:00.278, 553287559, 39432.48, 0.000263, buyer_maker "True"
    assert t.instrument_id == "BTCUSDT.BINANCE" and t.trade_id == "553287559"
    assert t.price == Decimal("39432.48") and t.size == Decimal("0.000263")
    assert t.aggressor_side is AggressorSide.SELLER and trades[1].aggressor_side is AggressorSide.BUYER
    assert t.ts_event == ns(2021, 1, 8, us=278000)
    assert trades[-1].ts_event == ns(2021, 1, 8, 0, 0, 46, us=355000)
    quotes = list(load(FIX / "ticks" / "binance_spot_btcusdt-quotes.parquet"))
    assert len(quotes) == 451
    q = quotes[0]  # ask_size 0.066851, ask 39433.62, bid_size 0.0031, bid 39432.99
    assert (q.bid_price, q.ask_price, q.bid_size, q.ask_size) == (
        Decimal("39432.99"), Decimal("39433.62"), Decimal("0.0031"), Decimal("0.066851"),
    )  # fmt: skip
    assert quotes[-1].ts_event == ns(2021, 1, 8, 0, 0, 46, us=674000)


# --- FX CSVs -----------------------------------------------------------------------------------------


def test_truefx():
    q = list(iter_truefx(FIX / "ticks" / "truefx_usdjpy-ticks.csv"))
    assert len(q) == 1000 and q[0].instrument_id == "USDJPY.SIM"
    assert q[0].ts_event == ns(2013, 1, 1, 22, 0, 0, us=295000)
    assert (q[0].bid_price, q[0].ask_price) == (Decimal("86.655"), Decimal("86.728"))
    assert q[-1].ts_event == ns(2013, 1, 1, 22, 35, 13, us=494000) and q[-1].ask_price == Decimal("86.854")


def test_histdata_is_est_plus_five_hours_all_year(tmp_path):
    path = FIX / "ticks" / "histdata_eurusd_quote_tick_data.csv"
    assert detect_format(path) == "histdata-csv"
    q = list(iter_histdata(path))
    assert len(q) == 9500 and q[0].instrument_id == "EURUSD.SIM"
    # 20200101 170000065,1.121200,1.121720,0 -> 22:00:00.065 UTC
    assert q[0].ts_event == ns(2020, 1, 1, 22, 0, 0, us=65000)
    assert (str(q[0].bid_price), str(q[0].ask_price)) == ("1.121200", "1.121720")
    # 20200101 230052125 -> 2020-01-02 04:00:52.125 UTC
    assert q[-1].ts_event == ns(2020, 1, 2, 4, 0, 52, us=125000)
    bids = [x.bid_price for x in q]
    assert min(bids) == Decimal("1.12106") and max(bids) == Decimal("1.12245")
    # in July New York is on EDT (UTC-4), but HistData stays on EST: still +5 h
    p = tmp_path / "DAT_ASCII_EURUSD_T_202007.csv"
    p.write_text("20200701 120000000,1.123450,1.123470,0\n")
    (summer,) = list(iter_histdata(p))
    assert summer.ts_event == ns(2020, 7, 1, 17, 0, 0)
    assert summer.ts_event != ns(2020, 7, 1, 12, tz=ET)  # not DST-adjusted


def test_histdata_bad_time(tmp_path):
    p = tmp_path / "eurusd.csv"
    p.write_text("20200101 170000065,1.1212,1.1217,0\n20200101 17000,1.1212,1.1217,0\n")
    with pytest.raises(DataFormatError, match=r"eurusd\.csv, line 2: bad time"):
        list(iter_histdata(p))


# --- Kraken / freqtrade ------------------------------------------------------------------------------


def test_kraken_trades_exact_time_and_sides():
    ticks = list(iter_kraken_trades(FIX / "kraken" / "kraken_http_trades_XBTUSDT.json"))
    assert len(ticks) == 1000
    assert sides(ticks) == {AggressorSide.BUYER: 578, AggressorSide.SELLER: 422}
    # ["105433.60000", "0.00027625", 1762795433.9717445, "b", "l", "", 10218208]
    t = ticks[0]
    assert t.instrument_id == "XBTUSDT.KRAKEN" and t.trade_id == "10218208"
    assert t.price == Decimal("105433.6") and t.size == Decimal("0.00027625")
    assert t.ts_event == 1762795433_971744500  # the decimal seconds, exactly (no float rounding)


def test_freqtrade_trades_csv_needs_instrument_and_counts_sides():
    path = FIX / "ticks" / "freqtrade_orderflow_public_trades_list.csv"
    with pytest.raises(ValueError, match="instrument_id"):
        list(iter_freqtrade_trades_csv(path))
    ticks = list(iter_freqtrade_trades_csv(path, instrument_id="ETHUSDT.SIM"))
    assert len(ticks) == 1000 and sides(ticks) == {AggressorSide.BUYER: 527, AggressorSide.SELLER: 473}
    # 0,1675329600138,1206419187,,buy,1666.8,26.062,...
    assert ticks[0].ts_event == 1675329600138 * 10**6 and ticks[0].price == Decimal("1666.8")
    assert ticks[0].size == Decimal("26.062")


def test_freqtrade_trades_json_gz_uses_raw_aggtrade():
    path = FIX / "ticks" / "freqtrade_XRP_OLD-trades.json.gz"
    assert detect_format(path) == "freqtrade-trades-json"
    ticks = list(iter_freqtrade_trades_json(path))
    assert len(ticks) == 12477
    assert sides(ticks) == {AggressorSide.BUYER: 6524, AggressorSide.SELLER: 5953}
    # {"a":13519807,"p":"0.00141342","q":"23.00000000","T":1570752011620,"m":true}
    t = ticks[0]
    assert t.instrument_id == "XRPETH.BINANCE" and t.trade_id == "13519807"
    assert str(t.price) == "0.00141342" and str(t.size) == "23.00000000"
    assert t.aggressor_side is AggressorSide.SELLER and t.ts_event == ns(2019, 10, 11, 0, 0, 11, us=620000)
    assert ticks[-1].ts_event == ns(2019, 10, 13, 11, 19, 28, us=844000)


# --- Coinbase WS capture -----------------------------------------------------------------------------


def test_coinbase_capture_types_and_counts():
    path = FIX / "coinbase" / "cryptofeed_COINBASE.ws.28.0"
    assert detect_format(path) == "coinbase-ws"
    objs = list(iter_coinbase_ws(path))
    trades = [o for o in objs if isinstance(o, TradeTick)]
    quotes = [o for o in objs if isinstance(o, QuoteTick)]
    deltas = [o for o in objs if isinstance(o, OrderBookDelta)]
    assert len(trades) == 97 and len(quotes) == 107
    assert sum(d.action is BookAction.CLEAR for d in deltas) == 10  # one per snapshot
    assert sum(d.is_last for d in deltas) == 10 + 9719  # one batch per snapshot and per l2update
    assert len({d.instrument_id for d in deltas}) == 10
    # line 56: match SKL-BTC side "sell" (maker sold) size 985 price 0.00001305 -> buyer aggressor
    t = trades[0]
    assert t.instrument_id == "SKL-BTC.COINBASE" and t.aggressor_side is AggressorSide.BUYER
    assert t.price == Decimal("0.00001305") and t.size == 985 and t.trade_id == "280232"
    assert t.ts_event == ns(2021, 4, 17, 16, 43, 37, us=89723) and t.ts_init == 1618677817_129516100
    # line 35: first l2update SKL-BTC ["sell","0.00001306","660.5"]
    u = next(d for d in deltas if not d.flags & OrderBookDelta.F_SNAPSHOT)
    assert (u.side, u.price, u.size, u.action) == (
        BookSide.ASK,
        Decimal("0.00001306"),
        Decimal("660.5"),
        BookAction.UPDATE,
    )
    assert sum(d.action is BookAction.DELETE for d in deltas) > 0


def test_coinbase_include_last_match_and_bad_line(tmp_path):
    path = FIX / "coinbase" / "cryptofeed_COINBASE.ws.28.0"
    n = sum(isinstance(o, TradeTick) for o in iter_coinbase_ws(path, include_last_match=True))
    assert n == 97 + 10
    bad = tmp_path / "cb.ws"
    bad.write_text('wss://x <-> 1\n\n1618677817.0: {"type":"heartbeat"}\n1618677817.1 {"type":"x"}\n')
    with pytest.raises(DataFormatError, match=r"cb\.ws, line 4: expected '<epoch seconds>: <json>'"):
        list(iter_coinbase_ws(bad))
    bad.write_text('1618677817.0: {"type":"full","product_id":"A-B"}\n')
    with pytest.raises(DataFormatError, match=r"line 1: unknown message type 'full'"):
        list(iter_coinbase_ws(bad))


# --- Bybit -------------------------------------------------------------------------------------------


def test_bybit_orderbook_zip():
    path = FIX / "bybit" / "bybit_xrpusdt-ob500.data.zip"
    assert detect_format(path) == "bybit-orderbook"
    deltas = list(iter_bybit_orderbook(path))
    assert sum(d.is_last for d in deltas) == 50  # 1 snapshot + 49 delta messages
    snap = [d for d in deltas if d.flags & OrderBookDelta.F_SNAPSHOT]
    assert snap[0].action is BookAction.CLEAR and len(snap) == 1 + 500 + 500
    assert snap[1].side is BookSide.BID and (snap[1].price, snap[1].size) == (Decimal("1.9531"), 6203)
    assert snap[0].sequence == 20254869 and snap[0].ts_event == 1733011200589 * 10**6
    assert snap[0].ts_init == 1733011200691 * 10**6
    rest = deltas[len(snap) :]
    assert rest[0].sequence == 20254870 and rest[0].price == Decimal("1.9531") and rest[0].size == 6198
    # the last message starts with ["1.9538","0"] on the bid side: a delete
    last_msg_first = next(d for d in rest if d.ts_init == 1733011205490 * 10**6)
    assert last_msg_first.action is BookAction.DELETE and last_msg_first.price == Decimal("1.9538")
    assert all(a.sequence <= b.sequence for a, b in itertools.pairwise(deltas))


def test_bybit_bad_json_names_member_and_line(tmp_path):
    src = zipfile.ZipFile(FIX / "bybit" / "bybit_xrpusdt-ob500.data.zip")
    name = src.namelist()[0]
    lines = src.read(name).decode().splitlines()
    lines[2] = lines[2][:50]
    p = tmp_path / "bad_ob500.data.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr(name, "\n".join(lines))
    with pytest.raises(DataFormatError, match=rf"bad_ob500\.data\.zip!{name}, line 3: invalid JSON"):
        list(iter_bybit_orderbook(p))


# --- LEAN ticks --------------------------------------------------------------------------------------


def test_lean_equity_trade_ticks_new_york_time():
    path = FIX / "ticks" / "lean_equity_usa_tick_spy_20131007_trade.zip"
    ticks = list(load(path))
    assert len(ticks) == 250601
    # 14400464,1674100,100,P,20002000,0 -> 04:00:00.464 EDT = 08:00:00.464 UTC
    t = ticks[0]
    assert t.ts_event == ns(2013, 10, 7, 4, 0, 0, us=464000, tz=ET) == ns(2013, 10, 7, 8, 0, 0, us=464000)
    assert t.price == Decimal("167.41") and t.size == 100 and t.aggressor_side is AggressorSide.NO_AGGRESSOR
    # 71999536,1673000,100,K,2000,0 -> 19:59:59.536 EDT
    assert ticks[-1].ts_event == ns(2013, 10, 7, 23, 59, 59, us=536000) and ticks[-1].price == Decimal("167.30")


def test_lean_forex_quote_ticks_utc():
    q = list(iter_lean_ticks(FIX / "ticks" / "lean_forex_oanda_tick_eurusd_20140501_quote.zip"))
    assert len(q) == 24179 and q[0].instrument_id == "EURUSD.OANDA"
    # 292,1.38676,1.38686 -> 00:00:00.292 UTC
    assert q[0].ts_event == ns(2014, 5, 1, 0, 0, 0, us=292000)
    assert (q[0].bid_price, q[0].ask_price) == (Decimal("1.38676"), Decimal("1.38686"))
    assert q[-1].ts_event == ns(2014, 5, 1, 23, 59, 31, us=310000)


def test_registry_lists_formats_and_rejects_unknown():
    for name in ("yahoo-csv", "tardis-trades", "coinbase-ws", "bybit-orderbook", "binance-ws-gz", "dukascopy-bi5"):
        assert name in FORMATS
    with pytest.raises(ValueError, match="unknown format"):
        load(FIX / "ticks" / "truefx_usdjpy-ticks.csv", format="nope")
