from __future__ import annotations

import hashlib
import hmac
import ipaddress
from decimal import Decimal

import pytest
from pydantic import SecretStr

from tradewire.signals.auth import (
    check_freshness,
    check_ip_allowed,
    check_secret,
    check_signature,
    resolve_client_ip,
    sign_body,
)
from tradewire.signals.config import SourceConfig, WebhookSettings
from tradewire.signals.ratelimit import TokenBucket
from tradewire.signals.schema import AlertError

PROXY = (ipaddress.ip_network("10.0.0.0/8"),)


def test_forwarded_for_ignored_from_untrusted_peer():
    assert resolve_client_ip("203.0.113.9", "52.89.214.238", PROXY) == "203.0.113.9"


def test_forwarded_for_from_trusted_proxy_takes_rightmost_untrusted_hop():
    # a client forging "52.89.214.238" in front of its real address gains nothing
    assert resolve_client_ip("10.0.0.2", "52.89.214.238, 198.51.100.7", PROXY) == "198.51.100.7"
    assert resolve_client_ip("10.0.0.2", "52.89.214.238, 10.0.0.3", PROXY) == "52.89.214.238"
    assert resolve_client_ip("10.0.0.2", "garbage", PROXY) is None
    assert resolve_client_ip("::ffff:52.89.214.238", None, PROXY) == "52.89.214.238"


def test_tradingview_preset_allowlist():
    cfg = SourceConfig(secret="x" * 16, allowed_ips=["tradingview"])
    nets = cfg.allowed_networks()
    for ip in ("52.89.214.238", "34.212.75.30", "54.218.53.128", "52.32.178.7"):
        check_ip_allowed(ip, nets)
    for bad in ("52.89.214.239", None, "not-an-ip"):
        with pytest.raises(AlertError) as e:
            check_ip_allowed(bad, nets)
        assert e.value.status == 403
    check_ip_allowed("198.51.100.1", ())  # empty allowlist: anyone


def test_bad_allowlist_entry_is_a_config_error():
    with pytest.raises(ValueError, match="allowed_ips"):
        SourceConfig(secret="x" * 16, allowed_ips=["tradingveiw"])


def test_secret_check():
    s = SecretStr("correct-horse-battery")
    check_secret(s, "correct-horse-battery")
    for bad in ("correct-horse-batter", "", None, "correct-horse-battery "):
        with pytest.raises(AlertError) as e:
            check_secret(s, bad)
        assert e.value.status == 401 and "correct" not in e.value.reason


def test_signature_is_rfc2104_hmac_sha256():
    key, body = "k" * 20, b'{"a":1}'
    expected = "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    assert sign_body(key, body) == expected
    check_signature(SecretStr(key), body, expected.upper().replace("SHA256=", "sha256="))
    for bad in (None, "", expected[:-1] + "0", "sha1=" + expected[7:]):
        with pytest.raises(AlertError) as e:
            check_signature(SecretStr(key), body, bad)
        assert e.value.status == 401
    with pytest.raises(AlertError):
        check_signature(SecretStr(key), body + b" ", expected)


def test_freshness_window():
    now = 1_000_000 * 10**9
    check_freshness(now - 60 * 10**9, now, 60, 5, False)
    check_freshness(now + 5 * 10**9, now, 60, 5, False)
    check_freshness(None, now, 60, 5, False)
    for ts, frag in ((now - 61 * 10**9, "stale (61 s old"), (now + 6 * 10**9, "6 s in the future"), (None, "required")):
        with pytest.raises(AlertError) as e:
            check_freshness(ts, now, 60, 5, True)
        assert e.value.status == 422 and frag in e.value.reason


def test_token_bucket_burst_refill_and_retry_after():
    now = [0]
    b = TokenBucket(Decimal(2), 3, lambda: now[0])
    assert [b.try_acquire()[0] for _ in range(3)] == [True, True, True]
    ok, retry = b.try_acquire()
    assert not ok and retry == 1  # 0.5 s to the next token, rounded up
    now[0] = 500_000_000
    assert b.try_acquire() == (True, 0)
    assert not b.try_acquire()[0]
    now[0] = 10 * 10**9  # long idle: refill is capped at the burst
    assert b.try_acquire()[0]
    assert b.tokens == 2


def test_token_bucket_fractional_rate_loses_nothing_to_rounding():
    now = [0]
    b = TokenBucket(Decimal("0.3"), 1, lambda: now[0])
    assert b.try_acquire()[0]
    ok, retry = b.try_acquire()
    assert not ok and retry == 4  # 1/0.3 = 3.33 s -> 4
    for _ in range(10):  # ten uneven steps summing to exactly 10/3 s
        now[0] += 333_333_333
    assert not b.try_acquire()[0]
    now[0] += 4  # 3,333,333,334 ns in total >= 10/3 s
    assert b.try_acquire()[0]


def test_token_bucket_rejects_bad_parameters():
    with pytest.raises(ValueError):
        TokenBucket(Decimal(0), 1, lambda: 0)
    with pytest.raises(ValueError):
        TokenBucket(Decimal(1), 0, lambda: 0)


def test_settings_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TRADEWIRE_WEBHOOK_SECRET", "env-secret-0123456789")
    monkeypatch.setenv("TRADEWIRE_WEBHOOK_DATA_DIR", str(tmp_path))
    s = WebhookSettings()
    srcs = s.source_configs()
    assert srcs["tradingview"].secret.get_secret_value() == "env-secret-0123456789"
    assert "env-secret" not in repr(s) and "env-secret" not in repr(srcs)
    monkeypatch.delenv("TRADEWIRE_WEBHOOK_SECRET")
    with pytest.raises(ValueError, match="no webhook source configured"):
        WebhookSettings().source_configs()


def test_short_secret_is_refused():
    with pytest.raises(ValueError, match="secret"):
        SourceConfig(secret="short")
