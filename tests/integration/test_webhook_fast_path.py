"""The webhook is served by a plain ASGI endpoint in front of the documented FastAPI routes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tradewire.api import webhook as webhook_module
from tradewire.api.webhook import build_webhook_router

from .test_webhook_api import SECRET, build


def test_alerts_take_the_lean_endpoint_and_stay_documented(tmp_path, monkeypatch):
    served: list[str] = []
    original = webhook_module._WebhookEndpoint.__call__

    async def spy(self, scope, receive, send):
        served.append(scope["path"])
        await original(self, scope, receive, send)

    monkeypatch.setattr(webhook_module._WebhookEndpoint, "__call__", spy)
    app, service, commands, _ = build(tmp_path)
    client = TestClient(app)
    alert = {"secret": SECRET, "ticker": "BINANCE:BTCUSDT", "action": "buy", "quantity": "0.01", "alert_id": "f1"}
    first = client.post("/webhook/tradingview", json=alert)
    again = client.post("/webhook/tradingview", json=alert)
    assert first.status_code == 202 and first.headers["content-type"] == "application/json"
    assert again.status_code == 202 and again.headers["idempotent-replay"] == "true" and again.json() == first.json()
    assert served == ["/webhook/tradingview", "/webhook/tradingview"]
    assert client.get("/webhook/tradingview").status_code == 405
    paths = app.openapi()["paths"]
    assert "/webhook/tradingview" in paths and "/webhook/{source}" in paths
    assert service.drain() == 1 and len(commands) == 1
    assert isinstance(build_webhook_router(service).routes[0], webhook_module.Route)
