"""tradewire.risk: pre-trade checks, account rules (incl. funded-account rule sets) and the kill switch."""

from tradewire.risk.checks import PortfolioView, PreTradeChecker, SessionProvider
from tradewire.risk.config import (
    BreachAction,
    InstrumentLimits,
    KillSwitchConfig,
    PreTradeConfig,
    ResetPolicy,
    RiskConfig,
    RiskConfigError,
    RuleConfig,
    SessionConfig,
    TrailingMode,
    load_preset,
    load_risk_config,
    parse_risk_config,
    preset_names,
)
from tradewire.risk.engine import RiskEngine
from tradewire.risk.events import RiskBreach, TradingStateChanged
from tradewire.risk.sessions import ExchangeCalendarSessions, next_session_end_ns
from tradewire.risk.state import JsonFileRiskStateStore, MemoryRiskStateStore, RiskStateError, RiskStateStore
from tradewire.risk.working import RateLimiter, WorkingOrders

__all__ = [
    "BreachAction", "ExchangeCalendarSessions", "InstrumentLimits", "JsonFileRiskStateStore", "KillSwitchConfig",
    "MemoryRiskStateStore", "PortfolioView", "PreTradeChecker", "PreTradeConfig", "RateLimiter", "ResetPolicy",
    "RiskBreach", "RiskConfig", "RiskConfigError", "RiskEngine", "RiskStateError", "RiskStateStore", "RuleConfig",
    "SessionConfig", "SessionProvider", "TradingStateChanged", "TrailingMode", "WorkingOrders", "load_preset",
    "load_risk_config", "next_session_end_ns", "parse_risk_config", "preset_names",
]  # fmt: skip
