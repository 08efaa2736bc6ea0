"""REST API over a running paper node (in-process app, FastAPI TestClient)."""

from __future__ import annotations

import sqlite3
import time
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from tradewire.api.app import create_app
from tradewire.api.auth import ApiAuth

IID = "BTCUSDT.BINANCE"


@pytest.fixture(scope="module")
def client(running_node):
    with TestClient(create_app(running_node, ApiAuth())) as c:
        yield c


def test_reads(client):
    assert client.get("/api/health").json()["mode_label"] == "PAPER / REPLAY"
    eng = client.get("/api/engine").json()
    assert eng["state"] == "running" and eng["strategies"][0]["id"] == "sma_cross-001"
    (conn,) = client.get("/api/connections").json()
    assert conn["id"] == "BINANCE" and conn["mode"] == "paper" and conn["live_trading"] is False
    assert conn["balance"]["USDT"]
    book = client.get(f"/api/book/{IID}", params={"depth": 3}).json()
    assert len(book["bids"]) == 3 and Decimal(book["bids"][0][0]) < Decimal(book["asks"][0][0])
    assert client.get("/api/book/NOPE.X").status_code == 404
    assert client.get("/api/bars/NOPE.X").status_code == 404
    assert client.get("/api/risk").json()["trading_state"] in ("active", "halted")
    assert client.get("/api/instruments").json()[0]["tick_size"] == "0.01"
    dq = client.get("/api/data-quality").json()
    assert any(v["data_type"] == "book.deltas" and v["count"] > 0 for v in dq["subscriptions"].values())
    assert client.get("/openapi.json").json()["paths"]["/api/orders"]["post"]


def test_order_lifecycle_exact_and_recorded(client, running_node, tmp_path):
    r = client.post("/api/orders", json={"instrument_id": IID, "side": "buy", "quantity": "0.012"})
    assert r.status_code == 202, r.text
    row = r.json()
    assert row["quantity"] == "0.01200" and row["strategy_id"] == "manual-001"
    coid = row["client_order_id"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(
        f["client_order_id"] == coid for f in client.get("/api/fills").json()
    ):
        time.sleep(0.05)
    (fill,) = [f for f in client.get("/api/fills").json() if f["client_order_id"] == coid]
    fee = Decimal(fill["quantity"]) * Decimal(fill["price"]) * Decimal("0.001")  # crypto_spot taker fee 10 bps
    assert Decimal(fill["commission"]) == fee
    # limit far from the market rests; modify then cancel
    lim = client.post("/api/orders", json={"instrument_id": IID, "side": "buy", "order_type": "limit",
                                           "quantity": "0.01", "price": "1000.00"}).json()  # fmt: skip
    assert lim["status"] == "accepted"
    mod = client.patch(f"/api/orders/{lim['client_order_id']}", json={"price": "1000.01"})
    assert mod.status_code == 202 and mod.json()["price"] == "1000.01"
    assert client.delete(f"/api/orders/{lim['client_order_id']}").json()["status"] == "canceled"
    assert client.delete(f"/api/orders/{lim['client_order_id']}").status_code == 409
    assert client.delete("/api/orders/NOPE").status_code == 404
    bad = client.post("/api/orders", json={"instrument_id": IID, "side": "buy", "quantity": "0.0000001"})
    assert bad.status_code == 422  # 7 decimals for a 5-decimal instrument
    assert client.post("/api/orders", json={"instrument_id": IID, "side": "buy", "quantity": "1e3"}).status_code == 422
    # every state change is an OperatorAction in the event store
    db = running_node.config.database_url.removeprefix("sqlite:///")
    deadline = time.monotonic() + 5
    kinds: list = []
    while time.monotonic() < deadline:
        with sqlite3.connect(db) as con:
            kinds = [r[0] for r in con.execute("select payload from events where kind = 'OperatorAction'")]
        if len(kinds) >= 4:
            break
        time.sleep(0.2)
    text = " ".join(map(str, kinds))
    for action in ("submit_order", "modify_order", "cancel_order"):
        assert action in text


def test_connections_and_live_toggle(client):
    r = client.post("/api/connections/BINANCE/live", json={"enabled": True})
    assert r.status_code == 422 and "confirm" in r.json()["detail"]
    r = client.post("/api/connections/BINANCE/live", json={"enabled": True, "confirm": "BINANCE"})
    assert r.status_code == 409 and "no live venue configured" in r.json()["detail"]
    assert client.post("/api/connections/NOPE/test").status_code == 404
    t = client.post("/api/connections/BINANCE/test").json()
    assert {c["name"] for c in t["checks"]} >= {"execution_client", "account", f"book {IID}", f"data {IID}"}
    assert t["ok"] is True
    assert client.post("/api/connections/BINANCE/disable").json()["status"] == "disabled"
    r = client.post("/api/orders", json={"instrument_id": IID, "side": "buy", "quantity": "0.01"})
    assert r.status_code == 409 and "disabled" in r.json()["detail"]
    assert client.post("/api/connections/BINANCE/enable").json()["enabled"] is True


def test_engine_stop_start_and_kill(client, running_node):
    assert client.post("/api/engine/stop").json()["state"] == "stopped"
    assert client.post("/api/engine/stop").status_code == 409
    n = running_node.events_processed
    time.sleep(0.3)
    assert running_node.events_processed == n  # no data while stopped
    assert client.post("/api/engine/start").json()["state"] == "running"
    client.post("/api/orders", json={"instrument_id": IID, "side": "buy", "quantity": "0.01"})
    time.sleep(0.3)
    killed = client.post("/api/risk/kill", json={"reason": "test"}).json()
    assert killed["trading_state"] == "halted"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and client.get("/api/positions").json():
        time.sleep(0.05)
    assert client.get("/api/positions").json() == []
    assert client.post("/api/risk/reset").json()["trading_state"] == "active"


def test_metrics(client):
    text = client.get("/metrics").text
    for name in ("tradewire_engine_events_total", "tradewire_queue_depth", "tradewire_data_age_seconds",
                 "tradewire_websocket_clients", "tradewire_command_latency_seconds_bucket"):  # fmt: skip
        assert name in text


def test_positions_history_lists_a_round_trip_newest_first(client):
    for side in ("buy", "sell"):
        r = client.post("/api/orders", json={"instrument_id": IID, "side": side, "quantity": "0.01"})
        assert r.status_code in (200, 201, 202), r.text
    deadline = time.monotonic() + 10
    mine: list = []
    while time.monotonic() < deadline and not mine:
        mine = [t for t in client.get("/api/positions/history").json() if t["strategy_id"] == "manual-001"]
        time.sleep(0.05)
    assert mine, "no closed manual round trip within 10 s"
    t = mine[0]
    assert Decimal(t["quantity"]) == Decimal("0.01") and t["ts_closed"] >= t["ts_opened"]
    assert Decimal(t["net_pnl"]) == Decimal(t["realized_pnl"]) - Decimal(t["commissions"])
    history = client.get("/api/positions/history").json()
    assert [h["ts_closed"] for h in history] == sorted((h["ts_closed"] for h in history), reverse=True)
