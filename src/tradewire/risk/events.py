"""Risk events published on ``events.risk`` (besides the ``OrderDenied`` of denied orders)."""

from __future__ import annotations

from dataclasses import dataclass

from tradewire.model.enums import TradingState


@dataclass(frozen=True, slots=True)
class RiskBreach:
    """An account rule was breached (or an operator halted trading).

    Parameters
    ----------
    rule : str
        Rule kind (``daily_loss``, ``trailing_drawdown``, ...) or ``operator``.
    reason : str
        Human-readable text starting with the reason code, e.g. ``"DAILY_LOSS: session loss 1000 >= limit 1000"``.
    action : str
        ``halt``, ``reduce`` or ``warn``.
    reset : str
        ``manual`` or ``next_session``.
    breach_seq : int
        Running number of breaches of this account (never reused, survives restarts).
    ts_event, ts_init : int
        UTC ns.
    """

    rule: str
    reason: str
    action: str
    reset: str
    breach_seq: int
    ts_event: int
    ts_init: int

    def to_dict(self) -> dict:
        """JSON-friendly dict."""
        return {
            "type": "RiskBreach", "rule": self.rule, "reason": self.reason, "action": self.action,
            "reset": self.reset, "breach_seq": self.breach_seq, "ts_event": self.ts_event, "ts_init": self.ts_init,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class TradingStateChanged:
    """The trading state moved (ACTIVE / REDUCING / HALTED)."""

    previous: TradingState
    state: TradingState
    reason: str
    ts_event: int
    ts_init: int

    def to_dict(self) -> dict:
        """JSON-friendly dict."""
        return {
            "type": "TradingStateChanged", "previous": self.previous.value, "state": self.state.value,
            "reason": self.reason, "ts_event": self.ts_event, "ts_init": self.ts_init,
        }  # fmt: skip
