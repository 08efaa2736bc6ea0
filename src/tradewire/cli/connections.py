"""``tradewire connections``: list configured exchange connections and test one end to end.

``tradewire connections list``
    Every ``[connections.NAME]`` of the connections file, with where its credentials come from (variable
    names and whether they are set; never the values).
``tradewire connections test NAME``
    Checks credentials, balance, permissions, market count, round-trip latency and rate-limit headroom, and
    records the result as JSON under ``./tradewire-data/connections/``.

:func:`register` also attaches ``download`` (:mod:`tradewire.cli.download`) to the ``data`` group.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

RECORD_DIR = Path("./tradewire-data/connections")

connections_app = typer.Typer(help="Exchange connections (ccxt): list them, test one.")


def register(app: typer.Typer) -> None:
    """Add the ``connections`` group, and ``data download`` to the ``data`` group."""
    from tradewire.cli.data import data_app
    from tradewire.cli.download import download

    app.add_typer(connections_app, name="connections")
    data_app.command("download")(download)


def _load(file: Path | None, console: Console) -> dict[str, Any]:
    from tradewire.venues.ccxt.config import connections_file, load_connections

    try:
        return load_connections(file)
    except FileNotFoundError:
        console.print(
            f"[red]no connections file at {connections_file(file)}[/red] (set --file or TRADEWIRE_CONNECTIONS)"
        )
        raise typer.Exit(2) from None
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


@connections_app.command("list")
def list_(
    file: Annotated[Path | None, typer.Option("--file", help="Connections TOML file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List configured connections (credential sources only, never values)."""
    console = Console()
    rows = []
    for name, c in sorted(_load(file, Console(stderr=True)).items()):
        creds = [f"{v}={'set' if os.environ.get(v) else 'unset'}" for v in (c.api_key_env, c.api_secret_env) if v]
        if c.keyring_service:
            creds.append(f"keyring:{c.keyring_service}")
        rows.append({"name": name, "exchange": c.exchange, "venue": c.venue_code, "market_type": c.market_type,
                     "sandbox": c.sandbox, "live_trading": c.live_trading,
                     "credentials": ", ".join(creds) or "none (public data)"})  # fmt: skip
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table("name", "exchange", "venue", "market", "sandbox", "live", "credentials")
    for r in rows:
        table.add_row(r["name"], r["exchange"], r["venue"], r["market_type"], str(r["sandbox"]),
                      str(r["live_trading"]), r["credentials"])  # fmt: skip
    console.print(table)


async def run_checks(conn: Any, pings: int = 5) -> dict[str, Any]:
    """The checks of ``connections test`` on an open connection (markets, latency, balance, permissions, rate)."""
    ex = conn.exchange
    out: dict[str, Any] = {}
    await conn.instruments.load()
    out["markets"] = {"loaded": len(ex.markets), "instruments": len(conn.instruments.instruments),
                      "market_type": conn.config.market_type}  # fmt: skip
    rtts = []
    for _ in range(pings):
        t0 = time.perf_counter()
        server_ms = await ex.fetch_time()
        rtts.append((time.perf_counter() - t0) * 1000)
    local_ms = int(time.time() * 1000)
    out["latency_ms"] = {"min": round(min(rtts), 3), "median": round(statistics.median(rtts), 3),
                         "max": round(max(rtts), 3), "clock_offset_ms": int(server_ms) - local_ms}  # fmt: skip
    bal = await ex.fetch_balance()
    nonzero = {k: str(v) for k, v in (bal.get("total") or {}).items() if v}
    out["balance"] = {"currencies": len(nonzero), "total": nonzero}
    info = bal.get("info") or {}
    perms = {k: info[k] for k in ("canTrade", "canWithdraw", "canDeposit", "accountType", "permissions") if k in info}
    out["permissions"] = perms or {"note": "the venue reports no permissions with the balance"}
    if perms.get("canWithdraw"):
        out["permissions"]["warning"] = "this key can withdraw: a trading key should not"
    out["rate_limit"] = conn.limiter.headroom_report()
    return out


@connections_app.command("test")
def test(
    name: Annotated[str, typer.Argument(help="Connection name.")],
    file: Annotated[Path | None, typer.Option("--file", help="Connections TOML file.")] = None,
    record_dir: Annotated[Path, typer.Option(help="Where the JSON result is recorded.")] = RECORD_DIR,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Check credentials, balance, permissions, markets, latency and rate-limit headroom; record the result."""
    from tradewire.venues.ccxt.errors import CredentialsError, VenueError, classify
    from tradewire.venues.ccxt.factories import CcxtConnection

    err_console = Console(stderr=True)
    cfgs = _load(file, err_console)
    if name not in cfgs:
        err_console.print(f"[red]no connection {name!r}[/red]; configured: {', '.join(sorted(cfgs)) or 'none'}")
        raise typer.Exit(2)
    cfg = cfgs[name]
    started = datetime.now(tz=UTC)
    result: dict[str, Any] = {"name": name, "exchange": cfg.exchange, "venue": cfg.venue_code,
                              "sandbox": cfg.sandbox, "live_trading": cfg.live_trading,
                              "tested_at": started.isoformat().replace("+00:00", "Z")}  # fmt: skip
    try:
        conn = CcxtConnection.from_config(cfg, require_credentials=True)
    except CredentialsError as exc:
        err_console.print(f"[red]credentials: {exc.reason}[/red]")
        raise typer.Exit(2) from None
    try:
        result["checks"] = conn.run(run_checks(conn), 120)
        result["ok"] = True
    except Exception as exc:  # classified and reported, never swallowed
        err = exc if isinstance(exc, VenueError) else classify(exc)
        result["ok"] = False
        result["error"] = {"type": type(err).__name__, "reason": err.reason, "code": err.code}
    finally:
        conn.close()
    record_dir.mkdir(parents=True, exist_ok=True)
    path = record_dir / f"{name}-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    text = json.dumps(result, indent=2, default=str)
    path.write_text(text)
    (record_dir / f"{name}.json").write_text(text)
    if as_json:
        typer.echo(text)
    elif result["ok"]:
        c = result["checks"]
        Console().print(
            f"[green]OK[/green] {name}: {c['markets']['instruments']} instruments, latency median "
            f"{c['latency_ms']['median']} ms, {c['balance']['currencies']} currencies with a balance, "
            f"rate limit {c['rate_limit']['remaining_pct']}% free; recorded {path}"
        )
    else:
        err_console.print(f"[red]FAILED[/red] {name}: {result['error']['type']}: {result['error']['reason']}")
    if not result["ok"]:
        raise typer.Exit(1)
