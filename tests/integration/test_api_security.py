"""`tradewire run` with auth and a webhook secret: 401 without a token, secrets never in the logs, bind rules."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parents[1]))
from browser.conftest import start_node, stop_node

TOKEN = "integration-api-token-7f3a9c1e55"
WEBHOOK_SECRET = "integration-webhook-secret-91bd2e"


def test_auth_and_no_secret_in_logs(tmp_path):
    env = {
        "TRADEWIRE_API_TOKEN": TOKEN,
        "TRADEWIRE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TRADEWIRE_WEBHOOK_DATA_DIR": str(tmp_path / "wh"),
    }
    node = start_node(tmp_path, speed=20, env_extra=env)
    try:
        b = node.base
        for path in ("/api/health", "/api/orders", "/api/connections", "/metrics"):
            assert httpx.get(b + path).status_code == 401, path
        assert httpx.get(b + "/api/health", headers={"Authorization": "Bearer " + TOKEN[:-1]}).status_code == 401
        ok = node.get("/api/health").json()
        assert ok["webhook"] is True
        for doc in (
            ok,
            node.get("/api/connections").json(),
            node.get("/api/engine").json(),
            httpx.get(b + "/api/auth").json(),
        ):
            assert TOKEN not in str(doc) and WEBHOOK_SECRET not in str(doc)
        # a webhook with a wrong secret, one with the right one, a bad login, an order
        bad = httpx.post(
            b + "/webhook/tradingview", json={"secret": "x" * 24, "ticker": "BINANCE:BTCUSDT", "action": "buy"}
        )
        assert bad.status_code == 401
        good = httpx.post(
            b + "/webhook/tradingview",
            json={"secret": WEBHOOK_SECRET, "ticker": "BINANCE:BTCUSDT", "action": "buy", "quantity": "0.01"},
        )
        assert good.status_code in (202, 403, 422), good.text
        assert httpx.post(b + "/api/login", json={"password": "nope"}).status_code == 401
        assert (
            node.post(
                "/api/orders", json={"instrument_id": "BTCUSDT.BINANCE", "side": "buy", "quantity": "0.01"}
            ).status_code
            == 202
        )
    finally:
        stop_node(node)
    logs = node.log.read_text()
    assert logs  # the run did write its log
    for secret in (TOKEN, WEBHOOK_SECRET):
        assert secret not in logs
        for f in tmp_path.rglob("*.log"):
            assert secret not in f.read_text(errors="replace")


def test_public_bind_refused_without_auth_and_weak_token_refused(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("TRADEWIRE_API_TOKEN", "TRADEWIRE_API_PASSWORD_HASH")}
    r = subprocess.run(
        [sys.executable, "-m", "tradewire.cli.main", "run", "--host", "0.0.0.0", "--port", "1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "refusing to bind 0.0.0.0" in r.stderr
    r = subprocess.run(
        [sys.executable, "-m", "tradewire.cli.main", "run", "--host", "0.0.0.0"],
        cwd=tmp_path,
        env=dict(env, TRADEWIRE_API_TOKEN="short"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    err = " ".join(r.stderr.split())
    assert r.returncode == 2 and "must be at least 16 characters" in err and "short" not in err
