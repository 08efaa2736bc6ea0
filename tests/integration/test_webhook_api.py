"""The webhook router over HTTP (FastAPI app + httpx ASGI transport), with the real example payloads."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tradewire.api.webhook import build_webhook_router
from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import TestClock
from tradewire.model.commands import SubmitOrder
from tradewire.model.instruments import crypto_spot, equity
from tradewire.model.objects import Currency, Money
from tradewire.signals.config import SourceConfig
from tradewire.signals.idempotency import SqlIdempotencyStore
from tradewire.signals.service import WebhookService

EXAMPLES = Path(__file__).parents[1] / "fixtures" / "webhooks" / "tradingview_alert_examples.json"
SECRET = "integration-secret-0123456789"
T0_NS = int(datetime(2024, 8, 8, 23, 55, tzinfo=UTC).timestamp()) * 10**9

# TradingView placeholder values for rendering templates (what TradingView would substitute)
VALUES = {
    "timenow": "2024-08-08T23:55:00Z", "time": "2024-08-08T23:54:00Z", "exchange": "BINANCE", "ticker": "BTCUSDT",
    "open": "61000.10", "high": "61050.00", "low": "60990.00", "close": "61020.55", "volume": "12.345",
    "strategy.position_size": "0.01", "strategy.order.action": "buy", "strategy.order.contracts": "0.01",
    "strategy.order.price": "61020.55", "strategy.order.id": "Long entry", "strategy.market_position": "long",
    "strategy.market_position_size": "0.01", "strategy.prev_market_position": "flat",
    "strategy.prev_market_position_size": "0", "strategy.order.alert_message": "sell",
    "plot_0": "1.238", "plot_1": "1.2376", "plot_2": "1.2388", "plot_3": "10", "plot_4": "5", "plot_5": "16748962",
}  # fmt: skip


def render(template: str) -> str:
    def sub(m: re.Match) -> str:
        return VALUES[m.group(1)]  # KeyError = a placeholder this test does not know

    return re.sub(r"\{\{([a-z_.0-9]+)\}\}", sub, template)


class Account:
    def net_position_raw(self, instrument_id, strategy_id=None) -> int:
        return 0

    def equity(self, currency: Currency) -> Money:
        return Money(Decimal(10_000), currency)


def build(tmp_path: Path, **cfg):
    clock = TestClock(T0_NS)
    cache = Cache()
    cache.add_instrument(crypto_spot("BTCUSDT", "BINANCE", "BTC", "USDT", 2, 5))
    for sym in ("TSLA", "AAPL", "AMD"):
        cache.add_instrument(equity(sym, "PAPER"))
    bus = MessageBus()
    commands: list = []
    bus.register("RiskEngine.execute", commands.append)
    base = {"secret": SECRET, "default_venue": "PAPER", "rate_per_s": Decimal(10_000), "burst": 10_000,
            "default_quantity": Decimal(1)}  # fmt: skip
    base.update(cfg)
    service = WebhookService({"tradingview": SourceConfig(**base), "other": SourceConfig(**base)},
                             SqlIdempotencyStore(tmp_path / "w.sqlite"), clock, bus=bus, market=cache,
                             account=Account())  # fmt: skip
    app = FastAPI()
    app.include_router(build_webhook_router(service))
    return app, service, commands, clock


@pytest.fixture
def setup(tmp_path):
    return build(tmp_path)


def examples(kind: str) -> list[dict]:
    data = json.loads(EXAMPLES.read_text())
    return [e for e in data["examples"] if e["kind"] == kind]


# unknown fields each real body must be refused for (derived by reading the fixture)
EXPECTED_UNKNOWN = {
    "htm_binance_filled_dogeusdt": {"passphrase", "exchange", "bar", "strategy"},
    "htm_alpaca_filled_aapl": {"passphrase", "bar", "strategy"},
    "traderspost_simple_filled": set(),
    "traderspost_signal_with_tp_sl": {"signalPrice", "takeProfit", "stopLoss"},
    "binanceapi_plot_filled_gbpusd": {"PASSWORD", "TOTAL_ORDER", "TICKER", "SIDE", "ORDER_PRICE"},
    "fundingrate_stored_event_xbtusd": {"candles", "condition", "created", "providerid", "type", "userid"},
    "htm_binance_template": {"passphrase", "exchange", "bar", "strategy"},
    "alpacaTrading_ohlc_template": {"open", "high", "low", "close", "exchange", "volume", "timenow"},
    "binanceapi_plot_template": {"PASSWORD", "TICKER", "SIDE", "LEVER", "ORDER_PERC"},
    "fundingrate_template": {"token", "providerid", "type", "condition", "description", "timeframe"},
}


@pytest.mark.parametrize("ex", examples("filled"), ids=lambda e: e["id"])
def test_real_filled_bodies_are_refused_with_the_unknown_fields_named(setup, ex):
    app, service, commands, _ = setup
    client = TestClient(app)
    r = client.post(
        "/webhook/tradingview", content=json.dumps(ex["payload"]), headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    reason = r.json()["reason"]
    for name in EXPECTED_UNKNOWN[ex["id"]]:
        assert f"{name}: unknown field" in reason
    assert "secret: field required" in reason  # none of them carries our secret field
    service.drain()
    assert commands == []


def test_real_body_in_our_schema_is_accepted_once_it_carries_the_secret(setup):
    app, service, commands, _ = setup
    (tp,) = [e for e in examples("filled") if e["id"] == "traderspost_simple_filled"]
    payload = dict(tp["payload"], secret=SECRET)  # {"ticker": "TSLA", "action": "buy", "price": "420.69"}
    r = TestClient(app).post("/webhook/tradingview", json=payload)
    assert r.status_code == 202, r.text
    service.drain()
    (cmd,) = commands
    assert isinstance(cmd, SubmitOrder) and str(cmd.instrument_id) == "TSLA.PAPER" and cmd.order.quantity.raw == 10**9


@pytest.mark.parametrize("ex", examples("template"), ids=lambda e: e["id"])
def test_templates_rendered_and_raw(setup, ex):
    app, service, commands, _ = setup
    client = TestClient(app)
    ctype = ex.get("content_type", "application/json")
    rendered = render(ex["body"])
    r = client.post("/webhook/tradingview", content=rendered, headers={"content-type": ctype})
    assert r.status_code == 422
    reason = r.json()["reason"]
    for name in EXPECTED_UNKNOWN.get(ex["id"], set()):
        assert f"{name}: unknown field" in reason
    if ex["id"] == "bva_pipe_text_template":  # "key|name|buy|BTCUSDT" read as a one-liner: not a valid alert
        assert "secret: field required" in reason and "action:" in reason
    # the raw template (unrendered, so not JSON) as TradingView would send it: text/plain
    raw = client.post("/webhook/tradingview", content=ex["body"], headers={"content-type": "text/plain"})
    assert raw.status_code == 422
    service.drain()
    assert commands == []


def test_unrendered_numeric_placeholder_reports_json_position(setup):
    app, *_ = setup
    (t,) = [e for e in examples("template") if e["id"] == "htm_binance_template"]
    r = TestClient(app).post("/webhook/tradingview", content=t["body"], headers={"content-type": "text/plain"})
    assert r.json()["reason"].startswith("invalid JSON at line 8 column")


DOC_TEMPLATE = """{
  "secret": "%s",
  "ticker": "{{exchange}}:{{ticker}}",
  "action": "{{strategy.order.action}}",
  "quantity": "{{strategy.order.contracts}}",
  "price": "{{close}}",
  "time": "{{timenow}}"
}"""


def test_documented_template_renders_to_an_accepted_alert(setup):
    app, service, commands, _ = setup
    body = render(DOC_TEMPLATE % SECRET)
    r = TestClient(app).post("/webhook/tradingview", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 202, r.text
    service.drain()
    assert commands[0].order.quantity.raw == 10_000_000 and str(commands[0].instrument_id) == "BTCUSDT.BINANCE"


def test_docs_contain_the_tested_template():
    doc = (Path(__file__).parents[2] / "docs" / "tradingview.md").read_text()
    assert DOC_TEMPLATE % "YOUR_WEBHOOK_SECRET" in doc


def test_auth_failures_over_http(tmp_path):
    app, service, commands, clock = build(
        tmp_path, allowed_ips=["tradingview"], trusted_proxies=["127.0.0.1"], max_body_bytes=256, max_age_s=30,
        rate_per_s=Decimal(1), burst=3,
    )  # fmt: skip

    async def run():
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5555))
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as c:
            tv = {"x-forwarded-for": "52.89.214.238"}
            good = {"secret": SECRET, "ticker": "BINANCE:BTCUSDT", "action": "buy", "quantity": "0.01"}
            out = {}
            out["401"] = await c.post("/webhook/tradingview", json=dict(good, secret="x" * 20), headers=tv)
            out["403"] = await c.post("/webhook/tradingview", json=good)  # peer 127.0.0.1 itself is not allowed
            out["403b"] = await c.post("/webhook/tradingview", json=good, headers={"x-forwarded-for": "8.8.8.8"})
            out["413"] = await c.post("/webhook/tradingview", content=b"{" + b" " * 300 + b"}", headers=tv)

            async def chunks():
                for _ in range(10):
                    yield b" " * 40

            out["413s"] = await c.post("/webhook/tradingview", content=chunks(), headers=tv)  # no content-length
            out["422"] = await c.post("/webhook/tradingview", json=dict(good, time="2024-08-08T23:54:00Z"), headers=tv)
            out["202"] = await c.post("/webhook/tradingview", json=good, headers=tv)
            out["429"] = await c.post("/webhook/tradingview", json=dict(good, alert_id="z"), headers=tv)
            out["404"] = await c.post("/webhook/nosuch", json=good, headers=tv)
            return out

    out = asyncio.run(run())
    for name, resp in out.items():
        assert resp.status_code == int(name[:3]), (name, resp.text)
        assert SECRET not in resp.text
    assert out["429"].headers["retry-after"] == "1"
    assert "content-length" not in out["413s"].request.headers  # streamed: the limit is enforced while reading
    assert service.drain() == 1 and len(commands) == 1


def test_100_concurrent_identical_requests_make_one_order(setup):
    app, service, commands, _ = setup
    body = json.dumps({"secret": SECRET, "ticker": "BINANCE:BTCUSDT", "action": "buy", "quantity": "0.01",
                       "alert_id": "same-one"})  # fmt: skip

    async def run():
        transport = httpx.ASGITransport(app=app, client=("52.89.214.238", 443))
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as c:
            return await asyncio.gather(*[
                c.post("/webhook/tradingview", content=body, headers={"content-type": "application/json"})
                for _ in range(100)
            ])  # fmt: skip

    responses = asyncio.run(run())
    assert [r.status_code for r in responses] == [202] * 100
    assert len({tuple(r.json()["client_order_ids"]) for r in responses}) == 1
    assert sum("idempotent-replay" in r.headers for r in responses) == 99
    assert service.drain() == 1 and len(commands) == 1


def test_other_source_path_and_text_plain(setup):
    app, service, commands, _ = setup
    r = TestClient(app).post("/webhook/other", content=f"sell BINANCE:BTCUSDT 0.02 secret={SECRET}",
                             headers={"content-type": "text/plain"})  # fmt: skip
    assert r.status_code == 202
    service.drain()
    assert commands[0].order.side.value == "sell"
    assert service.recent_alerts(1, source="other")[0].outcome == "submitted"
