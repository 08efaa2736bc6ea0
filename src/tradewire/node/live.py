"""`TradingNode`: a paper-trading node on a `LiveClock`, fed by a recorded session replayed in real time, or by
an exchange's public market-data streams through ccxt (``NodeConfig.live_data``, paper trading on live data).

This module holds the lifecycle, the engine loop and the push of updates; the configuration lives in
:mod:`tradewire.node.config`, the read models in :mod:`tradewire.node.views` and the operator command queue
and handlers in :mod:`tradewire.node.commands`, and the webhook hand-off in :mod:`tradewire.node.webhook` (all
three mixed into :class:`TradingNode`).

Threads
-------
- The **engine thread** owns every engine object (kernel, strategies, venue). It releases each replayed
  message when its due time arrives on the wall clock (live data: each object as it arrives, no pacing),
  fires due timers, runs the operator commands queued by other threads (:meth:`TradingNode.request`),
  and every ``snapshot_ms`` refreshes the read-only views the API serves.
- Other threads (the API's event loop) only read published views (plain dicts/lists that are replaced,
  never mutated, by the engine thread: :meth:`TradingNode.view`) and receive pushed updates through the
  listeners added with :meth:`TradingNode.add_listener`, called in the engine thread. A listener must be
  thread-safe and return at once (the API's hub appends to a deque and wakes its event loop).

Engine states: ``idle`` (built), ``initializing`` (opening the event store), ``running`` (replaying),
``stopped`` (paused by an operator: strategies stopped, no market data; ``start`` resumes from the
session's depth snapshot), ``finished`` (all loops played), ``error``. The engine thread keeps serving
commands in every state until :meth:`TradingNode.stop`.

Live data (``NodeConfig.live_data = "ccxt:<exchange>:<symbol>"``): the node builds a
:class:`tradewire.venues.ccxt.data.LiveDataSource` (public streams, no credentials) in its constructor, so an
unreachable exchange or an unlisted symbol raises there, before anything is served; there is no fallback to
the recording. The engine thread waits up to ``LIVE_POLL_S`` for an operator command, then processes every
market-data object that has arrived, servicing commands and snapshots between objects, so the API stays
responsive when the market is quiet. ``stopped`` stops the strategies only: the market data keeps
flowing to the book and the paper venue (the live book cannot be rebuilt from a recording on ``start``).

Pushed topics (listener ``(topic, update)``; :meth:`view` returns the matching snapshot):
``orders`` (one order row, once per engine step in which the order changed), ``fills`` (one fill row),
``positions`` (all open positions after a position event, at most every 25 ms), ``account``
(stats plus an equity point), ``engine``, ``risk`` (``RiskEngine.status()``), ``alerts`` (one alert row:
operator actions, risk events, data-quality events, order-flow alerts), ``connections``,
``book:{instrument_id}`` (top levels; the update is a :class:`tradewire.node.views.Ladder`, call its
``to_dict()``), ``bars:{instrument_id}`` (one 1-second bar) and ``orderflow:{instrument_id}`` (the
:class:`tradewire.orderflow.engine.OrderFlowEngine` snapshot, every ``orderflow_ms`` while it changes).

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
from pathlib import Path
from typing import Any

from tradewire.core.clock import LiveClock
from tradewire.data.quality import DataQualityMonitor
from tradewire.model.data import BarType
from tradewire.model.events import OrderAccepted, OrderDenied, OrderFilled, OrderSubmitted
from tradewire.node.commands import MANUAL_STRATEGY, OPERATOR_TOPIC, NodeCommandError, NodeCommands
from tradewire.node.config import NodeConfig, bundled_sample, open_live_source
from tradewire.node.kernel import Kernel, VenueConfig
from tradewire.node.replay import BinanceReplay
from tradewire.node.views import Ladder, NodeViews, TradeHistory, alert_row, fill_row, order_row
from tradewire.node.webhook import NodeWebhook
from tradewire.orderflow.engine import OrderFlowEngine
from tradewire.venues.paper.config import BookLevel, PaperVenueConfig

__all__ = [
    "MANUAL_STRATEGY",
    "OPERATOR_TOPIC",
    "NodeCommandError",
    "NodeConfig",
    "TradingNode",
    "bundled_sample",
    "fill_row",
    "order_row",
]

LIST_PUBLISH_NS = 25_000_000  # longest a published orders/fills list may lag its rows (see _flush_views)
LIVE_POLL_S = 0.005  # live data: longest wait for a command before the engine thread looks at the market data
Listener = Callable[[str, Any], None]


class TradingNode(NodeCommands, NodeViews, NodeWebhook):
    """A paper-trading node on the wall clock, fed by replayed or live market data (see module docstring).

    Raises
    ------
    ValueError
        From the constructor if the recording cannot be synchronized (no depth snapshot), the live-data spec
        is malformed or the exchange lists no such symbol.
    ConnectionError
        From the constructor if the exchange cannot be reached for live data.
    """

    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self.clock = LiveClock()
        self.kernel = Kernel(self.clock, "PAPER-001")
        self.source: Any = None
        self.replay: BinanceReplay | None = None
        self.data_path: Path | None = None
        if config.live_data is not None:
            self.source = open_live_source(config.live_data, self.clock, config.live_data_overrides)
            inst = self.source.instrument
        else:
            inst = config.instrument
            self.data_path = config.data or bundled_sample()
            self.replay = BinanceReplay(self.data_path, inst.id, inst.price_precision, inst.size_precision)
        self.instrument = inst
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
        self._orders_changed: dict[str, Any] = {}  # client order id -> order changed in this engine step
        self._positions_dirty = False  # a position event since the positions were last pushed
        self._positions_pushed_ns = 0  # monotonic ns of that push
        self._lists_stale = False  # the published orders/fills lists lag the rows (see _flush_views)
        self._lists_published_ns = 0
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
        self.orderflow_engine = OrderFlowEngine(bus, self.kernel.cache, self.clock, self.kernel.data_engine)
        self.orderflow_engine.subscribe(inst.id)
        self._orderflow_last = (0.0, {})  # (monotonic s of the last publish, last snapshot per topic)
        self.webhook_service = self._build_webhook(config.webhook)
        self._store = None
        self._recorder: Any = None
        self._listeners: list[Listener] = []
        self._views_dirty = False
        self._calls: queue.SimpleQueue[tuple[Callable[[], Any], Future]] = queue.SimpleQueue()
        self._wake_pending = False  # a webhook wake-up is queued and its drain has not started (see _wake)
        self._shutdown = threading.Event()
        self._thread: threading.Thread | None = None
        self._pub: dict[str, Any] = {}
        self._snapshot = self._pub  # backward-compatible name
        self.state = "idle"
        self.error: str | None = None
        self.events_processed = 0
        self._last_snap_ns = 0
        self._lag_max_ns = 0  # largest (taken - due) of a replayed message since the last engine view
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

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Open the event store, start strategies and the engine thread."""
        from tradewire.persistence import EventRecorder, open_store

        self._set_state("initializing")
        self._store = open_store(self.config.database_url)
        # OrderInitialized commits with the order's OrderSubmitted (one commit per order on this thread, not two);
        # an order held or emulated is made durable by the barrier before the engine loop takes its next input
        self._recorder = EventRecorder(
            self._store, self.kernel.bus, defer_initialized=True, snapshot_interval_ms=self.config.log_snapshot_ms
        )
        if self.webhook_service is not None:
            self.webhook_service.durability_barrier = self._recorder.barrier
            # recovered alerts whose orders the store holds are not sent again, so handled marks can be batched
            self.webhook_service.placed_check = self._placed_before
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
        if self.source is not None:
            self.source.close()
        if self.state == "running":
            self.kernel.stop()
            self.state = "stopped"
        self._fail_pending_calls()
        self._flush_alert_marks()
        if self._recorder is not None:
            self._recorder.flush_snapshots()  # the latest account and position snapshots before closing
        if self._store is not None:
            self._store.close()
            self._store = None
        self._refresh_snapshot()

    def _run(self) -> None:
        try:
            while not self._shutdown.is_set():
                if self.source is not None:
                    self._play_live()
                elif self._run_requested and self.state == "running":
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
            if self._recorder.deferred:
                self._recorder.barrier()
            if self._views_dirty:
                self._flush_views()
            self.events_processed += 1
            if now - due > self._lag_max_ns:
                self._lag_max_ns = now - due
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

    def _play_live(self) -> None:
        """One step on live data: commands (waiting up to ``LIVE_POLL_S`` for one), then every object that
        has arrived, each processed at once (real time, no pacing), with commands, timers and snapshots
        serviced between objects. Returns when no more data is waiting, or on shutdown."""
        self._service(LIVE_POLL_S)
        snap_ns = self.config.snapshot_ms * 1_000_000
        calls = self._calls
        process = self.kernel.process
        # the generator must be run to its end: objects it has taken from the connection are not returned
        for obj in self.source.objects(idle_timeout=0):
            if self._shutdown.is_set():
                return
            if not calls.empty():
                self._service(0)
            self.clock.run_due()
            if self._venue_enabled(obj):
                process(obj)
            if self._recorder.deferred:
                self._recorder.barrier()
            if self._views_dirty:
                self._flush_views()
            self.events_processed += 1
            now = time.time_ns()
            if now - self._last_snap_ns >= snap_ns:
                self._refresh_snapshot()
                self._last_snap_ns = now
        self.clock.run_due()
        now = time.time_ns()
        if now - self._last_snap_ns >= snap_ns:
            self._refresh_snapshot()
            self._last_snap_ns = now

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
        """Run queued commands and webhook intents; wait up to ``timeout`` s for the first command.

        The webhook service wakes this wait by queueing a no-op (``_wake``) for every accepted alert, so an
        alert is planned and sent at once instead of at the next replay step or poll.
        """
        try:
            item = self._calls.get(timeout=timeout) if timeout > 0 else self._calls.get_nowait()
        except queue.Empty:
            item = None
        ran = False
        while item is not None:
            fn, fut = item
            if fut is not None and fut.set_running_or_notify_cancel():
                ran = True
                try:
                    res = fn()
                except BaseException as exc:  # handed to the caller's thread
                    self._flush_views(force=True)
                    fut.set_exception(exc)
                else:
                    self._flush_views(force=True)
                    fut.set_result(res)
            try:
                item = self._calls.get_nowait()
            except queue.Empty:
                item = None
        if self.webhook_service is not None and self.state == "running":
            self._wake_pending = False  # before draining: an alert queued from now on wakes the loop again
            self.webhook_service.drain()
            self.webhook_service.flush_dispatched(due_only=True)  # handled marks deferred past their interval
        if self._recorder is not None:
            if self._recorder.deferred:  # orders placed by commands or timers
                self._recorder.barrier()
            self._recorder.tick()  # account/position snapshots held past their interval
        self._flush_views()
        if ran:
            self._refresh_snapshot()

    # -- push -----------------------------------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(topic, update)`` in the engine thread for every pushed update."""
        self._listeners = [*self._listeners, listener]

    def remove_listener(self, listener: Listener) -> None:
        """Undo :meth:`add_listener`."""
        self._listeners = [x for x in self._listeners if x is not listener]

    def _flush_views(self, force: bool = False) -> None:
        """Push the rows of the orders changed in this engine step and publish the ``orders``/``fills`` lists.

        An order's events (submitted, accepted, filled ...) arrive in one engine step; each changed order's
        row is built and pushed to the listeners once per step, in its current state (a market order's
        submitted, accepted and filled events give one ``filled`` row, not three: the row carries the whole
        order, so a later one supersedes an earlier one). Fill rows are pushed per fill, as they happen; the
        open positions (all their rows, rebuilt) after a position event, at most every ``LIST_PUBLISH_NS``
        unless ``force``d: under webhook load a rebuild per alert cost ~4% of the engine thread.

        The published lists (up to 500 orders and 1,000 fills, copied so that other threads can read them)
        are rebuilt when ``force`` is set (after an operator command, before its caller gets the result, and at
        every snapshot refresh), else at most every ``LIST_PUBLISH_NS`` (25 ms): under webhook load the copies
        took ~30 us per engine step, once per alert. A reader of ``view("orders")`` may therefore see a list up
        to 25 ms older than the pushed rows. Called by the engine thread after every command, webhook drain,
        market-data object and snapshot refresh, and on every wait of its loop (at most 20 ms apart while
        replaying, 50 ms when stopped), so a stale list is replaced within that.
        """
        if self._views_dirty:
            self._views_dirty = False
            changed = self._orders_changed
            if changed:
                self._orders_changed = {}
                orders = self._orders
                listeners = self._listeners
                for coid, order in changed.items():
                    row = order_row(order)
                    orders[coid] = row
                    orders.move_to_end(coid)
                    for fn in listeners:
                        fn("orders", row)
                while len(orders) > 500:
                    orders.popitem(last=False)
            self._lists_stale = True
        if self._positions_dirty:
            now = time.monotonic_ns()
            if force or now - self._positions_pushed_ns >= LIST_PUBLISH_NS:
                self._positions_dirty = False
                self._positions_pushed_ns = now
                rows = self._positions()
                self._emit("positions", rows, rows)
        if self._lists_stale:
            now = time.monotonic_ns()
            if force or now - self._lists_published_ns >= LIST_PUBLISH_NS:
                self._lists_stale = False
                self._lists_published_ns = now
                self._pub["orders"] = list(reversed(self._orders.values()))
                self._pub["fills"] = list(self._fills)

    def _emit(self, topic: str, update: Any, snapshot: Any) -> None:
        self._pub[topic] = snapshot
        for fn in self._listeners:
            fn(topic, update)

    def view(self, topic: str) -> Any:
        """Latest published snapshot of ``topic`` (see module docstring), or None before the first."""
        v = self._pub.get(topic)
        t = type(v)
        return v.to_dict() if t is Ladder else v.rows() if t is TradeHistory else v

    def topics(self) -> list[str]:
        """Topics with a published snapshot."""
        return list(self._pub)

    def _set_state(self, state: str) -> None:
        self.state = state
        self.last_update_ns = self.clock.timestamp_ns()
        ev = self._engine_view()
        self._emit("engine", ev, ev)

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
            changed = self._orders_changed
            changed.pop(coid, None)  # re-inserted: the flush keeps the order of each order's last event
            changed[coid] = order
            self._views_dirty = True  # its row is built and pushed once per engine step (_flush_views)
        if t is OrderFilled:
            self._submitted_ts.pop(coid, None)
            fr = fill_row(event)
            fr["ts_published"] = time.time_ns()  # wall clock when the engine handed the fill to the API
            self._fills.appendleft(fr)
            for fn in self._listeners:
                fn("fills", fr)
            self._views_dirty = True

    def _on_position_event(self, _event: Any) -> None:
        self._positions_dirty = True  # the rows (all open positions) are built once per engine step
        self._views_dirty = True

    def _on_risk_event(self, event: Any) -> None:
        name = type(event).__name__
        text = getattr(event, "reason", None) or str(event)
        self._add_alert(alert_row("risk", "warning", f"{name}: {text}", self.clock.timestamp_ns()))
        self._push_risk(force=True)

    def _on_quality_event(self, event: Any) -> None:
        d = event.to_dict()
        key = f"{d['instrument_id']}:{d['kind']}"
        if d["ts_init"] - self._quality_last.get(key, -(10**18)) < 1_000_000_000:
            return  # one alert per kind and instrument per second; the monitor keeps the counts
        self._quality_last[key] = d["ts_init"]
        self._add_alert(
            alert_row(
                "data_quality", "warning", d["message"], d["ts_event"], instrument_id=d["instrument_id"], kind=d["kind"]
            )
        )

    def _on_orderflow_event(self, event: Any) -> None:
        iid = getattr(event, "instrument_id", None)
        self._add_alert(
            alert_row(
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
            ladder = Ladder(book, self.config.book_levels)  # formatted lazily, by whoever reads it
            self._emit(key, ladder, ladder)

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
