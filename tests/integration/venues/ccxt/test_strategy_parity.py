"""One unchanged strategy against the paper venue and against the local Binance server via ccxt."""

from __future__ import annotations

from decimal import Decimal

from tradewire.core.clock import LiveClock, TestClock
from tradewire.model.data import TradeTick
from tradewire.model.enums import OrderSide, OrderStatus
from tradewire.model.events import OrderFilled
from tradewire.model.identifiers import AccountId, InstrumentId
from tradewire.model.objects import Currency, Money
from tradewire.node.kernel import Kernel, VenueConfig
from tradewire.node.live import bundled_sample
from tradewire.node.replay import BinanceReplay
from tradewire.portfolio.accounts import CashAccount
from tradewire.strategy.base import Strategy
from tradewire.venues.ccxt.data import CcxtDataClient
from tradewire.venues.ccxt.execution import CcxtExecutionClient

IID = InstrumentId("BTCUSDT.BINANCE")
USDT, BTC = Currency.from_str("USDT"), Currency.from_str("BTC")


class EveryNthTrade(Strategy):
    """Flip between flat and long ``quantity`` on every ``n``-th public trade (market orders)."""

    def on_start(self) -> None:
        self.n = int(self.config["n"])
        self.seen = 0
        self.intents: list[str] = []
        self.subscribe_trade_ticks(IID)

    def on_trade_tick(self, tick: TradeTick) -> None:
        self.seen += 1
        if self.seen % self.n or any(not o.is_closed for o in self.cache.orders.values()):
            return
        inst = self.cache.instrument(IID)
        qty = inst.make_qty(self.config["quantity"])
        side = OrderSide.BUY if self.position_qty_raw(IID) == 0 else OrderSide.SELL
        self.intents.append(side.value)
        self.submit_order(self.order_factory.market(IID, side, qty))


def run_paper(inst) -> tuple[EveryNthTrade, Kernel]:
    clock = TestClock()
    k = Kernel(clock, "PAPER-001")
    k.add_instrument(inst)
    k.add_venue(VenueConfig("BINANCE", [Money("1000000", USDT), Money("10", BTC)], base_currency=USDT))
    s = EveryNthTrade("nth-001", {"n": 400, "quantity": "0.01"})
    k.add_strategy(s)
    k.start()
    replay = BinanceReplay(bundled_sample(), IID, inst.price_precision, inst.size_precision)
    for item in replay.items:
        obj = item.obj
        ts = obj[0].ts_event if isinstance(obj, list) else obj.ts_event
        if ts > clock.timestamp_ns():
            clock.advance_time(ts)
        k.process(obj)
    return s, k


def test_same_strategy_runs_unchanged_on_paper_and_on_binance_via_ccxt(server, conn):
    inst = conn.instruments.get(IID)
    paper_strategy, paper = run_paper(inst)

    clock = LiveClock()
    k = Kernel(clock, "LIVE-001")
    k.add_instrument(inst)
    account = CashAccount(AccountId("BINANCE-001"), [Money("1000000", USDT), Money("10", BTC)], base_currency=USDT)
    ex = CcxtExecutionClient(conn, account.id, clock, k.exec_engine.process, poll_interval_s=None)
    k.add_execution_client(ex, account)
    data = CcxtDataClient(conn, clock)
    k.data_engine.register_client(data)
    data.set_handler(k.process)
    data.connect_blocking()
    ex.connect()
    s = EveryNthTrade("nth-001", {"n": 400, "quantity": "0.01"})
    k.add_strategy(s)
    k.start()
    assert conn.inbox.pump_until(lambda: server.subscriber_count() >= 1, 10)
    sent_trades = 0
    while n := server.advance(300):
        sent_trades += sum(
            1 for m in server.messages[server.cursor - n : server.cursor] if m["data"].get("e") == "trade"
        )
        # like the paper run, each tick is handled after the orders it caused have been filled
        assert conn.inbox.pump_until(
            lambda st=sent_trades: s.seen == st and all(o.is_closed for o in k.cache.orders.values()), 10
        )
    assert conn.inbox.pump_until(lambda: all(o.is_closed for o in k.cache.orders.values()), 10)
    recorded = sum(1 for m in server.messages if m["data"].get("e") == "trade")
    assert conn.inbox.pump_until(lambda: s.seen == recorded, 10)
    ex.disconnect()
    data.disconnect_blocking()

    assert s.seen == paper_strategy.seen == recorded
    assert len(s.intents) >= 10
    assert s.intents == paper_strategy.intents
    for kernel in (paper, k):
        orders = list(kernel.cache.orders.values())
        assert len(orders) == len(s.intents)
        assert all(o.status is OrderStatus.FILLED for o in orders)
    # every fill tradewire booked is one the venue booked, with the same exact quantity and price
    live_fills = [e for o in k.cache.orders.values() for e in o.events if type(e) is OrderFilled]
    venue = {str(t["id"]): t for t in server.my_trades}
    assert sorted(str(f.trade_id) for f in live_fills) == sorted(venue)
    for f in live_fills:
        t = venue[str(f.trade_id)]
        assert (f.last_qty.as_decimal(), f.last_px.as_decimal()) == (Decimal(t["qty"]), Decimal(t["price"]))
    assert k.portfolio.net_position_raw(IID) == paper.portfolio.net_position_raw(IID)
