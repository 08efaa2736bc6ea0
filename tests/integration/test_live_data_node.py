"""``tradewire run --data ccxt:binance:BTC/USDT``: paper trading on an exchange's public streams.

The exchange is :class:`tradewire.testing.binance_server.BinanceServer` on 127.0.0.1 (Binance's real REST and
websocket protocols, replaying a recorded session); the node reaches it through ``TRADEWIRE_CCXT_URL_REWRITES``
(no network).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tradewire.cli.run import live_data_overrides
from tradewire.node.live import NodeConfig, TradingNode
from tradewire.testing.binance_server import BinanceServer
from tradewire.testing.polling import wait_for

SPEC = "ccxt:binance:BTC/USDT"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rewrites(port: int) -> dict[str, str]:
    return {
        "https://api.binance.com": f"http://127.0.0.1:{port}",
        "wss://stream.binance.com:9443/ws": f"ws://127.0.0.1:{port}/stream/ws",
    }


@pytest.fixture
def server():
    srv = BinanceServer()
    srv.start()
    yield srv
    srv.stop()


def _run(tmp_path: Path, exchange_port: int, data: str = SPEC) -> tuple[str, subprocess.Popen]:
    port = _free_port()
    env = dict(os.environ, TRADEWIRE_DATABASE_URL=f"sqlite:///{tmp_path / 'tw.db'}",
               TRADEWIRE_CCXT_URL_REWRITES=json.dumps(_rewrites(exchange_port)))  # fmt: skip
    for k in ("TRADEWIRE_API_TOKEN", "TRADEWIRE_API_PASSWORD_HASH"):
        env.pop(k, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tradewire.cli.main", "run", "--port", str(port), "--data", data],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    return f"http://127.0.0.1:{port}", proc


def _wait(pred, timeout: float, what: str, step: float = 0.1):
    return wait_for(pred, timeout, what, step)


def test_run_paper_trades_on_the_exchange_live_stream(server, tmp_path):
    base, proc = _run(tmp_path, server.port)
    try:

        def up():
            if proc.poll() is not None:
                pytest.fail(f"node exited early: {proc.stdout.read()}")
            try:
                return httpx.get(f"{base}/api/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        _wait(up, 60, "/api/health")
        health = httpx.get(f"{base}/api/health").json()
        assert health["data"] == "live" and health["mode"] == "paper"
        assert health["mode_label"] == "PAPER / LIVE DATA"
        assert health["exchange"] == "binance" and health["data_source"] == SPEC
        assert "live market data from binance" in health["banner"] and "replay" not in health["banner"].lower()
        assert httpx.get(f"{base}/api/engine").json()["data"] == "live"
        _wait(lambda: server.subscriber_count() >= 1, 10, "the node's market-data subscription")

        # quiet market (nothing published yet): the engine thread still answers commands at once
        t0 = time.monotonic()
        r = httpx.get(f"{base}/api/book/BTCUSDT.BINANCE", params={"depth": 1}, timeout=5)
        assert r.status_code == 404 and "no order book" in r.json()["detail"]
        assert time.monotonic() - t0 < 1.0

        server.play(speed=10)  # the exchange's market moves in real time (x10)
        book = _wait(
            lambda: (r := httpx.get(f"{base}/api/book/BTCUSDT.BINANCE", params={"depth": 5})).status_code == 200
            and r.json(),
            20, "the live book",
        )  # fmt: skip
        assert len(book["bids"]) == 5 and book["bids"][0][0] < book["asks"][0][0]
        # the order-flow view is republished at most every 500 ms: trades can show before the first book batch
        of = _wait(
            lambda: (v := httpx.get(f"{base}/api/orderflow/BTCUSDT.BINANCE").json())["totals"]["trades"] > 0
            and v["book"] is not None and v,
            10, "order flow from the live trades and book",
        )  # fmt: skip
        assert of["totals"]["book_batches"] > 0 and Decimal(of["book"]["bid"]) < Decimal(of["book"]["ask"])

        r = httpx.post(
            f"{base}/api/orders", json={"instrument_id": "BTCUSDT.BINANCE", "side": "buy", "quantity": "0.01"}
        )
        assert r.status_code == 202, r.text
        coid = r.json()["client_order_id"]
        fill = _wait(
            lambda: [f for f in httpx.get(f"{base}/api/fills").json() if f["client_order_id"] == coid],
            5, "the fill of the API order",
        )[0]  # fmt: skip
        assert fill["quantity"] == "0.01000" and fill["liquidity_side"] == "taker"
        # filled by the paper venue from the streamed book: nothing reached the exchange's matching engine
        assert not server.orders and not server.my_trades
        stats = httpx.get(f"{base}/api/trading/stats").json()
        assert stats["fills"] >= 1
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "PAPER / LIVE DATA" in out and "stopped:" in out


def test_run_refuses_an_unknown_symbol_without_falling_back(server, tmp_path):
    _, proc = _run(tmp_path, server.port, data="ccxt:binance:NOPE/USDT")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2, out
    assert "cannot start on live data" in out and "NOPE/USDT" in out
    assert "REPLAY" not in out


def test_node_refuses_an_unreachable_exchange(tmp_path):
    dead = _free_port()  # nothing listens there
    with pytest.raises(ConnectionError, match="cannot reach binance"):
        TradingNode(NodeConfig(live_data=SPEC, live_data_overrides={"url_rewrites": _rewrites(dead)},
                               database_url=f"sqlite:///{tmp_path / 'tw.db'}", webhook=False))  # fmt: skip


def test_url_rewrites_from_the_environment():
    assert live_data_overrides({}) is None
    env = {"TRADEWIRE_CCXT_URL_REWRITES": json.dumps({"https://api.binance.com": "http://127.0.0.1:9"})}
    assert live_data_overrides(env) == {"url_rewrites": {"https://api.binance.com": "http://127.0.0.1:9"}}
    for bad in ("not json", "[1, 2]", '{"a": 1}'):
        with pytest.raises(ValueError, match="TRADEWIRE_CCXT_URL_REWRITES"):
            live_data_overrides({"TRADEWIRE_CCXT_URL_REWRITES": bad})
