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


def prepare_process(switch_interval_s: float = SWITCH_INTERVAL_S) -> None:
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
    """
    sys.setswitchinterval(switch_interval_s)
    gc.collect()
    gc.freeze()


def server_config(app: Any, host: str, port: int) -> Any:
    """The uvicorn configuration ``tradewire run`` serves ``app`` with.

    uvloop and httptools (``uvicorn[standard]``) are asked for explicitly, so a missing one fails at start
    instead of silently running on the slower pure-Python loop or parser. WebSocket per-message deflate is
    off: the server would otherwise compress every pushed message once per client (the same ladder 50
    times for 50 clients), which measured as the largest cost of the event loop under fan-out; the
    messages are small JSON and the dashboard is usually on loopback or a LAN.
    """
    import uvicorn

    return uvicorn.Config(
        app, host=host, port=port, log_level="warning", loop="uvloop", http="httptools", ws="websockets-sansio",
        ws_per_message_deflate=False, access_log=False,
    )  # fmt: skip


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
