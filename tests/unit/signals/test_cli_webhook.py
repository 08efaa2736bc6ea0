from __future__ import annotations

import json

import httpx
import typer
from typer.testing import CliRunner

from tradewire.cli import webhook as cli_webhook


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """root"""

    cli_webhook.register(app)
    return app


def test_webhook_test_posts_file_with_secret_and_prints_answer(tmp_path, monkeypatch):
    seen = {}

    def fake_post(url, content, headers, timeout):
        seen.update(url=url, body=json.loads(content), ctype=headers["content-type"])
        return httpx.Response(202, json={"status": "accepted", "client_order_ids": ["TVX-E"]})

    monkeypatch.setattr(httpx, "post", fake_post)
    f = tmp_path / "alert.json"
    f.write_text('{"ticker": "BINANCE:BTCUSDT", "action": "buy", "quantity": 0.010}')
    r = CliRunner().invoke(_app(), ["webhook", "test", "--file", str(f), "--secret", "s" * 20])
    assert r.exit_code == 0, r.output
    assert "HTTP 202" in r.output and "TVX-E" in r.output
    assert seen["body"] == {"ticker": "BINANCE:BTCUSDT", "action": "buy", "quantity": "0.010", "secret": "s" * 20}
    assert seen["url"] == cli_webhook.DEFAULT_URL and seen["ctype"] == "application/json"


def test_webhook_test_text_body_and_error_status(tmp_path, monkeypatch):
    seen = {}

    def fake_post(url, content, headers, timeout):
        seen.update(body=content.decode(), ctype=headers["content-type"])
        return httpx.Response(401, json={"status": "rejected", "reason": "invalid secret"})

    monkeypatch.setattr(httpx, "post", fake_post)
    monkeypatch.delenv("TRADEWIRE_WEBHOOK_SECRET", raising=False)
    f = tmp_path / "alert.txt"
    f.write_text("close BINANCE:BTCUSDT secret=old")
    r = CliRunner().invoke(
        _app(), ["webhook", "test", "-f", str(f), "--secret", "n" * 20, "--url", "http://127.0.0.1:9/x"]
    )
    assert r.exit_code == 1 and "HTTP 401" in r.output and "invalid secret" in r.output
    assert seen == {"body": "close BINANCE:BTCUSDT " + "secret=" + "n" * 20, "ctype": "text/plain"}
