"""Crash test: SIGKILL a node with a high order rate at random moments, restart, check nothing is lost or doubled.

After the kills, one clean run recovers and reconciles; then every venue fill must be in the store
exactly once, the store's positions must equal the venue's exactly, no client_order_id may have
reached the venue twice as a new order, and the event sequence must have no holes.
(``benchmarks/crash.py`` runs the same with 200 kills.)
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

NODE = Path(__file__).with_name("crash_node.py")


def run_crash_cycles(db_url: str, workdir: Path, kills: int, seed: int = 7) -> dict:
    """Run ``kills`` kill/restart cycles then a clean reconciling run; return the check figures.

    Raises
    ------
    AssertionError
        On any lost or doubled fill, position difference, double submission or sequence hole.
    """
    from tradewire.persistence import open_store
    from tradewire.persistence.recovery import recover

    sys.path.insert(0, str(NODE.parent))
    import crash_node

    journal = workdir / "venue.jsonl"
    rng = random.Random(seed)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for k in range(kills):
        p = subprocess.Popen([sys.executable, str(NODE), db_url, str(journal), "--seed", str(k)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
        # the node needs ~0.5-1.5 s to import and recover on a loaded machine;
        # kill anywhere from start-up to mid-trading
        time.sleep(rng.uniform(0.6, 2.2))
        p.send_signal(signal.SIGKILL)
        _, err = p.communicate(timeout=30)
        assert p.returncode in (-signal.SIGKILL, 0), f"node failed on cycle {k}: {err.decode()[-2000:]}"
    final = subprocess.run([sys.executable, str(NODE), db_url, str(journal), "--orders", "0"], env=env,
                           capture_output=True, timeout=120, text=True)  # fmt: skip
    assert final.returncode == 0, final.stderr[-2000:]

    venue = crash_node.JournalVenue(str(journal))
    lines = [json.loads(x) for x in journal.read_text().splitlines()]
    news = Counter(r["coid"] for r in lines if r["t"] == "new")
    dups = [r for r in lines if r["t"] == "dup"]
    store = open_store(db_url)
    try:
        seqs = [e.seq for e in store.read()]
        fills = Counter(
            (str(e.record.instrument_id), str(e.record.trade_id)) for e in store.read(kinds=["OrderFilled"])
        )
        state = recover(store, {crash_node.INST.id: crash_node.INST})
    finally:
        store.close()
    venue_fills = {(str(crash_node.INST.id), f["trade"]) for f in venue.fills}
    assert seqs == list(range(1, len(seqs) + 1)), "event sequence has holes"
    assert set(fills) == venue_fills, f"missing {venue_fills - set(fills)}, extra {set(fills) - venue_fills}"
    assert all(n == 1 for n in fills.values()), [k for k, n in fills.items() if n > 1]
    assert all(n == 1 for n in news.values()) and not dups, f"sent twice: {dups[:5]}"
    assert state.net_qty_raw(crash_node.INST.id) == venue.net_raw()
    assert not state.anomalies, state.anomalies[:5]
    assert not [o for o in state.orders.values() if not o.is_closed], "orders left open/in flight"
    inferred = sum(1 for o in state.orders.values() for e in o.events if getattr(e, "inferred", False))
    return {"kills": kills, "venue_fills": len(venue_fills), "events": len(seqs), "orders": len(news),
            "inferred_fills": inferred}  # fmt: skip


@pytest.mark.slow
def test_crash_recovery_30_kills(tmp_path):
    figures = run_crash_cycles(f"sqlite:///{tmp_path / 'node.db'}", tmp_path, kills=30)
    assert figures["venue_fills"] > 30  # the node really traded between kills
