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

Exchange state and matching live in :mod:`tradewire.testing.binance_exchange`.

Test controls (thread-safe, called from the test thread): :meth:`BinanceServer.advance`,
:meth:`~BinanceServer.play`, :meth:`~BinanceServer.inject`, :meth:`~BinanceServer.drop_streams`,
``clock_skew_ms``, ``disconnect_after_next`` (the request is processed, then the connection is cut
before the answer: the client sees a network error for an order the exchange did receive).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from tradewire.testing.binance_exchange import (
    _SIGNED,
    ApiError,
    BinanceExchange,
    SymbolSpec,
    load_recording,
)


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


class BinanceServer(BinanceExchange):
    """Binance spot REST + websocket server on 127.0.0.1 (see module docstring).

    Parameters
    ----------
    api_key, api_secret : str
        The only accepted credentials.
    recording, balances, symbols, maker_fee, taker_fee, weight_limit
        As :class:`~tradewire.testing.binance_exchange.BinanceExchange`; exceeding ``weight_limit`` per minute
        answers 429 with ``Retry-After``.
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
        super().__init__(recording, balances, symbols, maker_fee, taker_fee, weight_limit)
        self.api_key, self.api_secret = api_key, api_secret
        self._weight: deque[tuple[float, int]] = deque()
        self.faults: list[Fault] = []
        self.disconnect_after_next: set[str] = set()
        self.request_log: list[tuple[str, str]] = []
        self._market_ws: dict[web.WebSocketResponse, set[str]] = {}
        self._user_ws: dict[web.WebSocketResponse, int] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._play_task: asyncio.Task | None = None

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

    async def _publish(self, d: dict[str, Any], kinds: tuple[str, ...]) -> None:
        sym = d["s"].lower()
        names = {f"{sym}@{k}" for k in kinds}
        text = json.dumps(d)
        for ws, subs in list(self._market_ws.items()):
            if subs & names and not ws.closed:
                await ws.send_str(text)

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
        raw_q, raw_b = request.query_string, (await request.text() if request.body_exists else "")
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


__all__ = ["ApiError", "BinanceServer", "Fault", "SymbolSpec", "load_recording"]
