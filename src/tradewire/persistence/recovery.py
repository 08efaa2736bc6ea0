"""Recovery on start: rebuild orders and positions from the event store.

Orders are rebuilt exactly as they were built live: ``Order.from_init`` on the ``OrderInitialized``
event, then ``Order.apply`` of every later event of that ``client_order_id`` in sequence order. A
second ``OrderInitialized`` with the same id is the release of a locally emulated order (the
ExecutionEngine's convention): the order continues from the new specification, history kept.

Positions are rebuilt from the fills that the orders accepted (a fill that an order refused, e.g. a
duplicate ``trade_id``, does not move a position), with `tradewire.model.Position` exact accounting.
The position id is the fill's ``position_id`` when set, else ``<instrument_id>-<strategy_id>``
(netting). An event that cannot be applied is not skipped silently: it is listed in
:attr:`RecoveredState.anomalies` with its sequence number.

The rebuilt state feeds the node: ``ExecutionEngine.restore(state.order_event_streams())`` rebuilds
the cache and the portfolio, then :func:`tradewire.persistence.reconciliation.reconcile` compares
with the venue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tradewire.model.events import ORDER_EVENT_TYPES, OrderDenied, OrderEvent, OrderFilled, OrderInitialized
from tradewire.model.identifiers import ClientOrderId, InstrumentId, PositionId
from tradewire.model.instruments import Instrument
from tradewire.model.orders import InvalidStateTransition, Order
from tradewire.model.position import Position
from tradewire.persistence.store import EventStore

_RECOVERY_KINDS = (*ORDER_EVENT_TYPES, "Instrument")  # the only rows recovery decodes


class RecoveryError(RuntimeError):
    """The store cannot be turned into a consistent state (e.g. a fill for an undefined instrument)."""


@dataclass(slots=True)
class RecoveredState:
    """Orders, positions and bookkeeping rebuilt from the log.

    Attributes
    ----------
    orders : dict[ClientOrderId, Order]
        Every order, in the order first seen.
    positions : dict[PositionId, Position]
        Every position that ever had a fill (flat ones included).
    instruments : dict[InstrumentId, Instrument]
        Those given, plus those recorded in the store.
    fill_keys : set[tuple[str, str]]
        ``(instrument_id, trade_id)`` of every fill applied.
    last_seq : int
        Highest sequence number of an order event or instrument read.
    anomalies : list[str]
        Events that could not be applied, as ``"seq N: <reason>"``.
    denied_before_oms : set[ClientOrderId]
        Orders the risk engine denied before the OMS stored them (an ``OrderDenied`` with no
        ``OrderInitialized``): a legitimate record, not an anomaly.
    """

    orders: dict[ClientOrderId, Order] = field(default_factory=dict)
    positions: dict[PositionId, Position] = field(default_factory=dict)
    instruments: dict[InstrumentId, Instrument] = field(default_factory=dict)
    fill_keys: set[tuple[str, str]] = field(default_factory=set)
    last_seq: int = 0
    anomalies: list[str] = field(default_factory=list)
    denied_before_oms: set[ClientOrderId] = field(default_factory=set)

    def order_event_streams(self) -> list[list[OrderEvent]]:
        """Per order, its events in order (the input of ``ExecutionEngine.restore``)."""
        return [list(o.events) for o in self.orders.values()]

    def open_orders(self) -> list[Order]:
        """Orders working at the venue (accepted, triggered, partially filled, pending)."""
        return [o for o in self.orders.values() if o.is_open]

    def net_qty_raw(self, instrument_id: InstrumentId) -> int:
        """Signed net position (raw, scale 1e9) over all strategies of ``instrument_id``."""
        return sum(p.signed_qty_raw for p in self.positions.values() if p.instrument_id == instrument_id)

    # -- applying ----------------------------------------------------------------------------
    def apply(self, event: OrderEvent, seq: int = 0) -> bool:
        """Apply one order event to the rebuilt state; return False (and record why) if refused."""
        coid = event.client_order_id
        order = self.orders.get(coid)
        try:
            if isinstance(event, OrderInitialized):
                if order is None:
                    self.orders[coid] = Order.from_init(event)
                else:  # release of an emulated order: continue from the new spec, keep history
                    released = Order.from_init(event)
                    released.events = [*order.events, event]
                    self.orders[coid] = released
                return True
            if order is None:
                if isinstance(event, OrderDenied):  # denied by risk before it reached the OMS
                    self.denied_before_oms.add(coid)
                    return False
                self.anomalies.append(f"seq {seq}: {type(event).__name__} for unknown order {coid}")
                return False
            order.apply(event)
        except (InvalidStateTransition, ValueError) as exc:
            self.anomalies.append(f"seq {seq}: {exc}")
            return False
        if isinstance(event, OrderFilled):
            self._book_fill(event, seq)
        return True

    def _book_fill(self, fill: OrderFilled, seq: int) -> None:
        inst = self.instruments.get(fill.instrument_id)
        if inst is None:
            raise RecoveryError(
                f"seq {seq}: fill {fill.trade_id} of {fill.client_order_id} for instrument {fill.instrument_id}, "
                "which is neither given nor recorded in the store: positions cannot be computed exactly"
            )
        pid = fill.position_id or PositionId(f"{fill.instrument_id}-{fill.strategy_id}")
        pos = self.positions.get(pid)
        if pos is None:
            pos = Position(pid, inst.id, fill.strategy_id, inst.multiplier.raw, inst.settlement_currency,
                           inst.size_precision)  # fmt: skip
            self.positions[pid] = pos
        pos.apply(fill)
        self.fill_keys.add((str(fill.instrument_id), str(fill.trade_id)))


def recover(store: EventStore, instruments: Mapping[InstrumentId, Instrument] | None = None) -> RecoveredState:
    """Rebuild orders and positions from every order event in ``store``.

    Parameters
    ----------
    store : EventStore
    instruments : mapping, optional
        Instrument definitions (multiplier, settlement currency) for position accounting. Instruments
        recorded in the store (``Instrument`` records) are used for the others; a given definition
        wins over a stored one.

    Returns
    -------
    RecoveredState

    Raises
    ------
    RecoveryError
        If a fill's instrument is defined nowhere.
    SerializationError
        If a stored row does not decode (names its seq).
    """
    state = RecoveredState(instruments=dict(instruments or {}))
    for ev in store.read(kinds=_RECOVERY_KINDS):
        rec = ev.record
        state.last_seq = ev.seq
        if isinstance(rec, OrderEvent):
            state.apply(rec, ev.seq)
        elif isinstance(rec, Instrument):
            state.instruments.setdefault(rec.id, rec)
    return state


__all__ = ["RecoveredState", "RecoveryError", "recover"]
