"""ccxt adapter benchmark on loopback: book ingest rate and submit->ack latency, tradewire vs ccxt alone.

A local Binance spot server (:mod:`tradewire.testing.binance_server`) replays the bundled real BTCUSDT session
(3,451 ``depth@100ms`` diffs with their update ids) as fast as it can publish.

1. **Book updates/s** -- every diff through the real ccxt.pro websocket client into tradewire's book:
   ccxt parses the message, the adapter checks the Binance update-id sequence
   (:class:`~tradewire.data.sync.BinanceSpotSynchronizer`), converts the levels to exact deltas, applies them
   to its gap-checked book and hands them through the engine inbox to a ``DataEngine`` that maintains the
   engine's book (the path a strategy sees). Peer: ccxt alone, ``watch_order_book`` in a loop on the same
   server until its book reaches the same final update id (ccxt's own float book and nonce checks).
   Rate = diffs / seconds from the first diff published to the last one applied.
2. **Submit -> ack latency** -- ``ExecutionEngine.submit_order`` on the engine thread until the engine has
   applied ``OrderAccepted`` (loop thread, signed REST ``POST /api/v3/order`` with HMAC, ack parsing, inbox),
   one order at a time. Peer: ``await exchange.create_order(...)`` timed inside the event loop.

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
from tradewire.testing.binance_server import BinanceServer  # noqa: E402
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


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, min(len(s) - 1, -(-len(s) * p // 100) - 1))] if s else float("nan")


def run_tradewire_book() -> tuple[float, int]:
    srv = BinanceServer(KEY, SECRET)
    srv.start()
    conn = CcxtConnection.from_config(config(srv.port), env=ENV)
    try:
        conn.load_instruments()
        clock = LiveClock()
        engine = DataEngine(MessageBus(), Cache(), clock)
        client = CcxtDataClient(conn, clock)
        engine.register_client(client)
        client.connect_blocking()
        engine.subscribe_order_book_deltas(IID)
        assert conn.inbox.pump_until(lambda: srv.subscriber_count() >= 1, 10)
        srv.advance(40)
        assert conn.inbox.pump_until(lambda: IID in engine.cache.books and not client.books[IID].stale, 10)
        start_u = srv.last_update_id
        diffs = sum(1 for m in srv.messages[srv.cursor :] if m["data"].get("e") == "depthUpdate")
        final = next(m["data"]["u"] for m in reversed(srv.messages) if m["data"].get("e") == "depthUpdate")
        t0 = time.perf_counter()
        srv.play(None)
        ok = conn.inbox.pump_until(lambda: engine.cache.books[IID].sequence == final, 60)
        dt = time.perf_counter() - t0
        assert ok, f"book stopped at {engine.cache.books[IID].sequence}, want {final} (from {start_u})"
        assert not client.books[IID].sync.gaps
        client.disconnect_blocking()
        return diffs / dt, diffs
    finally:
        conn.close()
        srv.stop()


def run_ccxt_book() -> tuple[float, int]:
    srv = BinanceServer(KEY, SECRET)
    srv.start()

    async def main() -> tuple[float, int]:
        cfg = config(srv.port)
        ex = make_exchange(cfg, None)
        try:
            await ex.load_markets()
            task = asyncio.ensure_future(ex.watch_order_book("BTC/USDT", 1000))
            while srv.subscriber_count() < 1:
                await asyncio.sleep(0.005)
            await asyncio.get_running_loop().run_in_executor(None, srv.advance, 40)
            ob = await task
            while ob["nonce"] is None or ob["nonce"] < srv.last_update_id:
                ob = await ex.watch_order_book("BTC/USDT", 1000)
            diffs = sum(1 for m in srv.messages[srv.cursor :] if m["data"].get("e") == "depthUpdate")
            final = next(m["data"]["u"] for m in reversed(srv.messages) if m["data"].get("e") == "depthUpdate")
            t0 = time.perf_counter()
            await asyncio.get_running_loop().run_in_executor(None, srv.play, None)
            while ob["nonce"] != final:
                ob = await ex.watch_order_book("BTC/USDT", 1000)
            return diffs / (time.perf_counter() - t0), diffs
        finally:
            await ex.close()

    try:
        return asyncio.run(main())
    finally:
        srv.stop()


def run_tradewire_orders(n: int) -> list[float]:
    srv = BinanceServer(KEY, SECRET, balances={"USDT": "100000000", "BTC": "100"})
    srv.start()
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
        srv.stop()


def run_ccxt_orders(n: int) -> list[float]:
    srv = BinanceServer(KEY, SECRET, balances={"USDT": "100000000", "BTC": "100"})
    srv.start()

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
        srv.stop()


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
