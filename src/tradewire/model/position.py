"""`Position`: exact position accounting from fills.

Internally a position keeps its signed quantity (raw, scale 1e9) and the **cost basis** of the open
quantity as an exact integer ``sum(px_raw * qty_raw)`` (scale 1e18). Reducing a position removes a
proportional share of the cost (rounded half-even); closing to flat removes all that is left, so the
realized P&L of every complete round trip equals ``sum(sell proceeds) - sum(buy cost)`` exactly
(times the multiplier). Fees are tracked separately (``commissions``), and ``realized_pnl`` is gross.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from tradewire.model.enums import OrderSide, PositionSide
from tradewire.model.events import OrderFilled
from tradewire.model.identifiers import InstrumentId, PositionId, StrategyId
from tradewire.model.objects import FIXED_SCALAR, Currency, Money, Price, Quantity, div_round

# enum members as module constants: Enum class attribute access is a Python-level lookup in 3.11
_BUY: Final = OrderSide.BUY
_FLAT: Final = PositionSide.FLAT
_LONG: Final = PositionSide.LONG
_SHORT: Final = PositionSide.SHORT

_S2: Final = FIXED_SCALAR * FIXED_SCALAR


class Position:
    """A position in one instrument for one strategy (netting) or one entry (hedging).

    Parameters
    ----------
    position_id, instrument_id, strategy_id : identifiers
    multiplier_raw : int
        The instrument multiplier as a raw value (1e9 = 1).
    currency : Currency
        Settlement currency of P&L.
    size_precision : int
        For building Quantities.
    """

    __slots__ = (
        "_cost", "_realized", "buy_qty_raw", "closed_trades", "commissions", "currency", "entry_side",
        "instrument_id", "last_px", "multiplier_raw", "peak_qty_raw", "position_id", "sell_qty_raw",
        "signed_qty_raw", "size_precision", "strategy_id", "trade_count", "ts_closed", "ts_last", "ts_opened",
    )  # fmt: skip

    def __init__(
        self, position_id: PositionId, instrument_id: InstrumentId, strategy_id: StrategyId,
        multiplier_raw: int, currency: Currency, size_precision: int,
    ) -> None:  # fmt: skip
        self.position_id = position_id
        self.instrument_id = instrument_id
        self.strategy_id = strategy_id
        self.multiplier_raw = multiplier_raw
        self.currency = currency
        self.size_precision = size_precision
        self.signed_qty_raw = 0
        self._cost = 0  # abs cost basis of open qty, scale 1e18
        self._realized = 0  # realized P&L, scale 1e27 (px*qty*mult), exact
        self.commissions: dict[str, Money] = {}
        self.buy_qty_raw = 0
        self.sell_qty_raw = 0
        self.peak_qty_raw = 0
        self.trade_count = 0
        self.entry_side: OrderSide | None = None
        self.last_px: Price | None = None
        self.ts_opened = 0
        self.ts_closed = 0
        self.ts_last = 0
        self.closed_trades = 0

    # -- queries -------------------------------------------------------------------------------
    @property
    def side(self) -> PositionSide:
        """LONG, SHORT or FLAT."""
        q = self.signed_qty_raw
        return _LONG if q > 0 else _SHORT if q < 0 else _FLAT

    @property
    def is_flat(self) -> bool:
        """True with no open quantity."""
        return self.signed_qty_raw == 0

    @property
    def quantity(self) -> Quantity:
        """Absolute open quantity."""
        return Quantity.from_raw(abs(self.signed_qty_raw), self.size_precision)

    @property
    def signed_qty(self) -> Decimal:
        """Signed open quantity as Decimal."""
        return Decimal(self.signed_qty_raw).scaleb(-9)

    @property
    def avg_px_open(self) -> Decimal | None:
        """Exact average entry price of the open quantity (None when flat)."""
        if not self.signed_qty_raw:
            return None
        return Decimal(self._cost) / Decimal(abs(self.signed_qty_raw)) / FIXED_SCALAR

    @property
    def realized_pnl(self) -> Money:
        """Realized P&L (gross of fees), rounded half-even to 1e-9."""
        return Money.from_raw(div_round(self._realized, _S2), self.currency)

    @property
    def realized_pnl_exact(self) -> Decimal:
        """Realized P&L as an exact Decimal."""
        return Decimal(self._realized) / Decimal(_S2 * FIXED_SCALAR)

    def commission_in(self, currency: Currency) -> Money:
        """Total commissions paid in ``currency``."""
        return self.commissions.get(currency.code, Money.zero(currency))

    def unrealized_pnl_raw(self, mark_raw: int) -> int:
        """Unrealized P&L at price ``mark_raw`` as a raw Money amount (scale 1e9, rounded half-even)."""
        q = self.signed_qty_raw
        if not q:
            return 0
        value = mark_raw * q  # signed, 1e18
        pnl = value - self._cost if q > 0 else value + self._cost
        return div_round(pnl * self.multiplier_raw, _S2)

    def unrealized_pnl(self, mark: Price) -> Money:
        """Unrealized P&L at ``mark``."""
        return Money.from_raw(self.unrealized_pnl_raw(mark.raw), self.currency)

    def notional_raw(self, mark_raw: int) -> int:
        """Signed market value ``qty * mark * multiplier`` as raw Money."""
        return div_round(mark_raw * self.signed_qty_raw * self.multiplier_raw, _S2)

    # -- mutation -----------------------------------------------------------------------------
    def apply(self, fill: OrderFilled) -> int:
        """Apply a fill; return the realized P&L of this fill as raw Money (scale 1e9, gross of fees)."""
        qty = fill.last_qty.raw
        px = fill.last_px.raw
        signed = qty if fill.order_side is _BUY else -qty
        cur = self.signed_qty_raw
        realized_1e27 = 0
        if cur == 0:
            self.ts_opened = fill.ts_event
            self.entry_side = fill.order_side
            self.ts_closed = 0
        if cur == 0 or (cur > 0) == (signed > 0):
            self._cost += px * qty
            self.signed_qty_raw = cur + signed
        else:
            open_abs = cur if cur > 0 else -cur
            closed = qty if qty < open_abs else open_abs
            removed = self._cost if closed == open_abs else div_round(self._cost * closed, open_abs)
            proceeds = px * closed
            pnl = proceeds - removed if cur > 0 else removed - proceeds
            realized_1e27 = pnl * self.multiplier_raw
            self._realized += realized_1e27
            self._cost -= removed
            rest = qty - closed
            if closed == open_abs:
                self.closed_trades += 1
                self.ts_closed = fill.ts_event
                self._cost = 0
                self.signed_qty_raw = 0
                if rest:  # flip to the other side
                    self.ts_opened = fill.ts_event
                    self.entry_side = fill.order_side
                    self.ts_closed = 0
                    self._cost = px * rest
                    self.signed_qty_raw = rest if signed > 0 else -rest
            else:
                self.signed_qty_raw = cur + signed
        if signed > 0:
            self.buy_qty_raw += qty
        else:
            self.sell_qty_raw += qty
        size = self.signed_qty_raw
        if size < 0:
            size = -size
        if size > self.peak_qty_raw:
            self.peak_qty_raw = size
        comm = fill.commission
        code = comm.currency.code
        prev = self.commissions.get(code)
        # same currency code, so the sum needs no currency check (Money.__add__ keeps the left currency)
        self.commissions[code] = comm if prev is None else Money.from_raw(prev.raw + comm.raw, prev.currency)
        self.trade_count += 1
        self.last_px = fill.last_px
        self.ts_last = fill.ts_event
        return div_round(realized_1e27, _S2) if realized_1e27 else 0

    def __repr__(self) -> str:
        return (
            f"Position({self.position_id}, {self.side.name} {self.quantity}, avg={self.avg_px_open}, "
            f"realized={self.realized_pnl})"
        )
