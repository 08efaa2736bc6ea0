"""API benchmark: WebSocket fan-out to 50 clients at a high replay speed, and REST latency under 200 req/s.

A server subprocess runs a paper node on the bundled Binance BTCUSDT session (speed x20, every book
batch pushed as a 20-level ladder) with the API on a free port. This process then

1. connects 50 WebSocket clients subscribed to ``book:``, ``bars:``, ``account``, ``orders`` and ``fills``
   for ``WS_SECONDS``; each checks that ``seq`` has no gap and counts resync snapshots; the lag of a
   ladder is its arrival time minus the wall-clock time its batch was due (the ladder's ``ts_event`` is
   the replayed venue time, shifted to the wall clock, so the lag includes engine + fan-out + socket);
2. sends ``GET /api/positions`` open-loop at 200 req/s for ``REST_SECONDS`` (httpx async) and reports
   latency percentiles (nearest rank).

Run: ``.venv/bin/python benchmarks/api.py``. The last line is a JSON object with the figures.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time

CLIENTS = 50
WS_SECONDS = 10.0
REST_RATE = 200
REST_SECONDS = 5.0
SPEED = 20.0


def serve(port: int, db: str) -> None:
    import uvicorn

    from tradewire.api.app import create_app
    from tradewire.api.auth import ApiAuth
    from tradewire.node.live import NodeConfig, TradingNode

    node = TradingNode(NodeConfig(speed=SPEED, database_url=db, book_push_ms=0, webhook=False))
    node.start()
    uvicorn.Server(
        uvicorn.Config(create_app(node, ApiAuth(), max_queue=1000), host="127.0.0.1", port=port, log_level="warning")
    ).run()
    node.stop()


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)] if s else float("nan")


async def ws_client(url: str, stop_at: float, out: dict) -> None:
    import websockets

    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(
            json.dumps(
                {
                    "type": "subscribe",
                    "topics": ["book:BTCUSDT.BINANCE", "bars:BTCUSDT.BINANCE", "account", "orders", "fills"],
                }
            )
        )
        last = 0
        while time.time() < stop_at:
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=max(0.01, stop_at - time.time()))
            except TimeoutError:
                break
            now = time.time_ns()
            m = json.loads(raw)
            out["messages"] += 1
            if m["seq"] != last + 1:
                out["gaps"] += 1
            last = m["seq"]
            if m.get("resync"):
                out["resyncs"] += 1
            if m.get("type") == "update" and m["topic"].startswith("book:"):
                out["lags"].append((now - m["data"]["ts_event"]) / 1e6)


async def rest_load(base: str) -> list[float]:
    import httpx

    lat: list[float] = []
    errors = 0

    async def one(c: httpx.AsyncClient) -> None:
        nonlocal errors
        t0 = time.perf_counter()
        r = await c.get(base + "/api/positions")
        lat.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            errors += 1

    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=64)) as c:
        tasks = []
        start = time.perf_counter()
        for i in range(int(REST_RATE * REST_SECONDS)):
            delay = start + i / REST_RATE - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(c)))
        await asyncio.gather(*tasks)
    if errors:
        raise RuntimeError(f"{errors} REST errors")
    return lat


def main() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = tempfile.mkdtemp()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port), f"sqlite:///{tmp}/bench.db"], cwd=tmp)
    try:
        import httpx

        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        time.sleep(1.0)
        stats = [{"messages": 0, "gaps": 0, "resyncs": 0, "lags": []} for _ in range(CLIENTS)]
        stop_at = time.time() + WS_SECONDS

        async def fan() -> None:
            await asyncio.gather(*(ws_client(f"ws://127.0.0.1:{port}/ws", stop_at, st) for st in stats))

        t0 = time.time()
        asyncio.run(fan())
        elapsed = time.time() - t0
        eng = httpx.get(base + "/api/engine").json()["counters"]
        lags = [x for st in stats for x in st["lags"]]
        total = sum(st["messages"] for st in stats)
        res = {
            "clients": CLIENTS,
            "speed": SPEED,
            "seconds": round(elapsed, 2),
            "engine_events_per_s": eng["events_per_s"],
            "ws_messages_total": total,
            "ws_messages_per_s_total": round(total / elapsed),
            "ws_messages_per_s_per_client": round(total / elapsed / CLIENTS),
            "book_lag_ms_p50": round(pct(lags, 50), 1),
            "book_lag_ms_p99": round(pct(lags, 99), 1),
            "book_lag_ms_max": round(max(lags), 1) if lags else None,
            "seq_gaps": sum(st["gaps"] for st in stats),
            "resync_snapshots": sum(st["resyncs"] for st in stats),
        }
        print(
            f"WebSocket fan-out: {CLIENTS} clients, {total:,} messages in {elapsed:.1f} s "
            f"({res['ws_messages_per_s_total']:,}/s total, {res['ws_messages_per_s_per_client']}/s per client); "
            f"book lag p50 {res['book_lag_ms_p50']} ms, p99 {res['book_lag_ms_p99']} ms, "
            f"max {res['book_lag_ms_max']} ms; "
            f"seq gaps {res['seq_gaps']}, resync snapshots {res['resync_snapshots']}"
        )
        lat = asyncio.run(rest_load(base))
        res.update(
            {
                "rest_rate_per_s": REST_RATE,
                "rest_requests": len(lat),
                "rest_ms_p50": round(pct(lat, 50), 2),
                "rest_ms_p99": round(pct(lat, 99), 2),
                "rest_ms_max": round(max(lat), 2),
            }
        )
        print(
            f"REST GET /api/positions at {REST_RATE} req/s: p50 {res['rest_ms_p50']} ms, p99 {res['rest_ms_p99']} ms, "
            f"max {res['rest_ms_max']} ms over {len(lat)} requests"
        )
        print(json.dumps(res))
    finally:
        proc.terminate()
        proc.wait(20)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        os.environ.pop("TRADEWIRE_API_TOKEN", None)
        serve(int(sys.argv[2]), sys.argv[3])
    else:
        main()
