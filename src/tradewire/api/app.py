"""FastAPI application served by ``tradewire run``.

The app never touches engine objects directly: the engine thread publishes immutable snapshots
(plain dicts) through a :class:`NodeView`, and the API returns the latest one. Commands from the API
go back to the engine thread through the node's command queue.
"""

from __future__ import annotations

from importlib import resources
from typing import Any, Protocol

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse


class NodeView(Protocol):
    """What the API reads from a running node (all methods return JSON-friendly data)."""

    def health(self) -> dict[str, Any]: ...

    def positions(self) -> list[dict[str, Any]]: ...

    def orders(self) -> list[dict[str, Any]]: ...

    def fills(self) -> list[dict[str, Any]]: ...

    def trading_stats(self) -> dict[str, Any]: ...


def create_app(node: NodeView) -> FastAPI:
    """Build the API app for ``node``.

    Routes: ``GET /api/health``, ``/api/positions``, ``/api/orders`` (``?status=``, ``?instrument=``),
    ``/api/fills``, ``/api/trading/stats``, and ``/`` (the status page).
    """
    app = FastAPI(title="tradewire", version="0.1.0", docs_url="/api/docs", openapi_url="/openapi.json")

    @app.get("/api/health")
    def health() -> dict[str, Any]:
        """Node state, mode (paper/live, replay/real-time) and data position."""
        return node.health()

    @app.get("/api/positions")
    def positions() -> list[dict[str, Any]]:
        """Open positions with average price, marks and P&L (exact decimal strings)."""
        return node.positions()

    @app.get("/api/orders")
    def orders(
        status: str | None = Query(None, description="filter by order status, e.g. filled"),
        instrument: str | None = Query(None, description="filter by instrument id, e.g. BTCUSDT.BINANCE"),
    ) -> list[dict[str, Any]]:
        """Orders, newest first."""
        rows = node.orders()
        if status is not None:
            rows = [o for o in rows if o["status"] == status.lower()]
        if instrument is not None:
            rows = [o for o in rows if o["instrument_id"] == instrument]
        return rows

    @app.get("/api/fills")
    def fills() -> list[dict[str, Any]]:
        """Executions, newest first."""
        return node.fills()

    @app.get("/api/trading/stats")
    def trading_stats() -> dict[str, Any]:
        """P&L (total, realized, unrealized), fees, win rate, profit factor, exposure."""
        return node.trading_stats()

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        try:
            return resources.files("tradewire.api").joinpath("static/index.html").read_text()
        except FileNotFoundError:  # pragma: no cover - packaging error
            raise HTTPException(500, "status page missing from the package") from None

    return app
