"""Property tests: exact conservation, signed quantity sums and round-trip P&L against hand formulas."""

from __future__ import annotations

import itertools
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import TestClock
from tradewire.model import (
    AccountId,
    ClientOrderId,
    Money,
    OrderFilled,
    OrderSide,
    OrderType,
    Price,
    Quantity,
    StrategyId,
    TradeId,
    VenueOrderId,
    crypto_spot,
    equity,
    future,
)
from tradewire.model.objects import USD
from tradewire.portfolio import CashAccount, MarginAccount, Portfolio

SID = StrategyId("S-1")
_n = itertools.count(1)

# (side is buy, quantity units, price in cents/ticks, fee in cents)
fills_st = st.lists(
    st.tuples(st.booleans(), st.integers(1, 50), st.integers(1, 500_000), st.integers(0, 300)), min_size=1, max_size=30
)


def mk_fill(inst, buy: bool, qty: Quantity, px: Price, fee: Money, strategy=SID) -> OrderFilled:
    n = next(_n)
    side = OrderSide.BUY if buy else OrderSide.SELL
    return OrderFilled(ClientOrderId(f"O-{n}"), strategy, inst.id, n, n, VenueOrderId(f"V-{n}"), TradeId(f"T-{n}"),
                       side, OrderType.MARKET, qty, px, fee)  # fmt: skip


def portfolio(inst, account):
    cache = Cache()
    cache.add_instrument(inst)
    pf = Portfolio(cache, MessageBus(), TestClock(0))
    pf.register_account(account)
    return pf


@settings(max_examples=150, deadline=None)
@given(fills_st, st.integers(1, 500_000))
def test_cash_plus_position_value_is_conserved_up_to_fees(fills, mark_cents):
    inst = equity("AAPL", "XNAS")
    start = Decimal("1000000")
    pf = portfolio(inst, CashAccount(AccountId("XNAS-1"), [Money(start, USD)]))
    signed_cost = Decimal(0)
    net = 0
    fees = Decimal(0)
    for buy, q, c, f in fills:
        px = Decimal(c) / 100
        pf.update_fill(mk_fill(inst, buy, Quantity(q, 0), Price(px, 2), Money(Decimal(f) / 100, USD)))
        signed_cost += (q if buy else -q) * px
        net += q if buy else -q
        fees += Decimal(f) / 100
    mark = Decimal(mark_cents) / 100
    pf.update_mark(inst.id, Price(mark, 2).raw)
    # hand formula: start - fees + sum(signed qty x (mark - px))
    expected = start - fees + net * mark - signed_cost
    assert pf.equity(USD).as_decimal() == expected
    assert pf.balance_total(USD).as_decimal() == start - fees - signed_cost
    pnl = pf.realized_pnl(USD).as_decimal() + pf.unrealized_pnl(USD).as_decimal()
    assert abs(pnl - (net * mark - signed_cost)) <= Decimal("1e-9")  # one half-even rounding each
    assert pf.net_position_raw(inst.id) == net * 10**9


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 10**6), st.integers(1, 10**8)), min_size=1, max_size=40))
def test_position_quantity_is_signed_sum_of_fills(fills):
    inst = crypto_spot("BTCUSDT", "BINANCE", "BTC", "USDT", 2, 5)
    pf = portfolio(inst, CashAccount(AccountId("BINANCE-1"), [Money("1000000000", inst.quote_currency)]))
    expected = Decimal(0)
    for buy, q, c in fills:
        qty = Quantity(Decimal(q).scaleb(-5), 5)
        pf.update_fill(mk_fill(inst, buy, qty, Price(Decimal(c).scaleb(-2), 2), Money(0, inst.quote_currency)))
        expected += qty.as_decimal() if buy else -qty.as_decimal()
    pos = pf.position(inst.id, SID)
    assert pos.signed_qty == expected
    assert pf.balance_total(inst.base_currency).as_decimal() == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 20), st.integers(12_000, 24_000)), min_size=1, max_size=20),
       st.integers(12_000, 24_000))  # fmt: skip
def test_round_trip_realized_pnl_equals_sells_minus_buys_times_multiplier(fills, close_ticks):
    es = future("ESZ5", "CME", "0.25", "50")
    pf = portfolio(es, MarginAccount(AccountId("CME-1"), [Money("10000000", USD)]))
    net = 0
    buys = sells = Decimal(0)
    for buy, q, ticks in fills:
        px = Decimal(ticks) / 4
        pf.update_fill(mk_fill(es, buy, Quantity(q, 0), Price(px, 2), Money(0, USD)))
        net += q if buy else -q
        if buy:
            buys += q * px
        else:
            sells += q * px
    if net:
        px = Decimal(close_ticks) / 4
        pf.update_fill(mk_fill(es, net < 0, Quantity(abs(net), 0), Price(px, 2), Money(0, USD)))
        if net < 0:
            buys += -net * px
        else:
            sells += net * px
    expected = (sells - buys) * 50
    assert pf.realized_pnl(USD).as_decimal() == expected
    assert pf.balance_total(USD).as_decimal() == Decimal("10000000") + expected
    assert sum(t.realized_pnl.as_decimal() for t in pf.closed_trades()) == expected
    assert pf.net_position_raw(es.id) == 0 and pf.margin_used(USD).raw == 0


@settings(max_examples=60, deadline=None)
@given(
    fills_st, st.lists(st.integers(1, 500_000), min_size=1, max_size=5), st.sampled_from(["equity", "future", "spot"])
)
def test_equity_raw_equals_equity_after_every_fill_and_mark(fills, marks, kind):
    # equity_raw keeps the open positions between fills and skips Money/Decimal: it must give the very
    # same integer as equity() in every state (cash equity, margin future, two-currency crypto spot)
    if kind == "equity":
        inst = equity("AAPL", "XNAS")
        acct = CashAccount(AccountId("XNAS-1"), [Money("1000000", USD)])
    elif kind == "future":
        inst = future("ESZ5", "XNAS", "0.01", "50")
        acct = MarginAccount(AccountId("XNAS-1"), [Money("1000000", USD)])
    else:
        inst = crypto_spot("BTCUSD", "XNAS", "BTC", "USD", 2, 0)
        acct = CashAccount(AccountId("XNAS-1"), [Money("100000000", USD), Money("1000", inst.base_currency)])
    pf = portfolio(inst, acct)
    pf.update_mark(inst.id, Price("100.00", 2).raw)  # the spot account's BTC needs a rate from the start
    assert pf.equity_raw(USD) == pf.equity(USD).raw
    for buy, q, c, f in fills:
        pf.update_fill(mk_fill(inst, buy, Quantity(q, 0), Price(Decimal(c) / 100, 2), Money(Decimal(f) / 100, USD)))
        assert pf.equity_raw(USD) == pf.equity(USD).raw
        for m in marks:
            pf.update_mark(inst.id, Price(Decimal(m) / 100, 2).raw)
            assert pf.equity_raw(USD) == pf.equity(USD).raw
    assert pf.balance_free_raw(USD) == pf.balance_free(USD).raw
    assert set(pf.open_positions.values()) == {p for p in pf.positions() if p.signed_qty_raw}
