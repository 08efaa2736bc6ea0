"""Fixtures for OMS tests: a tiny in-test ExecutionClient that accepts, rests and fills on request."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import TestClock
from tradewire.execution.client import ExecutionClient
from tradewire.execution.engine import ExecutionEngine
from tradewire.execution.factory import OrderFactory
from tradewire.model import (
    AccountId,
    Money,
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderType,
    OrderUpdated,
    Price,
    Quantity,
    StrategyId,
    TradeId,
    Venue,
    VenueOrderId,
    crypto_spot,
)
from tradewire.model.objects import USDT, mul_raw
from tradewire.portfolio import CashAccount, Portfolio

START_NS = 1_700_000_000_000_000_000
_TRADE_IDS = itertools.count(1)  # shared so a restarted rig never reuses a trade id


class ImmediateClient(ExecutionClient):
    """Accepts every order; fills market orders at once at ``market_px``; other orders rest until ``fill``."""

    def __init__(self, venue, account_id, clock, handler, supports=frozenset({"modify"}), fee_rate="0"):
        self.supports = frozenset(supports)
        super().__init__(venue, account_id, clock, handler)
        self.market_px: dict[str, Price] = {}
        self.fee_rate = Decimal(fee_rate)
        self.submitted: list = []
        self.modified: list = []
        self.canceled: list = []

    def _ev(self, cls, order, **kw):
        ts = self.clock.timestamp_ns()
        self.event_handler(cls(order.client_order_id, order.strategy_id, order.instrument_id, ts, ts, **kw))

    def submit_order(self, order):
        self.submitted.append(order.client_order_id)
        self._ev(OrderAccepted, order, venue_order_id=VenueOrderId(f"V-{order.client_order_id}"),
                 account_id=self.account_id)  # fmt: skip
        if order.order_type is OrderType.MARKET:
            self.fill(order, order.leaves_qty, self.market_px[order.instrument_id])

    def fill(self, order, qty: Quantity, px: Price):
        """Fill ``qty`` of ``order`` at ``px`` (commission = fee_rate x notional, in USDT)."""
        fee_raw = int(Decimal(mul_raw(qty.raw, px.raw)) * self.fee_rate)
        self._ev(OrderFilled, order, venue_order_id=order.venue_order_id or VenueOrderId("V-x"),
                 trade_id=TradeId(f"T-{next(_TRADE_IDS)}"), order_side=order.side, order_type=order.order_type,
                 last_qty=qty, last_px=px, commission=Money.from_raw(fee_raw, USDT),
                 account_id=self.account_id)  # fmt: skip

    def modify_order(self, order, quantity, price, trigger_price):
        self.modified.append((order.client_order_id, quantity, price, trigger_price))
        self._ev(OrderUpdated, order, quantity=quantity, price=price, trigger_price=trigger_price)

    def cancel_order(self, order):
        self.canceled.append(order.client_order_id)
        self._ev(OrderCanceled, order, venue_order_id=order.venue_order_id)


class Rig:
    """Engine + portfolio + client + factory wired on one bus."""

    def __init__(self, supports=frozenset({"modify"}), fee_rate="0"):
        self.clock = TestClock(START_NS)
        self.bus = MessageBus()
        self.cache = Cache()
        self.inst = crypto_spot("BTCUSDT", "SIM", "BTC", "USDT", 2, 3)
        self.cache.add_instrument(self.inst)
        self.portfolio = Portfolio(self.cache, self.bus, self.clock)
        self.account = CashAccount(AccountId("SIM-001"), [Money("1000000", USDT)])
        self.portfolio.register_account(self.account)
        self.engine = ExecutionEngine(self.bus, self.cache, self.clock, self.portfolio)
        self.client = ImmediateClient(Venue("SIM"), AccountId("SIM-001"), self.clock, self.engine.process,
                                      supports, fee_rate)  # fmt: skip
        self.engine.register_client(self.client)
        self.client.market_px[self.inst.id] = Price("100.00", 2)
        self.sid = StrategyId("S-1")
        self.factory = OrderFactory(self.sid, self.clock)
        self.events: list = []
        self.bus.subscribe("events.order.*", self.events.append)

    def px(self, v: str) -> Price:
        return Price(v, 2)

    def qty(self, v: str) -> Quantity:
        return Quantity(v, 3)


@pytest.fixture
def rig() -> Rig:
    return Rig()


@pytest.fixture
def make_rig():
    """The :class:`Rig` class, to build rigs with other client capabilities."""
    return Rig
