"""`OrderFlowImbalance`: trade in the direction of order-flow signals, exit on time or an opposite signal.

Rule:

- The strategy follows ``instrument_id`` with an :class:`~tradewire.orderflow.OrderFlowEngine` (its own,
  created at start on the node's data engine, unless one is passed as ``config["engine"]``) and listens
  to ``events.orderflow.{instrument_id}``.
- **Entry**: a signal whose kind is in ``entry_kinds`` (default imbalance and absorption) with
  ``|strength| >= min_strength`` while flat and no order is pending: market order of ``quantity`` in the
  signal's direction (long only by default: bearish signals never open a short).
- **Exit**: ``hold_seconds`` after the entry fill (a clock alert, so it works the same in a backtest
  and live), or at once on an entry-kind signal of the opposite direction: a reduce-only market order
  that flattens the position.

This is an example of wiring order-flow signals to orders, not a tuned trading system.
"""

from __future__ import annotations

from typing import Any

from tradewire.model.data import BarType
from tradewire.model.enums import OrderSide
from tradewire.model.events import OrderEvent, OrderFilled
from tradewire.model.identifiers import InstrumentId
from tradewire.model.objects import Quantity
from tradewire.orderflow.engine import OrderFlowConfig, OrderFlowEngine
from tradewire.orderflow.signals import OrderFlowSignal, SignalKind
from tradewire.strategy.base import Strategy

_DONE = ("OrderRejected", "OrderDenied", "OrderCanceled", "OrderExpired")


class OrderFlowImbalance(Strategy):
    """Order-flow signal follower.

    Parameters (``config``)
    -----------------------
    instrument_id : str
        Instrument to trade, e.g. ``"BTCUSDT.BINANCE"`` (default: the instrument of ``bar_type`` if given;
        bars alone carry no order flow, so such a run sees no signal).
    quantity : str
        Order size in units (default ``"0.01"``).
    entry_kinds : str | list[str]
        Signal kinds that open or close positions (default ``"imbalance,absorption"``).
    min_strength : float
        Minimum ``|strength|`` (default 1.0, i.e. every emitted signal).
    hold_seconds : float
        Holding time before the time exit (default 30).
    long_only : bool
        Default True.
    engine : OrderFlowEngine, optional
        Use this engine instead of creating one.
    orderflow : OrderFlowConfig | dict, optional
        Configuration of the engine created here.

    Raises
    ------
    ValueError
        If ``instrument_id`` is missing or an entry kind is unknown.
    """

    def __init__(self, strategy_id: str = "orderflow_imbalance-001", config: dict[str, Any] | None = None) -> None:
        super().__init__(strategy_id, config)
        cfg = self.config
        iid = cfg.get("instrument_id")
        bt = cfg.get("bar_type")  # the bar-file backtest command passes a bar type, not an instrument
        if not iid and bt is not None:
            iid = BarType.from_str(bt).instrument_id if isinstance(bt, str) else bt.instrument_id
        self.instrument_id = InstrumentId(str(iid)) if iid else None
        self.quantity_text = str(cfg.get("quantity", "0.01"))
        kinds = cfg.get("entry_kinds", "imbalance,absorption")
        if isinstance(kinds, str):
            kinds = [k.strip() for k in kinds.split(",") if k.strip()]
        self.entry_kinds = {SignalKind(k) for k in kinds}
        self.min_strength = float(cfg.get("min_strength", 1.0))
        self.hold_ns = int(float(cfg.get("hold_seconds", 30)) * 1_000_000_000)
        self.long_only = str(cfg.get("long_only", True)).lower() not in ("false", "0", "no")
        self.engine: OrderFlowEngine | None = cfg.get("engine")
        self._qty: Quantity | None = None
        self._pending = False
        self._alert = 0
        self.entries = 0
        self.exits = 0
        self.signals_seen = 0

    def on_start(self) -> None:
        """Create (or reuse) the order-flow engine and subscribe to its signals."""
        if self.instrument_id is None:
            raise ValueError("OrderFlowImbalance needs config['instrument_id']")
        inst = self.cache.instrument(self.instrument_id)
        self._qty = inst.make_qty(self.quantity_text)
        if self.engine is None:
            of = self.config.get("orderflow")
            if isinstance(of, dict):
                of = OrderFlowConfig(**of)
            self.engine = OrderFlowEngine(self.bus, self.cache, self.clock, self.data_engine, of)
        self.engine.subscribe(self.instrument_id)
        self.subscribe_signals(f"events.orderflow.{self.instrument_id}")

    def on_signal(self, signal: object) -> None:
        """Enter or exit on an order-flow signal (see module docs)."""
        if not isinstance(signal, OrderFlowSignal) or signal.kind not in self.entry_kinds:
            return
        if abs(signal.strength) < self.min_strength or self._pending:
            return
        self.signals_seen += 1
        pos = self.position_qty_raw(self.instrument_id)
        d = signal.direction
        if pos == 0:
            if d > 0 or (d < 0 and not self.long_only):
                self._pending = True
                self.entries += 1
                side = OrderSide.BUY if d > 0 else OrderSide.SELL
                self.submit_order(self.order_factory.market(self.instrument_id, side, self._qty))
        elif (pos > 0 and d < 0) or (pos < 0 and d > 0):
            self._exit()

    def _exit(self, _event: object = None) -> None:
        if self._pending or self.position_qty_raw(self.instrument_id) == 0:
            return
        self._pending = True
        self.exits += 1
        self.close_position(self.instrument_id)

    def on_order_event(self, event: OrderEvent) -> None:
        """Track the pending order; arm the time exit after an entry fill."""
        if isinstance(event, OrderFilled):
            order = self.cache.order(event.client_order_id)
            if order is None or order.is_closed:
                self._pending = False
                if self.position_qty_raw(self.instrument_id) != 0 and self.hold_ns > 0:
                    self._alert += 1
                    self.clock.set_time_alert(
                        f"{self.id}-exit-{self._alert}", event.ts_event + self.hold_ns, self._exit
                    )
        elif type(event).__name__ in _DONE:
            self._pending = False

    def on_stop(self) -> None:
        """Drop the signal subscription."""
        self.unsubscribe_all()
