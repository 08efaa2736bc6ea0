"""`EngineState`: the state and methods that the `MatchingEngine` mixins share, declared once.

`BookMatching` (:mod:`~tradewire.venues.paper.fills`), `OrderLifecycle`
(:mod:`~tradewire.venues.paper.lifecycle`) and `LatencyAndExpiry` (:mod:`~tradewire.venues.paper.timing`)
each implement part of `MatchingEngine` and use the rest. They derive from this trait, which declares the
engine's attributes (assigned in ``MatchingEngine.__init__``) and, as stubs, the methods one mixin calls
on another. The stubs are never run: this class comes last in ``MatchingEngine``'s MRO, after the mixin
that defines each method. Declaring them lets mypy check the mixins and mypyc compile them as traits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from mypy_extensions import trait

from tradewire.model.data import Bar
from tradewire.model.enums import OrderStatus
from tradewire.model.events import OrderFilled
from tradewire.model.identifiers import AccountId, ClientOrderId
from tradewire.model.instruments import Instrument
from tradewire.model.objects import Price, Quantity
from tradewire.venues.paper.book import PaperBook
from tradewire.venues.paper.config import PaperVenueConfig
from tradewire.venues.paper.models import FeeModel, LatencyModel, QueuePositionModel, SlippageModel
from tradewire.venues.paper.positions import VenuePosition
from tradewire.venues.paper.sessions import TradingSessions
from tradewire.venues.paper.state import VenueOrder


class VenueGate(Protocol):
    """Sees every call into a paper venue (client or matching engine) from outside it.

    Set as ``_gate`` on `PaperExecutionClient` and its matching engines (None: no gate, the default).
    An entry point called while ``depth`` is 0 hands its own function and arguments to :meth:`call`,
    which runs it (nested calls then see ``depth > 0`` and run directly); `DurablePaperVenue` journals
    the venue state there.
    """

    depth: int

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` as one venue call."""

    def on_submit(self, order: Any) -> None:
        """``PaperExecutionClient.submit_order(order)`` is about to run."""

    def on_command(self, order: Any) -> None:
        """``PaperExecutionClient.modify_order`` / ``cancel_order`` of ``order`` is about to run."""


@trait
class EngineState:
    """State of one `MatchingEngine` (see the attribute comments in ``MatchingEngine.__init__``)."""

    instrument: Instrument
    config: PaperVenueConfig
    fee_model: FeeModel
    slippage: SlippageModel
    latency: LatencyModel
    queue_model: QueuePositionModel
    sessions: TradingSessions
    account_id: AccountId
    _emit: Callable[[object], None]
    _on_fill: Callable[[VenueOrder, OrderFilled], None]
    book: PaperBook
    l2: bool
    working: dict[ClientOrderId, VenueOrder]
    orders: dict[ClientOrderId, VenueOrder]
    position: VenuePosition
    ts: int
    last_bar: Bar | None
    last_trade_raw: int | None
    trade_seq: int
    _pending: list[tuple[int, int, str, ClientOrderId, Any]]
    _seq: int
    _next_expiry: int | None
    _intervals: dict[object, int]
    _tick: int
    _pp: int
    _symbol: str
    _trade_prefix: str
    _sp: int
    _prices: dict[int, Price]
    _quantities: dict[int, Quantity]
    _next_mode: bool
    _no_slippage: bool

    # -- LatencyAndExpiry ---------------------------------------------------------------------------
    def _schedule(self, due: int, kind: str, coid: ClientOrderId, payload: Any) -> None:
        raise NotImplementedError

    def _recompute_expiry(self) -> None:
        raise NotImplementedError

    # -- OrderLifecycle -----------------------------------------------------------------------------
    def _ack(self, vo: VenueOrder) -> None:
        raise NotImplementedError

    def _activate(self, vo: VenueOrder) -> None:
        raise NotImplementedError

    def _end_first_pass(self, vo: VenueOrder) -> None:
        raise NotImplementedError

    def _rest(self, vo: VenueOrder) -> None:
        raise NotImplementedError

    def _trigger(self, vo: VenueOrder) -> None:
        raise NotImplementedError

    def _close(self, vo: VenueOrder, status: OrderStatus) -> None:
        raise NotImplementedError

    def _cancel_rest(self, vo: VenueOrder, reason: str) -> None:
        raise NotImplementedError

    def _apply_cancel(self, vo: VenueOrder) -> None:
        raise NotImplementedError

    def _apply_modify(self, vo: VenueOrder, qty: Quantity | None, price: Price | None, trigger: Price | None) -> None:
        raise NotImplementedError

    def _session_ok(self, ts: int) -> bool:
        raise NotImplementedError

    def _crosses_book(self, vo: VenueOrder) -> bool:
        raise NotImplementedError

    def _reduces(self, vo: VenueOrder) -> bool:
        raise NotImplementedError

    # -- BookMatching -------------------------------------------------------------------------------
    def _match_book(self, vo: VenueOrder) -> None:
        raise NotImplementedError

    def _match_segment(self, vo: VenueOrder, a: int, b: int, ts: int) -> None:
        raise NotImplementedError

    def _px(self, raw: int) -> str:
        raise NotImplementedError


__all__ = ["EngineState", "VenueGate"]
