"""Garbage collection during a backtest replay (``tradewire.node.backtest._ReplayGc``)."""

from __future__ import annotations

import functools
import gc
import weakref

import pytest

from tradewire.node import backtest
from tradewire.node.backtest import _ReplayGc
from tradewire.strategy.base import Strategy
from tradewire.strategy.examples.sma_cross import SmaCross

from .test_bar_replay import BT, _bars, _engine


class _Node:
    """A reference cycle (``self.me = self``) that only the cyclic collector can free."""

    def __init__(self) -> None:
        self.me = self


def _allocate_live(n: int) -> list[list[int]]:
    return [[i] for i in range(n)]


@pytest.fixture
def policy():
    p = _ReplayGc(young=500, resample=4)
    gc.collect()  # the young count starts from zero, whatever earlier tests in this process allocated
    p.start()
    try:
        yield p
    finally:
        p.stop()


def test_a_checkpoint_frees_cycles_and_freezes_the_survivors(policy):
    frozen = gc.get_freeze_count()
    garbage = [_Node() for _ in range(300)]
    refs = [weakref.ref(x) for x in garbage]
    del garbage
    keep = _allocate_live(600)
    assert all(r() is not None for r in refs)  # automatic collection is off during the replay
    policy.checkpoint()
    assert policy.scans == 1 and policy.quiet == 0
    assert all(r() is None for r in refs)
    assert gc.get_count()[0] < 10 and gc.get_freeze_count() >= frozen + len(keep)


def test_below_the_young_count_a_checkpoint_does_nothing(policy):
    frozen = gc.get_freeze_count()
    keep = _allocate_live(100)
    policy.checkpoint()
    # nothing frozen (the count may drop: frozen objects that other code releases leave the permanent generation)
    assert (policy.scans, policy.freezes) == (0, 0) and gc.get_freeze_count() <= frozen and keep


def test_quiet_scans_give_way_to_freezing_and_scans_resume_every_resample_checkpoints(policy):
    keep = []
    kinds = []
    for _ in range(9):
        keep.append(_allocate_live(600))
        scans, freezes = policy.scans, policy.freezes
        policy.checkpoint()
        kinds.append("scan" if policy.scans > scans else "freeze" if policy.freezes > freezes else "none")
    # two quiet scans, then (resample=4) three freezes per scan
    assert kinds == ["scan", "scan", "freeze", "freeze", "freeze", "scan", "freeze", "freeze", "freeze"]


def test_garbage_found_again_brings_back_a_scan_at_every_checkpoint(policy):
    keep = []
    for _ in range(3):  # scan, scan, freeze
        keep.append(_allocate_live(600))
        policy.checkpoint()
    assert policy.freezes == 1
    for _ in range(3):  # freeze, freeze, then the resample scan finds the cycles made since the last freeze
        keep.append(_allocate_live(600))
        cycles = [_Node() for _ in range(10)]
        del cycles
        policy.checkpoint()
    assert policy.quiet == 0
    scans = policy.scans
    keep.append(_allocate_live(600))
    policy.checkpoint()
    assert policy.scans == scans + 1  # no freeze-only checkpoint right after garbage was found


def test_stop_restores_the_collector():
    before = (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count())
    p = _ReplayGc(young=10)
    p.start()
    assert not gc.isenabled()
    keep = _allocate_live(50)
    p.checkpoint()
    p.stop()
    assert (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count()) == before and keep


class _CycleMaker(Strategy):
    """Leaves one reference cycle per bar; records how many were alive at most."""

    def __init__(self) -> None:
        super().__init__("cycles-001")
        self.alive: weakref.WeakSet[_Node] = weakref.WeakSet()
        self.max_alive = 0

    def on_start(self) -> None:
        self.subscribe_bars(BT)

    def on_bar(self, bar) -> None:
        self.alive.add(_Node())
        self.max_alive = max(self.max_alive, len(self.alive))


def test_a_strategy_that_makes_cycles_has_them_collected_during_the_run(monkeypatch):
    monkeypatch.setattr(backtest, "_ReplayGc", functools.partial(_ReplayGc, young=400, resample=4))
    monkeypatch.setattr(backtest, "_GC_CHUNK", 100)
    e = _engine()
    e.add_data(_bars(3000))
    s = _CycleMaker()
    e.add_strategy(s)
    e.run()
    # without collection during the run all 3,000 would be alive at the end
    assert s.max_alive < 1000


def test_results_and_progress_do_not_depend_on_the_checkpoints(monkeypatch):
    bars = _bars(2000)
    runs = []
    for tune, chunk in ((False, 16_384), (True, 16_384), (True, 7)):
        monkeypatch.setattr(backtest, "_GC_CHUNK", chunk)
        e = _engine()
        e.tune_gc = tune
        e.add_data(bars)
        e.add_strategy(SmaCross("sma-001", {"bar_type": BT, "fast": 10, "slow": 30, "quantity": "1"}))
        calls: list[tuple[int, int]] = []
        res = e.run(progress=lambda done, total, calls=calls: calls.append((done, total)), progress_every=300)
        runs.append((res.summary["fills"], res.summary["total_pnl"], list(res.equity_curve), calls))
    assert runs[0][0] > 10
    assert runs[0] == runs[1] == runs[2]
    assert runs[0][3] == [(i, 2000) for i in range(0, 2000, 300)] + [(2000, 2000)]
