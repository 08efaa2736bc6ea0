"""The pre-trade checks' fast path: exact integer helpers, cached session intervals, recompiled instruments,
the worst-case contracts walk, and no garbage-collected allocation on the pass path."""

from __future__ import annotations

import gc
import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import TestClock
from tradewire.model import (
    USD,
    AccountId,
    ClientOrderId,
    InstrumentId,
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
    future,
)
from tradewire.model.objects import mul_raw
from tradewire.portfolio import MarginAccount, Portfolio
from tradewire.risk import PreTradeConfig, RiskConfig, parse_risk_config
from tradewire.risk.checks import _Compiled, mul_raw_exact, notional_raw

from .conftest import T0, Env

S = 10**9


# ------------------------------------------------------------------------------------------- exact helpers
@settings(max_examples=300, deadline=None)
@given(st.integers(-(10**24), 10**24), st.integers(-(10**24), 10**24))
def test_mul_raw_exact_is_the_models_mul_raw(a, b):
    assert mul_raw_exact(a, b) == mul_raw(a, b)


def test_mul_raw_exact_rounds_half_to_even():
    # 0.5e-9 exactly: ties go to the even neighbour, as in the model's mul_raw
    assert mul_raw_exact(1, S // 2) == 0
    assert mul_raw_exact(3, S // 2) == 2
    assert mul_raw_exact(-3, S // 2) == -2


_INSTRUMENTS = [
    future("ESH4", "XCME", "0.25", "50", margin_init="0.05"),  # whole multiplier
    future("MBTF4", "XCME", "5", "0.1"),  # fractional multiplier
    crypto_spot("BTCUSDT", "BINANCE", "BTC", "USDT", 2, 5),  # multiplier 1, fractional quantities
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(range(len(_INSTRUMENTS))), st.integers(1, 10**15), st.integers(1, 10**15))
def test_notional_raw_is_the_instruments_notional(k, qty_raw, px_raw):
    inst = _INSTRUMENTS[k]
    c = _Compiled(inst, PreTradeConfig())
    assert notional_raw(c, qty_raw, px_raw) == inst.notional_raw(qty_raw, px_raw)
    whole = qty_raw // S * S or S  # whole contracts take the integer-product path
    assert notional_raw(c, whole, px_raw) == inst.notional_raw(whole, px_raw)


# ------------------------------------------------------------------------------------------- sessions
class CountingSessions:
    """A session provider with ``interval``: open in [T0 - 1 h, T0 + 1 h), then closed for an hour."""

    H = 3_600 * S

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, instrument_id, ts_ns):
        return self.interval(instrument_id, ts_ns)[2]

    def interval(self, instrument_id, ts_ns):
        self.calls += 1
        if T0 - self.H <= ts_ns < T0 + self.H:
            return T0 - self.H, T0 + self.H, True
        if T0 + self.H <= ts_ns < T0 + 2 * self.H:
            return T0 + self.H, T0 + 2 * self.H, False
        raise KeyError(f"{ts_ns} outside the test calendar")


def test_session_interval_is_asked_again_only_when_the_clock_leaves_it(env: Env):
    sessions = CountingSessions()
    risk = env.engine(RiskConfig(pre_trade=PreTradeConfig(check_balance=False)), session_provider=sessions)
    for minute in range(30):  # 30 orders inside the open interval
        env.clock.set_time(T0 + minute * 60 * S)
        assert risk.check_order(env.order()) is None
    assert sessions.calls == 1
    env.clock.set_time(T0 + CountingSessions.H)  # the close: the next interval is closed
    assert risk.check_order(env.order()) == (
        "MARKET_CLOSED", f"MARKET_CLOSED: trading session for ESH4.XCME is closed at {T0 + CountingSessions.H}",
    )  # fmt: skip
    env.clock.set_time(T0 + CountingSessions.H + 60 * S)
    assert risk.check_order(env.order())[0] == "MARKET_CLOSED"
    assert sessions.calls == 2


def test_a_plain_callable_session_provider_is_asked_for_every_order(env: Env):
    asked: list[int] = []

    def provider(instrument_id, ts_ns):
        asked.append(ts_ns)
        return ts_ns < T0 + 60 * S

    risk = env.engine(RiskConfig(pre_trade=PreTradeConfig(check_balance=False)), session_provider=provider)
    assert risk.check_order(env.order()) is None
    env.clock.set_time(T0 + 60 * S)
    assert risk.check_order(env.order())[0] == "MARKET_CLOSED"
    assert asked == [T0, T0 + 60 * S]


# ------------------------------------------------------------------------------------------- instruments
def test_a_replaced_instrument_definition_is_checked_with_its_new_fields(env: Env):
    risk = env.engine(RiskConfig(pre_trade=PreTradeConfig(check_balance=False)))
    assert risk.check_order(env.order(qty="1")) is None
    # the venue moves ES to a lot of 2 contracts: the cached raw fields must follow the new definition
    es2 = future("ESH4", "XCME", "0.25", "50", margin_init="0.05")
    object.__setattr__(es2, "lot_size", Quantity(2, 0))
    env.cache.instruments[env.ES] = es2
    code, text = risk.check_order(env.order(qty="1"))
    assert code == "QUANTITY_NOT_ON_LOT"
    assert text == "QUANTITY_NOT_ON_LOT: quantity 1 is not a multiple of lot size 2"


# ------------------------------------------------------------------------------------------- contracts
def _fill(portfolio: Portfolio, inst, coid: str, side: OrderSide, qty: int, px: str) -> None:
    from tradewire.model import Order, OrderInitialized

    init = OrderInitialized(ClientOrderId(coid), StrategyId("s1"), inst.id, T0, T0, side, OrderType.MARKET,
                            Quantity(qty, 0))  # fmt: skip
    order = Order(init)
    portfolio.cache.orders[order.client_order_id] = order
    portfolio.update_fill(OrderFilled(order.client_order_id, order.strategy_id, inst.id, T0, T0, VenueOrderId(coid),
                                      TradeId(coid), side, OrderType.MARKET, Quantity(qty, 0), Price(px, 2),
                                      Money(0, USD)))  # fmt: skip


def _real_portfolio_env():
    bus, cache, clock = MessageBus(), Cache(), TestClock(T0)
    es = future("ESH4", "XCME", "0.25", "50", margin_init="0.05")
    nq = future("NQH4", "XCME", "0.25", "20", margin_init="0.05")
    for inst in (es, nq):
        cache.add_instrument(inst)
    portfolio = Portfolio(cache, bus, clock, USD)
    portfolio.register_account(MarginAccount(AccountId("XCME-001"), [Money(10_000_000, USD)], USD))
    bus.register("ExecutionEngine.execute", lambda cmd: None)
    bus.register("ExecutionEngine.process", lambda ev: None)
    return bus, cache, clock, portfolio, es, nq


def _contracts_config(limit: str) -> RiskConfig:
    return parse_risk_config(
        {"pre_trade": {"check_balance": False}, "rules": {"max_contracts": {"limit": limit}}}, "test"
    )


def test_worst_case_contracts_counts_open_positions_of_other_instruments_not_closed_ones():
    from tradewire.risk import RiskEngine

    bus, cache, clock, portfolio, es, nq = _real_portfolio_env()
    risk = RiskEngine(bus, cache, portfolio, clock, _contracts_config("10"))
    _fill(portfolio, nq, "N1", OrderSide.BUY, 4, "17000.00")
    _fill(portfolio, nq, "N2", OrderSide.SELL, 4, "17010.00")  # NQ flat again: a closed position in the cache
    _fill(portfolio, es, "E1", OrderSide.BUY, 3, "4500.00")
    assert len(cache.positions) == 2 and len(portfolio.open_positions) == 1
    checker = risk.checker
    assert checker.worst_case_contracts_raw(es.id) == 0  # the only open position is ES itself
    assert checker.worst_case_contracts_raw(nq.id) == 3 * S
    assert checker.worst_case_contracts_raw(None) == 3 * S
    _fill(portfolio, nq, "N3", OrderSide.SELL, 5, "17000.00")
    assert checker.worst_case_contracts_raw(es.id) == 5 * S
    # ES 3 + NQ 5 open; a 3-lot ES buy makes 11 > 10, a 2-lot makes 10 (at the limit passes)
    env_order = _order(es, "B-1", OrderSide.BUY, 3)
    assert risk.check_order(env_order) == (
        "MAX_CONTRACTS", "MAX_CONTRACTS: open contracts would be 11 > limit 10"
    )  # fmt: skip
    assert risk.check_order(_order(es, "B-2", OrderSide.BUY, 2)) is None


def _order(inst, coid: str, side: OrderSide, qty: int, price: str = "4500.00"):
    from tradewire.model import Order, OrderInitialized

    return Order(OrderInitialized(ClientOrderId(coid), StrategyId("s1"), inst.id, T0, T0, side, OrderType.LIMIT,
                                  Quantity(qty, 0), price=Price(price, 2)))  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from([0, 1]), st.sampled_from([OrderSide.BUY, OrderSide.SELL]), st.integers(1, 5)),
             max_size=8),
    st.lists(st.tuples(st.sampled_from([0, 1]), st.sampled_from([OrderSide.BUY, OrderSide.SELL]), st.integers(1, 5)),
             max_size=6),
)  # fmt: skip
def test_worst_case_contracts_matches_a_walk_over_every_position_and_order(fills, working):
    from tradewire.risk import RiskEngine

    bus, cache, clock, portfolio, es, nq = _real_portfolio_env()
    risk = RiskEngine(bus, cache, portfolio, clock, _contracts_config("1000"))
    insts = (es, nq)
    for i, (k, side, qty) in enumerate(fills):
        _fill(portfolio, insts[k], f"F{i}", side, qty, "4500.00")
    for i, (k, side, qty) in enumerate(working):
        risk.working.add(_order(insts[k], f"W{i}", side, qty))
    for exclude in (es.id, nq.id, None):
        # reference: net per instrument over every position in the cache, plus working leaves that add to it
        net: dict[InstrumentId, int] = {}
        for p in cache.positions.values():
            if p.instrument_id != exclude:
                net[p.instrument_id] = net.get(p.instrument_id, 0) + p.signed_qty_raw
        expected = sum(abs(q) for q in net.values())
        for o in risk.working.orders.values():
            q = net.get(o.instrument_id, 0)
            if o.instrument_id != exclude and (q == 0 or (q > 0) == (o.side is OrderSide.BUY)):
                expected += o.quantity.raw
        assert risk.checker.worst_case_contracts_raw(exclude) == expected


# ------------------------------------------------------------------------------------------- allocations
class RawPortfolio:
    """A portfolio view whose readers allocate nothing (raw ints held in attributes)."""

    def __init__(self, net_raw: int) -> None:
        self.net = {InstrumentId("ESH4.XCME"): net_raw}
        self.open_positions: dict = {}
        self.eq_raw = 1_000_000 * S
        self.free_raw = 1_000_000 * S

    def net_position_raw(self, instrument_id, strategy_id=None) -> int:
        return self.net.get(instrument_id, 0)

    def equity_raw(self, currency) -> int:
        return self.eq_raw

    def balance_free_raw(self, currency) -> int:
        return self.free_raw

    def equity(self, currency):
        return Money.from_raw(self.eq_raw, currency)

    def balance_free(self, currency):
        return Money.from_raw(self.free_raw, currency)

    def balance_total(self, currency):
        return self.balance_free(currency)


def test_the_pass_path_allocates_no_garbage_collected_object(env: Env):
    from tradewire.risk import RiskEngine

    config = parse_risk_config(
        {
            "pre_trade": {
                "allowed_instruments": ["ESH4.XCME"], "max_concentration_pct": "80", "max_open_orders": 1000,
                "max_open_orders_per_strategy": 1000, "max_submits_per_second": 100_000,
                "max_account_submits_per_second": 100_000,
                "default_limits": {"max_order_quantity": "10", "max_order_notional": "1000000", "max_position": "20",
                                   "price_collar_pct": "5"},
            },
            "rules": {"max_contracts": {"limit": "50"}},
        },
        "test",
    )  # fmt: skip
    env.quote(env.ES, "4499.75", "4500.25")
    risk = RiskEngine(env.bus, env.cache, RawPortfolio(2 * S), env.clock, config, session_provider=CountingSessions())
    orders = [env.order(price=p) for p in ("4499.00", "4499.25", "4500.00", "4500.25") * 100]
    for o in orders[:50]:  # warm-up: compiled limits, session interval, throttle queues
        assert risk.check_order(o) is None
    batch = orders[50:]
    n = len(batch)
    denials: list[object] = [False] * n
    check = risk.check_order
    me = threading.get_ident()
    started: list[int] = []

    def hook(phase, info):
        if phase == "start" and threading.get_ident() == me:
            started.append(1)

    gc.collect()
    old = gc.get_threshold()
    gc.callbacks.append(hook)
    gc.set_threshold(1)  # every GC-tracked allocation in this thread now starts a collection
    i = 0
    try:
        while i < n:  # no iterator, no new list: only the checks can allocate here
            denials[i] = check(batch[i])
            i += 1
    finally:
        gc.set_threshold(*old)
        gc.callbacks.remove(hook)
    assert denials == [None] * n
    assert len(started) == 0, f"{len(started)} collections during {n} pre-trade checks"
