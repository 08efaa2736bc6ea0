"""A local Binance spot exchange on 127.0.0.1 that speaks Binance's real REST and websocket protocols.

It exists so that the real ``ccxt`` client (and anything else that talks to Binance) can be tested with
no network. Market data is a replay of a real recorded Binance session (the hftbacktest-style capture
``<recv_ns> <json>`` bundled as :mod:`tradewire.samples`); trading runs against a small matching
engine fed by that replay.

Protocol implemented (Binance Spot API docs, "General API Information", "Endpoint security type",
"SIGNED Endpoint security", "Web Socket Streams", "WebSocket API / User Data Stream requests")
-----------------------------------------------------------------------------------------------------
REST, under ``/api/v3``: ``ping``, ``time``, ``exchangeInfo``, ``depth``, ``klines``, and the SIGNED
endpoints ``account``, ``order`` (POST/GET/DELETE), ``order/cancelReplace``, ``openOrders`` (GET/DELETE),
``allOrders``, ``myTrades``. SIGNED requests need the ``X-MBX-APIKEY`` header, ``timestamp`` (ms) within
``recvWindow`` (default 5000) of server time, and ``signature`` = hex HMAC-SHA256 of the *total params*
(query string followed by the form body, without the signature) keyed with the API secret. Errors are
Binance's JSON ``{"code": -xxxx, "msg": ...}`` with Binance's HTTP statuses; every answer carries
``X-MBX-USED-WEIGHT-1M``; a 429 carries ``Retry-After`` (seconds).

Websocket market streams on ``/stream/ws/<n>`` (the raw-stream endpoint; the ``/stream`` prefix mirrors
the real host name ``stream.binance.com`` which ccxt uses to recognise a spot connection): JSON
``{"method": "SUBSCRIBE", "params": [...], "id": n}`` answered ``{"result": null, "id": n}``; streams
``<symbol>@depth[@100ms]``, ``<symbol>@trade``, ``<symbol>@bookTicker``, ``<symbol>@kline_<interval>``.

Websocket API on ``/ws-api/v3``: ``userDataStream.subscribe.signature`` (params ``apiKey``,
``timestamp``, ``signature`` over the sorted params), after which ``executionReport`` and
``outboundAccountPosition`` events arrive wrapped as ``{"subscriptionId": n, "event": {...}}``.

Test controls (thread-safe, called from the test thread): :meth:`BinanceServer.advance`,
:meth:`~BinanceServer.play`, :meth:`~BinanceServer.inject`, :meth:`~BinanceServer.drop_streams`,
``clock_skew_ms``, ``disconnect_after_next`` (the request is processed, then the connection is cut
before the answer: the client sees a network error for an order the exchange did receive).
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import hashlib
import hmac
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

D0 = Decimal(0)
INTERVAL_MS = {"1s": 1000, "1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000}


class ApiError(Exception):
    """A Binance error answer: HTTP ``status`` and JSON ``{"code", "msg"}``."""

    def __init__(self, status: int, code: int, msg: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{code}: {msg}")
        self.status, self.code, self.msg, self.headers = status, code, msg, headers or {}


@dataclass
class SymbolSpec:
    """Filters of one spot symbol (``exchangeInfo``)."""

    symbol: str
    base: str
    quote: str
    tick_size: str = "0.01"
    step_size: str = "0.00001"
    min_qty: str = "0.00001"
    min_notional: str = "5"


@dataclass
class Fault:
    """An injected error answer for the next ``count`` requests matching ``method path``."""

    method: str
    path: str
    status: int
    code: int
    msg: str
    retry_after: int | None = None
    count: int = 1


@dataclass
class _Order:
    symbol: str
    order_id: int
    client_order_id: str
    side: str
    type: str
    tif: str
    qty: Decimal
    price: Decimal
    stop_price: Decimal
    time: int
    executed: Decimal = D0
    quote: Decimal = D0
    status: str = "NEW"
    update_time: int = 0
    triggered: bool = field(default=True)

    def wire(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol, "orderId": self.order_id, "orderListId": -1, "clientOrderId": self.client_order_id,
            "price": f"{self.price:.8f}", "origQty": f"{self.qty:.8f}", "executedQty": f"{self.executed:.8f}",
            "cummulativeQuoteQty": f"{self.quote:.8f}", "status": self.status, "timeInForce": self.tif,
            "type": self.type, "side": self.side, "stopPrice": f"{self.stop_price:.8f}", "icebergQty": "0.00000000",
            "time": self.time, "updateTime": self.update_time or self.time, "isWorking": self.triggered,
            "workingTime": self.time, "origQuoteOrderQty": "0.00000000", "selfTradePreventionMode": "EXPIRE_MAKER",
        }  # fmt: skip


@functools.lru_cache(maxsize=4)
def load_recording(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read a Binance raw combined-stream capture: the REST depth snapshot and the stream messages after it.

    Returns
    -------
    (snapshot, messages)
        (cached per path; callers must not mutate them) ``snapshot`` is the ``{"lastUpdateId", "bids", "asks"}``
        answer; ``messages`` the combined-stream
        ``{"stream", "data"}`` objects in file order, minus depth diffs the snapshot already covers
        (``u <= lastUpdateId``, the Binance spot rule).

    Raises
    ------
    ValueError
        If a line is not ``<int> <json>`` (file and line named) or no snapshot is present.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    snapshot: dict[str, Any] | None = None
    before: list[dict[str, Any]] = []
    after: list[dict[str, Any]] = []
    with opener(path, "rt") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                _, text = line.split(" ", 1)
                msg = json.loads(text)
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: not a '<ns> <json>' line: {exc}") from None
            if "lastUpdateId" in msg:
                snapshot = msg
            elif snapshot is None:
                before.append(msg)
            else:
                after.append(msg)
    if snapshot is None:
        raise ValueError(f"{path}: no REST depth snapshot in the recording")
    last = snapshot["lastUpdateId"]
    bridge = [m for m in before if m["data"].get("e") == "depthUpdate" and m["data"]["u"] > last]
    return snapshot, bridge + after


class BinanceServer:
    """Binance spot REST + websocket server on 127.0.0.1 (see module docstring).

    Parameters
    ----------
    api_key, api_secret : str
        The only accepted credentials.
    recording : Path | None
        Capture to replay (default: the bundled BTCUSDT 2024-08-08 session).
    balances : dict[str, str]
        Starting free balances per asset.
    symbols : list[SymbolSpec] | None
        Listed symbols (default BTCUSDT plus ETHUSDT; only the recorded one has market data).
    maker_fee, taker_fee : str
        Commission rates, charged in the asset received (Binance spot's default, no BNB discount).
    weight_limit : int
        REQUEST_WEIGHT per minute; exceeding it answers 429 with ``Retry-After``.
    """

    def __init__(
        self,
        api_key: str = "test-key",
        api_secret: str = "test-secret",
        recording: Path | None = None,
        balances: dict[str, str] | None = None,
        symbols: list[SymbolSpec] | None = None,
        maker_fee: str = "0.001",
        taker_fee: str = "0.001",
        weight_limit: int = 6000,
    ) -> None:
        if recording is None:
            from importlib import resources

            recording = Path(str(resources.files("tradewire.samples").joinpath("binance_spot_btcusdt_20240808.gz")))
        self.api_key, self.api_secret = api_key, api_secret
        snap, self.messages = load_recording(Path(recording))
        self.symbols = {s.symbol: s for s in (symbols or [SymbolSpec("BTCUSDT", "BTC", "USDT"),
                                                          SymbolSpec("ETHUSDT", "ETH", "USDT")])}  # fmt: skip
        self.data_symbol = next(m["data"]["s"] for m in self.messages if "s" in m["data"])
        self.bids = {Decimal(p): Decimal(q) for p, q in snap["bids"]}
        self.asks = {Decimal(p): Decimal(q) for p, q in snap["asks"]}
        self.last_update_id: int = snap["lastUpdateId"]
        self.cursor = 0
        self.last_trade_px: Decimal | None = None
        self.balances = {a: [Decimal(v), D0] for a, v in (balances or {"USDT": "100000", "BTC": "1"}).items()}
        self.maker_fee, self.taker_fee = Decimal(maker_fee), Decimal(taker_fee)
        self.orders: dict[int, _Order] = {}
        self.my_trades: list[dict[str, Any]] = []
        self.klines: dict[int, list[Any]] = {}  # 1m open time -> [o, h, l, c, v, qv, n]
        self._next_order_id = 1000
        self._next_trade_id = 5000
        self.weight_limit = weight_limit
        self._weight: deque[tuple[float, int]] = deque()
        self.faults: list[Fault] = []
        self.clock_skew_ms = 0
        self.disconnect_after_next: set[str] = set()
        self.request_log: list[tuple[str, str]] = []
        self._market_ws: dict[web.WebSocketResponse, set[str]] = {}
        self._user_ws: dict[web.WebSocketResponse, int] = {}
        self._time_shift_ms: int | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._play_task: asyncio.Task | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> int:
        """Start serving in a background thread; returns the port."""
        ready = threading.Event()

        def run() -> None:
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self._serve())
            ready.set()
            self.loop.run_forever()

        self._thread = threading.Thread(target=run, name="binance-test-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("BinanceServer did not start within 10 s")
        return self.port

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/v3/{path:.*}", self._rest)
        app.router.add_get("/stream/ws/{n}", self._market_socket)
        app.router.add_get("/stream/ws", self._market_socket)
        app.router.add_get("/ws-api/v3", self._api_socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        """Close every connection and stop the server thread."""
        if self.loop is None:
            return

        async def shutdown() -> None:
            if self._play_task:
                self._play_task.cancel()
            for ws in list(self._market_ws) + list(self._user_ws):
                await ws.close()
            if self._runner:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        if self._thread:
            self._thread.join(5)
        self.loop = None

    @property
    def rest_url(self) -> str:
        """Base of the REST API (``http://127.0.0.1:PORT/api/v3``)."""
        return f"http://127.0.0.1:{self.port}/api/v3"

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the server's loop (the owner of all state) and return its result."""
        assert self.loop is not None

        async def wrap() -> Any:
            r = fn()
            return await r if asyncio.iscoroutine(r) else r

        return asyncio.run_coroutine_threadsafe(wrap(), self.loop).result(30)

    # ------------------------------------------------------------------ test controls
    def advance(self, n: int) -> int:
        """Publish the next ``n`` recorded messages (0 if the recording is exhausted); returns how many."""
        return self.call(lambda: self._advance(n))

    def play(self, speed: float | None = None, chunk: int = 50) -> None:
        """Publish the rest of the recording in the background (``speed`` x real time, None = flat out)."""

        async def run() -> None:
            prev: int | None = None
            while self.cursor < len(self.messages):
                if speed is not None:
                    ts = self._event_ms(self.messages[self.cursor]["data"])
                    if prev is not None and ts and ts > prev:
                        await asyncio.sleep((ts - prev) / 1000 / speed)
                    prev = ts or prev
                    await self._advance(1)
                else:
                    await self._advance(chunk)
                    await asyncio.sleep(0)

        def start() -> None:
            self._play_task = asyncio.get_running_loop().create_task(run())

        self.call(start)

    def wait_played(self, timeout: float = 60) -> None:
        """Block until :meth:`play` has published everything."""
        deadline = time.monotonic() + timeout
        while self.cursor < len(self.messages):
            if time.monotonic() > deadline:
                raise TimeoutError(f"replay at {self.cursor}/{len(self.messages)} after {timeout} s")
            time.sleep(0.01)

    def inject(self, fault: Fault) -> None:
        """Answer the next matching request(s) with an error instead of serving them."""
        self.call(lambda: self.faults.append(fault))

    def drop_streams(self, market: bool = True, user: bool = True) -> None:
        """Cut websocket connections abruptly (as a network drop would)."""

        async def cut() -> None:
            for ws in list(self._market_ws) if market else []:
                self._market_ws.pop(ws, None)
                await ws.close(code=1006)
            for ws in list(self._user_ws) if user else []:
                self._user_ws.pop(ws, None)
                await ws.close(code=1006)

        self.call(cut)

    def subscriber_count(self) -> int:
        """Open market-stream connections with at least one subscription."""
        return sum(1 for s in self._market_ws.values() if s)

    def book_top(self, depth: int = 20) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """The exchange's own book: ``depth`` best bids and asks as (price, qty)."""
        return self.call(lambda: self._top(depth))

    def fill_resting(self, order_id: int, qty: str, price: str | None = None) -> None:
        """Fill part of a resting order as maker (a counterparty arrived)."""

        def do() -> Any:
            o = self.orders[order_id]
            return self._fill(o, Decimal(qty), Decimal(price) if price else o.price, maker=True)

        self.call(do)

    # ------------------------------------------------------------------ market replay
    def _now_ms(self) -> int:
        return int(time.time() * 1000) + self.clock_skew_ms

    @staticmethod
    def _event_ms(d: dict[str, Any]) -> int:
        return int(d.get("E") or d.get("T") or 0)

    def _top(self, depth: int) -> tuple[list, list]:
        b = sorted(self.bids.items(), reverse=True)[:depth]
        a = sorted(self.asks.items())[:depth]
        return b, a

    async def _advance(self, n: int) -> int:
        done = 0
        while done < n and self.cursor < len(self.messages):
            msg = self.messages[self.cursor]
            self.cursor += 1
            done += 1
            stream, d = msg["stream"], dict(msg["data"])
            te = self._event_ms(d)
            if self._time_shift_ms is None and te:
                self._time_shift_ms = int(time.time() * 1000) - te
            for k in ("E", "T"):
                if k in d:
                    d[k] = d[k] + (self._time_shift_ms or 0)
            kind = stream.split("@", 1)[1]
            if d.get("e") == "depthUpdate":
                for side, levels in ((self.bids, d["b"]), (self.asks, d["a"])):
                    for p, q in levels:
                        if Decimal(q) == 0:
                            side.pop(Decimal(p), None)
                        else:
                            side[Decimal(p)] = Decimal(q)
                self.last_update_id = d["u"]
                await self._publish(d, ("depth", "depth@100ms"))
            elif d.get("e") == "trade":
                await self._publish(d, ("trade",))
                await self._on_market_trade(d)
            elif kind == "bookTicker":
                await self._publish(d, ("bookTicker",))
        return done

    async def _publish(self, d: dict[str, Any], kinds: tuple[str, ...]) -> None:
        sym = d["s"].lower()
        names = {f"{sym}@{k}" for k in kinds}
        text = json.dumps(d)
        for ws, subs in list(self._market_ws.items()):
            if subs & names and not ws.closed:
                await ws.send_str(text)

    async def _on_market_trade(self, d: dict[str, Any]) -> None:
        px, qty, t = Decimal(d["p"]), Decimal(d["q"]), d["T"]
        self.last_trade_px = px
        ot = t - t % 60_000
        k = self.klines.get(ot)
        if k is None:
            self.klines[ot] = [px, px, px, px, qty, px * qty, 1]
        else:
            k[1], k[2], k[3] = max(k[1], px), min(k[2], px), px
            k[4] += qty
            k[5] += px * qty
            k[6] += 1
        for interval in {s.split("@kline_")[1] for subs in self._market_ws.values() for s in subs if "@kline_" in s}:
            await self._publish_kline(d["s"], interval, t)
        for o in [o for o in self.orders.values() if o.status in ("NEW", "PARTIALLY_FILLED") and o.symbol == d["s"]]:
            if not o.triggered:
                hit = (px >= o.stop_price) if o.side == "BUY" else (px <= o.stop_price)
                if not hit:
                    continue
                o.triggered = True
                if o.type in ("STOP_LOSS", "TAKE_PROFIT"):
                    await self._take(o)
                    continue
            if o.type == "MARKET" or o.price == 0:
                continue
            crosses = px < o.price if o.side == "BUY" else px > o.price
            touches = px == o.price and ((o.side == "BUY") == bool(d["m"]))
            if crosses or touches:
                await self._fill(o, min(qty, o.qty - o.executed), o.price, maker=True)

    async def _publish_kline(self, symbol: str, interval: str, t: int) -> None:
        ms = INTERVAL_MS.get(interval)
        if ms is None:
            return
        start = t - t % ms
        rows = [v for k, v in self.klines.items() if start <= k < start + ms]
        if not rows:
            return
        o, h, lo, c = rows[0][0], max(r[1] for r in rows), min(r[2] for r in rows), rows[-1][3]
        v, qv, n = sum(r[4] for r in rows), sum(r[5] for r in rows), sum(r[6] for r in rows)
        k = {"t": start, "T": start + ms - 1, "s": symbol, "i": interval, "f": 0, "L": 0, "o": str(o), "c": str(c),
             "h": str(h), "l": str(lo), "v": str(v), "n": n, "x": False, "q": str(qv), "V": "0", "Q": "0",
             "B": "0"}  # fmt: skip
        await self._publish({"e": "kline", "E": t, "s": symbol, "k": k}, (f"kline_{interval}",))

    # ------------------------------------------------------------------ websockets
    async def _market_socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        self._market_ws[ws] = set()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                req = json.loads(msg.data)
                method, params, rid = req.get("method"), req.get("params", []), req.get("id")
                if method == "SUBSCRIBE":
                    self._market_ws.get(ws, set()).update(params)
                    await ws.send_str(json.dumps({"result": None, "id": rid}))
                elif method == "UNSUBSCRIBE":
                    self._market_ws.get(ws, set()).difference_update(params)
                    await ws.send_str(json.dumps({"result": None, "id": rid}))
                elif method == "LIST_SUBSCRIPTIONS":
                    await ws.send_str(json.dumps({"result": sorted(self._market_ws.get(ws, ())), "id": rid}))
                else:
                    await ws.send_str(
                        json.dumps({"error": {"code": 2, "msg": f"Invalid request: {method}"}, "id": rid})
                    )
        finally:
            self._market_ws.pop(ws, None)
        return ws

    async def _api_socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                req = json.loads(msg.data)
                rid, method, params = req.get("id"), req.get("method"), dict(req.get("params") or {})
                try:
                    if method == "userDataStream.subscribe.signature":
                        sig = params.pop("signature", "")
                        if params.get("apiKey") != self.api_key:
                            raise ApiError(401, -2015, "Invalid API-key, IP, or permissions for action.")
                        payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
                        self._check_signature(payload, sig)
                        self._check_timestamp(params)
                        sub_id = len(self._user_ws)
                        self._user_ws[ws] = sub_id
                        result: Any = {"subscriptionId": sub_id}
                    elif method == "ping":
                        result = {}
                    else:
                        raise ApiError(400, -1100, f"Unknown method {method}")
                    await ws.send_str(json.dumps({"id": rid, "status": 200, "result": result}))
                except ApiError as e:
                    body = {"id": rid, "status": e.status, "error": {"code": e.code, "msg": e.msg}}
                    await ws.send_str(json.dumps(body))
        finally:
            self._user_ws.pop(ws, None)
        return ws

    async def _user_event(self, event: dict[str, Any]) -> None:
        for ws, sub_id in list(self._user_ws.items()):
            if not ws.closed:
                await ws.send_str(json.dumps({"subscriptionId": sub_id, "event": event}))

    # ------------------------------------------------------------------ REST
    def _check_signature(self, payload: str, signature: str) -> None:
        want = hmac.new(self.api_secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, signature):
            raise ApiError(400, -1022, "Signature for this request is not valid.")

    def _check_timestamp(self, params: dict[str, str]) -> None:
        if "timestamp" not in params:
            raise ApiError(400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
        ts, now = int(params["timestamp"]), self._now_ms()
        window = int(params.get("recvWindow", 5000))
        if ts >= now + 1000 or now - ts > window:
            raise ApiError(400, -1021, "Timestamp for this request is outside of the recvWindow.")

    def _use_weight(self, weight: int) -> int:
        now = time.monotonic()
        while self._weight and now - self._weight[0][0] > 60:
            self._weight.popleft()
        used = sum(w for _, w in self._weight) + weight
        if used > self.weight_limit:
            raise ApiError(429, -1003, "Too much request weight used; current limit is "
                           f"{self.weight_limit} request weight per 1 MINUTE.", {"Retry-After": "1"})  # fmt: skip
        self._weight.append((now, weight))
        return used

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path, method = request.match_info["path"], request.method
        self.request_log.append((method, path))
        raw_q, raw_b = request.query_string, (await request.text() if request.can_read_body else "")
        params = dict(parse_qsl(raw_q, keep_blank_values=True)) | dict(parse_qsl(raw_b, keep_blank_values=True))
        headers: dict[str, str] = {}
        try:
            for f in self.faults:
                if f.method == method and f.path == path and f.count > 0:
                    f.count -= 1
                    if f.count == 0:
                        self.faults.remove(f)
                    ra = {"Retry-After": str(f.retry_after)} if f.retry_after is not None else {}
                    raise ApiError(f.status, f.code, f.msg, ra)
            weight = {"depth": 25, "exchangeInfo": 20, "account": 20, "myTrades": 20, "allOrders": 20,
                      "openOrders": 6}.get(path, 2)  # fmt: skip
            headers["X-MBX-USED-WEIGHT-1M"] = str(self._use_weight(weight))
            if "signature" in params:
                if request.headers.get("X-MBX-APIKEY") != self.api_key:
                    raise ApiError(401, -2015, "Invalid API-key, IP, or permissions for action.")
                total = raw_q + raw_b
                body, _, sig = total.rpartition("&signature=")
                self._check_signature(body, sig)
                self._check_timestamp(params)
                params.pop("signature")
            elif path in _SIGNED:
                raise ApiError(
                    400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
                )
            handler = getattr(self, "_h_" + path.replace("/", "_") + "_" + method.lower(), None)
            if handler is None:
                raise ApiError(404, -1100, f"unknown endpoint {method} /api/v3/{path}")
            result = await handler(params)
            if (method, path) in {(m, p) for m, p in (k.split(" ", 1) for k in self.disconnect_after_next)}:
                self.disconnect_after_next.discard(f"{method} {path}")
                assert request.transport is not None
                request.transport.close()
                return web.Response(status=500)
            return web.json_response(result, headers=headers)
        except ApiError as e:
            return web.json_response({"code": e.code, "msg": e.msg}, status=e.status, headers=headers | e.headers)

    async def _h_ping_get(self, p: dict) -> Any:
        return {}

    async def _h_time_get(self, p: dict) -> Any:
        return {"serverTime": self._now_ms()}

    async def _h_exchangeInfo_get(self, p: dict) -> Any:
        syms = []
        for s in self.symbols.values():
            syms.append({
                "symbol": s.symbol, "status": "TRADING", "baseAsset": s.base, "baseAssetPrecision": 8,
                "quoteAsset": s.quote, "quotePrecision": 8, "quoteAssetPrecision": 8, "baseCommissionPrecision": 8,
                "quoteCommissionPrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                               "TAKE_PROFIT_LIMIT"],
                "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True, "quoteOrderQtyMarketAllowed": True,
                "allowTrailingStop": True, "cancelReplaceAllowed": True, "amendAllowed": True,
                "isSpotTradingAllowed": True, "isMarginTradingAllowed": False,
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": s.tick_size, "maxPrice": "1000000.00000000",
                     "tickSize": s.tick_size},
                    {"filterType": "LOT_SIZE", "minQty": s.min_qty, "maxQty": "9000.00000000", "stepSize": s.step_size},
                    {"filterType": "NOTIONAL", "minNotional": s.min_notional, "applyMinToMarket": True,
                     "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
                ],
                "permissions": [], "permissionSets": [["SPOT"]], "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
                "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
            })  # fmt: skip
        limits = [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": self.weight_limit}
        ]
        return {"timezone": "UTC", "serverTime": self._now_ms(), "rateLimits": limits, "exchangeFilters": [],
                "symbols": syms}  # fmt: skip

    def _symbol(self, p: dict) -> SymbolSpec:
        s = self.symbols.get(p.get("symbol", ""))
        if s is None:
            raise ApiError(400, -1121, "Invalid symbol.")
        return s

    async def _h_depth_get(self, p: dict) -> Any:
        self._symbol(p)
        b, a = self._top(int(p.get("limit", 100)))
        return {"lastUpdateId": self.last_update_id, "bids": [[f"{x:.8f}", f"{y:.8f}"] for x, y in b],
                "asks": [[f"{x:.8f}", f"{y:.8f}"] for x, y in a]}  # fmt: skip

    async def _h_klines_get(self, p: dict) -> Any:
        self._symbol(p)
        ms = INTERVAL_MS.get(p.get("interval", ""))
        if ms is None or ms % 60_000:
            raise ApiError(400, -1120, "Invalid interval.")
        start, end = int(p.get("startTime", 0)), int(p.get("endTime", 2**62))
        limit = min(int(p.get("limit", 500)), 1000)
        self._ensure_klines()
        buckets: dict[int, list[list[Any]]] = {}
        for t in sorted(self.klines):
            buckets.setdefault(t - t % ms, []).append(self.klines[t])
        out = []
        for t in sorted(buckets):
            if t < start or t > end:
                continue
            rows = buckets[t]
            o, c = rows[0][0], rows[-1][3]
            h, lo = max(r[1] for r in rows), min(r[2] for r in rows)
            v, qv, n = sum(r[4] for r in rows), sum(r[5] for r in rows), sum(r[6] for r in rows)
            out.append([t, f"{o:.8f}", f"{h:.8f}", f"{lo:.8f}", f"{c:.8f}", f"{v:.8f}", t + ms - 1, f"{qv:.8f}", n,
                        "0", "0", "0"])  # fmt: skip
            if len(out) >= limit:
                break
        return out

    def _ensure_klines(self) -> None:
        """Klines come from the whole recording's trades (with their recorded timestamps) on first use."""
        if getattr(self, "_hist", None) is None:
            hist: dict[int, list[Any]] = {}
            for m in self.messages:
                d = m["data"]
                if d.get("e") != "trade":
                    continue
                px, q, t = Decimal(d["p"]), Decimal(d["q"]), d["T"]
                ot = t - t % 60_000
                k = hist.get(ot)
                if k is None:
                    hist[ot] = [px, px, px, px, q, px * q, 1]
                else:
                    k[1], k[2], k[3] = max(k[1], px), min(k[2], px), px
                    k[4], k[5], k[6] = k[4] + q, k[5] + px * q, k[6] + 1
            self._hist = hist
        self.klines = {**self._hist, **self.klines}

    # -- account & orders ---------------------------------------------------------------------
    async def _h_account_get(self, p: dict) -> Any:
        bals = [{"asset": a, "free": f"{f:.8f}", "locked": f"{lk:.8f}"} for a, (f, lk) in self.balances.items()]
        return {"makerCommission": 10, "takerCommission": 10, "buyerCommission": 0, "sellerCommission": 0,
                "commissionRates": {"maker": str(self.maker_fee), "taker": str(self.taker_fee), "buyer": "0",
                                    "seller": "0"},
                "canTrade": True, "canWithdraw": False, "canDeposit": False, "brokered": False,
                "requireSelfTradePrevention": False, "preventSor": False, "updateTime": self._now_ms(),
                "accountType": "SPOT", "balances": bals, "permissions": ["SPOT"], "uid": 1}  # fmt: skip

    def _find(self, p: dict) -> _Order:
        sym = self._symbol(p).symbol
        if "orderId" in p:
            o = self.orders.get(int(p["orderId"]))
        else:
            coid = p.get("origClientOrderId")
            o = next((x for x in sorted(self.orders.values(), key=lambda x: -x.order_id)
                      if x.client_order_id == coid and x.symbol == sym), None)  # fmt: skip
        if o is None or o.symbol != sym:
            raise ApiError(400, -2013, "Order does not exist.")
        return o

    async def _h_order_get(self, p: dict) -> Any:
        return self._find(p).wire()

    async def _h_openOrders_get(self, p: dict) -> Any:
        sym = p.get("symbol")
        return [o.wire() for o in self.orders.values()
                if o.status in ("NEW", "PARTIALLY_FILLED") and (sym is None or o.symbol == sym)]  # fmt: skip

    async def _h_allOrders_get(self, p: dict) -> Any:
        sym = self._symbol(p).symbol
        return [o.wire() for o in self.orders.values() if o.symbol == sym]

    async def _h_myTrades_get(self, p: dict) -> Any:
        sym = self._symbol(p).symbol
        start = int(p.get("startTime", 0))
        oid = int(p["orderId"]) if "orderId" in p else None
        out = [t for t in self.my_trades if t["symbol"] == sym and t["time"] >= start
               and (oid is None or t["orderId"] == oid)]  # fmt: skip
        return out[: int(p.get("limit", 500))]

    async def _h_order_delete(self, p: dict) -> Any:
        try:
            o = self._find(p)
        except ApiError:
            raise ApiError(400, -2011, "Unknown order sent.") from None
        if o.status not in ("NEW", "PARTIALLY_FILLED"):
            raise ApiError(400, -2011, "Unknown order sent.")
        await self._cancel(o)
        return o.wire() | {"origClientOrderId": o.client_order_id}

    async def _h_openOrders_delete(self, p: dict) -> Any:
        sym = self._symbol(p).symbol
        out = []
        for o in [o for o in self.orders.values() if o.symbol == sym and o.status in ("NEW", "PARTIALLY_FILLED")]:
            await self._cancel(o)
            out.append(o.wire())
        return out

    async def _h_order_cancelReplace_post(self, p: dict) -> Any:
        cancel = {"symbol": p["symbol"]}
        if "cancelOrderId" in p:
            cancel["orderId"] = p["cancelOrderId"]
        else:
            cancel["origClientOrderId"] = p.get("cancelOrigClientOrderId", "")
        try:
            old = self._find(cancel)
            if old.status not in ("NEW", "PARTIALLY_FILLED"):
                raise ApiError(400, -2011, "Unknown order sent.")
        except ApiError as e:
            raise ApiError(
                400,
                -2022,
                "Order cancel-replace failed.",
            ) from e
        await self._cancel(old)
        new = dict(p)
        for k in ("cancelOrderId", "cancelOrigClientOrderId", "cancelReplaceMode", "cancelNewClientOrderId"):
            new.pop(k, None)
        res = await self._h_order_post(new)
        return {"cancelResult": "SUCCESS", "newOrderResult": "SUCCESS", "cancelResponse": old.wire(),
                "newOrderResponse": res}  # fmt: skip

    async def _h_order_post(self, p: dict) -> Any:
        s = self._symbol(p)
        side, typ = p.get("side", ""), p.get("type", "")
        if side not in ("BUY", "SELL"):
            raise ApiError(400, -1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed.")
        if typ not in ("LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                       "TAKE_PROFIT_LIMIT"):  # fmt: skip
            raise ApiError(400, -1116, "Invalid orderType.")
        qty = Decimal(p.get("quantity", "0"))
        price = Decimal(p.get("price", "0"))
        stop = Decimal(p.get("stopPrice", "0"))
        tick, step = Decimal(s.tick_size), Decimal(s.step_size)
        if qty <= 0:
            raise ApiError(400, -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.")
        if qty % step or qty < Decimal(s.min_qty):
            raise ApiError(400, -1013, "Filter failure: LOT_SIZE")
        if typ not in ("MARKET", "STOP_LOSS", "TAKE_PROFIT") and (price <= 0 or price % tick):
            raise ApiError(400, -1013, "Filter failure: PRICE_FILTER")
        coid = p.get("newClientOrderId") or f"x-{self._next_order_id}"
        if any(o.client_order_id == coid and o.status in ("NEW", "PARTIALLY_FILLED") for o in self.orders.values()):
            raise ApiError(400, -2010, "Duplicate order sent.")
        ref = price or self._ref_price(side)
        if ref is not None and qty * ref < Decimal(s.min_notional):
            raise ApiError(400, -1013, "Filter failure: NOTIONAL")
        if typ == "LIMIT_MAKER" and self._crosses(side, price):
            raise ApiError(400, -2010, "Order would immediately match and take.")
        need_asset, need = (s.quote, qty * (ref or D0)) if side == "BUY" else (s.base, qty)
        if typ == "MARKET" and side == "BUY":
            need = need * Decimal("1.0001")
        free = self.balances.get(need_asset, [D0, D0])[0]
        if need > free:
            raise ApiError(400, -2010, "Account has insufficient balance for requested action.")
        now = self._now_ms()
        o = _Order(s.symbol, self._next_order_id, coid, side, typ, p.get("timeInForce", "GTC"), qty, price, stop, now)
        o.triggered = typ in ("LIMIT", "LIMIT_MAKER", "MARKET")
        self._next_order_id += 1
        self.orders[o.order_id] = o
        if typ != "MARKET":
            lock = qty * price if side == "BUY" else qty
            if typ in ("STOP_LOSS", "TAKE_PROFIT") and side == "BUY":
                lock = qty * (ref or D0)
            bal = self.balances.setdefault(need_asset, [D0, D0])
            bal[0] -= lock
            bal[1] += lock
        await self._report(o, "NEW")
        fills: list[dict[str, Any]] = []
        if o.triggered and typ != "LIMIT_MAKER":
            fills = await self._take(o)
        resp = o.wire() | {"transactTime": now, "fills": fills}
        if p.get("newOrderRespType") == "ACK":
            return {"symbol": o.symbol, "orderId": o.order_id, "orderListId": -1, "clientOrderId": coid,
                    "transactTime": now}  # fmt: skip
        return resp

    def _ref_price(self, side: str) -> Decimal | None:
        book = self.asks if side == "BUY" else self.bids
        if not book:
            return self.last_trade_px
        return min(book) if side == "BUY" else max(book)

    def _crosses(self, side: str, price: Decimal) -> bool:
        best = self._ref_price(side)
        return best is not None and (price >= best if side == "BUY" else price <= best)

    async def _take(self, o: _Order) -> list[dict[str, Any]]:
        """Match an incoming (or just triggered) order against the book as taker, level by level."""
        levels = sorted(self.asks.items()) if o.side == "BUY" else sorted(self.bids.items(), reverse=True)
        fills = []
        for px, avail in levels:
            left = o.qty - o.executed
            if left <= 0:
                break
            if o.type not in ("MARKET", "STOP_LOSS", "TAKE_PROFIT") and (
                px > o.price if o.side == "BUY" else px < o.price
            ):
                break
            fills.append(await self._fill(o, min(left, avail), px, maker=False))
        if (o.tif in ("IOC", "FOK") or o.type in ("MARKET", "STOP_LOSS", "TAKE_PROFIT")) and o.executed < o.qty:
            await self._cancel(o, status="EXPIRED")
        return fills

    async def _fill(self, o: _Order, qty: Decimal, px: Decimal, maker: bool) -> dict[str, Any]:
        s = self.symbols[o.symbol]
        rate = self.maker_fee if maker else self.taker_fee
        now = self._now_ms()
        quote = px * qty
        if o.side == "BUY":
            fee, fee_asset = (qty * rate).quantize(Decimal("1e-8"), ROUND_DOWN), s.base
            q = self.balances.setdefault(s.quote, [D0, D0])
            if o.type in ("MARKET",):
                q[0] -= quote
            else:
                locked = qty * (o.price if o.price else px)
                q[1] -= locked
                q[0] += locked - quote
            b = self.balances.setdefault(s.base, [D0, D0])
            b[0] += qty - fee
        else:
            fee, fee_asset = (quote * rate).quantize(Decimal("1e-8"), ROUND_DOWN), s.quote
            b = self.balances.setdefault(s.base, [D0, D0])
            if o.type == "MARKET":
                b[0] -= qty
            else:
                b[1] -= qty
            q = self.balances.setdefault(s.quote, [D0, D0])
            q[0] += quote - fee
        o.executed += qty
        o.quote += quote
        o.update_time = now
        o.status = "FILLED" if o.executed >= o.qty else "PARTIALLY_FILLED"
        tid = self._next_trade_id
        self._next_trade_id += 1
        self.my_trades.append({
            "symbol": o.symbol, "id": tid, "orderId": o.order_id, "orderListId": -1, "price": f"{px:.8f}",
            "qty": f"{qty:.8f}", "quoteQty": f"{quote:.8f}", "commission": f"{fee:.8f}", "commissionAsset": fee_asset,
            "time": now, "isBuyer": o.side == "BUY", "isMaker": maker, "isBestMatch": True,
        })  # fmt: skip
        await self._report(
            o, "TRADE", last_qty=qty, last_px=px, fee=fee, fee_asset=fee_asset, trade_id=tid, maker=maker
        )
        return {"price": f"{px:.8f}", "qty": f"{qty:.8f}", "commission": f"{fee:.8f}", "commissionAsset": fee_asset,
                "tradeId": tid}  # fmt: skip

    async def _cancel(self, o: _Order, status: str = "CANCELED") -> None:
        s = self.symbols[o.symbol]
        if o.type != "MARKET":
            left = o.qty - o.executed
            asset, amount = (s.quote, left * o.price) if o.side == "BUY" else (s.base, left)
            if o.type in ("STOP_LOSS", "TAKE_PROFIT") and o.side == "BUY":
                amount = D0
            bal = self.balances.setdefault(asset, [D0, D0])
            bal[1] -= amount
            bal[0] += amount
        o.status = status
        o.update_time = self._now_ms()
        await self._report(o, status)

    async def _report(self, o: _Order, exec_type: str, last_qty: Decimal = D0, last_px: Decimal = D0,
                      fee: Decimal = D0, fee_asset: str | None = None, trade_id: int = -1,
                      maker: bool = False) -> None:  # fmt: skip
        now = self._now_ms()
        ev = {
            "e": "executionReport", "E": now, "s": o.symbol, "c": o.client_order_id, "S": o.side, "o": o.type,
            "f": o.tif, "q": f"{o.qty:.8f}", "p": f"{o.price:.8f}", "P": f"{o.stop_price:.8f}", "F": "0.00000000",
            "g": -1, "C": "", "x": exec_type, "X": o.status, "r": "NONE", "i": o.order_id,
            "l": f"{last_qty:.8f}", "z": f"{o.executed:.8f}", "L": f"{last_px:.8f}", "n": f"{fee:.8f}",
            "N": fee_asset, "T": o.update_time or now, "t": trade_id, "I": 0,
            "w": o.status in ("NEW", "PARTIALLY_FILLED"),
            "m": maker, "M": False, "O": o.time, "Z": f"{o.quote:.8f}", "Y": f"{last_px * last_qty:.8f}",
            "Q": "0.00000000", "W": o.time, "V": "EXPIRE_MAKER",
        }  # fmt: skip
        await self._user_event(ev)
        bals = [{"a": a, "f": f"{f:.8f}", "l": f"{lk:.8f}"} for a, (f, lk) in self.balances.items()]
        await self._user_event({"e": "outboundAccountPosition", "E": now, "u": now, "B": bals})


_SIGNED = {"account", "order", "openOrders", "allOrders", "myTrades", "order/cancelReplace"}

__all__ = ["ApiError", "BinanceServer", "Fault", "SymbolSpec", "load_recording"]
