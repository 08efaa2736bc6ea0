"""`OrderFlowSignal`: the event every order-flow detector publishes on ``events.orderflow.{instrument_id}``.

A signal is immutable (``frozen``, ``slots``) and carries ``ts_event`` (venue time of the market event
that completed the pattern) and ``ts_init`` (when tradewire created the signal), both UTC ns.

Sign convention for ``strength``: positive is bullish (buyers in control / sellers absorbed / selling
exhausted), negative is bearish; the magnitude is how far the pattern's figure passed its threshold
(``figure / threshold``, so ``|strength| >= 1`` for every pattern signal). ``REGIME`` signals are the
exception: the sign is the trend direction (0 in a range) and the magnitude the efficiency ratio in
[0, 1] (see :mod:`tradewire.orderflow.regime`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tradewire.model.enums import StrEnum
from tradewire.model.identifiers import InstrumentId
from tradewire.model.objects import Price


class SignalKind(StrEnum):
    """What an :class:`OrderFlowSignal` reports (see :mod:`tradewire.orderflow.detectors`)."""

    LARGE_ORDER = "large_order"
    ABSORPTION = "absorption"
    EXHAUSTION = "exhaustion"
    IMBALANCE = "imbalance"
    ICEBERG = "iceberg"
    REGIME = "regime"


@dataclass(frozen=True, slots=True)
class OrderFlowSignal:
    """One order-flow signal.

    Attributes
    ----------
    instrument_id : InstrumentId
    kind : SignalKind
    strength : float
        Signed: > 0 bullish, < 0 bearish; ``|strength| = figure / threshold`` (>= 1), except ``REGIME``
        (signed efficiency ratio, see the module docs).
    price : Price | None
        The price level the pattern refers to (absorbed level, iceberg level, bar extreme, trade
        price); None when the pattern has no single price (e.g. a regime change).
    ts_event, ts_init : int
        UTC ns.
    details : dict
        Detector-specific figures, JSON-friendly (str/int/float/bool values only).
    """

    instrument_id: InstrumentId
    kind: SignalKind
    strength: float
    price: Price | None
    ts_event: int
    ts_init: int
    details: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def direction(self) -> int:
        """+1 bullish, -1 bearish, 0 neutral."""
        return (self.strength > 0) - (self.strength < 0)

    def __str__(self) -> str:
        """One-line message, e.g. ``"BTCUSDT.BINANCE absorption +1.52 at 61688.00 (side=bid)"``."""
        at = "" if self.price is None else f" at {self.price}"
        tag = self.details.get("source") or self.details.get("side") or self.details.get("trend")
        return f"{self.instrument_id} {self.kind} {self.strength:+.2f}{at}" + (f" ({tag})" if tag else "")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (price as a decimal string)."""
        return {
            "instrument_id": str(self.instrument_id),
            "kind": str(self.kind),
            "strength": self.strength,
            "price": None if self.price is None else str(self.price),
            "ts_event": self.ts_event,
            "ts_init": self.ts_init,
            "details": dict(self.details),
        }


__all__ = ["OrderFlowSignal", "SignalKind"]
