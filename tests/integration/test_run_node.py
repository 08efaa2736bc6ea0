"""`tradewire run` as a user starts it: a subprocess serving the API, trading on the replayed session."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def node(tmp_path: Path):
    port = _free_port()
    env = dict(os.environ, TRADEWIRE_DATABASE_URL=f"sqlite:///{tmp_path / 'tw.db'}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tradewire.cli.main", "run", "--port", str(port), "--speed", "10"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            pytest.fail(f"node exited early: {proc.stdout.read()}")
    else:
        proc.kill()
        pytest.fail("node did not serve /api/health within 60 s")
    yield base, proc, tmp_path
    if proc.poll() is None:
        proc.kill()


def test_run_trades_and_stops_cleanly(node):
    base, proc, tmp_path = node
    health = httpx.get(f"{base}/api/health").json()
    assert health["mode"] == "paper" and health["data"] == "replay"
    assert "Paper trading on replayed recorded market data" in health["banner"]
    page = httpx.get(f"{base}/").text
    assert "PAPER" in page

    seen_positions = set()
    fills = 0
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and (fills < 2 or len(seen_positions) < 2):
        stats = httpx.get(f"{base}/api/trading/stats").json()
        fills = stats.get("fills") or 0
        pos = httpx.get(f"{base}/api/positions").json()
        seen_positions.add(tuple(p["signed_qty"] for p in pos))
        time.sleep(0.5)
    assert fills >= 2, "no fills within 90 s of replay at x10"
    assert len(seen_positions) >= 2, f"positions never changed: {seen_positions}"
    orders = httpx.get(f"{base}/api/orders").json()
    assert any(o["status"] == "filled" for o in orders)
    filled = httpx.get(f"{base}/api/orders", params={"status": "filled"}).json()
    assert filled and all(o["status"] == "filled" for o in filled)
    f = httpx.get(f"{base}/api/fills").json()
    assert f and {"price", "quantity", "commission"} <= set(f[0])

    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "stopped:" in out
    assert (tmp_path / "tw.db").exists()
