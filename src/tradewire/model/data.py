"""Market data types: `QuoteTick`, `TradeTick`, `Bar`/`BarType`, `OrderBookDelta`.

Every object carries ``ts_event`` (when it happened at the venue) and ``ts_init`` (when tradewire
created it), both UTC nanoseconds since the epoch. Classes use ``__slots__`` and plain
constructors (no validation in the hot path); loaders validate the input they parse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from tradewire.model.enums import AggressorSide, BarAggregation, BookAction, BookSide, PriceType
from tradewire.model.identifiers import InstrumentId, TradeId
from tradewire.model.objects import Price, Quantity

_AGG_NS: Final = {
    BarAggregation.SECOND: 1_000_000_000,
    BarAggregation.MINUTE: 60_000_000_000,
    BarAggregation.HOUR: 3_600_000_000_000,
    BarAggregation.DAY: 86_400_000_000_000,
    BarAggregation.WEEK: 7 * 86_400_000_000_000,
}


# the slots, also compared in this order by __eq__
_QUOTETICK_FIELDS: Final = ("ask_price", "ask_size", "bid_price", "bid_size", "instrument_id", "ts_event", "ts_init")


class QuoteTick:
    """Top of book: best bid/ask prices and sizes."""

    __slots__ = _QUOTETICK_FIELDS

    def __init__(
        self, instrument_id: InstrumentId, bid_price: Price, ask_price: Price, bid_size: Quantity,
        ask_size: Quantity, ts_event: int, ts_init: int,
    ) -> None:  # fmt: skip
        self.instrument_id = instrument_id
        self.bid_price = bid_price
        self.ask_price = ask_price
        self.bid_size = bid_size
        self.ask_size = ask_size
        self.ts_event = ts_event
        self.ts_init = ts_init

    def __repr__(self) -> str:
        return (
            f"QuoteTick({self.instrument_id}, {self.bid_price}x{self.bid_size} / "
            f"{self.ask_price}x{self.ask_size}, ts_event={self.ts_event})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, QuoteTick) and all(getattr(self, s) == getattr(other, s) for s in _QUOTETICK_FIELDS)

    __hash__ = None  # type: ignore[assignment]


# the slots, also compared in this order by __eq__
_TRADETICK_FIELDS: Final = ("aggressor_side", "instrument_id", "price", "size", "trade_id", "ts_event", "ts_init")


class TradeTick:
    """A public trade (match) with the aggressor (taker) side when the venue tells it."""

    __slots__ = _TRADETICK_FIELDS

    def __init__(
        self, instrument_id: InstrumentId, price: Price, size: Quantity, aggressor_side: AggressorSide,
        trade_id: TradeId, ts_event: int, ts_init: int,
    ) -> None:  # fmt: skip
        self.instrument_id = instrument_id
        self.price = price
        self.size = size
        self.aggressor_side = aggressor_side
        self.trade_id = trade_id
        self.ts_event = ts_event
        self.ts_init = ts_init

    def __repr__(self) -> str:
        return (
            f"TradeTick({self.instrument_id}, {self.size}@{self.price}, {self.aggressor_side}, "
            f"id={self.trade_id}, ts_event={self.ts_event})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TradeTick) and all(getattr(self, s) == getattr(other, s) for s in _TRADETICK_FIELDS)

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class BarSpecification:
    """Bar specification: ``step`` units of ``aggregation`` built from ``price_type``.

    String form ``"1-MINUTE-LAST"``.
    """

    step: int
    aggregation: BarAggregation
    price_type: PriceType = PriceType.LAST

    @property
    def is_time(self) -> bool:
        """True for time bars (second .. week)."""
        return self.aggregation in _AGG_NS

    @property
    def interval_ns(self) -> int:
        """Bar length in ns for time bars (raises ValueError for month and non-time bars)."""
        try:
            return self.step * _AGG_NS[self.aggregation]
        except KeyError:
            raise ValueError(f"{self} has no fixed interval") from None

    def __str__(self) -> str:
        return f"{self.step}-{self.aggregation.value.upper()}-{self.price_type.value.upper()}"

    @classmethod
    def from_str(cls, value: str) -> BarSpecification:
        """Parse ``"5-MINUTE-LAST"``; raises ValueError on bad text."""
        try:
            step, agg, pt = value.split("-")
            return cls(int(step), BarAggregation(agg.lower()), PriceType(pt.lower()))
        except (ValueError, KeyError):
            raise ValueError(f"bad bar specification {value!r}, expected e.g. '1-MINUTE-LAST'") from None


@dataclass(frozen=True, slots=True)
class BarType:
    """Instrument + specification, string form ``"BTCUSDT.BINANCE-1-MINUTE-LAST"``."""

    instrument_id: InstrumentId
    spec: BarSpecification

    def __str__(self) -> str:
        return f"{self.instrument_id}-{self.spec}"

    @classmethod
    def from_str(cls, value: str) -> BarType:
        """Parse ``"BTCUSDT.BINANCE-1-MINUTE-LAST"``; raises ValueError on bad text."""
        parts = value.rsplit("-", 3)
        if len(parts) != 4:
            raise ValueError(f"bad bar type {value!r}")
        return cls(InstrumentId(parts[0]), BarSpecification.from_str("-".join(parts[1:])))


# the slots, also compared in this order by __eq__
_BAR_FIELDS: Final = ("bar_type", "close", "high", "low", "open", "ts_event", "ts_init", "volume")


class Bar:
    """An OHLCV bar. ``ts_event`` is the bar's **close** time (end of the interval)."""

    __slots__ = _BAR_FIELDS

    def __init__(
        self, bar_type: BarType, open: Price, high: Price, low: Price, close: Price, volume: Quantity,
        ts_event: int, ts_init: int,
    ) -> None:  # fmt: skip
        self.bar_type = bar_type
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
        self.ts_event = ts_event
        self.ts_init = ts_init

    @property
    def instrument_id(self) -> InstrumentId:
        """The bar's instrument."""
        return self.bar_type.instrument_id

    def __repr__(self) -> str:
        return (
            f"Bar({self.bar_type}, o={self.open}, h={self.high}, l={self.low}, c={self.close}, "
            f"v={self.volume}, ts_event={self.ts_event})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Bar) and all(getattr(self, s) == getattr(other, s) for s in _BAR_FIELDS)

    __hash__ = None  # type: ignore[assignment]


def bar_path_raw(bar: Bar) -> tuple[int, int, int, int]:
    """The assumed price path inside a bar, as four raw prices (scale 1e9).

    ``(open, high, low, close)`` when ``close >= open`` (an up or flat bar), else
    ``(open, low, high, close)``. The true order of the high and the low inside a bar is unknown;
    this fixed rule (an up bar is assumed to have gone up first) is the one assumption of the whole
    engine: the paper venue's matching engine and the OMS order emulator
    both walk bars with this function, so a venue-native stop and an emulated stop see the same path.

    Parameters
    ----------
    bar : Bar
        Any bar.

    Returns
    -------
    tuple[int, int, int, int]
        The four raw prices in the order they are assumed to have traded.
    """
    o = bar.open.raw
    c = bar.close.raw
    if c >= o:
        return o, bar.high.raw, bar.low.raw, c
    return o, bar.low.raw, bar.high.raw, c


# the slots, also compared in this order by __eq__
_ORDERBOOKDELTA_FIELDS: Final = (
    "action",
    "flags",
    "instrument_id",
    "price",
    "sequence",
    "side",
    "size",
    "ts_event",
    "ts_init",
)


class OrderBookDelta:
    """One change to an L2 (market-by-price) book.

    Parameters
    ----------
    action : BookAction
        ADD/UPDATE set the level's size (size is the new total at ``price``); DELETE removes it;
        CLEAR empties the whole book (side and price ignored).
    side : BookSide
        BID or ASK.
    price, size : Price, Quantity
        Level price and new aggregate size (0 with DELETE).
    flags : int
        Bit flags: ``F_LAST`` (1) marks the last delta of a venue message (end of batch);
        ``F_SNAPSHOT`` (2) marks deltas that belong to a snapshot.
    sequence : int
        The venue's update id for the message this delta came from (Binance ``u``), 0 if none.
    """

    __slots__ = _ORDERBOOKDELTA_FIELDS

    F_LAST: ClassVar[int] = 1
    F_SNAPSHOT: ClassVar[int] = 2

    def __init__(
        self, instrument_id: InstrumentId, action: BookAction, side: BookSide, price: Price, size: Quantity,
        flags: int, sequence: int, ts_event: int, ts_init: int,
    ) -> None:  # fmt: skip
        self.instrument_id = instrument_id
        self.action = action
        self.side = side
        self.price = price
        self.size = size
        self.flags = flags
        self.sequence = sequence
        self.ts_event = ts_event
        self.ts_init = ts_init

    @property
    def is_last(self) -> bool:
        """True if this delta ends its batch."""
        return bool(self.flags & OrderBookDelta.F_LAST)

    def __repr__(self) -> str:
        return (
            f"OrderBookDelta({self.instrument_id}, {self.action}, {self.side.name}, {self.price}, "
            f"{self.size}, flags={self.flags}, seq={self.sequence}, ts_event={self.ts_event})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OrderBookDelta) and all(
            getattr(self, s) == getattr(other, s) for s in _ORDERBOOKDELTA_FIELDS
        )

    __hash__ = None  # type: ignore[assignment]
