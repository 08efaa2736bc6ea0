"""``tradewire run``: the paper-trading node with its API and dashboard.

Binds 127.0.0.1 by default. Another address is refused unless authentication is configured
(``TRADEWIRE_API_TOKEN`` or ``TRADEWIRE_API_PASSWORD_HASH``, see :mod:`tradewire.api.auth`).
"""

from __future__ import annotations

import gc
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


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
        Path | None, typer.Option(help="Binance raw-stream capture to replay (default: bundled BTCUSDT session).")
    ] = None,
    speed: Annotated[float, typer.Option(help="Replay speed factor (1 = real time).")] = 1.0,
    loops: Annotated[
        int | None, typer.Option(help="Play the session this many times (default: until stopped).")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option("--db", help="Event store URL (default sqlite under ./tradewire-data/).")
    ] = None,
) -> None:
    """Paper trading on replayed real market data, with the API and dashboard on http://HOST:PORT."""
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
    if data is not None and not data.exists():
        raise typer.BadParameter(f"no such file: {data}")
    node = TradingNode(NodeConfig(data=data, speed=speed, loops=loops, database_url=database_url))
    console.print(
        f"[bold yellow]PAPER / REPLAY[/bold yellow] {node.data_path.name}: {node.replay.counts} "
        f"speed x{speed:g}; API and dashboard on http://{host}:{port} "
        f"({'login required: ' + str(auth.method) if auth.enabled else 'no login: open on loopback'})"
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
