"""OrderFactory: id scheme, uniqueness across restarts, validation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tradewire.core.clock import TestClock
from tradewire.execution.factory import OrderFactory
from tradewire.model import InstrumentId, OrderSide, OrderType, Price, Quantity, StrategyId, TimeInForce

IID = InstrumentId("BTCUSDT.SIM")
T0 = int(datetime(2026, 11, 23, 9, 30, 5, tzinfo=UTC).timestamp()) * 10**9


def test_client_order_id_scheme_and_counter():
    f = OrderFactory(StrategyId("sma-cross-1"), TestClock(T0))
    a = f.market(IID, OrderSide.BUY, Quantity(1, 0))
    b = f.limit(IID, OrderSide.SELL, Quantity(1, 0), Price("10.5", 1))
    assert a.client_order_id == "O-20261123-093005-smacross1-1"
    assert b.client_order_id == "O-20261123-093005-smacross1-2"
    assert a.ts_init == T0 and b.order_type is OrderType.LIMIT


def test_ids_unique_across_restarts_and_resumable():
    first = OrderFactory(StrategyId("S-1"), TestClock(T0))
    later = OrderFactory(StrategyId("S-1"), TestClock(T0 + 10**9))  # restarted one second later
    ids = {first.next_client_order_id() for _ in range(50)} | {later.next_client_order_id() for _ in range(50)}
    assert len(ids) == 100
    same_second = OrderFactory(StrategyId("S-1"), TestClock(T0), start_count=50)
    assert same_second.next_client_order_id() == "O-20261123-093005-S1-51"


@pytest.mark.parametrize("bad", ["", "a-b", "a b"])
def test_bad_prefix(bad):
    with pytest.raises(ValueError, match="id_prefix"):
        OrderFactory(StrategyId("S-1"), TestClock(T0), id_prefix=bad)


def test_validation_errors():
    f = OrderFactory(StrategyId("S-1"), TestClock(T0))
    with pytest.raises(ValueError, match="positive"):
        f.market(IID, OrderSide.BUY, Quantity(0, 0))
    with pytest.raises(ValueError, match="expire_time_ns"):
        f.limit(IID, OrderSide.BUY, Quantity(1, 0), Price("1", 0), time_in_force=TimeInForce.GTD)
    with pytest.raises(ValueError, match="trailing_offset_type"):
        f.trailing_stop_market(IID, OrderSide.SELL, Quantity(1, 0), "1", trailing_offset_type="pct")
    with pytest.raises(TypeError, match="float"):
        f.trailing_stop_market(IID, OrderSide.SELL, Quantity(1, 0), 1.5)
    with pytest.raises(ValueError, match="below take-profit"):
        f.bracket(IID, OrderSide.BUY, Quantity(1, 0), sl_trigger_price=Price("110", 0), tp_price=Price("100", 0))
    with pytest.raises(ValueError, match="above take-profit"):
        f.bracket(IID, OrderSide.SELL, Quantity(1, 0), sl_trigger_price=Price("90", 0), tp_price=Price("100", 0))


def test_bracket_entry_types():
    f = OrderFactory(StrategyId("S-1"), TestClock(T0))
    sl, tp = Price("90", 0), Price("110", 0)
    assert f.bracket(IID, OrderSide.BUY, Quantity(1, 0), sl, tp)[0].order_type is OrderType.MARKET
    assert f.bracket(IID, OrderSide.BUY, Quantity(1, 0), sl, tp, entry_price=Price("99", 0))[0].order_type is (
        OrderType.LIMIT
    )
    e = f.bracket(IID, OrderSide.BUY, Quantity(1, 0), sl, tp, entry_trigger_price=Price("101", 0))[0]
    assert e.order_type is OrderType.STOP_MARKET and e.trigger_price == Price("101", 0)
