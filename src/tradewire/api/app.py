"""FastAPI application served by ``tradewire run``: REST under ``/api``, WebSocket ``/ws``, ``/metrics``,
the dashboard at ``/`` and, when the node has a webhook service, ``/webhook/*``.

The app never touches engine objects: it reads the views the engine thread publishes, receives pushed
updates through :class:`tradewire.api.hub.Hub`, and sends commands to the engine thread through
``node.request`` (a queue the engine loop drains). Authentication: :mod:`tradewire.api.auth`.
CORS is closed unless ``TRADEWIRE_API_CORS_ORIGINS`` (comma-separated origins) is set.
"""

from __future__ import annotations

import asyncio
import html
import os
from contextlib import asynccontextmanager
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, WebSocket
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from tradewire.api.auth import ApiAuth, bearer_from_header, make_dependency
from tradewire.api.hub import Hub
from tradewire.api.metrics import build_registry
from tradewire.api.routes import build_router


def dist_dir() -> Path:
    """Where the built dashboard lives (``src/tradewire/api/static/dist``, written by ``npm run build``)."""
    return Path(str(resources.files("tradewire.api").joinpath("static/dist")))


class LoginRequest(BaseModel):
    """Dashboard login: the password, or the API token."""

    password: str = Field(min_length=1, max_length=512)


class TradewireApp(FastAPI):
    """The FastAPI app, with ``POST /webhook/{source}`` answered before the middleware stack and the router.

    Alerts are the latency-critical path and the app's most frequent request: FastAPI's error, exception and
    body-limit middlewares, its router and Starlette's route matching took about 40-60 us of the event loop's
    time per alert (profiled at 400 alerts/s), for nothing the webhook endpoint needs (it reads the body
    itself, enforces its own size limit and turns its own failures into JSON answers). Taken only when the app
    has no user middleware (no CORS) and no ``root_path``; every other request, a webhook path with a trailing
    slash or more segments, and other methods go through the full stack unchanged (405, redirects, docs).
    The routes stay in the OpenAPI schema.

    :meth:`serve_proxy_headers` moves the server's ``X-Forwarded-*`` handling (uvicorn's
    ``ProxyHeadersMiddleware``, otherwise in front of the whole app) into the app: every request but the
    fast path's goes through it unchanged, and the fast path applies it only to a request carrying one of those
    headers (uvicorn's ``proxy_headers`` cost 15-25 us of the event loop per request, measured on a bare
    uvicorn app at 500 requests/s, for alerts that come straight from the sender).
    """

    webhook_endpoint: Any = None
    _proxied: Any = None

    def serve_proxy_headers(self, trusted_hosts: list[str] | str) -> None:
        """Apply uvicorn's ``ProxyHeadersMiddleware`` (``trusted_hosts``: its ``forwarded_allow_ips``) inside the
        app; the server is then run with ``proxy_headers=False`` (:func:`tradewire.cli.run.server_config`)."""
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        from tradewire.api.webhook import client_rewriter

        self._proxied = ProxyHeadersMiddleware(partial(FastAPI.__call__, self), trusted_hosts=trusted_hosts)
        if self.webhook_endpoint is not None:
            self.webhook_endpoint.proxy_headers = client_rewriter(trusted_hosts)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and self.webhook_endpoint is not None and scope["method"] == "POST":
            path: str = scope["path"]
            if (
                path.startswith("/webhook/")
                and "/" not in path[9:]
                and len(path) > 9
                and not scope.get("root_path")
                and not self.root_path
                and not self.user_middleware
            ):
                await self.webhook_endpoint.serve(scope, receive, send, path[9:])
                return
        if self._proxied is not None:
            await self._proxied(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(node: Any, auth: ApiAuth | None = None, max_queue: int = 1000) -> FastAPI:
    """Build the API app for ``node``.

    Parameters
    ----------
    node : TradingNode
        Provides ``view``, ``request``, ``add_listener`` and the read methods (see :mod:`tradewire.node.live`).
    auth : ApiAuth | None
        Default: :meth:`ApiAuth.from_env`.
    max_queue : int
        Per-WebSocket-client queue bound before a resync snapshot replaces the backlog.
    """
    auth = auth if auth is not None else ApiAuth.from_env()
    hub = Hub(node, max_queue=max_queue)
    registry, command_latency = build_registry(node, hub)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        hub.start(asyncio.get_running_loop())
        try:
            yield
        finally:
            hub.stop()

    app = TradewireApp(
        title="tradewire", version="0.1.0", docs_url="/api/docs", openapi_url="/openapi.json", lifespan=lifespan
    )
    app.state.hub = hub
    app.state.auth = auth
    origins = [o.strip() for o in os.environ.get("TRADEWIRE_API_CORS_ORIGINS", "").split(",") if o.strip()]
    if origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware, allow_origins=origins, allow_methods=["*"], allow_headers=["Authorization", "Content-Type"]
        )
    require = make_dependency(auth)

    @app.get("/api/auth", tags=["auth"])
    def auth_status() -> dict[str, Any]:
        """Whether a login is required, and which kind (``token`` or ``password``). Never needs auth."""
        return {"required": auth.enabled, "method": auth.method}

    @app.post("/api/login", tags=["auth"], responses={401: {"description": "wrong password or token"}})
    def login(body: LoginRequest) -> dict[str, Any]:
        """Exchange the password (or the API token) for a session bearer token."""
        if not auth.enabled:
            raise HTTPException(409, "no authentication configured: the API is open on loopback")
        session = auth.login(body.password)
        if session is None:
            raise HTTPException(401, "wrong password or token", headers={"WWW-Authenticate": "Bearer"})
        return {"token": session, "expires_in_s": auth.session_ttl_s}

    service = getattr(node, "webhook_service", None)
    if service is not None:  # first: routes are matched in order, and alerts are the latency-critical path
        from tradewire.api.webhook import build_webhook_router

        webhook_router = build_webhook_router(service)
        app.include_router(webhook_router)
        app.webhook_endpoint = webhook_router.webhook_endpoint

    app.include_router(build_router(node, command_latency), dependencies=[Depends(require)])

    @app.get("/metrics", include_in_schema=False, dependencies=[Depends(require)])
    def metrics() -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        tok = bearer_from_header(websocket.headers.get("authorization")) or websocket.query_params.get("access_token")
        if not auth.check(tok):
            await websocket.send_denial_response(
                JSONResponse({"detail": "authentication required"}, 401, headers={"WWW-Authenticate": "Bearer"})
            )
            return
        await websocket.accept()
        await hub.serve(websocket)

    dist = dist_dir()
    if (dist / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=dist / "assets"), name="assets")

    @app.get("/", include_in_schema=False)
    def index() -> Response:
        page = dist / "index.html"
        if page.is_file():
            return FileResponse(page, headers={"Cache-Control": "no-cache"})
        mode = html.escape(str(node.health().get("mode_label", "PAPER / REPLAY")))
        return HTMLResponse(
            f"<!doctype html><title>tradewire: dashboard not built</title><h1>tradewire node running ({mode})</h1>"
            "<p><b>The dashboard assets are not built</b>, so there is no dashboard to show. Build them with "
            "<code>make run</code>, or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code> (needs npm), "
            "then reload. The API is available: <a href='/api/docs'>/api/docs</a>.</p>",
            status_code=503,
        )

    return app
