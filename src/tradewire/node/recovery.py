"""Crash recovery of a node on start: event store + the venues' own state -> a running OMS.

:func:`recover_node` is what a node calls after building its :class:`~tradewire.node.kernel.Kernel`
(instruments, venues, strategies added) and before ``kernel.start()``:

1. rebuild every order and position from the event store (:func:`tradewire.persistence.recovery.recover`);
2. load each paper venue's own durable state from its journal and keep journaling it
   (:class:`tradewire.venues.paper.durable.DurablePaperVenue`; file ``<venue_state_path>/<VENUE>.journal``);
   a paper venue reports every order it knows, open and closed, all its fills and its net positions;
   a non-paper client (``kernel.external_clients``) reports what its ``generate_*_reports`` give (for
   ccxt: open orders only, fills since the oldest working order; positions are not compared);
3. reconcile with every venue's reports (:func:`tradewire.persistence.reconciliation.reconcile`): fills
   the store lost come back as ``OrderFilled(inferred=True)``, statuses are aligned, positions compared;
4. settle requests that were in flight at the crash: a cancel the venue never received is sent again,
   a modify the venue never applied is closed with ``OrderModifyRejected`` (or ``OrderUpdated`` when the
   venue shows it applied);
5. rebuild the OMS and the portfolio (``ExecutionEngine.restore``) from the reconciled orders, then
   attach the :class:`~tradewire.persistence.EventRecorder` so that everything from here on is logged;
6. continue each strategy's client order id numbering past every id in the store;
7. send again, *with the same client order id*, each order recorded as submitted that the venue
   never received, and submit orders that were created but never submitted.

Every difference found is a :class:`~tradewire.persistence.records.ReconciliationDiscrepancy`, appended
to the store durably and listed in the returned :class:`NodeRecoveryResult`.

Why this is safe: the ExecutionEngine publishes ``OrderInitialized`` and ``OrderSubmitted`` (appended
durably by the recorder, :data:`tradewire.persistence.DURABLE_KINDS`) before it calls the venue client,
so an order the venue has is always in the store; a durable paper venue persists before it answers,
so an event the node saw is always at the venue. What the venue lacks was never received and is
resent; what the store lacks is inferred from the venue's reports.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradewire.execution.reports import OrderStatusReport
from tradewire.model.enums import OrderStatus
from tradewire.model.events import OrderEvent, OrderModifyRejected, OrderRejected, OrderUpdated
from tradewire.model.identifiers import AccountId, ClientOrderId, Venue
from tradewire.persistence.reconciliation import reconcile
from tradewire.persistence.recorder import EventRecorder
from tradewire.persistence.records import ReconciliationDiscrepancy
from tradewire.persistence.recovery import RecoveredState, recover
from tradewire.persistence.store import EventStore
from tradewire.venues.paper.durable import DurablePaperVenue

_VENUE_OPEN = frozenset({OrderStatus.ACCEPTED, OrderStatus.TRIGGERED, OrderStatus.PARTIALLY_FILLED})
_ID_COUNT = re.compile(r"^O-\d{8}-\d{6}-(?P<tag>[^-\s]+)-(?P<n>\d+)$")


class NodeRecoveryError(RuntimeError):
    """The store cannot be rebuilt into a consistent OMS (events refused by their orders)."""


class _OrderEventRecorder(EventRecorder):
    """Records order events only: used while the OMS is rebuilt, when the portfolio republishes
    position and account events that are already in the store."""

    TOPICS = ("events.order.*",)


@dataclass(slots=True)
class NodeRecoveryResult:
    """What :func:`recover_node` found and did.

    Attributes
    ----------
    discrepancies : list[ReconciliationDiscrepancy]
        Every difference between the store and the venues, in the order handled (all in the store).
    inferred_events : list[OrderEvent]
        Events created from venue reports and in-flight requests (all in the store).
    resubmitted : list[ClientOrderId]
        Orders recorded as submitted that no venue had, sent again with the same id.
    submitted : list[ClientOrderId]
        Orders created but never submitted before the crash, submitted now.
    cancels_resent : list[ClientOrderId]
        Cancel requests in flight at the crash that the venue never received, sent again.
    orders_restored : int
        Orders rebuilt into the OMS.
    fills_from_store : int
        Fills the store already held.
    last_seq : int
        Highest store sequence number read by the rebuild.
    venues : dict[Venue, DurablePaperVenue]
        The journaling wrappers of the paper venues (close them on shutdown).
    venue_restored : dict[Venue, bool]
        True for a paper venue whose state was loaded from an existing journal.
    recorder : EventRecorder | None
        The recorder now attached to the bus.
    """

    discrepancies: list[ReconciliationDiscrepancy] = field(default_factory=list)
    inferred_events: list[OrderEvent] = field(default_factory=list)
    resubmitted: list[ClientOrderId] = field(default_factory=list)
    submitted: list[ClientOrderId] = field(default_factory=list)
    cancels_resent: list[ClientOrderId] = field(default_factory=list)
    orders_restored: int = 0
    fills_from_store: int = 0
    last_seq: int = 0
    venues: dict[Venue, DurablePaperVenue] = field(default_factory=dict)
    venue_restored: dict[Venue, bool] = field(default_factory=dict)
    recorder: EventRecorder | None = None

    @property
    def is_clean(self) -> bool:
        """True when the store and every venue agreed and nothing was in flight."""
        return not self.discrepancies

    @property
    def inferred_fills(self) -> int:
        """Fills taken from the venues' reports because the store had lost them."""
        return sum(1 for e in self.inferred_events if getattr(e, "inferred", False))

    def by_kind(self) -> dict[str, int]:
        """Discrepancy counts by ``kind/action`` (e.g. ``{"missing_fill/applied": 3}``)."""
        return dict(Counter(f"{d.kind}/{d.action}" for d in self.discrepancies))

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (counts and ids)."""
        return {
            "discrepancies": self.by_kind(), "inferred_events": len(self.inferred_events),
            "inferred_fills": self.inferred_fills, "resubmitted": [str(c) for c in self.resubmitted],
            "submitted": [str(c) for c in self.submitted], "cancels_resent": [str(c) for c in self.cancels_resent],
            "orders_restored": self.orders_restored, "fills_from_store": self.fills_from_store,
            "last_seq": self.last_seq, "venue_restored": {str(k): v for k, v in self.venue_restored.items()},
        }  # fmt: skip


def _note(
    kind: str, action: str, detail: str, order: Any, account_id: AccountId | None, ts: int
) -> ReconciliationDiscrepancy:
    return ReconciliationDiscrepancy(kind, action, detail, ts, ts, account_id, order.instrument_id,
                                     order.client_order_id, order.venue_order_id)  # fmt: skip


def _settle_in_flight(
    state: RecoveredState, reports: list[OrderStatusReport], account_id: AccountId, ts: int
) -> tuple[list[OrderEvent], list[ReconciliationDiscrepancy], list[ClientOrderId]]:
    """Events and notes for modify/cancel requests in flight at the crash; ids whose cancel must be resent."""
    events: list[OrderEvent] = []
    notes: list[ReconciliationDiscrepancy] = []
    resend: list[ClientOrderId] = []
    for r in reports:
        if r.client_order_id is None or r.order_status not in _VENUE_OPEN:
            continue
        order = state.orders.get(r.client_order_id)
        if order is None:
            continue
        if order.status is OrderStatus.PENDING_CANCEL:
            resend.append(order.client_order_id)
            detail = f"cancel requested before the restart, order still {r.order_status.value} at the venue: sent again"
            notes.append(_note("cancel_not_received", "resend", detail, order, account_id, ts))
        elif order.status is OrderStatus.PENDING_UPDATE:
            base = (order.client_order_id, order.strategy_id, order.instrument_id, ts, ts)
            same = (r.quantity.raw == order.quantity.raw
                    and (r.price.raw if r.price else None) == (order.price.raw if order.price else None)
                    and (r.trigger_price.raw if r.trigger_price else None)
                    == (order.trigger_price.raw if order.trigger_price else None))  # fmt: skip
            if same:
                ev: OrderEvent = OrderModifyRejected(*base, reason="reconciliation: modify not applied at the venue "
                                                     "before the restart", venue_order_id=r.venue_order_id)  # fmt: skip
                action = "rejected"
            else:
                ev = OrderUpdated(*base, quantity=r.quantity, price=r.price, trigger_price=r.trigger_price,
                                  venue_order_id=r.venue_order_id)  # fmt: skip
                action = "applied"
            if not state.apply(ev):
                raise NodeRecoveryError(f"in-flight modify of {order.client_order_id}: {state.anomalies[-1]}")
            events.append(ev)
            detail = (
                f"modify requested before the restart; venue: qty {r.quantity} px {r.price} trigger {r.trigger_price}"
            )
            notes.append(_note("modify_in_flight", action, detail, order, account_id, ts))
    return events, notes, resend


def _continue_numbering(kernel: Any, state: RecoveredState) -> None:
    """Move each strategy's OrderFactory counter past every id of its tag already in the store."""
    highest: dict[str, int] = {}
    for coid in [*state.orders, *state.denied_before_oms]:
        m = _ID_COUNT.match(str(coid))
        if m is not None:
            tag, n = m["tag"], int(m["n"])
            if n > highest.get(tag, 0):
                highest[tag] = n
    for s in kernel.strategies:
        f = s.order_factory
        if f is not None and highest.get(f.tag, 0) > f.count:
            f.count = highest[f.tag]


def recover_node(
    kernel: Any, store: EventStore, venue_state_path: str | Path, *, instruments: Mapping[Any, Any] | None = None,
    max_resubmit_age_ns: int | None = None, adopt_unknown: bool = True, fsync: bool = True,
) -> NodeRecoveryResult:  # fmt: skip
    """Recover a node from its event store and its venues (see the module docstring for the steps).

    Parameters
    ----------
    kernel : Kernel
        Built (instruments, venues, strategies added) but not started; its OMS cache must be empty.
    store : EventStore
        The node's event store (open). Inferred events and discrepancies are appended durably.
    venue_state_path : str | Path
        Directory of the paper venues' journals (``<VENUE>.journal``); created if missing.
    instruments : mapping, optional
        Extra instrument definitions for position accounting (default: the kernel's cache).
    max_resubmit_age_ns : int, optional
        An order recorded as submitted but never received by the venue is sent again only if its
        ``OrderInitialized`` is at most this old (by the kernel clock); older ones are closed with
        ``OrderRejected`` (kind ``not_sent``, action ``rejected_stale``). Default: always resend.
    adopt_unknown : bool
        Adopt open venue orders unknown to the store (as strategy ``EXTERNAL``).
    fsync : bool
        fsync the venue journals (False only in tests that do not crash).

    Returns
    -------
    NodeRecoveryResult

    Raises
    ------
    NodeRecoveryError
        If a stored event is refused by its order (``RecoveredState.anomalies``), or the kernel's OMS
        already holds orders.
    tradewire.persistence.recovery.RecoveryError
        If a fill's instrument is defined nowhere.
    tradewire.venues.paper.durable.VenueJournalError
        If a venue journal is unreadable (names file, line and byte offset).
    """
    if kernel.cache.orders:
        raise NodeRecoveryError("recover_node must run on a fresh kernel: its OMS already holds orders")
    result = NodeRecoveryResult()
    insts = dict(kernel.cache.instruments)
    insts.update(instruments or {})
    state = recover(store, insts)
    if state.anomalies:
        raise NodeRecoveryError(f"{len(state.anomalies)} stored events refused by their orders, first: "
                                f"{state.anomalies[:3]}")  # fmt: skip
    result.last_seq = state.last_seq
    result.fills_from_store = len(state.fill_keys)

    try:
        return _recover(kernel, store, venue_state_path, state, result, max_resubmit_age_ns, adopt_unknown, fsync)
    except BaseException:
        for dv in result.venues.values():
            dv.close()
        raise


def _recover(kernel: Any, store: EventStore, venue_state_path: str | Path, state: RecoveredState,
             result: NodeRecoveryResult, max_resubmit_age_ns: int | None, adopt_unknown: bool,
             fsync: bool) -> NodeRecoveryResult:  # fmt: skip
    clock = kernel.clock
    # the venues' own state
    state_dir = Path(venue_state_path)
    state_dir.mkdir(parents=True, exist_ok=True)
    venues: list[tuple[Venue, Any, list, list, list | None]] = []
    for venue, client in kernel.venues.items():
        dv = DurablePaperVenue(client, state_dir / f"{venue}.journal", fsync=fsync)
        result.venues[venue] = dv
        result.venue_restored[venue] = dv.restored
        venues.append((venue, client, dv.order_status_reports(), client.generate_fill_reports(0),
                       client.generate_position_reports()))  # fmt: skip
    for venue, client in kernel.external_clients.items():
        # a real venue: fills since the oldest order still working here; positions not compared (a spot
        # venue reports balances, not positions)
        working = [o for o in state.orders.values() if not o.is_closed and o.instrument_id.venue == venue]
        register = getattr(client, "register_order", None)
        if register is not None:  # so the client can look each one up by its client order id
            for o in working:
                register(o)
        # order reports first: looking up an order by client order id teaches the client its venue id,
        # which its fill reports then carry
        order_reports = list(client.generate_order_status_reports())
        fills = client.generate_fill_reports(min(o.init.ts_init for o in working)) if working else []
        venues.append((venue, client, order_reports, fills, None))

    # reconcile, then settle requests in flight at the crash
    ts = clock.timestamp_ns()
    to_resubmit = []
    cancels: list[ClientOrderId] = []
    for venue, client, order_reports, fill_reports, position_reports in venues:
        res = reconcile(
            state, store, account_id=client.account_id, order_reports=order_reports,
            fill_reports=fill_reports, position_reports=position_reports,
            ts_now=ts, venue=str(venue), adopt_unknown=adopt_unknown, max_resubmit_age_ns=max_resubmit_age_ns,
        )  # fmt: skip
        result.discrepancies.extend(res.discrepancies)
        result.inferred_events.extend(res.inferred_events)
        to_resubmit.extend(res.to_resubmit)
        events, notes, resend = _settle_in_flight(state, order_reports, client.account_id, ts)
        if events or notes:
            store.append_many([*events, *notes], durable=True)
        result.inferred_events.extend(events)
        result.discrepancies.extend(notes)
        cancels.extend(resend)

    # the OMS and the portfolio; order events created by the rebuild (released children ...) are recorded
    temp = _OrderEventRecorder(store, kernel.bus)
    try:
        restored = kernel.exec_engine.restore(state.order_event_streams())
    finally:
        temp.detach()
    result.orders_restored = len(restored)
    result.recorder = EventRecorder(store, kernel.bus)
    _continue_numbering(kernel, state)

    # send what never arrived (same client order ids), cancels in flight, and orders never submitted
    engine = kernel.exec_engine
    late: list[ReconciliationDiscrepancy] = []
    stale: list[Any] = []
    for order in restored:
        if order.status is OrderStatus.INITIALIZED and order.parent_order_id is None and not engine.is_local(order):
            client = engine.client_for(order)
            acct = None if client is None else client.account_id
            if max_resubmit_age_ns is not None and ts - order.init.ts_init > max_resubmit_age_ns:
                stale.append(order)
                note = _note("not_submitted", "rejected_stale", f"created {(ts - order.init.ts_init) // 10**9} s "
                             "before the restart, never submitted: too old to send", order, acct, ts)  # fmt: skip
            else:
                note = _note("not_submitted", "submitted", "created before the restart, never submitted", order,
                             acct, ts)  # fmt: skip
            late.append(note)
    if late:
        store.append_many(late, durable=True)
        result.discrepancies.extend(late)
    why = "reconciliation: never submitted, too old to send after the restart"
    for order in stale:  # through the OMS: applied, published and recorded
        engine.process(OrderRejected(order.client_order_id, order.strategy_id, order.instrument_id, ts, ts, why))
    for coid in cancels:
        order = kernel.cache.orders[coid]
        engine.client_for(order).cancel_order(order)
        result.cancels_resent.append(coid)
    for old in to_resubmit:
        order = kernel.cache.orders[old.client_order_id]
        engine.client_for(order).submit_order(order)
        result.resubmitted.append(order.client_order_id)
    for d in late:
        if d.action != "submitted":
            continue
        order = kernel.cache.orders[d.client_order_id]
        engine.release(order)
        result.submitted.append(order.client_order_id)
    return result


__all__ = ["NodeRecoveryError", "NodeRecoveryResult", "recover_node"]
