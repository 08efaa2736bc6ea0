"""Shared helpers for the risk tests: a recording bus environment and a small fake portfolio."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import TestClock
from tradewire.model import (
    ClientOrderId,
    Currency,
    InstrumentId,
    Money,
    Order,
    OrderInitialized,
    OrderSide,
    OrderType,
    Price,
    Quantity,
    QuoteTick,
    StrategyId,
    crypto_spot,
    future,
)
from tradewire.model.commands import SubmitOrder
from tradewire.model.position import Position
from tradewire.risk import RiskConfig, RiskEngine

T0 = 1_704_207_600_000_000_000  # 2024-01-02 15:00:00 UTC (a Tuesday, CME open)


class FakePortfolio:
    """The `PortfolioView` subset, driven directly by tests: net positions, equity, free balances."""

    def __init__(self) -> None:
        self.net: dict[str, int] = {}
        self.equity_raw: dict[str, int] = {}
        self.free_raw: dict[str, int] = {}

    def net_position_raw(self, instrument_id, strategy_id=None) -> int:
        return self.net.get(instrument_id, 0)

    def equity(self, currency: Currency) -> Money:
        return Money.from_raw(self.equity_raw[currency.code], currency)

    def balance_free(self, currency: Currency) -> Money:
        return Money.from_raw(self.free_raw.get(currency.code, 0), currency)

    def balance_total(self, currency: Currency) -> Money:
        return self.balance_free(currency)


class Env:
    """Bus + cache + clock + fake portfolio, recording what the risk engine sends downstream."""

    ES = InstrumentId("ESH4.XCME")
    BTC = InstrumentId("BTCUSDT.BINANCE")

    def __init__(self) -> None:
        self.bus = MessageBus()
        self.cache = Cache()
        self.clock = TestClock(T0)
        self.portfolio = FakePortfolio()
        self.executed: list[object] = []
        self.processed: list[object] = []
        self.risk_events: list[object] = []
        self.bus.register("ExecutionEngine.execute", self.executed.append)
        self.bus.register("ExecutionEngine.process", self.processed.append)
        self.bus.subscribe("events.risk", self.risk_events.append)
        self.es = future("ESH4", "XCME", "0.25", "50", margin_init="0.05")
        self.btc = crypto_spot("BTCUSDT", "BINANCE", "BTC", "USDT", 2, 5, min_notional="10")
        self.cache.add_instrument(self.es)
        self.cache.add_instrument(self.btc)
        self.portfolio.equity_raw = {"USD": 10**9 * 1_000_000, "USDT": 10**9 * 1_000_000}
        self.portfolio.free_raw = {"USD": 10**9 * 1_000_000, "USDT": 10**9 * 1_000_000}
        self._ids = itertools.count(1)

    usd = staticmethod(lambda amount: int(Decimal(amount) * 10**9))

    def engine(self, config: RiskConfig | None = None, **kw) -> RiskEngine:
        return RiskEngine(self.bus, self.cache, self.portfolio, self.clock, config, **kw)

    def quote(self, iid: InstrumentId, bid: str, ask: str) -> None:
        self.cache.quotes[iid] = QuoteTick(
            iid, Price.from_str(bid), Price.from_str(ask), Quantity(1, 0), Quantity(1, 0), self.clock.timestamp_ns(), 0
        )

    def order(
        self, side: str = "buy", qty: str = "1", kind: OrderType = OrderType.LIMIT, price: str | None = "4500",
        trigger: str | None = None, iid: InstrumentId | None = None, sid: str = "s1", reduce_only: bool = False,
    ) -> Order:  # fmt: skip
        iid = iid or self.ES
        inst = self.cache.instruments[iid]
        init = OrderInitialized(
            ClientOrderId(f"O-{next(self._ids)}"), StrategyId(sid), iid, self.clock.timestamp_ns(),
            self.clock.timestamp_ns(), OrderSide(side), kind, Quantity.from_str(qty),
            price=None if price is None else Price(price, inst.price_precision),
            trigger_price=None if trigger is None else Price(trigger, inst.price_precision), reduce_only=reduce_only,
        )  # fmt: skip
        return Order(init)

    def submit(self, risk: RiskEngine, order: Order) -> SubmitOrder:
        cmd = SubmitOrder(order.strategy_id, order.instrument_id, self.clock.timestamp_ns(), order)
        self.bus.send("RiskEngine.execute", cmd)
        return cmd

    def last_denial(self) -> str:
        from tradewire.model import OrderDenied

        denied = [e for e in self.processed if isinstance(e, OrderDenied)]
        assert denied, "no OrderDenied was sent"
        return denied[-1].reason

    def set_position(self, iid: InstrumentId, qty: str, strategy: str = "s1", px: str = "4500") -> Position:
        """Put an open position in the cache and the fake portfolio (net qty signed, e.g. "-3")."""
        inst = self.cache.instruments[iid]
        raw = int(Decimal(qty) * 10**9)
        self.portfolio.net[iid] = raw
        pos = Position(f"{iid}-{strategy}", iid, StrategyId(strategy), inst.multiplier.raw, inst.settlement_currency,
                       inst.size_precision)  # fmt: skip
        pos.signed_qty_raw = raw
        pos._cost = abs(raw) * Price.from_str(px).raw
        self.cache.positions[pos.position_id] = pos
        return pos


def _usd(amount: str) -> int:
    """Raw Money of a decimal amount."""
    return int(Decimal(amount) * 10**9)


@pytest.fixture
def env() -> Env:
    return Env()
