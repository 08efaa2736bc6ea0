"""Handled intents are marked in batches when a placed check can tell, after a restart, which were placed;
a recovered intent whose orders were recorded before the restart is not sent again."""

from __future__ import annotations

import pytest

from tradewire.signals.marks import DispatchMarks


class _Store:
    def __init__(self) -> None:
        self.marked: list[list[str]] = []

    def mark_dispatched(self, keys: list[str]) -> None:
        self.marked.append(keys)


def test_marks_are_due_by_age_or_by_count(monkeypatch):
    from tradewire.signals import marks

    now = [0]
    monkeypatch.setattr(marks.time, "monotonic_ns", lambda: now[0])
    store = _Store()
    m = DispatchMarks(store, interval_s=0.05, max_keys=3)
    assert not m.due() and m.flush() == 0 and store.marked == []  # nothing waiting: no store call
    m.add(["a"])
    now[0] = 49_999_999
    m.add(["b"])
    assert not m.due()
    now[0] = 50_000_000  # the oldest key has waited the interval
    assert m.due()
    assert m.flush() == 2 and store.marked == [["a", "b"]] and len(m) == 0
    m.add(["c", "d", "e"])  # max_keys waiting: due at once
    assert m.due()


def test_a_failing_barrier_keeps_the_keys_waiting():
    store = _Store()
    m = DispatchMarks(store, interval_s=0)

    def fail() -> None:
        raise RuntimeError("not durable")

    m.add(["a"])
    with pytest.raises(RuntimeError, match="not durable"):
        m.flush(fail)
    assert store.marked == [] and len(m) == 1
    assert m.flush(lambda: None) == 1 and store.marked == [["a"]]


@pytest.mark.parametrize(("interval", "keys"), [(-1.0, 1), (0.1, 0)])
def test_bad_settings_are_refused(interval, keys):
    with pytest.raises(ValueError):
        DispatchMarks(_Store(), interval_s=interval, max_keys=keys)


def test_with_a_placed_check_the_marks_wait_for_their_interval(tv):
    h = tv.make()
    svc = h.service
    store = svc._store
    svc.placed_check = lambda ids: False
    svc._marks.interval_ns = 10**15  # never due by age in this test
    barriers: list[int] = []
    svc.durability_barrier = lambda: barriers.append(1)
    for i in range(3):
        assert h.post(tv.alert(alert_id=f"d-{i}")).status_code == 202
    assert svc.drain() == 3 and len(h.commands) == 3
    assert len(store.undispatched()) == 3 and barriers == []  # sent, marks deferred
    assert svc.flush_dispatched(due_only=True) == 0
    assert svc.flush_dispatched() == 3
    assert store.undispatched() == [] and barriers == [1]  # durable first, then marked in one batch


def test_without_a_placed_check_every_drain_marks_at_once(tv):
    h = tv.make()
    assert h.post(tv.alert(alert_id="x")).status_code == 202
    assert h.service.drain() == 1
    assert h.service._store.undispatched() == []


def _crash_after_send(h, tv):
    """An alert sent to the engine whose handled mark was never written (the process died in between)."""
    h.service.placed_check = lambda ids: False
    h.service._marks.interval_ns = 10**15
    r = h.post(tv.alert(action="buy", quantity="0.01", alert_id="sent-then-crash"))
    assert r.status_code == 202 and h.service.drain() == 1 and len(h.commands) == 1
    assert len(h.service._store.undispatched()) == 1
    return r.body["client_order_ids"]


def test_a_recovered_intent_whose_orders_were_recorded_is_not_sent_again(tv, tmp_path):
    h = tv.make()
    ids = _crash_after_send(h, tv)
    home = next(p for p in tmp_path.iterdir() if (p / "webhook.sqlite").exists())
    asked: list[tuple[str, ...]] = []
    svc, commands = tv.restart(h, home, tv.T0_NS + 10**9, placed_check=lambda i: asked.append(i) or True)
    assert svc.recovered == 1
    assert svc.drain() == 1 and commands == []  # not sent a second time
    assert asked == [tuple(ids)]
    rec = svc.recent_alerts(1)[0]
    assert (rec.outcome, rec.reason) == ("submitted", "placed before the restart; not sent again")
    svc.flush_dispatched()
    assert svc._store.undispatched() == []


def test_a_recovered_intent_whose_orders_are_unknown_is_sent(tv, tmp_path):
    h = tv.make()
    ids = _crash_after_send(h, tv)
    home = next(p for p in tmp_path.iterdir() if (p / "webhook.sqlite").exists())
    svc, commands = tv.restart(h, home, tv.T0_NS + 10**9, placed_check=lambda i: False)
    assert svc.drain() == 1
    assert [str(c.order.client_order_id) for c in commands] == ids[:1]


def test_a_failing_placed_check_sends_nothing_and_leaves_the_intent_for_the_next_start(tv, tmp_path):
    h = tv.make()
    _crash_after_send(h, tv)
    home = next(p for p in tmp_path.iterdir() if (p / "webhook.sqlite").exists())

    def broken(ids):
        raise OSError("database is locked")

    svc, commands = tv.restart(h, home, tv.T0_NS + 10**9, placed_check=broken)
    assert svc.drain() == 1 and commands == []
    svc.flush_dispatched()
    assert len(svc._store.undispatched()) == 1  # still there for the next start
    rec = svc.recent_alerts(1)[0]
    assert rec.outcome == "failed" and "could not check" in rec.reason
