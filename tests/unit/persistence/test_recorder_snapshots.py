"""EventRecorder's coalescing of derived snapshots (AccountState, PositionChanged) with ``snapshot_interval_ms``."""

from __future__ import annotations

from decimal import Decimal

import pytest
from persistence_factories import ACC, IID, SID, T0, init

from tradewire.core.bus import MessageBus
from tradewire.execution.reports import AccountState
from tradewire.model import AccountId, OrderSubmitted, PositionId, PositionSide
from tradewire.model.objects import USDT, Money
from tradewire.persistence import EventRecorder
from tradewire.portfolio.events import PositionChanged, PositionClosed, PositionOpened

MS = 1_000_000


class _Store:
    """Records what the recorder appends, in order, with the durable flag."""

    def __init__(self) -> None:
        self.appended: list[tuple[object, bool]] = []

    def append(self, record: object, *, durable: bool = False) -> None:
        self.appended.append((record, durable))

    def flush(self) -> None:
        pass

    def records(self) -> list[object]:
        return [r for r, _ in self.appended]


class _Clock:
    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


def _account(total: str, account: AccountId = ACC, ts: int = T0) -> AccountState:
    m = Money(total, USDT)
    return AccountState(account, {"USDT": (m, Money(0, USDT), m)}, ts, ts)


def _pos(cls: type, qty: str, pid: str = "P-1", ts: int = T0):
    side = PositionSide.FLAT if qty == "0" else PositionSide.LONG
    zero = Money(0, USDT)
    return cls(PositionId(pid), IID, SID, side, Decimal(qty), None, zero, zero, ts, ts)


def _setup(interval_ms: float):
    store, bus, clock = _Store(), MessageBus(), _Clock()
    rec = EventRecorder(store, bus, snapshot_interval_ms=interval_ms, clock=clock)  # type: ignore[arg-type]
    return store, bus, clock, rec


def test_without_an_interval_every_snapshot_is_recorded():
    store, bus, _clock, _rec = _setup(0)
    states = [_account(str(1000 + i)) for i in range(3)]
    for s in states:
        bus.publish(f"events.account.{ACC}", s)
    assert store.records() == states


def test_snapshots_within_the_interval_are_held_and_the_latest_is_recorded_once_it_passes():
    store, bus, clock, rec = _setup(100)
    a1, a2, a3 = _account("1"), _account("2"), _account("3")
    bus.publish(f"events.account.{ACC}", a1)  # the first one after a quiet interval: at once
    clock.now = 10 * MS
    bus.publish(f"events.account.{ACC}", a2)
    clock.now = 20 * MS
    bus.publish(f"events.account.{ACC}", a3)  # replaces a2, which is never recorded
    assert store.records() == [a1] and rec.coalesced == 1
    clock.now = 99 * MS
    assert rec.tick() == 0 and store.records() == [a1]
    clock.now = 100 * MS
    assert rec.tick() == 1 and store.records() == [a1, a3]
    assert rec.tick() == 0  # nothing held any more
    clock.now = 150 * MS
    a4 = _account("4")
    bus.publish(f"events.account.{ACC}", a4)  # 50 ms after a3 was recorded: held
    assert store.records() == [a1, a3]
    clock.now = 250 * MS
    a5 = _account("5")
    bus.publish(f"events.account.{ACC}", a5)  # the interval passed: recorded at once, a4 superseded
    assert store.records() == [a1, a3, a5]
    assert rec.tick() == 0


def test_each_account_and_position_has_its_own_interval():
    store, bus, _clock, _rec = _setup(100)
    other = AccountId("OTHER-001")
    a, b = _account("1"), _account("2", account=other)
    p1, p2 = _pos(PositionChanged, "1", "P-1"), _pos(PositionChanged, "2", "P-2")
    for topic, r in ((f"events.account.{ACC}", a), (f"events.account.{other}", b),
                     (f"events.position.{SID}", p1), (f"events.position.{SID}", p2)):  # fmt: skip
        bus.publish(topic, r)
    assert store.records() == [a, b, p1, p2]


def test_a_held_position_change_is_recorded_before_the_close_of_its_position():
    store, bus, clock, _rec = _setup(100)
    opened = _pos(PositionOpened, "1")
    c1, c2 = _pos(PositionChanged, "2"), _pos(PositionChanged, "3")
    other = _pos(PositionChanged, "5", pid="P-9")
    bus.publish(f"events.position.{SID}", opened)
    bus.publish(f"events.position.{SID}", c1)  # first change of P-1: at once
    bus.publish(f"events.position.{SID}", other)
    clock.now = 5 * MS
    bus.publish(f"events.position.{SID}", c2)  # held
    other2 = _pos(PositionChanged, "6", pid="P-9")
    bus.publish(f"events.position.{SID}", other2)  # held (P-9)
    closed = _pos(PositionClosed, "0")
    bus.publish(f"events.position.{SID}", closed)
    assert store.records() == [opened, c1, other, c2, closed]  # P-9's held change stays held
    assert other2 not in store.records()
    clock.now = 200 * MS
    assert _rec.tick() == 1 and store.records()[-1] is other2


def test_flush_and_detach_record_what_is_held():
    store, bus, clock, rec = _setup(1000)
    a1, a2 = _account("1"), _account("2")
    bus.publish(f"events.account.{ACC}", a1)
    clock.now = 1 * MS
    bus.publish(f"events.account.{ACC}", a2)
    assert store.records() == [a1]
    assert rec.flush_snapshots() == 1 and store.records() == [a1, a2]
    clock.now = 2 * MS
    a3 = _account("3")
    bus.publish(f"events.account.{ACC}", a3)
    rec.detach()
    assert store.records() == [a1, a2, a3]
    bus.publish(f"events.account.{ACC}", _account("4"))  # unsubscribed
    assert store.records() == [a1, a2, a3]


def test_order_events_are_never_coalesced_and_keep_their_durability():
    store, bus, clock, _rec = _setup(1000)
    order = init("O-1")
    sub = OrderSubmitted(order.client_order_id, order.strategy_id, order.instrument_id, 1, 1)
    for _ in range(2):
        bus.publish(f"events.order.{order.strategy_id}", order)
        bus.publish(f"events.order.{order.strategy_id}", sub)
    assert store.appended == [(order, True), (sub, True), (order, True), (sub, True)]


def test_a_negative_interval_is_refused():
    with pytest.raises(ValueError, match="snapshot_interval_ms must be >= 0"):
        EventRecorder(_Store(), MessageBus(), snapshot_interval_ms=-1)  # type: ignore[arg-type]
