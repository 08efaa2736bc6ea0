"""Paper trading on live public data: ``ccxt:binance:BTC/USDT`` feeds a paper venue (no credentials)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradewire.core.clock import LiveClock
from tradewire.model.data import TradeTick
from tradewire.model.enums import OrderSide, OrderStatus
from tradewire.model.objects import Currency, Money
from tradewire.node.kernel import Kernel, VenueConfig
from tradewire.strategy.base import Strategy
from tradewire.venues.ccxt.data import LiveDataSource, parse_data_spec
from tradewire.venues.paper.config import BookLevel, PaperVenueConfig


class BuyOnceAfter(Strategy):
    """Buy ``quantity`` at market on the ``n``-th trade tick."""

    def on_start(self) -> None:
        self.iid = self.config["instrument_id"]
        self.seen = 0
        self.subscribe_trade_ticks(self.iid)
        self.subscribe_order_book_deltas(self.iid)

    def on_trade_tick(self, tick: TradeTick) -> None:
        self.seen += 1
        if self.seen == self.config["n"]:
            qty = self.cache.instrument(self.iid).make_qty(self.config["quantity"])
            self.submit_order(self.order_factory.market(self.iid, OrderSide.BUY, qty))


def test_data_spec_parsing():
    assert parse_data_spec("ccxt:binance:BTC/USDT") == ("binance", "BTC/USDT")
    assert parse_data_spec("ccxt:binance:BTC/USDT:USDT") == ("binance", "BTC/USDT:USDT")
    for bad in ("binance:BTC/USDT", "ccxt::BTC/USDT", "ccxt:binance"):
        with pytest.raises(ValueError, match="ccxt:<exchange>:<symbol>"):
            parse_data_spec(bad)


def test_paper_venue_fed_by_the_exchange_public_streams(server):
    port = server.port
    rewrites = {"https://api.binance.com": f"http://127.0.0.1:{port}",
                "wss://stream.binance.com:9443/ws": f"ws://127.0.0.1:{port}/stream/ws"}  # fmt: skip
    clock = LiveClock()
    src = LiveDataSource("ccxt:binance:BTC/USDT", clock, config_overrides={"url_rewrites": rewrites})
    try:
        inst = src.instrument
        assert str(inst.id) == "BTCUSDT.BINANCE"
        k = Kernel(clock, "PAPER-001")
        k.add_instrument(inst)
        usdt = Currency.from_str("USDT")
        k.add_venue(VenueConfig("BINANCE", [Money("100000", usdt)], base_currency=usdt,
                                paper=PaperVenueConfig(book_level=BookLevel.L2)))  # fmt: skip
        s = BuyOnceAfter("buy-001", {"instrument_id": inst.id, "n": 100, "quantity": "0.01"})
        k.add_strategy(s)
        k.start()
        assert src.connection.inbox.pump_until(lambda: server.subscriber_count() >= 1, 10)
        server.advance(40)
        server.advance(1500)
        for obj in src.objects(idle_timeout=1.0):
            clock.run_due()
            k.process(obj)
        book = k.cache.books[inst.id]
        bids, asks = server.book_top(5)
        assert [Decimal(p) / 10**9 for p, _ in book.bids_raw(5)] == [p for p, _ in bids]
        assert [Decimal(p) / 10**9 for p, _ in book.asks_raw(5)] == [p for p, _ in asks]
        assert s.seen > 100
        (order,) = k.cache.orders.values()
        assert order.status is OrderStatus.FILLED  # filled by the paper venue, not at the exchange
        assert not [t for t in server.my_trades] and not server.orders
    finally:
        src.close()
