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
    ts_init = 9
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
        "ts_init": 9,
        "sequence": 42,
        "bids": [["60000.00", "0.00123"]],
        "asks": [["60000.01", "0.50000"]],
    }


def test_node_turns_quality_and_orderflow_events_into_alert_rows():
    from collections import deque
    from types import SimpleNamespace

    from tradewire.node.live import TradingNode

    # the engine-thread handlers on a bare node state (building a TradingNode parses the whole session)
    pushed = []
    node = SimpleNamespace(_quality_last={}, _alerts=deque(maxlen=500), _pub={}, clock=SimpleNamespace(timestamp_ns=int),  # noqa: E501
                           _listeners=[lambda topic, update: pushed.append(topic)])  # fmt: skip
    node._emit = lambda *a: TradingNode._emit(node, *a)
    node._add_alert = lambda row: TradingNode._add_alert(node, row)
    quality = SimpleNamespace(to_dict=lambda: {"instrument_id": "BTCUSDT.BINANCE", "kind": "gap", "ts_init": 5,
                                               "ts_event": 4, "message": "sequence gap"})  # fmt: skip
    TradingNode._on_quality_event(node, quality)
    TradingNode._on_quality_event(node, quality)  # same kind within a second: counted by the monitor, no new row
    TradingNode._on_orderflow_event(node, SimpleNamespace(instrument_id="BTCUSDT.BINANCE", ts_event=9))
    rows = node._pub["alerts"]
    assert [(r["source"], r["ts_event"]) for r in rows] == [("orderflow", 9), ("data_quality", 4)]
    assert rows[1]["kind"] == "gap" and rows[1]["message"] == "sequence gap"
    assert pushed == ["alerts", "alerts"]
