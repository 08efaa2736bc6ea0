"""Fills reuse one Price/Quantity object per raw value: values stay exact for every precision and cache size."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from tradewire.model import InstrumentId, Price, Quantity, QuoteTick, future
from tradewire.venues.paper.fills import _CACHE_SIZE

BTC_ID = InstrumentId("BTCUSDT.PAPER")


def _quote(bid: str, ask: str, size: str, ts: int) -> QuoteTick:
    return QuoteTick(BTC_ID, Price(bid, 2), Price(ask, 2), Quantity(size, 5), Quantity(size, 5), ts, ts)


def test_fill_quantity_keeps_the_order_precision_when_it_differs_from_the_instrument(btc, harness):
    h = harness([btc])
    h.client.process_quote_tick(_quote("60000.00", "60000.50", "1.00000", 1))
    same = h.submit(BTC_ID, "buy", "market", "0.25000")
    # an order whose quantity has fewer decimals than the instrument (2 instead of 5)
    other = h.order(BTC_ID, "buy", "market", "0.25000")
    other.quantity = Quantity("0.25", 2)
    h.client.submit_order(other)
    f_same = h.of(same, "OrderFilled")[0]
    f_other = h.of(other, "OrderFilled")[0]
    assert (f_same.last_qty.raw, f_same.last_qty.precision) == (250_000_000, 5)
    assert (f_other.last_qty.raw, f_other.last_qty.precision) == (250_000_000, 2)
    assert str(f_same.last_qty) == "0.25000" and str(f_other.last_qty) == "0.25"
    assert f_same.last_px == f_other.last_px == Price("60000.50", 2)


def test_fill_prices_and_quantities_stay_exact_past_the_cache_size(btc, harness):
    h = harness([btc])
    n = _CACHE_SIZE + 50  # forces at least one eviction of each cache
    for i in range(n):
        ask = Decimal("50000.00") + Decimal(i) / 100  # a new price every quote
        h.client.process_quote_tick(_quote(str(ask - Decimal("0.01")), str(ask), "1.00000", i + 1))
        qty = f"{(i % 997 + 1) / 100000:.5f}"  # a new quantity for 997 quotes in a row
        o = h.submit(BTC_ID, "buy" if i % 2 == 0 else "sell", "market", qty)
        (fill,) = h.of(o, "OrderFilled")
        expect_px = ask if i % 2 == 0 else ask - Decimal("0.01")
        assert fill.last_px == Price(str(expect_px), 2) and fill.last_px.precision == 2
        assert fill.last_qty == Quantity(qty, 5) and str(fill.last_qty) == qty
    engine = h.client.matching_engine(BTC_ID)
    assert len(engine._prices) <= _CACHE_SIZE and len(engine._quantities) <= _CACHE_SIZE


def test_commission_with_a_contract_multiplier_is_rate_times_qty_times_price_times_multiplier(harness):
    # a rate-based fee on a multiplied instrument: 2 contracts x 4500.25 x 50 = 450,025.00; x 0.0002 = 90.005
    es = replace(future("ES", "PAPER", "0.25", "50"), taker_fee=Decimal("0.0002"))
    h = harness([es])
    tick = QuoteTick(es.id, Price("4500.00", 2), Price("4500.25", 2), Quantity("10", 0), Quantity("10", 0), 1, 1)
    h.client.process_quote_tick(tick)
    o = h.submit(es.id, "buy", "market", "2")
    (fill,) = h.of(o, "OrderFilled")
    assert fill.commission.raw == 90_005_000_000 and fill.commission.currency.code == "USD"
