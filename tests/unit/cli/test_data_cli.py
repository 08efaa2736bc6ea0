"""``tradewire data import / ls / verify`` through typer's CliRunner on small real recordings."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradewire.cli.main import app
from tradewire.data.book import OrderBook
from tradewire.data.catalog import ParquetDataCatalog

FIX = Path(__file__).parents[2] / "fixtures"
KLINES = FIX / "bars" / "binance_ADABTC-1m-2021-11-27.csv"
STREAM = FIX / "paper" / "binance_spot_btcusdt_20240808_head600.gz"

runner = CliRunner()


def stream_counts(path: Path) -> Counter:
    """Count the capture's messages by kind straight from the JSON lines (independent of the loaders)."""
    c: Counter = Counter()
    with gzip.open(path, "rt") as fh:
        for line in fh:
            if not line.strip():
                continue
            msg = json.loads(line.split(" ", 1)[1])
            if "lastUpdateId" in msg:
                c["snapshot"] += 1
            else:
                c[msg["stream"].split("@", 1)[1]] += 1
    return c


def reference_book(path: Path) -> OrderBook:
    """Book rebuilt straight from the capture with the documented Binance spot procedure."""
    diffs, snapshot = [], None
    with gzip.open(path, "rt") as fh:
        for line in fh:
            if not line.strip():
                continue
            msg = json.loads(line.split(" ", 1)[1])
            if "lastUpdateId" in msg:
                snapshot = msg
            elif msg["stream"].endswith("depth@100ms"):
                diffs.append((snapshot is not None, msg["data"]))
    bids = {b[0]: b[1] for b in snapshot["bids"]}
    asks = {a[0]: a[1] for a in snapshot["asks"]}
    last = snapshot["lastUpdateId"]
    for _, d in diffs:
        if d["u"] <= last:
            continue
        for side, book in (("b", bids), ("a", asks)):
            for px, qty in d[side]:
                if float(qty) == 0:
                    book.pop(px, None)
                else:
                    book[px] = qty
        last = d["u"]
    ob = OrderBook("BTCUSDT.BINANCE", 8, 8)
    from tradewire.model.objects import parse_raw

    for side, levels in ((1, bids), (2, asks)):
        for px, qty in levels.items():
            ob.apply_delta_raw(side, parse_raw(px), parse_raw(qty))
    return ob


def test_import_then_ls_json(tmp_path):
    cat_dir = tmp_path / "cat"
    res = runner.invoke(app, ["data", "import", str(KLINES), str(STREAM), "--catalog", str(cat_dir)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["data", "ls", "--catalog", str(cat_dir), "--json"])
    assert res.exit_code == 0, res.output
    entries = {(e["data_type"], e["key"]): e for e in json.loads(res.stdout)}
    counts = stream_counts(STREAM)
    assert entries[("bars", "ADABTC.BINANCE-1-MINUTE-LAST")]["rows"] == 10
    assert entries[("quotes", "BTCUSDT.BINANCE")]["rows"] == counts["bookTicker"]
    assert entries[("trades", "BTCUSDT.BINANCE")]["rows"] == counts["trade"]
    assert entries[("bars", "ADABTC.BINANCE-1-MINUTE-LAST")]["first_utc"] == "2021-11-27T00:01:00.000000000Z"

    # the stored deltas replay to the same book as the Binance procedure applied to the raw JSON
    cat = ParquetDataCatalog(cat_dir)
    book = OrderBook("BTCUSDT.BINANCE", 8, 8)
    batch = []
    for d in cat.order_book_deltas(["BTCUSDT.BINANCE"]):
        batch.append(d)
        if d.is_last:
            book.apply_deltas(batch)
            batch = []
    assert batch == []
    ref = reference_book(STREAM)
    assert book.bids_raw() == ref.bids_raw() and book.asks_raw() == ref.asks_raw()

    # importing the same files again adds nothing
    before = json.loads(res.stdout)
    res = runner.invoke(app, ["data", "import", str(KLINES), str(STREAM), "--catalog", str(cat_dir)])
    assert res.exit_code == 0, res.output
    again = json.loads(runner.invoke(app, ["data", "ls", "--catalog", str(cat_dir), "--json"]).stdout)
    assert [(e["key"], e["rows"]) for e in again] == [(e["key"], e["rows"]) for e in before]


def test_ls_table_and_empty_catalog(tmp_path):
    res = runner.invoke(app, ["data", "ls", "--catalog", str(tmp_path), "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout) == []
    runner.invoke(app, ["data", "import", str(KLINES), "--catalog", str(tmp_path)])
    res = runner.invoke(app, ["data", "ls", "--catalog", str(tmp_path)], env={"COLUMNS": "200"})
    assert res.exit_code == 0 and "ADABTC.BINANCE-1-MINUTE-LAST" in res.stdout


def test_import_bad_file_fails_with_its_name(tmp_path):
    bad = tmp_path / "broken.csv"
    bad.write_text("timestamp,open,high,low,close,volume\n2021-01-01T00:00:00Z,1,2,0.5,x,3\n")
    res = runner.invoke(app, ["data", "import", str(bad), "--catalog", str(tmp_path / "c"), "--format", "ohlcv-csv"])
    assert res.exit_code == 1
    assert "broken.csv" in res.output
    assert ParquetDataCatalog(tmp_path / "c").list() == []


def test_verify_binance_stream_json():
    res = runner.invoke(app, ["data", "verify", str(STREAM), "--json"])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    counts = stream_counts(STREAM)
    assert rep["format"] == "binance-ws-gz"
    assert rep["messages"] == {
        "depth_diff": counts["depth@100ms"],
        "book_ticker": counts["bookTicker"],
        "trade": counts["trade"],
        "depth_snapshot": counts["snapshot"],
    }
    assert rep["gaps"] == 0 and rep["out_of_order_updates"] == 0
    assert rep["crossed_book_events"] == 0
    assert rep["book_stale_at_end"] is False
    tob = rep["top_of_book"]
    assert 0 < tob["compared"] <= counts["bookTicker"]
    assert 0.0 < tob["price_match_rate"] <= 1.0
    assert rep["span_s"] > 0


def test_verify_bar_file_table():
    res = runner.invoke(app, ["data", "verify", str(KLINES)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "messages" in res.stdout and '"bar": 10' in res.stdout


@pytest.mark.parametrize("cmd", [["data", "--help"], ["data", "import", "--help"]])
def test_help(cmd):
    res = runner.invoke(app, cmd)
    assert res.exit_code == 0 and "catalog" in res.stdout.lower()
