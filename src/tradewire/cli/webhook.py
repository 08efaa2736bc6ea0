"""``tradewire webhook test``: post an alert file to a running node and print the answer."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

webhook_app = typer.Typer(help="TradingView webhook tools.", no_args_is_help=True)

DEFAULT_URL = "http://127.0.0.1:8000/webhook/tradingview"


def _with_secret(body: bytes, secret: str) -> tuple[bytes, str]:
    """Insert ``secret`` into a JSON object or a text alert; return the body and its content type."""
    text = body.decode("utf-8")
    stripped = text.strip()
    if stripped.startswith("{"):
        data = json.loads(stripped, parse_float=str)  # numbers kept as exact text
        data["secret"] = secret
        return json.dumps(data).encode(), "application/json"
    lines = [ln for ln in stripped.splitlines() if ln.strip()]
    if lines and "=" in lines[0].split()[0]:
        lines = [ln for ln in lines if not ln.strip().startswith("secret=")] + [f"secret={secret}"]
        return "\n".join(lines).encode(), "text/plain"
    tokens = [t for t in stripped.split() if not t.startswith("secret=")]
    return " ".join([*tokens, f"secret={secret}"]).encode(), "text/plain"


@webhook_app.command("test")
def test_alert(
    file: Path = typer.Option(..., "--file", "-f", exists=True, dir_okay=False, help="Alert body (JSON or text)."),
    url: str = typer.Option(DEFAULT_URL, "--url", help="Webhook URL of the node."),
    secret: str | None = typer.Option(
        None, "--secret", help="Insert this secret (default: $TRADEWIRE_WEBHOOK_SECRET if set; else send as is)."
    ),
    timeout: float = typer.Option(5.0, "--timeout", help="Seconds to wait for the answer."),
) -> None:
    """Post FILE to the node's webhook and print the HTTP status and JSON answer.

    Exits with status 1 when the node answers with an error status or cannot be reached.
    """
    import httpx

    body = file.read_bytes()
    secret = secret or os.environ.get("TRADEWIRE_WEBHOOK_SECRET")
    stripped = body.strip()
    ctype = "application/json" if stripped.startswith(b"{") else "text/plain"
    if secret:
        try:
            body, ctype = _with_secret(body, secret)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            typer.echo(f"{file}: cannot insert the secret: {exc}", err=True)
            raise typer.Exit(2) from None
    try:
        resp = httpx.post(url, content=body, headers={"content-type": ctype}, timeout=timeout)
    except httpx.HTTPError as exc:
        typer.echo(f"cannot reach {url}: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"HTTP {resp.status_code}")
    try:
        typer.echo(json.dumps(resp.json(), indent=2))
    except ValueError:
        typer.echo(resp.text)
    if resp.status_code >= 400:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the ``webhook`` command group to the main CLI."""
    app.add_typer(webhook_app, name="webhook")
