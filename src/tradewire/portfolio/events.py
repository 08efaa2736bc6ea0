"""Position events published by the `Portfolio` on ``events.position.{strategy_id}``.

Each carries the position's state *after* the fill that caused it: signed quantity and average open
price as exact Decimals, realized P&L (gross of fees, cumulative for the position) and unrealized P&L
at the fill price, in the instrument's settlement currency. Timestamps are UTC ns.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradewire.model.enums import PositionSide
from tradewire.model.events import fast_frozen_init, reduce_by_fields
from tradewire.model.identifiers import InstrumentId, PositionId, StrategyId
from tradewire.model.objects import Money


@dataclass(frozen=True, slots=True, init=False)
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

    # written out (one store per field, in field order) so that mypyc compiles it to direct slot stores; from
    # source, fast_frozen_init checks it against the fields and replaces it (see tradewire.model.events)
    def __init__(
        self, position_id: PositionId, instrument_id: InstrumentId, strategy_id: StrategyId, side: PositionSide,
        signed_qty: Decimal, avg_px_open: Decimal | None, realized_pnl: Money, unrealized_pnl: Money, ts_event: int,
        ts_init: int,
    ) -> None:  # fmt: skip
        self.position_id = position_id  # type: ignore[misc]
        self.instrument_id = instrument_id  # type: ignore[misc]
        self.strategy_id = strategy_id  # type: ignore[misc]
        self.side = side  # type: ignore[misc]
        self.signed_qty = signed_qty  # type: ignore[misc]
        self.avg_px_open = avg_px_open  # type: ignore[misc]
        self.realized_pnl = realized_pnl  # type: ignore[misc]
        self.unrealized_pnl = unrealized_pnl  # type: ignore[misc]
        self.ts_event = ts_event  # type: ignore[misc]
        self.ts_init = ts_init  # type: ignore[misc]

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return reduce_by_fields(self)


@dataclass(frozen=True, slots=True, init=False)
class PositionOpened(PositionEvent):
    """A position went from flat to long or short."""


@dataclass(frozen=True, slots=True, init=False)
class PositionChanged(PositionEvent):
    """An open position changed size (or flipped side in one fill)."""


@dataclass(frozen=True, slots=True, init=False)
class PositionClosed(PositionEvent):
    """A position went flat."""


fast_frozen_init(PositionEvent)  # the subclasses add no field: they inherit its __init__

__all__ = ["PositionChanged", "PositionClosed", "PositionEvent", "PositionOpened"]
