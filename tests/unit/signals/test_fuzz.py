"""Property tests: no payload crashes the service, and no invalid payload ever becomes an order.

``HYPOTHESIS_PROFILE=long`` runs 10,000 examples per property instead of 300.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradewire.signals.schema import AlertError, parse_json_body, validate_alert
from tradewire.signals.text_format import parse_text_body

EXAMPLES = 10_000 if os.environ.get("HYPOTHESIS_PROFILE") == "long" else 300
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None
)
ALLOWED = {202, 401, 403, 404, 413, 422, 429}
FIELDS = ["secret", "ticker", "action", "quantity", "quantity_type", "order_type", "price", "stop_loss",
          "take_profit", "time_in_force", "alert_id", "time"]  # fmt: skip
SECRET = "test-secret-0123456789abcdef"

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30), st.text(max_size=30),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(["buy", "sell", "close", "flatten", "reverse", "long", "short", "flat", "{{ticker}}",
                     "BINANCE:BTCUSDT", "ES1!", "CME_MINI:ES1!", "market", "limit", "stop", "units",
                     "percent_equity", "risk", "gtc", "ioc", "0.01", "60000", "59000", "61000", "1e400", "-1",
                     "2024-08-08T23:55:00Z", "2024-08-08T23:55:00", SECRET]),
)  # fmt: skip
values = st.recursive(scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
                      max_leaves=6)  # fmt: skip
payloads = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=12), values, max_size=10)
near_valid = st.fixed_dictionaries(
    {"secret": st.sampled_from([SECRET, SECRET + "x", ""]),
     "ticker": st.sampled_from(["BINANCE:BTCUSDT", "BTCUSDT", "ES1!", "X"])},
    optional={k: values for k in FIELDS[2:]},
)  # fmt: skip

valid_ish = st.fixed_dictionaries(
    {"secret": st.just(SECRET), "ticker": st.sampled_from(["BINANCE:BTCUSDT", "BTCUSDT", "binance:btcusdt"]),
     "action": st.sampled_from(["buy", "sell", "close", "flatten", "reverse", "long", "short", "flat"])},
    optional={
        "quantity": st.sampled_from(["0.01", "0.5", "1", "10", "0.000001", "0", 2]),
        "quantity_type": st.sampled_from(["units", "contracts", "percent_equity", "risk"]),
        "order_type": st.sampled_from(["market", "limit", "stop"]),
        "price": st.sampled_from(["60000", "60000.5", "60000.001", None]),
        "stop_loss": st.sampled_from(["59000", "61000", None]),
        "take_profit": st.sampled_from(["62000", "58000", None]),
        "time_in_force": st.sampled_from(["gtc", "ioc", "fok", "day"]),
        "alert_id": st.text(min_size=1, max_size=10),
        "time": st.sampled_from(["2024-08-08T23:54:50Z", "2024-08-08T23:50:00Z", "2024-08-08T23:55:00+00:00"]),
    },
)  # fmt: skip


def _check(h, body: bytes, content_type: str | None) -> None:
    before = h.service.pending_intents
    r = h.service.handle("tradingview", body, content_type, "52.89.214.238", {})
    assert r.status_code in ALLOWED, (r.status_code, r.body)
    assert isinstance(json.dumps(r.body), str)
    assert SECRET not in json.dumps(r.body)
    if r.status_code != 202:
        assert h.service.pending_intents == before  # rejected: nothing queued
        return
    # accepted: the body must be a valid alert carrying the right secret
    try:
        data = (
            parse_json_body(body)
            if body.lstrip()[:1] == b"{" or content_type == "application/json"
            else parse_text_body(body)
        )
        alert = validate_alert(data)
    except AlertError as exc:  # pragma: no cover - would be a bug
        raise AssertionError(f"accepted an invalid alert: {exc.reason}") from None
    assert alert.secret.get_secret_value() == SECRET
    h.service.drain()  # planning may refuse (e.g. sizing), but must not raise


@FUZZ
@given(payload=payloads | near_valid | valid_ish)
def test_fuzz_json_dicts(tv, payload):
    h = _harness(tv)
    _check(h, json.dumps(payload, default=str).encode(), "application/json")


@FUZZ
@given(body=st.binary(max_size=300), ctype=st.sampled_from(["application/json", "text/plain", None, "x/y"]))
def test_fuzz_raw_bytes(tv, body, ctype):
    _check(_harness(tv), body, ctype)


text_lines = st.lists(
    st.tuples(st.sampled_from([*FIELDS, "Secret", "x", ""]), st.sampled_from(["=", " = ", ":", ""]), scalars.map(str)),
    max_size=8,
).map(lambda lines: "\n".join(f"{k}{sep}{v}" for k, sep, v in lines).encode())
one_liners = st.lists(scalars.map(str), max_size=6).map(lambda toks: " ".join(toks).encode())


@FUZZ
@given(body=text_lines | one_liners)
def test_fuzz_text_format(tv, body):
    _check(_harness(tv), body, "text/plain")


_H: dict[int, object] = {}


def _harness(tv):
    key = id(tv)
    if key not in _H:
        _H.clear()
        _H[key] = tv.make(rate_per_s=Decimal(10**6), burst=10**6, default_quantity=Decimal("0.01"))
    return _H[key]
