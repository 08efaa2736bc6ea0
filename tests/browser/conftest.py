"""Fixtures for the browser tests: a real ``tradewire run`` subprocess and Debian's chromium via Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
DIST = Path(__file__).parents[2] / "src" / "tradewire" / "api" / "static" / "dist" / "index.html"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    """A running ``tradewire run`` subprocess."""

    def __init__(self, base: str, proc: subprocess.Popen, log: Path, headers: dict[str, str]) -> None:
        self.base, self.proc, self.log, self.headers = base, proc, log, headers

    def get(self, path: str, **kw) -> httpx.Response:
        return httpx.get(self.base + path, headers=self.headers, timeout=10, **kw)

    def post(self, path: str, **kw) -> httpx.Response:
        return httpx.post(self.base + path, headers=self.headers, timeout=10, **kw)


def start_node(tmp_path: Path, speed: int = 10, env_extra: dict[str, str] | None = None) -> Node:
    port = _free_port()
    env = dict(os.environ, TRADEWIRE_DATABASE_URL=f"sqlite:///{tmp_path / 'tw.db'}", **(env_extra or {}))
    for k in ("TRADEWIRE_API_TOKEN", "TRADEWIRE_API_PASSWORD_HASH"):
        if not (env_extra and k in env_extra):
            env.pop(k, None)
    log = tmp_path / "node.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tradewire.cli.main", "run", "--port", str(port), "--speed", str(speed)],
        cwd=tmp_path, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/auth", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            pytest.fail(f"node exited early: {log.read_text()}")
    else:
        proc.kill()
        pytest.fail("node did not serve /api/auth within 60 s")
    token = (env_extra or {}).get("TRADEWIRE_API_TOKEN")
    return Node(base, proc, log, {"Authorization": f"Bearer {token}"} if token else {})


def stop_node(node: Node) -> None:
    if node.proc.poll() is None:
        node.proc.terminate()
        try:
            node.proc.wait(20)
        except subprocess.TimeoutExpired:
            node.proc.kill()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (make test does: apt-get install chromium)")
    if not DIST.exists():
        pytest.fail(f"dashboard not built ({DIST} missing): run `cd web && npm ci && npm run build` (make test does)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
