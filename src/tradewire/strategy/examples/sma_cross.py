"""`SmaCross`: simple moving-average crossover on bar closes.

Rule (exact integer arithmetic on raw prices, so ties are ties):

- ``state_t`` is +1 when ``SMA_fast(t) > SMA_slow(t)`` (strictly), -1 when strictly below, 0 when equal.
- A **cross up** at bar t is ``state_t == +1`` while the last non-zero state before t was -1; a
  **cross down** is the mirror image. Equal averages are neither above nor below: a touch that returns
  to the same side is not a cross, and "below, equal, above" is one cross up. This is the definition
  of backtrader's ``CrossOver`` indicator (its "non-zero difference"), so both engines agree whenever
  they agree on the sign of ``fast - slow``; backtrader computes the averages in binary floats and can
  see a tiny non-zero difference where the exact averages are equal.
- Long-only (default): flat and cross up → buy ``quantity``; long and cross down → sell the position.
  With ``long_only=False`` the strategy reverses between long and short ``quantity``.
- Signals start once both averages and the previous bar's averages exist (bar index ``slow``,
  0-based), like backtrader's ``CrossOver`` indicator.

Orders are market orders; when they fill depends on the venue's bar fill mode (next bar's open, or this
bar's close).
"""

from __future__ import annotations

from typing import Any

from tradewire.model.data import Bar, BarType
from tradewire.model.enums import OrderSide
from tradewire.model.events import OrderEvent, OrderFilled
from tradewire.model.objects import Quantity
from tradewire.strategy.base import Strategy


class SmaCross(Strategy):
    """SMA crossover strategy.

    Parameters (``config``)
    -----------------------
    bar_type : str | BarType
        Bars to trade, e.g. ``"ORCL.SIM-1-DAY-LAST"``.
    fast, slow : int
        Window lengths in bars (fast < slow). Defaults 10 and 30.
    quantity : str
        Order size in units, e.g. ``"1"`` or ``"0.01"``. Default ``"1"``.
    long_only : bool
        Default True.

    Raises
    ------
    ValueError
        If ``fast >= slow`` or a window is < 1.
    """

    def __init__(self, strategy_id: str = "sma_cross-001", config: dict[str, Any] | None = None) -> None:
        super().__init__(strategy_id, config)
        cfg = self.config
        self.fast = int(cfg.get("fast", 10))
        self.slow = int(cfg.get("slow", 30))
        if not 1 <= self.fast < self.slow:
            raise ValueError(f"need 1 <= fast < slow, got fast={self.fast} slow={self.slow}")
        bt = cfg.get("bar_type")
        self.bar_type = BarType.from_str(bt) if isinstance(bt, str) else bt
        self.quantity_text = str(cfg.get("quantity", "1"))
        self.long_only = bool(cfg.get("long_only", True))
        # the last ``slow`` closes (raw) in a ring; both sums are kept incrementally, so a bar costs O(1)
        self._ring: list[int] = [0] * self.slow
        self._pos = 0  # ring slot of the next close
        self._count = 0  # closes seen, up to ``slow``
        self._fast_sum = 0
        self._slow_sum = 0
        self._last_nz: int | None = None  # last non-zero state: +1 above, -1 below
        self._qty: Quantity | None = None
        self._pending = False
        self.signals = 0

    def on_start(self) -> None:
        """Subscribe to the configured bars and fix the order quantity at the instrument's precision."""
        if self.bar_type is None:
            raise ValueError("SmaCross needs config['bar_type']")
        inst = self.cache.instrument(self.bar_type.instrument_id)
        self._qty = inst.make_qty(self.quantity_text)
        self.subscribe_bars(self.bar_type)

    def on_bar(self, bar: Bar) -> None:
        """Update both averages and trade on a cross."""
        c = bar.close.raw
        ring = self._ring
        i = self._pos
        # slots not written yet hold 0, so the warm-up needs no special case: the close leaving the slow
        # window is ring[i] (overwritten now), the one leaving the fast window ring[i - fast] (a negative
        # index wraps around the ring, whose length is ``slow`` > ``fast``)
        ss = self._slow_sum + c - ring[i]
        ring[i] = c
        fs = self._fast_sum + c - ring[i - self.fast]
        self._slow_sum = ss
        self._fast_sum = fs
        slow = self.slow
        i += 1
        self._pos = 0 if i == slow else i
        if self._count < slow:
            self._count += 1
            if self._count < slow:
                return
        # compare fast_sum/fast with slow_sum/slow exactly
        lhs = fs * slow
        rhs = ss * self.fast
        if lhs == rhs:
            if self._last_nz is None:
                self._last_nz = 0
            return
        state = 1 if lhs > rhs else -1
        prev = self._last_nz
        self._last_nz = state
        if not prev or state == prev or self._pending:
            return
        self._on_cross(OrderSide.BUY if state == 1 else OrderSide.SELL, bar)

    def _on_cross(self, side: OrderSide, bar: Bar) -> None:
        self.signals += 1
        iid = bar.bar_type.instrument_id
        pos = self.position_qty_raw(iid)
        qty = self._qty
        if side is OrderSide.BUY:
            if pos > 0:
                return
            raw = qty.raw if self.long_only or pos == 0 else qty.raw + (-pos)
        else:
            if self.long_only:
                if pos <= 0:
                    return
                raw = pos
            else:
                if pos < 0:
                    return
                raw = qty.raw + pos
        self._pending = True
        self.submit_order(self.order_factory.market(iid, side, Quantity.from_raw(raw, qty.precision)))

    def on_order_event(self, event: OrderEvent) -> None:
        """Clear the pending flag once the order is done (filled, canceled, rejected, denied)."""
        if isinstance(event, OrderFilled):
            order = self.cache.order(event.client_order_id)
            if order is None or order.is_closed:
                self._pending = False
        elif type(event).__name__ in ("OrderRejected", "OrderDenied", "OrderCanceled", "OrderExpired"):
            self._pending = False
