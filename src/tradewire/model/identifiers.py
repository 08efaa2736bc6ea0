"""Typed identifiers.

Each identifier is a ``str`` subclass: as cheap as a string for dict keys and equality, but a
distinct type in signatures. ``InstrumentId`` is ``"<symbol>.<venue>"`` (e.g. ``BTCUSDT.BINANCE``),
split at the last dot so symbols may contain dots (``BRK.B.XNYS``).
"""

from __future__ import annotations


class Identifier(str):
    """Base class: a non-empty string without surrounding whitespace.

    Raises
    ------
    ValueError
        If the value is empty or has leading/trailing whitespace.
    """

    __slots__ = ()

    def __new__(cls, value: str):
        if not value or value != value.strip():
            raise ValueError(f"invalid {cls.__name__}: {value!r}")
        return super().__new__(cls, value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str.__repr__(self)})"


class Symbol(Identifier):
    """A venue-local ticker symbol, e.g. ``BTCUSDT`` or ``ESH4``."""

    __slots__ = ()


class Venue(Identifier):
    """A trading venue code, e.g. ``BINANCE``, ``CME``, ``PAPER``."""

    __slots__ = ()


class InstrumentId(Identifier):
    """``<symbol>.<venue>``: the identity of a tradable instrument.

    Raises
    ------
    ValueError
        If there is no ``.`` separating symbol and venue.
    """

    __slots__ = ()

    def __new__(cls, value: str):
        sym, dot, venue = value.rpartition(".")
        if not dot or not sym or not venue:
            raise ValueError(f"InstrumentId must be '<symbol>.<venue>', was {value!r}")
        return super().__new__(cls, value)

    @classmethod
    def from_parts(cls, symbol: str, venue: str) -> InstrumentId:
        """Join a symbol and a venue."""
        return cls(f"{symbol}.{venue}")

    @property
    def symbol(self) -> Symbol:
        """The symbol part."""
        return Symbol(self.rpartition(".")[0])

    @property
    def venue(self) -> Venue:
        """The venue part."""
        return Venue(self.rpartition(".")[2])


class ClientOrderId(Identifier):
    """Order id chosen by tradewire (unique per trader; sent to the venue)."""

    __slots__ = ()


class VenueOrderId(Identifier):
    """Order id assigned by the venue."""

    __slots__ = ()


class TradeId(Identifier):
    """Venue trade (match) id."""

    __slots__ = ()


class PositionId(Identifier):
    """Position id (``<instrument_id>-<strategy_id>`` in netting mode)."""

    __slots__ = ()


class StrategyId(Identifier):
    """Strategy instance id, e.g. ``sma_cross-001``."""

    __slots__ = ()


class TraderId(Identifier):
    """The trader (node) id."""

    __slots__ = ()


class AccountId(Identifier):
    """``<venue>-<account number>``."""

    __slots__ = ()


class OrderListId(Identifier):
    """Id of a group of linked orders (bracket, OCO)."""

    __slots__ = ()
