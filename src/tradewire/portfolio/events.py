"""Position events published by the `Portfolio` on ``events.position.{strategy_id}``.

Each carries the position's state *after* the fill that caused it: signed quantity and average open
price as exact Decimals, realized P&L (gross of fees, cumulative for the position) and unrealized P&L
at the fill price, in the instrument's settlement currency. Timestamps are UTC ns.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tradewire.model.enums import PositionSide
from tradewire.model.events import fast_frozen_init
from tradewire.model.identifiers import InstrumentId, PositionId, StrategyId
from tradewire.model.objects import Money


@dataclass(frozen=True, slots=True)
class PositionEvent:
    """Base of position events."""

    position_id: PositionId
    instrument_id: InstrumentId
    strategy_id: StrategyId
    side: PositionSide
    signed_qty: Decimal
    avg_px_open: Decimal | None
    realized_pnl: Money
    unrealized_pnl: Money
    ts_event: int
    ts_init: int


@dataclass(frozen=True, slots=True)
class PositionOpened(PositionEvent):
    """A position went from flat to long or short."""


@dataclass(frozen=True, slots=True)
class PositionChanged(PositionEvent):
    """An open position changed size (or flipped side in one fill)."""


@dataclass(frozen=True, slots=True)
class PositionClosed(PositionEvent):
    """A position went flat."""


for _cls in (PositionEvent, PositionOpened, PositionChanged, PositionClosed):
    fast_frozen_init(_cls)
del _cls

__all__ = ["PositionChanged", "PositionClosed", "PositionEvent", "PositionOpened"]
