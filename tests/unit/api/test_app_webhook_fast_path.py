"""The whole API app answers ``POST /webhook/{source}`` before its middleware stack, with unchanged behaviour."""

from __future__ import annotations

from decimal import Decimal

import pytest
from api_fakes import WebhookNode
from fastapi.testclient import TestClient

from tradewire.api import webhook as webhook_module
from tradewire.api.app import TradewireApp, create_app
from tradewire.api.auth import ApiAuth
from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import TestClock
from tradewire.model.instruments import crypto_spot
from tradewire.model.objects import Currency, Money
from tradewire.signals.config import SourceConfig
from tradewire.signals.idempotency import SqlIdempotencyStore
from tradewire.signals.service import WebhookService

SECRET = "fast-path-secret-0123456789"
T0_NS = 1_760_000_000 * 10**9
ALERT = {"secret": SECRET, "ticker": "BINANCE:BTCUSDT", "action": "buy", "quantity": "0.01", "alert_id": "fp-1"}


class _Account:
    def position_qty(self, *_a):
        return Decimal(0)

    def equity(self, currency: Currency) -> Money:
        return Money(Decimal(10_000), currency)


def _service(tmp_path) -> tuple[WebhookService, list]:
    cache = Cache()
    cache.add_instrument(crypto_spot("BTCUSDT", "BINANCE", "BTC", "USDT", 2, 5))
    bus = MessageBus()
    commands: list = []
    bus.register("RiskEngine.execute", commands.append)
    cfg = SourceConfig(secret=SECRET, default_venue="BINANCE", rate_per_s=Decimal(10_000), burst=10_000)
    service = WebhookService({"tradingview": cfg}, SqlIdempotencyStore(tmp_path / "w.sqlite"), TestClock(T0_NS),
                             bus=bus, market=cache, account=_Account())  # fmt: skip
    return service, commands


@pytest.fixture
def served(monkeypatch):
    """Paths answered by the fast path (``_WebhookEndpoint.serve``)."""
    seen: list[str] = []
    original = webhook_module._WebhookEndpoint.serve

    async def spy(self, scope, receive, send, source):
        seen.append(scope["path"])
        await original(self, scope, receive, send, source)

    monkeypatch.setattr(webhook_module._WebhookEndpoint, "serve", spy)
    return seen


def test_alerts_skip_the_stack_and_keep_status_headers_and_body(tmp_path, served, monkeypatch):
    monkeypatch.delenv("TRADEWIRE_API_CORS_ORIGINS", raising=False)
    service, commands = _service(tmp_path)
    app = create_app(WebhookNode(service), ApiAuth())
    assert isinstance(app, TradewireApp)
    client = TestClient(app)
    first = client.post("/webhook/tradingview", json=ALERT)
    again = client.post("/webhook/tradingview", json=ALERT)
    assert first.status_code == 202 and first.headers["content-type"] == "application/json"
    assert first.json()["client_order_ids"] and first.json()["status"] == "accepted"
    assert again.status_code == 202 and again.headers["idempotent-replay"] == "true" and again.json() == first.json()
    unknown = client.post("/webhook/nosuch", json=ALERT)
    assert unknown.status_code == 404 and unknown.json() == {"status": "rejected", "reason": "unknown webhook source"}
    bad = client.post("/webhook/tradingview", json={**ALERT, "alert_id": "fp-2", "colour": "red"})
    assert bad.status_code == 422 and "colour" in bad.json()["reason"]
    assert served == ["/webhook/tradingview"] * 2 + ["/webhook/nosuch", "/webhook/tradingview"]
    assert service.drain() == 1 and len(commands) == 1
    paths = app.openapi()["paths"]
    assert "/webhook/tradingview" in paths and "/webhook/{source}" in paths


def test_other_shapes_and_methods_take_the_full_stack(tmp_path, served, monkeypatch):
    monkeypatch.delenv("TRADEWIRE_API_CORS_ORIGINS", raising=False)
    service, _ = _service(tmp_path)
    client = TestClient(create_app(WebhookNode(service), ApiAuth()))
    assert client.get("/webhook/tradingview").status_code == 405
    assert client.post("/webhook/tradingview/extra", json=ALERT).status_code == 404
    assert client.post("/webhook/", json=ALERT).status_code in (404, 405)
    assert served == []


def test_with_cors_configured_alerts_go_through_the_middleware(tmp_path, served, monkeypatch):
    monkeypatch.setenv("TRADEWIRE_API_CORS_ORIGINS", "https://dash.example")
    service, _ = _service(tmp_path)
    client = TestClient(create_app(WebhookNode(service), ApiAuth()))
    r = client.post("/webhook/tradingview", json=ALERT, headers={"Origin": "https://dash.example"})
    assert r.status_code == 202
    assert r.headers["access-control-allow-origin"] == "https://dash.example"
    assert served == []  # the CORS middleware saw the request


def test_an_unexpected_error_is_answered_500_with_a_json_reason(tmp_path, served, monkeypatch):
    monkeypatch.delenv("TRADEWIRE_API_CORS_ORIGINS", raising=False)
    service, _ = _service(tmp_path)

    def broken(_source):
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "max_body_bytes", broken)  # fails in the router, outside the service's checks
    client = TestClient(create_app(WebhookNode(service), ApiAuth()), raise_server_exceptions=False)
    r = client.post("/webhook/tradingview", json=ALERT)
    assert r.status_code == 500 and r.json() == {"status": "error", "reason": "internal error"}
    assert served == ["/webhook/tradingview"]
