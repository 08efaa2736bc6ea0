"""Order-flow analytics of a running paper node: REST ``/api/orderflow/{id}`` and the ``orderflow:{id}`` topic."""

from __future__ import annotations

import time
from decimal import Decimal
from itertools import pairwise

import pytest
from fastapi.testclient import TestClient

from tradewire.api.app import create_app
from tradewire.api.auth import ApiAuth

IID = "BTCUSDT.BINANCE"


@pytest.fixture(scope="module")
def client(running_node):
    with TestClient(create_app(running_node, ApiAuth())) as c:
        yield c


def _wait_trades(client, n: int) -> dict:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        v = client.get(f"/api/orderflow/{IID}").json()
        if v["totals"]["trades"] >= n and v["footprint"] and v["book"]:
            return v
        time.sleep(0.1)
    pytest.fail(f"fewer than {n} trades in the order flow after 20 s")


def test_rest_snapshot_is_consistent(client):
    v = _wait_trades(client, 200)
    assert v["instrument_id"] == IID
    t = v["totals"]
    # CVD is buy minus sell aggressor volume (no unclassified trades: Binance marks the aggressor)
    assert Decimal(v["cvd"]["session"]) == Decimal(t["buy_volume"]) - Decimal(t["sell_volume"])
    assert Decimal(t["unclassified_volume"]) == 0
    fp = v["footprint"]
    rows = fp["rows"]
    assert rows and [Decimal(r["price"]) for r in rows] == sorted((Decimal(r["price"]) for r in rows), reverse=True)
    assert sum(Decimal(r["bid"]) + Decimal(r["ask"]) + Decimal(r["neutral"]) for r in rows) == Decimal(fp["volume"])
    assert sum(Decimal(r["ask"]) - Decimal(r["bid"]) for r in rows) == Decimal(fp["delta"])
    assert all(r["imbalance"] in (-1, 0, 1) for r in rows)
    b = v["book"]
    assert -1 <= b["tob_imbalance"] <= 1 and -1 <= b["depth_imbalance"] <= 1
    assert Decimal(b["bid"]) < Decimal(b["ask"])
    assert client.get("/api/orderflow/NOPE.X").status_code == 404
    assert "/api/orderflow/{instrument_id}" in client.get("/openapi.json").json()["paths"]


def test_cvd_series_moves_with_the_replay(client):
    a = _wait_trades(client, 1)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        b = client.get(f"/api/orderflow/{IID}").json()
        if b["totals"]["trades"] > a["totals"]["trades"] and len(b["cvd"]["series"]) > len(a["cvd"]["series"]):
            break
        time.sleep(0.2)
    else:
        pytest.fail("the order flow did not move in 10 s")
    ts = [p[0] for p in b["cvd"]["series"]]
    assert ts == sorted(ts) and len(set(ts)) == len(ts)


def test_pushes_are_rate_limited(running_node):
    seen: list[float] = []

    def listener(topic, _update):
        if topic == f"orderflow:{IID}":
            seen.append(time.monotonic())

    running_node.add_listener(listener)
    try:
        time.sleep(2.5)
    finally:
        running_node.remove_listener(listener)
    assert len(seen) >= 2, "no order-flow push in 2.5 s of replay"
    gaps = [b - a for a, b in pairwise(seen)]
    assert min(gaps) >= running_node.config.orderflow_ms / 1000 * 0.9, gaps


def test_websocket_topic(client):
    _wait_trades(client, 1)
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "subscribe", "topics": [f"orderflow:{IID}", "orderflow:NOPE.X"]})
        msgs = [ws.receive_json() for _ in range(3)]
        assert msgs[0]["type"] == "error" and "orderflow:NOPE.X" in msgs[0]["message"]
        assert msgs[1] == {"seq": 2, "type": "subscribed", "topics": [f"orderflow:{IID}"]}
        snap = msgs[2]
        assert snap["type"] == "snapshot" and snap["data"]["instrument_id"] == IID
        upd = ws.receive_json()
        assert upd["type"] == "update" and upd["topic"] == f"orderflow:{IID}"
        assert upd["data"]["ts"] > snap["data"]["ts"]
        assert upd["data"]["totals"]["trades"] >= snap["data"]["totals"]["trades"]
