"""Operator commands of a :class:`tradewire.node.live.TradingNode`: the queue other threads use to act on the
engine, and the command handlers that run in the engine thread.

Another thread (the API's event loop) calls :meth:`NodeCommands.request`, which puts ``(callable, Future)`` on
a ``queue.SimpleQueue``; the engine loop drains the queue between two market-data messages and sets the
Future's result or exception, so every command runs in the thread that owns the engine objects. Each
state-changing command is published as an ``OperatorAction`` on ``events.alert.operator`` (recorded in the
event store) and pushed on ``alerts``.
"""

from __future__ import annotations

import queue
from concurrent.futures import Future
from typing import Any

from tradewire.model.commands import CancelOrder, ModifyOrder, SubmitOrder
from tradewire.model.enums import OrderSide, OrderType, TimeInForce
from tradewire.model.identifiers import ClientOrderId, InstrumentId, StrategyId, Venue
from tradewire.model.instruments import Instrument
from tradewire.node.views import alert_row, ladder_row, order_row

OPERATOR_TOPIC = "events.alert.operator"
MANUAL_STRATEGY = StrategyId("manual-001")


class NodeCommandError(Exception):
    """An operator command the engine refused; ``status`` is the matching HTTP status (404, 409, 422)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class NodeCommands:
    """Mixin of :class:`tradewire.node.live.TradingNode`: the command queue and the ``_cmd_*`` handlers."""

    def _fail_pending_calls(self) -> None:
        while True:
            try:
                _, fut = self._calls.get_nowait()
            except queue.Empty:
                return
            if fut is not None and fut.set_running_or_notify_cancel():  # None: a wake-up, not a command
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

    def _operator(self, actor: str, action: str, **params: Any) -> None:
        from tradewire.persistence.records import OperatorAction

        ts = self.clock.timestamp_ns()
        text = {k: str(v) for k, v in params.items() if v is not None}
        self.kernel.bus.publish(OPERATOR_TOPIC, OperatorAction(actor, action, ts, ts, text))
        detail = " ".join(f"{k}={v}" for k, v in text.items())
        self._add_alert(alert_row("operator", "info", f"{actor}: {action} {detail}".strip(), ts, action=action))

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
        return ladder_row(book, depth)
