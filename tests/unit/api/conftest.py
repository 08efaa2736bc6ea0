"""A real paper node on the bundled Binance session, shared by the API tests of a module."""

from __future__ import annotations

import time

import pytest

from tradewire.node.live import NodeConfig, TradingNode


@pytest.fixture(scope="module")
def running_node(tmp_path_factory):
    db = tmp_path_factory.mktemp("api") / "tw.db"
    node = TradingNode(NodeConfig(speed=20, database_url=f"sqlite:///{db}", webhook=False))
    node.start()
    deadline = time.monotonic() + 20
    while not node.view("book:BTCUSDT.BINANCE") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert node.view("book:BTCUSDT.BINANCE"), "no book within 20 s"
    yield node
    node.stop()
