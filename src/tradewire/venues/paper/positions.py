"""`VenuePosition`: the paper venue's own net position per instrument (what an exchange would report).

Exact: signed quantity raw (scale 1e9), open cost basis ``sum(px_raw * qty_raw)`` (scale 1e18). Reducing
removes a proportional share of the cost (half-even); closing to flat removes all of it; a fill larger
than the open quantity flips the position. This is the venue's view for reconciliation only; strategy
P&L and fees are the Portfolio's job.
"""

from __future__ import annotations

from typing import Any

from tradewire.model.instruments import Instrument
from tradewire.model.objects import div_round, raw_to_str


class VenuePosition:
    """Net position of the venue account in one instrument."""

    __slots__ = ("cost", "instrument", "signed_qty_raw", "ts_last")

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.signed_qty_raw = 0
        self.cost = 0
        self.ts_last = 0

    def apply(self, is_buy: bool, qty_raw: int, px_raw: int, ts: int) -> None:
        """Apply one fill of ``qty_raw`` at ``px_raw``."""
        cur = self.signed_qty_raw
        signed = qty_raw if is_buy else -qty_raw
        if cur == 0 or (cur > 0) == is_buy:
            self.cost += px_raw * qty_raw
        else:
            open_abs = abs(cur)
            if qty_raw >= open_abs:
                self.cost = px_raw * (qty_raw - open_abs)
            else:
                self.cost -= div_round(self.cost * qty_raw, open_abs)
        self.signed_qty_raw = cur + signed
        self.ts_last = ts

    def avg_px_raw(self) -> int | None:
        """Average open price raw (half-even at 1e-9), None when flat."""
        if not self.signed_qty_raw:
            return None
        return div_round(self.cost, abs(self.signed_qty_raw))

    def describe(self) -> str:
        """Short text for reasons, e.g. ``'flat'`` or ``'long 0.5'``."""
        q = self.signed_qty_raw
        if not q:
            return "flat"
        return f"{'long' if q > 0 else 'short'} {raw_to_str(abs(q), self.instrument.size_precision)}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (ints as strings)."""
        return {"signed_qty_raw": str(self.signed_qty_raw), "cost": str(self.cost), "ts_last": str(self.ts_last)}

    @classmethod
    def from_dict(cls, instrument: Instrument, d: dict[str, Any]) -> VenuePosition:
        """Inverse of :meth:`to_dict`."""
        p = cls(instrument)
        p.signed_qty_raw = int(d["signed_qty_raw"])
        p.cost = int(d["cost"])
        p.ts_last = int(d["ts_last"])
        return p
