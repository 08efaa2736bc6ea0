"""``tradewire data download``: historical OHLCV from an exchange (through ccxt) into the Parquet catalog.

Registered on the ``data`` command group by :func:`tradewire.cli.connections.register`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

DEFAULT_CATALOG = Path("./tradewire-data/catalog")


def parse_time_ms(text: str, option: str) -> int:
    """ISO-8601 date/time (UTC unless an offset is given) or epoch milliseconds, as UTC epoch ms.

    Raises
    ------
    typer.BadParameter
        Naming the option and the accepted forms.
    """
    t = text.strip()
    if t.isdigit():
        return int(t)
    try:
        dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(
            f"{option} {text!r}: expected e.g. 2024-08-08, 2024-08-08T23:50:00Z or epoch ms"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def download(
    exchange: Annotated[str, typer.Option(help="ccxt exchange id, e.g. binance.")] = "binance",
    symbol: Annotated[str, typer.Option(help="Symbol as the exchange lists it in ccxt, e.g. BTC/USDT.")] = "BTC/USDT",
    timeframe: Annotated[str, typer.Option(help="Candle length: 1m, 5m, 1h, 1d ...")] = "1m",
    since: Annotated[str, typer.Option(help="Start (UTC ISO date/time or epoch ms), inclusive.")] = "",
    until: Annotated[str, typer.Option(help="End (UTC ISO date/time or epoch ms), exclusive; default now.")] = "",
    catalog: Annotated[Path, typer.Option(help="Catalog directory.")] = DEFAULT_CATALOG,
    connection: Annotated[
        str | None, typer.Option(help="Use this configured connection (its exchange, market type and URLs).")
    ] = None,
    connections_file: Annotated[Path | None, typer.Option("--connections-file", help="Connections TOML.")] = None,
    market_type: Annotated[str, typer.Option(help="spot, margin, linear or inverse.")] = "spot",
    limit: Annotated[int, typer.Option(help="Candles per request.")] = 1000,
    no_resume: Annotated[bool, typer.Option("--no-resume", help="Ignore bars already in the catalog.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Download OHLCV candles into the catalog (resumable: a rerun continues after the last stored bar)."""
    from tradewire.data.catalog import ParquetDataCatalog
    from tradewire.venues.ccxt.config import ConnectionConfig, load_connections
    from tradewire.venues.ccxt.errors import VenueError
    from tradewire.venues.ccxt.factories import CcxtConnection
    from tradewire.venues.ccxt.history import download_ohlcv

    console = Console(stderr=True)
    if not since:
        raise typer.BadParameter("--since is required")
    since_ms = parse_time_ms(since, "--since")
    until_ms = parse_time_ms(until, "--until") if until else int(datetime.now(tz=UTC).timestamp() * 1000)
    try:
        if connection:
            cfgs = load_connections(connections_file)
            if connection not in cfgs:
                console.print(
                    f"[red]no connection {connection!r}[/red]; configured: {', '.join(sorted(cfgs)) or 'none'}"
                )
                raise typer.Exit(2)
            base = cfgs[connection]
            cfg = base.model_copy(update={"api_key_env": None, "api_secret_env": None, "keyring_service": None})
        else:
            cfg = ConnectionConfig(name=f"public-{exchange}", exchange=exchange, market_type=market_type)
    except (ValueError, FileNotFoundError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    conn = CcxtConnection(cfg, None)  # public data: no credentials
    try:
        conn.load_instruments()
        try:
            iid = conn.instruments.symbols.instrument_id(symbol)
        except KeyError:
            console.print(f"[red]{cfg.exchange} lists no {cfg.market_type} market {symbol!r}[/red]")
            raise typer.Exit(2) from None
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>5.1f}%"),
                      TimeElapsedColumn(), console=console, disable=as_json) as prog:  # fmt: skip
            task = prog.add_task(f"{iid} {timeframe}", total=until_ms - since_ms)

            def on_progress(done: int, total: int) -> None:
                prog.update(task, completed=done)

            res = conn.run(download_ohlcv(conn, iid, timeframe, since_ms, until_ms, ParquetDataCatalog(catalog),
                                          limit=limit, resume=not no_resume, progress=on_progress), None)  # fmt: skip
    except VenueError as exc:
        console.print(f"[red]{type(exc).__name__}: {exc.reason}[/red]")
        raise typer.Exit(1) from None
    finally:
        conn.close()
    out = {"bar_type": str(res.bar_type), "bars_written": res.bars_written, "requests": res.requests,
           "first_ts": res.first_ts, "last_ts": res.last_ts, "resumed_from_ms": res.resumed_from_ms,
           "catalog": str(catalog)}  # fmt: skip
    if as_json:
        typer.echo(json.dumps(out))
    else:
        console.print(f"{res.bars_written} bars of {res.bar_type} written to {catalog} ({res.requests} requests)")
