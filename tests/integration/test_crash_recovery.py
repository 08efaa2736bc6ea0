"""Crash test: SIGKILL a real paper node at random moments, restart it through ``recover_node``, check the books.

The node (``crash_node.py``) is the real engine: Kernel, RiskEngine, ExecutionEngine, Portfolio and a
``PaperExecutionClient`` kept durable by ``DurablePaperVenue``, trading market and limit orders (and
cancels) on replayed real Binance BTCUSDT quotes and trades. Each cycle starts the node, which recovers
and prints ``READY``; it is killed either during start-up/recovery (about one cycle in five) or at a
random moment while trading. After the last kill a clean run recovers once more and exits. Then:

* every venue fill is in the store exactly once, with the venue's quantity, price and fee;
* the net position rebuilt from the store, the restarted node's portfolio and the venue's position
  are equal exactly;
* the venue's journal shows no client_order_id received twice as a new order, and every order the
  venue received is in the store (nothing sent unrecorded);
* every order's status and filled quantity in the store equal the venue's;
* the store's sequence numbers have no holes, and no stored event is refused by its order.

``benchmarks/crash.py`` runs the same with 200 kills.
"""

from __future__ import annotations

import json
import os
import select
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

NODE = Path(__file__).with_name("crash_node.py")
_ORDER_STATUS_CLOSED = {"filled", "canceled", "rejected", "expired"}


def _wait_for(proc: subprocess.Popen, prefix: str, timeout: float) -> str | None:
    """Read ``proc``'s stdout until a line starting with ``prefix`` (None if it exits or times out first)."""
    deadline = time.monotonic() + timeout
    buf = b""
    fd = proc.stdout.fileno()
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            return None
        buf += chunk
        for line in buf.split(b"\n")[:-1]:
            if line.startswith(prefix.encode()):
                return line.decode()
    return None


def run_crash_cycles(db_url: str, workdir: Path, kills: int, seed: int = 7, max_delay: float = 0.7,
                     early_share: float = 0.2) -> dict:  # fmt: skip
    """Run ``kills`` kill/restart cycles of the node, then a clean recovering run; check and return figures.

    Parameters
    ----------
    db_url : str
        Event store URL (fresh).
    workdir : Path
        Holds the venue journal (``venue-state/``) and the node's stderr.
    kills : int
        SIGKILLs.
    seed : int
        Seeds the kill moments (each node run gets ``--seed <cycle>`` for its strategy).
    max_delay : float
        Longest time (s) a node trades after ``READY`` before it is killed.
    early_share : float
        Share of cycles killed before ``READY`` (during start-up, recovery or resubmission).

    Returns
    -------
    dict
        Figures: kills, early kills, venue fills and orders, store events, inferred fills, resubmissions,
        discrepancies by kind/action, positions, seconds.

    Raises
    ------
    AssertionError
        On any lost, doubled or altered fill, position difference, order sent twice or unrecorded,
        status difference, sequence hole or refused event.
    """
    import random

    from sqlalchemy import select as sql_select

    from tradewire.model import ClientOrderId, Quantity
    from tradewire.persistence import open_store
    from tradewire.persistence.recovery import recover
    from tradewire.persistence.tables import events
    from tradewire.venues.paper.durable import read_journal

    sys.path.insert(0, str(NODE.parent))
    import crash_node

    state_dir = workdir / "venue-state"
    err_path = workdir / "node.stderr"
    rng = random.Random(seed)
    # node start-up is part of every cycle: cache bytecode outside the source tree instead of compiling each time
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPYCACHEPREFIX": str(workdir / "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    ready_s: list[float] = []
    early = 0
    trading_s = 0.0
    t_start = time.perf_counter()
    for k in range(kills):
        with open(err_path, "wb") as err:
            t0 = time.monotonic()
            p = subprocess.Popen([sys.executable, str(NODE), db_url, str(state_dir), "--seed", str(k)], env=env,
                                 stdout=subprocess.PIPE, stderr=err)  # fmt: skip
            if ready_s and rng.random() < early_share:
                early += 1
                time.sleep(rng.uniform(0.2, 1.0) * statistics.median(ready_s))
            else:
                line = _wait_for(p, "READY", timeout=120)
                if line is None:
                    p.kill()
                    p.wait()
                    raise AssertionError(f"cycle {k}: node exited before READY:\n{err_path.read_text()[-3000:]}")
                ready_s.append(time.monotonic() - t0)
                delay = rng.uniform(0.0, max_delay)
                time.sleep(delay)
                trading_s += delay
            p.send_signal(signal.SIGKILL)
            p.wait(timeout=30)
            p.stdout.close()
        assert p.returncode == -signal.SIGKILL, f"cycle {k}: node failed:\n{err_path.read_text()[-3000:]}"
    final = subprocess.run([sys.executable, str(NODE), db_url, str(state_dir), "--orders", "0"], env=env,
                           capture_output=True, timeout=300, text=True)  # fmt: skip
    assert final.returncode == 0, final.stderr[-3000:]
    out = {ln.split(" ", 1)[0]: json.loads(ln.split(" ", 1)[1]) for ln in final.stdout.splitlines() if " " in ln}
    seconds = time.perf_counter() - t_start

    # the venue's side, from its own journal
    _, snap, _ = read_journal(state_dir / "BINANCE.journal")
    assert snap is not None, "the venue never journaled anything"
    est = snap["engines"][str(crash_node.INST.id)]
    venue_orders = {d["client_order_id"]: d for d in est["orders"]}
    venue_fills = {f["trade_id"]: f for f in snap["fills"]}
    venue_net = int(est["position"]["signed_qty_raw"])

    store = open_store(db_url)
    try:
        with store.engine.connect() as conn:
            seqs = [r[0] for r in conn.execute(sql_select(events.c.seq).order_by(events.c.seq))]
        fills = [e.record for e in store.read(kinds=["OrderFilled"])]
        discrepancies = Counter(f"{e.record.kind}/{e.record.action}"
                                for e in store.read(kinds=["ReconciliationDiscrepancy"]))  # fmt: skip
        state = recover(store, {crash_node.INST.id: crash_node.INST})
    finally:
        store.close()

    # sequence, refused events
    assert seqs == list(range(1, len(seqs) + 1)), "event sequence has holes"
    assert not state.anomalies, state.anomalies[:5]
    # fills: exactly once, same content
    counts = Counter(str(f.trade_id) for f in fills)
    assert set(counts) == set(venue_fills), (
        f"missing {sorted(set(venue_fills) - set(counts))[:5]}, extra {sorted(set(counts) - set(venue_fills))[:5]}"
    )
    assert all(n == 1 for n in counts.values()), [t for t, n in counts.items() if n > 1][:5]
    for f in fills:
        v = venue_fills[str(f.trade_id)]
        assert (str(f.client_order_id), str(f.last_qty), str(f.last_px), str(f.commission.as_decimal())) == (
            v["client_order_id"], v["last_qty"], v["last_px"], v["commission"]), (f, v)  # fmt: skip
    # positions: store rebuild == restarted portfolio == venue == sum of venue fills
    fills_net = sum(
        Quantity.from_str(v["last_qty"]).raw * (1 if v["order_side"] == "buy" else -1) for v in venue_fills.values()
    )
    store_net = state.net_qty_raw(crash_node.INST.id)
    done = out["DONE"]
    assert store_net == done["portfolio_net_raw"] == done["venue_net_raw"] == fills_net, (store_net, done, fills_net)
    assert venue_net == store_net, (venue_net, store_net)
    # orders: received once, never unrecorded, same status and filled quantity
    received = Counter(snap["new"])
    assert all(n == 1 for n in received.values()), [c for c, n in received.items() if n > 1][:5]
    assert not snap["dup"], f"client_order_ids received again as new orders: {snap['dup'][:5]}"
    assert set(received) == set(venue_orders)
    unrecorded = [c for c in venue_orders if ClientOrderId(c) not in state.orders]
    assert not unrecorded, f"orders at the venue that the store never recorded: {unrecorded[:5]}"
    for coid, o in state.orders.items():
        v = venue_orders.get(str(coid))
        if v is None:
            assert o.is_closed, f"{coid} is {o.status} locally and unknown to the venue"
            continue
        assert (o.status.value, o.filled_qty.raw) == (v["status"], int(v["filled_raw"])), (coid, o.status, v)
    return {
        "kills": kills, "killed_before_ready": early, "venue_orders": len(venue_orders),
        "venue_fills": len(venue_fills), "store_events": len(seqs),
        "inferred_fills": sum(1 for f in fills if f.inferred),
        "resubmitted": discrepancies.get("not_sent/resubmit", 0), "discrepancies": dict(sorted(discrepancies.items())),
        "net_position_raw": store_net, "median_ready_s": round(statistics.median(ready_s), 2) if ready_s else None,
        "trading_s": round(trading_s, 1), "orders_per_trading_s": round(len(venue_orders) / trading_s, 1)
        if trading_s else None, "seconds": round(seconds, 1),
    }  # fmt: skip


@pytest.mark.slow
def test_crash_recovery_30_kills(tmp_path):
    figures = run_crash_cycles(f"sqlite:///{tmp_path / 'node.db'}", tmp_path, kills=30)
    print(json.dumps(figures))
    assert figures["venue_fills"] > 30  # the node really traded between kills
    assert figures["killed_before_ready"] >= 1  # and some kills hit start-up / recovery
