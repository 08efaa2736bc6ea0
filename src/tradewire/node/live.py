"""`TradingNode`: a paper-trading node on a `LiveClock`, fed by a recorded session replayed in real time.

Threads
-------
- The **engine thread** owns every engine object (kernel, strategies, venue). It releases each replayed
  message when its due time arrives on the wall clock, fires due timers, and every ``snapshot_ms``
  rebuilds the read-only snapshot the API serves.
- The **API** (uvicorn, main thread) only reads the latest snapshot: plain dicts swapped atomically, so
  no engine object is ever touched from two threads.

Every order event, fill and position event is appended to the event store (SQLite under
``./tradewire-data/`` by default) through :class:`tradewire.persistence.EventRecorder`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradewire.core.clock import LiveClock
from tradewire.model.enums import OrderStatus
from tradewire.model.events import OrderFilled
from tradewire.model.instruments import Instrument, crypto_spot
from tradewire.model.objects import Currency, Money
from tradewire.node.kernel import Kernel, VenueConfig
from tradewire.node.replay import BinanceReplay
from tradewire.strategy.base import Strategy
from tradewire.venues.paper.config import BookLevel, PaperVenueConfig

SAMPLE_NAME = "binance_spot_btcusdt_20240808.gz"


def bundled_sample() -> Path:
    """Path of the bundled Binance BTCUSDT spot recording (2024-08-08 23:54-24:00 UTC).

    Raises
    ------
    FileNotFoundError
        If the package was installed without its samples.
    """
    from importlib import resources

    p = Path(str(resources.files("tradewire.samples").joinpath(SAMPLE_NAME)))
    if not p.exists():
        raise FileNotFoundError(f"bundled sample {SAMPLE_NAME} missing from the tradewire package")
    return p


@dataclass
class NodeConfig:
    """Configuration of a paper node.

    Parameters
    ----------
    data : Path | None
        Binance raw-stream capture to replay (default: the bundled BTCUSDT session).
    speed : float
        Replay speed factor (1 = real time).
    loops : int | None
        Number of times to play the session (None = until stopped).
    database_url : str | None
        Event store URL (default ``sqlite:///./tradewire-data/tradewire.db`` or ``TRADEWIRE_DATABASE_URL``).
    starting_balances : list[Money]
        Paper account balances.
    strategy : Strategy | None
        Default: ``sma_cross`` on 1-second trade bars, 0.01 BTC per trade.
    """

    data: Path | None = None
    speed: float = 1.0
    loops: int | None = None
    database_url: str | None = None
    starting_balances: list[Money] = field(default_factory=lambda: [Money("100000", Currency.from_str("USDT"))])
    strategy: Strategy | None = None
    snapshot_ms: int = 250
    instrument: Instrument = field(
        default_factory=lambda: crypto_spot("BTCUSDT", "BINANCE", "BTC", "USDT", 2, 5, "0.001", "0.001", "5")
    )


def _dec(v: Decimal | None) -> str | None:
    return None if v is None else str(v.quantize(Decimal("0.00000001")).normalize())


class TradingNode:
    """A paper-trading node replaying recorded data on the wall clock (see module docstring).

    Raises
    ------
    ValueError
        From the constructor if the recording cannot be synchronized (no depth snapshot).
    """

    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self.clock = LiveClock()
        self.kernel = Kernel(self.clock, "PAPER-001")
        inst = config.instrument
        self.instrument = inst
        self.data_path = config.data or bundled_sample()
        self.replay = BinanceReplay(self.data_path, inst.id, inst.price_precision, inst.size_precision)
        self.kernel.add_instrument(inst)
        self.kernel.add_venue(
            VenueConfig(
                str(inst.id.venue), list(config.starting_balances), paper=PaperVenueConfig(book_level=BookLevel.L2)
            )
        )
        if config.strategy is None:
            from tradewire.strategy.examples.sma_cross import SmaCross

            config.strategy = SmaCross(
                "sma_cross-001",
                {"bar_type": f"{inst.id}-1-SECOND-LAST", "fast": 10, "slow": 30, "quantity": "0.01"},
            )
        self.strategy = config.strategy
        self.kernel.add_strategy(self.strategy)
        self.currency = config.starting_balances[0].currency
        self._start_equity = self.kernel.portfolio.equity(self.currency)
        self._fills: deque[dict[str, Any]] = deque(maxlen=1000)
        self.kernel.bus.subscribe("events.order.*", self._on_order_event)
        self._store = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._snapshot: dict[str, Any] = {}
        self.state = "initialized"
        self.error: str | None = None
        self.events_processed = 0
        self.loop_index = 0
        self.started_ns: int | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Open the event store, start strategies and the engine thread."""
        from tradewire.persistence import EventRecorder, open_store

        self._store = open_store(self.config.database_url)
        EventRecorder(self._store, self.kernel.bus)
        self.state = "running"
        self.started_ns = self.clock.timestamp_ns()
        self.kernel.start()
        self._refresh_snapshot()
        self._thread = threading.Thread(target=self._run, name="tradewire-engine", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the engine thread, the strategies, and flush the event store."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.state == "running":
            self.kernel.stop()
            self.state = "stopped"
        if self._store is not None:
            self._store.close()
            self._store = None
        self._refresh_snapshot()

    def _run(self) -> None:
        try:
            start = self.clock.timestamp_ns() + 200_000_000
            span = int(self.replay.span_ns / self.config.speed)
            last_snap = 0
            for due, obj in self.replay.play(start, self.config.speed, self.config.loops):
                while True:
                    if self._stop.is_set():
                        return
                    now = time.time_ns()
                    if now >= due:
                        break
                    self.clock.run_due()
                    if now - last_snap >= self.config.snapshot_ms * 1_000_000:
                        self._refresh_snapshot()
                        last_snap = now
                    time.sleep(min((due - now) / 1e9, 0.02))
                self.clock.run_due()
                self.kernel.process(obj)
                self.events_processed += 1
                self.loop_index = (due - start) // span if span else 0
            self.state = "finished"
            self._refresh_snapshot()
        except Exception as exc:  # the node must report, not die silently
            self.state = "error"
            self.error = f"{type(exc).__name__}: {exc}"
            self._refresh_snapshot()
            raise

    # -- read model for the API -------------------------------------------------------------
    def _on_order_event(self, event: Any) -> None:
        if type(event) is OrderFilled:
            self._fills.appendleft(
                {
                    "ts_event": event.ts_event,
                    "client_order_id": str(event.client_order_id),
                    "venue_order_id": str(event.venue_order_id),
                    "trade_id": str(event.trade_id),
                    "instrument_id": str(event.instrument_id),
                    "side": str(event.order_side),
                    "quantity": str(event.last_qty),
                    "price": str(event.last_px),
                    "commission": str(event.commission.as_decimal()),
                    "commission_currency": event.commission.currency.code,
                    "liquidity_side": str(event.liquidity_side),
                }
            )

    def _refresh_snapshot(self) -> None:
        k = self.kernel
        pf = k.portfolio
        positions = []
        for p in pf.positions(open_only=True):
            mark = k.cache.last_price_raw(p.instrument_id)
            positions.append(
                {
                    "position_id": str(p.position_id),
                    "instrument_id": str(p.instrument_id),
                    "strategy_id": str(p.strategy_id),
                    "side": str(p.side),
                    "quantity": str(p.quantity),
                    "signed_qty": str(p.signed_qty.normalize()),
                    "avg_px_open": _dec(p.avg_px_open),
                    "mark": None if mark is None else str(Decimal(mark).scaleb(-9).normalize()),
                    "unrealized_pnl": None if mark is None else str(p.unrealized_pnl_raw(mark) / Decimal(10**9)),
                    "realized_pnl": str(p.realized_pnl.as_decimal()),
                }
            )
        orders = [
            {
                "client_order_id": str(o.client_order_id),
                "venue_order_id": None if o.venue_order_id is None else str(o.venue_order_id),
                "strategy_id": str(o.strategy_id),
                "instrument_id": str(o.instrument_id),
                "side": str(o.side),
                "order_type": str(o.order_type),
                "time_in_force": str(o.time_in_force),
                "quantity": str(o.quantity),
                "price": None if o.price is None else str(o.price),
                "filled_qty": str(o.filled_qty),
                "avg_px": _dec(o.avg_px),
                "status": str(o.status),
                "reason": o.last_reason,
                "ts_init": o.ts_init,
                "ts_last": o.ts_last,
            }
            for o in reversed(list(k.cache.orders.values())[-500:])
        ]
        try:
            equity = pf.equity(self.currency)
            eq = equity.as_decimal()
            total_pnl = (equity - self._start_equity).as_decimal()
        except LookupError:  # no price yet to value the base asset
            eq = total_pnl = None
        trades = pf.closed_trades()
        wins = [t for t in trades if t.net_pnl.raw > 0]
        losses = [t for t in trades if t.net_pnl.raw < 0]
        gross_win = sum(t.net_pnl.raw for t in wins)
        gross_loss = -sum(t.net_pnl.raw for t in losses)
        stats = {
            "currency": self.currency.code,
            "starting_equity": str(self._start_equity.as_decimal()),
            "equity": None if eq is None else str(eq),
            "total_pnl": None if total_pnl is None else str(total_pnl),
            "realized_pnl": str(pf.realized_pnl(self.currency).as_decimal()),
            "unrealized_pnl": str(pf.unrealized_pnl(self.currency).as_decimal()),
            "fees": str(pf.commissions(self.currency).as_decimal()),
            "fills": pf.fill_count,
            "orders": len(k.cache.orders),
            "open_orders": sum(1 for o in k.cache.orders.values() if o.status is not OrderStatus.FILLED and o.is_open),
            "closed_trades": len(trades),
            "win_rate_pct": (len(wins) / len(trades) * 100) if trades else None,
            "profit_factor": (gross_win / gross_loss) if gross_loss else None,
            "exposure": str(pf.exposure(self.instrument.id).as_decimal()),
        }
        health = {
            "status": "ok" if self.state in ("running", "finished", "initialized") else self.state,
            "state": self.state,
            "error": self.error,
            "mode": "paper",
            "data": "replay",
            "mode_label": "PAPER / REPLAY",
            "banner": (
                f"Paper trading on replayed recorded market data ({self.data_path.name}, "
                f"speed x{self.config.speed:g}, loop {self.loop_index + 1}). No real orders are sent anywhere."
            ),
            "instrument_id": str(self.instrument.id),
            "events_processed": self.events_processed,
            "loop": self.loop_index,
            "ts": self.clock.timestamp_ns(),
        }
        self._snapshot = {"health": health, "positions": positions, "orders": orders,
                          "fills": list(self._fills), "stats": stats}  # fmt: skip

    # NodeView (read by the API thread) --------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """Node state and mode."""
        return self._snapshot.get("health", {"status": self.state})

    def positions(self) -> list[dict[str, Any]]:
        """Open positions."""
        return self._snapshot.get("positions", [])

    def orders(self) -> list[dict[str, Any]]:
        """Orders, newest first (last 500)."""
        return self._snapshot.get("orders", [])

    def fills(self) -> list[dict[str, Any]]:
        """Fills, newest first (last 1000)."""
        return self._snapshot.get("fills", [])

    def trading_stats(self) -> dict[str, Any]:
        """P&L, fees, win rate, profit factor, exposure."""
        return self._snapshot.get("stats", {})
