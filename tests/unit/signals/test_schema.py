from __future__ import annotations

from decimal import Decimal

import pytest

from tradewire.signals.schema import (
    Action,
    AlertError,
    TradingViewAlert,
    parse_json_body,
    validate_alert,
)
from tradewire.signals.text_format import parse_text_body

SECRET = "test-secret-0123456789abcdef"


def _alert(**kw):
    d = {"secret": SECRET, "ticker": "BINANCE:BTCUSDT", "action": "buy"}
    d.update(kw)
    return d


def test_minimal_alert_has_documented_defaults():
    a = validate_alert(_alert())
    assert a.action is Action.BUY
    assert a.order_type.value == "market"
    assert a.time_in_force.value == "gtc"
    assert a.quantity is None and a.quantity_type is None and a.alert_id is None


def test_numbers_are_parsed_exactly_from_json_text():
    body = b'{"secret": "%s", "ticker": "X", "action": "buy", "quantity": 0.1, "price": 60123.456789012}' % (
        SECRET.encode()
    )
    a = validate_alert(parse_json_body(body))
    assert a.quantity == Decimal("0.1") and str(a.quantity) == "0.1"
    assert a.price == Decimal("60123.456789012")  # a float would be 60123.45678901199...


def test_numeric_strings_are_accepted_and_floats_refused():
    assert validate_alert(_alert(price="420.69")).price == Decimal("420.69")
    with pytest.raises(AlertError) as e:
        validate_alert(_alert(quantity=0.1))
    assert e.value.status == 422 and "quantity" in e.value.reason and "float" in e.value.reason


@pytest.mark.parametrize("text", [b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}'])
def test_nan_and_infinity_are_invalid_json(text):
    with pytest.raises(AlertError) as e:
        parse_json_body(text)
    assert e.value.status == 422


def test_json_error_names_line_column_and_offset():
    with pytest.raises(AlertError) as e:
        parse_json_body(b'{\n  "ticker": "X",\n  "open": {{open}}\n}')
    assert "line 3 column 12" in e.value.reason and "char offset 30" in e.value.reason


def test_duplicate_keys_are_rejected():
    with pytest.raises(AlertError, match="duplicate key 'action'"):
        parse_json_body(b'{"action": "buy", "action": "sell"}')


def test_top_level_must_be_an_object():
    with pytest.raises(AlertError, match="JSON object, got list"):
        parse_json_body(b"[1, 2]")


def test_unknown_field_is_named_and_secret_is_never_echoed():
    with pytest.raises(AlertError) as e:
        validate_alert(_alert(passphrase="hunter2", exchange="BINANCE"))
    assert "passphrase: unknown field" in e.value.reason
    assert "exchange: unknown field" in e.value.reason
    assert SECRET not in e.value.reason and "hunter2" not in e.value.reason


def test_unrendered_placeholder_is_explained():
    with pytest.raises(AlertError, match=r"action: .*unrendered TradingView placeholder"):
        validate_alert(_alert(action="{{strategy.order.action}}"))


def test_strategy_placeholder_values_are_accepted_case_insensitively():
    for v in ("buy", "sell", "long", "short", "flat", "BUY", "Flat"):
        assert validate_alert(_alert(action=v, quantity="1")).action.value == v.lower()


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"order_type": "limit"}, "order_type limit needs a price"),
        ({"order_type": "stop"}, "order_type stop needs a price"),
        ({"action": "close", "stop_loss": "1"}, "only allowed with buy or sell"),
        ({"quantity_type": "risk", "quantity": "1"}, "needs a stop_loss"),
        ({"stop_loss": "110", "take_profit": "100"}, "stop_loss must be below take_profit"),
        ({"action": "sell", "stop_loss": "90", "take_profit": "100"}, "stop_loss must be above take_profit"),
        ({"price": "100", "stop_loss": "101"}, "wrong side of price"),
        ({"price": "100", "take_profit": "99"}, "wrong side of price"),
        ({"quantity": "0"}, "quantity must be greater than 0"),
        ({"quantity": "-1"}, "quantity: Input should be greater than or equal to 0"),
        ({"ticker": "BTC USDT"}, "ticker"),
        ({"time": "2024-08-08T23:55:00"}, "time"),  # naive time: timezone required
        ({"action": "flatten", "order_type": "limit", "price": "1"}, "flatten always uses a market order"),
    ],
)
def test_inconsistent_combinations_are_rejected(fields, fragment):
    with pytest.raises(AlertError) as e:
        validate_alert(_alert(**fields))
    assert e.value.status == 422 and fragment in e.value.reason


def test_flat_with_zero_quantity_is_valid():
    # {{strategy.market_position}} / {{strategy.market_position_size}} render to "flat" / "0"
    assert validate_alert(_alert(action="flat", quantity="0")).quantity == 0


def test_time_is_converted_to_exact_utc_ns():
    a = validate_alert(_alert(time="2024-08-08T23:55:00.123456+02:00"))
    # 23:55 UTC is epoch 1723161300; at +02:00 the instant is two hours earlier
    assert a.time_ns == (1723161300 - 2 * 3600) * 1_000_000_000 + 123_456_000


def test_normalized_excludes_secret_and_is_canonical():
    a = validate_alert(_alert(quantity="0.010", time="2024-08-08T23:55:00Z"))
    n = a.normalized()
    assert "secret" not in n and n["quantity"] == "0.01" and n["time"] == str(1723161300 * 10**9)
    assert SECRET not in repr(a)


def test_text_key_value_lines():
    body = f"# my alert\nsecret={SECRET}\nticker = BINANCE:BTCUSDT\n\naction=sell\nquantity=0.5\r\n".encode()
    a = validate_alert(parse_text_body(body))
    assert a.action is Action.SELL and a.quantity == Decimal("0.5")


def test_text_one_liner():
    a = validate_alert(parse_text_body(f"buy BINANCE:BTCUSDT 0.01 secret={SECRET} stop_loss=58000".encode()))
    assert (a.action, a.ticker, a.quantity, a.stop_loss) == (Action.BUY, "BINANCE:BTCUSDT", Decimal("0.01"), 58000)
    b = validate_alert(parse_text_body(f"close BINANCE:BTCUSDT secret={SECRET}".encode()))
    assert b.action is Action.CLOSE and b.quantity is None


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"secret=a\nsecret=b", "line 2: duplicate key 'secret'"),
        (b"secret=a\nticker", "line 2: expected key=value"),
        (b"ticker=\n", "line 1: empty value"),
        (b"Secret=x", "line 1: key must be"),
        (b"buy BTC 1 secret=x\nsell BTC 1", "line 2: a one-liner alert must be the only line"),
        (b"buy", "line 1: one-liner must start with"),
        (b"buy BTC 1 2", "line 1: expected key=value"),
        (b"buy BTC action=sell", "line 1: duplicate key 'action'"),
        (b"\n# only a comment\n", "empty alert body"),
        (b"buy \xff\xfe", "not UTF-8 (byte offset 4)"),
    ],
)
def test_text_format_errors_name_the_line(body, fragment):
    with pytest.raises(AlertError) as e:
        parse_text_body(body)
    assert e.value.status == 422 and fragment in e.value.reason


def test_model_is_frozen():
    a = TradingViewAlert.model_validate(_alert())
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError for frozen models
        a.action = Action.SELL  # type: ignore[misc]
