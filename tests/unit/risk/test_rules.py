"""Account rules at their edges, session boundaries and the TOML loader.

Conventions under test: a loss rule breaches when the loss reaches the limit (equity == threshold is
a breach); contract and consistency limits pass exactly at the limit; a profit target is reached at it.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tradewire.risk import RiskConfigError, load_preset, load_risk_config, next_session_end_ns, preset_names
from tradewire.risk.config import BreachAction, ResetPolicy, TrailingMode, parse_risk_config
from tradewire.risk.rules import (
    AccountSnapshot,
    ConsistencyRule,
    DailyLossRule,
    MaxContractsRule,
    MaxDrawdownRule,
    ProfitTargetRule,
    TrailingDrawdownRule,
)

H, M = BreachAction.HALT, ResetPolicy.MANUAL
START = 50_000


def raw(x) -> int:
    return int(Decimal(str(x)) * 10**9)


def snap(equity, session_start=START, contracts=0, starting=START) -> AccountSnapshot:
    return AccountSnapshot(0, raw(equity), raw(session_start), raw(starting), raw(contracts))


def fires(rule, s: AccountSnapshot) -> bool:
    rule.observe(s)
    return rule.check(s) is not None


def test_daily_loss_breaches_at_the_limit():
    r = DailyLossRule(raw(1000), H, ResetPolicy.NEXT_SESSION)
    assert not fires(r, snap("49000.01"))
    assert fires(r, snap(49000))
    assert r.check(snap(49000)) == "DAILY_LOSS: session loss 1000 >= limit 1000"
    assert r.status(snap(49500))["headroom"] == "500" and r.status(snap(49500))["headroom_pct"] == "50.00"


def test_max_drawdown_follows_the_peak():
    r = MaxDrawdownRule(raw(1000), H, M)
    assert not fires(r, snap(51000))
    assert not fires(r, snap("50000.01"))
    assert fires(r, snap(50000))  # 1000 below the 51,000 peak


def test_eod_trailing_moves_only_at_the_close_and_stops_at_start():
    r = TrailingDrawdownRule(raw(2000), TrailingMode.EOD, 0, True, H, M)
    assert not fires(r, snap(51500))  # intraday high does not move an EOD trail
    assert r.threshold_raw(raw(START)) == raw(48000)
    r.on_session_end(raw(51000), raw(1000))
    assert r.threshold_raw(raw(START)) == raw(49000)
    assert not fires(r, snap("49000.01"))
    assert fires(r, snap(49000))
    r.on_session_end(raw(50500), raw(-500))  # a lower close never lowers the peak
    assert r.threshold_raw(raw(START)) == raw(49000)
    r.on_session_end(raw(53000), raw(2500))
    assert r.threshold_raw(raw(START)) == raw(50000)  # 51,000 capped at the starting balance
    r.on_session_end(raw(60000), raw(7000))
    assert r.threshold_raw(raw(START)) == raw(50000)
    assert r.status(snap(50500))["trailing_stopped"] is True


def test_intraday_trailing_follows_unrealized_peak_and_stops_at_start_plus_offset():
    r = TrailingDrawdownRule(raw(2500), TrailingMode.INTRADAY, raw(100), True, H, M)
    assert not fires(r, snap(51000))
    assert r.threshold_raw(raw(START)) == raw(48500)
    assert not fires(r, snap("48500.01"))
    assert fires(r, snap(48500))
    r2 = TrailingDrawdownRule(raw(2500), TrailingMode.INTRADAY, raw(100), True, H, M)
    assert not fires(r2, snap(53000))
    assert r2.threshold_raw(raw(START)) == raw(50100)


def test_trailing_without_stop_keeps_trailing():
    r = TrailingDrawdownRule(raw(2000), TrailingMode.INTRADAY, 0, False, H, M)
    fires(r, snap(60000))
    assert r.threshold_raw(raw(START)) == raw(58000)


def test_max_contracts_at_limit_passes():
    r = MaxContractsRule(raw(5), BreachAction.REDUCE, ResetPolicy.NEXT_SESSION)
    assert not fires(r, snap(START, contracts=5))
    assert fires(r, snap(START, contracts=6))


def test_profit_target_reached_at_target():
    r = ProfitTargetRule(raw(3000), H, M)
    assert not fires(r, snap("52999.99"))
    assert fires(r, snap(53000))


def test_consistency_best_day_share():
    r = ConsistencyRule(Decimal(50), 0, BreachAction.WARN, ResetPolicy.NEXT_SESSION)
    r.on_session_end(raw(50600), raw(600))
    # total 1,000: a 400 day keeps the best closed day at 600 -> 60 % > 50 %
    assert fires(r, snap(51000, session_start=50600))
    r2 = ConsistencyRule(Decimal(50), 0, BreachAction.WARN, ResetPolicy.NEXT_SESSION)
    r2.on_session_end(raw(50500), raw(500))
    assert not fires(r2, snap(51000, session_start=50500))  # 500 of 1,000 = exactly 50 %
    assert fires(r2, snap("50999.98", session_start=50500))  # 500 of 999.98 > 50 %
    assert not fires(r2, snap(49000))  # no profit: not evaluated


def test_session_end_cme_close_and_dst():
    chi, close = ZoneInfo("America/Chicago"), time(17, 0)
    ts = int(datetime(2024, 1, 2, 15, 0, tzinfo=UTC).timestamp()) * 10**9
    end = next_session_end_ns(ts, chi, close)
    assert end == int(datetime(2024, 1, 2, 23, 0, tzinfo=UTC).timestamp()) * 10**9  # 17:00 CST = 23:00 UTC
    assert next_session_end_ns(end, chi, close) == end + 86_400 * 10**9  # the boundary itself: next session
    assert next_session_end_ns(end - 1, chi, close) == end
    # 2024-03-10: US daylight saving starts; 17:00 CDT = 22:00 UTC
    ts = int(datetime(2024, 3, 10, 12, 0, tzinfo=UTC).timestamp()) * 10**9
    assert next_session_end_ns(ts, chi, close) == int(datetime(2024, 3, 10, 22, 0, tzinfo=UTC).timestamp()) * 10**9


def test_presets_load_with_expected_rules():
    assert set(preset_names()) >= {
        "funded-50k-eod-trailing",
        "funded-50k-intraday-trailing",
        "funded-150k-eod-trailing",
    }
    eod = load_preset("funded-50k-eod-trailing")
    td = next(r for r in eod.rules if r.kind == "trailing_drawdown")
    assert td.params == {"amount": Decimal(2000), "mode": TrailingMode.EOD, "stop_at_offset": Decimal(0)}
    assert eod.starting_balance == Decimal(50000) and eod.session.timezone == "America/Chicago"
    intra = load_preset("funded-50k-intraday-trailing")
    td = next(r for r in intra.rules if r.kind == "trailing_drawdown")
    assert td.params["mode"] is TrailingMode.INTRADAY and td.params["stop_at_offset"] == Decimal(100)
    with pytest.raises(RiskConfigError, match="no risk preset named 'nope'"):
        load_preset("nope")


def test_config_errors_name_file_and_key(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text('[rules.daily_loss]\nlimit = "1000"\nlimt = 5\n')
    with pytest.raises(RiskConfigError, match=r"bad.toml: rules.daily_loss: unknown key\(s\) \['limt'\]"):
        load_risk_config(p)
    p.write_text('[rules.daily_loss]\nlimit = "-5"\n')
    with pytest.raises(RiskConfigError, match=r"bad.toml: rules.daily_loss.limit: must be > 0"):
        load_risk_config(p)
    p.write_text("[session]\ntimezone = 'Mars/Olympus'\n")
    with pytest.raises(RiskConfigError, match=r"session\.timezone: unknown timezone"):
        load_risk_config(p)
    p.write_text("[pre_trade\nmax_open_orders = 3\n")
    with pytest.raises(RiskConfigError, match=r"bad.toml: invalid TOML: .*line 1"):
        load_risk_config(p)
    p.write_text('[rules.trailing_drawdown]\namount = "100"\nmode = "weekly"\n')
    with pytest.raises(RiskConfigError, match=r"trailing_drawdown\.mode: expected 'intraday' or 'eod'"):
        load_risk_config(p)


def test_config_accepts_toml_floats_exactly():
    c = parse_risk_config({"pre_trade": {"default_limits": {"price_collar_pct": 2.5}}})
    assert c.pre_trade.default_limits.price_collar_pct == Decimal("2.5")
    pt = {"instruments": {"ESH4.XCME": {"max_position": "3"}},
          "default_limits": {"max_position": "10", "max_order_quantity": "2"}}  # fmt: skip
    c = parse_risk_config({"pre_trade": pt})
    lim = c.pre_trade.limits_for("ESH4.XCME")
    assert lim.max_position == Decimal(3) and lim.max_order_quantity == Decimal(2)
