from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradewire.model.objects import (
    FIXED_SCALAR,
    USD,
    USDT,
    Money,
    Price,
    Quantity,
    div_round,
    mul_raw,
    parse_raw,
    raw_to_str,
)

decimals = st.decimals(min_value=-(10**9), max_value=10**9, places=9, allow_nan=False, allow_infinity=False)


@given(decimals)
def test_parse_raw_is_exact_for_any_decimal_with_9_places(d):
    assert parse_raw(str(d)) == int(d * FIXED_SCALAR)
    assert parse_raw(d) == int(d * FIXED_SCALAR)


@pytest.mark.parametrize(
    ("text", "raw"),
    [("60123.45", 60123_450_000_000), ("-0.001", -1_000_000), (".5", 500_000_000), ("1e-05", 10_000), ("7", 7 * 10**9)],
)
def test_parse_raw_forms(text, raw):
    assert parse_raw(text) == raw


def test_floats_and_excess_decimals_are_refused():
    with pytest.raises(TypeError, match="binary float"):
        Price(0.1, 1)
    with pytest.raises(ValueError, match="more than 2 decimals"):
        Price("1.234", 2)
    with pytest.raises(ValueError, match="not a decimal number"):
        Price("abc", 2)
    with pytest.raises(ValueError, match="negative"):
        Quantity("-1", 0)


def test_trailing_zeros_beyond_precision_are_accepted():
    assert Price("1.2300", 2).raw == Price("1.23", 2).raw


@given(decimals, decimals)
def test_price_add_sub_match_decimal(a, b):
    pa, pb = Price(a, 9), Price(b, 9)
    assert (pa + pb).as_decimal() == (a + b).quantize(Decimal("1e-9"))
    assert (pa - pb).as_decimal() == (a - b).quantize(Decimal("1e-9"))


@given(st.integers(-(10**15), 10**15), st.integers(-(10**15), 10**15))
def test_mul_raw_rounds_half_even_like_decimal(a, b):
    exact = Decimal(a) * Decimal(b) / Decimal(FIXED_SCALAR)
    assert mul_raw(a, b) == int(exact.to_integral_value(rounding="ROUND_HALF_EVEN"))


def test_div_round_half_even():
    assert div_round(5, 2) == 2
    assert div_round(7, 2) == 4
    assert div_round(-5, 2) == -2
    assert div_round(5, -2) == -2


def test_formatting():
    assert str(Price.from_str("60123.45")) == "60123.45"
    assert str(Quantity.from_str("0.00100")) == "0.00100"
    assert raw_to_str(-1_500_000_000, 0) == "-2"
    assert str(Money("12.345", USD)) == "12.34 USD"  # half-even display
    assert repr(Price("1.5", 1)) == "Price('1.5')"


def test_comparisons_and_hash():
    assert Price("1.10", 2) == Price("1.1", 1)
    assert hash(Price("1.10", 2)) == hash(Price("1.1", 1))
    assert Price("1", 0) < Price("1.01", 2)
    assert Price("2", 0) == 2


def test_money_currency_mismatch():
    with pytest.raises(ValueError, match="currency mismatch"):
        Money("1", USD) + Money("1", USDT)
    assert (Money("0.1", USD) + Money("0.2", USD)).as_decimal() == Decimal("0.3")


def test_cents_never_drift_over_many_additions():
    total = Money.zero(USD)
    for _ in range(100_000):
        total = total + Money("0.01", USD)
    assert total == Money("1000", USD)
