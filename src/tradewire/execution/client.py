"""`ExecutionClient`: the adapter between the `ExecutionEngine` and one venue account.

The engine calls :meth:`ExecutionClient.submit_order`, :meth:`~ExecutionClient.modify_order` and
:meth:`~ExecutionClient.cancel_order`; the client reports everything that happens as order events
(``OrderAccepted``, ``OrderRejected``, ``OrderFilled``, ``OrderCanceled``, ``OrderExpired``,
``OrderTriggered``, ``OrderUpdated``, ``OrderModifyRejected``, ``OrderCancelRejected``) and
:class:`~tradewire.execution.reports.AccountState` through ``event_handler`` (in a node:
``ExecutionEngine.process``). Paper venues call it synchronously; live adapters call it from the
event loop thread.

``supports`` lists the venue's native capabilities. What is missing is emulated by the engine:
stop and if-touched orders and trailing stops are held locally and released as market/limit orders;
OCO/bracket linkage is managed by the engine.

This module stays interpreted in the optional mypyc build: adapters override ``supports`` and ``oms_type``
as class attributes and callers assign them on instances, which compiled code reading a native
attribute would not see.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

from tradewire.core.clock import Clock
from tradewire.execution.reports import FillReport, OrderStatusReport, PositionReport
from tradewire.model.enums import OmsType
from tradewire.model.identifiers import AccountId, Venue
from tradewire.model.objects import Price, Quantity
from tradewire.model.orders import Order

CAPABILITIES: frozenset[str] = frozenset(
    {
        "stop_market", "stop_limit", "mit", "lit", "trailing", "oco", "bracket", "post_only",
        "reduce_only", "fok", "ioc", "gtd", "modify",
    }
)  # fmt: skip
"""Every capability name a client may list in ``supports``."""


class ExecutionClient(ABC):
    """Adapter to one venue/account. Sends commands to the venue and reports what happened as order events.

    Parameters
    ----------
    venue : Venue
        Venue this client trades on; the engine routes orders by ``order.instrument_id.venue``.
    account_id : AccountId
        The account orders are placed in.
    clock : Clock
        Source of ``ts_init`` for events the client builds.
    event_handler : Callable[[object], None]
        Receives every order event and ``AccountState`` the client produces.

    Attributes
    ----------
    oms_type : OmsType
        How the venue books positions (NETTING by default).
    supports : frozenset[str]
        Native capabilities, a subset of :data:`CAPABILITIES`.

    Raises
    ------
    ValueError
        If ``supports`` names an unknown capability.
    """

    oms_type: OmsType = OmsType.NETTING
    supports: frozenset[str] = frozenset()

    def __init__(
        self, venue: Venue, account_id: AccountId, clock: Clock, event_handler: Callable[[object], None]
    ) -> None:
        unknown = set(self.supports) - CAPABILITIES
        if unknown:
            raise ValueError(f"{type(self).__name__}.supports has unknown capabilities {sorted(unknown)}")
        self.venue = venue
        self.account_id = account_id
        self.clock = clock
        self.event_handler = event_handler
        self.is_connected = False

    # -- commands ------------------------------------------------------------------------------
    @abstractmethod
    def submit_order(self, order: Order) -> None:
        """Send a new order (status SUBMITTED) to the venue."""

    @abstractmethod
    def modify_order(
        self, order: Order, quantity: Quantity | None, price: Price | None, trigger_price: Price | None
    ) -> None:
        """Ask the venue to change a working order (None = unchanged); answer OrderUpdated or OrderModifyRejected."""

    @abstractmethod
    def cancel_order(self, order: Order) -> None:
        """Ask the venue to cancel a working order; answer OrderCanceled or OrderCancelRejected."""

    # -- lifecycle -----------------------------------------------------------------------------
    def connect(self) -> None:
        """Open the venue session (no-op by default)."""
        self.is_connected = True

    def disconnect(self) -> None:
        """Close the venue session (no-op by default)."""
        self.is_connected = False

    # -- reconciliation ------------------------------------------------------------------------
    def generate_order_status_reports(self) -> list[OrderStatusReport]:
        """Every order the venue knows as open (default: none)."""
        return []

    def generate_fill_reports(self, since_ns: int) -> list[FillReport]:
        """Every fill at or after ``since_ns`` UTC ns (default: none)."""
        return []

    def generate_position_reports(self) -> list[PositionReport]:
        """Every open position at the venue (default: none)."""
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.venue}, {self.account_id})"


__all__ = ["CAPABILITIES", "ExecutionClient"]
