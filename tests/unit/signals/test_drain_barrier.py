"""``WebhookService.durability_barrier``: what dispatching recorded is durable before intents are marked handled."""

from __future__ import annotations

import pytest


def test_barrier_runs_after_dispatch_and_before_the_mark(tv):
    h = tv.make()
    store = h.service._store
    calls: list[tuple[int, int]] = []  # (commands sent so far, intents still undispatched in the store)
    h.service.durability_barrier = lambda: calls.append((len(h.commands), len(store.undispatched())))
    for i in range(2):
        assert h.post(tv.alert(alert_id=f"a-{i}")).status_code == 202
    assert h.service.drain() == 2
    assert calls == [(2, 2)]  # once per drained batch, both orders sent, neither marked yet
    assert store.undispatched() == []


def test_a_failing_barrier_leaves_the_intents_for_recovery(tv):
    h = tv.make()
    store = h.service._store

    def fail() -> None:
        raise RuntimeError("event store commit failed")

    h.service.durability_barrier = fail
    assert h.post(tv.alert(alert_id="a-1")).status_code == 202
    with pytest.raises(RuntimeError, match="commit failed"):
        h.service.drain()
    assert len(store.undispatched()) == 1  # queued again by the next start (crash re-queue)


def test_no_barrier_when_nothing_was_drained(tv):
    h = tv.make()
    calls: list[int] = []
    h.service.durability_barrier = lambda: calls.append(1)
    assert h.service.drain() == 0
    assert calls == []
