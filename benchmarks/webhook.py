"""Webhook load benchmark: alerts over loopback HTTP -> RiskEngine -> ExecutionEngine -> paper venue.

Starts a uvicorn server in a subprocess (the webhook router, a `WebhookService` with the SQLite
idempotency store, and an engine thread running the real `RiskEngine`, `ExecutionEngine`, `Portfolio`
and `PaperExecutionClient`), then sends alerts at a fixed rate with an async httpx client and measures

- HTTP latency: request due -> 202 received;
- order latency: request due -> `OrderAccepted` published on ``events.order.*`` in the server;
- errors (any non-202 answer, transport error, or an alert without an accepted order);
- server memory (RSS) before and after the load;
- the server's garbage-collector pauses per generation (``gc.callbacks``), with the collect-and-freeze
  rounds of ``tradewire run`` (``prepare_process``, every 0.25 s by default; ``--gc-freeze-interval 0``
  turns them off for comparison).

Both processes read ``time.time_ns()`` (one system clock). The load generator is the raw HTTP/1.1
open-loop client of ``benchmarks/api.py`` (32 keep-alive connections): each alert has a scheduled send time
and latencies count from it, so a server or client that falls behind shows as latency (no coordinated
omission). The earlier httpx-based client was itself the bottleneck (its connection pool costs
O(queued requests) per request; py-spy showed the server idle while the client spun at ~40 alerts/s).
Usage::

    .venv/bin/python benchmarks/webhook.py [--rate 500] [--duration 10] [--gc-freeze-interval 0.25]

The last line printed is a JSON object with the figures. No peer engine is run: none of the peers
offers a webhook receiver.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal

SECRET = "benchmark-secret-0123456789"


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


# --------------------------------------------------------------------------- server side
def build_server_app(data_dir: str):
    """The app served in the subprocess: webhook router + engine thread + result routes."""
    from fastapi import FastAPI

    from tradewire.api.webhook import build_webhook_router
    from tradewire.core.bus import MessageBus
    from tradewire.core.cache import Cache
    from tradewire.core.clock import LiveClock
    from tradewire.execution.engine import ExecutionEngine
    from tradewire.model import AccountId, Money, Price, Quantity, QuoteTick, Venue, crypto_spot
    from tradewire.model.events import OrderAccepted
    from tradewire.portfolio import CashAccount, Portfolio
    from tradewire.risk.engine import RiskEngine
    from tradewire.signals.config import SourceConfig
    from tradewire.signals.idempotency import SqlIdempotencyStore
    from tradewire.signals.service import WebhookService
    from tradewire.venues.paper.execution import PaperExecutionClient

    clock = LiveClock()
    bus, cache = MessageBus(), Cache()
    inst = crypto_spot("BTCUSDT", "BINANCE", "BTC", "USDT", 2, 5)
    cache.add_instrument(inst)
    portfolio = Portfolio(cache, bus, clock)
    acct = AccountId("BINANCE-001")
    portfolio.register_account(
        CashAccount(acct, [Money("10000000", inst.quote_currency), Money("1000", inst.base_currency)])
    )
    engine = ExecutionEngine(bus, cache, clock, portfolio)
    paper = PaperExecutionClient(Venue("BINANCE"), acct, clock, engine.process, instruments=[inst])
    engine.register_client(paper, default=True)
    RiskEngine(bus, cache, portfolio, clock)
    now = clock.timestamp_ns()
    tick = QuoteTick(
        inst.id, Price("60000.00", 2), Price("60000.01", 2), Quantity("1000", 5), Quantity("1000", 5), now, now
    )
    cache.quotes[inst.id] = tick
    paper.process_quote_tick(tick)

    accepted: dict[str, int] = {}

    def on_order_event(ev) -> None:
        if isinstance(ev, OrderAccepted):
            accepted[str(ev.client_order_id)] = time.time_ns()

    bus.subscribe("events.order.*", on_order_event)
    wake = threading.Event()
    cfg = SourceConfig(secret=SECRET, default_venue="BINANCE", rate_per_s=Decimal(100_000), burst=100_000)
    store = SqlIdempotencyStore(os.path.join(data_dir, "webhook.sqlite"))
    service = WebhookService(
        {"tradingview": cfg}, store, clock, bus=bus, market=cache, account=portfolio, wakeup=wake.set
    )

    def engine_loop() -> None:
        while True:
            wake.wait(0.05)
            wake.clear()
            service.drain()

    threading.Thread(target=engine_loop, name="engine", daemon=True).start()
    app = FastAPI()
    app.include_router(build_webhook_router(service))
    rss0 = _rss_kib()
    gc_pauses: dict[int, list[int]] = {0: [], 1: [], 2: []}
    gc_start = [0]

    def on_gc(phase: str, info: dict) -> None:  # pause of every collection, automatic or explicit
        if phase == "start":
            gc_start[0] = time.perf_counter_ns()
        else:
            gc_pauses[info["generation"]].append(time.perf_counter_ns() - gc_start[0])

    app.state.watch_gc = lambda: gc.callbacks.append(on_gc)  # once serving (not the start-up collection)

    @app.get("/bench/results")
    def results() -> dict:
        recs = service.recent_alerts(10**9)
        outcomes: dict[str, int] = {}
        for r in recs:
            outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
        gc_stats = {f"gen{g}": {"n": len(p), "max_ms": round(max(p, default=0) / 1e6, 2),
                                "total_ms": round(sum(p) / 1e6, 1)} for g, p in gc_pauses.items()}  # fmt: skip
        return {"accepted": accepted, "rss_start_kib": rss0, "rss_now_kib": _rss_kib(), "outcomes": outcomes,
                "gc": gc_stats, "frozen": gc.get_freeze_count()}  # fmt: skip

    return app


def serve(port: int, data_dir: str, gc_freeze_interval_s: float | None) -> None:
    import uvicorn

    from tradewire.cli.run import prepare_process, server_config

    app = build_server_app(data_dir)
    prepare_process(gc_freeze_interval_s=gc_freeze_interval_s)  # like `tradewire run`: after building, before serving
    app.state.watch_gc()
    uvicorn.Server(server_config(app, "127.0.0.1", port)).run()


# --------------------------------------------------------------------------- client side
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _load(port: int, rate: float, duration: float) -> dict:
    from api import http_load  # benchmarks/api.py: the raw HTTP/1.1 open-loop load generator

    n = int(rate * duration)
    ids_by_alert: dict[int, str] = {}
    errors: list[str] = []

    def request(aid: str, i: int) -> bytes:
        body = json.dumps({"secret": SECRET, "ticker": "BINANCE:BTCUSDT", "action": "buy" if i % 2 == 0 else "sell",
                           "quantity": "0.001", "alert_id": aid}).encode()  # fmt: skip
        head = (f"POST /webhook/tradingview HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")  # fmt: skip
        return head.encode() + body

    def on_response(i: int, status: int, body: bytes, _t: int) -> None:
        if status != 202:
            errors.append(f"HTTP {status}")
        else:
            ids_by_alert[i] = json.loads(body)["client_order_ids"][0]

    # warm-up (not measured): connections, first-call costs
    await http_load("127.0.0.1", port, [request(f"warm-{k}", k) for k in range(50)], 100.0, connections=8)
    reqs = [request(f"bench-{i}", i) for i in range(n)]
    t0 = time.perf_counter()
    http_lat, statuses, transport_errors, start_ns = await http_load(
        "127.0.0.1", port, reqs, rate, connections=32, on_response=on_response
    )
    elapsed = time.perf_counter() - t0
    errors += ["transport error"] * transport_errors
    await asyncio.sleep(0.5)  # let the engine thread finish the last orders
    import httpx

    async with httpx.AsyncClient() as client:
        res = (await client.get(f"http://127.0.0.1:{port}/bench/results")).json()
    accepted = res["accepted"]
    order_lat = []
    missing = 0
    for i, cid in ids_by_alert.items():
        ts = accepted.get(cid)
        if ts is None:
            missing += 1
        else:
            order_lat.append(ts - (start_ns + int(i * 1e9 / rate)))  # from the request's scheduled send time
    http_ns = [int(x * 1e6) for x in http_lat]
    return {"n": n, "elapsed_s": elapsed, "http_lat": http_ns, "order_lat": order_lat, "errors": errors,
            "missing": missing, "server": res, "statuses": statuses}  # fmt: skip


def _pct(xs: list[int], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=float, default=500.0, help="alerts per second")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds of load (the issue's full run: 30)")
    ap.add_argument(
        "--gc-freeze-interval",
        type=float,
        default=None,
        help="seconds between the server's collect-and-freeze rounds (0: none; default: tradewire run's)",
    )
    ap.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--data-dir", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    from tradewire.cli.run import GC_FREEZE_INTERVAL_S

    interval = GC_FREEZE_INTERVAL_S if args.gc_freeze_interval is None else args.gc_freeze_interval
    if args.serve is not None:
        serve(args.serve, args.data_dir, interval or None)
        return
    port = _free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        cmd = [sys.executable, __file__, "--serve", str(port), "--data-dir", data_dir]
        if args.gc_freeze_interval is not None:
            cmd += ["--gc-freeze-interval", str(args.gc_freeze_interval)]
        proc = subprocess.Popen(cmd)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise SystemExit("benchmark server did not start") from None
                    time.sleep(0.1)
            out = asyncio.run(_load(port, args.rate, args.duration))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    srv = out["server"]
    n_err = len(out["errors"]) + out["missing"]
    figures = {
        "benchmark": "webhook",
        "chain": "uvicorn+router -> WebhookService(SQLite) -> RiskEngine -> ExecutionEngine -> PaperExecutionClient",
        "rate_target_per_s": args.rate, "duration_s": args.duration, "alerts": out["n"],
        "rate_achieved_per_s": round(out["n"] / out["elapsed_s"], 1), "http_statuses": out["statuses"],
        "http_p50_ms": round(_pct(out["http_lat"], 0.50), 3), "http_p99_ms": round(_pct(out["http_lat"], 0.99), 3),
        "accepted_p50_ms": round(_pct(out["order_lat"], 0.50), 3),
        "accepted_p99_ms": round(_pct(out["order_lat"], 0.99), 3),
        "accepted_max_ms": round(_pct(out["order_lat"], 1.0), 3),
        "errors": n_err, "server_rss_start_mib": round(srv["rss_start_kib"] / 1024, 1),
        "server_rss_end_mib": round(srv["rss_now_kib"] / 1024, 1), "outcomes": srv["outcomes"],
        "target_p99_ms": 5.0, "gc_freeze_interval_s": interval, "server_gc": srv["gc"],
    }  # fmt: skip
    print(f"alerts sent      {figures['alerts']} at {figures['rate_achieved_per_s']}/s (target {args.rate}/s)")
    print(f"HTTP 202 latency p50 {figures['http_p50_ms']} ms  p99 {figures['http_p99_ms']} ms")
    print(f"-> OrderAccepted p50 {figures['accepted_p50_ms']} ms  p99 {figures['accepted_p99_ms']} ms "
          f"(target p99 <= 5 ms; ratio {figures['accepted_p99_ms'] / 5.0:.2f})")  # fmt: skip
    print(f"errors {n_err} {sorted(set(out['errors']))[:5]}; server RSS {figures['server_rss_start_mib']} -> "
          f"{figures['server_rss_end_mib']} MiB")  # fmt: skip
    print("server GC pauses (count, max ms, total ms): " + ", ".join(
        f"{g} {v['n']}/{v['max_ms']}/{v['total_ms']}" for g, v in srv["gc"].items()))  # fmt: skip
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
