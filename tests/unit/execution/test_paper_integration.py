"""The OMS against the real paper venue: native stops at the venue, emulated trailing stops, brackets."""

from __future__ import annotations

from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import TestClock
from tradewire.execution.engine import ExecutionEngine
from tradewire.execution.factory import OrderFactory
from tradewire.model import (
    AccountId,
    Money,
    OrderSide,
    OrderStatus,
    Price,
    Quantity,
    QuoteTick,
    StrategyId,
    Venue,
    crypto_spot,
)
from tradewire.model.commands import SubmitOrder, SubmitOrderList
from tradewire.portfolio import CashAccount, Portfolio
from tradewire.venues.paper.execution import PaperExecutionClient


class PaperRig:
    def __init__(self):
        self.clock = TestClock(1_700_000_000_000_000_000)
        self.bus, self.cache = MessageBus(), Cache()
        self.inst = crypto_spot("BTCUSDT", "PAPER", "BTC", "USDT", 2, 3, maker_fee="0", taker_fee="0.001")
        self.cache.add_instrument(self.inst)
        self.portfolio = Portfolio(self.cache, self.bus, self.clock)
        acct = AccountId("PAPER-001")
        self.portfolio.register_account(CashAccount(acct, [Money("100000", self.inst.quote_currency)]))
        self.engine = ExecutionEngine(self.bus, self.cache, self.clock, self.portfolio)
        self.venue = PaperExecutionClient(Venue("PAPER"), acct, self.clock, self.engine.process, [self.inst])
        self.engine.register_client(self.venue)
        self.sid = StrategyId("S-1")
        self.factory = OrderFactory(self.sid, self.clock)

    def quote(self, bid: str, ask: str, size: str = "10") -> None:
        self.clock.set_time(self.clock.timestamp_ns() + 1_000_000)
        ts = self.clock.timestamp_ns()
        tick = QuoteTick(self.inst.id, Price(bid, 2), Price(ask, 2), Quantity(size, 3), Quantity(size, 3), ts, ts)
        self.cache.quotes[self.inst.id] = tick
        self.venue.process_quote_tick(tick)
        self.engine.on_quote_tick(tick)


def test_bracket_on_paper_venue_take_profit_cancels_native_stop():
    r = PaperRig()
    r.quote("100.00", "100.10")
    entry, sl, tp = r.factory.bracket(r.inst.id, OrderSide.BUY, Quantity("1", 3), sl_trigger_price=Price("95.00", 2),
                                      tp_price=Price("105.00", 2))  # fmt: skip
    r.engine.execute(SubmitOrderList(r.sid, r.inst.id, 0, entry.order_list_id, (entry, sl, tp)))
    assert entry.status is OrderStatus.FILLED and entry.avg_px == Price("100.10", 2).as_decimal()
    assert sl.status is OrderStatus.ACCEPTED and tp.status is OrderStatus.ACCEPTED  # both native at the venue
    assert sl not in r.engine.emulator
    r.quote("105.00", "105.10")
    assert tp.status is OrderStatus.FILLED
    assert sl.status is OrderStatus.CANCELED
    (trade,) = r.portfolio.closed_trades()
    assert trade.realized_pnl == Money("4.90", r.inst.quote_currency)  # 105.00 - 100.10
    assert r.portfolio.net_position_raw(r.inst.id) == 0
    assert r.engine.illegal_event_count == 0


def test_emulated_trailing_stop_released_to_paper_venue_as_market():
    r = PaperRig()
    r.quote("100.00", "100.10")
    r.engine.execute(SubmitOrder(r.sid, r.inst.id, 0, r.factory.market(r.inst.id, OrderSide.BUY, Quantity("2", 3))))
    ts = r.factory.trailing_stop_market(r.inst.id, OrderSide.SELL, Quantity("2", 3), "1.50")
    r.engine.execute(SubmitOrder(r.sid, r.inst.id, 0, ts))
    assert ts in r.engine.emulator  # the paper venue has no native trailing stops
    for bid in ("101.00", "103.00", "102.00"):
        r.quote(bid, "103.50")
    assert ts.trigger_price == Price("101.50", 2)
    r.quote("101.50", "101.60")
    released = r.cache.orders[ts.client_order_id]
    assert released.status is OrderStatus.FILLED and released.avg_px == Price("101.50", 2).as_decimal()
    assert r.portfolio.net_position_raw(r.inst.id) == 0
    assert r.engine.illegal_event_count == 0


def test_partial_entry_fills_resize_children_at_the_paper_venue():
    r = PaperRig()
    r.quote("100.50", "100.60")
    entry, sl, tp = r.factory.bracket(r.inst.id, OrderSide.BUY, Quantity("1", 3), sl_trigger_price=Price("95.00", 2),
                                      tp_price=Price("105.00", 2), entry_price=Price("100.00", 2))  # fmt: skip
    r.engine.execute(SubmitOrderList(r.sid, r.inst.id, 0, entry.order_list_id, (entry, sl, tp)))
    assert entry.status is OrderStatus.ACCEPTED and sl.status is OrderStatus.INITIALIZED
    r.quote("99.90", "100.00", size="0.4")  # only 0.4 offered at the limit
    assert entry.status is OrderStatus.PARTIALLY_FILLED
    assert sl.quantity == tp.quantity == entry.filled_qty
    assert sl.status is OrderStatus.ACCEPTED and tp.status is OrderStatus.ACCEPTED
    r.quote("99.80", "99.90", size="10")
    assert entry.status is OrderStatus.FILLED
    assert sl.quantity == tp.quantity == Quantity("1", 3)
    assert sl.status is OrderStatus.ACCEPTED and tp.status is OrderStatus.ACCEPTED
    assert r.engine.illegal_event_count == 0
