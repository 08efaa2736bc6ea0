"""Account events: `AccountState` (balances and margins of one account) and `MarginBalance`.

They are model types because every layer reads them: venue clients push them to the
`ExecutionEngine`, the `Portfolio` applies them (``portfolio`` may import only ``model`` and ``core``),
and they are published on ``events.account.{account_id}``. ``tradewire.execution.reports`` re-exports
both names. Timestamps are UTC nanoseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tradewire.model.identifiers import AccountId, InstrumentId
from tradewire.model.objects import Money


@dataclass(frozen=True, slots=True)
class MarginBalance:
    """Margin held for one instrument (or the whole account when ``instrument_id`` is None)."""

    initial: Money
    maintenance: Money
    instrument_id: InstrumentId | None = None


@dataclass(frozen=True, slots=True)
class AccountState:
    """Balances (and margins) of one account as reported by the venue.

    Parameters
    ----------
    account_id : AccountId
    balances : dict[str, tuple[Money, Money, Money]]
        Per currency code: ``(total, locked, free)`` with ``total == locked + free``.
    margins : tuple[MarginBalance, ...]
        Margin requirements per instrument (empty for cash accounts).
    ts_event, ts_init : int
        UTC ns.
    reported : bool
        True when it comes from the venue, False when computed locally by the portfolio.
    """

    account_id: AccountId
    balances: dict[str, tuple[Money, Money, Money]]
    ts_event: int
    ts_init: int
    margins: tuple[MarginBalance, ...] = field(default=())
    reported: bool = True

    def __post_init__(self) -> None:
        for code, (total, locked, free) in self.balances.items():
            if total.raw != locked.raw + free.raw:
                raise ValueError(
                    f"AccountState {self.account_id} {code}: total {total} != locked {locked} + free {free}"
                )
            if not (total.currency.code == locked.currency.code == free.currency.code == code):
                raise ValueError(f"AccountState {self.account_id}: balance currencies do not match key {code}")


__all__ = ["AccountState", "MarginBalance"]
