"""Request-path shortcuts of the webhook service keep its answers: remembered client addresses, the cached UTC
date, and intents written with orjson (readable as before)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tradewire.signals import service as service_module
from tradewire.signals.dispatch import intent_from_json, intent_to_json


def test_allowlist_verdicts_stay_per_address_when_remembered(tv):
    h = tv.make(allowed_ips=["tradingview"])
    for i in range(3):  # the second and third requests of each address come from the table
        assert h.post(tv.alert(alert_id=f"ok-{i}"), peer="52.89.214.238").status_code == 202
        denied = h.post(tv.alert(alert_id=f"no-{i}"), peer="198.51.100.7")
        assert denied.status_code == 403 and denied.body["reason"] == "source address not allowed"
    unknown = h.post(tv.alert(alert_id="nopeer"), peer=None)
    assert unknown.status_code == 403
    records = h.service.recent_alerts(100)
    assert {r.client_ip for r in records if r.status_code == 403} == {"198.51.100.7", None}


def test_forwarded_for_from_a_trusted_proxy_is_resolved_per_header(tv):
    h = tv.make(allowed_ips=["tradingview"], trusted_proxies=["10.0.0.0/8"])
    ok = h.post(tv.alert(alert_id="p1"), peer="10.1.2.3", headers={"x-forwarded-for": "34.212.75.30"})
    bad = h.post(tv.alert(alert_id="p2"), peer="10.1.2.3", headers={"x-forwarded-for": "203.0.113.9"})
    again = h.post(tv.alert(alert_id="p3"), peer="10.1.2.3", headers={"x-forwarded-for": "34.212.75.30"})
    assert (ok.status_code, bad.status_code, again.status_code) == (202, 403, 202)
    assert [r.client_ip for r in h.service.recent_alerts(3)][::-1] == ["34.212.75.30", "203.0.113.9", "34.212.75.30"]


def test_the_address_table_starts_over_when_full(tv, monkeypatch):
    monkeypatch.setattr(service_module, "_ADDRESS_CACHE", 2)
    h = tv.make()
    peers = ["52.89.214.238", "34.212.75.30", "54.218.53.128", "52.32.178.7"]
    for i, peer in enumerate(peers):
        assert h.post(tv.alert(alert_id=f"t-{i}"), peer=peer).status_code == 202
    (src,) = h.service._sources.values()
    assert 1 <= len(src.addresses) <= 2


@pytest.mark.parametrize("offset_s", [-1, 0, 1, 86_399, 86_400, 86_401, 10 * 86_400 + 5])
def test_utc_date_follows_the_clock_across_midnight(tv, offset_s):
    h = tv.make()
    midnight = datetime(2024, 8, 9, tzinfo=UTC)
    before = int((midnight - timedelta(seconds=3)).timestamp()) * 10**9
    assert h.service._utc_date(before) == datetime(2024, 8, 8, tzinfo=UTC).date()  # fills the cache
    now = int(midnight.timestamp() + offset_s) * 10**9 + 123
    assert h.service._utc_date(now) == datetime.fromtimestamp(now // 10**9, tz=UTC).date()


def test_intent_text_is_compact_json_and_the_older_stdlib_form_still_reads(tv):
    h = tv.make(strategy_id="stratégie-1")
    h.post(tv.alert(order_type="limit", price="60000.5", stop_loss="59000", take_profit="61000", alert_id="j"))
    intent = h.service._queue.get_nowait()
    text = intent_to_json(intent)
    assert json.loads(text) == json.loads(json.dumps(json.loads(text)))  # plain JSON, nothing orjson-specific
    assert " " not in text.replace("stratégie", "")
    older = json.dumps(json.loads(text), separators=(",", ":"))  # what json.dumps wrote before (ASCII escapes)
    assert "\\u00e9" in older
    assert intent_from_json(older) == intent_from_json(text) == intent
