"""Build ccxt exchanges and tradewire clients for a :class:`~tradewire.venues.ccxt.config.ConnectionConfig`.

:func:`make_exchange` creates the ccxt.pro (async REST + websocket) client through a thin subclass that

* routes every REST request through the connection's shared :class:`WeightRateLimiter` (``throttle``), with
  ccxt's own ``enableRateLimit`` token bucket still on underneath;
* reads every answer's rate-limit headers (``on_rest_response``): the venue's used weight and ``Retry-After``;
* hands the raw Binance ``depthUpdate`` messages (first/final update ids ``U``/``u``, futures ``pu``) to
  registered listeners before ccxt applies them to its own book, so that tradewire's book follows the
  venue's diff stream under :mod:`tradewire.data.sync` rules rather than ccxt's float book.

:class:`CcxtConnection` owns one exchange, its limiter, its event-loop thread and its instrument provider, and
is shared by the connection's :class:`~tradewire.venues.ccxt.data.CcxtDataClient` and
:class:`~tradewire.venues.ccxt.execution.CcxtExecutionClient`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import ccxt.pro

from tradewire.venues.ccxt.config import ConnectionConfig, Credentials, resolve_credentials
from tradewire.venues.ccxt.errors import CredentialsError
from tradewire.venues.ccxt.providers import CcxtInstrumentProvider
from tradewire.venues.ccxt.ratelimit import WeightRateLimiter
from tradewire.venues.ccxt.runtime import EngineInbox, LoopThread

_CLASSES: dict[str, type] = {}

_DEFAULT_TYPE = {"spot": "spot", "margin": "margin", "linear": "swap", "inverse": "swap"}


def exchange_class(exchange_id: str) -> type:
    """The tradewire subclass of ``ccxt.pro.<exchange_id>`` (created once per id).

    Raises
    ------
    ValueError
        If ccxt.pro has no such exchange.
    """
    cls = _CLASSES.get(exchange_id)
    if cls is not None:
        return cls
    base = getattr(ccxt.pro, exchange_id, None)
    if base is None:
        raise ValueError(f"ccxt.pro has no exchange {exchange_id!r}")

    async def throttle(self: Any, cost: Any = None) -> Any:
        limiter = self.tw_limiter
        if limiter is not None:
            await limiter.acquire((cost or 1) * self.tw_weight_per_cost)
        return await base.throttle(self, cost)

    def on_rest_response(self: Any, code: Any, reason: Any, url: Any, method: Any, response_headers: Any,
                         response_body: Any, request_headers: Any, request_body: Any) -> Any:  # fmt: skip
        if self.tw_limiter is not None and response_headers:
            self.tw_limiter.observe(int(code), response_headers)
        return base.on_rest_response(self, code, reason, url, method, response_headers, response_body,
                                     request_headers, request_body)  # fmt: skip

    attrs: dict[str, Any] = {"throttle": throttle, "on_rest_response": on_rest_response, "tw_limiter": None,
                             "tw_weight_per_cost": 1.0}  # fmt: skip
    if hasattr(base, "handle_order_book") and exchange_id.startswith("binance"):

        def handle_order_book(self: Any, client: Any, message: dict) -> Any:
            for listener in self.tw_depth_listeners:
                listener(message)
            return base.handle_order_book(self, client, message)

        attrs["handle_order_book"] = handle_order_book
    cls = type(f"Tradewire_{exchange_id}", (base,), attrs)
    _CLASSES[exchange_id] = cls
    return cls


def _rewrite(node: Any, rewrites: dict[str, str]) -> Any:
    if isinstance(node, str):
        for old, new in rewrites.items():
            if node.startswith(old):
                return new + node[len(old) :]
        return node
    if isinstance(node, dict):
        return {k: _rewrite(v, rewrites) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite(v, rewrites) for v in node]
    return node


def make_exchange(
    cfg: ConnectionConfig, credentials: Credentials | None, limiter: WeightRateLimiter | None = None
) -> Any:
    """Create the ccxt.pro exchange for a connection (call from inside its event loop).

    The options keep ccxt on the configured market type only (for Binance: ``fetchMarkets.types``,
    ``fetchCurrencies``/``fetchMargins`` off), enable ccxt's rate limiter, and turn on
    ``adjustForTimeDifference`` so signed requests use the venue's clock.
    """
    cls = exchange_class(cfg.exchange)
    params: dict[str, Any] = {"enableRateLimit": True, "timeout": cfg.timeout_ms}
    if credentials is not None:
        params |= {"apiKey": credentials.api_key, "secret": credentials.secret}
        if credentials.password:
            params["password"] = credentials.password
    ex = cls(params)
    if cfg.sandbox:
        ex.set_sandbox_mode(True)
    if cfg.url_rewrites:
        ex.urls["api"] = _rewrite(ex.urls["api"], cfg.url_rewrites)
    opts: dict[str, Any] = {"defaultType": _DEFAULT_TYPE[cfg.market_type], "adjustForTimeDifference": False}
    if cfg.exchange.startswith("binance"):
        mtypes = {"spot": ["spot"], "margin": ["spot"], "linear": ["linear"], "inverse": ["inverse"]}
        opts |= {"fetchMarkets": {"types": mtypes[cfg.market_type]}, "fetchCurrencies": False,
                 "fetchMargins": False}  # fmt: skip
    ex.options.update(opts | dict(cfg.options))
    ex.tw_limiter = limiter
    ex.tw_weight_per_cost = cfg.weight_per_cost
    ex.tw_depth_listeners = []
    return ex


class CcxtConnection:
    """One venue connection: ccxt exchange + shared rate limiter + event-loop thread + instruments.

    Parameters
    ----------
    config : ConnectionConfig
    credentials : Credentials | None
        Resolved credentials (None: public data only). Use :meth:`from_config` to resolve them.
    loop : LoopThread | None
        Event-loop thread to run on (default: a new one, started here).

    Attributes
    ----------
    exchange : ccxt.pro.Exchange
    limiter : WeightRateLimiter
    inbox : EngineInbox
        Where clients of this connection queue work for the engine thread.
    instruments : CcxtInstrumentProvider
    """

    def __init__(
        self, config: ConnectionConfig, credentials: Credentials | None, loop: LoopThread | None = None
    ) -> None:
        self.config = config
        self.credentials = credentials
        self.venue = config.venue_code
        self.limiter = WeightRateLimiter(config.weight_limit_per_minute)
        self.loop = loop or LoopThread(f"ccxt-{config.name}").start()
        self._own_loop = loop is None
        self.inbox = EngineInbox()

        async def _make() -> Any:
            return make_exchange(config, credentials, self.limiter)

        self.exchange = self.loop.run(_make())
        self.instruments = CcxtInstrumentProvider(self.exchange, self.venue, config.market_type)

    @classmethod
    def from_config(cls, config: ConnectionConfig, env: dict[str, str] | None = None,
                    require_credentials: bool = False) -> CcxtConnection:  # fmt: skip
        """Resolve credentials (environment / keyring) and build the connection.

        Raises
        ------
        CredentialsError
            If named credentials are missing, or ``require_credentials`` and the config names none.
        """
        creds = resolve_credentials(config, env)
        if creds is None and require_credentials:
            raise CredentialsError(
                f"connection {config.name!r} names no credentials (api_key_env / api_secret_env): "
                "trading needs them; there is no fallback to paper trading"
            )
        return cls(config, creds)

    def run(self, coro: Any, timeout: float | None = 30.0) -> Any:
        """Run a coroutine on the connection's loop and wait for it."""
        return self.loop.run(coro, timeout)

    def load_instruments(self, timeout: float = 60.0) -> dict:
        """Load markets (blocking) and return the instruments."""
        return self.run(self.instruments.load(), timeout)

    def add_depth_listener(self, listener: Callable[[dict], None]) -> None:
        """Receive every raw Binance ``depthUpdate`` message (event-loop thread)."""
        self.exchange.tw_depth_listeners.append(listener)

    def close(self) -> None:
        """Close the ccxt client (sockets, HTTP session) and stop the loop thread if this connection owns it."""
        if self.loop.running:
            with contextlib.suppress(Exception):  # closing must not hide the caller's own error
                self.loop.run(self.exchange.close(), 10)
            if self._own_loop:
                self.loop.stop()


__all__ = ["CcxtConnection", "exchange_class", "make_exchange"]
