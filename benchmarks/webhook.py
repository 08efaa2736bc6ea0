"""Webhook load benchmark: alerts over loopback HTTP -> RiskEngine -> ExecutionEngine -> paper venue.

Starts a server subprocess and sends alerts to it at a fixed rate. Two chains (``--chain``):

- ``node`` (default): what ``tradewire run`` serves, built the same way: a ``TradingNode`` replaying the bundled
  Binance session in real time (its SMA strategy trading too), the event store recording every order event
  (``OrderInitialized``/``OrderSubmitted`` durably, on the engine thread, before the venue gets the order), the
  webhook service from the environment settings with its SQLite idempotency store, the whole API app, order
  retention and the event store's ``synchronous`` mode as ``tradewire run`` sets them;
- ``minimal``: the webhook router, the service and an engine thread with ``RiskEngine``, ``ExecutionEngine``,
  ``Portfolio`` and ``PaperExecutionClient`` on one quote: no event store, no market data, no API (the chain
  this benchmark measured before the node chain existed).

Measured:

- HTTP latency: request due -> 202 received; order latency: request due -> ``OrderAccepted`` in the server;
- per-stage timestamps of every alert (the service's ``stage_hook`` and the order events on the bus, see
  ``SEGMENTS``), with a breakdown of the alerts slower than ``--slow-ms``;
- errors (any non-202 answer, transport error, or an alert without an accepted order);
- server memory (RSS) at start, when the load starts and after it, per alert, and the orders left in the
  ``Cache`` (``--retention``: closed orders kept per strategy, 0 = all);
- the server's garbage-collector pauses per generation (``gc.callbacks``), with the collect-and-freeze rounds of
  ``tradewire run`` (``--gc-freeze-interval 0`` turns them off for comparison);
- the load average before and after (the machine is shared: compare runs taken at similar load).

Both processes read ``time.time_ns()`` (one system clock). The load generator is the raw HTTP/1.1
open-loop client of ``benchmarks/api.py`` (32 keep-alive connections): each alert has a scheduled send time
and latencies count from it, so a server or client that falls behind shows as latency (no coordinated
omission); a thread with precise sleeps releases each alert when it is due (the event loop's timers woke up to
1 ms late), and the ``client_send`` segment shows how late the client still wrote it. The client's cyclic
garbage collector is off while it sends (its own collections delayed sends).
Usage::

    .venv/bin/python benchmarks/webhook.py [--chain node|minimal] [--rate 500] [--duration 10]
        [--db-synchronous FULL|NORMAL] [--retention 1000] [--gc-freeze-interval 0.25]

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
class OrdersOnly:
    """Only each order's ``OrderAccepted`` time (``--no-stages``: memory runs, no per-stage dicts in the server)."""

    def __init__(self) -> None:
        self.by_key: dict[str, dict[str, int]] = {}
        self.by_order: dict[str, dict[str, int]] = {}

    def on_stage(self, alert_key: str, stage: str, ts: int) -> None:
        return None

    def on_order_event(self, ev) -> None:
        if type(ev).__name__ == "OrderAccepted":
            self.by_order[str(ev.client_order_id)] = {"accepted": time.time_ns()}


class StageRecorder:
    """Per-alert stage timestamps (``time.time_ns()``) in the server: the service's stage hook plus the order
    events of the alert's first order on the bus (``OrderInitialized``: risk passed and the OMS built the
    order; ``OrderSubmitted``: the initialized order was recorded; ``OrderAccepted``: the venue acknowledged)."""

    EVENTS = {"OrderInitialized": "initialized", "OrderSubmitted": "submitted", "OrderAccepted": "accepted"}

    def __init__(self) -> None:
        self.by_key: dict[str, dict[str, int]] = {}
        self.by_order: dict[str, dict[str, int]] = {}

    def on_stage(self, alert_key: str, stage: str, ts: int) -> None:
        self.by_key.setdefault(alert_key, {})[stage] = ts

    def on_order_event(self, ev) -> None:
        stage = self.EVENTS.get(type(ev).__name__)
        if stage is not None:
            self.by_order.setdefault(str(ev.client_order_id), {})[stage] = time.time_ns()


def _gc_watch() -> tuple[dict[int, list[int]], object]:
    pauses: dict[int, list[int]] = {0: [], 1: [], 2: []}
    start = [0]

    def on_gc(phase: str, info: dict) -> None:  # pause of every collection, automatic or explicit
        if phase == "start":
            start[0] = time.perf_counter_ns()
        else:
            pauses[info["generation"]].append(time.perf_counter_ns() - start[0])

    return pauses, on_gc


def _cpu_s() -> dict[str, float]:
    """CPU seconds of this process and of each named thread (Linux per-thread CPU clocks)."""
    out = {"process": time.process_time()}
    for t in threading.enumerate():
        if t.ident is not None and t.name in ("tradewire-engine", "engine", "MainThread"):
            try:
                out[t.name] = time.clock_gettime(time.pthread_getcpuclockid(t.ident))
            except OSError:  # the thread has just ended
                continue
    return out


def _results_route(app, service, cache, stages: StageRecorder, rss0: int, gc_pauses: dict) -> None:
    @app.get("/bench/results")
    def results() -> dict:
        outcomes: dict[str, int] = {}
        for r in service.recent_alerts(10**9):
            outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
        gc_stats = {f"gen{g}": {"n": len(p), "max_ms": round(max(p, default=0) / 1e6, 2),
                                "total_ms": round(sum(p) / 1e6, 1)} for g, p in gc_pauses.items()}  # fmt: skip
        return {"stages": stages.by_key, "orders": stages.by_order, "rss_start_kib": rss0, "rss_now_kib": _rss_kib(),
                "cpu_s": _cpu_s(),
                "outcomes": outcomes, "gc": gc_stats, "frozen": gc.get_freeze_count(),
                "cache_orders": len(cache.orders), "cache_evicted": getattr(cache, "evicted_orders", 0),
                "cache_orders_open": sum(1 for o in cache.orders.values() if o.is_open)}  # fmt: skip


def build_minimal_app(data_dir: str, stages: StageRecorder, keep: int):
    """The earlier, smaller chain: webhook router + engine thread (risk, OMS, paper venue on one quote), no
    event store, no market data."""
    from fastapi import FastAPI

    from tradewire.api.webhook import build_webhook_router
    from tradewire.core.bus import MessageBus
    from tradewire.core.cache import Cache
    from tradewire.core.clock import LiveClock
    from tradewire.execution.engine import ExecutionEngine
    from tradewire.model import AccountId, Money, Price, Quantity, QuoteTick, Venue, crypto_spot
    from tradewire.portfolio import CashAccount, Portfolio
    from tradewire.risk.engine import RiskEngine
    from tradewire.signals.config import SourceConfig
    from tradewire.signals.idempotency import SqlIdempotencyStore
    from tradewire.signals.service import WebhookService
    from tradewire.venues.paper.execution import PaperExecutionClient

    clock = LiveClock()
    bus, cache = MessageBus(), Cache()
    if keep > 0:
        cache.enable_order_retention(bus, keep, None)
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
    bus.subscribe("events.order.*", stages.on_order_event, priority=1000)
    wake = threading.Event()
    cfg = SourceConfig(secret=SECRET, default_venue="BINANCE", rate_per_s=Decimal(100_000), burst=100_000)
    store = SqlIdempotencyStore(os.path.join(data_dir, "webhook.sqlite"))
    service = WebhookService(
        {"tradingview": cfg}, store, clock, bus=bus, market=cache, account=portfolio, wakeup=wake.set,
        stage_hook=stages.on_stage,
    )  # fmt: skip

    def engine_loop() -> None:
        while True:
            wake.wait(0.05)
            wake.clear()
            service.drain()

    threading.Thread(target=engine_loop, name="engine", daemon=True).start()
    app = FastAPI()
    app.include_router(build_webhook_router(service))
    return app, service, cache, None


def build_node_app(data_dir: str, stages: StageRecorder, keep: int):
    """What ``tradewire run`` serves: a :class:`TradingNode` replaying the bundled session in real time (its
    strategy trading too), the event store (SQLite in ``data_dir``) recording every order event, the webhook
    service from the environment settings, and the whole API app."""
    from tradewire.api.app import create_app
    from tradewire.api.auth import ApiAuth
    from tradewire.cli.run import ORDER_MAX_AGE_S, enable_order_retention
    from tradewire.node.live import NodeConfig, TradingNode

    os.environ["TRADEWIRE_WEBHOOK_SOURCES"] = json.dumps(
        {"tradingview": {"secret": SECRET, "default_venue": "BINANCE", "rate_per_s": "100000", "burst": 100000}}
    )
    os.environ["TRADEWIRE_WEBHOOK_DATA_DIR"] = data_dir
    node = TradingNode(NodeConfig(database_url=f"sqlite:///{data_dir}/tradewire.db", webhook=True))
    enable_order_retention(node, keep, ORDER_MAX_AGE_S)  # as `tradewire run` does
    node.kernel.bus.subscribe("events.order.*", stages.on_order_event, priority=1000)
    node.webhook_service.stage_hook = stages.on_stage
    return create_app(node, ApiAuth()), node.webhook_service, node.kernel.cache, node


def serve(
    port: int, data_dir: str, chain: str, gc_freeze_interval_s: float | None, keep: int, db_sync: str | None,
    switch_interval_s: float, stages_on: bool = True,
) -> None:  # fmt: skip
    import uvicorn

    from tradewire.cli.run import paper_db_synchronous, prepare_process, server_config

    paper_db_synchronous(db_sync)  # as `tradewire run` does
    stages = StageRecorder() if stages_on else OrdersOnly()
    build = build_node_app if chain == "node" else build_minimal_app
    app, service, cache, node = build(data_dir, stages, keep)
    prepare_process(
        switch_interval_s, gc_freeze_interval_s=gc_freeze_interval_s
    )  # like `tradewire run`: after building, before serving
    if node is not None:
        node.start()
    pauses, on_gc = _gc_watch()
    gc.callbacks.append(on_gc)  # once serving (not the start-up collection)
    _results_route(app, service, cache, stages, _rss_kib(), pauses)
    try:
        uvicorn.Server(server_config(app, "127.0.0.1", port)).run()
    finally:
        if node is not None:
            node.stop()


# --------------------------------------------------------------------------- client side
STAGES = (
    "due", "sent", "received", "durable", "queued", "dequeued", "initialized", "submitted", "accepted", "dispatched",
)  # fmt: skip
"""Stage timestamps of one alert, in order. ``due``: its scheduled send time in the load generator; ``sent``: when
the load generator wrote it."""
SEGMENTS = {
    "client_send": ("due", "sent"),  # the load generator's own lateness against the schedule (its CPU, its loop)
    "http_in": ("sent", "received"),  # socket, uvicorn/httptools, event loop, body read, checks
    "claim": ("received", "durable"),  # waiting for the group commit + the SQLite commit
    "handoff": ("durable", "queued"),  # event loop resumes the request, queue put, engine wake-up call
    "engine_wait": ("queued", "dequeued"),  # until the engine thread takes it (wake-up, GIL, its other work)
    "risk_oms": ("dequeued", "initialized"),  # planning, RiskEngine checks, OMS builds the order
    "record_init": ("initialized", "submitted"),  # OrderInitialized recorded (durable event-store append)
    "record_sub_venue": ("submitted", "accepted"),  # OrderSubmitted recorded durably, paper venue acknowledges
    "after_ack": ("accepted", "dispatched"),  # the rest of the engine's work for the alert (fill, portfolio, views)
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _load(port: int, rate: float, duration: float) -> dict:
    from api import http_load  # benchmarks/api.py: the raw HTTP/1.1 open-loop load generator

    n = int(rate * duration)
    answers: dict[int, tuple[str, str]] = {}  # alert index -> (alert key, first client order id)
    errors: list[str] = []

    def request(aid: str, i: int) -> bytes:
        body = json.dumps({"secret": SECRET, "ticker": "BINANCE:BTCUSDT", "action": "buy" if i % 2 == 0 else "sell",
                           "quantity": "0.001", "alert_id": aid}).encode()  # fmt: skip
        head = (f"POST /webhook/tradingview HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")  # fmt: skip
        return head.encode() + body

    sent: dict[int, int] = {}

    def on_send(i: int, t_ns: int) -> None:
        sent[i] = t_ns

    def on_response(i: int, status: int, body: bytes, _t: int) -> None:
        if status != 202:
            errors.append(f"HTTP {status}")
        else:
            d = json.loads(body)
            answers[i] = (d["alert_key"], d["client_order_ids"][0])

    # warm-up (not measured): connections, first-call costs
    await http_load("127.0.0.1", port, [request(f"warm-{k}", k) for k in range(50)], 100.0, connections=8)
    await asyncio.sleep(0.5)
    import httpx

    async with httpx.AsyncClient() as client:
        before = (await client.get(f"http://127.0.0.1:{port}/bench/results")).json()
    reqs = [request(f"bench-{i}", i) for i in range(n)]
    # The load generator's own cyclic collector is off while it sends (its garbage is acyclic, reference counting
    # frees it): a full collection of this process walked the prepared requests and the answers so far and
    # delayed its sends by tens of ms, which counted as server latency (due -> received).
    gc.collect()
    gc.freeze()
    gc.disable()
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    try:
        http_lat, statuses, transport_errors, start_ns = await http_load(
            "127.0.0.1", port, reqs, rate, connections=32, on_response=on_response, on_send=on_send
        )
    finally:
        elapsed = time.perf_counter() - t0
        client_cpu_s = time.process_time() - cpu0
        gc.enable()
        gc.unfreeze()
    errors += ["transport error"] * transport_errors
    await asyncio.sleep(1.0)  # let the engine thread finish the last orders
    async with httpx.AsyncClient(timeout=60) as client:
        res = (await client.get(f"http://127.0.0.1:{port}/bench/results")).json()
    timelines: list[dict[str, int]] = []
    missing = 0
    for i, (key, coid) in answers.items():
        t = {"due": start_ns + int(i * 1e9 / rate), "sent": sent[i], **res["stages"].get(key, {}),
             **res["orders"].get(coid, {})}  # fmt: skip
        if "accepted" not in t:
            missing += 1
        else:
            timelines.append(t)
    http_ns = [int(x * 1e6) for x in http_lat]
    return {"n": n, "elapsed_s": elapsed, "client_cpu_s": client_cpu_s, "http_lat": http_ns, "timelines": timelines,
            "errors": errors, "missing": missing, "server": res, "server_before": before,
            "statuses": statuses}  # fmt: skip


def _pct(xs: list[int], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] / 1e6


def _breakdown(timelines: list[dict[str, int]], threshold_ms: float) -> dict:
    """Per-segment p50 over all alerts, and for the alerts slower than ``threshold_ms`` (due -> accepted): the
    median of each segment and how often each segment was the largest."""

    def seg(t: dict[str, int], a: str, b: str) -> int | None:
        return t[b] - t[a] if a in t and b in t else None

    out: dict = {"p50_ms": {}, "slow_threshold_ms": threshold_ms}
    for name, (a, b) in SEGMENTS.items():
        vals = [v for t in timelines if (v := seg(t, a, b)) is not None]
        out["p50_ms"][name] = round(_pct(vals, 0.5), 3) if vals else None
        out.setdefault("p99_ms", {})[name] = round(_pct(vals, 0.99), 3) if vals else None
    slow = [t for t in timelines if (t["accepted"] - t["due"]) / 1e6 > threshold_ms]
    out["slow_n"] = len(slow)
    out["slow_median_ms"] = {}
    dominant: dict[str, int] = {}
    for name, (a, b) in SEGMENTS.items():
        vals = [v for t in slow if (v := seg(t, a, b)) is not None]
        out["slow_median_ms"][name] = round(_pct(vals, 0.5), 3) if vals else None
    for t in slow:
        parts = {name: seg(t, a, b) or 0 for name, (a, b) in SEGMENTS.items()}
        top = max(parts, key=parts.get)
        dominant[top] = dominant.get(top, 0) + 1
    out["slow_dominant_segment"] = dict(sorted(dominant.items(), key=lambda kv: -kv[1]))
    worst = sorted(slow, key=lambda t: t["accepted"] - t["due"], reverse=True)[:5]
    out["slowest"] = [
        {"total_ms": round((t["accepted"] - t["due"]) / 1e6, 2),
         **{name: round(v / 1e6, 2) for name, (a, b) in SEGMENTS.items() if (v := seg(t, a, b)) is not None}}
        for t in worst
    ]  # fmt: skip
    return out


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=float, default=500.0, help="alerts per second")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds of load (the issue's full run: 30)")
    ap.add_argument("--chain", choices=("node", "minimal"), default="node",
                    help="node: what `tradewire run` serves (replay, strategy, event store, whole API); minimal: "
                         "webhook + risk + OMS + paper venue only, no event store (the earlier benchmark)")  # fmt: skip
    ap.add_argument(
        "--gc-freeze-interval",
        type=float,
        default=None,
        help="seconds between the server's collect-and-freeze rounds (0: none; default: tradewire run's)",
    )
    ap.add_argument("--retention", type=int, default=None, metavar="N",
                    help="closed orders kept in memory per strategy (default: tradewire run's; 0: all)")  # fmt: skip
    ap.add_argument("--db-synchronous", choices=("FULL", "NORMAL"), default=None,
                    help="event store's SQLite synchronous mode (default: tradewire run's)")  # fmt: skip
    ap.add_argument("--switch-interval", type=float, default=None,
                    help="server's thread switch interval in seconds (default: tradewire run's)")  # fmt: skip
    ap.add_argument("--no-stages", action="store_true",
                    help="record only OrderAccepted times in the server (memory without the stage dicts)")  # fmt: skip
    ap.add_argument("--slow-ms", type=float, default=5.0, help="alerts slower than this are broken down by stage")
    ap.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--data-dir", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    from tradewire.cli.run import GC_FREEZE_INTERVAL_S, ORDER_RETENTION, SWITCH_INTERVAL_S

    interval = GC_FREEZE_INTERVAL_S if args.gc_freeze_interval is None else args.gc_freeze_interval
    keep = ORDER_RETENTION if args.retention is None else args.retention
    if args.serve is not None:
        switch = SWITCH_INTERVAL_S if args.switch_interval is None else args.switch_interval
        serve(args.serve, args.data_dir, args.chain, interval or None, keep, args.db_synchronous, switch,
              not args.no_stages)  # fmt: skip
        return
    from tradewire.cli.run import paper_db_synchronous

    db_sync = paper_db_synchronous(args.db_synchronous, env={})
    port = _free_port()
    load_before = _loadavg()
    with tempfile.TemporaryDirectory() as data_dir:
        cmd = [sys.executable, __file__, "--serve", str(port), "--data-dir", data_dir, "--chain", args.chain,
               "--retention", str(keep), "--gc-freeze-interval", str(interval),
               "--db-synchronous", db_sync]  # fmt: skip
        if args.switch_interval is not None:
            cmd += ["--switch-interval", str(args.switch_interval)]
        if args.no_stages:
            cmd.append("--no-stages")
        proc = subprocess.Popen(cmd)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise SystemExit("benchmark server did not start") from None
                    time.sleep(0.1)
            if args.chain == "node":
                time.sleep(1.0)  # the replay's first depth snapshot reaches the paper venue
            out = asyncio.run(_load(port, args.rate, args.duration))
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    srv, before = out["server"], out["server_before"]
    n_err = len(out["errors"]) + out["missing"]
    order_lat = [t["accepted"] - t["due"] for t in out["timelines"]]
    n_alerts = max(1, out["n"])
    figures = {
        "benchmark": "webhook", "chain": args.chain,
        "path": "uvicorn+router -> WebhookService(SQLite claim) -> RiskEngine -> ExecutionEngine"
                + (" (event store) " if args.chain == "node" else " ") + "-> PaperExecutionClient",
        "rate_target_per_s": args.rate, "duration_s": args.duration, "alerts": out["n"],
        "rate_achieved_per_s": round(out["n"] / out["elapsed_s"], 1), "http_statuses": out["statuses"],
        "http_p50_ms": round(_pct(out["http_lat"], 0.50), 3), "http_p99_ms": round(_pct(out["http_lat"], 0.99), 3),
        "accepted_p50_ms": round(_pct(order_lat, 0.50), 3), "accepted_p99_ms": round(_pct(order_lat, 0.99), 3),
        "accepted_max_ms": round(_pct(order_lat, 1.0), 3), "over_5ms": sum(1 for x in order_lat if x > 5e6),
        "errors": n_err, "server_rss_start_mib": round(srv["rss_start_kib"] / 1024, 1),
        "server_rss_load_start_mib": round(before["rss_now_kib"] / 1024, 1),
        "server_rss_end_mib": round(srv["rss_now_kib"] / 1024, 1),
        "rss_growth_kib_per_alert": round((srv["rss_now_kib"] - before["rss_now_kib"]) / n_alerts, 2),
        "server_cpu_ms_per_alert": {k: round((v - before["cpu_s"].get(k, 0.0)) * 1e3 / n_alerts, 3)
                                    for k, v in srv["cpu_s"].items()},
        "client_cpu_ms_per_alert": round(out["client_cpu_s"] * 1e3 / out["n"], 3),  # the load generator's share
        "cache_orders_end": srv["cache_orders"], "cache_orders_evicted": srv["cache_evicted"],
        "stages_recorded": not args.no_stages, "order_retention": keep or None,
        "db_synchronous": db_sync if args.chain == "node" else None,
        "outcomes": srv["outcomes"], "target_p99_ms": 5.0,
        "gc_freeze_interval_s": interval, "switch_interval_s": args.switch_interval or SWITCH_INTERVAL_S,
        "server_gc": srv["gc"], "stages": _breakdown(out["timelines"], args.slow_ms),
        "loadavg_before": load_before, "loadavg_after": _loadavg(),
    }  # fmt: skip
    print(f"chain {args.chain}, event store synchronous={figures['db_synchronous']}; load average before "
          f"{load_before}, after {figures['loadavg_after']}")  # fmt: skip
    print(f"alerts sent      {figures['alerts']} at {figures['rate_achieved_per_s']}/s (target {args.rate}/s)")
    print(f"HTTP 202 latency p50 {figures['http_p50_ms']} ms  p99 {figures['http_p99_ms']} ms")
    print(f"-> OrderAccepted p50 {figures['accepted_p50_ms']} ms  p99 {figures['accepted_p99_ms']} ms "
          f"(target p99 <= 5 ms; ratio {figures['accepted_p99_ms'] / 5.0:.2f}); "
          f"{figures['over_5ms']} over 5 ms")  # fmt: skip
    print(f"errors {n_err} {sorted(set(out['errors']))[:5]}; server RSS {figures['server_rss_start_mib']} -> "
          f"{figures['server_rss_load_start_mib']} (load start) -> {figures['server_rss_end_mib']} MiB, "
          f"{figures['rss_growth_kib_per_alert']} KiB/alert; orders in cache {srv['cache_orders']} "
          f"(evicted {srv['cache_evicted']})")  # fmt: skip
    print(f"server CPU per alert (ms, from load start to the end): {figures['server_cpu_ms_per_alert']}")
    print("server GC pauses (count, max ms, total ms): " + ", ".join(
        f"{g} {v['n']}/{v['max_ms']}/{v['total_ms']}" for g, v in srv["gc"].items()))  # fmt: skip
    st = figures["stages"]
    print(f"{'stage':<18}{'p50 ms':>9}{'p99 ms':>9}{'slow median':>13}   (slow: > {args.slow_ms} ms, n={st['slow_n']})")
    for name in SEGMENTS:
        print(f"{name:<18}{st['p50_ms'][name]!s:>9}{st['p99_ms'][name]!s:>9}{st['slow_median_ms'][name]!s:>13}")
    print(f"largest stage of each slow alert: {st['slow_dominant_segment']}")
    for t in st["slowest"]:
        print("  slowest:", t)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
