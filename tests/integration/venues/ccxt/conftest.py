"""Fixtures: the local Binance server on 127.0.0.1 and a ccxt connection pointed at it (no network)."""

from __future__ import annotations

import pytest

from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import LiveClock
from tradewire.execution.engine import ExecutionEngine
from tradewire.model.identifiers import AccountId
from tradewire.testing.binance_server import BinanceServer
from tradewire.venues.ccxt.config import ConnectionConfig
from tradewire.venues.ccxt.execution import CcxtExecutionClient
from tradewire.venues.ccxt.factories import CcxtConnection
from tradewire.venues.ccxt.retry import RetryPolicy

KEY, SECRET = "local-test-key-0001", "local-test-secret-0001"
ENV = {"TW_BINANCE_KEY": KEY, "TW_BINANCE_SECRET": SECRET}


def local_config(port: int, **kw) -> ConnectionConfig:
    """A connection to the local server (REST, market streams and WebSocket API rewritten to 127.0.0.1)."""
    base = f"http://127.0.0.1:{port}"
    rewrites = {
        "https://api.binance.com": base,
        "wss://stream.binance.com:9443/ws": f"ws://127.0.0.1:{port}/stream/ws",
        "wss://ws-api.binance.com:443/ws-api/v3": f"ws://127.0.0.1:{port}/ws-api/v3",
    }
    args = {"name": "local", "exchange": "binance", "api_key_env": "TW_BINANCE_KEY",
            "api_secret_env": "TW_BINANCE_SECRET", "url_rewrites": rewrites} | kw  # fmt: skip
    return ConnectionConfig(**args)


@pytest.fixture
def server():
    srv = BinanceServer(KEY, SECRET, balances={"USDT": "1000000", "BTC": "10"})
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def conn(server):
    c = CcxtConnection.from_config(local_config(server.port), env=ENV)
    c.load_instruments()
    yield c
    c.close()


class ExecHarness:
    """A real ExecutionEngine with a CcxtExecutionClient; the test thread is the engine thread."""

    def __init__(self, conn: CcxtConnection, poll_interval_s: float | None = None, stream: bool = True) -> None:
        self.conn = conn
        self.clock = LiveClock()
        self.bus = MessageBus()
        self.cache = Cache()
        self.engine = ExecutionEngine(self.bus, self.cache, self.clock)
        self.events: list = []
        self.bus.subscribe("events.order.*", self.events.append)
        self.accounts: list = []
        self.client = CcxtExecutionClient(conn, AccountId("BINANCE-001"), self.clock, self._process,
                                          RetryPolicy(max_attempts=4, base_delay=0.05, max_delay=0.5),
                                          poll_interval_s=poll_interval_s, stream=stream)  # fmt: skip
        self.engine.register_client(self.client)

    def _process(self, event) -> None:
        if type(event).__name__ == "AccountState":
            self.accounts.append(event)
            return
        self.engine.process(event)

    def pump(self, predicate, timeout: float = 10.0) -> bool:
        return self.conn.inbox.pump_until(predicate, timeout)

    def of(self, kind: str, coid=None) -> list:
        return [e for e in self.events if type(e).__name__ == kind and (coid is None or e.client_order_id == coid)]


@pytest.fixture
def h(conn):
    """A connected execution harness with an order factory (strategy ``s-1``)."""
    from tradewire.execution.factory import OrderFactory
    from tradewire.model.identifiers import StrategyId

    harness = ExecHarness(conn)
    harness.client.connect()
    harness.factory = OrderFactory(StrategyId("s-1"), harness.clock)
    yield harness
    harness.client.disconnect()


@pytest.fixture
def local_env() -> dict[str, str]:
    """The environment variables holding the local server's credentials."""
    return dict(ENV)


@pytest.fixture
def h_polling(conn):
    """Like ``h`` but without private streams: updates only from a REST resync every 0.2 s."""
    from tradewire.execution.factory import OrderFactory
    from tradewire.model.identifiers import StrategyId

    harness = ExecHarness(conn, poll_interval_s=0.2, stream=False)
    harness.client.connect()
    harness.factory = OrderFactory(StrategyId("s-1"), harness.clock)
    yield harness
    harness.client.disconnect()
