"""One test per pre-trade check, with the edge value on each side of the limit.

Convention under test: pre-trade limits are inclusive maxima (exactly at the limit passes).
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from tradewire.model import (
    Money,
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderModifyRejected,
    OrderSubmitted,
    OrderType,
    Price,
    Quantity,
    TradingState,
    VenueOrderId,
)
from tradewire.model.commands import CancelAllOrders, CancelOrder, ModifyOrder, SubmitOrder, SubmitOrderList
from tradewire.model.identifiers import OrderListId
from tradewire.risk import InstrumentLimits, PreTradeConfig, RiskConfig, RiskEngine


def cfg(**kw) -> RiskConfig:
    limits = {k: kw.pop(k) for k in list(kw) if k in {f.name for f in dataclasses.fields(InstrumentLimits)}}
    pt = PreTradeConfig(default_limits=InstrumentLimits(**limits), check_balance=kw.pop("check_balance", False), **kw)
    return RiskConfig(pre_trade=pt)


def passes(env, risk: RiskEngine, order) -> bool:
    n = len(env.executed)
    env.submit(risk, order)
    return len(env.executed) == n + 1


def test_instrument_unknown_denied(env):
    risk = env.engine(cfg())
    o = env.order()
    o.instrument_id = type(o.instrument_id)("NQH4.XCME")
    assert not passes(env, risk, o)
    assert env.last_denial().startswith("INSTRUMENT_UNKNOWN")


def test_allow_and_deny_lists(env):
    risk = env.engine(cfg(allowed_instruments=frozenset({"ESH4.XCME"})))
    assert passes(env, risk, env.order())
    assert not passes(env, risk, env.order(iid=env.BTC, price="50000.00", qty="0.1"))
    assert env.last_denial() == "INSTRUMENT_NOT_ALLOWED: BTCUSDT.BINANCE is not on the allow list"
    env2 = type(env)()
    risk2 = env2.engine(cfg(denied_instruments=frozenset({"ESH4.XCME"})))
    assert not passes(env2, risk2, env2.order())
    assert "deny list" in env2.last_denial()


def test_quantity_zero_and_off_lot(env):
    risk = env.engine(cfg())
    assert not passes(env, risk, env.order(qty="0"))
    assert env.last_denial().startswith("QUANTITY_INVALID")
    assert not passes(env, risk, env.order(qty="1.5"))
    assert env.last_denial().startswith("QUANTITY_NOT_ON_LOT")


def test_instrument_min_max_quantity(env):
    env.cache.add_instrument(dataclasses.replace(env.es, min_quantity=Quantity(2, 0), max_quantity=Quantity(4, 0)))
    risk = env.engine(cfg())
    assert not passes(env, risk, env.order(qty="1"))
    assert env.last_denial().startswith("QUANTITY_BELOW_MIN")
    assert passes(env, risk, env.order(qty="2"))
    assert passes(env, risk, env.order(qty="4"))
    assert not passes(env, risk, env.order(qty="5"))
    assert env.last_denial().startswith("QUANTITY_ABOVE_MAX")


def test_price_and_trigger_on_tick(env):
    risk = env.engine(cfg())
    assert passes(env, risk, env.order(price="4500.25"))
    assert not passes(env, risk, env.order(price="4500.10"))
    assert env.last_denial() == "PRICE_NOT_ON_TICK: price 4500.10 is not a multiple of tick 0.25"
    assert not passes(env, risk, env.order(kind=OrderType.STOP_MARKET, price=None, trigger="4490.30"))
    assert env.last_denial().startswith("PRICE_NOT_ON_TICK: trigger price")


def test_min_notional_at_minimum_passes(env):
    risk = env.engine(cfg())
    # 0.0002 BTC x 50,000 = 10 USDT = the instrument minimum: passes; 0.0001 -> 5 USDT: denied
    assert passes(env, risk, env.order(iid=env.BTC, qty="0.00020", price="50000.00"))
    assert not passes(env, risk, env.order(iid=env.BTC, qty="0.00010", price="50000.00"))
    assert env.last_denial() == "NOTIONAL_BELOW_MIN: notional 5 USDT < minimum 10.00000000 USDT"


def test_max_order_quantity(env):
    risk = env.engine(cfg(max_order_quantity=Decimal(5)))
    assert passes(env, risk, env.order(qty="5"))
    assert not passes(env, risk, env.order(qty="6"))
    assert env.last_denial() == "MAX_ORDER_QUANTITY: quantity 6 > limit 5"


def test_max_notional_message_and_edge(env):
    # ES 4500 x 50 = 225,000 USD per contract; limit 1,125,000 = exactly 5 contracts
    risk = env.engine(cfg(max_order_notional=Decimal(1_125_000)))
    assert passes(env, risk, env.order(qty="5"))
    assert not passes(env, risk, env.order(qty="6"))
    assert env.last_denial() == "MAX_NOTIONAL: notional 1,350,000 USD > limit 1,125,000 USD"


def test_market_order_without_price_is_denied_then_uses_ask(env):
    risk = env.engine(cfg(max_order_notional=Decimal(225_000)))
    assert not passes(env, risk, env.order(kind=OrderType.MARKET, price=None))
    assert env.last_denial().startswith("NO_MARKET_PRICE: no quote, trade or bar for ESH4.XCME")
    env.quote(env.ES, "4499.75", "4500.00")
    assert passes(env, risk, env.order(kind=OrderType.MARKET, price=None))  # buy at ask: 225,000 == limit
    env.quote(env.ES, "4500.00", "4500.25")
    assert not passes(env, risk, env.order(kind=OrderType.MARKET, price=None))  # ask 4500.25 -> 225,012.5
    assert passes(env, risk, env.order(side="sell", kind=OrderType.MARKET, price=None))  # sell at bid 4500


def test_price_collar(env):
    risk = env.engine(cfg(price_collar_pct=Decimal(5)))
    assert not passes(env, risk, env.order(price="4500"))
    assert env.last_denial() == "PRICE_COLLAR: no reference price for ESH4.XCME to check the collar"
    env.quote(env.ES, "4499.75", "4500.25")  # mid 4500
    assert passes(env, risk, env.order(price="4725.00"))  # exactly +5 %
    assert passes(env, risk, env.order(side="sell", price="4275.00"))  # exactly -5 %
    assert not passes(env, risk, env.order(price="4725.25"))
    assert env.last_denial() == "PRICE_COLLAR: price 4725.25 is 5.01% from reference 4,500 > 5%"


def test_max_position_counts_position_and_same_side_working_orders(env):
    env.set_position(env.ES, "3")
    risk = env.engine(cfg(max_position=Decimal(5)))
    assert passes(env, risk, env.order(qty="2"))  # 3 + 2 = 5 == limit
    assert not passes(env, risk, env.order(qty="1"))  # 3 + 2 working + 1 = 6
    assert env.last_denial() == "MAX_POSITION: position would be 6 (now 3, working same side 2) > limit 5"
    assert not passes(env, risk, env.order(side="sell", qty="9"))  # 3 - 9 = -6
    assert passes(env, risk, env.order(side="sell", qty="8"))  # -5


def test_max_position_lets_a_reducing_order_through_when_over_limit(env):
    env.set_position(env.ES, "8")
    risk = env.engine(cfg(max_position=Decimal(5)))
    assert passes(env, risk, env.order(side="sell", qty="2"))  # 6: still above the limit, but smaller


def test_max_contracts_from_account_rule_is_enforced_pre_trade(env):
    env.set_position(env.ES, "3")
    config = dataclasses.replace(cfg(), rules=(dataclasses.replace(_rule("max_contracts", limit=Decimal(4))),))
    risk = env.engine(config)
    assert passes(env, risk, env.order(qty="1"))
    assert not passes(env, risk, env.order(iid=env.BTC, qty="1.00000", price="50000.00"))
    assert env.last_denial() == "MAX_CONTRACTS: open contracts would be 5 > limit 4"
    assert not passes(env, risk, env.order(qty="1"))  # 3 held + 1 working + 1


def _rule(kind, **params):
    from tradewire.risk.config import _RULE_DEFAULTS, RuleConfig

    action, reset = _RULE_DEFAULTS[kind]
    return RuleConfig(kind, params, action, reset)


def test_max_concentration(env):
    env.quote(env.BTC, "49999.99", "50000.01")  # mid 50,000
    risk = env.engine(cfg(max_concentration_pct=Decimal(10)))
    # equity 1,000,000 USDT: 10 % = 100,000 = 2 BTC at 50,000
    assert passes(env, risk, env.order(iid=env.BTC, qty="2.00000", price="50000.00"))
    env.executed.clear()
    risk2 = type(env)()
    risk2.quote(risk2.BTC, "49999.99", "50000.01")
    r2 = risk2.engine(cfg(max_concentration_pct=Decimal(10)))
    assert not passes(risk2, r2, risk2.order(iid=risk2.BTC, qty="2.00001", price="50000.00"))
    assert risk2.last_denial() == (
        "MAX_CONCENTRATION: BTCUSDT.BINANCE exposure 100,000.5 USDT would be 10.00% of equity 1,000,000 USDT > 10%"
    )


def test_max_open_orders_and_pruning_of_closed_orders(env):
    risk = env.engine(cfg(max_open_orders=3))
    orders = [env.order() for _ in range(3)]
    assert all(passes(env, risk, o) for o in orders)
    extra = env.order()
    assert not passes(env, risk, extra)
    assert env.last_denial() == "MAX_OPEN_ORDERS: 3 open orders, limit 3"
    o = orders[0]
    ts = env.clock.timestamp_ns()
    for ev in (
        OrderSubmitted(o.client_order_id, o.strategy_id, o.instrument_id, ts, ts),
        OrderAccepted(o.client_order_id, o.strategy_id, o.instrument_id, ts, ts, VenueOrderId("V1")),
        OrderCanceled(o.client_order_id, o.strategy_id, o.instrument_id, ts, ts),
    ):
        o.apply(ev)
    assert passes(env, risk, env.order())  # the canceled order no longer counts (pruned, no event needed)


def test_max_open_orders_per_strategy(env):
    risk = env.engine(cfg(max_open_orders_per_strategy=1))
    assert passes(env, risk, env.order(sid="a"))
    assert passes(env, risk, env.order(sid="b"))
    assert not passes(env, risk, env.order(sid="a"))
    assert env.last_denial() == "MAX_OPEN_ORDERS: strategy a has 1 open orders, limit 1"


def test_submit_throttle_sliding_window_on_injected_clock(env):
    risk = env.engine(cfg(max_submits_per_second=3))
    t0 = env.clock.timestamp_ns()
    assert all(passes(env, risk, env.order()) for _ in range(3))
    assert not passes(env, risk, env.order())
    assert env.last_denial() == "RATE_LIMIT: strategy s1 reached 3 submits per 1s"
    assert passes(env, risk, env.order(sid="other"))  # per strategy
    env.clock.set_time(t0 + 999_999_999)
    assert not passes(env, risk, env.order())  # still inside (t - 1s, t]
    env.clock.set_time(t0 + 1_000_000_000)
    assert passes(env, risk, env.order())  # the three at t0 left the window


def test_modify_throttle_is_separate_from_submits(env):
    risk = env.engine(cfg(max_submits_per_second=1, max_modifies_per_second=2))
    o = env.order()
    assert passes(env, risk, o)
    env.cache.orders[o.client_order_id] = o
    ts = env.clock.timestamp_ns()
    mods = [ModifyOrder(o.strategy_id, o.instrument_id, ts, o.client_order_id, price=Price("4499.00", 2))] * 3
    for m in mods:
        env.bus.send("RiskEngine.execute", m)
    assert sum(isinstance(c, ModifyOrder) for c in env.executed) == 2
    rejected = [e for e in env.processed if isinstance(e, OrderModifyRejected)]
    assert len(rejected) == 1 and rejected[0].reason == "RATE_LIMIT: strategy s1 reached 2 modifies per 1s"


def test_session_closed_denied(env):
    calls = []

    def provider(iid, ts):
        calls.append((iid, ts))
        return False

    risk = env.engine(cfg(), session_provider=provider)
    assert not passes(env, risk, env.order())
    assert env.last_denial().startswith("MARKET_CLOSED: trading session for ESH4.XCME is closed")
    assert calls == [(env.ES, env.clock.timestamp_ns())]


def test_futures_margin_exactly_enough_passes(env):
    # 1 ES at 4500: notional 225,000; initial margin 5 % = 11,250 USD
    env.portfolio.free_raw["USD"] = env.usd("11250")
    risk = env.engine(cfg(check_balance=True))
    assert passes(env, risk, env.order())
    env.portfolio.free_raw["USD"] = env.usd("11249.99")
    assert not passes(env, risk, env.order())
    assert env.last_denial() == "INSUFFICIENT_MARGIN: order needs 11,250 USD margin, free 11,249.99 USD"


def test_futures_margin_not_needed_to_reduce(env):
    env.set_position(env.ES, "2")
    env.portfolio.free_raw["USD"] = 0
    risk = env.engine(cfg(check_balance=True))
    assert passes(env, risk, env.order(side="sell", qty="2"))
    assert not passes(env, risk, env.order(side="sell", qty="3"))  # 1 contract would be new exposure


def test_spot_cash_balance_includes_taker_fee(env):
    # 1 BTC at 50,000 + 0.1 % taker fee = 50,050 USDT
    env.portfolio.free_raw["USDT"] = env.usd("50050")
    risk = env.engine(cfg(check_balance=True))
    assert passes(env, risk, env.order(iid=env.BTC, qty="1.00000", price="50000.00"))
    env.portfolio.free_raw["USDT"] = env.usd("50049.99")
    assert not passes(env, risk, env.order(iid=env.BTC, qty="1.00000", price="50000.00"))
    assert env.last_denial().startswith("INSUFFICIENT_BALANCE: order needs 50,050 USDT funds")
    # a spot sell needs the base asset
    env.portfolio.free_raw["BTC"] = env.usd("0.5")
    assert passes(env, risk, env.order(iid=env.BTC, side="sell", qty="0.50000", price="50000.00"))
    assert not passes(env, risk, env.order(iid=env.BTC, side="sell", qty="0.50001", price="50000.00"))


def test_reduce_only_flag(env):
    env.set_position(env.ES, "2")
    risk = env.engine(cfg())
    assert passes(env, risk, env.order(side="sell", qty="2", reduce_only=True))
    assert not passes(env, risk, env.order(side="sell", qty="3", reduce_only=True))
    assert env.last_denial() == "REDUCE_ONLY: sell 3 would not reduce position 2"
    assert not passes(env, risk, env.order(side="buy", qty="1", reduce_only=True))


def test_reducing_state_lets_only_reducing_orders_through(env):
    env.set_position(env.ES, "-2")
    risk = env.engine(cfg())
    risk.reduce("test")
    assert risk.trading_state is TradingState.REDUCING
    assert not passes(env, risk, env.order(side="sell", qty="1"))
    assert env.last_denial().startswith("TRADING_REDUCING")
    assert passes(env, risk, env.order(side="buy", qty="2"))
    assert not passes(env, risk, env.order(side="buy", qty="3"))


def test_halted_denies_orders_and_modifies_but_cancels_pass(env):
    risk = env.engine(cfg())
    o = env.order()
    assert passes(env, risk, o)
    env.cache.orders[o.client_order_id] = o
    risk.halt("maintenance", flatten=False)
    env.executed.clear()
    assert not passes(env, risk, env.order())
    assert env.last_denial() == "TRADING_HALTED: OPERATOR_HALT: maintenance"
    ts = env.clock.timestamp_ns()
    env.bus.send("RiskEngine.execute", ModifyOrder(o.strategy_id, o.instrument_id, ts, o.client_order_id,
                                                   price=Price("4499.00", 2)))  # fmt: skip
    assert isinstance(env.processed[-1], OrderModifyRejected)
    cancel = CancelOrder(o.strategy_id, o.instrument_id, ts, o.client_order_id)
    cancel_all = CancelAllOrders(o.strategy_id, o.instrument_id, ts)
    env.bus.send("RiskEngine.execute", cancel)
    env.bus.send("RiskEngine.execute", cancel_all)
    assert env.executed == [cancel, cancel_all]


def test_denial_goes_to_execution_process_and_events_risk(env):
    risk = env.engine(cfg(max_order_quantity=Decimal(1)))
    o = env.order(qty="2")
    env.submit(risk, o)
    ev = env.processed[-1]
    assert isinstance(ev, OrderDenied) and ev.client_order_id == o.client_order_id
    assert env.risk_events[-1] is ev
    assert risk.denied["MAX_ORDER_QUANTITY"] == 1
    o.apply(ev)  # the event is legal for an INITIALIZED order
    assert o.status.value == "denied"


def test_modify_checks_new_values(env):
    env.quote(env.ES, "4499.75", "4500.25")
    risk = env.engine(cfg(max_position=Decimal(3), price_collar_pct=Decimal(5)))
    o = env.order(qty="2")
    assert passes(env, risk, o)
    env.cache.orders[o.client_order_id] = o
    ts = env.clock.timestamp_ns()
    send = lambda **kw: env.bus.send(  # noqa: E731
        "RiskEngine.execute", ModifyOrder(o.strategy_id, o.instrument_id, ts, o.client_order_id, **kw)
    )
    send(quantity=Quantity(3, 0))  # the order itself is not double counted: 3 == limit
    assert isinstance(env.executed[-1], ModifyOrder)
    send(quantity=Quantity(4, 0))
    assert env.processed[-1].reason.startswith("MAX_POSITION: position would be 4")
    send(price=Price("4800.00", 2))
    assert env.processed[-1].reason.startswith("PRICE_COLLAR: price 4800.00")
    unknown = ModifyOrder(o.strategy_id, o.instrument_id, ts, type(o.client_order_id)("nope"), price=None)
    env.bus.send("RiskEngine.execute", unknown)
    assert env.risk_events[-1].reason == "ORDER_UNKNOWN: no order nope"


def test_order_list_denied_as_a_whole_on_a_bad_child(env):
    env.engine(cfg())
    entry = env.order()
    sl = env.order(side="sell", kind=OrderType.STOP_MARKET, price=None, trigger="4480.10")
    tp = env.order(side="sell", price="4520.00")
    cmd = SubmitOrderList(entry.strategy_id, entry.instrument_id, 0, OrderListId("L1"), (entry, sl, tp))
    env.bus.send("RiskEngine.execute", cmd)
    assert env.executed == []
    denied = [e for e in env.processed if isinstance(e, OrderDenied)]
    assert [d.client_order_id for d in denied] == [entry.client_order_id, sl.client_order_id, tp.client_order_id]
    assert all(f"because {sl.client_order_id}: PRICE_NOT_ON_TICK" in d.reason for d in denied)
    sl2 = env.order(side="sell", kind=OrderType.STOP_MARKET, price=None, trigger="4480.00")
    ok = SubmitOrderList(entry.strategy_id, entry.instrument_id, 0, OrderListId("L2"), (env.order(), sl2, tp))
    env.bus.send("RiskEngine.execute", ok)
    assert env.executed == [ok]


def test_non_command_raises(env):
    env.engine(cfg())
    with pytest.raises(TypeError, match="not a trading command"):
        env.bus.send("RiskEngine.execute", object())


def test_check_order_does_not_forward(env):
    risk = env.engine(cfg(max_order_quantity=Decimal(1)))
    assert risk.check_order(env.order(qty="1")) is None
    assert risk.check_order(env.order(qty="2"))[0] == "MAX_ORDER_QUANTITY"
    assert env.executed == [] and env.processed == []
    _ = (Money, SubmitOrder)
