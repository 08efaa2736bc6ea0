"""`TradingNode`: a paper-trading node on a `LiveClock`, fed by a recorded session replayed in real time.

Threads
-------
- The **engine thread** owns every engine object (kernel, strategies, venue). It releases each replayed
  message when its due time arrives on the wall clock, fires due timers, runs the operator commands
  queued by other threads (:meth:`TradingNode.request`), and every ``snapshot_ms`` refreshes the
  read-only views the API serves.
- Other threads (the API's event loop) only read published views (plain dicts/lists that are replaced,
  never mutated, by the engine thread: :meth:`TradingNode.view`) and receive pushed updates through the
  listeners added with :meth:`TradingNode.add_listener`, called in the engine thread. A listener must be
  thread-safe and return at once (the API's hub appends to a deque and wakes its event loop).

Engine states: ``idle`` (built), ``initializing`` (opening the event store), ``running`` (replaying),
``stopped`` (paused by an operator: strategies stopped, no market data; ``start`` resumes from the
session's depth snapshot), ``finished`` (all loops played), ``error``. The engine thread keeps serving
commands in every state until :meth:`TradingNode.stop`.

Pushed topics (listener ``(topic, update)``; :meth:`view` returns the matching snapshot):
``orders`` (one order row), ``fills`` (one fill row), ``positions`` (all open positions), ``account``
(stats plus an equity point), ``engine``, ``risk`` (``RiskEngine.status()``), ``alerts`` (one alert row:
operator actions, risk events, data-quality events, order-flow alerts), ``connections``,
``book:{instrument_id}`` (top levels) and ``bars:{instrument_id}`` (one 1-second bar).

Every order event, fill, position event, risk event and operator action is appended to the event store
(SQLite under ``./tradewire-data/`` by default) through :class:`tradewire.persistence.EventRecorder`.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradewire.core.clock import LiveClock
from tradewire.data.quality import DataQualityMonitor
from tradewire.model.commands import CancelOrder, ModifyOrder, SubmitOrder
from tradewire.model.data import BarType
from tradewire.model.enums import OrderSide, OrderType, TimeInForce
from tradewire.model.events import OrderAccepted, OrderDenied, OrderFilled, OrderSubmitted
from tradewire.model.identifiers import ClientOrderId, InstrumentId, StrategyId, Venue
from tradewire.model.instruments import Instrument, crypto_spot
from tradewire.model.objects import Currency, Money
from tradewire.node.kernel import Kernel, VenueConfig
from tradewire.node.replay import BinanceReplay
from tradewire.strategy.base import Strategy
from tradewire.venues.paper.config import BookLevel, PaperVenueConfig

SAMPLE_NAME = "binance_spot_btcusdt_20240808.gz"
OPERATOR_TOPIC = "events.alert.operator"
MANUAL_STRATEGY = StrategyId("manual-001")
Listener = Callable[[str, Any], None]


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


class NodeCommandError(Exception):
    """An operator command the engine refused; ``status`` is the matching HTTP status (404, 409, 422)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


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
    snapshot_ms : int
        Period of the read-model refresh (positions marks, stats, risk) in wall-clock ms.
    book_push_ms : int
        Minimum wall-clock ms between two pushed ``book:{instrument}`` ladders (0: every applied batch).
    book_levels : int
        Levels per side in the pushed ladder.
    webhook : bool | None
        Mount the TradingView webhook service (None: when ``TRADEWIRE_WEBHOOK_SECRET`` or
        ``TRADEWIRE_WEBHOOK_SOURCES`` is set).
    """

    data: Path | None = None
    speed: float = 1.0
    loops: int | None = None
    database_url: str | None = None
    starting_balances: list[Money] = field(default_factory=lambda: [Money("100000", Currency.from_str("USDT"))])
    strategy: Strategy | None = None
    snapshot_ms: int = 250
    book_push_ms: int = 100
    book_levels: int = 20
    webhook: bool | None = None
    instrument: Instrument = field(
        default_factory=lambda: crypto_spot("BTCUSDT", "BINANCE", "BTC", "USDT", 2, 5, "0.001", "0.001", "5")
    )


def _dec(v: Decimal | None) -> str | None:
    return None if v is None else str(v.quantize(Decimal("0.00000001")).normalize())


def _ratio(num: int, den: int, places: str) -> str:
    return str((Decimal(num) / Decimal(den)).quantize(Decimal(places)))


def order_row(o: Any) -> dict[str, Any]:
    """JSON row of an ``Order`` (decimal strings, ts in UTC ns)."""
    return {
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


def fill_row(event: OrderFilled) -> dict[str, Any]:
    """JSON row of an ``OrderFilled``."""
    return {
        "ts_event": event.ts_event,
        "ts_init": event.ts_init,
        "client_order_id": str(event.client_order_id),
        "venue_order_id": str(event.venue_order_id),
        "trade_id": str(event.trade_id),
        "instrument_id": str(event.instrument_id),
        "strategy_id": str(event.strategy_id),
        "side": str(event.order_side),
        "quantity": str(event.last_qty),
        "price": str(event.last_px),
        "commission": str(event.commission.as_decimal()),
        "commission_currency": event.commission.currency.code,
        "liquidity_side": str(event.liquidity_side),
    }


def _alert(source: str, level: str, message: str, ts: int, **extra: Any) -> dict[str, Any]:
    return {"source": source, "level": level, "message": message, "ts_event": ts, **extra}


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
        from tradewire.execution.factory import OrderFactory

        self._manual_factory = OrderFactory(MANUAL_STRATEGY, self.clock, id_prefix="API")
        self.currency = config.starting_balances[0].currency
        self._start_equity = self.kernel.portfolio.equity(self.currency)
        self._day: int | None = None
        self._day_start_equity = self._start_equity
        bus = self.kernel.bus
        self.quality = DataQualityMonitor(bus, self.clock, stale_after_ns=5_000_000_000)
        self.quality.attach()
        self._quality_last: dict[str, int] = {}
        self._fills: deque[dict[str, Any]] = deque(maxlen=1000)
        self._orders: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._alerts: deque[dict[str, Any]] = deque(maxlen=500)
        self._bars: dict[str, deque[dict[str, Any]]] = {}
        self._equity_curve: deque[tuple[int, str]] = deque(maxlen=3600)
        self._ack_latency_ns: deque[int] = deque(maxlen=2000)
        self._submitted_ts: dict[str, int] = {}
        self._unrouted: dict[str, Any] = {}  # API orders being sent, for a denial before the OMS
        self._book_last_push: dict[str, int] = {}
        bus.subscribe("events.order.*", self._on_order_event)
        bus.subscribe("events.position.*", self._on_position_event)
        bus.subscribe("events.risk", self._on_risk_event)
        bus.subscribe("events.data_quality", self._on_quality_event)
        bus.subscribe("events.orderflow.*", self._on_orderflow_event)
        bus.subscribe(f"data.book.depth.{inst.id}", self._on_depth)
        self._bar_type = BarType.from_str(f"{inst.id}-1-SECOND-LAST")
        self.kernel.data_engine.subscribe_bars(self._bar_type, self._on_bar)
        self.webhook_service = self._build_webhook(config.webhook)
        self._store = None
        self._listeners: list[Listener] = []
        self._calls: queue.SimpleQueue[tuple[Callable[[], Any], Future]] = queue.SimpleQueue()
        self._shutdown = threading.Event()
        self._thread: threading.Thread | None = None
        self._pub: dict[str, Any] = {}
        self._snapshot = self._pub  # backward-compatible name
        self.state = "idle"
        self.error: str | None = None
        self.events_processed = 0
        self.loop_index = 0
        self.loops_done = 0
        self.started_ns: int | None = None
        self.last_update_ns: int | None = None
        self._run_requested = False
        self._rate = (time.monotonic(), 0, 0.0)  # (t, events, events/s)
        self._last_engine_push = 0.0
        self.connections: dict[str, dict[str, Any]] = {
            str(v): {"enabled": True, "last_test": None} for v in self.kernel.venues
        }
        self._refresh_snapshot()

    def _build_webhook(self, enabled: bool | None) -> Any:
        import os

        if enabled is None:
            enabled = bool(os.environ.get("TRADEWIRE_WEBHOOK_SECRET") or os.environ.get("TRADEWIRE_WEBHOOK_SOURCES"))
        if not enabled:
            return None
        from tradewire.signals.config import WebhookSettings
        from tradewire.signals.service import WebhookService

        k = self.kernel
        return WebhookService.from_settings(
            WebhookSettings(), self.clock, bus=k.bus, market=k.cache, account=k.portfolio
        )

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Open the event store, start strategies and the engine thread."""
        from tradewire.persistence import EventRecorder, open_store

        self._set_state("initializing")
        self._store = open_store(self.config.database_url)
        EventRecorder(self._store, self.kernel.bus)
        self.started_ns = self.clock.timestamp_ns()
        self.kernel.start()
        self._run_requested = True
        self._set_state("running")
        self._refresh_snapshot()
        self._thread = threading.Thread(target=self._run, name="tradewire-engine", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the engine thread, the strategies, and flush the event store."""
        self._shutdown.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.state == "running":
            self.kernel.stop()
            self.state = "stopped"
        self._fail_pending_calls()
        if self._store is not None:
            self._store.close()
            self._store = None
        self._refresh_snapshot()

    def _run(self) -> None:
        try:
            while not self._shutdown.is_set():
                if self._run_requested and self.state == "running":
                    self._play()
                else:
                    self._service(0.05)
        except Exception as exc:  # the node must report, not die silently
            self.error = f"{type(exc).__name__}: {exc}"
            self._set_state("error")
            self._refresh_snapshot()
            self._fail_pending_calls()
            raise

    def _play(self) -> None:
        """Replay from the session's snapshot until the loops are done, a stop, or shutdown."""
        speed = self.config.speed
        loops = None if self.config.loops is None else self.config.loops - self.loops_done
        if loops is not None and loops <= 0:
            self._set_state("finished")
            return
        start = self.clock.timestamp_ns() + 200_000_000
        span = int(self.replay.span_ns / speed)
        snap_ns = self.config.snapshot_ms * 1_000_000
        last_snap = 0
        calls = self._calls
        current = 0
        self._reset_quality()
        for due, obj in self.replay.play(start, speed, loops):
            while True:
                if self._shutdown.is_set() or self.state != "running":
                    return
                now = time.time_ns()
                if now >= due:
                    break
                self.clock.run_due()
                if now - last_snap >= snap_ns:
                    self._refresh_snapshot()
                    last_snap = now
                self._service(min((due - now) / 1e9, 0.02))
            if not calls.empty():
                self._service(0)
                if self.state != "running":
                    return
            self.clock.run_due()
            if self._venue_enabled(obj):
                self.kernel.process(obj)
            self.events_processed += 1
            loop = (due - start) // span if span else 0
            if loop != current:
                self.loops_done += 1
                current = loop
                self._reset_quality()
            self.loop_index = self.loops_done
            if due - last_snap >= snap_ns and time.time_ns() - last_snap >= snap_ns:
                self._refresh_snapshot()
                last_snap = time.time_ns()
        self.loops_done += 1
        self._set_state("finished")
        self._refresh_snapshot()

    def _reset_quality(self) -> None:
        """A new replay pass starts again from the session's depth snapshot: its sequence numbers restart,
        which is not a data fault, so the monitor starts afresh."""
        self.quality.detach()
        self.quality = DataQualityMonitor(self.kernel.bus, self.clock, stale_after_ns=5_000_000_000)
        self.quality.attach()

    def _venue_enabled(self, obj: Any) -> bool:
        iid = obj[0].instrument_id if type(obj) is list else obj.instrument_id
        return self.connections[str(iid.venue)]["enabled"]

    def _service(self, timeout: float) -> None:
        """Run queued commands; wait up to ``timeout`` s for the first one."""
        if self.webhook_service is not None and self.state == "running":
            self.webhook_service.drain()
        try:
            fn, fut = self._calls.get(timeout=timeout) if timeout > 0 else self._calls.get_nowait()
        except queue.Empty:
            return
        while True:
            if fut.set_running_or_notify_cancel():
                try:
                    fut.set_result(fn())
                except BaseException as exc:  # handed to the caller's thread
                    fut.set_exception(exc)
            try:
                fn, fut = self._calls.get_nowait()
            except queue.Empty:
                break
        self._refresh_snapshot()

    def _fail_pending_calls(self) -> None:
        while True:
            try:
                _, fut = self._calls.get_nowait()
            except queue.Empty:
                return
            if fut.set_running_or_notify_cancel():
                fut.set_exception(NodeCommandError(409, f"engine is {self.state}: command not executed"))

    def request(self, name: str, actor: str = "api", **params: Any) -> Future:
        """Queue the operator command ``name`` for the engine thread; return a Future with its result.

        Commands: ``submit_order``, ``cancel_order``, ``modify_order``, ``risk_kill``, ``risk_reset``,
        ``engine_start``, ``engine_stop``, ``connection_test``, ``connection_enable``, ``connection_live``,
        ``book``. Every state-changing command is published as an ``OperatorAction`` on
        ``events.alert.operator`` (recorded in the event store) and pushed on ``alerts``.

        Raises
        ------
        ValueError
            For an unknown command name (immediately). The Future raises :class:`NodeCommandError`
            (refused, with an HTTP status) or ``ValueError`` (bad parameters).
        """
        fn = getattr(self, f"_cmd_{name}", None)
        if fn is None:
            raise ValueError(f"unknown node command {name!r}")
        fut: Future = Future()
        if self._thread is None or not self._thread.is_alive():
            fut.set_exception(NodeCommandError(409, f"engine thread is not running (state {self.state})"))
            return fut
        self._calls.put((lambda: fn(actor=actor, **params), fut))
        return fut

    # -- push -----------------------------------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(topic, update)`` in the engine thread for every pushed update."""
        self._listeners = [*self._listeners, listener]

    def remove_listener(self, listener: Listener) -> None:
        """Undo :meth:`add_listener`."""
        self._listeners = [x for x in self._listeners if x is not listener]

    def _emit(self, topic: str, update: Any, snapshot: Any) -> None:
        self._pub[topic] = snapshot
        for fn in self._listeners:
            fn(topic, update)

    def view(self, topic: str) -> Any:
        """Latest published snapshot of ``topic`` (see module docstring), or None before the first."""
        return self._pub.get(topic)

    def topics(self) -> list[str]:
        """Topics with a published snapshot."""
        return list(self._pub)

    def _set_state(self, state: str) -> None:
        self.state = state
        self.last_update_ns = self.clock.timestamp_ns()
        self._emit("engine", self._engine_view(), self._engine_view())

    # -- engine-thread handlers -----------------------------------------------------------------
    def _on_order_event(self, event: Any) -> None:
        coid = str(event.client_order_id)
        t = type(event)
        if t is OrderSubmitted:
            self._submitted_ts[coid] = event.ts_event
        elif t is OrderAccepted:
            ts = self._submitted_ts.pop(coid, None)
            if ts is not None:
                self._ack_latency_ns.append(event.ts_event - ts)
        order = self.kernel.cache.orders.get(event.client_order_id)
        if order is None and t is OrderDenied:  # denied by risk before it reached the OMS
            order = self._unrouted.get(coid)
            if order is not None:
                order.apply(event)
        if order is not None:
            row = order_row(order)
            self._orders[coid] = row
            self._orders.move_to_end(coid)
            while len(self._orders) > 500:
                self._orders.popitem(last=False)
            self._emit("orders", row, list(reversed(self._orders.values())))
        if t is OrderFilled:
            self._submitted_ts.pop(coid, None)
            fr = fill_row(event)
            fr["ts_published"] = time.time_ns()  # wall clock when the engine handed the fill to the API
            self._fills.appendleft(fr)
            self._emit("fills", fr, list(self._fills))

    def _on_position_event(self, _event: Any) -> None:
        rows = self._positions()
        self._emit("positions", rows, rows)

    def _on_risk_event(self, event: Any) -> None:
        name = type(event).__name__
        text = getattr(event, "reason", None) or str(event)
        self._add_alert(_alert("risk", "warning", f"{name}: {text}", self.clock.timestamp_ns()))
        self._push_risk(force=True)

    def _on_quality_event(self, event: Any) -> None:
        d = event.to_dict()
        key = f"{d['instrument_id']}:{d['kind']}"
        if d["ts_init"] - self._quality_last.get(key, -(10**18)) < 1_000_000_000:
            return  # one alert per kind and instrument per second; the monitor keeps the counts
        self._quality_last[key] = d["ts_init"]
        self._add_alert(
            _alert(
                "data_quality", "warning", d["message"], d["ts_event"], instrument_id=d["instrument_id"], kind=d["kind"]
            )
        )

    def _on_orderflow_event(self, event: Any) -> None:
        iid = getattr(event, "instrument_id", None)
        self._add_alert(
            _alert(
                "orderflow",
                "info",
                str(event),
                getattr(event, "ts_event", self.clock.timestamp_ns()),
                instrument_id=None if iid is None else str(iid),
            )
        )

    def _add_alert(self, row: dict[str, Any]) -> None:
        self._alerts.appendleft(row)
        self._emit("alerts", row, list(self._alerts))

    def _on_depth(self, depth: Any) -> None:
        key = f"book:{depth.instrument_id}"
        now = time.monotonic_ns()
        if now - self._book_last_push.get(key, 0) < self.config.book_push_ms * 1_000_000:
            return
        self._book_last_push[key] = now
        book = self.kernel.cache.books.get(depth.instrument_id)
        if book is not None:
            ladder = self._ladder(book, self.config.book_levels)
            self._emit(key, ladder, ladder)

    def _ladder(self, book: Any, levels: int) -> dict[str, Any]:
        pp, sp = book.price_precision, book.size_precision

        def side(rows: list[tuple[int, int]]) -> list[list[str]]:
            return [
                [
                    str(Decimal(p).scaleb(-9).quantize(Decimal(1).scaleb(-pp))),
                    str(Decimal(s).scaleb(-9).quantize(Decimal(1).scaleb(-sp))),
                ]
                for p, s in rows
            ]

        return {
            "instrument_id": str(book.instrument_id),
            "ts_event": book.ts_event,
            "sequence": book.sequence,
            "bids": side(book.bids_raw(levels)),
            "asks": side(book.asks_raw(levels)),
        }

    def _on_bar(self, bar: Any) -> None:
        iid = str(bar.bar_type.instrument_id)
        row = {
            "bar_type": str(bar.bar_type),
            "open": str(bar.open),
            "high": str(bar.high),
            "low": str(bar.low),
            "close": str(bar.close),
            "volume": str(bar.volume),
            "ts_event": bar.ts_event,
        }
        dq = self._bars.setdefault(iid, deque(maxlen=1000))
        dq.append(row)
        self._emit(f"bars:{iid}", row, list(dq))

    # -- views built in the engine thread --------------------------------------------------------
    def _positions(self) -> list[dict[str, Any]]:
        k = self.kernel
        out = []
        for p in k.portfolio.positions(open_only=True):
            mark = k.cache.last_price_raw(p.instrument_id)
            out.append(
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
        return out

    def _positions_history(self) -> list[dict[str, Any]]:
        return [
            {
                "position_id": str(t.position_id),
                "instrument_id": str(t.instrument_id),
                "strategy_id": str(t.strategy_id),
                "side": str(t.side),
                "quantity": str(t.quantity),
                "ts_opened": t.ts_entry_ns,
                "ts_closed": t.ts_exit_ns,
                "avg_px_open": _dec(t.avg_px_entry),
                "avg_px_close": _dec(t.avg_px_exit),
                "realized_pnl": str(t.realized_pnl.as_decimal()),
                "commissions": str(t.commissions.as_decimal()),
                "net_pnl": str(t.net_pnl.as_decimal()),
            }
            for t in reversed(self.kernel.portfolio.closed_trades()[-500:])
        ]

    def _stats(self) -> dict[str, Any]:
        k = self.kernel
        pf = k.portfolio
        ts = self.clock.timestamp_ns()
        try:
            equity = pf.equity(self.currency)
        except LookupError:  # no price yet to value the base asset
            equity = None
        day = ts // 86_400_000_000_000
        if equity is not None and day != self._day:
            self._day, self._day_start_equity = day, equity
        trades = pf.closed_trades()
        wins = [t for t in trades if t.net_pnl.raw > 0]
        losses = [t for t in trades if t.net_pnl.raw < 0]
        gross_win = sum(t.net_pnl.raw for t in wins)
        gross_loss = -sum(t.net_pnl.raw for t in losses)
        exposure = sum((pf.exposure(i).raw for i in k.cache.instruments), 0)
        acct = next(iter(k.venues.values())).account_id
        balances = {
            c: {"total": str(t.as_decimal()), "locked": str(lk.as_decimal()), "free": str(f.as_decimal())}
            for c, (t, lk, f) in pf.account(acct).balances().items()
        }
        return {
            "currency": self.currency.code,
            "starting_equity": str(self._start_equity.as_decimal()),
            "equity": None if equity is None else str(equity.as_decimal()),
            "total_pnl": None if equity is None else str((equity - self._start_equity).as_decimal()),
            "daily_pnl": None if equity is None else str((equity - self._day_start_equity).as_decimal()),
            "realized_pnl": str(pf.realized_pnl(self.currency).as_decimal()),
            "unrealized_pnl": str(pf.unrealized_pnl(self.currency).as_decimal()),
            "fees": str(pf.commissions(self.currency).as_decimal()),
            "balance": str(pf.balance_total(self.currency).as_decimal()),
            "balances": balances,
            "fills": pf.fill_count,
            "orders": len(k.cache.orders),
            "open_orders": sum(1 for o in k.cache.orders.values() if o.is_open),
            "closed_trades": len(trades),
            "win_rate_pct": _ratio(len(wins) * 100, len(trades), "0.01") if trades else None,
            "profit_factor": _ratio(gross_win, gross_loss, "0.0001") if gross_loss else None,
            "exposure": str(Money.from_raw(exposure, self.currency).as_decimal()),
            "ts": ts,
        }

    def _engine_view(self) -> dict[str, Any]:
        k = self.kernel
        running = self.state == "running"
        return {
            "state": self.state,
            "error": self.error,
            "mode": "paper",
            "data": "replay",
            "strategies": [{"id": str(s.id), "state": "running" if running else "stopped"} for s in k.strategies],
            "connections": [{"id": cid, "status": self._conn_status(cid)} for cid in self.connections],
            "counters": {
                "events_processed": self.events_processed,
                "events_per_s": round(self._rate[2], 1),
                "loop": self.loop_index,
                "loops_done": self.loops_done,
                "orders": len(k.cache.orders),
                "fills": k.portfolio.fill_count,
                "bus_publishes": k.bus.pub_count,
                "pending_commands": self._calls.qsize(),
            },
            "started_ns": self.started_ns,
            "last_update_ns": self.last_update_ns,
        }

    def _conn_status(self, cid: str) -> str:
        if not self.connections[cid]["enabled"]:
            return "disabled"
        return {"running": "connected", "error": "error"}.get(self.state, "idle")

    def _connections(self) -> list[dict[str, Any]]:
        k = self.kernel
        out = []
        for venue, client in k.venues.items():
            cid = str(venue)
            acct = k.portfolio.account(client.account_id)
            st = self.connections[cid]
            out.append(
                {
                    "id": cid,
                    "venue": cid,
                    "kind": "paper",
                    "mode": "paper",
                    "data": "replay",
                    "status": self._conn_status(cid),
                    "enabled": st["enabled"],
                    "live_trading": False,
                    "live_available": False,
                    "credentials_configured": False,
                    "account_id": str(client.account_id),
                    "balance": {c: str(t.as_decimal()) for c, (t, _, _) in acct.balances().items()},
                    "open_positions": sum(
                        1 for p in k.portfolio.positions(open_only=True) if p.instrument_id.venue == venue
                    ),
                    "last_test": st["last_test"],
                }
            )
        return out

    def _push_risk(self, force: bool = False) -> None:
        risk = self.kernel.risk_engine.status()
        prev = self._pub.get("risk")
        if force or prev is None or {**prev, "ts": 0} != {**risk, "ts": 0}:
            self._emit("risk", risk, risk)

    def _refresh_snapshot(self) -> None:
        mono = time.monotonic()
        t0, n0, rate = self._rate
        if mono - t0 >= 1.0:
            self._rate = (mono, self.events_processed, (self.events_processed - n0) / (mono - t0))
        stats = self._stats()
        positions = self._positions()
        if positions != self._pub.get("positions"):
            self._emit("positions", positions, positions)
        if stats["equity"] is not None and (not self._equity_curve or stats["ts"] - self._equity_curve[-1][0] >= 10**9):
            self._equity_curve.append((stats["ts"], stats["equity"]))
        prev = self._pub.get("account")
        if prev is None or {**prev, "ts": 0, "equity_curve": None} != {**stats, "ts": 0, "equity_curve": None}:
            point = list(self._equity_curve[-1]) if self._equity_curve else None
            self._emit("account", {**stats, "equity_point": point}, {**stats, "equity_curve": list(self._equity_curve)})
        self._push_risk()
        if mono - self._last_engine_push >= 1.0:
            self._last_engine_push = mono
            ev = self._engine_view()
            self._emit("engine", ev, ev)
        conns = self._connections()
        if conns != self._pub.get("connections"):
            self._emit("connections", conns, conns)
        pub = self._pub
        pub["stats"] = stats
        pub["positions_history"] = self._positions_history()
        pub["data_quality"] = {
            "subscriptions": self.quality.snapshot(),
            "events": [e.to_dict() for e in list(self.quality.events)[-100:]],
        }
        pub["ack_latency_ns"] = sorted(self._ack_latency_ns)
        pub.setdefault("orders", [])
        pub.setdefault("fills", [])
        pub.setdefault("alerts", [])
        pub["health"] = {
            "status": "ok" if self.state not in ("error",) else self.state,
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
            "webhook": self.webhook_service is not None,
            "ts": self.clock.timestamp_ns(),
        }

    # -- operator commands (engine thread) -------------------------------------------------------
    def _operator(self, actor: str, action: str, **params: Any) -> None:
        from tradewire.persistence.records import OperatorAction

        ts = self.clock.timestamp_ns()
        text = {k: str(v) for k, v in params.items() if v is not None}
        self.kernel.bus.publish(OPERATOR_TOPIC, OperatorAction(actor, action, ts, ts, text))
        detail = " ".join(f"{k}={v}" for k, v in text.items())
        self._add_alert(_alert("operator", "info", f"{actor}: {action} {detail}".strip(), ts, action=action))

    def _instrument(self, instrument_id: str) -> Instrument:
        try:
            return self.kernel.cache.instruments[InstrumentId(instrument_id)]
        except (KeyError, ValueError):
            raise NodeCommandError(404, f"unknown instrument {instrument_id!r}") from None

    def _order(self, client_order_id: str) -> Any:
        order = self.kernel.cache.orders.get(ClientOrderId(client_order_id))
        if order is None:
            raise NodeCommandError(404, f"unknown order {client_order_id!r}")
        return order

    def _cmd_submit_order(
        self,
        actor: str,
        instrument_id: str,
        side: str,
        order_type: str,
        quantity: str,
        price: str | None = None,
        trigger_price: str | None = None,
        time_in_force: str = "gtc",
        reduce_only: bool = False,
        post_only: bool = False,
    ) -> dict[str, Any]:
        inst = self._instrument(instrument_id)
        if not self.connections[str(inst.id.venue)]["enabled"]:
            raise NodeCommandError(409, f"connection {inst.id.venue} is disabled")
        qty = inst.make_qty(quantity)
        ot, tif, s = OrderType(order_type), TimeInForce(time_in_force), OrderSide(side)
        f = self._manual_factory
        if ot is OrderType.MARKET:
            order = f.market(inst.id, s, qty, tif, reduce_only=reduce_only, tags="api")
        elif ot is OrderType.LIMIT:
            if price is None:
                raise ValueError("a limit order needs price")
            order = f.limit(
                inst.id, s, qty, inst.make_price(price), tif, post_only=post_only, reduce_only=reduce_only, tags="api"
            )
        elif ot is OrderType.STOP_MARKET:
            if trigger_price is None:
                raise ValueError("a stop_market order needs trigger_price")
            order = f.stop_market(
                inst.id, s, qty, inst.make_price(trigger_price), tif, reduce_only=reduce_only, tags="api"
            )
        else:
            raise ValueError(f"order_type {order_type!r} is not accepted by the API (market, limit, stop_market)")
        self._operator(
            actor,
            "submit_order",
            client_order_id=order.client_order_id,
            instrument_id=inst.id,
            side=s,
            order_type=ot,
            quantity=qty,
            price=price,
            trigger_price=trigger_price,
        )
        coid = str(order.client_order_id)
        self._unrouted[coid] = order
        try:
            self.kernel.bus.send(
                "RiskEngine.execute", SubmitOrder(MANUAL_STRATEGY, inst.id, self.clock.timestamp_ns(), order)
            )
        finally:
            self._unrouted.pop(coid, None)
        return order_row(self.kernel.cache.orders.get(order.client_order_id, order))

    def _cmd_cancel_order(self, actor: str, client_order_id: str) -> dict[str, Any]:
        order = self._order(client_order_id)
        if order.status.is_closed:
            raise NodeCommandError(409, f"order {client_order_id} is {order.status}: nothing to cancel")
        self._operator(actor, "cancel_order", client_order_id=client_order_id)
        self.kernel.bus.send(
            "RiskEngine.execute",
            CancelOrder(order.strategy_id, order.instrument_id, self.clock.timestamp_ns(), order.client_order_id),
        )
        return order_row(order)

    def _cmd_modify_order(
        self,
        actor: str,
        client_order_id: str,
        quantity: str | None = None,
        price: str | None = None,
        trigger_price: str | None = None,
    ) -> dict[str, Any]:
        order = self._order(client_order_id)
        if order.status.is_closed:
            raise NodeCommandError(409, f"order {client_order_id} is {order.status}: cannot modify")
        inst = self._instrument(str(order.instrument_id))
        if quantity is None and price is None and trigger_price is None:
            raise ValueError("give quantity, price or trigger_price to modify")
        q = None if quantity is None else inst.make_qty(quantity)
        p = None if price is None else inst.make_price(price)
        tp = None if trigger_price is None else inst.make_price(trigger_price)
        self._operator(
            actor,
            "modify_order",
            client_order_id=client_order_id,
            quantity=quantity,
            price=price,
            trigger_price=trigger_price,
        )
        self.kernel.bus.send(
            "RiskEngine.execute",
            ModifyOrder(
                order.strategy_id, order.instrument_id, self.clock.timestamp_ns(), order.client_order_id, q, p, tp
            ),
        )
        return order_row(order)

    def _cmd_risk_kill(self, actor: str, reason: str = "kill switch") -> dict[str, Any]:
        self._operator(actor, "halt_trading", reason=reason, flatten="true")
        self.kernel.risk_engine.halt(reason, flatten=True)
        self._push_risk(force=True)
        return self.kernel.risk_engine.status()

    def _cmd_risk_reset(self, actor: str, reason: str = "operator reset") -> dict[str, Any]:
        self._operator(actor, "reset_trading", reason=reason)
        self.kernel.risk_engine.reset(reason)
        self._push_risk(force=True)
        return self.kernel.risk_engine.status()

    def _cmd_engine_start(self, actor: str) -> dict[str, Any]:
        if self.state == "running":
            raise NodeCommandError(409, "engine is already running")
        if self.state == "error":
            raise NodeCommandError(409, f"engine is in error ({self.error}); restart the node")
        self._operator(actor, "engine_start")
        if self.config.loops is not None and self.loops_done >= self.config.loops:
            self.loops_done = 0  # an explicit start after the last loop plays the session again
        self.kernel.start()
        self._run_requested = True
        self._set_state("running")
        return self._engine_view()

    def _cmd_engine_stop(self, actor: str) -> dict[str, Any]:
        if self.state != "running":
            raise NodeCommandError(409, f"engine is {self.state}, not running")
        self._operator(actor, "engine_stop")
        self.kernel.stop()
        for s in self.kernel.strategies:
            s.unsubscribe_all()
        self._run_requested = False
        self._set_state("stopped")
        return self._engine_view()

    def _conn(self, connection_id: str) -> dict[str, Any]:
        if connection_id not in self.connections:
            raise NodeCommandError(404, f"unknown connection {connection_id!r}")
        return self.connections[connection_id]

    def _cmd_connection_test(self, actor: str, connection_id: str) -> dict[str, Any]:
        st = self._conn(connection_id)
        k = self.kernel
        venue = Venue(connection_id)
        ts = self.clock.timestamp_ns()
        checks = [{"name": "execution_client", "ok": venue in k.venues, "detail": "paper matching engine registered"}]
        acct = k.portfolio.account(k.venues[venue].account_id)
        checks.append(
            {
                "name": "account",
                "ok": bool(acct.balances()),
                "detail": ", ".join(f"{c} {t.as_decimal()}" for c, (t, _, _) in acct.balances().items()),
            }
        )
        for iid in k.cache.instruments:
            if iid.venue != venue:
                continue
            book = k.cache.books.get(iid)
            ok = book is not None and book.best_bid_raw() is not None and not book.is_crossed()
            checks.append(
                {
                    "name": f"book {iid}",
                    "ok": ok,
                    "detail": "no book yet"
                    if book is None
                    else f"{book.bid_level_count} bids / {book.ask_level_count} asks, crossed={book.is_crossed()}",
                }
            )
            last = max(
                (x.ts_init for x in (k.cache.quotes.get(iid), k.cache.trades.get(iid)) if x is not None), default=None
            )
            age = None if last is None else ts - last
            checks.append(
                {
                    "name": f"data {iid}",
                    "ok": age is not None and age < 5_000_000_000,
                    "detail": "no data yet" if age is None else f"last message {age / 1e9:.3f} s ago",
                }
            )
        result = {"ok": all(c["ok"] for c in checks), "ts": ts, "checks": checks}
        st["last_test"] = result
        self._operator(actor, "connection_test", connection_id=connection_id, ok=result["ok"])
        return result

    def _cmd_connection_enable(self, actor: str, connection_id: str, enabled: bool) -> dict[str, Any]:
        st = self._conn(connection_id)
        self._operator(actor, "connection_enable" if enabled else "connection_disable", connection_id=connection_id)
        st["enabled"] = bool(enabled)
        return next(c for c in self._connections() if c["id"] == connection_id)

    def _cmd_connection_live(self, actor: str, connection_id: str, enabled: bool, confirm: str | None) -> dict:
        self._conn(connection_id)
        if enabled and confirm != connection_id:
            raise NodeCommandError(422, f"switching to live trading needs confirm={connection_id!r}")
        self._operator(actor, "connection_live", connection_id=connection_id, enabled=enabled)
        if enabled:
            raise NodeCommandError(
                409,
                f"no live venue configured: connection {connection_id} is a paper venue on "
                "replayed data and has no credentials; live trading stays off",
            )
        return next(c for c in self._connections() if c["id"] == connection_id)

    def _cmd_book(self, actor: str, instrument_id: str, depth: int = 10) -> dict[str, Any]:
        inst = self._instrument(instrument_id)
        book = self.kernel.cache.books.get(inst.id)
        if book is None:
            raise NodeCommandError(404, f"no order book for {instrument_id} yet")
        return self._ladder(book, depth)

    # NodeView (read by the API thread) --------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """Node state and mode."""
        return self._pub.get("health", {"status": self.state})

    def positions(self) -> list[dict[str, Any]]:
        """Open positions."""
        return self._pub.get("positions", [])

    def orders(self) -> list[dict[str, Any]]:
        """Orders, newest first (last 500)."""
        return self._pub.get("orders", [])

    def fills(self) -> list[dict[str, Any]]:
        """Fills, newest first (last 1000)."""
        return self._pub.get("fills", [])

    def trading_stats(self) -> dict[str, Any]:
        """P&L, fees, win rate, profit factor, exposure."""
        return self._pub.get("stats", {})

    def instruments(self) -> list[dict[str, Any]]:
        """Instruments (immutable objects, safe to read from any thread)."""
        return [
            {
                "instrument_id": str(i.id),
                "venue": str(i.id.venue),
                "asset_class": str(i.asset_class),
                "instrument_class": str(i.instrument_class),
                "quote_currency": i.quote_currency.code,
                "base_currency": None if i.base_currency is None else i.base_currency.code,
                "price_precision": i.price_precision,
                "tick_size": str(i.tick_size),
                "size_precision": i.size_precision,
                "lot_size": str(i.lot_size),
                "maker_fee": str(i.maker_fee),
                "taker_fee": str(i.taker_fee),
            }
            for i in [self.instrument]
        ]
