"""REST routes under ``/api``: trading, engine, connections, risk and market data.

Reads return the node's latest published views; commands go to the engine thread through
``node.request`` and return its result. Read routes are ``async`` (a published view is read without
blocking, so no worker-thread hop) and answer pre-encoded JSON: a view is encoded (orjson) once per
published version, because the engine thread replaces views and never mutates a published one.

Errors: 401 (auth), 404 (unknown id), 409 (refused in the current state), 422 (invalid body or
parameters), 504 (engine did not answer in time).
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from tradewire.node.commands import NodeCommandError

DecimalText = Annotated[
    str, Field(pattern=r"^[0-9]{1,12}(\.[0-9]{1,9})?$", description="exact decimal as text", examples=["0.01"])
]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "authentication required"},
    404: {"description": "unknown id"},
    409: {"description": "refused in the current state"},
    422: {"description": "invalid request"},
    504: {"description": "engine did not answer in time"},
}
Row = dict[str, Any]


class EncodedViews:
    """JSON bytes of published views, re-encoded only when the view object changes.

    The cache is keyed by name and holds a reference to the encoded object, so an identity check is exact
    (the object cannot be freed and its id reused while cached). Use it from one thread (the event loop).
    """

    def __init__(self) -> None:
        self._cache: dict[str, tuple[Any, bytes]] = {}
        self.encodes = 0

    def response(self, name: str, view: Any) -> Response:
        """A ``200 application/json`` response with ``view`` encoded (cached while ``view`` is the same object)."""
        hit = self._cache.get(name)
        if hit is None or hit[0] is not view:
            hit = (view, orjson.dumps(view, option=orjson.OPT_NON_STR_KEYS))
            self._cache[name] = hit
            self.encodes += 1
        return Response(hit[1], media_type="application/json")


def _json(obj: Any) -> Response:
    return Response(orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS), media_type="application/json")


class OrderRequest(BaseModel):
    """A new order (sent through the RiskEngine as strategy ``manual-001``)."""

    model_config = ConfigDict(extra="forbid")
    instrument_id: str = Field(max_length=64, examples=["BTCUSDT.BINANCE"])
    side: Literal["buy", "sell"]
    order_type: Literal["market", "limit", "stop_market"] = "market"
    quantity: DecimalText
    price: DecimalText | None = None
    trigger_price: DecimalText | None = None
    time_in_force: Literal["gtc", "ioc", "fok", "day"] = "gtc"
    reduce_only: bool = False
    post_only: bool = False


class ModifyRequest(BaseModel):
    """New quantity and/or prices for a working order."""

    model_config = ConfigDict(extra="forbid")
    quantity: DecimalText | None = None
    price: DecimalText | None = None
    trigger_price: DecimalText | None = None


class KillRequest(BaseModel):
    """Reason recorded with the operator action."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field("kill switch", max_length=200)


class LiveToggle(BaseModel):
    """Switch a connection to live trading; ``confirm`` must repeat the connection id."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool
    confirm: str | None = Field(None, max_length=64)


def build_router(node: Any, command_latency: Any, timeout_s: float = 5.0) -> APIRouter:
    """Create the ``/api`` router for ``node`` (auth is added by the caller as a router dependency)."""
    r = APIRouter(prefix="/api", responses=ERRORS)
    enc = EncodedViews()

    async def call(name: str, actor: str = "api", **params: Any) -> Any:
        t0 = time.perf_counter()
        fut = node.request(name, actor=actor, **params)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(fut), timeout_s)
        except NodeCommandError as exc:
            raise HTTPException(exc.status, str(exc)) from None
        except (ValueError, ArithmeticError) as exc:
            raise HTTPException(422, str(exc)) from None
        except TimeoutError:
            raise HTTPException(504, f"engine did not answer {name} within {timeout_s:g} s") from None
        finally:
            command_latency.observe(time.perf_counter() - t0)

    # -- health and trading ---------------------------------------------------------------------
    @r.get("/health", tags=["node"], response_model=Row)
    async def health() -> Response:
        """Node state, mode (paper/live, replay/real-time) and data position."""
        return enc.response("health", node.health())

    @r.get("/positions", tags=["trading"], response_model=list[Row])
    async def positions() -> Response:
        """Open positions with average price, mark and P&L (exact decimal strings)."""
        return enc.response("positions", node.positions())

    @r.get("/positions/history", tags=["trading"], response_model=list[Row])
    async def positions_history() -> Response:
        """Closed round trips, newest first (last 500)."""
        return enc.response("positions_history", node.view("positions_history") or [])

    @r.get("/orders", tags=["trading"], response_model=list[Row])
    async def orders(
        status: str | None = Query(None, max_length=32, description="filter by order status, e.g. filled"),
        instrument: str | None = Query(None, max_length=64, description="filter by instrument id"),
    ) -> Response:
        """Orders, newest first (last 500)."""
        rows = node.orders()
        if status is not None:
            rows = [o for o in rows if o["status"] == status.lower()]
        if instrument is not None:
            rows = [o for o in rows if o["instrument_id"] == instrument]
        return _json(rows)

    @r.post("/orders", tags=["trading"], status_code=202)
    async def submit_order(body: OrderRequest) -> Row:
        """Submit an order through the RiskEngine; returns the order row after risk (``denied`` with reason)."""
        return await call("submit_order", **body.model_dump())

    @r.delete("/orders/{client_order_id}", tags=["trading"], status_code=202)
    async def cancel_order(client_order_id: str = Path(max_length=128)) -> Row:
        """Request the cancel of a working order."""
        return await call("cancel_order", client_order_id=client_order_id)

    @r.patch("/orders/{client_order_id}", tags=["trading"], status_code=202)
    async def modify_order(body: ModifyRequest, client_order_id: str = Path(max_length=128)) -> Row:
        """Request a modification (quantity, price, trigger price) of a working order."""
        return await call("modify_order", client_order_id=client_order_id, **body.model_dump())

    @r.get("/fills", tags=["trading"], response_model=list[Row])
    async def fills() -> Response:
        """Executions, newest first (last 1000)."""
        return enc.response("fills", node.fills())

    @r.get("/trading/stats", tags=["trading"], response_model=Row)
    async def trading_stats() -> Response:
        """P&L (total, daily, realized, unrealized), fees, balance, win rate, profit factor, exposure."""
        return enc.response("stats", node.trading_stats())

    # -- engine and connections -----------------------------------------------------------------
    @r.get("/engine", tags=["engine"], response_model=Row)
    async def engine() -> Response:
        """Engine state (idle/initializing/running/stopped/finished/error), strategies, connections, counters."""
        return enc.response("engine", node.view("engine") or {})

    @r.post("/engine/start", tags=["engine"])
    async def engine_start() -> Row:
        """Start (resume) the engine: strategies start, the replay plays from the session's depth snapshot."""
        return await call("engine_start")

    @r.post("/engine/stop", tags=["engine"])
    async def engine_stop() -> Row:
        """Stop the engine: strategies stop and no market data is processed (orders and positions stay)."""
        return await call("engine_stop")

    @r.get("/connections", tags=["connections"], response_model=list[Row])
    async def connections() -> Response:
        """Venue connections: status, mode, balance, open positions, last test result."""
        return enc.response("connections", node.view("connections") or [])

    @r.post("/connections/{connection_id}/test", tags=["connections"])
    async def connection_test(connection_id: str = Path(max_length=64)) -> Row:
        """Check the connection: execution client, account, book integrity, data freshness."""
        return await call("connection_test", connection_id=connection_id)

    @r.post("/connections/{connection_id}/enable", tags=["connections"])
    async def connection_enable(connection_id: str = Path(max_length=64)) -> Row:
        """Enable the connection (its market data is processed again)."""
        return await call("connection_enable", connection_id=connection_id, enabled=True)

    @r.post("/connections/{connection_id}/disable", tags=["connections"])
    async def connection_disable(connection_id: str = Path(max_length=64)) -> Row:
        """Disable the connection: its market data is ignored and API orders for it are refused (409)."""
        return await call("connection_enable", connection_id=connection_id, enabled=False)

    @r.post("/connections/{connection_id}/live", tags=["connections"])
    async def connection_live(body: LiveToggle, connection_id: str = Path(max_length=64)) -> Row:
        """Toggle live trading. Needs ``confirm`` = the id and configured credentials; a paper venue answers 409."""
        return await call("connection_live", connection_id=connection_id, enabled=body.enabled, confirm=body.confirm)

    # -- risk -----------------------------------------------------------------------------------
    @r.get("/risk", tags=["risk"], response_model=Row)
    async def risk() -> Response:
        """``RiskEngine.status()``: trading state, rules with headroom, pre-trade limits, denials."""
        return enc.response("risk", node.view("risk") or {})

    @r.post("/risk/kill", tags=["risk"])
    async def risk_kill(body: KillRequest | None = None) -> Row:
        """Kill switch: HALTED (manual reset), cancel working orders, flatten every position."""
        return await call("risk_kill", reason=(body or KillRequest()).reason)

    @r.post("/risk/reset", tags=["risk"])
    async def risk_reset() -> Row:
        """Return to ACTIVE and re-arm the rules."""
        return await call("risk_reset")

    # -- market data ----------------------------------------------------------------------------
    @r.get("/instruments", tags=["market"], response_model=list[Row])
    async def instruments() -> Response:
        """Instruments with precisions, tick and lot sizes, fees."""
        return _json(node.instruments())

    @r.get("/book/{instrument_id}", tags=["market"])
    async def book(instrument_id: str = Path(max_length=64), depth: int = Query(10, ge=1, le=100)) -> Row:
        """Top ``depth`` levels per side of the order book, read in the engine thread."""
        return await call("book", instrument_id=instrument_id, depth=depth)

    @r.get("/bars/{instrument_id}", tags=["market"], response_model=list[Row])
    async def bars(instrument_id: str = Path(max_length=64), limit: int = Query(500, ge=1, le=1000)) -> Response:
        """Latest 1-second bars (built by the DataEngine from trades), oldest first."""
        if instrument_id not in {i["instrument_id"] for i in node.instruments()}:
            raise HTTPException(404, f"unknown instrument {instrument_id!r}")
        return _json((node.view(f"bars:{instrument_id}") or [])[-limit:])

    @r.get("/orderflow/{instrument_id}", tags=["market"], response_model=Row)
    async def orderflow(instrument_id: str = Path(max_length=64)) -> Response:
        """Order-flow analytics of the instrument (``OrderFlowEngine`` snapshot, refreshed every 250-500 ms).

        ``book`` (spread, top-of-book and depth imbalances in [-1, 1]), ``cvd`` (session, rolling, and the
        last 300 one-second ``[ts, cvd]`` samples), ``footprint`` (the current bar: price rows with bid/ask
        volume and diagonal imbalance flags), ``totals``, ``vwap``, ``liquidity``, ``regime`` and the last
        50 ``signals``; decimal strings for prices and sizes. Empty sections are null before data arrives.
        """
        view = node.orderflow(instrument_id)
        if view is None:
            raise HTTPException(404, f"unknown instrument {instrument_id!r}")
        return enc.response(f"orderflow:{instrument_id}", view)

    @r.get("/data-quality", tags=["market"], response_model=Row)
    async def data_quality() -> Response:
        """Per-subscription counts, staleness, latency percentiles, and recent data-quality events."""
        return enc.response("data_quality", node.view("data_quality") or {})

    @r.get("/alerts", tags=["node"], response_model=list[Row])
    async def alerts() -> Response:
        """Recent alerts (operator actions, risk, data quality, order flow), newest first."""
        return enc.response("alerts", node.view("alerts") or [])

    return r
