"""Process tuning of the webhook server: collect-and-freeze rounds (``tradewire.cli.run.GcMaintenance``)."""

from __future__ import annotations

import gc
import sys
import time
import weakref

import pytest

from tradewire.cli.run import GcMaintenance, prepare_process


class _Node:
    """A weak-referenceable object to build reference cycles with."""

    other: object = None


def _cycle() -> weakref.ref:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def _in_collected_generations(obj: object) -> bool:
    return any(o is obj for o in gc.get_objects())  # generations 0-2, not the permanent one


@pytest.fixture(autouse=True)
def _restore_gc():
    interval = sys.getswitchinterval()
    yield
    gc.unfreeze()
    sys.setswitchinterval(interval)


def test_a_round_frees_new_cycles_and_freezes_the_survivors():
    gc.collect()
    dead = _cycle()  # unreachable cycle made before the round
    keep = _Node()
    keep.other = keep  # live object, tracked by the collector
    assert dead() is not None and _in_collected_generations(keep)
    maintenance = GcMaintenance()
    frozen_before = gc.get_freeze_count()
    found = maintenance.run_once()
    assert dead() is None and found >= 2
    assert not _in_collected_generations(keep)  # out of every later collection's walk
    assert gc.get_freeze_count() > frozen_before
    assert maintenance.rounds == 1 and maintenance.full_rounds == 0 and maintenance.collected == found
    assert maintenance.max_pause_ns > 0


def test_a_cycle_frozen_alive_is_freed_only_by_a_full_round():
    maintenance = GcMaintenance()
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    ref = weakref.ref(a)
    maintenance.run_once()  # frozen while alive
    del a, b
    maintenance.run_once()
    gc.collect()
    assert ref() is not None  # the documented trade-off
    maintenance.run_once(full=True)
    assert ref() is None and maintenance.full_rounds == 1


def _wait_for(predicate, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return False


def test_the_thread_runs_rounds_and_full_rounds_until_stopped():
    maintenance = GcMaintenance(0.01, full_interval_s=0.03).start()
    assert maintenance.start() is maintenance  # a second start does not add a thread
    try:
        assert _wait_for(lambda: maintenance.rounds >= 3 and maintenance.full_rounds >= 1)
    finally:
        maintenance.stop()
    assert not maintenance._thread.is_alive()
    rounds = maintenance.rounds
    time.sleep(0.05)
    assert maintenance.rounds == rounds


@pytest.mark.parametrize(("freeze", "full"), [(0, None), (-1.0, None), (0.25, 0), (0.25, -5.0)])
def test_non_positive_intervals_are_refused(freeze, full):
    with pytest.raises(ValueError, match="must be positive"):
        GcMaintenance(freeze, full)


def test_prepare_process_starts_the_rounds_unless_told_not_to():
    assert prepare_process(0.001, gc_freeze_interval_s=None) is None
    assert sys.getswitchinterval() == pytest.approx(0.001)
    maintenance = prepare_process(gc_freeze_interval_s=0.01)
    try:
        assert isinstance(maintenance, GcMaintenance) and maintenance.freeze_interval_s == 0.01
        assert _wait_for(lambda: maintenance.rounds >= 1)
    finally:
        maintenance.stop()
