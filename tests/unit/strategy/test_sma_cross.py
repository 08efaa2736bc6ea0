"""SmaCross's O(1) ring-buffer averages give the crosses of a from-scratch exact recomputation."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.model.data import Bar, BarType
from tradewire.model.enums import OrderSide
from tradewire.model.objects import Price, Quantity
from tradewire.strategy.examples.sma_cross import SmaCross

BT = BarType.from_str("X.SIM-1-MINUTE-LAST")


def _bars(closes: list[int]) -> list[Bar]:
    out = []
    for i, c in enumerate(closes):
        p = Price.from_raw(c * 10_000_000, 2)  # closes in cents
        out.append(Bar(BT, p, p, p, p, Quantity(1, 0), i, i))
    return out


def _reference(closes: list[int], fast: int, slow: int) -> list[tuple[int, OrderSide]]:
    """The module docstring's rule, recomputing both averages from the window each bar."""
    out = []
    last_nz = None
    for t in range(slow - 1, len(closes)):
        f = Fraction(sum(closes[t - fast + 1 : t + 1]), fast)
        s = Fraction(sum(closes[t - slow + 1 : t + 1]), slow)
        if f == s:
            if last_nz is None:
                last_nz = 0
            continue
        state = 1 if f > s else -1
        prev, last_nz = last_nz, state
        if prev and state != prev:
            out.append((t, OrderSide.BUY if state == 1 else OrderSide.SELL))
    return out


def _crosses(closes: list[int], fast: int, slow: int) -> list[tuple[int, OrderSide]]:
    s = SmaCross("sma-t", {"bar_type": BT, "fast": fast, "slow": slow})
    got: list[tuple[int, OrderSide]] = []
    s._on_cross = lambda side, bar: got.append((bar.ts_event, side))  # type: ignore[method-assign]
    for b in _bars(closes):
        s.on_bar(b)
    return got


@settings(max_examples=60)
@given(
    st.integers(1, 6).flatmap(
        lambda fast: st.tuples(st.just(fast), st.integers(fast + 1, 12), st.lists(st.integers(95, 105), max_size=120))
    )
)
def test_crosses_equal_exact_recomputation(args):
    # prices from a narrow range: ties between the averages are frequent
    fast, slow, closes = args
    assert _crosses(closes, fast, slow) == _reference(closes, fast, slow)


def test_hand_made_cross_and_tie_rule():
    # fast 1, slow 2: state is sign(c_t - c_{t-1}); a tie in between does not break a run
    closes = [10, 9, 9, 11, 11, 10]
    # t=1 below (first state), t=2 tie, t=3 above -> cross up, t=4 tie, t=5 below -> cross down
    assert _crosses(closes, 1, 2) == [(3, OrderSide.BUY), (5, OrderSide.SELL)]


def test_bad_windows():
    with pytest.raises(ValueError, match="fast < slow"):
        SmaCross("s", {"bar_type": BT, "fast": 5, "slow": 5})
