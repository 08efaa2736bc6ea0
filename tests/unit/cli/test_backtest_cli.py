import csv
import json
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from tradewire.cli.main import app

ROOT = Path(__file__).resolve().parents[3]
ORCL = ROOT / "tests" / "fixtures" / "bars" / "backtrader_orcl-1995-2014.txt"
runner = CliRunner()


def test_backtest_json_and_trades_out(tmp_path):
    out = tmp_path / "trades.csv"
    chart = tmp_path / "eq.png"
    res = runner.invoke(
        app,
        ["backtest", "--data", str(ORCL), "--strategy", "sma_cross", "--param", "fast=10", "--param", "slow=30",
         "--fill", "next-open", "--trades-out", str(out), "--chart", str(chart), "--json"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary["bar_type"] == "ORCL.SIM-1-DAY-LAST"
    assert summary["fills"] == 195
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == summary["trades"] == 97
    first = rows[0]
    assert first["entry_ts"] == "1995-05-12T00:00:00Z"
    assert Decimal(first["entry_price"]) == Decimal("2.370370")  # the open of 1995-05-12 in the file
    assert Decimal(first["exit_price"]) == Decimal("2.935185")
    assert Decimal(first["pnl"]) == Decimal("0.564815")
    assert chart.stat().st_size > 1000


def test_close_fill_mode_changes_prices():
    res = runner.invoke(app, ["backtest", "--data", str(ORCL), "--fill", "close", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout.strip().splitlines()[-1])["fill"] == "close"


def test_malformed_row_names_file_and_line(tmp_path):
    bad = tmp_path / "bad-1995.txt"
    lines = ORCL.read_text().splitlines()[:50]
    lines[7] = "1995-01-12,2.1,2.2,notaprice,2.15,2.0,1000"
    bad.write_text("\n".join(lines) + "\n")
    res = runner.invoke(app, ["backtest", "--data", str(bad), "--format", "yahoo-csv"])
    assert res.exit_code == 2
    assert str(bad.name) in res.output and "line 8" in res.output


def test_unknown_strategy_and_fill_are_rejected():
    res = runner.invoke(app, ["backtest", "--data", str(ORCL), "--strategy", "nope"])
    assert res.exit_code != 0 and "unknown strategy" in res.output
    res = runner.invoke(app, ["backtest", "--data", str(ORCL), "--fill", "tomorrow"])
    assert res.exit_code != 0


def test_backtest_from_catalog_equals_backtest_from_file(tmp_path):
    cat = tmp_path / "catalog"
    res = runner.invoke(app, ["data", "import", str(ORCL), "--catalog", str(cat)])
    assert res.exit_code == 0, res.output
    from_file = runner.invoke(app, ["backtest", "--data", str(ORCL), "--json"])
    from_cat = runner.invoke(app, ["backtest", "--catalog", str(cat), "--bar-type", "ORCL.SIM-1-DAY-LAST", "--json"])
    assert from_cat.exit_code == 0, from_cat.output
    a = json.loads(from_file.stdout.strip().splitlines()[-1])
    b = json.loads(from_cat.stdout.strip().splitlines()[-1])
    for key in ("final_equity", "trades", "fills", "closed_pnl"):
        assert a[key] == b[key]
    ranged = runner.invoke(
        app, ["backtest", "--catalog", str(cat), "--start", "2000-01-01T00:00:00Z", "--end", "2001-01-01T00:00:00Z",
              "--json"],
    )  # fmt: skip
    assert ranged.exit_code == 0, ranged.output
    # bars are stamped at their close (date + 1 day): 1999-12-31 closes at 2000-01-01 00:00 and is included
    assert json.loads(ranged.stdout.strip().splitlines()[-1])["events"] == 253


def test_backtest_needs_exactly_one_source(tmp_path):
    res = runner.invoke(app, ["backtest"])
    assert res.exit_code != 0 and "exactly one of" in res.output
