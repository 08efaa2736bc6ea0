"""Bar fill modes and the OHLC path on real ORCL daily bars (backtrader sample, 1995).

Rows used (Date, Open, High, Low, Close):
  1995-01-03 2.179012 2.191358 2.117284 2.117284
  1995-01-04 2.123457 2.148148 2.092592 2.135803   (close >= open: path O -> H -> L -> C)
  1995-01-05 2.141975 2.148148 2.086420 2.092592   (close <  open: path O -> L -> H -> C)
  1995-01-06 2.092592 2.154321 2.061728 2.117284
Each bar's ts_event is the end of its day (next 00:00 UTC); its open time is ts_event - 1 day.
"""

from __future__ import annotations

import datetime as dt

from tradewire.model import InstrumentId, LiquiditySide, OrderStatus
from tradewire.venues.paper import BarFillMode, PaperVenueConfig

ORCL = InstrumentId("ORCL.PAPER")


def _ns(y, m, d):
    return int(dt.datetime(y, m, d, tzinfo=dt.UTC).timestamp()) * 1_000_000_000


def _fills(h, order):
    return [(str(f.last_px), str(f.last_qty), f.ts_event) for f in h.of(order, "OrderFilled")]


def test_bar_rows_parsed(orcl_bars):
    assert len(orcl_bars) == 40
    assert str(orcl_bars[1].open) == "2.123457" and orcl_bars[1].ts_event == _ns(1995, 1, 5)


def test_next_open_fills_market_at_next_bar_open(orcl_bars, orcl, harness):
    h = harness([orcl], config=PaperVenueConfig(bar_fill_mode=BarFillMode.NEXT_OPEN))
    h.client.process_bar(orcl_bars[0])
    order = h.submit(ORCL, "buy", "market", "100")
    assert h.of(order, "OrderFilled") == []
    h.client.process_bar(orcl_bars[1])
    assert _fills(h, order) == [("2.123457", "100", _ns(1995, 1, 4))]
    assert h.of(order, "OrderFilled")[0].liquidity_side is LiquiditySide.TAKER


def test_close_mode_fills_market_at_latest_close(orcl_bars, orcl, harness):
    h = harness([orcl], config=PaperVenueConfig(bar_fill_mode=BarFillMode.CLOSE))
    h.client.process_bar(orcl_bars[0])
    order = h.submit(ORCL, "buy", "market", "100")
    assert _fills(h, order) == [("2.117284", "100", orcl_bars[0].ts_event)]
    h.client.process_bar(orcl_bars[1])
    assert len(h.of(order, "OrderFilled")) == 1


def test_limit_fills_at_limit_when_the_path_crosses_it(orcl_bars, orcl, harness):
    h = harness([orcl])
    h.client.process_bar(orcl_bars[0])
    order = h.submit(ORCL, "buy", "limit", "100", price="2.100000")
    h.client.process_bar(orcl_bars[1])  # open 2.123457 above, low 2.092592 below the limit
    assert _fills(h, order) == [("2.100000", "100", orcl_bars[1].ts_event)]
    assert h.of(order, "OrderFilled")[0].liquidity_side is LiquiditySide.MAKER


def test_limit_gapped_through_fills_at_open(orcl_bars, orcl, harness):
    h = harness([orcl])
    h.client.process_bar(orcl_bars[0])
    order = h.submit(ORCL, "buy", "limit", "100", price="2.130000")
    h.client.process_bar(orcl_bars[1])
    assert _fills(h, order) == [("2.123457", "100", _ns(1995, 1, 4))]


def test_ioc_on_bars_only_gets_the_open(orcl_bars, orcl, harness):
    h = harness([orcl])
    h.client.process_bar(orcl_bars[0])
    order = h.submit(ORCL, "buy", "limit", "100", price="2.100000", tif="ioc")
    h.client.process_bar(orcl_bars[1])
    assert h.of(order, "OrderFilled") == []
    assert h.replay(order).status is OrderStatus.CANCELED


def test_stop_triggers_at_trigger_on_the_path(orcl_bars, orcl, harness):
    h = harness([orcl])
    for bar in orcl_bars[:2]:
        h.client.process_bar(bar)
    buy_stop = h.submit(ORCL, "buy", "stop_market", "100", trigger="2.145000")
    h.client.process_bar(orcl_bars[2])  # high 2.148148 reaches the trigger
    assert _fills(h, buy_stop) == [("2.145000", "100", orcl_bars[2].ts_event)]
    sell_stop = h.submit(ORCL, "sell", "stop_market", "100", trigger="2.070000")
    h.client.process_bar(orcl_bars[3])  # low 2.061728
    assert _fills(h, sell_stop) == [("2.070000", "100", orcl_bars[3].ts_event)]
    assert h.client.generate_position_reports() == []  # bought and sold 100: flat


def test_path_order_open_high_low_close_on_up_bar(orcl_bars, orcl, harness):
    # Up bar (1995-01-04): O 2.123457 -> H 2.148148 triggers the stop at 2.14, then H -> L 2.092592
    # reaches the limit 2.10. With O -> L -> H -> C the limit would never be reached after the trigger.
    h = harness([orcl])
    h.client.process_bar(orcl_bars[0])
    order = h.submit(ORCL, "buy", "stop_limit", "100", price="2.100000", trigger="2.140000")
    h.client.process_bar(orcl_bars[1])
    assert len(h.of(order, "OrderTriggered")) == 1
    assert _fills(h, order) == [("2.100000", "100", orcl_bars[1].ts_event)]


def test_path_order_open_low_high_close_on_down_bar(orcl_bars, orcl, harness):
    # Down bar (1995-01-05): O 2.141975 -> L 2.086420 -> H 2.148148 -> C 2.092592. The same stop-limit
    # triggers on L -> H at 2.14 and fills on H -> C at its limit 2.10.
    h = harness([orcl])
    for bar in orcl_bars[:2]:
        h.client.process_bar(bar)
    order = h.submit(ORCL, "buy", "stop_limit", "100", price="2.100000", trigger="2.140000")
    h.client.process_bar(orcl_bars[2])
    assert _fills(h, order) == [("2.100000", "100", orcl_bars[2].ts_event)]
    # and a sell limit at 2.147 on a fresh down bar is reached only after the low (at the high)
    h2 = harness([orcl])
    for bar in orcl_bars[:2]:
        h2.client.process_bar(bar)
    sell = h2.submit(ORCL, "sell", "limit", "100", price="2.147000")
    h2.client.process_bar(orcl_bars[2])
    assert _fills(h2, sell) == [("2.147000", "100", orcl_bars[2].ts_event)]


def test_no_orders_bar_path_keeps_latest_bar(orcl_bars, orcl, harness):
    h = harness([orcl])
    for bar in orcl_bars:
        h.client.process_bar(bar)
    engine = h.client.matching_engine(ORCL)
    assert engine.last_bar is orcl_bars[-1] and engine.ts == orcl_bars[-1].ts_event
    assert h.events == []


def test_up_bar_with_low_nearer_the_open_still_walks_high_first(orcl_bars, orcl, harness):
    # 1995-01-06: O 2.092592 H 2.154321 L 2.061728 C 2.117284 - an up bar whose low (0.030864 away) is
    # nearer the open than its high (0.061729 away). The engine's one rule (bar_path_raw) walks
    # O -> H -> L -> C, like the OMS emulator, so the buy stop fills before the sell stop.
    h = harness([orcl])
    for bar in orcl_bars[:3]:
        h.client.process_bar(bar)
    sell_stop = h.submit(ORCL, "sell", "stop_market", "100", trigger="2.065000")
    buy_stop = h.submit(ORCL, "buy", "stop_market", "100", trigger="2.150000")
    h.client.process_bar(orcl_bars[3])
    fills = [e for e in h.events if type(e).__name__ == "OrderFilled"]
    assert [f.client_order_id for f in fills] == [buy_stop.client_order_id, sell_stop.client_order_id]
    assert [str(f.last_px) for f in fills] == ["2.150000", "2.065000"]
