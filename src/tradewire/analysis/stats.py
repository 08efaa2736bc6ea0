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

Equity curves come in two forms: ``(ts_ns, Decimal)`` pairs (:func:`summarize`), or parallel lists of
timestamps and raw amounts at the fixed-point scale 1e9 of :class:`~tradewire.model.objects.Money`
(:func:`summarize_raw`, what a backtest records: no Decimal per sample). Both give identical figures:
the raw functions find the extreme or the day ends with integers and compute the reported ratio with
the same Decimal division as the Decimal functions.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from typing import Any

import numpy as np

NS_PER_DAY = 86_400_000_000_000
RAW_SCALE = 1_000_000_000  # fixed-point scale of Money raws
_NP_SAFE = 2**62  # raws below this in magnitude fit int64 with room for a difference of two of them


def raw_to_money_decimal(raw: int) -> Decimal:
    """``Money.from_raw(raw, c).as_decimal()`` without the Money: the same value and representation.

    ``Money.as_decimal`` gives an integral amount with exponent 0 and any other amount with its trailing
    zeros removed (``Decimal.normalize``); both are built here straight from the digits of ``raw``
    (scale 1e9), which is several times faster.
    """
    neg = raw < 0
    q, r = divmod(-raw if neg else raw, RAW_SCALE)
    if not r:
        return Decimal(-q if neg else q)
    frac = f"{r:09d}".rstrip("0")
    return Decimal(f"{'-' if neg else ''}{q}.{frac}")


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


def _int64(values: Sequence[int]) -> np.ndarray | None:
    """``values`` as an int64 array, or None if one of them is too large for exact int64 arithmetic."""
    try:
        a = np.fromiter(values, dtype=np.int64, count=len(values))
    except OverflowError:
        return None
    if len(a) and (a.max() >= _NP_SAFE or a.min() <= -_NP_SAFE):
        return None
    return a


def max_drawdown_raw(equity_raw: Sequence[int]) -> float:
    """:func:`max_drawdown` of a curve of raw amounts (any common fixed-point scale): the same float.

    The running peak and the drawdowns are screened in numpy (int64 and float64); the largest drawdown
    is then picked with exact rational comparisons among the samples within 1e-9 (relative) of the
    float maximum, and reported as ``float(Decimal(peak - e) / Decimal(peak))``, which is the value
    :func:`max_drawdown` computes on the scaled Decimals (the scale cancels in the ratio). Raws of
    magnitude 2**62 or more are handled by :func:`max_drawdown` itself.

    Parameters
    ----------
    equity_raw : sequence of int
        Equity samples in time order.

    Returns
    -------
    float
        Fraction of the peak (0.0 for an empty, rising or never-positive curve).
    """
    a = _int64(equity_raw)
    if a is None:
        return max_drawdown([Decimal(v) for v in equity_raw])
    if len(a) < 2:
        return 0.0
    peak = np.maximum.accumulate(a)
    pos = peak > 0
    if not pos.any():
        return 0.0
    p = peak[pos]
    fall = p - a[pos]  # >= 0; exact in int64 (|a| < 2**62)
    ratio = fall.astype(np.float64) / p.astype(np.float64)
    best = float(ratio.max())
    if best <= 0.0:
        return 0.0
    near = np.flatnonzero(ratio >= best * (1 - 1e-9))
    pairs = {(int(p[j]), int(fall[j])) for j in near}
    pk, fl = max(pairs, key=lambda pf: Fraction(pf[1], pf[0]))
    return float(Decimal(fl) / Decimal(pk))


def day_ends(ts: Sequence[Any], key: Callable[[Any], int] | None = None) -> list[int]:
    """Indices of the last sample of each UTC day in a time-ordered sequence.

    Binary search from day to day: O(days · log n) reads of ``ts``, so a sequence of objects (with
    ``key`` giving each one's UTC ns) needs no list of timestamps.

    Parameters
    ----------
    ts : sequence
        Samples in non-decreasing time order (not checked: an unordered input gives meaningless indices).
    key : callable, optional
        Sample → UTC ns (default: the samples are the timestamps).

    Returns
    -------
    list of int
        Increasing indices; the last one is ``len(ts) - 1`` (empty for an empty ``ts``).
    """
    out: list[int] = []
    n = len(ts)
    i = 0
    while i < n:
        t = ts[i] if key is None else key(ts[i])
        i = bisect_left(ts, (t // NS_PER_DAY + 1) * NS_PER_DAY, i, n, key=key)
        out.append(i - 1)
    return out


def daily_returns_raw(
    ts: Sequence[Any], equity_raw: Sequence[int], *, ordered: bool = False, key: Callable[[Any], int] | None = None
) -> list[float]:  # fmt: skip
    """:func:`daily_returns` of a curve given as timestamps and raw amounts: the same floats.

    Parameters
    ----------
    ts : sequence
        Sample times, UTC ns (or objects, see ``key``), one per equity sample.
    equity_raw : sequence of int
        Equity samples (any common fixed-point scale: it cancels in each return).
    ordered : bool
        The caller guarantees ``ts`` is in non-decreasing time order: day ends are found by binary search
        (:func:`day_ends`). Otherwise every sample is read and any order is accepted.
    key : callable, optional
        Sample of ``ts`` → UTC ns; only with ``ordered=True``.

    Returns
    -------
    list of float
        ``float(b / a - 1)`` in Decimal for the last samples ``a``, ``b`` of consecutive UTC days present.

    Raises
    ------
    ValueError
        If the two sequences differ in length, or ``key`` is given without ``ordered``.
    """
    if len(ts) != len(equity_raw):
        raise ValueError(f"{len(ts)} timestamps for {len(equity_raw)} equity samples")
    if ordered:
        vals = [Decimal(equity_raw[i]) for i in day_ends(ts, key)]
    elif key is not None:
        raise ValueError("key needs ordered=True")
    else:
        last_by_day: dict[int, int] = {}
        for x, eq in zip(ts, equity_raw, strict=True):
            last_by_day[x // NS_PER_DAY] = eq
        vals = [Decimal(last_by_day[d]) for d in sorted(last_by_day)]
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
    sharpe = sharpe_ratio(daily_returns(curve), periods_per_year)
    mdd = max_drawdown([e for _, e in curve])
    wins = [t for t in trades if t.net_pnl > 0]
    losses = [t for t in trades if t.net_pnl < 0]
    gross_win = sum((t.net_pnl for t in wins), Decimal(0))
    gross_loss = sum((t.net_pnl for t in losses), Decimal(0))
    fees = sum((t.fees for t in trades), Decimal(0))
    closed = sum((t.pnl for t in trades), Decimal(0))
    return _summary(final, starting_equity, sharpe, mdd, fills, currency, len(trades), len(wins), gross_win,
                    gross_loss, fees, closed)  # fmt: skip


def summarize_raw(
    trade_pnl_raw: Sequence[int], trade_fees_raw: Sequence[int], ts: Sequence[Any], equity_raw: Sequence[int],
    starting_equity_raw: int, periods_per_year: int = 252, fills: int = 0, currency: str = "",
    ts_key: Callable[[Any], int] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """:func:`summarize` from raw amounts (Money scale 1e9): the same dict, without a Decimal per sample or trade.

    Parameters
    ----------
    trade_pnl_raw, trade_fees_raw : sequence of int
        Per closed round trip, gross P&L and fees (the raws of ``TradeRecord.pnl`` and ``.fees``).
    ts : sequence
        Sample times, UTC ns, in non-decreasing time order (or objects, with ``ts_key``).
    equity_raw : sequence of int
        Equity samples in ``currency``, one per ``ts``.
    starting_equity_raw : int
        Equity before the first event.
    ts_key : callable, optional
        Sample of ``ts`` → UTC ns, e.g. ``attrgetter("ts_event")`` for the replayed bars themselves.

    Raises
    ------
    ValueError
        If ``ts`` and ``equity_raw``, or the two trade sequences, differ in length.
    """
    if len(trade_pnl_raw) != len(trade_fees_raw):
        raise ValueError(f"{len(trade_pnl_raw)} trade P&Ls for {len(trade_fees_raw)} trade fees")
    starting_equity = raw_to_money_decimal(starting_equity_raw)
    final = raw_to_money_decimal(equity_raw[-1]) if len(equity_raw) else starting_equity
    returns = daily_returns_raw(ts, equity_raw, ordered=True, key=ts_key)
    sharpe = sharpe_ratio(returns, periods_per_year)
    # sums as exact ints; each Decimal sum's exponent is the smallest of its terms' (and 0, from Decimal(0))
    win = loss = fees = closed = 0
    n_wins = 0
    dw = dl = df = dc = 0  # fractional digits of each sum
    for pnl, fee in zip(trade_pnl_raw, trade_fees_raw, strict=True):
        dp = _frac_digits(pnl)
        dfee = _frac_digits(fee)
        net = pnl - fee
        if net > 0:
            n_wins += 1
            win += net
            dw = max(dw, dp, dfee)
        elif net < 0:
            loss += net
            dl = max(dl, dp, dfee)
        fees += fee
        df = max(df, dfee)
        closed += pnl
        dc = max(dc, dp)
    return _summary(
        final, starting_equity, sharpe, max_drawdown_raw(equity_raw), fills, currency, len(trade_pnl_raw), n_wins,
        _sum_decimal(win, dw), _sum_decimal(loss, dl), _sum_decimal(fees, df), _sum_decimal(closed, dc),
    )  # fmt: skip


def _frac_digits(raw: int) -> int:
    """Digits after the point of ``raw_to_money_decimal(raw)`` (0 to 9)."""
    f = abs(raw) % RAW_SCALE
    if not f:
        return 0
    n = 9
    while not f % 10:
        f //= 10
        n -= 1
    return n


def _sum_decimal(total_raw: int, digits: int) -> Decimal:
    """The Decimal ``sum(terms, Decimal(0))`` gives for terms of raws adding up to ``total_raw`` whose longest
    fractional part has ``digits`` digits: the same value, with exponent ``-digits``."""
    q, r = divmod(abs(total_raw), RAW_SCALE)
    coeff = q * 10**digits + r // 10 ** (9 - digits)  # exact: r has no digit beyond ``digits``
    return Decimal((1 if total_raw < 0 else 0, tuple(map(int, str(coeff))), -digits))


def _summary(
    final: Decimal, starting_equity: Decimal, sharpe: float | None, mdd: float, fills: int, currency: str,
    n_trades: int, n_wins: int, gross_win: Decimal, gross_loss: Decimal, fees: Decimal, closed_pnl: Decimal,
) -> dict[str, Any]:  # fmt: skip
    return {
        "currency": currency,
        "starting_equity": str(starting_equity),
        "final_equity": str(final),
        "total_pnl": str(final - starting_equity),
        "total_return_pct": float((final / starting_equity - 1) * 100) if starting_equity else None,
        "max_drawdown_pct": mdd * 100,
        "sharpe": sharpe,
        "trades": n_trades,
        "fills": fills,
        "win_rate_pct": (n_wins / n_trades * 100) if n_trades else None,
        "profit_factor": float(gross_win / -gross_loss) if gross_loss else None,
        "closed_pnl": str(closed_pnl),
        "fees": str(fees),
    }
