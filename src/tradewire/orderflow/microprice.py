"""Stoikov's micro-price: the mid-price adjusted by the expected future mid given imbalance and spread.

Reference: S. Stoikov (2018), "The micro-price: a high-frequency estimator of future prices",
Quantitative Finance 18(12), 1959-1966, sections 2-3. The micro-price is ``P_micro = M + g*(I, S)``
where ``M`` is the mid, ``I = Q_bid / (Q_bid + Q_ask)`` the top-of-book imbalance and ``S`` the spread,
and ``g*`` is estimated from data as a Markov chain on the discretised state ``x = (I bucket, S)``:

1. From consecutive top-of-book observations build transitions ``(x_t, dM_t, x_{t+1})`` with the mid
   change ``dM`` in ticks. Keep ``dM`` in ``K = {-1, -0.5, 0, 0.5, 1}`` and spreads of ``1..n_spread``
   ticks. **Symmetrise** by adding each transition mirrored (``I -> 1 - I``, ``dM -> -dM``).
2. ``Q[x, y] = P(dM = 0, x' = y | x)`` (no mid move), ``R[x, k] = P(dM = K_k | x)`` for the non-zero
   moves, ``T[x, y] = P(dM != 0, x' = y | x)``.
3. ``G1 = (1 - Q)^-1 R K`` (expected mid change at the next move), ``B = (1 - Q)^-1 T``, and
   ``g* = G1 + B G1 + B^2 G1 + ...``, summed until the terms are below ``tol`` (the symmetrisation
   makes the series converge, paper, Theorem 3.1).

The estimate is in ticks; :meth:`MicropriceModel.adjustment` turns a live ``(I, S)`` into the price
adjustment. The weighted mid ``I * ask + (1 - I) * bid`` (:mod:`tradewire.orderflow.book_metrics`) is the
paper's naive comparison point.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

_K = (-1.0, -0.5, 0.5, 1.0)


def imbalance_bucket(imbalance: float, n: int) -> int:
    """0-based bucket of ``imbalance`` in [0, 1] among ``n`` equal buckets (1.0 goes to the last)."""
    b = int(imbalance * n)
    return n - 1 if b >= n else (0 if b < 0 else b)


@dataclass(frozen=True)
class MicropriceModel:
    """A fitted micro-price adjustment table.

    Attributes
    ----------
    tick_raw : int
        Tick size (price raw) the model is expressed in.
    n_imbalance, n_spread : int
        Imbalance buckets and the largest spread (ticks) modelled.
    g : numpy.ndarray
        Shape ``(n_spread, n_imbalance)``: ``g*`` in ticks for spread ``s + 1`` and imbalance bucket ``i``.
    transitions : int
        Transitions used (after symmetrisation).
    """

    tick_raw: int
    n_imbalance: int
    n_spread: int
    g: np.ndarray
    transitions: int

    def adjustment_ticks(self, imbalance: float, spread_ticks: int) -> float | None:
        """``g*(I, S)`` in ticks, None if the spread is outside the model (0 or > ``n_spread`` ticks)."""
        if not 1 <= spread_ticks <= self.n_spread:
            return None
        return float(self.g[spread_ticks - 1, imbalance_bucket(imbalance, self.n_imbalance)])

    def microprice(self, bid_raw: int, bid_size_raw: int, ask_raw: int, ask_size_raw: int) -> float | None:
        """Micro-price in price units for a top of book, None where the model does not apply."""
        spread = ask_raw - bid_raw
        if spread <= 0 or spread % self.tick_raw or bid_size_raw + ask_size_raw <= 0:
            return None
        adj = self.adjustment_ticks(bid_size_raw / (bid_size_raw + ask_size_raw), spread // self.tick_raw)
        if adj is None:
            return None
        return ((bid_raw + ask_raw) / 2 + adj * self.tick_raw) / 1e9

    def to_dict(self) -> dict:
        """JSON-friendly table: ``{"tick_raw", "n_imbalance", "n_spread", "g_ticks": [[...], ...]}``."""
        return {"tick_raw": self.tick_raw, "n_imbalance": self.n_imbalance, "n_spread": self.n_spread,
                "g_ticks": self.g.tolist(), "transitions": self.transitions}  # fmt: skip


def fit_transitions(
    transitions: Iterable[tuple[int, int, float, int, int]],
    tick_raw: int,
    n_imbalance: int = 10,
    n_spread: int = 2,
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> MicropriceModel:
    """Estimate ``g*`` from transitions ``(imb_bucket, spread_ticks, dM_ticks, next_imb_bucket, next_spread_ticks)``.

    The transitions are symmetrised here (do not pass mirrored copies). Transitions with a spread outside
    ``1..n_spread`` or a mid move outside ``K`` are ignored.

    Raises
    ------
    ValueError
        If no usable transition remains, or ``(1 - Q)`` is singular (a state that never leaves itself
        without a mid move), or the series does not converge within ``max_iter`` terms.
    """
    n, m = n_imbalance, n_spread
    size = n * m
    cnt_q = np.zeros((size, size))
    cnt_t = np.zeros((size, size))
    cnt_r = np.zeros((size, len(_K)))
    total = 0
    kidx = {k: j for j, k in enumerate(_K)}
    for i, s, dm, i2, s2 in transitions:
        if not (1 <= s <= m and 1 <= s2 <= m and 0 <= i < n and 0 <= i2 < n):
            continue
        for a, b, d, c in ((i, i2, dm, 1), (n - 1 - i, n - 1 - i2, -dm, 1)):  # the transition and its mirror
            x = (s - 1) * n + a
            y = (s2 - 1) * n + b
            if d == 0:
                cnt_q[x, y] += c
            elif d in kidx:
                cnt_t[x, y] += c
                cnt_r[x, kidx[d]] += c
            else:
                continue
            total += 1
    if not total:
        raise ValueError("no usable transitions (spreads within 1..n_spread ticks, mid moves within 1 tick)")
    rows = cnt_q.sum(1) + cnt_t.sum(1)
    seen = rows > 0
    rows[~seen] = 1.0
    q = cnt_q / rows[:, None]
    t = cnt_t / rows[:, None]
    r = cnt_r / rows[:, None]
    eye = np.eye(size)
    try:
        inv = np.linalg.inv(eye - q)
    except np.linalg.LinAlgError:
        raise ValueError("1 - Q is singular: a state never sees a mid move; use more data or fewer buckets") from None
    g1 = inv @ r @ np.array(_K)
    b = inv @ t
    g = g1.copy()
    term = g1
    for _ in range(max_iter):
        term = b @ term
        g += term
        if np.max(np.abs(term)) < tol:
            break
    else:
        raise ValueError(f"micro-price series did not converge in {max_iter} terms")
    g[~seen] = np.nan
    return MicropriceModel(tick_raw, n, m, g.reshape(m, n), total)


def fit_microprice(
    tops: Iterable[tuple[int, int, int, int]],
    tick_raw: int,
    n_imbalance: int = 10,
    n_spread: int = 2,
) -> MicropriceModel:
    """Fit from consecutive top-of-book observations ``(bid_raw, bid_size_raw, ask_raw, ask_size_raw)``.

    Consecutive identical observations are collapsed (they carry no transition). Observations with a
    crossed/locked book or an off-grid spread are skipped and break the chain.

    Raises
    ------
    ValueError
        See :func:`fit_transitions`; also if ``tick_raw`` is not positive.
    """
    if tick_raw <= 0:
        raise ValueError(f"tick_raw must be positive, got {tick_raw}")
    trans: list[tuple[int, int, float, int, int]] = []
    prev = None
    last_obs = None
    for obs in tops:
        if obs == last_obs:
            continue
        last_obs = obs
        b, qb, a, qa = obs
        spread = a - b
        if spread <= 0 or spread % tick_raw or qb + qa <= 0:
            prev = None
            continue
        state = (imbalance_bucket(qb / (qb + qa), n_imbalance), spread // tick_raw, a + b)
        if prev is not None:
            dm = (state[2] - prev[2]) / (2 * tick_raw)
            trans.append((prev[0], prev[1], dm, state[0], state[1]))
        prev = state
    return fit_transitions(trans, tick_raw, n_imbalance, n_spread)


__all__ = ["MicropriceModel", "fit_microprice", "fit_transitions", "imbalance_bucket"]
