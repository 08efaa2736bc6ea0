"""Reconciliation of the recovered state with a venue's reports after a (re)start.

The venue is the authority on what happened there; the store is the authority on what tradewire
intended. :func:`reconcile` walks the venue's reports (``tradewire.execution.reports``) against a
:class:`~tradewire.persistence.recovery.RecoveredState` and, for every difference, appends the
inferred events and a :class:`~tradewire.persistence.records.ReconciliationDiscrepancy` to the store
(durably) and applies the events to the state:

=========================  ====================================================================
difference                 action
=========================  ====================================================================
venue fill not in store    ``OrderAccepted`` first if the order was never acknowledged, then
                           ``OrderFilled(inferred=True)`` with the venue's trade id, qty, px, fee
                           (``missing_fill`` / ``applied``)
order closed at venue,     ``OrderCanceled``/``OrderExpired``/``OrderRejected`` with a reason
open locally               (``order_status`` / ``applied``)
open at venue, submitted   ``OrderAccepted`` (``order_status`` / ``applied``)
locally
order open locally, not    ``OrderCanceled(reason="reconciliation: not found at venue")``
known to the venue         (``order_gone`` / ``canceled``)
submitted locally, never   listed in :attr:`ReconciliationResult.to_resubmit`: the intent was
reached the venue          recorded but the crash came before the venue got it. The caller sends
                           it again *with the same client_order_id*, so a venue that did get it
                           rejects the duplicate instead of opening a second order
                           (``not_sent`` / ``resubmit``); older than ``max_resubmit_age_ns``:
                           ``OrderRejected`` (``not_sent`` / ``rejected_stale``)
venue order unknown        adopted as an order of strategy ``EXTERNAL`` (``OrderInitialized`` +
locally                    ``OrderAccepted``) when ``adopt_unknown``, else only recorded
                           (``unknown_venue_order`` / ``adopted`` or ``flagged``)
position differs           recorded only (``position_mismatch`` / ``flagged``): positions follow
                           from fills and a difference left after all fills is for a person to
                           look at, not for the engine to paper over
=========================  ====================================================================

Assumption about the venue client: ``generate_order_status_reports()`` lists every order the venue
knows for the account, open or recently closed, and ``generate_fill_reports(since)`` every execution
since ``since``. An order the venue does not list is treated as never received (if never
acknowledged locally) or gone (if it was acknowledged).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tradewire.execution.reports import FillReport, OrderStatusReport, PositionReport
from tradewire.model.enums import OrderStatus
from tradewire.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderRejected,
)
from tradewire.model.identifiers import AccountId, ClientOrderId, StrategyId, VenueOrderId
from tradewire.model.objects import Quantity
from tradewire.model.orders import Order
from tradewire.persistence.records import ReconciliationDiscrepancy
from tradewire.persistence.recovery import RecoveredState
from tradewire.persistence.store import EventStore

EXTERNAL_STRATEGY = StrategyId("EXTERNAL")
_VENUE_OPEN = frozenset({OrderStatus.ACCEPTED, OrderStatus.TRIGGERED, OrderStatus.PARTIALLY_FILLED,
                         OrderStatus.PENDING_UPDATE, OrderStatus.PENDING_CANCEL})  # fmt: skip
_CLOSE_EVENT = {OrderStatus.CANCELED: OrderCanceled, OrderStatus.EXPIRED: OrderExpired,
                OrderStatus.REJECTED: OrderRejected}  # fmt: skip


@dataclass(slots=True)
class ReconciliationResult:
    """Everything reconciliation found and did.

    Attributes
    ----------
    discrepancies : list[ReconciliationDiscrepancy]
        One per difference (also appended to the store).
    inferred_events : list[OrderEvent]
        Events created from the venue's reports, in the order applied (also appended to the store).
    to_resubmit : list[Order]
        Orders recorded as submitted that the venue never received; send them again with the same
        ``client_order_id``.
    adopted : list[Order]
        Venue orders unknown locally that were adopted.
    """

    discrepancies: list[ReconciliationDiscrepancy] = field(default_factory=list)
    inferred_events: list[OrderEvent] = field(default_factory=list)
    to_resubmit: list[Order] = field(default_factory=list)
    adopted: list[Order] = field(default_factory=list)

    @property
    def is_clean(self) -> bool:
        """True when the store and the venue agreed on everything."""
        return not self.discrepancies

    def count(self, kind: str) -> int:
        """Number of discrepancies of ``kind``."""
        return sum(1 for d in self.discrepancies if d.kind == kind)


class _Reconciler:
    def __init__(self, state: RecoveredState, account_id: AccountId, ts_now: int) -> None:
        self.state = state
        self.account_id = account_id
        self.ts = ts_now
        self.result = ReconciliationResult()
        self.by_venue_id: dict[str, Order] = {
            str(o.venue_order_id): o for o in state.orders.values() if o.venue_order_id is not None
        }

    def emit(self, event: OrderEvent) -> None:
        if not self.state.apply(event):
            raise RuntimeError(f"reconciliation produced an event its order refused: {self.state.anomalies[-1]}")
        self.result.inferred_events.append(event)
        vid = getattr(event, "venue_order_id", None)
        if vid is not None:
            self.by_venue_id[str(vid)] = self.state.orders[event.client_order_id]

    def note(self, kind: str, action: str, detail: str, order: Order | None = None, *, instrument_id=None,
             venue_order_id=None) -> None:  # fmt: skip
        self.result.discrepancies.append(ReconciliationDiscrepancy(
            kind, action, detail, self.ts, self.ts, self.account_id,
            instrument_id or (order.instrument_id if order else None),
            order.client_order_id if order else None,
            venue_order_id or (order.venue_order_id if order else None),
        ))  # fmt: skip

    def find(self, coid: ClientOrderId | None, vid: VenueOrderId | None) -> Order | None:
        if coid is not None and coid in self.state.orders:
            return self.state.orders[coid]
        return self.by_venue_id.get(str(vid)) if vid is not None else None

    def accept(self, order: Order, vid: VenueOrderId, ts: int) -> None:
        if order.status in (OrderStatus.SUBMITTED, OrderStatus.INITIALIZED):
            self.emit(OrderAccepted(order.client_order_id, order.strategy_id, order.instrument_id, ts, self.ts,
                                    venue_order_id=vid, account_id=self.account_id))  # fmt: skip

    def adopt(self, r: OrderStatusReport, adopt_unknown: bool) -> Order | None:
        coid = r.client_order_id or ClientOrderId(f"EXT-{r.venue_order_id}")
        detail = (f"venue order {r.venue_order_id} ({r.order_side} {r.quantity} {r.instrument_id} "
                  f"{r.order_type}, {r.order_status}, filled {r.filled_qty}) unknown locally")  # fmt: skip
        if not adopt_unknown or r.order_status not in _VENUE_OPEN:
            self.note("unknown_venue_order", "flagged", detail, instrument_id=r.instrument_id,
                      venue_order_id=r.venue_order_id)  # fmt: skip
            return None
        self.emit(OrderInitialized(
            coid, EXTERNAL_STRATEGY, r.instrument_id, r.ts_accepted, self.ts, side=r.order_side,
            order_type=r.order_type, quantity=r.quantity, time_in_force=r.time_in_force, price=r.price,
            trigger_price=r.trigger_price, post_only=r.post_only, reduce_only=r.reduce_only, tags="adopted",
        ))  # fmt: skip
        order = self.state.orders[coid]
        self.accept(order, r.venue_order_id, r.ts_accepted)
        self.note("unknown_venue_order", "adopted", detail, order)
        self.result.adopted.append(order)
        return order

    def apply_fill(self, f: FillReport, order: Order) -> None:
        self.accept(order, f.venue_order_id, f.ts_event)
        self.emit(OrderFilled(
            order.client_order_id, order.strategy_id, order.instrument_id, f.ts_event, self.ts,
            venue_order_id=f.venue_order_id, trade_id=f.trade_id, order_side=f.order_side, order_type=order.order_type,
            last_qty=f.last_qty, last_px=f.last_px, commission=f.commission, liquidity_side=f.liquidity_side,
            position_id=None, account_id=f.account_id, inferred=True,
        ))  # fmt: skip
        self.note("missing_fill", "applied", f"venue fill {f.trade_id}: {f.order_side} {f.last_qty} @ {f.last_px}, "
                  f"fee {f.commission}", order, venue_order_id=f.venue_order_id)  # fmt: skip


def reconcile(
    state: RecoveredState, store: EventStore, *, account_id: AccountId, order_reports: Iterable[OrderStatusReport],
    fill_reports: Iterable[FillReport], position_reports: Iterable[PositionReport] | None = None, ts_now: int,
    venue: str | None = None, adopt_unknown: bool = True, max_resubmit_age_ns: int | None = None,
) -> ReconciliationResult:  # fmt: skip
    """Bring ``state`` in line with the venue's reports and record every difference in ``store``.

    Parameters
    ----------
    state : RecoveredState
        From :func:`tradewire.persistence.recovery.recover`; updated in place.
    store : EventStore
        Inferred events and discrepancies are appended to it durably before this returns.
    account_id : AccountId
        The venue account the reports describe.
    order_reports, fill_reports, position_reports : iterables of reports
        From the venue's ``ExecutionClient.generate_*_reports``. ``position_reports=None`` skips the
        position check (venues without positions, e.g. spot).
    ts_now : int
        ``ts_init`` of the created events (UTC ns, from the node's clock).
    venue : str, optional
        Only local orders of instruments on this venue are checked for presence at the venue
        (default: the venue of the first report, else every order).
    adopt_unknown : bool
        Adopt open venue orders that tradewire does not know (else only flag them).
    max_resubmit_age_ns : int, optional
        An order never received by the venue whose ``OrderInitialized.ts_init`` is older than this
        (relative to ``ts_now``) is closed with ``OrderRejected`` (``not_sent`` / ``rejected_stale``)
        instead of being listed for resubmission. Default: always list it.

    Returns
    -------
    ReconciliationResult
        See the module docstring for the actions.
    """
    rec = _Reconciler(state, account_id, ts_now)
    order_reports = list(order_reports)
    fill_reports = sorted(fill_reports, key=lambda f: (f.ts_event, str(f.trade_id)))
    if venue is None:
        first = order_reports[0] if order_reports else fill_reports[0] if fill_reports else None
        venue = str(first.instrument_id.venue) if first is not None else None

    # 1. orders: adopt unknown ones first so their fills have an order to land on
    reported: dict[str, OrderStatusReport] = {}
    for r in order_reports:
        order = rec.find(r.client_order_id, r.venue_order_id)
        if order is None:
            order = rec.adopt(r, adopt_unknown)
        if order is not None:
            reported[str(order.client_order_id)] = r
            if r.venue_order_id is not None:  # an order never acknowledged here: its fills carry this id
                rec.by_venue_id.setdefault(str(r.venue_order_id), order)

    # 2. fills the store does not have
    for f in fill_reports:
        if (str(f.instrument_id), str(f.trade_id)) in state.fill_keys:
            continue
        order = rec.find(f.client_order_id, f.venue_order_id)
        if order is None:
            rec.note("missing_fill", "flagged", f"venue fill {f.trade_id} of unknown order {f.venue_order_id}",
                     instrument_id=f.instrument_id, venue_order_id=f.venue_order_id)  # fmt: skip
            continue
        rec.apply_fill(f, order)

    # 3. status differences
    for coid, r in reported.items():
        order = state.orders[ClientOrderId(coid)]
        if order.filled_qty.raw != r.filled_qty.raw:
            rec.note("order_status", "flagged", f"filled {order.filled_qty} locally, {r.filled_qty} at the venue "
                     "after applying every reported fill", order)  # fmt: skip
        if order.is_closed:
            continue
        if r.order_status in _VENUE_OPEN:
            if order.status in (OrderStatus.SUBMITTED, OrderStatus.INITIALIZED):
                rec.accept(order, r.venue_order_id, r.ts_accepted)
                rec.note("order_status", "applied", f"open at the venue ({r.order_status}), acknowledged", order)
        elif r.order_status in _CLOSE_EVENT:
            cls = _CLOSE_EVENT[r.order_status]
            base = (order.client_order_id, order.strategy_id, order.instrument_id, r.ts_last, ts_now)
            if cls is OrderRejected:
                ev: OrderEvent = OrderRejected(*base, reason="reconciliation: rejected at venue", account_id=account_id)
            elif cls is OrderExpired:
                ev = OrderExpired(*base, venue_order_id=r.venue_order_id)
            else:
                ev = OrderCanceled(*base, venue_order_id=r.venue_order_id, reason="reconciliation: canceled at venue")
            if order.status is OrderStatus.SUBMITTED and cls is not OrderRejected:
                rec.accept(order, r.venue_order_id, r.ts_accepted)
            rec.emit(ev)
            rec.note("order_status", "applied", f"{r.order_status} at the venue, {order.status} locally before", order)
        elif r.order_status is OrderStatus.FILLED and not order.is_closed:
            rec.note("order_status", "flagged", f"filled at the venue, {order.status} locally", order)

    # 4. local orders the venue does not know
    for order in list(state.orders.values()):
        if str(order.client_order_id) in reported or order.is_closed:
            continue
        if venue is not None and str(order.instrument_id.venue) != venue:
            continue
        if order.status is OrderStatus.SUBMITTED and not order.filled_qty.raw:
            if max_resubmit_age_ns is not None and ts_now - order.init.ts_init > max_resubmit_age_ns:
                rec.emit(OrderRejected(order.client_order_id, order.strategy_id, order.instrument_id, ts_now, ts_now,
                                       reason="reconciliation: never reached the venue, too old to send again",
                                       account_id=account_id))  # fmt: skip
                rec.note("not_sent", "rejected_stale", f"initialized {(ts_now - order.init.ts_init) // 10**9} s ago, "
                         "unknown to the venue: too old to send again", order)  # fmt: skip
                continue
            rec.result.to_resubmit.append(order)
            rec.note("not_sent", "resubmit", "recorded as submitted, unknown to the venue: send again with the same "
                     "client_order_id", order)  # fmt: skip
        elif order.is_open or order.status is OrderStatus.SUBMITTED:
            rec.emit(OrderCanceled(order.client_order_id, order.strategy_id, order.instrument_id, ts_now, ts_now,
                                   venue_order_id=order.venue_order_id,
                                   reason="reconciliation: not found at venue"))  # fmt: skip
            rec.note("order_gone", "canceled", "open locally, not known to the venue", order)

    # 5. positions
    if position_reports is not None:
        venue_net: dict[str, tuple[int, PositionReport | None]] = {}
        for p in position_reports:
            prev = venue_net.get(str(p.instrument_id), (0, None))[0]
            venue_net[str(p.instrument_id)] = (prev + p.signed_qty_raw, p)
        local_ids = {str(p.instrument_id) for p in state.positions.values()}
        if venue is not None:
            local_ids = {i for i in local_ids if i.rpartition(".")[2] == venue}
        for iid in sorted(local_ids | set(venue_net)):
            theirs, _ = venue_net.get(iid, (0, None))
            ours = sum(p.signed_qty_raw for p in state.positions.values() if str(p.instrument_id) == iid)
            if ours != theirs:
                rec.note("position_mismatch", "flagged", f"net {_q(ours)} locally, {_q(theirs)} at the venue",
                         instrument_id=iid)  # fmt: skip

    # record: events first, then what was found, all durably
    if rec.result.inferred_events or rec.result.discrepancies:
        store.append_many([*rec.result.inferred_events, *rec.result.discrepancies], durable=True)
    return rec.result


def _q(raw: int) -> str:
    sign = "-" if raw < 0 else ""
    return sign + str(Quantity.from_raw(abs(raw), 9).as_decimal().normalize())


__all__ = ["EXTERNAL_STRATEGY", "ReconciliationResult", "reconcile"]
