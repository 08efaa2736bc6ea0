"""Portfolio: positions, per-currency balances (cash and margin accounts), P&L and closed trades."""

from tradewire.portfolio.accounts import Account, CashAccount, MarginAccount
from tradewire.portfolio.events import PositionChanged, PositionClosed, PositionEvent, PositionOpened
from tradewire.portfolio.portfolio import ConversionRateError, Portfolio
from tradewire.portfolio.trades import ClosedTrade

__all__ = [
    "Account", "CashAccount", "ClosedTrade", "ConversionRateError", "MarginAccount", "Portfolio", "PositionChanged",
    "PositionClosed", "PositionEvent", "PositionOpened",
]  # fmt: skip
