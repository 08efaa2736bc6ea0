"""`EventRecorder`: what of the bus goes into the event log, and how durably.

Order events go in one by one, the intents among them (:data:`DURABLE_KINDS`) committed before the venue gets
the order (see :mod:`tradewire.persistence.store`). Account and position snapshots can be coalesced: they are
derived from the fills (recovery and the read models rebuild positions and balances from the order events
alone, :mod:`tradewire.persistence.recovery`), so with ``snapshot_interval_ms`` the log keeps at most one
``AccountState`` per account and one ``PositionChanged`` per position per interval, always the latest, and never
drops the last one.
"""

from __future__ import annotations

import time
from typing import Any

from tradewire.persistence.serialization import is_registered, register
from tradewire.persistence.store import DURABLE_KINDS, EventStore

COALESCED_KINDS: dict[str, str] = {"AccountState": "account_id", "PositionChanged": "position_id"}
"""Snapshot record types that ``snapshot_interval_ms`` coalesces, and the attribute that keys them."""


class EventRecorder:
    """Subscribe an :class:`EventStore` to the bus topics whose messages belong in the log.

    Topics: ``events.order.*`` (order events and fills), ``events.position.*``, ``events.account.*``,
    ``events.risk``, ``events.alert*`` and ``events.orderflow.*`` (order-flow signals). Record types in
    :data:`DURABLE_KINDS` are appended with ``durable=True``; a record type that is not registered yet is
    registered on first sight when it is a dataclass from a ``tradewire`` package (e.g. the risk engine's
    events).

    The ExecutionEngine must publish ``OrderSubmitted`` before calling the venue client for the
    "nothing sent that is not recorded" rule to hold through this recorder.

    Parameters
    ----------
    store : EventStore
        Where records go.
    bus : MessageBus
        Whose topics are recorded.
    defer_initialized : bool
        Append ``OrderInitialized`` without waiting for its commit; it becomes durable with the next durable
        record (the order's own ``OrderSubmitted``, committed in the same transaction or after it: the store
        commits in append order) or at the latest at :meth:`barrier`. The rule above still holds: a venue gets
        an order only after its ``OrderSubmitted`` is durable, and with it the ``OrderInitialized``. An order
        that is held or emulated (no ``OrderSubmitted`` yet) is durable once the engine loop calls
        :meth:`barrier`, which it must do before it acts on the next input. Saves one commit per order on the
        engine thread (default False: every ``OrderInitialized`` waits for its own commit).
    snapshot_interval_ms : float
        0 (default): every ``AccountState`` and ``PositionChanged`` is recorded. Above 0: per account (per
        position), the first snapshot after a quiet interval is recorded at once and later ones within
        ``snapshot_interval_ms`` of the last recorded one are held, each replacing the one held before; the
        held one is recorded by :meth:`tick` once the interval has passed, before a ``PositionOpened`` or
        ``PositionClosed`` of its position, and by :meth:`flush_snapshots`/:meth:`detach`. So the log has the
        latest snapshot at most one interval late, and each record still carries its own ``ts_event``.
        Under a stream of fills this saves encoding and storing two derived records per fill (about 90 us of
        the engine thread per fill, measured).
    clock : callable
        Monotonic ns for the interval (default ``time.monotonic_ns``).

    Raises
    ------
    ValueError
        If ``snapshot_interval_ms`` is negative.
    """

    TOPICS = (
        "events.order.*", "events.position.*", "events.account.*", "events.risk", "events.alert*",
        "events.orderflow.*",
    )  # fmt: skip

    def __init__(
        self, store: EventStore, bus, defer_initialized: bool = False, snapshot_interval_ms: float = 0.0,
        clock=time.monotonic_ns,
    ) -> None:  # fmt: skip
        if not snapshot_interval_ms >= 0:
            raise ValueError(f"snapshot_interval_ms must be >= 0, got {snapshot_interval_ms!r}")
        self.store = store
        self.bus = bus
        self.defer_initialized = defer_initialized
        self.deferred = 0  # OrderInitialized records appended but perhaps not committed yet
        self._interval_ns = int(snapshot_interval_ms * 1_000_000)
        self._clock = clock
        self._last: dict[tuple[str, str], int] = {}  # (kind, key) -> clock of its last recorded snapshot
        self._held: dict[tuple[str, str], Any] = {}  # (kind, key) -> the latest snapshot not recorded yet
        self.coalesced = 0  # snapshots replaced by a later one before they were recorded
        for t in self.TOPICS:
            bus.subscribe(t, self.on_event, priority=100)

    def on_event(self, record: Any) -> None:
        """Append one bus message (durably for :data:`DURABLE_KINDS`, see ``defer_initialized`` and
        ``snapshot_interval_ms``)."""
        cls = type(record)
        if not is_registered(cls) and cls.__module__.startswith("tradewire."):
            register(cls)
        name = cls.__name__
        if name in DURABLE_KINDS:
            if self.defer_initialized and name == "OrderInitialized":
                self.store.append(record)
                self.deferred += 1
                return
            self.store.append(record, durable=True)
            self.deferred = 0  # committed with everything appended before it
            return
        if self._interval_ns:
            attr = COALESCED_KINDS.get(name)
            if attr is not None:
                self._snapshot(name, str(getattr(record, attr)), record)
                return
            if self._held and name in ("PositionOpened", "PositionClosed"):
                held = self._held.pop(("PositionChanged", str(record.position_id)), None)
                if held is not None:  # the position's lifecycle stays in order in the log
                    self.store.append(held)
        self.store.append(record)

    def _snapshot(self, kind: str, key: str, record: Any) -> None:
        k = (kind, key)
        now = self._clock()
        last = self._last.get(k)
        if last is None or now - last >= self._interval_ns:
            self._held.pop(k, None)  # superseded by this newer one
            self._last[k] = now
            self.store.append(record)
            return
        if self._held.get(k) is not None:
            self.coalesced += 1
        self._held[k] = record

    def tick(self) -> int:
        """Record the held snapshots whose interval has passed; call it from the engine loop. Returns how many."""
        if not self._held:
            return 0
        now = self._clock()
        due = [k for k in self._held if now - self._last.get(k, now) >= self._interval_ns]
        for k in due:
            self._last[k] = now
            self.store.append(self._held.pop(k))
        return len(due)

    def flush_snapshots(self) -> int:
        """Record every held snapshot now (e.g. before stopping). Returns how many."""
        held, self._held = self._held, {}
        now = self._clock()
        for k, rec in held.items():
            self._last[k] = now
            self.store.append(rec)
        return len(held)

    def barrier(self) -> None:
        """Return once every deferred ``OrderInitialized`` is committed (at once when there is none).

        Raises
        ------
        StoreError
            If the commit fails.
        """
        if self.deferred:
            self.store.flush()
            self.deferred = 0

    def detach(self) -> None:
        """Record the held snapshots and unsubscribe from the bus."""
        self.flush_snapshots()
        for t in self.TOPICS:
            self.bus.unsubscribe(t, self.on_event)


__all__ = ["COALESCED_KINDS", "EventRecorder"]
