"""The figures the Portfolio keeps for O(1) reads equal a from-scratch recomputation after every step.

Random sequences of fills, marks, quotes, order submits/cancels and venue account updates are driven
through cash and margin accounts, NETTING and HEDGING, over a USD future, a EUR future, a USD equity
and two currency pairs (BTC/USD spot, EUR/USD); after each step ``equity_raw`` and
``balance_free_raw`` must equal ``_recompute_equity_raw`` / ``_recompute_balance_free_raw`` (the
former loops over accounts and positions), including raising ``ConversionRateError`` in the same states.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import TestClock
from tradewire.model import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    Money,
    OmsType,
    OrderCanceled,
    OrderFilled,
    OrderInitialized,
    OrderSide,
    OrderSubmitted,
    OrderType,
    PositionId,
    Price,
    Quantity,
    StrategyId,
    TradeId,
    VenueOrderId,
    crypto_spot,
    equity,
    future,
)
from tradewire.model.account import AccountState
from tradewire.model.data import QuoteTick
from tradewire.model.objects import USD, Currency
from tradewire.model.orders import Order
from tradewire.portfolio import CashAccount, ConversionRateError, MarginAccount, Portfolio
from tradewire.portfolio.portfolio import _div_round_s2, _position_value

EUR = Currency.from_str("EUR")
BTC = Currency.from_str("BTC")
SIDS = (StrategyId("S-1"), StrategyId("S-2"))
_n = itertools.count(1)


def instruments():
    return [
        future("ESZ5", "SIM", "0.25", "50", margin_init="0.05", margin_maint="0.04"),
        future("FESXZ5", "SIM", "1", "10", currency="EUR", margin_init="0.1", margin_maint="0.08"),
        equity("AAPL", "SIM"),
        crypto_spot("BTCUSD", "SIM", "BTC", "USD", 2, 3, taker_fee="0.001"),
        crypto_spot("EURUSD", "SIM", "EUR", "USD", 5, 0, taker_fee="0"),
    ]


def price(inst, ticks: int) -> Price:
    """A price of ``ticks`` units of the instrument's price precision step (positive)."""
    return Price(Decimal(ticks).scaleb(-inst.price_precision), inst.price_precision)


def qty(inst, units: int) -> Quantity:
    return Quantity(Decimal(units).scaleb(-inst.size_precision), inst.size_precision)


fill_st = st.tuples(st.just("fill"), st.integers(0, 4), st.booleans(), st.integers(1, 40), st.integers(1, 9_000_000),
                    st.integers(0, 500), st.integers(0, 3), st.integers(0, 1))  # fmt: skip
mark_st = st.tuples(st.just("mark"), st.integers(0, 4), st.integers(1, 9_000_000))
quote_st = st.tuples(st.just("quote"), st.sampled_from([3, 4]), st.integers(1, 9_000_000), st.integers(0, 1000))
order_st = st.tuples(st.just("order"), st.integers(0, 4), st.booleans(), st.integers(1, 40), st.integers(1, 9_000_000),
                     st.integers(0, 5))  # fmt: skip
cancel_st = st.tuples(st.just("cancel"), st.integers(0, 5))
acct_st = st.tuples(st.just("account"), st.integers(0, 1), st.sampled_from(["USD", "EUR", "BTC"]),
                    st.integers(-10**6, 10**8))  # fmt: skip
steps_st = st.lists(st.one_of(fill_st, mark_st, quote_st, order_st, cancel_st, acct_st), min_size=1, max_size=40)


def check(pf: Portfolio) -> None:
    for cur in (USD, EUR, BTC):
        assert pf.balance_free_raw(cur) == pf._recompute_balance_free_raw(cur)
        try:
            expected = pf._recompute_equity_raw(cur)
        except ConversionRateError:
            with pytest.raises(ConversionRateError):
                pf.equity_raw(cur)
        else:
            assert pf.equity_raw(cur) == expected
            assert pf.equity(cur).raw == expected
            figures, held = pf.equity_view(cur)
            if held in ([], [cur.code]):
                assert figures[1] == expected


@settings(max_examples=120, deadline=None)
@given(st.booleans(), st.sampled_from([OmsType.NETTING, OmsType.HEDGING]), st.booleans(), steps_st)
def test_maintained_figures_equal_recomputation_after_every_step(margin, oms, rates_first, steps):
    insts = instruments()
    cache = Cache()
    for inst in insts:
        cache.add_instrument(inst)
    pf = Portfolio(cache, MessageBus(), TestClock(0))
    cls = MarginAccount if margin else CashAccount
    kw = {"leverage": Decimal(20)} if margin else {}
    acct = cls(AccountId("SIM-1"), [Money("1000000", USD), Money("2", BTC)], oms_type=oms, **kw)
    acct.update_order_lock("PRE-1", ("USD", 7 * 10**9))  # a reservation made before registration counts too
    pf.register_account(acct)
    other = CashAccount(AccountId("SIM-2"), [Money("5000", EUR)])
    pf.register_account(other)
    accounts = [acct, other]
    if rates_first:
        pf.update_mark(insts[3].id, price(insts[3], 6_000_000).raw)
        pf.update_mark(insts[4].id, price(insts[4], 110_000).raw)
    check(pf)
    orders: list[Order] = []
    for step in steps:
        kind = step[0]
        if kind == "fill":
            _, i, buy, q, px, fee, k, s = step
            inst = insts[i]
            n = next(_n)
            fill = OrderFilled(ClientOrderId(f"O-{k}"), SIDS[s], inst.id, n, n, VenueOrderId(f"V-{n}"),
                               TradeId(f"T-{n}"), OrderSide.BUY if buy else OrderSide.SELL, OrderType.MARKET,
                               qty(inst, q), price(inst, px),
                               Money(Decimal(fee) / 100, inst.settlement_currency))  # fmt: skip
            pf.update_fill(fill)
        elif kind == "mark":
            _, i, px = step
            pf.update_mark(insts[i].id, price(insts[i], px).raw)
        elif kind == "quote":
            _, i, bid, spread = step
            inst = insts[i]
            cache.quotes[inst.id] = QuoteTick(inst.id, price(inst, bid), price(inst, bid + spread), qty(inst, 1),
                                              qty(inst, 1), 0, 0)  # fmt: skip
        elif kind == "order":
            _, i, buy, q, px, _slot = step
            inst = insts[i]
            n = next(_n)
            init = OrderInitialized(ClientOrderId(f"L-{n}"), SIDS[0], inst.id, n, n,
                                    OrderSide.BUY if buy else OrderSide.SELL, OrderType.LIMIT, qty(inst, q),
                                    price=price(inst, px))  # fmt: skip
            o = Order.from_init(init)
            o.apply(OrderSubmitted(o.client_order_id, SIDS[0], inst.id, n, n))
            pf.update_order(o)
            orders.append(o)
        elif kind == "cancel":
            _, slot = step
            if orders:
                o = orders.pop(slot % len(orders))
                n = next(_n)
                o.apply(OrderCanceled(o.client_order_id, SIDS[0], o.instrument_id, n, n))
                pf.update_order(o)
        else:
            _, a, code, amount = step
            cur = Currency.from_str(code)
            total = Money(Decimal(amount) / 100, cur)
            zero = Money(0, cur)
            pf.update_account(AccountState(accounts[a].id, {code: (total, zero, total)}, 1, 1))
        check(pf)


@settings(max_examples=300, deadline=None)
@given(st.integers(-(10**40), 10**40))
def test_floor_division_rounding_equals_div_round(num):
    from tradewire.model.objects import div_round

    assert _div_round_s2(num) == div_round(num, 10**18)
    half = 5 * 10**17
    assert _div_round_s2(half * (2 * (num % 1000) + 1)) == div_round(half * (2 * (num % 1000) + 1), 10**18)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 10**6), st.integers(1, 10**9)), min_size=1, max_size=10),
       st.integers(1, 10**9))  # fmt: skip
def test_position_value_equals_position_methods(fills, mark):
    from tradewire.model.position import Position
    from tradewire.portfolio.portfolio import _PNL, _VALUE

    inst = future("ESZ5", "SIM", "0.25", "50")
    pos = Position(inst.id + "-S-1", inst.id, SIDS[0], inst.multiplier.raw, USD, 3)
    for buy, q, px in fills:
        n = next(_n)
        pos.apply(OrderFilled(ClientOrderId(f"O-{n}"), SIDS[0], inst.id, n, n, VenueOrderId(f"V-{n}"),
                              TradeId(f"T-{n}"), OrderSide.BUY if buy else OrderSide.SELL, OrderType.MARKET,
                              Quantity(Decimal(q).scaleb(-3), 3), Price(Decimal(px).scaleb(-4), 4),
                              Money(0, USD)))  # fmt: skip
        assert _position_value(pos, _PNL, mark * 10**5) == pos.unrealized_pnl_raw(mark * 10**5)
        assert _position_value(pos, _VALUE, mark * 10**5) == pos.notional_raw(mark * 10**5)


@settings(max_examples=300, deadline=None)
@given(st.integers(-(10**7), 10**7), st.sampled_from([0, 1, 3, 9]), st.sampled_from(["1", "50", "0.5", "0.001"]),
       st.integers(1, 10**15))  # fmt: skip
def test_exact_factor_values_like_position_value(units, size_precision, multiplier, mark):
    from tradewire.model.objects import parse_raw
    from tradewire.model.position import Position
    from tradewire.portfolio.portfolio import _PNL, _VALUE, _exact_factor

    pos = Position(PositionId("P-1"), InstrumentId("X.SIM"), SIDS[0], parse_raw(multiplier), USD, size_precision)
    pos.signed_qty_raw = units * 10 ** (9 - size_precision)
    k = _exact_factor(pos, _VALUE)
    whole = (pos.signed_qty_raw * pos.multiplier_raw) % 10**18 == 0
    assert (k is not None) == whole and _exact_factor(pos, _PNL) is None
    if k is not None:
        assert mark * k == _position_value(pos, _VALUE, mark)


def test_account_registered_twice_is_refused():
    cache = Cache()
    acct = CashAccount(AccountId("SIM-1"), [Money("1", USD)])
    Portfolio(cache, MessageBus(), TestClock(0)).register_account(acct)
    with pytest.raises(ValueError, match="SIM-1 is already registered in another portfolio"):
        Portfolio(cache, MessageBus(), TestClock(0)).register_account(acct)
