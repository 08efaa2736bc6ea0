"""Kill switch, trading-state transitions, persistence across restarts, and status()."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tradewire.model import OrderType, TradingState
from tradewire.model.commands import CancelAllOrders, SubmitOrder
from tradewire.risk import (
    InstrumentLimits,
    JsonFileRiskStateStore,
    PreTradeConfig,
    RiskBreach,
    RiskConfig,
    RiskStateError,
    TradingStateChanged,
    load_preset,
    parse_risk_config,
)

DAY = 86_400 * 10**9


def rules_cfg(**rules) -> RiskConfig:
    return parse_risk_config(
        {
            "account": {"currency": "USD", "starting_balance": "50000"},
            "session": {"timezone": "America/Chicago", "close": "17:00"},
            "pre_trade": {"check_balance": False},
            "rules": rules,
        }
    )


def set_equity(env, amount: str) -> None:
    env.portfolio.equity_raw["USD"] = env.usd(amount)


def test_breach_halts_cancels_and_flattens_exactly_once(env):
    set_equity(env, "50000")
    risk = env.engine(rules_cfg(daily_loss={"limit": "1000"}))
    risk.on_mark()
    working = env.order(sid="s1")
    env.submit(risk, working)
    env.cache.orders[working.client_order_id] = working
    env.set_position(env.ES, "2", strategy="s1")
    env.set_position(env.BTC, "-0.5", strategy="s2", px="50000")
    env.executed.clear()
    set_equity(env, "49000.01")
    risk.on_mark()
    assert risk.trading_state is TradingState.ACTIVE and env.executed == []
    set_equity(env, "49000")
    risk.on_mark()
    assert risk.trading_state is TradingState.HALTED
    cancels = [c for c in env.executed if isinstance(c, CancelAllOrders)]
    flats = [c for c in env.executed if isinstance(c, SubmitOrder)]
    assert [(c.strategy_id, c.instrument_id) for c in cancels] == [("s1", env.ES)]
    assert sorted((c.order.instrument_id, c.order.side.value, str(c.order.quantity)) for c in flats) == [
        (env.BTC, "buy", "0.50000"), (env.ES, "sell", "2"),
    ]  # fmt: skip
    assert all(c.order.order_type is OrderType.MARKET and c.order.reduce_only for c in flats)
    breaches = [e for e in env.risk_events if isinstance(e, RiskBreach)]
    assert len(breaches) == 1 and breaches[0].reason == "DAILY_LOSS: session loss 1000 >= limit 1000"
    n = len(env.executed)
    for amount in ("48000", "47000"):
        set_equity(env, amount)
        risk.on_mark()
    assert len(env.executed) == n  # no second flatten for the same breach


def test_daily_loss_halt_lifts_at_next_session_via_clock_alert(env):
    set_equity(env, "50000")
    risk = env.engine(rules_cfg(daily_loss={"limit": "1000"}))
    risk.on_mark()
    end = risk.session_end_ns
    set_equity(env, "48900")
    risk.on_mark()
    assert risk.trading_state is TradingState.HALTED and risk.release.value == "next_session"
    env.clock.advance_time(end - 1)
    assert risk.trading_state is TradingState.HALTED
    env.clock.advance_time(end)
    assert risk.trading_state is TradingState.ACTIVE
    assert risk.session_start_equity_raw == env.usd("48900")  # the new session starts at the close equity
    states = [e.state for e in env.risk_events if isinstance(e, TradingStateChanged)]
    assert states == [TradingState.HALTED, TradingState.ACTIVE]


def test_manual_rule_keeps_halt_over_session_boundary(env):
    set_equity(env, "50000")
    risk = env.engine(rules_cfg(daily_loss={"limit": "1000"}, max_drawdown={"limit": "1000"}))
    risk.on_mark()
    set_equity(env, "49000")
    risk.on_mark()  # both fire; max_drawdown is manual -> the strictest release wins
    assert risk.release.value == "manual"
    env.clock.advance_time(risk.session_end_ns + DAY)
    assert risk.trading_state is TradingState.HALTED
    risk.reset()
    assert risk.trading_state is TradingState.ACTIVE
    risk.on_mark()
    assert risk.trading_state is TradingState.HALTED  # still 1,000 below the peak: fires again


def test_reduce_action_and_warn_action(env):
    set_equity(env, "50000")
    risk = env.engine(rules_cfg(profit_target={"amount": "3000", "action": "reduce"},
                                consistency={"max_day_pct": "50"}))  # fmt: skip
    risk.on_mark()
    set_equity(env, "53000")
    risk.on_mark()
    assert risk.trading_state is TradingState.REDUCING
    kinds = [e.rule for e in env.risk_events if isinstance(e, RiskBreach)]
    assert kinds == ["profit_target", "consistency"]  # consistency (warn) is published, state unchanged by it


def test_restart_with_same_store_stays_halted(env, tmp_path):
    store = JsonFileRiskStateStore(tmp_path / "risk" / "state.json")
    set_equity(env, "50000")
    risk = env.engine(load_preset("funded-50k-eod-trailing"), state_store=store)
    risk.on_mark()
    set_equity(env, "48000")
    risk.on_mark()
    assert risk.trading_state is TradingState.HALTED
    doc = json.loads((tmp_path / "risk" / "state.json").read_text())
    assert doc["trading_state"] == "halted" and doc["release"] == "manual"
    # a new process: new bus, same store
    fresh = type(env)()
    fresh.clock.set_time(env.clock.timestamp_ns() + 3 * DAY)
    fresh.portfolio.equity_raw["USD"] = fresh.usd("48000")
    risk2 = fresh.engine(load_preset("funded-50k-eod-trailing"), state_store=store)
    assert risk2.trading_state is TradingState.HALTED
    fresh.submit(risk2, fresh.order())
    assert fresh.last_denial().startswith("TRADING_HALTED: TRAILING_DRAWDOWN")
    assert risk2.status()["last_breach"]["rule"] == "daily_loss" and risk2.status()["breach_count"] == 2
    risk2.reset("new evaluation")
    assert risk2.trading_state is TradingState.ACTIVE
    assert JsonFileRiskStateStore(tmp_path / "risk" / "state.json").load()["trading_state"] == "active"


def test_corrupt_state_file_is_an_error_not_a_fresh_start(env, tmp_path):
    p = tmp_path / "state.json"
    p.write_text('{"version": 1, "trading_state": "halted",\n oops}')
    with pytest.raises(RiskStateError, match=r"state.json: corrupt risk state at line 2 column 2"):
        env.engine(RiskConfig(), state_store=JsonFileRiskStateStore(p))


def test_operator_halt_without_flatten(env):
    env.set_position(env.ES, "1")
    risk = env.engine(RiskConfig())
    risk.halt("desk", flatten=False)
    assert risk.trading_state is TradingState.HALTED
    assert not any(isinstance(c, SubmitOrder) for c in env.executed)
    assert risk.config.kill_switch.flatten is True  # restored


def test_status_reports_limits_values_and_headroom(env):
    set_equity(env, "50000")
    config = rules_cfg(trailing_drawdown={"amount": "2000", "mode": "intraday"}, daily_loss={"limit": "1000"})
    config = type(config)(**{**{f: getattr(config, f) for f in config.__dataclass_fields__},
                            "pre_trade": PreTradeConfig(default_limits=InstrumentLimits(max_position=Decimal(4)),
                                                        max_open_orders=10, check_balance=False)})  # fmt: skip
    risk = env.engine(config)
    risk.on_mark()
    env.set_position(env.ES, "1")
    set_equity(env, "49750")
    risk.on_mark()
    st = risk.status()
    json.dumps(st)  # JSON-friendly
    assert st["trading_state"] == "active" and st["account"]["equity"] == "49750"
    td = next(r for r in st["rules"] if r["kind"] == "trailing_drawdown")
    assert td["threshold"] == "48000" and td["headroom"] == "1750" and td["headroom_pct"] == "87.50"
    dl = next(r for r in st["rules"] if r["kind"] == "daily_loss")
    assert dl["value"] == "250" and dl["headroom"] == "750" and dl["headroom_pct"] == "75.00"
    es = st["pre_trade"]["instruments"]["ESH4.XCME"]
    assert es["position"] == "1" and es["position_headroom"] == "3" and es["position_headroom_pct"] == "75.00"
    assert st["pre_trade"]["open_orders_headroom"] == 10
