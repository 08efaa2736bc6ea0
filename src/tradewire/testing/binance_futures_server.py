"""A local Binance USD-M futures exchange on 127.0.0.1 speaking Binance's real ``/fapi`` and ``fstream`` protocols.

Protocol implemented (Binance USD-M Futures docs, "General Info", "Websocket Market Streams",
"User Data Streams")
------------------------------------------------------------------------------------------------
REST under ``/fapi/v1``: ``ping``, ``time``, ``exchangeInfo``, ``depth``, ``klines``, and SIGNED ``order``
(POST/GET/DELETE), ``openOrders``, ``allOpenOrders`` (DELETE), ``allOrders``, ``userTrades``, ``leverage``,
``marginType``, ``positionSide/dual`` (GET/POST), ``leverageBracket``; ``/fapi/v2`` and ``/fapi/v3``:
``account``, ``balance``, ``positionRisk``. SIGNED means ``X-MBX-APIKEY`` plus ``timestamp`` and an
HMAC-SHA256 ``signature`` over the total params, checked exactly as the spot server does
(:class:`~tradewire.testing.binance_server.BinanceServer`). ``/fapi/v1/listenKey`` (POST/PUT/DELETE, USER_STREAM:
API key header only) hands out the user-data stream key.

Websockets: market streams on ``/fws/{public,market}/ws[/<n>]`` (Binance's 2025 split of ``fstream`` into
``/public`` for book data and ``/market`` for the rest; plain ``/fws/ws[/<n>]`` too), with ``SUBSCRIBE``/
``UNSUBSCRIBE`` as on spot (
``<symbol>@depth[@0ms|@100ms|@500ms]`` diffs with ``U``/``u``/``pu``, ``@trade``, ``@aggTrade``,
``@bookTicker``); the user-data stream on ``/fws/private/ws?listenKey=<key>`` (or ``/fws/ws/<key>``) sends raw
``ORDER_TRADE_UPDATE`` and ``ACCOUNT_UPDATE`` events. Point ccxt's ``https://fapi.binance.com`` at
``http://127.0.0.1:PORT`` and ``wss://fstream.binance.com`` at ``ws://127.0.0.1:PORT/fws``
(:meth:`BinanceFuturesServer.ccxt_url_rewrites`; the path must not contain ``/stream``, which ccxt takes for a
spot connection).

Test controls are the spot server's (``advance``, ``play``, ``inject``, ``drop_streams``, ``book_top``, ...);
fault and ``disconnect_after_next`` paths carry the version: ``"v1/order"``.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from aiohttp import web

from tradewire.testing.binance_exchange import ApiError, SymbolSpec
from tradewire.testing.binance_futures import BinanceFuturesExchange
from tradewire.testing.binance_futures_orders import FuturesSymbolSpec
from tradewire.testing.binance_server import BinanceServer

_PUBLIC = {"v1/ping", "v1/time", "v1/exchangeInfo", "v1/depth", "v1/klines"}
_USER_STREAM = "v1/listenKey"


class BinanceFuturesServer(BinanceFuturesExchange, BinanceServer):
    """Binance USD-M futures REST + websocket server on 127.0.0.1 (see module docstring).

    Parameters
    ----------
    api_key, api_secret : str
        The only accepted credentials.
    recording : Path
        Recorded USD-M capture to replay (``<recv_ns> <json>`` lines with one REST depth snapshot, e.g.
        ``tests/fixtures/binance/hftbacktest_binance_usdm_btcusdt_20240718.gz``).
    wallet : str
        Starting USDT wallet balance.
    spec : FuturesSymbolSpec | None
        The listed perpetual (default Binance's BTCUSDT filters); must be the recorded symbol.
    leverage : int
        Initial leverage of every symbol.
    maker_fee, taker_fee : str
        Commission rates on the fill notional, in USDT (Binance USD-M VIP 0: 0.02 % / 0.05 %).
    weight_limit : int
        REQUEST_WEIGHT per minute.
    """

    def __init__(
        self,
        recording: Path,
        api_key: str = "test-key",
        api_secret: str = "test-secret",
        wallet: str = "100000",
        spec: FuturesSymbolSpec | None = None,
        leverage: int = 20,
        maker_fee: str = "0.0002",
        taker_fee: str = "0.0005",
        weight_limit: int = 2400,
    ) -> None:
        recording = Path(recording)
        spec = spec or FuturesSymbolSpec()
        BinanceServer.__init__(self, api_key, api_secret, recording, {}, [SymbolSpec(spec.symbol, spec.base,
                               spec.quote, spec.tick_size, spec.step_size, spec.min_qty, spec.min_notional)],
                               maker_fee, taker_fee, weight_limit)  # fmt: skip
        self._init_futures(recording, wallet, spec, leverage, maker_fee, taker_fee)
        self.listen_keys: set[str] = set()
        self._listen_ws: set[web.WebSocketResponse] = set()

    @property
    def rest_url(self) -> str:
        """Base of the REST API (``http://127.0.0.1:PORT/fapi/v1``)."""
        return f"http://127.0.0.1:{self.port}/fapi/v1"

    def ccxt_url_rewrites(self) -> dict[str, str]:
        """``url_rewrites`` pointing ccxt's USD-M REST and stream URLs at this server."""
        base = f"http://127.0.0.1:{self.port}"
        return {"https://fapi.binance.com": base, "wss://fstream.binance.com": f"ws://127.0.0.1:{self.port}/fws"}

    def position(self, symbol: str = "BTCUSDT", position_side: str = "BOTH") -> dict[str, Any]:
        """The ``/fapi/v2/positionRisk`` row of one position, as the venue reports it (thread-safe)."""

        def row() -> dict[str, Any]:
            rows = self._position_rows(symbol, v3=False)
            return next(r for r in rows if r["positionSide"] == position_side)

        return self.call(row)

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/fapi/{ver:v[123]}/{path:.*}", self._frest)
        for category in ("", "/public", "/market"):
            app.router.add_get(f"/fws{category}/ws", self._market_socket)
            app.router.add_get(f"/fws{category}/ws/{{n}}", self._fsocket)
        app.router.add_get("/fws/private/ws", self._fsocket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        """Close every connection (user streams included) and stop the server thread."""
        if self.loop is not None:

            async def close_user() -> None:
                for ws in list(self._listen_ws):
                    await ws.close()

            self.call(close_user)
        super().stop()

    async def _frest(self, request: web.Request) -> web.StreamResponse:
        """Route ``/fapi/vN/<path>`` to the shared REST machinery with the path ``vN/<path>``."""
        ver, path = request.match_info["ver"], request.match_info["path"]
        key = f"{ver}/{path}"
        if key == _USER_STREAM:
            return await self._listen_key(request)
        if key not in _PUBLIC:
            raw = request.query_string + (await request.text() if request.body_exists else "")
            if "signature=" not in raw:
                body = {"code": -1102, "msg": "Mandatory parameter 'signature' was not sent, was empty/null, or "
                        "malformed."}  # fmt: skip
                return web.json_response(body, status=400)
        request.match_info["path"] = key  # type: ignore[index]
        return await self._rest(request)

    async def _listen_key(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("X-MBX-APIKEY") != self.api_key:
            return web.json_response({"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."},
                                     status=401)  # fmt: skip
        if request.method == "POST":
            key = next(iter(self.listen_keys), None) or secrets.token_hex(32)
            self.listen_keys.add(key)
            return web.json_response({"listenKey": key})
        if request.method == "PUT":
            if not self.listen_keys:
                return web.json_response({"code": -1125, "msg": "This listenKey does not exist."}, status=400)
            return web.json_response({"listenKey": next(iter(self.listen_keys))})
        if request.method == "DELETE":
            self.listen_keys.clear()
            return web.json_response({})
        return web.json_response({"code": -1100, "msg": "unsupported method"}, status=405)

    async def _fsocket(self, request: web.Request) -> web.WebSocketResponse:
        """``/fws/private/ws?listenKey=<key>`` (and legacy ``/fws/ws/<key>``) is a user-data stream; any other
        ``/fws/.../ws/<n>`` a market-stream connection."""
        key = request.query.get("listenKey") or request.match_info.get("n", "")
        if key not in self.listen_keys:
            if "n" in request.match_info:
                return await self._market_socket(request)
            return web.json_response({"code": -1125, "msg": "This listenKey does not exist."}, status=400)
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        self._listen_ws.add(ws)
        try:
            async for _ in ws:
                pass  # the user-data stream takes no requests
        finally:
            self._listen_ws.discard(ws)
        return ws

    async def _user_event(self, event: dict[str, Any]) -> None:
        text = json.dumps(event)
        for ws in list(self._listen_ws):
            if not ws.closed:
                await ws.send_str(text)

    def drop_streams(self, market: bool = True, user: bool = True) -> None:
        """Cut websocket connections abruptly (market streams and/or user-data streams)."""
        super().drop_streams(market=market, user=False)
        if user:

            async def cut() -> None:
                for ws in list(self._listen_ws):
                    self._listen_ws.discard(ws)
                    await ws.close(code=1006)

            self.call(cut)


__all__ = ["ApiError", "BinanceFuturesServer", "FuturesSymbolSpec"]
