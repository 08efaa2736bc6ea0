"""`ClosedTrade`: one row per round trip (flat -> open -> flat) of a position.

A round trip may scale in and out; its entry side is the side of the opening fill. ``quantity`` is
the total quantity traded on the entry side, ``avg_px_entry``/``avg_px_exit`` the exact
quantity-weighted averages of entry-side and exit-side fills, ``realized_pnl`` the gross P&L (from
:class:`tradewire.model.Position`, so it equals ``sum(sell value) - sum(buy value)`` times the
multiplier for a round trip that ends flat). A fill that flips the position is split: the closing
part ends this round trip and the rest opens the next; its commission is split pro rata by quantity.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from tradewire.model.enums import OrderSide
from tradewire.model.events import fast_frozen_init, reduce_by_fields
from tradewire.model.identifiers import InstrumentId, PositionId, StrategyId
from tradewire.model.objects import FIXED_SCALAR, Money, Quantity

_SCALE: Final = Decimal(FIXED_SCALAR)


@dataclass(frozen=True, slots=True, init=False)
class ClosedTrade:
    """A completed round trip.

    Parameters
    ----------
    position_id, instrument_id, strategy_id : identifiers
    side : OrderSide
        Entry side (BUY = long trade).
    quantity : Quantity
        Total entry-side quantity.
    ts_entry_ns, ts_exit_ns : int
        UTC ns of the opening and the closing fill.
    entry_notional_raw, exit_notional_raw : int
        Exact ``sum(px_raw * qty_raw)`` (scale 1e18) of entry-side and exit-side fills.
    exit_qty_raw : int
        Total exit-side quantity raw (equals ``quantity.raw`` for a trade that ends flat).
    realized_pnl : Money
        Gross P&L in the settlement currency.
    commissions : Money
        Commissions in the settlement currency (fees paid in other currencies are in ``other_commissions``).
    other_commissions : tuple[Money, ...]
        Commissions paid in currencies other than the settlement currency.
    """

    position_id: PositionId
    instrument_id: InstrumentId
    strategy_id: StrategyId
    side: OrderSide
    quantity: Quantity
    ts_entry_ns: int
    ts_exit_ns: int
    entry_notional_raw: int
    exit_notional_raw: int
    exit_qty_raw: int
    realized_pnl: Money
    commissions: Money
    other_commissions: tuple[Money, ...] = ()

    # written out (one store per field, in field order) so that mypyc compiles it to direct slot stores; from
    # source, fast_frozen_init checks it against the fields and replaces it (see tradewire.model.events)
    def __init__(
        self, position_id: PositionId, instrument_id: InstrumentId, strategy_id: StrategyId, side: OrderSide,
        quantity: Quantity, ts_entry_ns: int, ts_exit_ns: int, entry_notional_raw: int, exit_notional_raw: int,
        exit_qty_raw: int, realized_pnl: Money, commissions: Money, other_commissions: tuple[Money, ...] = (),
    ) -> None:  # fmt: skip
        self.position_id = position_id  # type: ignore[misc]
        self.instrument_id = instrument_id  # type: ignore[misc]
        self.strategy_id = strategy_id  # type: ignore[misc]
        self.side = side  # type: ignore[misc]
        self.quantity = quantity  # type: ignore[misc]
        self.ts_entry_ns = ts_entry_ns  # type: ignore[misc]
        self.ts_exit_ns = ts_exit_ns  # type: ignore[misc]
        self.entry_notional_raw = entry_notional_raw  # type: ignore[misc]
        self.exit_notional_raw = exit_notional_raw  # type: ignore[misc]
        self.exit_qty_raw = exit_qty_raw  # type: ignore[misc]
        self.realized_pnl = realized_pnl  # type: ignore[misc]
        self.commissions = commissions  # type: ignore[misc]
        self.other_commissions = other_commissions  # type: ignore[misc]

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return reduce_by_fields(self)

    @property
    def avg_px_entry(self) -> Decimal:
        """Exact average entry price."""
        return Decimal(self.entry_notional_raw) / Decimal(self.quantity.raw) / _SCALE

    @property
    def avg_px_exit(self) -> Decimal:
        """Exact average exit price."""
        return Decimal(self.exit_notional_raw) / Decimal(self.exit_qty_raw) / _SCALE

    @property
    def net_pnl(self) -> Money:
        """Realized P&L minus settlement-currency commissions."""
        return self.realized_pnl - self.commissions


fast_frozen_init(ClosedTrade)  # one per closed round trip: skip the frozen dataclass's slow __init__


class RoundTrip:
    """Accumulates one open round trip (internal to the portfolio)."""

    __slots__ = ("commissions", "entry_notional", "entry_qty", "exit_notional", "exit_qty", "realized_raw",
                 "side", "ts_entry")  # fmt: skip

    def __init__(self, side: OrderSide, ts_entry: int) -> None:
        self.side = side
        self.ts_entry = ts_entry
        self.entry_qty = 0
        self.entry_notional = 0  # scale 1e18
        self.exit_qty = 0
        self.exit_notional = 0
        self.realized_raw = 0
        self.commissions: dict[str, Money] = {}

    def add(self, side: OrderSide, qty_raw: int, px_raw: int, commission: Money | None) -> None:
        """Add ``qty_raw`` at ``px_raw`` on ``side`` with its (share of) commission."""
        if side is self.side:
            self.entry_qty += qty_raw
            self.entry_notional += qty_raw * px_raw
        else:
            self.exit_qty += qty_raw
            self.exit_notional += qty_raw * px_raw
        if commission is not None:
            code = commission.currency.code
            prev = self.commissions.get(code)
            # same currency code: add the raws (Money.__add__ would re-check the currency)
            self.commissions[code] = (
                commission if prev is None else Money.from_raw(prev.raw + commission.raw, prev.currency)
            )

    def close(self, position_id: PositionId, instrument_id: InstrumentId, strategy_id: StrategyId,
              size_precision: int, settlement: Money, ts_exit: int) -> ClosedTrade:  # fmt: skip
        """Return the finished :class:`ClosedTrade` (``settlement`` is the realized P&L)."""
        cur = settlement.currency
        comms = self.commissions
        fee = comms.get(cur.code)
        if fee is None:
            fee = Money.zero(cur)
        others = tuple(m for c, m in sorted(comms.items()) if c != cur.code) if len(comms) > (fee.raw != 0) else ()
        return ClosedTrade(
            position_id, instrument_id, strategy_id, self.side, Quantity.from_raw(self.entry_qty, size_precision),
            self.ts_entry, ts_exit, self.entry_notional, self.exit_notional, self.exit_qty, settlement, fee, others,
        )  # fmt: skip


__all__ = ["ClosedTrade", "RoundTrip"]
