"""`Cache`: the in-memory state shared by engine components (single-threaded access).

Holds instruments, orders (by ``client_order_id``), positions, and the latest quote, trade and bar
per instrument. Components write what they own (ExecutionEngine: orders; Portfolio: positions;
DataEngine: market data) and read the rest.
"""

from __future__ import annotations

from tradewire.model.data import Bar, QuoteTick, TradeTick
from tradewire.model.identifiers import ClientOrderId, InstrumentId, PositionId, StrategyId
from tradewire.model.instruments import Instrument
from tradewire.model.orders import Order
from tradewire.model.position import Position


class Cache:
    """In-memory state. All lookups are O(1) dict reads."""

    def __init__(self) -> None:
        self.instruments: dict[InstrumentId, Instrument] = {}
        self.orders: dict[ClientOrderId, Order] = {}
        self.positions: dict[PositionId, Position] = {}
        self.quotes: dict[InstrumentId, QuoteTick] = {}
        self.trades: dict[InstrumentId, TradeTick] = {}
        self.bars: dict[InstrumentId, Bar] = {}
        self.books: dict[InstrumentId, object] = {}

    def add_instrument(self, instrument: Instrument) -> None:
        """Add or replace an instrument."""
        self.instruments[instrument.id] = instrument

    def instrument(self, instrument_id: InstrumentId) -> Instrument:
        """The instrument; raises KeyError with the id if unknown."""
        try:
            return self.instruments[instrument_id]
        except KeyError:
            raise KeyError(f"unknown instrument {instrument_id}") from None

    def order(self, client_order_id: ClientOrderId) -> Order | None:
        """The order or None."""
        return self.orders.get(client_order_id)

    def orders_open(
        self, instrument_id: InstrumentId | None = None, strategy_id: StrategyId | None = None
    ) -> list[Order]:
        """Working orders, optionally filtered."""
        return [
            o
            for o in self.orders.values()
            if o.is_open
            and (instrument_id is None or o.instrument_id == instrument_id)
            and (strategy_id is None or o.strategy_id == strategy_id)
        ]

    def positions_open(
        self, instrument_id: InstrumentId | None = None, strategy_id: StrategyId | None = None
    ) -> list[Position]:
        """Non-flat positions, optionally filtered."""
        return [
            p
            for p in self.positions.values()
            if not p.is_flat
            and (instrument_id is None or p.instrument_id == instrument_id)
            and (strategy_id is None or p.strategy_id == strategy_id)
        ]

    def last_price_raw(self, instrument_id: InstrumentId) -> int | None:
        """Best available mark as a raw price: quote mid, else last trade, else last bar close."""
        q = self.quotes.get(instrument_id)
        if q is not None:
            return (q.bid_price.raw + q.ask_price.raw) // 2
        t = self.trades.get(instrument_id)
        if t is not None:
            return t.price.raw
        b = self.bars.get(instrument_id)
        if b is not None:
            return b.close.raw
        return None
