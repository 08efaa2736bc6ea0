"""WAL checkpoint settings vs. the latency of durable event-store commits under a steady order stream.

What ``tradewire run`` does per webhook order, without the rest of the node: a paced loop (``--rate`` per
second, each step on its own schedule) makes one durable append of an order's ``OrderSubmitted`` (with the
order's ``OrderInitialized`` queued before it, committed in the same transaction) and queues the
``OrderAccepted`` and ``OrderFilled`` that follow, as the engine thread does. The store runs with
``synchronous=NORMAL`` (``tradewire run``'s default, see :func:`tradewire.cli.run.paper_db_synchronous`) and
its checkpoint thread (``PASSIVE`` every period, ``RESTART`` past a WAL size).

Each ``--configs`` entry (``period_s:restart_mib``) is run ``--rounds`` times, alternating, on a fresh database
each time; measured is
the wall time of each durable ``append`` (the engine thread's wait: the commit, and whatever stalls it, such as
the checkpoint's fsyncs). The machine is shared, so compare the settings within one invocation.

Usage::

    .venv/bin/python benchmarks/wal_checkpoint.py [--rate 500] [--seconds 10] [--rounds 2]
        [--configs 0.2:64,0.05:64,0.05:256]

The last line printed is a JSON object with the figures. No peer is run: the figures compare this store's
own settings.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

from tradewire.model import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    OrderAccepted,
    OrderFilled,
    OrderInitialized,
    OrderSide,
    OrderSubmitted,
    OrderType,
    Price,
    Quantity,
    StrategyId,
    TimeInForce,
    TradeId,
    VenueOrderId,
)  # fmt: skip
from tradewire.model.objects import USDT, Money
from tradewire.persistence import open_store
from tradewire.persistence.engine import SYNC_ENV_VAR

IID = InstrumentId("BTCUSDT.BINANCE")
SID = StrategyId("webhook")


def _order_events(i: int, ts: int) -> tuple[OrderInitialized, OrderSubmitted, OrderAccepted, OrderFilled]:
    coid = ClientOrderId(f"O-{i}")
    side = OrderSide.BUY if i % 2 == 0 else OrderSide.SELL
    qty = Quantity("0.001", 3)
    init = OrderInitialized(coid, SID, IID, ts, ts, side=side, order_type=OrderType.MARKET, quantity=qty,
                            time_in_force=TimeInForce.GTC)  # fmt: skip
    sub = OrderSubmitted(coid, SID, IID, ts, ts, account_id=AccountId("BINANCE-001"))
    acc = OrderAccepted(coid, SID, IID, ts, ts, venue_order_id=VenueOrderId(f"V-{i}"))
    fill = OrderFilled(coid, SID, IID, ts, ts, venue_order_id=VenueOrderId(f"V-{i}"), trade_id=TradeId(f"T-{i}"),
                       order_side=side, order_type=OrderType.MARKET, last_qty=qty, last_px=Price("60000.01", 2),
                       commission=Money("0.06", USDT))  # fmt: skip
    return init, sub, acc, fill


def _pct(xs: list[float], q: float) -> float:
    return xs[min(len(xs) - 1, int(len(xs) * q))]


def run_once(period_s: float, restart_mib: float, rate: float, seconds: float) -> dict:
    """One paced run on a fresh database; returns durable-append wall times (ms) and the checkpoint count."""
    n = int(rate * seconds)
    step = 1.0 / rate
    lat: list[float] = []
    with tempfile.TemporaryDirectory() as d:
        store = open_store(f"sqlite:///{d}/bench.db", checkpoint_interval_s=period_s,
                           wal_restart_mib=restart_mib)  # fmt: skip
        try:
            t0 = time.perf_counter()
            for i in range(n):
                wait = t0 + i * step - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                init, sub, acc, fill = _order_events(i, time.time_ns())
                store.append(init)
                c0 = time.perf_counter_ns()
                store.append(sub, durable=True)
                lat.append((time.perf_counter_ns() - c0) / 1e6)
                store.append(acc)
                store.append(fill)
            store.flush()
            checkpoints, restarts = store.checkpoints, store.wal_restarts
            wal_mib = os.path.getsize(f"{d}/bench.db-wal") / 2**20 if os.path.exists(f"{d}/bench.db-wal") else 0.0
        finally:
            store.close()
    lat.sort()
    return {
        "config": f"{period_s:g}:{restart_mib:g}", "commits": n, "p50_ms": round(_pct(lat, 0.5), 3),
        "p99_ms": round(_pct(lat, 0.99), 3), "p999_ms": round(_pct(lat, 0.999), 3), "max_ms": round(lat[-1], 3),
        "over_2ms": sum(1 for x in lat if x > 2.0), "checkpoints": checkpoints, "restarts": restarts,
        "wal_mib_end": round(wal_mib, 1),
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=float, default=500.0, help="orders per second")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each run")
    ap.add_argument("--rounds", type=int, default=2, help="runs per period, alternating")
    ap.add_argument("--configs", default="0.2:64,0.05:64,0.05:256",
                    help="period_s:restart_mib pairs, comma-separated")  # fmt: skip
    args = ap.parse_args()
    os.environ[SYNC_ENV_VAR] = "NORMAL"
    configs = [tuple(float(x) for x in c.split(":")) for c in args.configs.split(",")]
    runs: list[dict] = []
    for r in range(args.rounds):
        for period, mib in configs:
            res = run_once(period, mib, args.rate, args.seconds)
            print(f"round {r + 1} {res['config']}: " + ", ".join(f"{k} {v}" for k, v in res.items() if k != "config"))
            runs.append(res)
    summary = {}
    for period, mib in configs:
        key = f"{period:g}:{mib:g}"
        mine = [x for x in runs if x["config"] == key]
        summary[key] = {k: [x[k] for x in mine] for k in ("p99_ms", "p999_ms", "max_ms", "over_2ms", "restarts")}
    print(json.dumps({"benchmark": "wal_checkpoint", "rate_per_s": args.rate, "seconds": args.seconds,
                      "synchronous": "NORMAL", "runs": runs, "by_config": summary}))  # fmt: skip


if __name__ == "__main__":
    main()
