"""FastAPI router for webhook alerts: ``POST /webhook/tradingview`` and ``POST /webhook/{source}``.

The router only moves bytes: it enforces the body-size limit while reading (413 before any
parsing, from ``Content-Length`` or by counting the stream), then hands the raw body to
:class:`tradewire.signals.service.WebhookService` and returns its JSON result. The service runs on the
event loop: it does no network I/O; the idempotency claims of the requests that arrive together are
committed in one SQLite transaction (group commit, :meth:`WebhookService.handle_async`) before any of
them is answered; orders go to the engine thread through a queue. TradingView's 3 s limit is far away.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect
from starlette.routing import Route

from tradewire.signals.schema import TradingViewAlert
from tradewire.signals.service import WebhookResult, WebhookService

_log = logging.getLogger("tradewire.api.webhook")

_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": TradingViewAlert.model_json_schema()},
            "text/plain": {"schema": {"type": "string", "description": "key=value lines or '<action> <ticker> [qty]'"}},
        },
    }
}


def build_webhook_router(
    service: WebhookService, pending_timeout_s: float = 2.0, poll_interval_s: float = 0.005
) -> APIRouter:
    """Create the webhook router.

    Parameters
    ----------
    service : WebhookService
        Does all checks and the hand-off to the engine.
    pending_timeout_s : float
        How long a duplicate waits for an identical in-flight alert (handled by another process
        sharing the idempotency database) before answering 409.
    poll_interval_s : float
        Poll period while waiting.

    Returns
    -------
    APIRouter
        Routes under ``/webhook``; responses are JSON ``{"status": ..., "reason"| "client_order_ids": ...}``
        with status 202, 401, 403, 404, 409, 413, 422, 429 or 503.
    """
    router = APIRouter(prefix="/webhook", tags=["webhook"])

    async def answer(
        source: str, headers: Mapping[str, str], peer: str | None, chunks: AsyncIterator[bytes]
    ) -> WebhookResult:
        limit = service.max_body_bytes(source)
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return service.reject(source, 413, f"body larger than {limit} bytes", peer)
        buf = bytearray()
        async for chunk in chunks:
            buf += chunk
            if len(buf) > limit:
                return service.reject(source, 413, f"body larger than {limit} bytes", peer)
        result = await service.handle_async(source, bytes(buf), headers.get("content-type"), peer, headers)
        if result.pending_key is not None:
            deadline = time.monotonic() + pending_timeout_s
            key = result.pending_key
            while True:
                await asyncio.sleep(poll_interval_s)
                found = service.lookup(key, source)
                if found is not None:
                    return found
                if time.monotonic() > deadline:
                    return WebhookResult(409, {"status": "pending", "reason": "identical alert in progress"})
        return result

    # Served by this plain ASGI endpoint, placed before the documented routes below: it skips FastAPI's
    # per-request dependency solving and response handling, which measured as about a quarter of the
    # event loop's time per alert under load.
    endpoint = _WebhookEndpoint(answer)
    router.routes.append(Route("/webhook/{source}", endpoint, methods=["POST"], include_in_schema=False))
    router.webhook_endpoint = endpoint  # for the app's fast path (tradewire.api.app.TradewireApp)

    async def receive(request: Request, source: str) -> JSONResponse:
        peer = request.client.host if request.client else None
        return _respond(await answer(source, request.headers, peer, request.stream()))

    @router.post("/tradingview", openapi_extra=_OPENAPI, summary="TradingView alert")
    async def tradingview_alert(request: Request) -> JSONResponse:
        return await receive(request, "tradingview")

    @router.post("/{source}", openapi_extra=_OPENAPI, summary="Alert from a configured source")
    async def source_alert(source: str, request: Request) -> JSONResponse:
        return await receive(request, source)

    return router


class _WebhookEndpoint:
    """ASGI app for ``POST /webhook/{source}``: reads the body from ``receive`` and answers JSON.

    Expects ``scope["path_params"]["source"]`` (set by the router's ``Route``, or by
    :class:`tradewire.api.app.TradewireApp`, which calls :meth:`serve` before its middleware stack).

    ``proxy_headers``: when the server's own ``X-Forwarded-*`` handling was moved into the app
    (:meth:`tradewire.api.app.TradewireApp.serve_proxy_headers`), the app sets here the uvicorn
    ``ProxyHeadersMiddleware`` whose rewrite of the client address :meth:`serve` applies, and only to a request
    that carries ``X-Forwarded-For`` or ``X-Forwarded-Proto`` (without either header the middleware changes
    nothing): a webhook request sees the same ``client`` as when the server ran the middleware in front of the
    whole app, and one without those headers does not pay for it.
    """

    proxy_headers: Any = None

    def __init__(self, answer) -> None:
        self._answer = answer

    async def serve(self, scope, receive, send, source: str) -> None:
        """Answer one ``POST /webhook/{source}`` outside any routing or middleware.

        Parameters
        ----------
        scope, receive, send
            The ASGI HTTP connection.
        source : str
            The path segment after ``/webhook/``.

        Any exception other than a client disconnect is logged and answered 500 with a JSON reason when the
        response has not started (what the app's error middleware would do); the service itself already
        turns its own failures into a 500 result.
        """
        scope["path_params"] = {"source": source}
        try:
            start, body = await self._handle(scope, receive, self.proxy_headers)
        except ClientDisconnect:
            return
        except Exception:
            _log.exception("webhook %s: unhandled error", source)
            start, body = _ERROR_START, _ERROR_BODY
        try:
            await send(start)
        except Exception:
            _log.exception("webhook %s: unhandled error", source)
            return
        try:
            await send(body)
        except Exception:
            _log.exception("webhook %s: unhandled error", source)

    async def __call__(self, scope, receive, send) -> None:
        try:
            start, body = await self._handle(scope, receive, None)
        except ClientDisconnect:
            return
        await send(start)
        await send(body)

    async def _handle(self, scope, receive, proxy) -> tuple[dict, dict]:
        """Read the request and answer it: the two ASGI response messages (start, body).

        The headers are a dict of lower-case names to their first value, like Starlette's ``Request.headers``
        lookups. The body is read straight from ``receive`` (one message for a small body; more are appended
        while the total stays within the source's limit).
        """
        headers = {}
        for k, v in scope["headers"]:
            name = k.decode("latin-1").lower()
            if name not in headers:  # first value, like Starlette
                headers[name] = v.decode("latin-1")
        if proxy is not None and ("x-forwarded-for" in headers or "x-forwarded-proto" in headers):
            await proxy(scope, None, None)  # rewrites scope["client"] as the server's middleware would
        client = scope.get("client")
        result = await self._answer(
            scope["path_params"]["source"], headers, client[0] if client else None, _chunks(receive)
        )
        body = orjson.dumps(result.body)
        out = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if result.headers:
            out += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in result.headers.items()]
        return (
            {"type": "http.response.start", "status": result.status_code, "headers": out},
            {"type": "http.response.body", "body": body},
        )


_ERROR_BODY_BYTES = b'{"status":"error","reason":"internal error"}'
_ERROR_START = {
    "type": "http.response.start",
    "status": 500,
    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(_ERROR_BODY_BYTES)).encode())],
}
_ERROR_BODY = {"type": "http.response.body", "body": _ERROR_BODY_BYTES}


async def _skip(_scope, _receive, _send) -> None:
    """The app behind :func:`client_rewriter`'s middleware (the rewrite of the scope is all it is used for)."""


def client_rewriter(trusted_hosts: list[str] | str) -> Any:
    """uvicorn's ``ProxyHeadersMiddleware`` around a no-op app: awaiting it on a scope rewrites ``client`` (and
    ``scheme``) from ``X-Forwarded-For``/``X-Forwarded-Proto`` exactly as the server would, when the peer is one
    of ``trusted_hosts`` (uvicorn's ``forwarded_allow_ips``: addresses, networks or ``"*"``)."""
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    return ProxyHeadersMiddleware(_skip, trusted_hosts=trusted_hosts)


class _chunks:
    """The request body from ASGI ``receive``, as an async iterator of byte chunks (a class, not an async
    generator: iterating it costs one call per message instead of a generator's frame and finalizer).

    Raises :class:`starlette.requests.ClientDisconnect` on ``http.disconnect``.
    """

    __slots__ = ("_done", "_receive")

    def __init__(self, receive) -> None:
        self._receive = receive
        self._done = False

    def __aiter__(self):
        return self

    async def __anext__(self) -> bytes:
        if self._done:
            raise StopAsyncIteration
        msg = await self._receive()
        if msg["type"] == "http.disconnect":
            raise ClientDisconnect()
        self._done = not msg.get("more_body", False)
        return msg.get("body", b"")


def _respond(result: WebhookResult) -> JSONResponse:
    return JSONResponse(result.body, status_code=result.status_code, headers=result.headers or None)
