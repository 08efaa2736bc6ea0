"""``tradewire db`` and ``tradewire export`` against a real SQLite store."""

from __future__ import annotations

import csv
import io

import pyarrow.parquet as pq
import typer
from persistence_factories import ACC, IID, SID, T0, fill, init
from typer.testing import CliRunner

from tradewire.cli import db as db_cli
from tradewire.cli import export as export_cli
from tradewire.model import ClientOrderId, OrderSide, OrderSubmitted, crypto_spot
from tradewire.persistence import open_store


def _app() -> typer.Typer:
    app = typer.Typer()
    db_cli.register(app)
    export_cli.register(app)
    return app


def test_db_and_export(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    r = CliRunner().invoke(_app(), ["db", "upgrade", "--db", url])
    assert r.exit_code == 0 and "empty -> 0002" in r.output
    with open_store(url) as s:
        s.append(crypto_spot("BTCUSDT", "BINANCE", "BTC", "USDT", 2, 3))
        for i, (side, px, ts) in enumerate(
            [(OrderSide.BUY, "100.00", T0), (OrderSide.SELL, "110.00", T0 + 86_400 * 10**9)]
        ):
            c = f"O-{i}"
            sub = OrderSubmitted(ClientOrderId(c), SID, IID, ts, ts, account_id=ACC)
            s.append_many([init(c, side=side, ts=ts), sub, fill(c, f"T-{i}", side=side, px=px, fee="0.05", ts=ts)])
    r = CliRunner().invoke(_app(), ["db", "status", "--db", url])
    assert "events:    7" in r.output and "revision:  0002" in r.output
    r = CliRunner().invoke(_app(), ["db", "rebuild", "--db", url])
    assert "fills=2" in r.output and "closed_trades=1" in r.output
    r = CliRunner().invoke(_app(), ["export", "trades", "--db", url])
    (row,) = list(csv.DictReader(io.StringIO(r.stdout)))
    assert row["realized_pnl"] == "5" and row["net_pnl"] == "4.9"  # 0.5 * (110 - 100) - 2 * 0.05
    r = CliRunner().invoke(_app(), ["export", "fills", "--db", url, "--since", "2024-11-08", "--format", "parquet",
                                    "--out", str(tmp_path / "f.parquet")])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert pq.read_table(tmp_path / "f.parquet").column("trade_id").to_pylist() == ["T-1"]
    r = CliRunner().invoke(_app(), ["export", "orders", "--db", url, "--until", "nope"])
    assert r.exit_code != 0 and "--until: 'nope' is not an ISO 8601" in r.output
