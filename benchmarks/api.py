"""API benchmark: WebSocket fan-out to 50 clients at a high replay speed, and REST latency under 200 req/s.

A server subprocess runs a paper node on the bundled Binance BTCUSDT session (speed x20, every book
batch pushed as a 20-level ladder) with the API on a free port. This process then

1. connects 50 WebSocket clients subscribed to ``book:``, ``bars:``, ``account``, ``orders`` and ``fills``
   for ``WS_SECONDS``; each checks that ``seq`` has no gap and counts resync snapshots; the lag of a
   ladder is its arrival time minus the wall-clock time its batch was due (the ladder's ``ts_init``: the
   recorded receive time, shifted to the wall clock, so the lag includes engine + fan-out + socket; not its
   ``ts_event``, the exchange's time, which runs 1.27 s ahead of the recording machine's clock);
2. sends ``GET /api/positions`` open-loop at 200 req/s for ``REST_SECONDS``, first while the 50 WebSocket
   clients are connected (they run in a separate client process), then alone, and reports latency
   percentiles (nearest rank).

The REST load generator is a minimal HTTP/1.1 keep-alive client on asyncio streams (:func:`http_load`): each
request has a scheduled send time and its latency is measured from that time, so a server (or client) that
falls behind shows as latency instead of silently lowering the rate (no coordinated omission). An earlier
version used httpx, whose connection pool costs O(pending requests) per request: at a few hundred queued
requests the client itself became the bottleneck (profiled with py-spy) and the figures measured httpx.

The server is configured like ``tradewire run`` (:func:`tradewire.cli.run.server_config`).

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
from collections.abc import Callable, Sequence

CLIENTS = 50
WS_SECONDS = 10.0
REST_RATE = 200
REST_SECONDS = 5.0
SPEED = 20.0


def serve(port: int, db: str) -> None:
    import uvicorn

    from tradewire.api.app import create_app
    from tradewire.api.auth import ApiAuth
    from tradewire.cli.run import SWITCH_INTERVAL_S, prepare_process, server_config
    from tradewire.node.live import NodeConfig, TradingNode

    node = TradingNode(NodeConfig(speed=SPEED, database_url=db, book_push_ms=0, webhook=False))
    # like `tradewire run`: after building the node, before serving. BENCH_SWITCH_INTERVAL (seconds)
    # overrides the thread switch interval, e.g. 0.005 = CPython's default
    prepare_process(float(os.environ.get("BENCH_SWITCH_INTERVAL", SWITCH_INTERVAL_S)))
    node.start()
    uvicorn.Server(server_config(create_app(node, ApiAuth(), max_queue=1000), "127.0.0.1", port)).run()
    node.stop()


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)] if s else float("nan")


async def ws_client(url: str, stop_at: float, out: dict) -> None:
    import orjson
    import websockets

    async with websockets.connect(url, max_size=None, compression=None) as ws:
        await ws.send(
            json.dumps(
                {
                    "type": "subscribe",
                    "topics": ["book:BTCUSDT.BINANCE", "bars:BTCUSDT.BINANCE", "account", "orders", "fills"],
                }
            )
        )
        closer = asyncio.get_running_loop().call_later(max(0.0, stop_at - time.time()), ws.transport.abort)
        last = 0
        try:
            async for raw in ws:  # no per-message timeout task: the client must not be the bottleneck
                now = time.time_ns()
                m = orjson.loads(raw)
                out["messages"] += 1
                if m["seq"] != last + 1:
                    out["gaps"] += 1
                last = m["seq"]
                if m.get("resync"):
                    out["resyncs"] += 1
                if m.get("type") == "update" and m["topic"].startswith("book:"):
                    out["lags"].append((now - m["data"]["ts_init"]) / 1e6)
                    out["arrivals"].append(now)
        except websockets.ConnectionClosed:
            pass
        finally:
            closer.cancel()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return status, (await reader.readexactly(length) if length else b"")


async def http_load(
    host: str, port: int, requests: Sequence[bytes], rate: float, connections: int = 32,
    on_response: Callable[[int, int, bytes, int], None] | None = None,
    on_send: Callable[[int, int], None] | None = None,
) -> tuple[list[float], dict[int, int], int, int]:  # fmt: skip
    """Send raw HTTP/1.1 ``requests`` open-loop at ``rate`` per second over keep-alive connections.

    Parameters
    ----------
    requests : Sequence[bytes]
        Complete request messages (request line, headers with ``Content-Length``, body); request ``i`` is
        scheduled at ``start + i / rate``.
    connections : int
        Persistent connections; a request waits for a free one (that wait counts in its latency).
    on_response : callable | None
        ``on_response(i, status, body, t_done_ns)`` for each answer.
    on_send : callable | None
        ``on_send(i, t_sent_ns)`` just before request ``i`` is written (``time.time_ns()``): how late the
        generator itself was against the schedule.

    Returns
    -------
    tuple
        Latencies in ms (scheduled send time to full response), counts by HTTP status, transport errors, and
        the wall-clock time (``time.time_ns()``) at which request 0 was due (request ``i``: ``+ i / rate`` s).
    """
    jobs: asyncio.Queue = asyncio.Queue()
    lat: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while True:
                job = await jobs.get()
                if job is None:
                    return
                i, due = job
                if on_send is not None:
                    on_send(i, time.time_ns())
                try:
                    writer.write(requests[i])
                    status, body = await _read_response(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                done = time.perf_counter()
                lat.append((done - due) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
                if on_response is not None:
                    on_response(i, status, body, time.time_ns())
        finally:
            writer.close()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    await asyncio.sleep(0.2)  # connections open before the clock starts
    loop = asyncio.get_running_loop()
    start, start_wall_ns = time.perf_counter(), time.time_ns()

    def schedule() -> None:
        # A thread with time.sleep (clock_nanosleep, microseconds) releases each request when it is due. The
        # event loop's own timers wake up to 1 ms late: its epoll wait takes whole milliseconds, rounded up
        # (selectors.EpollSelector), which made the median request 0.6 ms late and counted that as latency.
        for i in range(len(requests)):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            loop.call_soon_threadsafe(jobs.put_nowait, (i, due))
        for _ in workers:
            loop.call_soon_threadsafe(jobs.put_nowait, None)

    await asyncio.gather(asyncio.to_thread(schedule), *workers)
    return lat, statuses, errors, start_wall_ns


def get_request(path: str, port: int) -> bytes:
    """A keep-alive ``GET`` request message."""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\n\r\n".encode()


async def rest_load(port: int) -> dict:
    req = get_request("/api/positions", port)
    lat, statuses, errors, _ = await http_load("127.0.0.1", port, [req] * int(REST_RATE * REST_SECONDS), REST_RATE)
    bad = sum(n for st, n in statuses.items() if st != 200) + errors
    if bad:
        raise RuntimeError(f"{bad} REST errors: {statuses}, {errors} transport errors")
    return {"n": len(lat), "p50": round(pct(lat, 50), 2), "p99": round(pct(lat, 99), 2), "max": round(max(lat), 2)}


def ws_fanout(port: int, seconds: float) -> dict:
    """Run the 50 WebSocket clients for ``seconds`` (called in the client subprocess)."""
    stats = [{"messages": 0, "gaps": 0, "resyncs": 0, "lags": [], "arrivals": []} for _ in range(CLIENTS)]
    stop_at = time.time() + seconds

    async def fan() -> None:
        await asyncio.gather(*(ws_client(f"ws://127.0.0.1:{port}/ws", stop_at, st) for st in stats))

    t0 = time.time()
    asyncio.run(fan())
    elapsed = time.time() - t0
    lags = [x for st in stats for x in st["lags"]]
    timed = sorted((t, x) for st in stats for t, x in zip(st["arrivals"], st["lags"], strict=True))
    third = (timed[-1][0] - timed[0][0]) / 3 if timed else 0
    first = [x for t, x in timed if t <= timed[0][0] + third]
    last = [x for t, x in timed if t >= timed[-1][0] - third]
    return {
        "lag_p50_first_third": pct(first, 50),
        "lag_p50_last_third": pct(last, 50),
        "elapsed": elapsed,
        "messages": sum(st["messages"] for st in stats),
        "lags": lags,
        "gaps": sum(st["gaps"] for st in stats),
        "resyncs": sum(st["resyncs"] for st in stats),
    }


def main() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = tempfile.mkdtemp()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port), f"sqlite:///{tmp}/bench.db"], cwd=tmp)
    try:
        import httpx

        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
            if proc.poll() is not None:
                raise SystemExit("benchmark server exited")
        time.sleep(1.0)
        ws_out = os.path.join(tmp, "ws.json")
        ws_proc = subprocess.Popen([sys.executable, __file__, "--ws", str(port), str(WS_SECONDS), ws_out])
        time.sleep(min(3.0, WS_SECONDS / 3))  # clients connected and the fan-out in steady state
        rest_loaded = asyncio.run(rest_load(port))  # REST while the 50 clients are connected
        if ws_proc.wait(WS_SECONDS + 120) != 0:
            raise SystemExit("WebSocket client process failed")
        with open(ws_out) as f:
            ws = json.load(f)
        eng = httpx.get(base + "/api/engine").json()["counters"]
        server = {}
        for line in httpx.get(base + "/metrics").text.splitlines():
            if line.startswith("tradewire_websocket_book_send_lag_seconds{"):
                server["send_lag_ms_p" + line.split('"')[1][2:].ljust(2, "0")] = round(float(line.split()[-1]) * 1e3, 1)
            elif line.startswith(("tradewire_websocket_coalesced_total", "tradewire_websocket_messages_sent_total")):
                server[line.split()[0].removeprefix("tradewire_websocket_")] = int(float(line.split()[-1]))
        lags, total, elapsed = ws["lags"], ws["messages"], ws["elapsed"]
        res = {
            "clients": CLIENTS,
            "speed": SPEED,
            "seconds": round(elapsed, 2),
            "engine_events_per_s": eng["events_per_s"],
            "ws_messages_total": total,
            "ws_messages_per_s_total": round(total / elapsed),
            "ws_messages_per_s_per_client": round(total / elapsed / CLIENTS),
            "book_updates_received": len(lags),
            "book_lag_ms_p50": round(pct(lags, 50), 1),
            "book_lag_ms_p99": round(pct(lags, 99), 1),
            "book_lag_ms_max": round(max(lags), 1) if lags else None,
            "book_lag_ms_p50_first_third": round(ws["lag_p50_first_third"], 1),
            "book_lag_ms_p50_last_third": round(ws["lag_p50_last_third"], 1),
            "server_book_send_lag_ms_p50": server.get("send_lag_ms_p50"),
            "server_book_send_lag_ms_p99": server.get("send_lag_ms_p99"),
            "server_ladders_coalesced": server.get("coalesced_total"),
            "engine_replay_lag_ms_max_last_1s": eng.get("replay_lag_ms_max"),
            "seq_gaps": ws["gaps"],
            "resync_snapshots": ws["resyncs"],
        }
        print(
            f"WebSocket fan-out: {CLIENTS} clients, {total:,} messages in {elapsed:.1f} s "
            f"({res['ws_messages_per_s_total']:,}/s total, {res['ws_messages_per_s_per_client']}/s per client); "
            f"book lag p50 {res['book_lag_ms_p50']} ms, p99 {res['book_lag_ms_p99']} ms, "
            f"max {res['book_lag_ms_max']} ms; "
            f"seq gaps {res['seq_gaps']}, resync snapshots {res['resync_snapshots']}; "
            f"lag p50 first third {res['book_lag_ms_p50_first_third']} ms, last third "
            f"{res['book_lag_ms_p50_last_third']} ms; server-side send lag p50 {res['server_book_send_lag_ms_p50']} ms "
            f"p99 {res['server_book_send_lag_ms_p99']} ms; {res['server_ladders_coalesced']} ladders coalesced"
        )
        rest_alone = asyncio.run(rest_load(port))
        res.update(
            {
                "rest_rate_per_s": REST_RATE,
                "rest_requests": rest_loaded["n"],
                "rest_ms_p50": rest_loaded["p50"],
                "rest_ms_p99": rest_loaded["p99"],
                "rest_ms_max": rest_loaded["max"],
                "rest_alone_ms_p50": rest_alone["p50"],
                "rest_alone_ms_p99": rest_alone["p99"],
                "rest_alone_ms_max": rest_alone["max"],
                "target_book_lag_grows": False,
                "target_rest_ms_p99": 200,
            }
        )
        for label, r in (("with 50 WS clients", rest_loaded), ("alone", rest_alone)):
            print(
                f"REST GET /api/positions at {REST_RATE} req/s {label}: p50 {r['p50']} ms, p99 {r['p99']} ms, "
                f"max {r['max']} ms over {r['n']} requests (target p99 <= 200 ms; ratio {r['p99'] / 200:.2f})"
            )
        print(json.dumps(res))
    finally:
        proc.terminate()
        proc.wait(20)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        os.environ.pop("TRADEWIRE_API_TOKEN", None)
        serve(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "--ws":
        out = ws_fanout(int(sys.argv[2]), float(sys.argv[3]))
        with open(sys.argv[4], "w") as f:
            json.dump(out, f)
    else:
        main()
