"""Fixtures for the signals tests: a service wired to a recording RiskEngine endpoint."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import TestClock
from tradewire.model.identifiers import InstrumentId
from tradewire.model.instruments import crypto_spot, future
from tradewire.model.objects import Currency, Money
from tradewire.signals.config import FuturesRollConfig, SourceConfig
from tradewire.signals.idempotency import SqlIdempotencyStore
from tradewire.signals.service import WebhookService

SECRET = "test-secret-0123456789abcdef"
T0 = datetime(2024, 8, 8, 23, 55, 0, tzinfo=UTC)
T0_NS = int(T0.timestamp()) * 1_000_000_000
BTC = InstrumentId("BTCUSDT.BINANCE")


class FakeAccount:
    """Positions and equity as the Portfolio would report them."""

    def __init__(self) -> None:
        self.positions: dict[InstrumentId, int] = {}
        self.equities: dict[str, Decimal] = {"USDT": Decimal("10000"), "USD": Decimal("100000")}

    def net_position_raw(self, instrument_id, strategy_id=None) -> int:
        return self.positions.get(instrument_id, 0)

    def equity(self, currency: Currency) -> Money:
        return Money(self.equities.get(currency.code, Decimal(0)), currency)


@dataclass
class Harness:
    service: WebhookService
    clock: TestClock
    cache: Cache
    account: FakeAccount
    bus: MessageBus
    commands: list = field(default_factory=list)

    def post(self, payload, content_type="application/json", peer="52.89.214.238", headers=None):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return self.service.handle("tradingview", body, content_type, peer, headers or {})


def alert(**kw) -> dict:
    base = {"secret": SECRET, "ticker": "BINANCE:BTCUSDT", "action": "buy", "quantity": "0.01"}
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None}


def make_harness(tmp_path: Path, **cfg) -> Harness:
    clock = TestClock(T0_NS)
    cache = Cache()
    cache.add_instrument(crypto_spot("BTCUSDT", "BINANCE", "BTC", "USDT", 2, 5))
    cache.add_instrument(future("ESU4", "CME", "0.25", "50"))
    account = FakeAccount()
    bus = MessageBus()
    commands: list = []
    bus.register("RiskEngine.execute", commands.append)
    base = dict(
        secret=SECRET,
        default_venue="BINANCE",
        rate_per_s=Decimal(1000),
        burst=1000,
        futures={"ES": FuturesRollConfig()},
        venue_aliases={"CME_MINI": "CME"},
    )
    base.update(cfg)
    store = SqlIdempotencyStore(tmp_path / "webhook.sqlite")
    service = WebhookService(
        {"tradingview": SourceConfig(**base)}, store, clock, bus=bus, market=cache, account=account
    )
    return Harness(service, clock, cache, account, bus, commands)


def restart(h: Harness, home: Path, now_ns: int, **kw) -> tuple[WebhookService, list]:
    """A new service (a restarted process) on the database file in ``home`` of harness ``h``; returns it and
    the list its ``RiskEngine.execute`` commands go to. ``kw`` go to :class:`WebhookService`."""
    bus = MessageBus()
    commands: list = []
    bus.register("RiskEngine.execute", commands.append)
    cfg = SourceConfig(secret=SECRET, default_venue="BINANCE", rate_per_s=Decimal(1000), burst=1000)
    store = SqlIdempotencyStore(home / "webhook.sqlite")
    svc = WebhookService({"tradingview": cfg}, store, TestClock(now_ns), bus=bus, market=h.cache, account=h.account,
                         **kw)  # fmt: skip
    return svc, commands


@pytest.fixture
def harness(tmp_path) -> Harness:
    return make_harness(tmp_path)


@pytest.fixture
def tv(tmp_path):
    """Constants and builders: ``tv.alert(**fields)``, ``tv.make(**source_config)``, ``tv.restart(h, home, now)``."""
    from types import SimpleNamespace

    counter = iter(range(1_000_000))

    def make(**cfg) -> Harness:
        d = tmp_path / f"h{next(counter)}"
        d.mkdir()
        return make_harness(d, **cfg)

    return SimpleNamespace(SECRET=SECRET, T0=T0, T0_NS=T0_NS, BTC=BTC, alert=alert, make=make, restart=restart)
