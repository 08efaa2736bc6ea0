"""`CcxtExecutionClient`: orders on a ccxt exchange, with order and fill updates from its private streams.

Threads: the engine thread calls :meth:`submit_order`, :meth:`cancel_order`, :meth:`modify_order`; each
snapshots what it needs from the ``Order`` and schedules a coroutine on the connection's event loop. Every
event the venue produces is put on the connection's :class:`~tradewire.venues.ccxt.runtime.EngineInbox`
and reaches ``event_handler`` (``ExecutionEngine.process``) when the engine thread drains it.

Outcomes of a venue call (see :mod:`tradewire.venues.ccxt.errors`):

* rejected (insufficient funds, invalid order, filter failure) -> ``OrderRejected`` with the venue's reason;
* rate limited -> wait (``Retry-After`` via the shared limiter) and retry; clock skew -> resync the time
  difference (``load_time_difference``) and retry: in both cases the venue did not process the request;
* network error or timeout on a *submit* -> the outcome is unknown. The client never resubmits blindly: it
  first queries the order by its client order id (``origClientOrderId``); found -> it is adopted as
  accepted; "does not exist" -> it is sent again with the same client order id (a venue that did get it
  refuses the duplicate); if the query keeps failing the order is kept *in doubt* and resolved by the next
  resync (stream reconnect, periodic poll or :meth:`reconcile_now`).

Updates: ``watch_orders`` (status) and ``watch_my_trades`` (fills) on the venue's user-data stream, with a
REST resync (open orders, recent trades, the final state of orders that left the open list) after every
reconnect and every ``poll_interval_s`` (the polling fallback where a venue has no private stream). Fills
are deduplicated by venue trade id, so a fill seen on the stream, in an order ack and in a resync is
applied once; a terminal status (canceled/expired) is emitted only after every fill the venue reports for
the order has been applied.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ccxt.base.errors import MarginModeAlreadySet

from tradewire.core.clock import Clock
from tradewire.execution.client import ExecutionClient
from tradewire.model.enums import LiquiditySide, OrderSide, OrderType, TimeInForce
from tradewire.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
    OrderUpdated,
)
from tradewire.model.identifiers import AccountId, ClientOrderId, InstrumentId, StrategyId, TradeId, VenueOrderId
from tradewire.model.objects import Price, Quantity
from tradewire.model.orders import Order
from tradewire.venues.ccxt.config import check_live_trading
from tradewire.venues.ccxt.errors import (
    ClockSkew,
    CredentialsError,
    OrderNotFoundAtVenue,
    RateLimited,
    VenueError,
    classify,
)
from tradewire.venues.ccxt.factories import CcxtConnection
from tradewire.venues.ccxt.parsing import (
    account_state,
    first,
    money,
    price,
    quantity,
    to_decimal,
)
from tradewire.venues.ccxt.reports import CcxtReportsMixin
from tradewire.venues.ccxt.retry import RetryPolicy, retry_async

_log = logging.getLogger(__name__)
_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class _Ref:
    """What the loop thread may know about an engine order (an immutable snapshot)."""

    client_order_id: ClientOrderId
    strategy_id: StrategyId
    instrument_id: InstrumentId
    side: OrderSide
    order_type: OrderType
    symbol: str
    price_precision: int
    size_precision: int


class CcxtExecutionClient(CcxtReportsMixin, ExecutionClient):
    """Execution client for one ccxt connection (see module docstring).

    Parameters
    ----------
    connection : CcxtConnection
        Shared with the data client; instruments must be loaded.
    account_id : AccountId
    clock : Clock
    event_handler : callable
        ``ExecutionEngine.process``; called on the engine thread when the inbox is drained.
    retry : RetryPolicy
        For temporary errors of every REST call.
    poll_interval_s : float | None
        REST resync period (None: only after reconnects and on demand).
    stream : bool
        Use the venue's private websocket streams (False: polling only).
    instrument_ids : iterable of InstrumentId
        Instruments whose fills and orders the reports cover even before this process placed an order on
        them (after a restart, reconciliation asks about the instruments the store knows).
    live_confirmed : bool
        The operator confirmed live trading (needed, with ``live_trading = true`` in the connection, for a
        connection that reaches a real account; see :func:`~tradewire.venues.ccxt.config.check_live_trading`).

    Raises
    ------
    LiveTradingNotEnabled
        From :meth:`connect` when the connection targets a real account without the flag and confirmation.
    CredentialsError
        From the constructor when the connection has no credentials (no fallback to paper trading).
    """

    supports = frozenset({"stop_market", "stop_limit", "post_only", "ioc", "fok", "modify", "reduce_only"})

    def __init__(
        self,
        connection: CcxtConnection,
        account_id: AccountId,
        clock: Clock,
        event_handler: Any,
        retry: RetryPolicy = RetryPolicy(),
        poll_interval_s: float | None = 30.0,
        stream: bool = True,
        live_confirmed: bool = False,
        instrument_ids: Any = (),
    ) -> None:
        super().__init__(connection.instruments.venue, account_id, clock, event_handler)  # type: ignore[arg-type]
        if connection.credentials is None:
            raise CredentialsError(
                f"connection {connection.config.name!r} has no API credentials: an execution client needs them "
                "(there is no fallback to paper trading)"
            )
        if connection.config.market_type in ("spot", "margin"):
            self.supports = self.supports - {"reduce_only"}  # a spot venue has no positions to reduce
        self.live_confirmed = live_confirmed
        self.instrument_ids: set[InstrumentId] = {InstrumentId(i) for i in instrument_ids}
        self.conn = connection
        self.ex = connection.exchange
        self.retry = retry
        self.poll_interval_s = poll_interval_s
        self.stream = stream and bool(self.ex.has.get("watchOrders")) and bool(self.ex.has.get("watchMyTrades"))
        self._refs: dict[ClientOrderId, _Ref] = {}
        self._by_venue_id: dict[str, ClientOrderId] = {}
        self._accepted: set[ClientOrderId] = set()
        self._closed: set[ClientOrderId] = set()
        self._configured: set[InstrumentId] = set()  # derivatives symbols whose leverage/margin mode were applied
        self._filled_raw: dict[ClientOrderId, int] = {}
        self._seen_trades: set[tuple[str, str]] = set()
        self._superseded: set[str] = set()
        self._orphans: dict[str, list[dict[str, Any]]] = {}
        self.in_doubt: set[ClientOrderId] = set()
        self._tasks: list[asyncio.Task] = []
        self._last_trade_ms = 0
        self.resyncs = 0
        self.reconnects = 0

    # ------------------------------------------------------------------ plumbing
    def _emit(self, event: Any) -> None:
        self.conn.inbox.put(self.event_handler, event)

    def _now(self) -> int:
        return self.clock.timestamp_ns()

    async def _call(self, what: str, fn: Any) -> Any:
        return await retry_async(fn, self.retry, what=f"{self.venue} {what}", on_clock_skew=self._resync_time)

    async def _resync_time(self) -> None:
        """Re-measure the venue clock offset used for signed timestamps (ccxt ``load_time_difference``)."""
        if self.ex.has.get("fetchTime"):
            await self.ex.load_time_difference()

    def _ref(self, order: Order) -> _Ref:
        inst = self.conn.instruments.get(order.instrument_id)
        ref = _Ref(order.client_order_id, order.strategy_id, order.instrument_id, order.side, order.order_type,
                   self.conn.instruments.symbols.ccxt_symbol(order.instrument_id), inst.price_precision,
                   inst.size_precision)  # fmt: skip
        self._refs[ref.client_order_id] = ref
        return ref

    def register_order(self, order: Order) -> None:
        """Know an order this process did not submit (restored from the event store after a restart)."""
        ref = self._ref(order)
        if order.venue_order_id:
            self._by_venue_id[str(order.venue_order_id)] = ref.client_order_id
            self._accepted.add(ref.client_order_id)
        self._filled_raw[ref.client_order_id] = order.filled_qty.raw
        if order.is_closed:
            self._closed.add(ref.client_order_id)

    def _symbols(self) -> list[str]:
        syms = {r.symbol for r in self._refs.values()}
        syms |= {self.conn.instruments.symbols.ccxt_symbol(i) for i in self.instrument_ids}
        return sorted(syms)

    # ------------------------------------------------------------------ lifecycle
    def connect(self) -> None:
        """Apply margin/position settings, publish balances, start the update streams (blocking)."""
        check_live_trading(self.conn.config, self.live_confirmed)
        self.conn.run(self._connect(), 60)
        self.is_connected = True

    async def _connect(self) -> None:
        if not self.conn.instruments.instruments:
            await self.conn.instruments.load()
        cfg = self.conn.config
        if cfg.market_type in ("linear", "inverse") and cfg.position_mode and self.ex.has.get("setPositionMode"):
            hedged = cfg.position_mode == "hedge"
            if self.ex.has.get("fetchPositionMode"):  # Binance refuses a no-op change (-4059)
                mode = await self._call("fetch_position_mode", lambda: self.ex.fetch_position_mode())
                if mode.get("hedged") is hedged:
                    hedged = None
            if hedged is not None:
                await self._call("set_position_mode", lambda: self.ex.set_position_mode(hedged))
        await self.publish_account_state()
        if self.stream:
            self._tasks.append(asyncio.get_running_loop().create_task(self._watch("orders")))
            self._tasks.append(asyncio.get_running_loop().create_task(self._watch("trades")))
        if self.poll_interval_s:
            self._tasks.append(asyncio.get_running_loop().create_task(self._poll()))

    async def configure_symbol(self, instrument_id: InstrumentId) -> None:
        """Set leverage and margin mode for one derivatives instrument as configured (before its first order)."""
        cfg, sym = self.conn.config, self.conn.instruments.symbols.ccxt_symbol(instrument_id)
        if cfg.margin_mode and self.ex.has.get("setMarginMode"):
            try:
                await self._call("set_margin_mode", lambda: self.ex.set_margin_mode(cfg.margin_mode, sym))
            except Exception as exc:  # already in that mode: Binance answers -4046, ccxt MarginModeAlreadySet
                if not isinstance(exc.__cause__ or exc, MarginModeAlreadySet):
                    raise
        if cfg.leverage and self.ex.has.get("setLeverage"):
            await self._call("set_leverage", lambda: self.ex.set_leverage(cfg.leverage, sym))
        self._configured.add(instrument_id)

    def disconnect(self) -> None:
        """Stop the update streams (the connection itself is closed by its owner)."""

        async def stop() -> None:
            for t in self._tasks:
                t.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._tasks.clear()

        if self.conn.loop.running:
            self.conn.run(stop(), 10)
        self.is_connected = False

    async def publish_account_state(self) -> None:
        """Fetch balances and emit an ``AccountState``."""
        bal = await self._call("fetch_balance", lambda: self.ex.fetch_balance())
        ts = self._now()
        te = int(bal.get("timestamp") or 0) * _MS or ts
        self._emit(account_state(bal, self.account_id, te, ts))

    # ------------------------------------------------------------------ commands (engine thread)
    def submit_order(self, order: Order) -> None:
        """Send a new order; the answer arrives as OrderAccepted/OrderRejected (and fills) via the inbox."""
        ref = self._ref(order)
        args = self._order_args(order, order.quantity)
        self.conn.loop.submit(self._submit(ref, *args))

    def _order_args(self, order: Order, qty: Quantity) -> tuple[str, str, str, str | None, dict[str, Any]]:
        t = order.order_type
        params: dict[str, Any] = {"newClientOrderId": str(order.client_order_id)}
        if t in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT, OrderType.MARKET_IF_TOUCHED, OrderType.LIMIT_IF_TOUCHED):
            if order.trigger_price is None:
                raise ValueError(f"{order.client_order_id}: {t.value} order without trigger_price")
            key = "stopLossPrice" if t in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT) else "takeProfitPrice"
            params[key] = str(order.trigger_price)
        kind = "market" if t in (OrderType.MARKET, OrderType.STOP_MARKET, OrderType.MARKET_IF_TOUCHED) else "limit"
        if order.post_only:
            params["postOnly"] = True
        if order.reduce_only:
            params["reduceOnly"] = True
        if self.conn.config.position_mode == "hedge" and self.conn.config.market_type in ("linear", "inverse"):
            # hedge mode (Binance USD-M "positionSide", Change Position Mode (TRADE)): a reduce-only order closes
            # the opposite side (a reduce-only sell closes LONG), any other order opens or adds to its own side
            # (a buy goes to LONG). ccxt's ``hedged`` flag sends exactly that positionSide and drops reduceOnly,
            # which Binance refuses in hedge mode.
            params["hedged"] = True
        if order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK) and kind == "limit":
            params["timeInForce"] = order.time_in_force.value.upper()
        px = str(order.price) if kind == "limit" and order.price is not None else None
        return kind, order.side.value, str(qty), px, params

    def cancel_order(self, order: Order) -> None:
        """Ask the venue to cancel; answers OrderCanceled or OrderCancelRejected."""
        ref = self._refs.get(order.client_order_id) or self._ref(order)
        vid = str(order.venue_order_id) if order.venue_order_id else None
        self.conn.loop.submit(self._cancel(ref, vid))

    def modify_order(
        self, order: Order, quantity: Quantity | None, price: Price | None, trigger_price: Price | None
    ) -> None:
        """Change a working order: ``edit_order`` where the venue has it (Binance spot: cancel-replace), else
        cancel then place again with the same client order id. Answers OrderUpdated or OrderModifyRejected."""
        ref = self._refs.get(order.client_order_id) or self._ref(order)
        new_qty = quantity or order.quantity
        if new_qty.raw <= order.filled_qty.raw:
            self._emit(
                OrderModifyRejected(
                    ref.client_order_id,
                    ref.strategy_id,
                    ref.instrument_id,
                    self._now(),
                    self._now(),
                    f"new quantity {new_qty} <= filled {order.filled_qty}",
                    order.venue_order_id,
                )
            )
            return  # fmt: skip
        shadow = Order.from_init(order.init)
        shadow.price = price or order.price
        shadow.trigger_price = trigger_price or order.trigger_price
        leaves = Quantity.from_raw(new_qty.raw - order.filled_qty.raw, new_qty.precision)
        args = self._order_args(shadow, leaves)
        vid = str(order.venue_order_id) if order.venue_order_id else None
        self.conn.loop.submit(self._modify(ref, vid, quantity, price, trigger_price, *args))

    # ------------------------------------------------------------------ commands (loop thread)
    async def _submit(self, ref: _Ref, kind: str, side: str, qty: str, px: str | None, params: dict) -> None:
        attempt = 0
        while True:
            try:
                if ref.instrument_id not in self._configured and self.conn.config.market_type in ("linear", "inverse"):
                    await self.configure_symbol(ref.instrument_id)
                res = await self.ex.create_order(ref.symbol, kind, side, qty, px, dict(params))
                await self._on_order(res, ref)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                err = classify(exc)
            attempt += 1
            if not err.temporary:
                self._closed.add(ref.client_order_id)
                ts = self._now()
                self._emit(OrderRejected(ref.client_order_id, ref.strategy_id, ref.instrument_id, ts, ts,
                                         err.reason, self.account_id))  # fmt: skip
                return
            if attempt >= self.retry.max_attempts:
                self.in_doubt.add(ref.client_order_id)
                _log.error("%s submit %s: outcome unknown after %d attempts (%s); left to reconciliation",
                           self.venue, ref.client_order_id, attempt, err.reason)  # fmt: skip
                return
            if isinstance(err, ClockSkew):
                await self._resync_time()
                continue
            if isinstance(err, RateLimited):
                await asyncio.sleep(max(self.retry.delay(attempt), err.retry_after or 0))
                continue
            # network error or timeout: the venue may have the order. Look before sending again.
            await asyncio.sleep(self.retry.delay(attempt))
            try:
                found = await self._call("fetch_order", lambda: self.ex.fetch_order(
                    None, ref.symbol, {"origClientOrderId": str(ref.client_order_id)}))  # fmt: skip
            except OrderNotFoundAtVenue:
                continue  # never arrived: safe to send again with the same client order id
            except VenueError as qerr:
                self.in_doubt.add(ref.client_order_id)
                _log.error("%s submit %s: outcome unknown (%s); left to reconciliation", self.venue,
                           ref.client_order_id, qerr.reason)  # fmt: skip
                return
            await self._on_order(found, ref)
            return

    async def _cancel(self, ref: _Ref, vid: str | None) -> None:
        params = {} if vid else {"origClientOrderId": str(ref.client_order_id)}
        try:
            res = await self._call("cancel_order", lambda: self.ex.cancel_order(vid, ref.symbol, dict(params)))
        except VenueError as err:
            if isinstance(err, OrderNotFoundAtVenue):
                await self._resync_order(ref)  # it may have filled or been canceled meanwhile
            if ref.client_order_id not in self._closed:
                ts = self._now()
                self._emit(OrderCancelRejected(ref.client_order_id, ref.strategy_id, ref.instrument_id, ts, ts,
                                               err.reason, VenueOrderId(vid) if vid else None))  # fmt: skip
            return
        await self._on_order(res, ref)

    async def _modify(self, ref: _Ref, vid: str | None, quantity: Quantity | None, px: Price | None,
                      trigger: Price | None, kind: str, side: str, qty: str, lim: str | None,
                      params: dict) -> None:  # fmt: skip
        try:
            if vid:
                self._superseded.add(vid)
            if self.ex.has.get("editOrder") and vid:
                res = await self._call("edit_order", lambda: self.ex.edit_order(vid, ref.symbol, kind, side, qty, lim,
                                                                               dict(params)))  # fmt: skip
            else:
                await self._call("cancel_order", lambda: self.ex.cancel_order(vid, ref.symbol))
                res = await self._call("create_order", lambda: self.ex.create_order(ref.symbol, kind, side, qty, lim,
                                                                                   dict(params)))  # fmt: skip
        except VenueError as err:
            if vid:
                self._superseded.discard(vid)
            ts = self._now()
            self._emit(OrderModifyRejected(ref.client_order_id, ref.strategy_id, ref.instrument_id, ts, ts,
                                           err.reason, VenueOrderId(vid) if vid else None))  # fmt: skip
            await self._resync_order(ref)
            return
        new_vid = str(res["id"])
        self._by_venue_id[new_vid] = ref.client_order_id
        ts = self._now()
        self._emit(OrderUpdated(ref.client_order_id, ref.strategy_id, ref.instrument_id, ts, ts, quantity, px,
                                trigger, VenueOrderId(new_vid)))  # fmt: skip
        await self._on_order(res, ref)

    # ------------------------------------------------------------------ venue updates (loop thread)
    async def _on_order(self, o: dict[str, Any], ref: _Ref | None = None) -> None:
        """Apply a ccxt order structure (REST answer or stream update)."""
        vid = str(o.get("id"))
        coid_s = o.get("clientOrderId") or first(o.get("info"), "clientOrderId", "c")
        coid = ClientOrderId(coid_s) if coid_s else self._by_venue_id.get(vid)
        if ref is None and coid is not None:
            ref = self._refs.get(coid)
        if ref is None:
            return  # not ours (placed elsewhere): reconciliation reports it
        coid = ref.client_order_id
        status = o.get("status")
        if vid in self._superseded and status in ("canceled", "cancelled"):
            return  # the cancel leg of our own cancel-replace
        self._by_venue_id[vid] = coid
        self.in_doubt.discard(coid)
        ts = self._now()
        te = int(o.get("lastUpdateTimestamp") or o.get("timestamp") or 0) * _MS or ts
        if coid not in self._accepted and status != "rejected":
            self._accepted.add(coid)
            self._emit(OrderAccepted(coid, ref.strategy_id, ref.instrument_id, te, ts, VenueOrderId(vid),
                                     self.account_id))  # fmt: skip
        for t in o.get("trades") or []:
            if t.get("id") is not None or first(t.get("info"), "tradeId") is not None:
                await self._on_trade(t, ref, vid)
        for t in self._orphans.pop(vid, []):
            await self._on_trade(t, ref, vid)
        if status in ("canceled", "cancelled", "expired", "rejected") and coid not in self._closed:
            filled = to_decimal(first(o.get("info"), "executedQty", "z")) or to_decimal(o.get("filled")) or Decimal(0)
            if int(filled.scaleb(9)) > self._filled_raw.get(coid, 0):
                await self._sync_fills(ref, vid)
            self._closed.add(coid)
            ts = self._now()
            if status == "expired":
                self._emit(OrderExpired(coid, ref.strategy_id, ref.instrument_id, te, ts, VenueOrderId(vid)))
            elif status == "rejected":
                self._emit(OrderRejected(coid, ref.strategy_id, ref.instrument_id, te, ts, "rejected by venue",
                                         self.account_id))  # fmt: skip
            else:
                self._emit(OrderCanceled(coid, ref.strategy_id, ref.instrument_id, te, ts, VenueOrderId(vid)))

    async def _on_trade(self, t: dict[str, Any], ref: _Ref | None = None, vid: str | None = None) -> None:
        """Apply one of our executions (stream, order ack, or REST), once per venue trade id."""
        info = t.get("info") or {}
        vid = vid or str(t.get("order") or first(info, "i", "orderId"))
        tid = first(info, "t", "tradeId", "id") if t.get("id") is None else t.get("id")
        if ref is None:
            coid_s = first(info, "c") if info.get("e") == "executionReport" else None
            coid = ClientOrderId(coid_s) if coid_s and ClientOrderId(coid_s) in self._refs else None
            coid = coid or self._by_venue_id.get(vid)
            if coid is None:
                self._orphans.setdefault(vid, []).append(t)  # arrives before the ack told us the venue id
                return
            ref = self._refs[coid]
        key = (str(ref.instrument_id), str(tid))
        if tid is None or key in self._seen_trades:
            return
        self._seen_trades.add(key)
        coid = ref.client_order_id
        if coid not in self._accepted:
            self._accepted.add(coid)
            ts = self._now()
            self._emit(OrderAccepted(coid, ref.strategy_id, ref.instrument_id, ts, ts, VenueOrderId(vid),
                                     self.account_id))  # fmt: skip
        qty = quantity(first(info, "l", "qty") or t.get("amount"), ref.size_precision)
        px = price(first(info, "L", "price") or t.get("price"), ref.price_precision)
        fee = t.get("fee") or {}
        fee_cur = first(info, "N", "commissionAsset") or fee.get("currency")
        fee_amt = first(info, "n", "commission") if first(info, "N", "commissionAsset") else fee.get("cost")
        inst = self.conn.instruments.get(ref.instrument_id)
        commission = money(fee_amt or 0, fee_cur or inst.quote_currency.code)
        maker = info.get("m") if info.get("e") == "executionReport" else info.get("isMaker")
        if maker is None:
            maker = t.get("takerOrMaker") == "maker"
        ts_ms = int(t.get("timestamp") or first(info, "T", "time") or 0)
        self._last_trade_ms = max(self._last_trade_ms, ts_ms)
        ts = self._now()
        self._filled_raw[coid] = self._filled_raw.get(coid, 0) + qty.raw
        self._emit(OrderFilled(coid, ref.strategy_id, ref.instrument_id, ts_ms * _MS or ts, ts, VenueOrderId(vid),
                               TradeId(str(tid)), ref.side, ref.order_type, qty, px, commission,
                               LiquiditySide.MAKER if maker else LiquiditySide.TAKER,
                               account_id=self.account_id))  # fmt: skip

    async def _sync_fills(self, ref: _Ref, vid: str) -> None:
        """Fetch this order's executions by REST and apply the ones not yet seen."""
        trades = await self._call("fetch_my_trades", lambda: self.ex.fetch_my_trades(ref.symbol, None, None,
                                                                                    {"orderId": vid}))  # fmt: skip
        for t in trades:
            if str(t.get("order")) == vid:
                await self._on_trade(t, ref, vid)

    async def _resync_order(self, ref: _Ref) -> None:
        try:
            o = await self._call("fetch_order", lambda: self.ex.fetch_order(
                None, ref.symbol, {"origClientOrderId": str(ref.client_order_id)}))  # fmt: skip
        except VenueError:
            return
        await self._on_order(o, ref)

    async def _watch(self, what: str) -> None:
        """Consume one private stream forever: reconnect with backoff and jitter, resync after every break."""
        attempt = 0
        fn = self.ex.watch_orders if what == "orders" else self.ex.watch_my_trades
        handler = self._on_order if what == "orders" else self._on_trade
        broken = False
        while True:
            task = asyncio.ensure_future(fn())
            if broken:
                await asyncio.wait([task], timeout=0.3)  # let the resubscription go out first
                await self.resync()
                self.reconnects += 1
                broken = False
            try:
                items = await task
            except asyncio.CancelledError:
                task.cancel()
                raise
            except Exception as exc:
                err = classify(exc)
                delay = self.retry.delay(min(attempt, 8)) + (0 if err.temporary else 5.0)
                _log.warning("%s %s stream broke (%s); reconnecting in %.2f s", self.venue, what, err.reason[:200],
                             delay)  # fmt: skip
                attempt += 1
                broken = True
                await asyncio.sleep(delay)
                continue
            attempt = 0
            for item in items:
                await handler(item)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval_s or 30)
            try:
                await self.resync()
            except VenueError as err:
                _log.warning("%s resync failed: %s", self.venue, err.reason[:200])

    async def resync(self) -> None:
        """REST resync: recent fills, the state of every order not known closed, then balances (AccountState)."""
        self.resyncs += 1
        since = max(0, self._last_trade_ms - 60_000) or None
        for sym in self._symbols():
            trades = await self._call("fetch_my_trades", lambda s=sym: self.ex.fetch_my_trades(s, since))
            for t in trades:
                await self._on_trade(t)
        for coid, ref in list(self._refs.items()):
            if coid not in self._closed:
                await self._resync_order(ref)
        await self.publish_account_state()

    def reconcile_now(self, timeout: float = 30.0) -> None:
        """Run :meth:`resync` from the engine thread and wait for it."""
        self.conn.run(self.resync(), timeout)


__all__ = ["CcxtExecutionClient"]
