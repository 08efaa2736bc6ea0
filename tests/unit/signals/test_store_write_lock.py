"""A file idempotency store runs one statement at a time from the process (threads wait on a lock, not in
SQLite's busy handler)."""

from __future__ import annotations

import threading

from tradewire.signals.idempotency import SqlIdempotencyStore


def test_a_second_writer_waits_on_the_store_lock_and_runs_as_soon_as_it_is_free(tmp_path):
    store = SqlIdempotencyStore(tmp_path / "w.sqlite")
    try:
        assert store.claim_accept("k1", "tv", 1, 10**18, 202, {"ok": 1}, "{}") is None
        done = threading.Event()

        def mark() -> None:
            store.mark_dispatched(["k1"])
            done.set()

        with store._lock:  # e.g. the event loop's claim in progress
            t = threading.Thread(target=mark)
            t.start()
            assert not done.wait(0.2)  # the engine's mark waits for it
        assert done.wait(5)  # and runs once it is free
        t.join()
        assert store.undispatched() == []
    finally:
        store.close()
