"""`CcxtInstrumentProvider`: instruments of one ccxt exchange from ``load_markets()``."""

from __future__ import annotations

import logging
from typing import Any

from tradewire.model.identifiers import InstrumentId
from tradewire.model.instruments import Instrument
from tradewire.venues.ccxt.parsing import SymbolMap, market_to_instrument

_log = logging.getLogger(__name__)

_TYPE_FILTER = {
    "spot": lambda m: bool(m.get("spot")),
    "margin": lambda m: bool(m.get("spot")) and bool(m.get("margin")),
    "linear": lambda m: bool(m.get("contract")) and bool(m.get("linear")),
    "inverse": lambda m: bool(m.get("contract")) and bool(m.get("inverse")),
}


class CcxtInstrumentProvider:
    """Load a venue's markets and keep them as tradewire instruments plus the symbol map.

    Parameters
    ----------
    exchange : ccxt.pro.Exchange
        A configured async exchange.
    venue : str
        tradewire venue code.
    market_type : str
        ``spot``, ``margin``, ``linear`` or ``inverse``: which markets become instruments.

    Attributes
    ----------
    instruments : dict[InstrumentId, Instrument]
    symbols : SymbolMap
    skipped : dict[str, str]
        ccxt symbol -> reason, for markets that could not be converted (logged, not fatal).
    """

    def __init__(self, exchange: Any, venue: str, market_type: str = "spot") -> None:
        if market_type not in _TYPE_FILTER:
            raise ValueError(f"market_type must be one of {sorted(_TYPE_FILTER)}, was {market_type!r}")
        self.exchange = exchange
        self.venue = venue
        self.market_type = market_type
        self.instruments: dict[InstrumentId, Instrument] = {}
        self.symbols = SymbolMap(venue)
        self.skipped: dict[str, str] = {}

    async def load(self, reload: bool = False) -> dict[InstrumentId, Instrument]:
        """Call ``load_markets`` and convert every active market of the configured type.

        Raises
        ------
        VenueError
            (classified ccxt errors) if the markets cannot be fetched.
        """
        markets = await self.exchange.load_markets(reload)
        self.build(markets)
        return self.instruments

    def build(self, markets: dict[str, dict[str, Any]]) -> None:
        """Convert ccxt market structures (already loaded) into instruments."""
        keep = _TYPE_FILTER[self.market_type]
        mode = int(getattr(self.exchange, "precisionMode", 4))
        for sym, m in markets.items():
            if not keep(m) or m.get("active") is False:
                continue
            try:
                inst = market_to_instrument(m, self.venue, mode)
            except (ValueError, KeyError, TypeError) as exc:
                self.skipped[sym] = str(exc)
                _log.warning("%s: market %s skipped: %s", self.venue, sym, exc)
                continue
            self.symbols.add(m)
            self.instruments[inst.id] = inst

    def get(self, instrument_id: InstrumentId | str) -> Instrument:
        """The instrument, or KeyError naming it."""
        try:
            return self.instruments[InstrumentId(instrument_id)]
        except KeyError:
            raise KeyError(f"{self.venue}: unknown instrument {instrument_id}") from None

    def market(self, instrument_id: InstrumentId | str) -> dict[str, Any]:
        """The ccxt market structure behind an instrument (adapter-internal)."""
        return self.exchange.market(self.symbols.ccxt_symbol(instrument_id))


__all__ = ["CcxtInstrumentProvider"]
