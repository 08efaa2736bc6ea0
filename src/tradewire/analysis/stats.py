"""Performance statistics of a run: returns, drawdown, Sharpe, win rate, profit factor.

Money figures are exact Decimals; ratios (Sharpe, returns in %) are floats because they are
statistics, not accounting.

Definitions
-----------
- total return = final equity / starting equity - 1.
- max drawdown = max over t of (peak equity up to t - equity t) / peak, on the recorded equity curve.
- Sharpe ratio = mean / standard deviation (sample, ddof=1) of **daily** returns of the equity curve
  (last equity of each UTC day), times sqrt(periods_per_year) (252 for exchange-traded assets, 365 for
  crypto); risk-free rate 0. Sharpe, W. F. (1994), "The Sharpe Ratio", J. Portfolio Management 21(1).
- win rate = winning closed trades (net P&L > 0) / closed trades.
- profit factor = gross profit of winning trades / |gross loss of losing trades| (net of fees);
  ``None`` when there are no losing trades.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any

NS_PER_DAY = 86_400_000_000_000


@dataclass(frozen=True, slots=True)
class TradeRecord:
    """One closed round trip (entry to exit) as reported in results and ``--trades-out``.

    Prices are average fill prices (exact Decimals); ``pnl`` is gross, ``fees`` the commissions of the
    fills of the trade, ``net_pnl = pnl - fees``; timestamps UTC ns.
    """

    instrument_id: str
    side: str
    quantity: Decimal
    entry_ts: int
    exit_ts: int
    entry_price: Decimal
    exit_price: Decimal
    pnl: Decimal
    fees: Decimal
    currency: str

    @property
    def net_pnl(self) -> Decimal:
        """P&L after fees."""
        return self.pnl - self.fees


def max_drawdown(equity: Sequence[Decimal]) -> float:
    """Largest peak-to-trough fall as a fraction of the peak (0.0 for an empty or rising curve)."""
    peak = None
    worst = 0.0
    for e in equity:
        if peak is None or e > peak:
            peak = e
        elif peak > 0:
            dd = float((peak - e) / peak)
            if dd > worst:
                worst = dd
    return worst


def daily_returns(curve: Sequence[tuple[int, Decimal]]) -> list[float]:
    """Returns between the last equity values of consecutive UTC days present in ``curve``."""
    last_by_day: dict[int, Decimal] = {}
    for ts, eq in curve:
        last_by_day[ts // NS_PER_DAY] = eq
    vals = [last_by_day[d] for d in sorted(last_by_day)]
    return [float(b / a - 1) for a, b in pairwise(vals) if a != 0]


def sharpe_ratio(returns: Sequence[float], periods_per_year: int = 252) -> float | None:
    """Annualized Sharpe of per-period returns (None with < 2 returns or zero deviation)."""
    n = len(returns)
    if n < 2:
        return None
    mean = sum(returns) / n
    var = sum((r - mean) ** 2 for r in returns) / (n - 1)
    if var <= 0:
        return None
    return mean / math.sqrt(var) * math.sqrt(periods_per_year)


def summarize(
    trades: Sequence[TradeRecord], curve: Sequence[tuple[int, Decimal]], starting_equity: Decimal,
    periods_per_year: int = 252, fills: int = 0, currency: str = "",
) -> dict[str, Any]:  # fmt: skip
    """Summary statistics as a JSON-friendly dict (Decimals as strings).

    Parameters
    ----------
    trades : closed round trips
    curve : (ts_ns, equity) samples in time order (equity in ``currency``)
    starting_equity : equity before the first event
    """
    final = curve[-1][1] if curve else starting_equity
    wins = [t for t in trades if t.net_pnl > 0]
    losses = [t for t in trades if t.net_pnl < 0]
    gross_win = sum((t.net_pnl for t in wins), Decimal(0))
    gross_loss = sum((t.net_pnl for t in losses), Decimal(0))
    fees = sum((t.fees for t in trades), Decimal(0))
    sharpe = sharpe_ratio(daily_returns(curve), periods_per_year)
    eq = [e for _, e in curve]
    return {
        "currency": currency,
        "starting_equity": str(starting_equity),
        "final_equity": str(final),
        "total_pnl": str(final - starting_equity),
        "total_return_pct": float((final / starting_equity - 1) * 100) if starting_equity else None,
        "max_drawdown_pct": max_drawdown(eq) * 100,
        "sharpe": sharpe,
        "trades": len(trades),
        "fills": fills,
        "win_rate_pct": (len(wins) / len(trades) * 100) if trades else None,
        "profit_factor": float(gross_win / -gross_loss) if gross_loss else None,
        "closed_pnl": str(sum((t.pnl for t in trades), Decimal(0))),
        "fees": str(fees),
    }
