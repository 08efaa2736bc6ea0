"""Read models of the node: exact ladder formatting from raw ints, incremental closed-trade aggregates."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradewire.node.views import format_raw, ladder_row


def _decimal_reference(raw: int, precision: int) -> str:
    # The formatting the node used before: Decimal quantize in the default context (ROUND_HALF_EVEN).
    return str(Decimal(raw).scaleb(-9).quantize(Decimal(1).scaleb(-precision)))


@given(st.integers(min_value=-(10**18), max_value=10**18), st.integers(min_value=0, max_value=6))
def test_format_raw_equals_decimal_quantize(raw, precision):
    assert format_raw(raw, precision) == _decimal_reference(raw, precision)


@pytest.mark.parametrize(
    ("raw", "precision", "text"),
    [
        (60_000_010_000_000, 2, "60000.01"),
        (1_000_000, 5, "0.00100"),
        (0, 2, "0.00"),
        (5_000_000_000, 0, "5"),
        (2_500_000_000, 0, "2"),  # half to even
        (3_500_000_000, 0, "4"),
        (-1_250_000_000, 1, "-1.2"),
        (123, 9, "0.000000123"),  # Decimal would print 1.23E-7
    ],
)
def test_format_raw_examples(raw, precision, text):
    assert format_raw(raw, precision) == text


def test_format_raw_refuses_a_precision_beyond_the_raw_scale():
    with pytest.raises(ValueError, match=r"0\.\.9"):
        format_raw(1, 10)


class _Book:
    instrument_id = "BTCUSDT.BINANCE"
    ts_event = 7
    sequence = 42
    price_precision = 2
    size_precision = 5

    def bids_raw(self, n):
        return [(60_000_000_000_000, 1_230_000), (59_999_990_000_000, 10_000)][:n]

    def asks_raw(self, n):
        return [(60_000_010_000_000, 500_000_000)][:n]


def test_ladder_row_formats_both_sides_at_the_book_precisions():
    assert ladder_row(_Book(), 1) == {
        "instrument_id": "BTCUSDT.BINANCE",
        "ts_event": 7,
        "sequence": 42,
        "bids": [["60000.00", "0.00123"]],
        "asks": [["60000.01", "0.50000"]],
    }
