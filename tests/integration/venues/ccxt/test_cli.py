"""``tradewire connections list/test`` and ``tradewire data download`` against the local Binance server."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from tradewire.cli.main import app
from tradewire.data.catalog import ParquetDataCatalog

runner = CliRunner()


def write_connections(path, port: int, secret_env: str = "TW_BINANCE_SECRET") -> None:
    path.write_text(f"""
[connections.local]
exchange = "binance"
api_key_env = "TW_BINANCE_KEY"
api_secret_env = "{secret_env}"

[connections.local.url_rewrites]
"https://api.binance.com" = "http://127.0.0.1:{port}"
"wss://stream.binance.com:9443/ws" = "ws://127.0.0.1:{port}/stream/ws"
"wss://ws-api.binance.com:443/ws-api/v3" = "ws://127.0.0.1:{port}/ws-api/v3"
""")


@pytest.fixture
def env(monkeypatch, tmp_path, server, local_env):
    for k, v in local_env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(tmp_path)
    write_connections(tmp_path / "connections.toml", server.port)
    monkeypatch.setenv("TRADEWIRE_CONNECTIONS", str(tmp_path / "connections.toml"))
    return tmp_path


def test_connections_list_shows_sources_not_secrets(env, local_env):
    res = runner.invoke(app, ["connections", "list", "--json"])
    assert res.exit_code == 0, res.output
    (row,) = json.loads(res.output)
    assert row["credentials"] == "TW_BINANCE_KEY=set, TW_BINANCE_SECRET=set"
    assert local_env["TW_BINANCE_KEY"] not in res.output and local_env["TW_BINANCE_SECRET"] not in res.output


def test_connections_test_checks_and_records(env, server, local_env):
    res = runner.invoke(app, ["connections", "test", "local", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    c = out["checks"]
    assert out["ok"] and c["markets"]["instruments"] == 2
    assert c["balance"]["total"] == {"USDT": "1000000.0", "BTC": "10.0"}
    assert c["permissions"]["canTrade"] is True and "warning" not in c["permissions"]
    assert 0 < c["latency_ms"]["min"] <= c["latency_ms"]["median"]
    assert 0 < c["rate_limit"]["used"] < c["rate_limit"]["limit"]  # from X-MBX-USED-WEIGHT-1M
    recorded = json.loads((env / "tradewire-data" / "connections" / "local.json").read_text())
    assert recorded == out
    assert local_env["TW_BINANCE_KEY"] not in res.output


def test_missing_credentials_is_a_clear_error(env, monkeypatch):
    monkeypatch.delenv("TW_BINANCE_SECRET")
    res = runner.invoke(app, ["connections", "test", "local"])
    assert res.exit_code == 2
    assert "TW_BINANCE_SECRET not set" in " ".join(res.output.split())


def test_wrong_secret_fails_signature_check(env, monkeypatch, server):
    monkeypatch.setenv("TW_BINANCE_SECRET", "not-the-secret")
    res = runner.invoke(app, ["connections", "test", "local", "--json"])
    assert res.exit_code == 1
    out = json.loads(res.output)
    assert out["ok"] is False and out["error"]["type"] == "AuthenticationFailed" and out["error"]["code"] == -1022


def expected_minute_bars(server) -> list[tuple]:
    """1-minute OHLCV straight from the recorded trades (independent of the server's kline code)."""
    bars: dict[int, list] = {}
    for m in server.messages:
        d = m["data"]
        if d.get("e") != "trade":
            continue
        t, p, q = d["T"] - d["T"] % 60_000, Decimal(d["p"]), Decimal(d["q"])
        b = bars.setdefault(t, [p, p, p, p, Decimal(0)])
        b[1], b[2], b[3], b[4] = max(b[1], p), min(b[2], p), p, b[4] + q
    return [(t, *v) for t, v in sorted(bars.items())]


def test_data_download_writes_catalog_and_resumes(env, server):
    args = ["data", "download", "--connection", "local", "--symbol", "BTC/USDT", "--timeframe", "1m",
            "--since", "2024-08-08T23:50:00Z", "--until", "2024-08-09T00:00:00Z", "--limit", "2",
            "--catalog", "cat", "--json"]  # fmt: skip
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    out = json.loads(res.output.strip().splitlines()[-1])
    until_ms = 1723161600000  # 2024-08-09T00:00:00Z, exclusive
    want = [b for b in expected_minute_bars(server) if b[0] < until_ms]
    assert out["bars_written"] == len(want) == 6 and out["requests"] >= 3
    bars = ParquetDataCatalog(env / "cat").bars()
    got = [(b.ts_event // 1_000_000 - 60_000, b.open.as_decimal(), b.high.as_decimal(), b.low.as_decimal(),
            b.close.as_decimal(), b.volume.as_decimal()) for b in bars]  # fmt: skip
    assert got == want
    again = json.loads(runner.invoke(app, args).output.strip().splitlines()[-1])
    assert again["resumed_from_ms"] == want[-1][0] + 60_000 and again["bars_written"] == 0
    assert len(ParquetDataCatalog(env / "cat").bars()) == 6
