"""Configuration of the paper venue (`PaperVenueConfig`) and its policy enums."""

from __future__ import annotations

from dataclasses import dataclass

from tradewire.model.enums import StrEnum


class BarFillMode(StrEnum):
    """When a market order submitted while a bar is processed fills in a bar backtest.

    ``NEXT_OPEN``: at the open of the next bar (``ts_event`` = that bar's open time = its ``ts_event``
    minus the bar interval), like backtrader's default broker. ``CLOSE``: at once, at the close of the
    latest bar (``ts_event`` = that bar's ``ts_event``), like backtrader ``cheat_on_close`` or
    NautilusTrader ``bar_execution``.
    """

    NEXT_OPEN = "next_open"
    CLOSE = "close"


class RemainderPolicy(StrEnum):
    """What happens to the part of a market order larger than the visible liquidity.

    ``SAME_PRICE``: fills at the last (worst) visible price walked. ``SLIPPAGE``: fills one tick
    worse than that price. ``CANCEL``: the remainder is canceled. IOC and FOK orders always cancel
    what they cannot fill from visible liquidity, whatever the policy.
    """

    SAME_PRICE = "same_price"
    SLIPPAGE = "slippage"
    CANCEL = "cancel"


class BookLevel(StrEnum):
    """Which data supplies liquidity for matching.

    ``L1``: each quote tick replaces a one-level book (top bid and ask with their sizes).
    ``L2``: order book deltas maintain a full market-by-price book; quotes then only move time.
    ``AUTO``: L1 until the first order book delta arrives, L2 after it.
    """

    AUTO = "auto"
    L1 = "l1"
    L2 = "l2"


class ClosedSessionPolicy(StrEnum):
    """Orders submitted while the trading session is closed: ``REJECT`` them, or ``QUEUE`` them.

    A queued order is acknowledged at once but matches only once the session is open again.
    """

    REJECT = "reject"
    QUEUE = "queue"


@dataclass(frozen=True, slots=True)
class PaperVenueConfig:
    """Behaviour switches of the paper venue.

    Parameters
    ----------
    bar_fill_mode : BarFillMode
        Fill timing of market orders on bar data (default ``NEXT_OPEN``).
    remainder_policy : RemainderPolicy
        Market-order remainder beyond visible liquidity (default ``SAME_PRICE``).
    book_level : BookLevel
        Liquidity source (default ``AUTO``).
    closed_session_policy : ClosedSessionPolicy
        Orders outside the session (default ``REJECT``).
    allow_extended_hours : bool
        If True, orders are accepted and match during extended (pre/post-market) hours too.
    trade_fills : bool
        If True (default) resting limit orders also fill from recorded trade ticks (queue model applies).
    """

    bar_fill_mode: BarFillMode = BarFillMode.NEXT_OPEN
    remainder_policy: RemainderPolicy = RemainderPolicy.SAME_PRICE
    book_level: BookLevel = BookLevel.AUTO
    closed_session_policy: ClosedSessionPolicy = ClosedSessionPolicy.REJECT
    allow_extended_hours: bool = False
    trade_fills: bool = True

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly form (enum values as strings)."""
        return {
            "bar_fill_mode": str(self.bar_fill_mode),
            "remainder_policy": str(self.remainder_policy),
            "book_level": str(self.book_level),
            "closed_session_policy": str(self.closed_session_policy),
            "allow_extended_hours": self.allow_extended_hours,
            "trade_fills": self.trade_fills,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> PaperVenueConfig:
        """Inverse of :meth:`to_dict`; raises ValueError on an unknown enum value."""
        return cls(
            bar_fill_mode=BarFillMode(data.get("bar_fill_mode", "next_open")),
            remainder_policy=RemainderPolicy(data.get("remainder_policy", "same_price")),
            book_level=BookLevel(data.get("book_level", "auto")),
            closed_session_policy=ClosedSessionPolicy(data.get("closed_session_policy", "reject")),
            allow_extended_hours=bool(data.get("allow_extended_hours", False)),
            trade_fills=bool(data.get("trade_fills", True)),
        )
