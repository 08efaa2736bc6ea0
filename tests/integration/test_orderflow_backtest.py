"""The order-flow example strategy in a backtest on the recorded Binance session (paper venue, L2 fills),
and the ``tradewire orderflow`` command."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tradewire.cli.main import app
from tradewire.model.events import OrderFilled
from tradewire.model.objects import Currency, Money
from tradewire.node.backtest import BacktestEngine
from tradewire.node.kernel import VenueConfig
from tradewire.orderflow.sessions import load_session
from tradewire.strategy.examples import STRATEGIES
from tradewire.venues.paper.config import BookLevel, PaperVenueConfig

FIX = Path(__file__).parent.parent / "fixtures"
BINANCE = FIX / "binance" / "hftbacktest_binance_spot_btcusdt_20240808.gz"
HEAD = FIX / "paper" / "binance_spot_btcusdt_20240808_head600.gz"
S = 1_000_000_000


def test_orderflow_strategy_backtest_fills_against_the_l2_book():
    session = load_session(BINANCE)
    engine = BacktestEngine(periods_per_year=365)
    engine.add_venue(
        VenueConfig(
            "BINANCE", [Money("100000", Currency.from_str("USDT"))], paper=PaperVenueConfig(book_level=BookLevel.L2)
        )
    )
    engine.add_instrument(session.instrument)
    engine.add_data(session.items)
    strat = STRATEGIES["orderflow_imbalance"](
        "ofi-001",
        {
            "instrument_id": str(session.instrument.id),
            "quantity": "0.01",
            "hold_seconds": 20,
            "orderflow": {"session_ns": None},
        },
    )
    engine.add_strategy(strat)
    cache = engine.kernel.cache
    iid = session.instrument.id
    checked = []

    def on_fill(ev) -> None:
        if isinstance(ev, OrderFilled):
            book = cache.books[iid]
            # a market order takes the visible book: a buy fills at an ask level, a sell at a bid level
            levels = book.asks_raw(20) if str(ev.order_side) == "buy" else book.bids_raw(20)
            checked.append(ev.last_px.raw in {p for p, _ in levels} or ev.last_px.raw == levels[0][0])

    engine.kernel.bus.subscribe("events.order.*", on_fill)
    result = engine.run()
    assert strat.entries >= 5 and strat.exits >= 5
    fills = result.fills
    assert len(fills) >= 10 and len(checked) == len(fills) and all(checked)
    assert {f["side"] for f in fills} == {"buy", "sell"}
    # long only: every round trip is buy then sell of the same 0.01 BTC, so the position ends flat or long 0.01
    net = sum((1 if f["side"] == "buy" else -1) * float(f["quantity"]) for f in fills)
    assert round(net, 8) in (0.0, 0.01)
    assert result.summary["trades"] >= 5
    eng_state = strat.engine.instruments[iid]
    assert eng_state.trades == session.counts["trades"]


def test_cli_orderflow_json_and_plots(tmp_path):
    runner = CliRunner()
    png, html = tmp_path / "of.png", tmp_path / "of.html"
    res = runner.invoke(app, ["orderflow", "--data", str(HEAD), "--json", "--bar-seconds", "5", "--plot", str(png)])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output.strip().splitlines()[-1])
    buy, sell = float(out["buy_volume"]), float(out["sell_volume"])
    assert out["trades"] > 0 and round(buy - sell, 5) == float(out["cvd"])
    assert set(out["signals"]) == {"large_order", "absorption", "exhaustion", "imbalance", "iceberg", "regime"}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    res = runner.invoke(app, ["orderflow", "--data", str(HEAD), "--plot", str(html)])
    assert res.exit_code == 0, res.output
    assert "<svg" in html.read_text() and "buy_volume" in html.read_text()
    assert "last footprint bar" in res.output


def test_cli_orderflow_bad_input(tmp_path):
    runner = CliRunner()
    bad = tmp_path / "bad.txt"
    bad.write_text("123 {not json}\n")
    res = runner.invoke(app, ["orderflow", "--data", str(bad), "--json"])
    assert res.exit_code == 2 and "bad.txt" in res.output and "line 1" in res.output
    res = runner.invoke(app, ["orderflow", "--data", str(HEAD), "--plot", str(tmp_path / "x.jpg")])
    assert res.exit_code == 2 and ".png or .html" in res.output
