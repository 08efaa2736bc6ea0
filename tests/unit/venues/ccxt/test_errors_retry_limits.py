"""Error classes, the retry helper, the weight limiter, connection config and the engine inbox."""

from __future__ import annotations

import asyncio
import threading

import pytest

import ccxt
from tradewire.venues.ccxt.config import (
    ConnectionConfig,
    LiveTradingNotEnabled,
    check_live_trading,
    load_connections,
    resolve_credentials,
)
from tradewire.venues.ccxt.errors import (
    AuthenticationFailed,
    ClockSkew,
    CredentialsError,
    OrderNotFoundAtVenue,
    OrderRejectedByVenue,
    RateLimited,
    VenueUnavailable,
    classify,
)
from tradewire.venues.ccxt.ratelimit import WeightRateLimiter
from tradewire.venues.ccxt.retry import RetryPolicy, retry_async
from tradewire.venues.ccxt.runtime import EngineInbox, LoopThread


@pytest.mark.parametrize(
    ("exc", "cls", "temporary"),
    [
        (ccxt.InsufficientFunds('binance {"code":-2010,"msg":"insufficient balance"}'), OrderRejectedByVenue, False),
        (ccxt.InvalidOrder('binance {"code":-1013,"msg":"Filter failure: LOT_SIZE"}'), OrderRejectedByVenue, False),
        (ccxt.OrderNotFound('binance {"code":-2013,"msg":"Order does not exist."}'), OrderNotFoundAtVenue, False),
        (ccxt.RateLimitExceeded("binance 429"), RateLimited, True),
        (ccxt.DDoSProtection("binance 418"), RateLimited, True),
        (ccxt.InvalidNonce("binance nonce"), ClockSkew, True),
        (ccxt.BadRequest('binance {"code":-1021,"msg":"Timestamp outside of the recvWindow."}'), ClockSkew, True),
        (ccxt.RequestTimeout("timeout"), VenueUnavailable, True),
        (ccxt.NetworkError("reset"), VenueUnavailable, True),
        (ccxt.AuthenticationError('binance {"code":-2015}'), AuthenticationFailed, False),
        (ConnectionResetError("peer"), VenueUnavailable, True),
    ],
)  # fmt: skip
def test_classify(exc, cls, temporary):
    err = classify(exc)
    assert type(err) is cls and err.temporary is temporary


def run(coro):
    return asyncio.run(coro)


class Flaky:
    def __init__(self, errors, result="ok"):
        self.errors = list(errors)
        self.calls = 0
        self.result = result

    async def __call__(self):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.result


def test_retry_backs_off_with_full_jitter_under_the_cap():
    sleeps = []

    async def sleep(d):
        sleeps.append(d)

    f = Flaky([ccxt.NetworkError("a"), ccxt.RequestTimeout("b")])
    pol = RetryPolicy(max_attempts=5, base_delay=0.2, max_delay=10, multiplier=2)
    assert run(retry_async(f, pol, sleep=sleep, rand=lambda: 0.5)) == "ok"
    assert f.calls == 3 and sleeps == [0.1, 0.2]  # half of the caps 0.2 and 0.4
    assert [RetryPolicy(base_delay=1, max_delay=3).delay(n, lambda: 1.0) for n in range(4)] == [1, 2, 3, 3]


def test_retry_raises_permanent_errors_at_once_and_temporary_ones_after_the_attempts():
    async def sleep(d):
        pass

    f = Flaky([ccxt.InsufficientFunds("no money")])
    with pytest.raises(OrderRejectedByVenue) as ei:
        run(retry_async(f, RetryPolicy(), sleep=sleep))
    assert f.calls == 1 and isinstance(ei.value.__cause__, ccxt.InsufficientFunds)
    g = Flaky([ccxt.NetworkError(str(i)) for i in range(10)])
    with pytest.raises(VenueUnavailable):
        run(retry_async(g, RetryPolicy(max_attempts=3), sleep=sleep))
    assert g.calls == 3


def test_retry_resyncs_the_clock_and_honours_retry_after():
    sleeps, resyncs = [], []

    async def sleep(d):
        sleeps.append(d)

    async def resync():
        resyncs.append(1)

    f = Flaky([ccxt.InvalidNonce("-1021")])
    assert run(retry_async(f, RetryPolicy(), sleep=sleep, on_clock_skew=resync)) == "ok"
    assert resyncs == [1] and sleeps == [0.0]
    err = RateLimited("429", -1003, retry_after=7.0)
    h = Flaky([err])
    sleeps.clear()
    run(retry_async(h, RetryPolicy(), sleep=sleep, rand=lambda: 0.0))
    assert sleeps == [7.0]


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_weight_limiter_budget_headers_and_retry_after():
    clock = FakeClock()
    lim = WeightRateLimiter(limit=100, window_s=60, headroom=0.9, clock=clock)
    run(lim.acquire(50))
    assert lim.used() == 50 and lim.wait_time(40) == 0 and lim.wait_time(41) == pytest.approx(60)
    lim.observe(200, {"x-mbx-used-weight-1m": "80"})  # the venue counts more (other clients on the IP)
    assert lim.used() == 80 and lim.headroom_report()["remaining"] == 20
    lim.observe(429, {"Retry-After": "3"})
    assert lim.rate_limited == 1 and lim.retry_after() == pytest.approx(3) and lim.wait_time(1) == pytest.approx(3)
    clock.t += 61
    assert lim.used() == 0 and lim.wait_time(90) == 0
    with pytest.raises(ValueError):
        WeightRateLimiter(limit=0)


def test_config_refuses_inline_secrets_and_names_missing_variables(tmp_path):
    with pytest.raises(ValueError, match="credentials must not be written"):
        ConnectionConfig(name="x", exchange="binance", secret="abc")
    with pytest.raises(ValueError, match="unknown ccxt exchange"):
        ConnectionConfig(name="x", exchange="nosuchexchange")
    cfg = ConnectionConfig(name="x", exchange="binance", api_key_env="K", api_secret_env="S")
    with pytest.raises(CredentialsError, match="S not set"):
        resolve_credentials(cfg, {"K": "key-123456"})
    creds = resolve_credentials(cfg, {"K": "key-123456", "S": "secret-xyz"})
    assert "secret-xyz" not in repr(creds) and "key-123456" not in repr(creds)
    assert resolve_credentials(ConnectionConfig(name="p", exchange="binance"), {}) is None
    f = tmp_path / "c.toml"
    f.write_text('[connections.a]\nexchange = "binance"\napi_key = "leak"\n')
    with pytest.raises(ValueError, match=r"c\.toml: \[connections\.a\]"):
        load_connections(f)
    f.write_text("[connections.a\n")
    with pytest.raises(ValueError, match=r"c\.toml"):
        load_connections(f)


def test_live_trading_needs_flag_and_confirmation():
    real = ConnectionConfig(name="r", exchange="binance")
    with pytest.raises(LiveTradingNotEnabled, match="live_trading is false"):
        check_live_trading(real, confirmed=True)
    on = ConnectionConfig(name="r", exchange="binance", live_trading=True)
    with pytest.raises(LiveTradingNotEnabled, match="confirmation"):
        check_live_trading(on, confirmed=False)
    check_live_trading(on, confirmed=True)
    check_live_trading(ConnectionConfig(name="s", exchange="binance", sandbox=True), confirmed=False)
    local = ConnectionConfig(
        name="l", exchange="binance", url_rewrites={"https://api.binance.com": "http://127.0.0.1:1"}
    )
    check_live_trading(local, confirmed=False)
    proxy = ConnectionConfig(name="p", exchange="binance", url_rewrites={"https://api.binance.com": "http://10.0.0.1"})
    assert proxy.targets_real_account


def test_inbox_runs_handlers_in_order_on_the_draining_thread():
    inbox = EngineInbox()
    loop = LoopThread("test-loop").start()
    seen = []

    async def produce():
        for i in range(100):
            inbox.put(lambda x: seen.append((x, threading.current_thread().name)), i)

    try:
        loop.run(produce())
        assert inbox.pump_until(lambda: len(seen) == 100, 5)
        assert [x for x, _ in seen] == list(range(100)) and {n for _, n in seen} == {threading.current_thread().name}
        assert loop.run(asyncio.sleep(0, result=42)) == 42
    finally:
        loop.stop()
    assert not loop.running
    with pytest.raises(RuntimeError):
        loop.submit(asyncio.sleep(0))
