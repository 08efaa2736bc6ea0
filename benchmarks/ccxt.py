"""ccxt adapter benchmark on loopback: book ingest rate and submit->ack latency, tradewire vs ccxt alone.

A local Binance spot server (:mod:`tradewire.testing.binance_server`), in a child process for the book test so
its own Python work does not compete for this process's GIL, replays the bundled real BTCUSDT session
(3,451 ``depth@100ms`` diffs with their update ids) as fast as it can publish.

1. **Book updates/s** -- every diff through the real ccxt.pro websocket client into tradewire's book:
   ccxt parses the message, the adapter checks the Binance update-id sequence
   (:class:`~tradewire.data.sync.BinanceSpotSynchronizer`), converts the levels to exact deltas, applies them
   to its gap-checked book and hands them through the engine inbox to a ``DataEngine`` that maintains the
   engine's book (the path a strategy sees). Peer: ccxt alone, ``watch_order_book`` in a loop on the same
   server until its book reaches the same final update id (ccxt's own float book and nonce checks).
   Rate = diffs / seconds from the first diff published to the last one applied.
2. **Submit -> ack latency** (server in a child process too) -- ``ExecutionEngine.submit_order`` on the engine
   thread until the engine has applied ``OrderAccepted`` (loop thread, signed REST ``POST /api/v3/order`` with
   HMAC, ack parsing, inbox; the user-data stream is subscribed as in production), one order at a time.
   Peer: ``await exchange.create_order(...)`` timed inside the event loop, same ccxt settings (rate limiter on).

Run: ``.venv/bin/python benchmarks/ccxt.py [--runs 3] [--orders 300]``. The last line is a JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

# this file is named like the ccxt package: keep its folder off the import path so `import ccxt` finds the library
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent / "src"))

import ccxt.pro  # noqa: E402

from tradewire.core.bus import MessageBus  # noqa: E402
from tradewire.core.cache import Cache  # noqa: E402
from tradewire.core.clock import LiveClock  # noqa: E402
from tradewire.data.engine import DataEngine  # noqa: E402
from tradewire.execution.engine import ExecutionEngine  # noqa: E402
from tradewire.execution.factory import OrderFactory  # noqa: E402
from tradewire.model.enums import OrderSide, OrderStatus  # noqa: E402
from tradewire.model.identifiers import AccountId, InstrumentId, StrategyId  # noqa: E402
from tradewire.model.objects import Price, Quantity  # noqa: E402
from tradewire.venues.ccxt.config import ConnectionConfig  # noqa: E402
from tradewire.venues.ccxt.data import CcxtDataClient  # noqa: E402
from tradewire.venues.ccxt.execution import CcxtExecutionClient  # noqa: E402
from tradewire.venues.ccxt.factories import CcxtConnection, make_exchange  # noqa: E402

KEY, SECRET = "bench-key", "bench-secret"
IID = InstrumentId("BTCUSDT.BINANCE")


def config(port: int) -> ConnectionConfig:
    return ConnectionConfig(
        name="bench", exchange="binance", api_key_env="BENCH_KEY", api_secret_env="BENCH_SECRET",
        url_rewrites={"https://api.binance.com": f"http://127.0.0.1:{port}",
                      "wss://stream.binance.com:9443/ws": f"ws://127.0.0.1:{port}/stream/ws",
                      "wss://ws-api.binance.com:443/ws-api/v3": f"ws://127.0.0.1:{port}/ws-api/v3"},
        weight_limit_per_minute=10**9,
    )  # fmt: skip


ENV = {"BENCH_KEY": KEY, "BENCH_SECRET": SECRET}


class RemoteServer:
    """The local Binance server in a child process (its Python work must not share this process's GIL).

    Line protocol on the child's stdin/stdout: ``advance N`` -> ``ok <last_update_id>``, ``play`` ->
    ``played`` when the whole recording is published, ``subs`` -> subscriber count, ``quit``.
    """

    CHILD = (
        "import sys\n"
        "from tradewire.testing.binance_server import BinanceServer\n"
        "s = BinanceServer(sys.argv[1], sys.argv[2], balances={'USDT': '100000000', 'BTC': '100'})\n"
        "print(s.start(), flush=True)\n"
        "for line in sys.stdin:\n"
        "    cmd, *arg = line.split()\n"
        "    if cmd == 'advance':\n"
        "        s.advance(int(arg[0])); print('ok', s.last_update_id, flush=True)\n"
        "    elif cmd == 'play':\n"
        "        s.play(None); s.wait_played(120); print('played', flush=True)\n"
        "    elif cmd == 'subs':\n"
        "        print(s.subscriber_count(), flush=True)\n"
        "    elif cmd == 'quit':\n"
        "        break\n"
        "s.stop()\n"
    )

    def __init__(self) -> None:
        import subprocess

        env = dict(__import__("os").environ, PYTHONPATH=str(_HERE.parent / "src"))
        self.proc = subprocess.Popen([sys.executable, "-c", self.CHILD, KEY, SECRET], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env)  # fmt: skip
        self.port = int(self.proc.stdout.readline())

    def ask(self, cmd: str) -> str:
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def wait_subscribed(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while int(self.ask("subs")) < 1:
            if time.monotonic() > deadline:
                raise TimeoutError("no subscriber")
            time.sleep(0.005)

    def close(self) -> None:
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        self.proc.wait(10)


def recording_diffs() -> tuple[int, int]:
    """(number of depth diffs after the first 40 messages, final update id) of the bundled recording."""
    from tradewire.testing.binance_exchange import load_recording

    path = Path(__file__).resolve().parent.parent / "src" / "tradewire" / "samples" / "binance_spot_btcusdt_20240808.gz"
    _, msgs = load_recording(path)
    diffs = [m["data"] for m in msgs[40:] if m["data"].get("e") == "depthUpdate"]
    return len(diffs), diffs[-1]["u"]


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, min(len(s) - 1, -(-len(s) * p // 100) - 1))] if s else float("nan")


def run_tradewire_book() -> tuple[float, int]:
    srv = RemoteServer()
    conn = CcxtConnection.from_config(config(srv.port), env=ENV)
    try:
        conn.load_instruments()
        clock = LiveClock()
        engine = DataEngine(MessageBus(), Cache(), clock)
        client = CcxtDataClient(conn, clock)
        engine.register_client(client)
        client.connect_blocking()
        engine.subscribe_order_book_deltas(IID)
        srv.wait_subscribed()
        srv.ask("advance 40")
        assert conn.inbox.pump_until(lambda: IID in engine.cache.books and not client.books[IID].stale, 10)
        diffs, final = recording_diffs()
        t0 = time.perf_counter()
        srv.proc.stdin.write("play\n")
        srv.proc.stdin.flush()
        ok = conn.inbox.pump_until(lambda: engine.cache.books[IID].sequence == final, 120)
        dt = time.perf_counter() - t0
        assert ok, f"book stopped at {engine.cache.books[IID].sequence}, want {final}"
        assert srv.proc.stdout.readline().strip() == "played"
        assert not client.books[IID].sync.gaps
        client.disconnect_blocking()
        return diffs / dt, diffs
    finally:
        conn.close()
        srv.close()


def run_ccxt_book() -> tuple[float, int]:
    srv = RemoteServer()

    async def main() -> tuple[float, int]:
        ex = make_exchange(config(srv.port), None)
        loop = asyncio.get_running_loop()
        try:
            await ex.load_markets()
            task = asyncio.ensure_future(ex.watch_order_book("BTC/USDT", 1000))
            await loop.run_in_executor(None, srv.wait_subscribed)
            last = int((await loop.run_in_executor(None, srv.ask, "advance 40")).split()[1])
            ob = await task
            while ob["nonce"] is None or ob["nonce"] < last:
                ob = await ex.watch_order_book("BTC/USDT", 1000)
            diffs, final = recording_diffs()
            t0 = time.perf_counter()
            srv.proc.stdin.write("play\n")
            srv.proc.stdin.flush()
            while ob["nonce"] != final:
                ob = await ex.watch_order_book("BTC/USDT", 1000)
            dt = time.perf_counter() - t0
            assert (await loop.run_in_executor(None, srv.proc.stdout.readline)).strip() == "played"
            return diffs / dt, diffs
        finally:
            await ex.close()

    try:
        return asyncio.run(main())
    finally:
        srv.close()


def run_tradewire_orders(n: int) -> list[float]:
    srv = RemoteServer()
    conn = CcxtConnection.from_config(config(srv.port), env=ENV)
    try:
        conn.load_instruments()
        clock = LiveClock()
        cache = Cache()
        engine = ExecutionEngine(MessageBus(), cache, clock)
        client = CcxtExecutionClient(conn, AccountId("BINANCE-001"), clock, engine.process, poll_interval_s=None)
        engine.register_client(client)
        client.connect()
        factory = OrderFactory(StrategyId("bench-1"), clock)
        out = []
        for i in range(n + 10):
            o = factory.limit(IID, OrderSide.BUY, Quantity.from_str("0.00100"), Price.from_str("50000.00"))
            t0 = time.perf_counter()
            engine.submit_order(o)
            conn.inbox.pump_until(lambda o=o: o.status is not OrderStatus.SUBMITTED, 10)
            dt = time.perf_counter() - t0
            assert o.status is OrderStatus.ACCEPTED, o.status
            if i >= 10:  # warm-up: connection pool, first signatures
                out.append(dt * 1e6)
        client.disconnect()
        return out
    finally:
        conn.close()
        srv.close()


def run_ccxt_orders(n: int) -> list[float]:
    srv = RemoteServer()

    async def main() -> list[float]:
        ex = ccxt.pro.binance({"apiKey": KEY, "secret": SECRET, "enableRateLimit": True})
        for k, v in list(ex.urls["api"].items()):
            if isinstance(v, str) and v.startswith("https://api.binance.com"):
                ex.urls["api"][k] = v.replace("https://api.binance.com", f"http://127.0.0.1:{srv.port}")
        ex.options.update({"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "fetchMargins": False})
        try:
            await ex.load_markets()
            out = []
            for i in range(n + 10):
                t0 = time.perf_counter()
                await ex.create_order("BTC/USDT", "limit", "buy", "0.001", "50000", {"newClientOrderId": f"c{i}"})
                if i >= 10:
                    out.append((time.perf_counter() - t0) * 1e6)
            return out
        finally:
            await ex.close()

    try:
        return asyncio.run(main())
    finally:
        srv.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--orders", type=int, default=300)
    args = ap.parse_args()

    tw_rates, cx_rates = [], []
    for _ in range(args.runs):
        r, n = run_tradewire_book()
        tw_rates.append(r)
        c, _ = run_ccxt_book()
        cx_rates.append(c)
    tw_book, cx_book = statistics.median(tw_rates), statistics.median(cx_rates)
    print(f"book ingest ({n} real diffs, median of {args.runs}): tradewire {tw_book:,.0f} diffs/s, "
          f"ccxt alone {cx_book:,.0f} diffs/s, ratio {tw_book / cx_book:.2f}")  # fmt: skip

    tw_lat = run_tradewire_orders(args.orders)
    cx_lat = run_ccxt_orders(args.orders)
    res = {
        "book_diffs": n,
        "book_updates_per_s_tradewire": round(tw_book),
        "book_updates_per_s_ccxt": round(cx_book),
        "book_ratio_tradewire_vs_ccxt": round(tw_book / cx_book, 3),
        "orders": args.orders,
        "submit_ack_p50_us_tradewire": round(pct(tw_lat, 50)),
        "submit_ack_p99_us_tradewire": round(pct(tw_lat, 99)),
        "submit_ack_p50_us_ccxt": round(pct(cx_lat, 50)),
        "submit_ack_p99_us_ccxt": round(pct(cx_lat, 99)),
    }
    res["submit_ack_p50_ratio"] = round(res["submit_ack_p50_us_tradewire"] / res["submit_ack_p50_us_ccxt"], 3)
    print(f"submit->ack ({args.orders} orders): tradewire p50 {res['submit_ack_p50_us_tradewire']} us "
          f"p99 {res['submit_ack_p99_us_tradewire']} us; ccxt alone p50 {res['submit_ack_p50_us_ccxt']} us "
          f"p99 {res['submit_ack_p99_us_ccxt']} us; p50 ratio {res['submit_ack_p50_ratio']}")  # fmt: skip
    print(json.dumps(res))


if __name__ == "__main__":
    main()
