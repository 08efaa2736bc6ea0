"""Pluggable models of the paper venue: fees, slippage, latency and queue position.

All amounts are exact: prices and quantities as raw fixed-point integers (scale 10**9, see
:mod:`tradewire.model.objects`), fees as `Money`. Rates are Decimals converted to raws once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from mypy_extensions import mypyc_attr

from tradewire.model.enums import LiquiditySide
from tradewire.model.instruments import Instrument
from tradewire.model.objects import FIXED_SCALAR, Currency, Money, mul_raw, parse_raw

# enum members as module constants: Enum class attribute access is a Python-level lookup in 3.11
_MAKER: Final = LiquiditySide.MAKER

# -- fees ---------------------------------------------------------------------------------------


@mypyc_attr(allow_interpreted_subclasses=True)
class FeeModel(ABC):
    """Computes the commission of one fill (positive = fee paid, negative = rebate)."""

    @abstractmethod
    def commission(self, instrument: Instrument, qty_raw: int, px_raw: int, liquidity_side: LiquiditySide) -> Money:
        """Return the commission of a fill of ``qty_raw`` at ``px_raw`` (raws, scale 1e9)."""


class InstrumentFeeModel(FeeModel):
    """Fees as the instrument defines them.

    If ``Instrument.fee_per_contract`` is set (futures), the fee is ``qty * fee_per_contract`` whatever
    the liquidity side. Otherwise it is ``notional * rate`` with ``rate = maker_fee`` for maker fills and
    ``taker_fee`` for taker fills; ``notional = qty * price * multiplier`` in the settlement currency.
    The product is rounded once, half-to-even, to 1e-9 of the currency.
    """

    def __init__(self) -> None:
        # per instrument id: (fee per contract raw or None, maker rate raw, taker rate raw, fee currency,
        # multiplier raw)
        self._plans: dict[object, tuple[int | None, int, int, Currency, int]] = {}

    def _plan(self, instrument: Instrument) -> tuple[int | None, int, int, Currency, int]:
        fpc = instrument.fee_per_contract
        plan: tuple[int | None, int, int, Currency, int]
        if fpc is not None:
            plan = (fpc.raw, 0, 0, fpc.currency, instrument.multiplier.raw)
        else:
            plan = (None, parse_raw(instrument.maker_fee), parse_raw(instrument.taker_fee),
                    instrument.settlement_currency, instrument.multiplier.raw)  # fmt: skip
        self._plans[instrument.id] = plan
        return plan

    def commission(self, instrument: Instrument, qty_raw: int, px_raw: int, liquidity_side: LiquiditySide) -> Money:
        """See class docstring."""
        plan = self._plans.get(instrument.id)
        if plan is None:
            plan = self._plan(instrument)
        per_contract, maker, taker, cur, mult = plan
        if per_contract is not None:
            return Money.from_raw(mul_raw(qty_raw, per_contract), cur)
        rate = maker if liquidity_side is _MAKER else taker
        if not rate:
            return Money.from_raw(0, cur)
        # Instrument.notional_raw with the multiplier read once per instrument (same roundings)
        notional = mul_raw(qty_raw, px_raw)
        if mult != FIXED_SCALAR:
            notional = mul_raw(notional, mult)
        return Money.from_raw(mul_raw(notional, rate), cur)


class FixedRateFeeModel(FeeModel):
    """Maker/taker rates given here instead of by the instrument (fractions of notional, e.g. ``"0.0002"``).

    Raises
    ------
    ValueError
        If a rate has more than 9 decimals.
    """

    def __init__(self, maker: str | Decimal, taker: str | Decimal) -> None:
        self.maker_raw = parse_raw(maker if isinstance(maker, Decimal) else str(maker))
        self.taker_raw = parse_raw(taker if isinstance(taker, Decimal) else str(taker))

    def commission(self, instrument: Instrument, qty_raw: int, px_raw: int, liquidity_side: LiquiditySide) -> Money:
        """``notional * rate`` rounded half-even to 1e-9."""
        rate = self.maker_raw if liquidity_side is _MAKER else self.taker_raw
        return Money.from_raw(mul_raw(instrument.notional_raw(qty_raw, px_raw), rate), instrument.settlement_currency)


# -- slippage -----------------------------------------------------------------------------------


@mypyc_attr(allow_interpreted_subclasses=True)
class SlippageModel(ABC):
    """Moves the price of a market-type taker fill against the order (never applied to limit prices)."""

    @abstractmethod
    def adjust(self, is_buy: bool, px_raw: int, tick_raw: int, bid_raw: int | None, ask_raw: int | None) -> int:
        """Return the slipped fill price raw (on the tick grid) for a fill at ``px_raw``."""


class NoSlippage(SlippageModel):
    """Fills at the price matched (default)."""

    def adjust(self, is_buy: bool, px_raw: int, tick_raw: int, bid_raw: int | None, ask_raw: int | None) -> int:
        """Return ``px_raw`` unchanged."""
        return px_raw


class FixedTickSlippage(SlippageModel):
    """Every market-type taker fill is ``ticks`` ticks worse (higher for buys, lower for sells).

    Raises
    ------
    ValueError
        If ``ticks`` is negative.
    """

    def __init__(self, ticks: int) -> None:
        if ticks < 0:
            raise ValueError(f"slippage ticks must be >= 0, was {ticks}")
        self.ticks = ticks

    def adjust(self, is_buy: bool, px_raw: int, tick_raw: int, bid_raw: int | None, ask_raw: int | None) -> int:
        """Return ``px_raw +/- ticks * tick``."""
        d = self.ticks * tick_raw
        return px_raw + d if is_buy else px_raw - d


class SpreadFractionSlippage(SlippageModel):
    """Slippage of ``fraction`` of the current bid-ask spread, rounded up to whole ticks (adverse).

    With no two-sided quote the fill is not moved.

    Raises
    ------
    ValueError
        If ``fraction`` is negative.
    """

    def __init__(self, fraction: str | Decimal) -> None:
        self.fraction_raw = parse_raw(fraction if isinstance(fraction, Decimal) else str(fraction))
        if self.fraction_raw < 0:
            raise ValueError(f"spread fraction must be >= 0, was {fraction}")

    def adjust(self, is_buy: bool, px_raw: int, tick_raw: int, bid_raw: int | None, ask_raw: int | None) -> int:
        """Return the price moved by ``ceil(fraction * spread / tick)`` ticks."""
        if bid_raw is None or ask_raw is None or ask_raw <= bid_raw:
            return px_raw
        slip = (ask_raw - bid_raw) * self.fraction_raw  # scale 1e18
        ticks = -(-slip // (tick_raw * 10**9))
        d = ticks * tick_raw
        return px_raw + d if is_buy else px_raw - d


# -- latency ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LatencyModel:
    """Simulated delays in ns between a request and the venue acting on it.

    Parameters
    ----------
    submit_ns : int
        Submit -> acknowledgement (``OrderAccepted``/``OrderRejected`` carry ``ts_event = submit + submit_ns``).
    match_ns : int
        Acknowledgement -> the order becomes matchable (fills cannot happen earlier).
    modify_ns, cancel_ns : int
        Request -> the modify/cancel takes effect (the order can still fill meanwhile).

    Raises
    ------
    ValueError
        If a delay is negative.
    """

    submit_ns: int = 0
    match_ns: int = 0
    modify_ns: int = 0
    cancel_ns: int = 0

    def __post_init__(self) -> None:
        for name in ("submit_ns", "match_ns", "modify_ns", "cancel_ns"):
            if getattr(self, name) < 0:
                raise ValueError(f"LatencyModel.{name} must be >= 0, was {getattr(self, name)}")


# -- queue position -----------------------------------------------------------------------------


@mypyc_attr(allow_interpreted_subclasses=True)
class QueuePositionModel(ABC):
    """Tracks how much displayed size rests ahead of a paper limit order at its price level."""

    @abstractmethod
    def initial_ahead(self, displayed_raw: int) -> int:
        """Queue ahead when the order starts resting at a level that displays ``displayed_raw``."""

    @abstractmethod
    def on_level_update(self, ahead_raw: int, new_size_raw: int) -> int:
        """Queue ahead after the level's displayed size changed to ``new_size_raw``."""


class DisplayedSizeQueue(QueuePositionModel):
    """The order joins behind the whole displayed size at its price (default).

    Trades at the order's price first consume the queue ahead; only volume beyond it fills the order.
    A trade through the price (strictly better for the counterparty) means the level was swept, so the
    queue ahead is gone. When the level's displayed size shrinks, the queue ahead shrinks to at most the
    new size (cancellations are assumed to come from ahead, the usual conservative-optimistic compromise
    of queue models, cf. hftbacktest's ``RiskAverseQueueModel``); growth joins behind the order.
    """

    def initial_ahead(self, displayed_raw: int) -> int:
        """Return ``displayed_raw``."""
        return displayed_raw

    def on_level_update(self, ahead_raw: int, new_size_raw: int) -> int:
        """Return ``min(ahead_raw, new_size_raw)``."""
        return ahead_raw if ahead_raw <= new_size_raw else new_size_raw


class FrontOfQueue(QueuePositionModel):
    """Optimistic: the order is first at its level (every trade at its price can fill it)."""

    def initial_ahead(self, displayed_raw: int) -> int:
        """Return 0."""
        return 0

    def on_level_update(self, ahead_raw: int, new_size_raw: int) -> int:
        """Return 0."""
        return 0


__all__ = [
    "DisplayedSizeQueue", "FeeModel", "FixedRateFeeModel", "FixedTickSlippage", "FrontOfQueue",
    "InstrumentFeeModel", "LatencyModel", "NoSlippage", "QueuePositionModel", "SlippageModel",
    "SpreadFractionSlippage",
]  # fmt: skip
