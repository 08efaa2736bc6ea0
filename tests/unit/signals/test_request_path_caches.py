"""Request-side shortcuts of the webhook service give exactly what the full computation gives.

The intent text is written from the objects as they are (orjson), the instrument checks and the ticker mapping
are remembered per source, and the JSON decoder is built once: each test compares against the computation
without the shortcut.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import orjson
import pytest

from tradewire.model.instruments import crypto_spot
from tradewire.signals.config import FuturesRollConfig, SourceConfig
from tradewire.signals.dispatch import intent_from_json, intent_to_json
from tradewire.signals.mapping import SymbolMapper
from tradewire.signals.schema import AlertError, parse_json_body


def _reference_text(intent) -> str:
    """The intent text with every value converted first (the form written before the shortcut)."""

    def dec(v):
        return None if v is None else str(v)

    return orjson.dumps(
        {
            "alert_key": intent.alert_key, "source": intent.source, "strategy_id": str(intent.strategy_id),
            "instrument_id": str(intent.instrument_id), "action": intent.action.value,
            "quantity": dec(intent.quantity), "quantity_type": intent.quantity_type.value,
            "order_type": intent.order_type.value, "price": dec(intent.price), "stop_loss": dec(intent.stop_loss),
            "take_profit": dec(intent.take_profit), "time_in_force": intent.time_in_force.value,
            "client_order_ids": [str(i) for i in intent.client_order_ids],
            "order_list_id": None if intent.order_list_id is None else str(intent.order_list_id),
            "ts_init": intent.ts_init,
        }
    ).decode()  # fmt: skip


@pytest.mark.parametrize(
    "fields",
    [
        {"alert_id": "m1"},
        {"alert_id": "m2", "action": "sell", "time_in_force": "ioc"},
        {"alert_id": "m3", "order_type": "limit", "price": "60000.5", "stop_loss": "59000", "take_profit": "61000"},
        {"alert_id": "m4", "action": "close", "quantity": None},
        {"alert_id": "m5", "quantity": "1.5", "quantity_type": "percent_equity"},
    ],
)
def test_intent_text_is_byte_identical_to_converting_each_value_first(tv, fields):
    h = tv.make(strategy_id="stratégie-1")
    r = h.post(tv.alert(**fields))
    assert r.status_code == 202, r.body
    intent = h.service._queue.get_nowait()
    text = intent_to_json(intent)
    assert text == _reference_text(intent)
    assert intent_from_json(text) == intent


def test_instrument_checks_remembered_per_source_agree_with_a_fresh_service(tv):
    h = tv.make()
    sizes = ["0.01", "0.010", "0.0100", "0.00001", "0.000001", "0.01", "0.000001", "0.010"]
    verdicts = [h.post(tv.alert(quantity=q, alert_id=f"q{i}")).status_code for i, q in enumerate(sizes)]
    fresh = [tv.make().post(tv.alert(quantity=q, alert_id=f"q{i}")).status_code for i, q in enumerate(sizes)]
    assert verdicts == fresh
    assert verdicts[3] == 202 and verdicts[4] == 422  # 5 decimals fit BTCUSDT's size precision, 6 do not
    assert verdicts[6] == 422  # refused again: a refusal is not remembered
    prices = ["60000.5", "60000.55", "60000.555", "60000.5"]
    got = [h.post(tv.alert(order_type="limit", price=p, alert_id=f"p{i}")).status_code for i, p in enumerate(prices)]
    assert got == [202, 202, 422, 202]


def test_an_instrument_replaced_in_the_cache_is_checked_again(tv):
    h = tv.make()
    assert h.post(tv.alert(quantity="0.00001", alert_id="r1")).status_code == 202
    coarser = crypto_spot("BTCUSDT", "BINANCE", "BTC", "USDT", 2, 3)  # same id, 3 size decimals
    h.cache.instruments[coarser.id] = coarser
    r = h.post(tv.alert(quantity="0.00001", alert_id="r2"))
    assert r.status_code == 422 and "more decimals" in r.body["reason"]


def test_the_checked_table_starts_over_when_full(tv, monkeypatch):
    from tradewire.signals import service as service_module

    monkeypatch.setattr(service_module, "_ADDRESS_CACHE", 2)
    h = tv.make()
    for i, q in enumerate(["0.01", "0.02", "0.03", "0.01"]):
        assert h.post(tv.alert(quantity=q, alert_id=f"f{i}")).status_code == 202
    assert len(h.service._sources["tradingview"].checked) <= 2


def test_remembered_tickers_map_like_a_fresh_mapper_and_continuous_futures_still_roll():
    cfg = SourceConfig(
        secret="s" * 20, default_venue="BINANCE", futures={"ES": FuturesRollConfig()}, venue_aliases={"X": "CME"},
        symbols={"MYBTC": "BTCUSDT.BINANCE"},
    )  # fmt: skip
    warm = SymbolMapper(cfg)
    tickers = ["BINANCE:BTCUSDT", " binance:ethusdt ", "BTCUSDT", "X:NQZ4", "MYBTC", "ES1!", "CME_MINI:ES1!"]
    days = [date(2024, 9, 1), date(2024, 9, 30), date(2024, 12, 31)]
    for day in days:
        for t in tickers:
            try:
                expected = SymbolMapper(cfg).resolve(t, day)
            except AlertError as exc:
                with pytest.raises(AlertError) as got:
                    warm.resolve(t, day)
                assert got.value.reason == exc.reason
                continue
            assert warm.resolve(t, day) == expected
    assert warm.resolve("ES1!", days[0]) != warm.resolve("ES1!", days[2])  # rolled between September and December
    assert "ES1!" not in warm._fixed and "BINANCE:BTCUSDT" in warm._fixed


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": 1.50, "b": [1, 2.0], "c": {"d": null}}',
        b'\xef\xbb\xbf{"a": 1}',
        b'{"a": 1, "a": 2}',
        b'{"a": NaN}',
        b'{"a" 1}',
        b'{"a": 1} x',
        b"",
        b"[1, 2]",
    ],
)
def test_the_prebuilt_decoder_answers_as_json_loads_with_the_same_hooks(body):
    def reference():
        def pairs(items):
            out = {}
            for k, v in items:
                if k in out:
                    raise ValueError(f"duplicate key {k!r}")
                out[k] = v
            return out

        def constant(name):
            raise ValueError(f"{name} is not valid JSON")

        text = body.decode("utf-8")
        try:
            data = json.loads(text, parse_float=Decimal, parse_constant=constant, object_pairs_hook=pairs)
        except json.JSONDecodeError as exc:
            return f"invalid JSON at line {exc.lineno} column {exc.colno} (char offset {exc.pos}): {exc.msg}"
        except ValueError as exc:
            return f"invalid JSON: {exc}"
        return data if isinstance(data, dict) else f"alert must be a JSON object, got {type(data).__name__}"

    try:
        got = parse_json_body(body)
    except AlertError as exc:
        got = exc.reason
    assert got == reference()


@pytest.mark.parametrize(
    "data",
    [
        {"secret": "s" * 20, "ticker": "BINANCE:BTCUSDT", "action": "BUY ", "quantity": "0.01", "time_in_force": "IOC"},
        {"secret": "s" * 20, "ticker": "BINANCE:BTCUSDT", "action": "buy", "colour": "red", "quantity": 1.5},
        {"secret": "s" * 20, "ticker": "{{ticker}}", "action": "sell", "order_type": "limit"},
        {"ticker": "X", "action": "flatten", "order_type": "stop", "price": "-1", "time": "2024-01-01T00:00:00"},
        {"secret": "s" * 20, "ticker": "ES1!", "action": "buy", "stop_loss": "10", "take_profit": "9", "price": "11"},
    ],
)
def test_validate_alert_answers_as_model_validate(data):
    from pydantic import ValidationError

    from tradewire.signals.schema import TradingViewAlert, format_validation_error, validate_alert

    try:
        expected = TradingViewAlert.model_validate(data)
    except ValidationError as exc:
        with pytest.raises(AlertError) as got:
            validate_alert(data)
        assert got.value.status == 422 and got.value.reason == format_validation_error(exc)
        return
    assert validate_alert(data) == expected


def test_a_secret_with_surrounding_blanks_is_still_refused(tv):
    h = tv.make()
    r = h.post(tv.alert(secret=f" {tv.SECRET} ", alert_id="blank"))
    assert r.status_code == 401 and r.body["reason"] == "invalid secret"
    assert h.post(tv.alert(alert_id="ok")).status_code == 202
    text = json.dumps(tv.alert(alert_id="text")).encode()
    assert h.post(text, content_type="text/plain").status_code == 202
