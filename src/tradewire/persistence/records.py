"""Record types the persistence layer itself appends to the event log.

Order, fill, account and position events come from their own packages; these cover what has no
other home: operator actions (state-changing API/CLI calls), alerts, and reconciliation
discrepancies found on recovery.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tradewire.model.identifiers import AccountId, ClientOrderId, InstrumentId, VenueOrderId
from tradewire.persistence.serialization import register


@register
@dataclass(frozen=True, slots=True)
class OperatorAction:
    """A state-changing request made by a person or tool (API call, CLI command).

    Parameters
    ----------
    actor : str
        Who asked (user name, API key id, ``cli``).
    action : str
        What was asked, e.g. ``"halt_trading"``, ``"cancel_order"``, ``"set_risk_limit"``.
    params : dict[str, str]
        The request's arguments as text.
    ts_event, ts_init : int
        UTC ns.
    """

    actor: str
    action: str
    ts_event: int
    ts_init: int
    params: dict[str, str] = field(default_factory=dict)


@register
@dataclass(frozen=True, slots=True)
class Alert:
    """An alert raised by a component (data quality, order flow, risk, connectivity)."""

    source: str
    level: str
    message: str
    ts_event: int
    ts_init: int
    instrument_id: InstrumentId | None = None


@register
@dataclass(frozen=True, slots=True)
class ReconciliationDiscrepancy:
    """One difference between the event store and a venue's reports, and what was done about it.

    Parameters
    ----------
    kind : str
        ``missing_fill`` (venue fill not in the store, applied as an inferred fill), ``order_gone``
        (open locally, unknown or closed at the venue: closed locally), ``order_status`` (status
        differs; events inferred), ``unknown_venue_order`` (adopted or flagged), ``position_mismatch``
        (signed quantity differs after all fills were applied), ``not_sent`` (recorded but never
        reached the venue; resubmitted with the same client_order_id).
    action : str
        What recovery did (``applied``, ``canceled``, ``adopted``, ``flagged``, ``resubmitted``).
    detail : str
        Human-readable explanation with the quantities involved.
    """

    kind: str
    action: str
    detail: str
    ts_event: int
    ts_init: int
    account_id: AccountId | None = None
    instrument_id: InstrumentId | None = None
    client_order_id: ClientOrderId | None = None
    venue_order_id: VenueOrderId | None = None


__all__ = ["Alert", "OperatorAction", "ReconciliationDiscrepancy"]
