"""Enumerations of the domain model (values are lowercase strings for stable serialization)."""

from __future__ import annotations

from enum import Enum, IntEnum
from typing import Final


class StrEnum(str, Enum):
    """A string enum whose ``str()`` is its value."""

    def __str__(self) -> str:
        return self.value


class OrderSide(StrEnum):
    """Side of an order."""

    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """+1 for buy, -1 for sell."""
        return 1 if self is OrderSide.BUY else -1

    def opposite(self) -> OrderSide:
        """The other side."""
        return OrderSide.SELL if self is OrderSide.BUY else OrderSide.BUY


class OrderType(StrEnum):
    """Order types."""

    MARKET = "market"
    LIMIT = "limit"
    STOP_MARKET = "stop_market"
    STOP_LIMIT = "stop_limit"
    MARKET_IF_TOUCHED = "market_if_touched"
    LIMIT_IF_TOUCHED = "limit_if_touched"
    TRAILING_STOP_MARKET = "trailing_stop_market"
    TRAILING_STOP_LIMIT = "trailing_stop_limit"


class TimeInForce(StrEnum):
    """Time in force: GTC good-till-canceled, IOC immediate-or-cancel, FOK fill-or-kill, DAY, GTD."""

    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    DAY = "day"
    GTD = "gtd"


class OrderStatus(StrEnum):
    """Order status (see :data:`tradewire.model.orders.TRANSITIONS`)."""

    INITIALIZED = "initialized"
    DENIED = "denied"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CANCELED = "canceled"
    EXPIRED = "expired"
    TRIGGERED = "triggered"
    PENDING_UPDATE = "pending_update"
    PENDING_CANCEL = "pending_cancel"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"

    @property
    def is_closed(self) -> bool:
        """True for terminal states."""
        return self in _CLOSED


_CLOSED: Final = frozenset(
    {OrderStatus.DENIED, OrderStatus.REJECTED, OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.FILLED}
)


class AggressorSide(StrEnum):
    """Side of the taker in a trade."""

    NO_AGGRESSOR = "none"
    BUYER = "buyer"
    SELLER = "seller"


class BookAction(StrEnum):
    """Action of an order book delta."""

    ADD = "add"
    UPDATE = "update"
    DELETE = "delete"
    CLEAR = "clear"


class BookSide(IntEnum):
    """Side of a book level (ints for speed in the book)."""

    BID = 1
    ASK = 2


class LiquiditySide(StrEnum):
    """Whether a fill added (maker) or took (taker) liquidity."""

    NO_LIQUIDITY_SIDE = "none"
    MAKER = "maker"
    TAKER = "taker"


class PositionSide(StrEnum):
    """Direction of a position."""

    FLAT = "flat"
    LONG = "long"
    SHORT = "short"


class OmsType(StrEnum):
    """Position bookkeeping: NETTING (one position per instrument and strategy) or HEDGING."""

    NETTING = "netting"
    HEDGING = "hedging"


class AssetClass(StrEnum):
    """Broad asset class."""

    CRYPTO = "crypto"
    EQUITY = "equity"
    FX = "fx"
    INDEX = "index"
    COMMODITY = "commodity"
    INTEREST_RATE = "interest_rate"


class InstrumentClass(StrEnum):
    """Contract form."""

    SPOT = "spot"
    PERPETUAL = "perpetual"
    FUTURE = "future"
    OPTION = "option"
    CFD = "cfd"


class PriceType(StrEnum):
    """Which price a bar or mark uses."""

    BID = "bid"
    ASK = "ask"
    MID = "mid"
    LAST = "last"


class BarAggregation(StrEnum):
    """How bars are cut."""

    SECOND = "second"
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    TICK = "tick"
    VOLUME = "volume"
    VALUE = "value"


class ContingencyType(StrEnum):
    """Link between orders of an order list."""

    NONE = "none"
    OTO = "oto"
    OCO = "oco"
    OUO = "ouo"


class TradingState(StrEnum):
    """Risk trading state (kill switch)."""

    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"
