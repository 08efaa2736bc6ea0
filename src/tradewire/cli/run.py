"""``tradewire run``: the paper-trading node with its API and dashboard.

Market data: the bundled recorded Binance session (default), another capture (``--data PATH``), or an
exchange's public streams through ccxt (``--data ccxt:binance:BTC/USDT``: paper trading on live data, no
credentials). For tests against a local exchange, ``TRADEWIRE_CCXT_URL_REWRITES`` holds a JSON object of URL
prefix rewrites for that connection (``ConnectionConfig.url_rewrites``, e.g.
``{"https://api.binance.com": "http://127.0.0.1:8080"}``); the rewrites in force are printed at start.

Binds 127.0.0.1 by default. Another address is refused unless authentication is configured
(``TRADEWIRE_API_TOKEN`` or ``TRADEWIRE_API_PASSWORD_HASH``, see :mod:`tradewire.api.auth`).
"""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
URL_REWRITES_ENV = "TRADEWIRE_CCXT_URL_REWRITES"


def live_data_overrides(env: dict[str, str] | None = None) -> dict[str, Any] | None:
    """Connection overrides for ``--data ccxt:...`` from ``TRADEWIRE_CCXT_URL_REWRITES`` (None when unset).

    Raises
    ------
    ValueError
        If the variable is not a JSON object of strings to strings.
    """
    text = (os.environ if env is None else env).get(URL_REWRITES_ENV)
    if not text:
        return None
    try:
        rewrites = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{URL_REWRITES_ENV} is not JSON: {exc}") from None
    if not isinstance(rewrites, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in rewrites.items()
    ):
        raise ValueError(f"{URL_REWRITES_ENV} must be a JSON object of URL prefix -> URL prefix strings")
    return {"url_rewrites": rewrites}


SWITCH_INTERVAL_S = 0.0005
GC_FREEZE_INTERVAL_S = 0.1  # see GcMaintenance
ORDER_RETENTION = 1000  # closed orders kept in memory per strategy (all stay in the event store)
ORDER_MAX_AGE_S = 86_400.0  # closed orders older than this leave memory too
PAPER_DB_SYNCHRONOUS = "NORMAL"


def paper_db_synchronous(choice: str | None = None, env: dict[str, str] | None = None) -> str:
    """Set and return the event store's SQLite ``synchronous`` mode for a paper node.

    ``choice`` (``--db-synchronous``), else ``TRADEWIRE_DB_SYNCHRONOUS``, else ``NORMAL``; the result is
    written to ``TRADEWIRE_DB_SYNCHRONOUS`` in ``env`` (default ``os.environ``), where the node's
    :func:`tradewire.persistence.open_store` reads it.

    Why ``NORMAL`` for ``tradewire run``: with ``FULL`` every durable commit on the engine thread (one per
    order: ``OrderSubmitted`` with the order's ``OrderInitialized``, before the venue gets the order) waits for
    an fsync: 0.2 ms median on the 2-core CI machine's disk when it is quiet, 4 ms median and 9-12 ms p99
    while other jobs write to it. At 4 ms the engine places at most ~250 orders a second, and every order's
    acknowledgement is at least one fsync late. In WAL mode ``NORMAL`` still makes each
    commit durable against a crash or kill of the process; only an OS crash or power loss may roll back the
    last commits (see :mod:`tradewire.persistence.engine`). A paper node keeps its venue in memory and does
    not recover from the store at start, so nothing it guarantees depends on the difference; set ``FULL``
    where the log must survive power loss.

    Raises
    ------
    tradewire.persistence.engine.DatabaseConfigError
        If the mode is not FULL or NORMAL.
    """
    from tradewire.persistence.engine import SYNC_ENV_VAR, sqlite_synchronous

    target = os.environ if env is None else env
    mode = sqlite_synchronous(choice if choice is not None else target.get(SYNC_ENV_VAR) or PAPER_DB_SYNCHRONOUS)
    target[SYNC_ENV_VAR] = mode
    return mode


def enable_order_retention(
    node: Any, keep_closed_orders: int = ORDER_RETENTION, closed_order_max_age_s: float | None = ORDER_MAX_AGE_S
) -> None:
    """Bound the memory a node's closed orders take: :meth:`tradewire.core.cache.Cache.enable_order_retention`
    on its cache (``keep_closed_orders`` 0: keep every order). Evicted orders stay in the event store; the API's
    order list shows the newest 500 orders either way (``TradingNode.orders``)."""
    if keep_closed_orders <= 0 and closed_order_max_age_s is None:
        return
    node.kernel.cache.enable_order_retention(
        node.kernel.bus, keep_closed_orders if keep_closed_orders > 0 else None, closed_order_max_age_s
    )


class GcMaintenance:
    """Keep the cyclic collector's pauses short in a long-running server.

    CPython's full (generation 2) collection walks every tracked object not in the permanent generation
    (Python docs, ``gc`` module, "generations"; ``gc.freeze``). In a node that keeps every order and its
    events, that set grows all day, and so does each automatic full collection: measured 30-190 ms pauses
    of the event loop and the engine thread under 500 webhook alerts/s, and growing with uptime.

    A daemon thread does, every ``freeze_interval_s``, ``gc.collect()`` (it finds the cyclic garbage made
    since the previous round, walking only the objects created since then) and then ``gc.freeze()``, so the
    survivors are out of the walk of every later collection. The pause per round is bounded by one
    interval's new objects: measured 0.5-1.4 ms per round at 0.25 s and 500 webhook alerts/s (3-8 ms at
    1 s), instead of a walk over everything made since start-up. ``benchmarks/webhook.py`` on the minimal
    chain (before the node chain existed), 500 alerts/s for 30 s: request -> ``OrderAccepted`` p99 63-112 ms
    without the rounds, 3-5 ms with them. The default is 0.1 s: on the node chain at 0.25 s about 26 rounds
    in 10 s still paused the process for more than 2 ms (2.6-3.0 ms on average), at 0.1 s 2-4 did.

    Trade-off: an object frozen while alive that later becomes part of an unreachable *cycle* is not freed
    (reference counting still frees everything that is not in a cycle, which covers orders, events and
    alert records: under webhook load the rounds found no cyclic garbage at all, and a final unfreeze and
    full collection after 10,000 alerts found none either). ``full_interval_s`` makes every round at
    that period unfreeze first and collect the whole heap, which frees such cycles at the price of one
    pause over the whole heap (measured 180 ms after 10,000 alerts, growing with uptime); it is off by
    default.

    Parameters
    ----------
    freeze_interval_s : float
        Seconds between collect-and-freeze rounds (> 0).
    full_interval_s : float | None
        Seconds between rounds that unfreeze and collect the whole heap (> 0), or None (default) for never.

    Raises
    ------
    ValueError
        If an interval is not positive.
    """

    def __init__(self, freeze_interval_s: float = GC_FREEZE_INTERVAL_S, full_interval_s: float | None = None) -> None:
        if not freeze_interval_s > 0:
            raise ValueError(f"freeze_interval_s must be positive, got {freeze_interval_s!r}")
        if full_interval_s is not None and not full_interval_s > 0:
            raise ValueError(f"full_interval_s must be positive or None, got {full_interval_s!r}")
        self.freeze_interval_s = freeze_interval_s
        self.full_interval_s = full_interval_s
        self.rounds = 0
        self.full_rounds = 0
        self.collected = 0
        self.max_pause_ns = 0
        self._last_full = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self, full: bool = False) -> int:
        """One round: collect, then freeze the survivors; ``full`` unfreezes everything first.

        Returns
        -------
        int
            Unreachable objects found (``gc.collect``'s count).
        """
        t0 = time.perf_counter_ns()
        if full:
            gc.unfreeze()
        found = gc.collect()
        gc.freeze()
        pause = time.perf_counter_ns() - t0
        self.rounds += 1
        self.full_rounds += full
        self.collected += found
        self.max_pause_ns = max(self.max_pause_ns, pause)
        return found

    def _loop(self) -> None:
        while not self._stop.wait(self.freeze_interval_s):
            now = time.monotonic()
            full = self.full_interval_s is not None and now - self._last_full >= self.full_interval_s
            if full:
                self._last_full = now
            self.run_once(full)

    def start(self) -> GcMaintenance:
        """Start the daemon thread (once); returns self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="gc-maintenance", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the thread (the objects frozen so far stay frozen)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)


def prepare_process(
    switch_interval_s: float = SWITCH_INTERVAL_S, gc_freeze_interval_s: float | None = GC_FREEZE_INTERVAL_S
) -> GcMaintenance | None:
    """Tune the interpreter for a node process; call it once the node is built, before serving.

    - Thread switch interval 0.5 ms (CPython default 5 ms). The engine thread is CPU-bound while it
      replays or receives market data; the API's event loop thread gives the GIL up on every socket call
      and then waits for the engine thread to hand it back, which it does only every switch interval.
      With 5 ms, one HTTP request (several socket calls) queued behind the engine for tens of ms
      (Python docs, ``sys.setswitchinterval``).
    - ``gc.freeze()``: the objects built so far (modules, the parsed replay session, instruments) move to
      the permanent generation, so the cyclic collector no longer walks them: full collections under
      webhook load paused the event loop 90-190 ms before, 30-80 ms after (objects created while running
      are still walked) (Python docs, ``gc.freeze``).
      Reference counting still frees them as usual. (Raising the generation-0 threshold to 10,000 was
      tried: fewer but 7-10 ms young collections, worse tails; the defaults stay.)
    - Then :class:`GcMaintenance` freezes what survives each ``gc_freeze_interval_s`` (None: not started),
      so full collections stay bounded by one interval's objects as the process runs.

    Returns
    -------
    GcMaintenance | None
        The started maintenance thread, or None when ``gc_freeze_interval_s`` is None.
    """
    sys.setswitchinterval(switch_interval_s)
    gc.collect()
    gc.freeze()
    if gc_freeze_interval_s is None:
        return None
    return GcMaintenance(gc_freeze_interval_s).start()


def server_config(app: Any, host: str, port: int) -> Any:
    """The uvicorn configuration ``tradewire run`` serves ``app`` with.

    uvloop and httptools (``uvicorn[standard]``) are asked for explicitly, so a missing one fails at start
    instead of silently running on the slower pure-Python loop or parser. WebSocket per-message deflate is
    off: the server would otherwise compress every pushed message once per client (the same ladder 50
    times for 50 clients), which measured as the largest cost of the event loop under fan-out; the
    messages are small JSON and the dashboard is usually on loopback or a LAN. Access logging is off.

    ``X-Forwarded-For``/``X-Forwarded-Proto`` are honored from uvicorn's ``forwarded_allow_ips`` (its
    ``FORWARDED_ALLOW_IPS`` environment variable, default loopback) as uvicorn does; for the tradewire app
    (:class:`tradewire.api.app.TradewireApp`) that handling runs inside the app
    (:meth:`~tradewire.api.app.TradewireApp.serve_proxy_headers`), so that webhook alerts without those headers
    skip it, and the server's own middleware is off.
    """
    import uvicorn

    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", loop="uvloop", http="httptools", ws="websockets-sansio",
        ws_per_message_deflate=False, access_log=False,
    )  # fmt: skip
    serve_proxy_headers = getattr(app, "serve_proxy_headers", None)
    if serve_proxy_headers is not None:
        serve_proxy_headers(config.forwarded_allow_ips)
        config.proxy_headers = False
    return config


def run(
    host: Annotated[str, typer.Option(help="Address to serve the API on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve the API on.")] = 8000,
    data: Annotated[
        str | None,
        typer.Option(
            help="Binance raw-stream capture to replay (default: bundled BTCUSDT session), or "
            "ccxt:<exchange>:<symbol> (e.g. ccxt:binance:BTC/USDT) for paper trading on the exchange's live "
            "public streams."
        ),
    ] = None,
    speed: Annotated[float, typer.Option(help="Replay speed factor (1 = real time).")] = 1.0,
    loops: Annotated[
        int | None, typer.Option(help="Play the session this many times (default: until stopped).")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option("--db", help="Event store URL (default sqlite under ./tradewire-data/).")
    ] = None,
    db_synchronous: Annotated[
        str | None,
        typer.Option(
            help="SQLite event store: NORMAL (default here; a commit survives a process crash) or FULL (also a "
            "power loss; one fsync per order on the engine thread: ~250 orders/s at most on a 4 ms disk)."
        ),
    ] = None,
    keep_closed_orders: Annotated[
        int, typer.Option(help="Closed orders kept in memory per strategy (0: all); all stay in the event store.")
    ] = ORDER_RETENTION,
    closed_order_max_age: Annotated[
        float, typer.Option(help="Seconds a closed order stays in memory (0: no age limit).")
    ] = ORDER_MAX_AGE_S,
) -> None:
    """Paper trading on replayed or live market data, with the API and dashboard on http://HOST:PORT."""
    import uvicorn

    from tradewire.api.app import create_app
    from tradewire.api.auth import ApiAuth
    from tradewire.node.live import NodeConfig, TradingNode

    console = Console(stderr=True)
    try:
        auth = ApiAuth.from_env()
    except ValueError as exc:
        console.print(f"[red]invalid API authentication settings:[/red] {exc}")
        raise typer.Exit(2) from None
    if host not in LOOPBACK and not auth.enabled:
        console.print(
            f"[red]refusing to bind {host}:[/red] the API has no authentication configured; set "
            "TRADEWIRE_API_TOKEN or TRADEWIRE_API_PASSWORD_HASH, or serve on 127.0.0.1 (the default)."
        )
        raise typer.Exit(2)
    if speed <= 0:
        raise typer.BadParameter("--speed must be positive")
    if closed_order_max_age < 0:
        raise typer.BadParameter("--closed-order-max-age must be >= 0")
    from tradewire.persistence.engine import DatabaseConfigError

    try:
        sync_mode = paper_db_synchronous(db_synchronous)
    except DatabaseConfigError as exc:
        raise typer.BadParameter(f"--db-synchronous: {exc}") from None
    login = f"({'login required: ' + str(auth.method) if auth.enabled else 'no login: open on loopback'})"
    if data is not None and data.startswith("ccxt:"):
        try:
            overrides = live_data_overrides()
        except ValueError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
        if overrides:
            console.print(f"live-data URL rewrites from {URL_REWRITES_ENV}: {overrides['url_rewrites']}")
        try:
            node = TradingNode(NodeConfig(live_data=data, database_url=database_url, live_data_overrides=overrides))
        except (ValueError, ConnectionError) as exc:
            console.print(f"[red]cannot start on live data:[/red] {exc}")
            raise typer.Exit(2) from None
        console.print(
            f"[bold yellow]PAPER / LIVE DATA[/bold yellow] {data} ({node.instrument.id}, public streams, "
            f"no credentials); API and dashboard on http://{host}:{port} {login}"
        )
    else:
        path = None if data is None else Path(data)
        if path is not None and not path.exists():
            raise typer.BadParameter(f"no such file: {path}")
        node = TradingNode(NodeConfig(data=path, speed=speed, loops=loops, database_url=database_url))
        console.print(
            f"[bold yellow]PAPER / REPLAY[/bold yellow] {node.data_path.name}: {node.replay.counts} "
            f"speed x{speed:g}; API and dashboard on http://{host}:{port} {login}"
        )
    enable_order_retention(node, keep_closed_orders, closed_order_max_age or None)
    console.print(
        f"event store synchronous={sync_mode}; closed orders kept in memory: "
        f"{keep_closed_orders or 'all'} per strategy, "
        f"{f'at most {closed_order_max_age:g} s old' if closed_order_max_age else 'of any age'} (all stay in the store)"
    )
    prepare_process()
    node.start()
    server = uvicorn.Server(server_config(create_app(node, auth), host, port))

    def _sigterm(*_):
        server.should_exit = True

    signal.signal(signal.SIGTERM, _sigterm)
    try:
        server.run()
    finally:
        node.stop()
        console.print(f"stopped: {node.events_processed:,} events, {node.trading_stats().get('fills')} fills")


def register(app: typer.Typer) -> None:
    """Add ``run`` to the main app."""
    app.command("run")(run)
