"""Account rules evaluated on every fill and mark: daily loss, drawdowns, contracts, profit target, consistency.

Each rule sees an :class:`AccountSnapshot` (exact raw Money integers, scale 1e9, in the account
currency) and answers whether it is breached. Rules keep only their own small state (peaks,
per-session P&L), which the engine persists through the state store.

Threshold conventions (see :mod:`tradewire.risk.config`): loss rules breach when the loss reaches the
limit (equity == threshold is a breach); contract and consistency limits are inclusive maxima (at the
limit passes); a profit target is reached at or above the target.

References
----------
Trailing drawdown as used by funded-account (prop-firm) futures programs:

* End-of-day trailing: the loss threshold is ``highest end-of-day balance - amount`` and is raised
  only at the close; it stops trailing once it reaches the starting balance (Topstep Help Center,
  "Maximum Loss Limit").
* Intraday trailing: the threshold follows the highest equity including open (unrealized) profit in
  real time and stops trailing at ``starting balance + offset`` (Apex Trader Funding help center,
  "Trailing Threshold": it stops at the starting balance plus 100 USD).
* Consistency: no single trading day may make more than a set share of total profit (Topstep
  "Consistency Target", 50 %; Apex "30 % consistency rule" at payout).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradewire.risk.config import BreachAction, ResetPolicy, RiskConfigError, RuleConfig, TrailingMode


def dec_to_raw(value: Decimal, what: str = "value") -> int:
    """Exact raw fixed-point integer (scale 1e9) of a Decimal.

    Raises
    ------
    ValueError
        If ``value`` has more than 9 decimals.
    """
    scaled = value.scaleb(9)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{what} {value} has more than 9 decimals")
    return int(scaled)


def raw_to_text(raw: int) -> str:
    """Plain decimal text of a raw value (trailing zeros removed), e.g. ``1250000`` or ``-12.5``."""
    d = Decimal(raw).scaleb(-9).normalize()
    text = format(d, "f")
    return text


def pct_text(num: int, den: int) -> str | None:
    """``num / den * 100`` rounded to 2 decimals as text, or None when ``den`` is 0."""
    if den == 0:
        return None
    return str((Decimal(num) * 100 / Decimal(den)).quantize(Decimal("0.01")))


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """What the rules see at one instant (raw Money ints, scale 1e9, account currency).

    Parameters
    ----------
    ts_ns : int
        Time of the evaluation (UTC ns).
    equity_raw : int
        Balance plus unrealized P&L.
    session_start_equity_raw : int
        Equity at the start of the current session.
    starting_raw : int
        The account's starting balance.
    contracts_raw : int
        Sum of absolute open position quantities (raw, scale 1e9) over all instruments.
    """

    ts_ns: int
    equity_raw: int
    session_start_equity_raw: int
    starting_raw: int
    contracts_raw: int

    @property
    def day_pnl_raw(self) -> int:
        """Realized + unrealized P&L since the session start (fees included)."""
        return self.equity_raw - self.session_start_equity_raw


class AccountRule:
    """Base class of account rules.

    Subclasses set ``kind`` and implement :meth:`check` (reason text when breached, else None),
    :meth:`status` and, when they keep state, :meth:`on_session_end`, :meth:`dump`, :meth:`load`.
    """

    kind = "rule"

    def __init__(self, action: BreachAction, reset: ResetPolicy) -> None:
        self.action = action
        self.reset = reset
        self.breached = False  # fired and not yet released (no repeated firing)

    def observe(self, snap: AccountSnapshot) -> None:
        """Update running state (peaks) from ``snap`` before :meth:`check`."""

    def check(self, snap: AccountSnapshot) -> str | None:
        """Return the breach reason text, or None."""
        raise NotImplementedError

    def on_session_end(self, close_equity_raw: int, session_pnl_raw: int) -> None:
        """Called once per session boundary with the equity at the close and the session's P&L."""

    def status(self, snap: AccountSnapshot) -> dict[str, Any]:
        """JSON-friendly limit, value, headroom (absolute and percent of the limit)."""
        raise NotImplementedError

    def dump(self) -> dict[str, Any]:
        """State to persist."""
        return {"breached": self.breached}

    def load(self, state: dict[str, Any]) -> None:
        """Restore :meth:`dump` output."""
        self.breached = bool(state.get("breached", False))

    def _status(self, limit_raw: int, value_raw: int, headroom_raw: int, **extra: Any) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "action": self.action.value,
            "reset": self.reset.value,
            "limit": raw_to_text(limit_raw),
            "value": raw_to_text(value_raw),
            "headroom": raw_to_text(headroom_raw),
            "headroom_pct": pct_text(headroom_raw, limit_raw),
            "breached": self.breached,
            **extra,
        }


class DailyLossRule(AccountRule):
    """Loss since the session start (realized + unrealized, fees included) must stay below ``limit``.

    Breach when ``session_start_equity - equity >= limit``.
    """

    kind = "daily_loss"

    def __init__(self, limit_raw: int, action: BreachAction, reset: ResetPolicy) -> None:
        super().__init__(action, reset)
        self.limit_raw = limit_raw

    def check(self, snap: AccountSnapshot) -> str | None:
        loss = -snap.day_pnl_raw
        if loss >= self.limit_raw:
            return f"DAILY_LOSS: session loss {raw_to_text(loss)} >= limit {raw_to_text(self.limit_raw)}"
        return None

    def status(self, snap: AccountSnapshot) -> dict[str, Any]:
        loss = -snap.day_pnl_raw
        return self._status(self.limit_raw, loss, self.limit_raw - loss)


class MaxDrawdownRule(AccountRule):
    """Equity must stay more than ``limit`` below its running peak (peak includes unrealized P&L).

    Breach when ``peak_equity - equity >= limit``. The peak starts at the starting balance.
    """

    kind = "max_drawdown"

    def __init__(self, limit_raw: int, action: BreachAction, reset: ResetPolicy) -> None:
        super().__init__(action, reset)
        self.limit_raw = limit_raw
        self.peak_raw: int | None = None

    def observe(self, snap: AccountSnapshot) -> None:
        if self.peak_raw is None:
            self.peak_raw = max(snap.starting_raw, snap.equity_raw)
        elif snap.equity_raw > self.peak_raw:
            self.peak_raw = snap.equity_raw

    def check(self, snap: AccountSnapshot) -> str | None:
        dd = (self.peak_raw or snap.equity_raw) - snap.equity_raw
        if dd >= self.limit_raw:
            return (
                f"MAX_DRAWDOWN: drawdown {raw_to_text(dd)} from peak {raw_to_text(self.peak_raw or 0)} "
                f">= limit {raw_to_text(self.limit_raw)}"
            )
        return None

    def status(self, snap: AccountSnapshot) -> dict[str, Any]:
        peak = self.peak_raw if self.peak_raw is not None else max(snap.starting_raw, snap.equity_raw)
        dd = peak - snap.equity_raw
        return self._status(self.limit_raw, dd, self.limit_raw - dd, peak=raw_to_text(peak))

    def dump(self) -> dict[str, Any]:
        return {"breached": self.breached, "peak_raw": self.peak_raw}

    def load(self, state: dict[str, Any]) -> None:
        super().load(state)
        self.peak_raw = state.get("peak_raw")


class TrailingDrawdownRule(AccountRule):
    """Funded-account trailing drawdown (intraday or end-of-day), optionally stopping at the start.

    ``threshold = peak - amount``, and when ``stops_trailing`` the threshold never rises above
    ``starting_balance + stop_at_offset``. The peak starts at the starting balance. In ``intraday``
    mode the peak follows every equity observation (unrealized P&L included); in ``eod`` mode it
    follows only the equity at each session close. Both modes check the live equity: breach when
    ``equity <= threshold``.
    """

    kind = "trailing_drawdown"

    def __init__(
        self, amount_raw: int, mode: TrailingMode, stop_at_offset_raw: int, stops_trailing: bool,
        action: BreachAction, reset: ResetPolicy,
    ) -> None:  # fmt: skip
        super().__init__(action, reset)
        self.amount_raw = amount_raw
        self.mode = mode
        self.stop_at_offset_raw = stop_at_offset_raw
        self.stops_trailing = stops_trailing
        self.peak_raw: int | None = None
        self._starting_raw = 0

    def observe(self, snap: AccountSnapshot) -> None:
        self._starting_raw = snap.starting_raw
        if self.peak_raw is None:
            self.peak_raw = snap.starting_raw
        if self.mode is TrailingMode.INTRADAY and snap.equity_raw > self.peak_raw:
            self.peak_raw = snap.equity_raw

    def on_session_end(self, close_equity_raw: int, session_pnl_raw: int) -> None:
        if self.mode is TrailingMode.EOD and (self.peak_raw is None or close_equity_raw > self.peak_raw):
            self.peak_raw = close_equity_raw

    def threshold_raw(self, starting_raw: int) -> int:
        """The current loss threshold (raw Money)."""
        peak = starting_raw if self.peak_raw is None else self.peak_raw
        t = peak - self.amount_raw
        if self.stops_trailing:
            t = min(t, starting_raw + self.stop_at_offset_raw)
        return t

    def check(self, snap: AccountSnapshot) -> str | None:
        t = self.threshold_raw(snap.starting_raw)
        if snap.equity_raw <= t:
            return (
                f"TRAILING_DRAWDOWN: equity {raw_to_text(snap.equity_raw)} <= threshold {raw_to_text(t)} "
                f"({self.mode.value} trailing {raw_to_text(self.amount_raw)} from peak "
                f"{raw_to_text(self.peak_raw or snap.starting_raw)})"
            )
        return None

    def status(self, snap: AccountSnapshot) -> dict[str, Any]:
        t = self.threshold_raw(snap.starting_raw)
        headroom = snap.equity_raw - t
        return self._status(
            self.amount_raw, (self.peak_raw or snap.starting_raw) - snap.equity_raw, headroom,
            mode=self.mode.value, threshold=raw_to_text(t), peak=raw_to_text(self.peak_raw or snap.starting_raw),
            trailing_stopped=self.stops_trailing and t == snap.starting_raw + self.stop_at_offset_raw,
        )  # fmt: skip

    def dump(self) -> dict[str, Any]:
        return {"breached": self.breached, "peak_raw": self.peak_raw}

    def load(self, state: dict[str, Any]) -> None:
        super().load(state)
        self.peak_raw = state.get("peak_raw")


class MaxContractsRule(AccountRule):
    """Total open contracts (sum of absolute positions) must not exceed ``limit``; at the limit passes.

    The engine also enforces this limit pre-trade (projected contracts after the order).
    """

    kind = "max_contracts"

    def __init__(self, limit_raw: int, action: BreachAction, reset: ResetPolicy) -> None:
        super().__init__(action, reset)
        self.limit_raw = limit_raw

    def check(self, snap: AccountSnapshot) -> str | None:
        if snap.contracts_raw > self.limit_raw:
            return f"MAX_CONTRACTS: open {raw_to_text(snap.contracts_raw)} > limit {raw_to_text(self.limit_raw)}"
        return None

    def status(self, snap: AccountSnapshot) -> dict[str, Any]:
        return self._status(self.limit_raw, snap.contracts_raw, self.limit_raw - snap.contracts_raw)


class ProfitTargetRule(AccountRule):
    """Profit since the start (``equity - starting balance``) reaching ``amount`` triggers the action."""

    kind = "profit_target"

    def __init__(self, amount_raw: int, action: BreachAction, reset: ResetPolicy) -> None:
        super().__init__(action, reset)
        self.amount_raw = amount_raw

    def check(self, snap: AccountSnapshot) -> str | None:
        profit = snap.equity_raw - snap.starting_raw
        if profit >= self.amount_raw:
            return f"PROFIT_TARGET: profit {raw_to_text(profit)} >= target {raw_to_text(self.amount_raw)}"
        return None

    def status(self, snap: AccountSnapshot) -> dict[str, Any]:
        profit = snap.equity_raw - snap.starting_raw
        return self._status(self.amount_raw, profit, self.amount_raw - profit)


class ConsistencyRule(AccountRule):
    """No single session's P&L may exceed ``max_day_pct`` % of total profit (at the limit passes).

    Evaluated only while total profit (``equity - starting``) is positive and at least
    ``min_total_profit``. The best day is the largest of the closed sessions' P&L and the current one.
    """

    kind = "consistency"

    def __init__(
        self, max_day_pct: Decimal, min_total_profit_raw: int, action: BreachAction, reset: ResetPolicy
    ) -> None:
        super().__init__(action, reset)
        self.max_day_pct = max_day_pct
        self.min_total_profit_raw = min_total_profit_raw
        self.best_closed_day_raw = 0

    def on_session_end(self, close_equity_raw: int, session_pnl_raw: int) -> None:
        self.best_closed_day_raw = max(self.best_closed_day_raw, session_pnl_raw)

    def _best(self, snap: AccountSnapshot) -> int:
        return max(self.best_closed_day_raw, snap.day_pnl_raw)

    def check(self, snap: AccountSnapshot) -> str | None:
        total = snap.equity_raw - snap.starting_raw
        if total <= 0 or total < self.min_total_profit_raw:
            return None
        best = self._best(snap)
        if Decimal(best) * 100 > self.max_day_pct * Decimal(total):
            return (
                f"CONSISTENCY: best day {raw_to_text(best)} is {pct_text(best, total)}% of total profit "
                f"{raw_to_text(total)} > {self.max_day_pct}%"
            )
        return None

    def status(self, snap: AccountSnapshot) -> dict[str, Any]:
        total = snap.equity_raw - snap.starting_raw
        best = self._best(snap)
        allowed = int(Decimal(max(total, 0)) * self.max_day_pct / 100)
        return {
            "kind": self.kind, "action": self.action.value, "reset": self.reset.value,
            "limit": f"{self.max_day_pct}%", "value": pct_text(best, total) if total > 0 else None,
            "best_day": raw_to_text(best), "total_profit": raw_to_text(total),
            "headroom": raw_to_text(allowed - best), "headroom_pct": pct_text(allowed - best, allowed),
            "breached": self.breached,
        }  # fmt: skip

    def dump(self) -> dict[str, Any]:
        return {"breached": self.breached, "best_closed_day_raw": self.best_closed_day_raw}

    def load(self, state: dict[str, Any]) -> None:
        super().load(state)
        self.best_closed_day_raw = int(state.get("best_closed_day_raw", 0))


def build_rule(cfg: RuleConfig) -> AccountRule:
    """Instantiate the rule described by ``cfg``.

    Raises
    ------
    RiskConfigError
        If ``cfg.kind`` is unknown or a parameter has more than 9 decimals.
    """
    p = cfg.params
    try:
        if cfg.kind == "daily_loss":
            return DailyLossRule(dec_to_raw(p["limit"]), cfg.action, cfg.reset)
        if cfg.kind == "max_drawdown":
            return MaxDrawdownRule(dec_to_raw(p["limit"]), cfg.action, cfg.reset)
        if cfg.kind == "trailing_drawdown":
            return TrailingDrawdownRule(
                dec_to_raw(p["amount"]), p["mode"], dec_to_raw(p.get("stop_at_offset", Decimal(0))),
                p.get("stops_trailing", True), cfg.action, cfg.reset,
            )  # fmt: skip
        if cfg.kind == "max_contracts":
            return MaxContractsRule(dec_to_raw(p["limit"]), cfg.action, cfg.reset)
        if cfg.kind == "profit_target":
            return ProfitTargetRule(dec_to_raw(p["amount"]), cfg.action, cfg.reset)
        if cfg.kind == "consistency":
            return ConsistencyRule(
                p["max_day_pct"], dec_to_raw(p.get("min_total_profit", Decimal(0))), cfg.action, cfg.reset
            )
    except ValueError as exc:
        raise RiskConfigError(f"rules.{cfg.kind}: {exc}") from None
    raise RiskConfigError(f"unknown rule kind {cfg.kind!r}")


__all__ = [
    "AccountRule", "AccountSnapshot", "ConsistencyRule", "DailyLossRule", "MaxContractsRule", "MaxDrawdownRule",
    "ProfitTargetRule", "TrailingDrawdownRule", "build_rule", "dec_to_raw", "pct_text", "raw_to_text",
]  # fmt: skip
