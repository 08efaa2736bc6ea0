"""The webhook endpoint's request path: the proxy-header handling moved into the app gives what uvicorn's
middleware in front of the app gives, and the body is read from ``receive`` in every shape."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pytest
from api_fakes import WebhookNode
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tradewire.api.app import create_app
from tradewire.api.auth import ApiAuth
from tradewire.cli.run import server_config
from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import TestClock
from tradewire.model.instruments import crypto_spot
from tradewire.signals.config import SourceConfig
from tradewire.signals.idempotency import SqlIdempotencyStore
from tradewire.signals.service import WebhookService

SECRET = "proxy-secret-0123456789"
T0_NS = 1_760_000_000 * 10**9
TRUSTED = "127.0.0.1,::1"  # uvicorn's default forwarded_allow_ips


def _app(tmp_path, name: str, **cfg):
    cache = Cache()
    cache.add_instrument(crypto_spot("BTCUSDT", "BINANCE", "BTC", "USDT", 2, 5))
    bus = MessageBus()
    bus.register("RiskEngine.execute", lambda _cmd: None)
    base = dict(secret=SECRET, default_venue="BINANCE", rate_per_s=Decimal(10_000), burst=10_000)
    base.update(cfg)
    d = tmp_path / name
    d.mkdir()
    service = WebhookService({"tradingview": SourceConfig(**base)}, SqlIdempotencyStore(d / "w.sqlite"),
                             TestClock(T0_NS), bus=bus, market=cache, account=None)  # fmt: skip
    return create_app(WebhookNode(service), ApiAuth()), service


async def _call(app, method: str, path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes], client):
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"", "headers": headers,
             "client": client, "server": ("127.0.0.1", 8000), "state": {}}  # fmt: skip
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    sent: list[dict] = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    if not sent:
        return None
    head = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    return sent[0]["status"], head, b"".join(m.get("body", b"") for m in sent[1:])


def _alert(alert_id: str) -> bytes:
    return json.dumps({"secret": SECRET, "ticker": "BINANCE:BTCUSDT", "action": "buy", "quantity": "0.01",
                       "alert_id": alert_id}).encode()  # fmt: skip


CASES = [  # (peer, extra headers): uvicorn rewrites the client only for a trusted peer with X-Forwarded-For
    ("127.0.0.1", [(b"x-forwarded-for", b"52.89.214.238")]),
    ("127.0.0.1", []),
    ("10.1.2.3", [(b"x-forwarded-for", b"52.89.214.238")]),
    ("127.0.0.1", [(b"x-forwarded-for", b"52.89.214.238, 127.0.0.1")]),
    ("127.0.0.1", [(b"x-forwarded-for", b"10.9.9.9"), (b"x-forwarded-for", b"52.89.214.238")]),
    ("127.0.0.1", [(b"x-forwarded-proto", b"https")]),
    ("::1", [(b"x-forwarded-for", b"34.212.75.30")]),
]


@pytest.mark.parametrize("trusted_proxies", [[], ["127.0.0.1"]])
def test_alerts_see_the_client_address_uvicorns_proxy_middleware_gives(tmp_path, monkeypatch, trusted_proxies):
    monkeypatch.delenv("TRADEWIRE_API_CORS_ORIGINS", raising=False)
    front, front_service = _app(tmp_path, "front", allowed_ips=["tradingview"], trusted_proxies=trusted_proxies)
    inner, inner_service = _app(tmp_path, "inner", allowed_ips=["tradingview"], trusted_proxies=trusted_proxies)
    served_by_server = ProxyHeadersMiddleware(front, trusted_hosts=TRUSTED)  # uvicorn with proxy_headers=True
    inner.serve_proxy_headers(TRUSTED)  # what server_config does instead
    statuses = []
    for i, (peer, extra) in enumerate(CASES):
        headers = [(b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json"), *extra]
        body = _alert(f"c{i}")
        a = asyncio.run(_call(served_by_server, "POST", "/webhook/tradingview", headers, [body], (peer, 5000)))
        b = asyncio.run(_call(inner, "POST", "/webhook/tradingview", headers, [body], (peer, 5000)))
        assert a == b, (peer, extra)
        assert front_service.recent_alerts(1)[0].client_ip == inner_service.recent_alerts(1)[0].client_ip
        statuses.append(a[0])
    assert statuses == [202, 403, 403, 202, 202, 403, 202]


def test_other_requests_go_through_the_proxy_middleware_inside_the_app(tmp_path, monkeypatch):
    monkeypatch.delenv("TRADEWIRE_API_CORS_ORIGINS", raising=False)
    front, _ = _app(tmp_path, "front")
    inner, _ = _app(tmp_path, "inner")
    served_by_server = ProxyHeadersMiddleware(front, trusted_hosts=TRUSTED)
    inner.serve_proxy_headers(TRUSTED)
    headers = [(b"host", b"dash.example"), (b"x-forwarded-proto", b"https")]
    for peer in ("127.0.0.1", "10.1.2.3"):
        a = asyncio.run(_call(served_by_server, "GET", "/api/auth/", headers, [b""], (peer, 5000)))
        b = asyncio.run(_call(inner, "GET", "/api/auth/", headers, [b""], (peer, 5000)))
        assert a == b and a[0] == 307
    trusted = asyncio.run(_call(inner, "GET", "/api/auth/", headers, [b""], ("127.0.0.1", 5000)))
    assert trusted[1]["location"] == "https://dash.example/api/auth"  # the redirect follows X-Forwarded-Proto
    untrusted = asyncio.run(_call(inner, "GET", "/api/auth/", headers, [b""], ("10.1.2.3", 5000)))
    assert untrusted[1]["location"] == "http://dash.example/api/auth"


def test_server_config_moves_the_proxy_handling_into_the_tradewire_app_only(tmp_path, monkeypatch):
    monkeypatch.delenv("TRADEWIRE_API_CORS_ORIGINS", raising=False)
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    app, _ = _app(tmp_path, "a")
    config = server_config(app, "127.0.0.1", 8000)
    assert config.proxy_headers is False and app._proxied is not None
    assert app.webhook_endpoint.proxy_headers is not None
    assert (config.loop, config.http, config.access_log) == ("uvloop", "httptools", False)

    async def plain(scope, receive, send):  # any other ASGI app keeps uvicorn's own middleware
        return None

    assert server_config(plain, "127.0.0.1", 8000).proxy_headers is True


def test_a_body_in_several_messages_is_read_whole_and_an_oversized_stream_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("TRADEWIRE_API_CORS_ORIGINS", raising=False)
    app, service = _app(tmp_path, "a", max_body_bytes=1024)
    body = _alert("chunked")
    parts = [body[:7], b"", body[7:30], body[30:]]
    status, head, out = asyncio.run(_call(app, "POST", "/webhook/tradingview", [], parts, ("1.2.3.4", 1)))
    assert status == 202 and json.loads(out)["status"] == "accepted"
    assert int(head["content-length"]) == len(out)
    big = [b'{"secret": "' + b"x" * 600, b"y" * 600 + b'"}']
    status, _, out = asyncio.run(_call(app, "POST", "/webhook/tradingview", [], big, ("1.2.3.4", 1)))
    assert status == 413 and json.loads(out)["reason"] == "body larger than 1024 bytes"
    assert [r.status_code for r in service.recent_alerts(2)] == [413, 202]


def test_a_client_that_disconnects_mid_body_gets_no_answer_and_places_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("TRADEWIRE_API_CORS_ORIGINS", raising=False)
    app, service = _app(tmp_path, "a")
    body = _alert("gone")

    async def run():
        scope_headers = [(b"content-type", b"application/json")]
        messages = [{"type": "http.request", "body": body[:10], "more_body": True}, {"type": "http.disconnect"}]
        sent: list = []

        async def receive():
            return messages.pop(0)

        async def send(m):
            sent.append(m)

        scope = {"type": "http", "method": "POST", "path": "/webhook/tradingview", "root_path": "",
                 "headers": scope_headers, "client": ("1.2.3.4", 1), "query_string": b""}  # fmt: skip
        await app(scope, receive, send)
        return sent

    assert asyncio.run(run()) == []
    assert service.pending_intents == 0 and service.recent_alerts(10) == []
