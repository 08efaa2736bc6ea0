"""Auth (token, argon2 password), WebSocket protocol (sequence numbers, snapshots) and slow-client resync."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from starlette.testclient import WebSocketDenialResponse

from tradewire.api.app import create_app
from tradewire.api.auth import ApiAuth
from tradewire.api.hub import ClientConn, Hub

TOKEN = "unit-test-token-0123456789abcdef"


def test_token_auth_guards_api_metrics_and_ws(running_node):
    with TestClient(create_app(running_node, ApiAuth(token=TOKEN))) as c:
        for path in ("/api/health", "/api/positions", "/api/risk", "/metrics"):
            r = c.get(path)
            assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", path
        assert c.post("/api/risk/kill").status_code == 401
        assert c.get("/api/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/api/health", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert c.get("/api/auth").json() == {"required": True, "method": "token"}
        with pytest.raises(WebSocketDenialResponse) as exc, c.websocket_connect("/ws"):
            pass
        assert exc.value.status_code == 401  # the upgrade is refused with HTTP 401, never accepted
        with pytest.raises(WebSocketDenialResponse), c.websocket_connect("/ws?access_token=wrong"):
            pass
        assert c.post("/api/login", json={"password": "nope"}).status_code == 401
        session = c.post("/api/login", json={"password": TOKEN}).json()["token"]
        assert session != TOKEN
        with c.websocket_connect(f"/ws?access_token={session}") as ws:
            ws.send_text(json.dumps({"type": "ping"}))
            assert json.loads(ws.receive_text()) == {"seq": 1, "type": "pong"}
        assert TOKEN not in repr(ApiAuth(token=TOKEN))


def test_password_login(running_node):
    h = PasswordHash.recommended().hash("correct horse battery")
    with TestClient(create_app(running_node, ApiAuth(password_hash=h))) as c:
        assert c.get("/api/auth").json() == {"required": True, "method": "password"}
        assert c.post("/api/login", json={"password": "wrong"}).status_code == 401
        tok = c.post("/api/login", json={"password": "correct horse battery"}).json()["token"]
        assert c.get("/api/engine", headers={"Authorization": f"Bearer {tok}"}).status_code == 200
    with pytest.raises(ValueError, match="argon2"):
        ApiAuth(password_hash="not-a-hash")
    with pytest.raises(ValueError, match="16"):
        ApiAuth(token="short")


def test_ws_subscribe_snapshots_then_gapless_updates(running_node):
    with TestClient(create_app(running_node, ApiAuth())) as c, c.websocket_connect("/ws") as ws:
        ws.send_text(json.dumps({"type": "subscribe", "topics": ["book:BTCUSDT.BINANCE", "account", "bogus"]}))
        msgs = [json.loads(ws.receive_text()) for _ in range(12)]
        assert [m["seq"] for m in msgs] == list(range(1, 13))
        assert msgs[0]["type"] == "error" and "bogus" in msgs[0]["message"]
        assert msgs[1] == {"seq": 2, "type": "subscribed", "topics": ["account", "book:BTCUSDT.BINANCE"]}
        assert {(m["type"], m["topic"]) for m in msgs[2:4]} == {("snapshot", "book:BTCUSDT.BINANCE"),
                                                                ("snapshot", "account")}  # fmt: skip
        book_updates = [m for m in msgs[4:] if m.get("topic") == "book:BTCUSDT.BINANCE"]
        assert book_updates and all(m["type"] == "update" for m in book_updates)
        seqs = [m["data"]["sequence"] for m in book_updates]
        assert seqs == sorted(seqs)


class _Node:
    def __init__(self):
        self.views = {"orders": [{"client_order_id": "A"}]}

    def view(self, topic):
        return self.views.get(topic)

    def instruments(self):
        return [{"instrument_id": "BTCUSDT.BINANCE"}]

    def add_listener(self, fn):
        pass

    def remove_listener(self, fn):
        pass


def test_slow_client_gets_a_snapshot_instead_of_a_backlog():
    async def go():
        hub = Hub(_Node(), max_queue=5)
        c = ClientConn(hub, ws=None, cid=1, max_queue=5)  # never drained: a stalled client
        c.topics = {"orders"}
        for i in range(5):
            c.offer(json.dumps({"type": "update", "topic": "orders", "data": {"i": i}}))
        assert len(c.queue) == 5
        c.offer(json.dumps({"type": "update", "topic": "orders", "data": {"i": 5}}))
        assert len(c.queue) == 1 and c.resyncs == 1 and hub.snapshots_sent == 1
        msg = json.loads(c.queue[0])
        assert msg == {"type": "snapshot", "topic": "orders", "data": [{"client_order_id": "A"}], "resync": True}

    asyncio.run(go())
