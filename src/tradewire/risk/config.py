"""Risk configuration: pre-trade limits, account rules and kill-switch behaviour, loadable from TOML.

A rule set is one TOML document (see ``presets/*.toml`` for complete examples)::

    name = "my-account"
    [account]            # currency and starting balance the account rules measure against
    [session]            # trading-day boundary: timezone + local close time (e.g. 17:00 America/Chicago)
    [pre_trade]          # order-level limits; [pre_trade.default_limits] and [pre_trade.instruments."ID"]
    [rules.daily_loss]   # account rules, each with action = "halt" | "reduce" | "warn"
    [kill_switch]        # what a halt does: cancel working orders, flatten positions

Amounts and percentages are exact decimals: write them as strings (``"1000000"``, ``"2.5"``) or
integers. A TOML float is accepted through its shortest repr (``0.5`` -> ``Decimal("0.5")``).

Limit semantics (the same everywhere)
-------------------------------------
* Pre-trade limits are inclusive maxima: a value exactly **at** the limit passes, one unit above is
  denied (max quantity, notional, position, open orders, concentration, collar, rate).
* Account loss rules breach when the loss **reaches** the limit: equity exactly at the threshold is a
  breach, matching the funded-program wording "hits or goes below" the loss limit.
* A profit target is reached when profit is at or above the target.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from datetime import time
from decimal import Decimal, InvalidOperation
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mypy_extensions import mypyc_attr


@mypyc_attr(native_class=False)  # a native class cannot derive from ValueError
class RiskConfigError(ValueError):
    """A rule set is malformed; the message names the file (or source) and the key."""


class BreachAction(str, Enum):
    """What an account-rule breach does to the trading state."""

    HALT = "halt"  # HALTED: cancel working orders, flatten (per kill_switch), deny new orders
    REDUCE = "reduce"  # REDUCING: only orders that reduce exposure pass
    WARN = "warn"  # publish the breach, keep trading


class ResetPolicy(str, Enum):
    """When a state imposed by a breach is lifted."""

    MANUAL = "manual"  # only an explicit operator reset
    NEXT_SESSION = "next_session"  # automatically at the next session boundary


class TrailingMode(str, Enum):
    """How a trailing drawdown threshold follows the account.

    ``INTRADAY``: the peak follows the highest equity including unrealized P&L, in real time.
    ``EOD``: the peak follows the highest end-of-session equity (balance when flat at the close).
    """

    INTRADAY = "intraday"
    EOD = "eod"


@dataclass(frozen=True, slots=True)
class InstrumentLimits:
    """Order and position limits for one instrument (None = no limit).

    Parameters
    ----------
    max_order_quantity : Decimal | None
        Largest quantity of one order, in instrument units (contracts, coins, shares).
    max_order_notional : Decimal | None
        Largest notional of one order (qty x price x multiplier), in the settlement currency.
    max_position : Decimal | None
        Largest absolute net position after the order (worst case: same-side working orders fill too).
    price_collar_pct : Decimal | None
        Largest distance of a limit/trigger price from the reference price (mid, else last), in percent.
    """

    max_order_quantity: Decimal | None = None
    max_order_notional: Decimal | None = None
    max_position: Decimal | None = None
    price_collar_pct: Decimal | None = None

    def merged(self, override: InstrumentLimits) -> InstrumentLimits:
        """Return these limits with every non-None field of ``override`` applied."""
        return InstrumentLimits(
            *(getattr(override, f) if getattr(override, f) is not None else getattr(self, f) for f in _LIMIT_FIELDS)
        )


_LIMIT_FIELDS: Final = tuple(f.name for f in fields(InstrumentLimits))
"""The fields of `InstrumentLimits`, in order (a class compiled with mypyc has no ``__slots__`` to read them from)."""


@dataclass(frozen=True, slots=True)
class PreTradeConfig:
    """Order-level checks.

    Parameters
    ----------
    allowed_instruments : frozenset[str] | None
        If set, only these instrument ids may be traded.
    denied_instruments : frozenset[str]
        Never tradable (wins over the allow list).
    default_limits, instrument_limits : InstrumentLimits, dict[str, InstrumentLimits]
        Per-instrument limits; an instrument entry overrides the defaults field by field.
    max_concentration_pct : Decimal | None
        Largest share of account equity (settlement currency) one instrument's position may have
        at mark after the order, in percent.
    max_open_orders, max_open_orders_per_strategy : int | None
        Working orders (forwarded and not closed) after the order.
    max_submits_per_second, max_modifies_per_second : int | None
        Per-strategy throttles over a sliding window of ``rate_window_ns`` on the injected clock.
    max_account_submits_per_second : int | None
        Account-wide submit throttle over the same window.
    rate_window_ns : int
        Throttle window (default one second).
    check_balance : bool
        Require enough free balance (cash) or free margin for orders that add exposure.
    check_session : bool
        Require the trading session to be open (needs a session provider on the engine).
    """

    allowed_instruments: frozenset[str] | None = None
    denied_instruments: frozenset[str] = frozenset()
    default_limits: InstrumentLimits = field(default_factory=InstrumentLimits)
    instrument_limits: dict[str, InstrumentLimits] = field(default_factory=dict)
    max_concentration_pct: Decimal | None = None
    max_open_orders: int | None = None
    max_open_orders_per_strategy: int | None = None
    max_submits_per_second: int | None = None
    max_modifies_per_second: int | None = None
    max_account_submits_per_second: int | None = None
    rate_window_ns: int = 1_000_000_000
    check_balance: bool = True
    check_session: bool = True

    def limits_for(self, instrument_id: str) -> InstrumentLimits:
        """Effective limits for ``instrument_id`` (defaults merged with its own entry)."""
        own = self.instrument_limits.get(instrument_id)
        return self.default_limits if own is None else self.default_limits.merged(own)


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """Trading-day boundary for daily rules: the local ``close`` time in ``timezone``.

    The session that contains time t ends at the first ``close`` strictly after t; a timestamp
    exactly at the boundary belongs to the next session. CME Globex days end at 17:00 America/Chicago.
    """

    timezone: str = "UTC"
    close: time = time(0, 0)

    @property
    def tz(self) -> ZoneInfo:
        """The timezone object."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """One account rule's parameters.

    ``kind`` is one of ``daily_loss``, ``max_drawdown``, ``trailing_drawdown``, ``max_contracts``,
    ``profit_target``, ``consistency``; ``params`` holds its exact parameters (see :mod:`.rules`).
    """

    kind: str
    params: dict[str, Any]
    action: BreachAction
    reset: ResetPolicy


@dataclass(frozen=True, slots=True)
class KillSwitchConfig:
    """What moving to HALTED does: cancel working orders and/or flatten open positions (market orders)."""

    cancel_orders: bool = True
    flatten: bool = True


@dataclass(frozen=True, slots=True)
class RiskConfig:
    """A complete rule set.

    Parameters
    ----------
    name : str
        Rule-set name (shown in status).
    currency : str
        Account currency the account rules measure equity in.
    starting_balance : Decimal | None
        Initial balance the account rules use (trailing stop level, profit target); None = equity
        when the engine starts.
    session : SessionConfig
    pre_trade : PreTradeConfig
    rules : tuple[RuleConfig, ...]
    kill_switch : KillSwitchConfig
    """

    name: str = "default"
    currency: str = "USD"
    starting_balance: Decimal | None = None
    session: SessionConfig = field(default_factory=SessionConfig)
    pre_trade: PreTradeConfig = field(default_factory=PreTradeConfig)
    rules: tuple[RuleConfig, ...] = ()
    kill_switch: KillSwitchConfig = field(default_factory=KillSwitchConfig)


# -- TOML loading -------------------------------------------------------------------------------------

_RULE_PARAMS: dict[str, dict[str, str]] = {
    # kind -> {param: type}; types: dec (>0), dec0 (>=0), pct (0<p<=100), mode, bool
    "daily_loss": {"limit": "dec"},
    "max_drawdown": {"limit": "dec"},
    "trailing_drawdown": {"amount": "dec", "mode": "mode", "stop_at_offset": "dec0", "stops_trailing": "bool"},
    "max_contracts": {"limit": "dec"},
    "profit_target": {"amount": "dec"},
    "consistency": {"max_day_pct": "pct", "min_total_profit": "dec0"},
}
_RULE_REQUIRED: Final = {
    "daily_loss": ("limit",),
    "max_drawdown": ("limit",),
    "trailing_drawdown": ("amount", "mode"),
    "max_contracts": ("limit",),
    "profit_target": ("amount",),
    "consistency": ("max_day_pct",),
}
_RULE_DEFAULTS: dict[str, tuple[BreachAction, ResetPolicy]] = {
    "daily_loss": (BreachAction.HALT, ResetPolicy.NEXT_SESSION),
    "max_drawdown": (BreachAction.HALT, ResetPolicy.MANUAL),
    "trailing_drawdown": (BreachAction.HALT, ResetPolicy.MANUAL),
    "max_contracts": (BreachAction.REDUCE, ResetPolicy.NEXT_SESSION),
    "profit_target": (BreachAction.REDUCE, ResetPolicy.MANUAL),
    "consistency": (BreachAction.WARN, ResetPolicy.NEXT_SESSION),
}
_LIMIT_KEYS: Final = {"max_order_quantity", "max_order_notional", "max_position", "price_collar_pct"}
_PRE_TRADE_INT: Final = (
    "max_open_orders", "max_open_orders_per_strategy", "max_submits_per_second", "max_modifies_per_second",
    "max_account_submits_per_second", "rate_window_ns",
)  # fmt: skip


class _Reader:
    """Typed access to a parsed TOML table with errors that name the source and the key path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def err(self, key: str, msg: str) -> RiskConfigError:
        return RiskConfigError(f"{self.source}: {key}: {msg}")

    def table(self, data: dict, key: str, allowed: set[str] | None) -> dict:
        value = data.get(key.rsplit(".", 1)[-1], {})
        if not isinstance(value, dict):
            raise self.err(key, f"expected a table, got {type(value).__name__}")
        if allowed is not None:
            unknown = sorted(set(value) - allowed)
            if unknown:
                raise self.err(key, f"unknown key(s) {unknown}; allowed: {sorted(allowed)}")
        return value

    def dec(self, value: Any, key: str, minimum: str = "pos") -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.err(key, f"expected a decimal number (string or integer), got {value!r}")
        try:
            d = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        except InvalidOperation:
            raise self.err(key, f"not a decimal number: {value!r}") from None
        if not d.is_finite():
            raise self.err(key, f"not a finite number: {value!r}")
        if minimum == "pos" and d <= 0:
            raise self.err(key, f"must be > 0, was {value!r}")
        if minimum == "nonneg" and d < 0:
            raise self.err(key, f"must be >= 0, was {value!r}")
        if minimum == "pct" and not 0 < d <= 100:
            raise self.err(key, f"must be a percentage in (0, 100], was {value!r}")
        return d

    def int_(self, value: Any, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.err(key, f"expected a positive integer, got {value!r}")
        return value

    def bool_(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.err(key, f"expected true or false, got {value!r}")
        return value

    def ids(self, value: Any, key: str) -> frozenset[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) and "." in v for v in value):
            raise self.err(key, f"expected a list of instrument ids like 'ESH4.XCME', got {value!r}")
        return frozenset(value)

    def limits(self, table: dict, key: str) -> InstrumentLimits:
        unknown = sorted(set(table) - _LIMIT_KEYS)
        if unknown:
            raise self.err(key, f"unknown key(s) {unknown}; allowed: {sorted(_LIMIT_KEYS)}")
        vals = {}
        for k in _LIMIT_KEYS & set(table):
            vals[k] = self.dec(table[k], f"{key}.{k}", "pct" if k == "price_collar_pct" else "pos")
        return InstrumentLimits(**vals)


def parse_risk_config(data: dict[str, Any], source: str = "<dict>") -> RiskConfig:
    """Build a :class:`RiskConfig` from a parsed TOML document.

    Parameters
    ----------
    data : dict
        The document (as returned by ``tomllib.loads``).
    source : str
        File name or description used in error messages.

    Returns
    -------
    RiskConfig

    Raises
    ------
    RiskConfigError
        On an unknown key, a wrong type, a non-positive limit, an unknown timezone or rule kind;
        the message names ``source`` and the dotted key.
    """
    r = _Reader(source)
    top_allowed = {"name", "description", "account", "session", "pre_trade", "rules", "kill_switch"}
    unknown = sorted(set(data) - top_allowed)
    if unknown:
        raise r.err("<top>", f"unknown key(s) {unknown}; allowed: {sorted(top_allowed)}")
    name = data.get("name", Path(source).stem)
    if not isinstance(name, str) or not name:
        raise r.err("name", f"expected a non-empty string, got {name!r}")

    account = r.table(data, "account", {"currency", "starting_balance"})
    currency = account.get("currency", "USD")
    if not isinstance(currency, str) or not currency.isalnum():
        raise r.err("account.currency", f"expected a currency code, got {currency!r}")
    starting = account.get("starting_balance")
    starting_balance = None if starting is None else r.dec(starting, "account.starting_balance")

    sess = r.table(data, "session", {"timezone", "close"})
    tz_name = sess.get("timezone", "UTC")
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise r.err("session.timezone", f"unknown timezone {tz_name!r}") from None
    close_text = sess.get("close", "00:00")
    try:
        close = close_text if isinstance(close_text, time) else time.fromisoformat(close_text)
    except (TypeError, ValueError):
        raise r.err("session.close", f"expected a local time like '17:00', got {close_text!r}") from None
    session = SessionConfig(timezone=tz_name, close=close)

    pt_allowed = {
        "allowed_instruments", "denied_instruments", "default_limits", "instruments", "max_concentration_pct",
        "check_balance", "check_session", *_PRE_TRADE_INT,
    }  # fmt: skip
    pt = r.table(data, "pre_trade", pt_allowed)
    kw: dict[str, Any] = {}
    if "allowed_instruments" in pt:
        kw["allowed_instruments"] = r.ids(pt["allowed_instruments"], "pre_trade.allowed_instruments")
    if "denied_instruments" in pt:
        kw["denied_instruments"] = r.ids(pt["denied_instruments"], "pre_trade.denied_instruments")
    if "default_limits" in pt:
        kw["default_limits"] = r.limits(r.table(pt, "pre_trade.default_limits", None), "pre_trade.default_limits")
    if "instruments" in pt:
        inst = r.table(pt, "pre_trade.instruments", None)
        per: dict[str, InstrumentLimits] = {}
        for iid, table in inst.items():
            key = f'pre_trade.instruments."{iid}"'
            if "." not in iid or not isinstance(table, dict):
                raise r.err(key, "expected a table keyed by an instrument id like 'ESH4.XCME'")
            per[iid] = r.limits(table, key)
        kw["instrument_limits"] = per
    if "max_concentration_pct" in pt:
        kw["max_concentration_pct"] = r.dec(pt["max_concentration_pct"], "pre_trade.max_concentration_pct", "pct")
    for k in _PRE_TRADE_INT:
        if k in pt:
            kw[k] = r.int_(pt[k], f"pre_trade.{k}")
    for k in ("check_balance", "check_session"):
        if k in pt:
            kw[k] = r.bool_(pt[k], f"pre_trade.{k}")
    pre_trade = PreTradeConfig(**kw)

    rules_table = r.table(data, "rules", set(_RULE_PARAMS))
    rules: list[RuleConfig] = []
    for kind, table in rules_table.items():
        key = f"rules.{kind}"
        allowed = set(_RULE_PARAMS[kind]) | {"action", "reset"}
        if not isinstance(table, dict):
            raise r.err(key, "expected a table")
        bad = sorted(set(table) - allowed)
        if bad:
            raise r.err(key, f"unknown key(s) {bad}; allowed: {sorted(allowed)}")
        missing = [p for p in _RULE_REQUIRED[kind] if p not in table]
        if missing:
            raise r.err(key, f"missing required key(s) {missing}")
        params: dict[str, Any] = {}
        for p, typ in _RULE_PARAMS[kind].items():
            if p not in table:
                continue
            v, pk = table[p], f"{key}.{p}"
            if typ == "dec":
                params[p] = r.dec(v, pk)
            elif typ == "dec0":
                params[p] = r.dec(v, pk, "nonneg")
            elif typ == "pct":
                params[p] = r.dec(v, pk, "pct")
            elif typ == "bool":
                params[p] = r.bool_(v, pk)
            elif typ == "mode":
                try:
                    params[p] = TrailingMode(v)
                except ValueError:
                    raise r.err(pk, f"expected 'intraday' or 'eod', got {v!r}") from None
        action, reset = _RULE_DEFAULTS[kind]
        try:
            action = BreachAction(table.get("action", action.value))
        except ValueError:
            raise r.err(f"{key}.action", f"expected halt, reduce or warn, got {table['action']!r}") from None
        try:
            reset = ResetPolicy(table.get("reset", reset.value))
        except ValueError:
            raise r.err(f"{key}.reset", f"expected manual or next_session, got {table['reset']!r}") from None
        rules.append(RuleConfig(kind=kind, params=params, action=action, reset=reset))

    ks = r.table(data, "kill_switch", {"cancel_orders", "flatten"})
    kill_switch = KillSwitchConfig(
        cancel_orders=r.bool_(ks.get("cancel_orders", True), "kill_switch.cancel_orders"),
        flatten=r.bool_(ks.get("flatten", True), "kill_switch.flatten"),
    )
    return RiskConfig(
        name=name,
        currency=currency.upper(),
        starting_balance=starting_balance,
        session=session,
        pre_trade=pre_trade,
        rules=tuple(rules),
        kill_switch=kill_switch,
    )


def load_risk_config(path: str | Path) -> RiskConfig:
    """Load a rule set from a TOML file.

    Raises
    ------
    RiskConfigError
        If the file is not valid TOML (the message has tomllib's line and column) or a value is invalid.
    OSError
        If the file cannot be read.
    """
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RiskConfigError(f"{p}: invalid TOML: {exc}") from None
    return parse_risk_config(data, str(p))


def preset_names() -> list[str]:
    """Names of the bundled presets (``presets/<name>.toml``)."""
    folder = resources.files("tradewire.risk") / "presets"
    return sorted(f.name[:-5] for f in folder.iterdir() if f.name.endswith(".toml"))


def load_preset(name: str) -> RiskConfig:
    """Load a bundled preset by name, e.g. ``"funded-50k-eod-trailing"``.

    Raises
    ------
    RiskConfigError
        If there is no preset of that name (the message lists the available ones).
    """
    res = resources.files("tradewire.risk") / "presets" / f"{name}.toml"
    if not res.is_file():
        raise RiskConfigError(f"no risk preset named {name!r}; available: {preset_names()}")
    try:
        data = tomllib.loads(res.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RiskConfigError(f"preset {name}.toml: invalid TOML: {exc}") from None
    return parse_risk_config(data, f"preset {name}.toml")
