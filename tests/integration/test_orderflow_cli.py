"""The ``tradewire orderflow`` command on a recorded Binance session excerpt (first 600 lines)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tradewire.cli.main import app

FIX = Path(__file__).parent.parent / "fixtures"
HEAD = FIX / "paper" / "binance_spot_btcusdt_20240808_head600.gz"


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
