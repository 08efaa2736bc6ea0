"""`MatchingEngine`: simulated matching of paper orders for one instrument.

Liquidity comes from the data fed in, in this order of preference:

* **Book** (L2 deltas, or L1 quotes as a one-level book, see `BookLevel`): takers walk the opposite side
  level by level up to their limit, consuming displayed size for the rest of that book update (see
  `PaperBook`); a resting limit order that the book later crosses fills at its own price as maker, up to
  the crossing size. Stops and if-touched orders trigger on the best bid (sells) / best ask (buys).
* **Trades**: a resting buy limit fills when a trade prints at or below its price with a seller (or
  unknown) aggressor, sell limits symmetrically; the fill is limited by the trade size and, at the
  order's own price, by the queue ahead (`QueuePositionModel`). Trades also trigger stops. With no book,
  a market order fills at the next trade's price.
* **Bars**: the price path inside a bar is :func:`tradewire.model.data.bar_path_raw`: open -> high -> low
  -> close when close >= open, else open -> low -> high -> close (only an assumption: the true intrabar
  order is unknown; the OMS order emulator walks the same path). Orders are matched along that path: at the open a
  crossing order fills at the open (gap), later a limit fills at its limit and a stop at its trigger.
  Bars carry no depth, so bar fills are for the whole remaining quantity. Market orders follow
  `BarFillMode`: NEXT_OPEN fills at the next bar's open (``ts_event`` = that bar's open time, its
  ``ts_event`` minus the interval), CLOSE fills at once at the latest bar's close.

Time in force: IOC and FOK end after their first matching opportunity (FOK fills completely from visible
liquidity or not at all); DAY expires at the session close given by `TradingSessions`; GTD at its
``expire_time_ns``. Post-only limits that would cross are rejected at acknowledgement (or canceled at
their first pass on bar data). Reduce-only orders are rejected when they would only increase the venue
position, trimmed to the position size at fill time, and canceled once the position is flat.

Every event's ``ts_event`` (and ``ts_init``) is the simulated time at which it happened.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

from tradewire.model.data import Bar, OrderBookDelta, QuoteTick, TradeTick, bar_path_raw
from tradewire.model.enums import AggressorSide, LiquiditySide, OrderStatus, OrderType, TimeInForce
from tradewire.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
    OrderTriggered,
    OrderUpdated,
)
from tradewire.model.identifiers import AccountId, ClientOrderId, TradeId
from tradewire.model.instruments import Instrument
from tradewire.model.objects import Price, Quantity
from tradewire.venues.paper.book import PaperBook
from tradewire.venues.paper.config import BarFillMode, BookLevel, ClosedSessionPolicy, PaperVenueConfig, RemainderPolicy
from tradewire.venues.paper.models import FeeModel, LatencyModel, NoSlippage, QueuePositionModel, SlippageModel
from tradewire.venues.paper.positions import VenuePosition
from tradewire.venues.paper.sessions import SessionState, TradingSessions
from tradewire.venues.paper.state import CONDITIONAL, LIMIT_TYPES, VenueOrder, limit_touch, trigger_touch

# enum members as module constants: Enum class attribute access is a Python-level lookup in 3.11
_ACCEPTED = OrderStatus.ACCEPTED
_BUYER = AggressorSide.BUYER
_CANCELED = OrderStatus.CANCELED
_DAY = TimeInForce.DAY
_EXPIRED = OrderStatus.EXPIRED
_FILLED = OrderStatus.FILLED
_FOK = TimeInForce.FOK
_GTD = TimeInForce.GTD
_IOC = TimeInForce.IOC
_L1 = BookLevel.L1
_L2 = BookLevel.L2
_LIMIT = OrderType.LIMIT
_MAKER = LiquiditySide.MAKER
_PARTIALLY_FILLED = OrderStatus.PARTIALLY_FILLED
_REJECTED = OrderStatus.REJECTED
_SAME_PRICE = RemainderPolicy.SAME_PRICE
_SELLER = AggressorSide.SELLER
_SLIPPAGE = RemainderPolicy.SLIPPAGE
_SUBMITTED = OrderStatus.SUBMITTED
_TAKER = LiquiditySide.TAKER
_TRIGGERED = OrderStatus.TRIGGERED

# ids built here from already valid parts (non-empty, no surrounding whitespace) skip the
# Identifier re-validation: str.__new__ gives the same typed value
_new_id = str.__new__

_ACK, _ACTIVATE, _MODIFY, _CANCEL = "ack", "activate", "modify", "cancel"
_IMMEDIATE = (TimeInForce.IOC, TimeInForce.FOK)
_MARKET = OrderType.MARKET


class MatchingEngine:
    """Matches paper orders of one instrument against the market data it is given.

    Parameters
    ----------
    instrument : Instrument
    config : PaperVenueConfig
    fee_model, slippage_model, queue_model : models from :mod:`tradewire.venues.paper.models`
    latency : LatencyModel
    sessions : TradingSessions
    account_id : AccountId
    emit : Callable[[object], None]
        Receives every order event, synchronously.
    on_fill : Callable[[VenueOrder, OrderFilled], None]
        Told of every fill after ``emit`` (the client records fill reports).
    """

    def __init__(
        self, instrument: Instrument, config: PaperVenueConfig, fee_model: FeeModel, slippage_model: SlippageModel,
        latency: LatencyModel, queue_model: QueuePositionModel, sessions: TradingSessions, account_id: AccountId,
        emit: Callable[[object], None], on_fill: Callable[[VenueOrder, OrderFilled], None],
    ) -> None:  # fmt: skip
        self.instrument = instrument
        self.config = config
        self.fee_model = fee_model
        self.slippage = slippage_model
        self.latency = latency
        self.queue_model = queue_model
        self.sessions = sessions
        self.account_id = account_id
        self._emit = emit
        self._on_fill = on_fill
        self.book = PaperBook()
        self.l2 = config.book_level is _L2
        self.working: dict[ClientOrderId, VenueOrder] = {}
        self.orders: dict[ClientOrderId, VenueOrder] = {}
        self.position = VenuePosition(instrument)
        self.ts = 0
        self.last_bar: Bar | None = None
        self.last_trade_raw: int | None = None
        self.trade_seq = 0
        self._pending: list[tuple[int, int, str, ClientOrderId, Any]] = []
        self._seq = 0
        self._next_expiry: int | None = None
        self._intervals: dict[object, int] = {}
        self._tick = instrument.tick_size.raw
        self._pp = instrument.price_precision
        self._symbol = str(instrument.id.symbol)
        self._next_mode = config.bar_fill_mode is BarFillMode.NEXT_OPEN
        self._no_slippage = type(slippage_model) is NoSlippage  # market fills keep the matched price

    # == commands ==================================================================================
    def submit(self, vo: VenueOrder, ts: int) -> None:
        """Take a new order (``vo.reject_reason`` set = answer OrderRejected) at simulated time ``ts``."""
        self.orders[vo.client_order_id] = vo
        if not self.latency.submit_ns and not self._pending and (self._next_expiry is None or self._next_expiry > ts):
            # no latency and nothing queued before it: acknowledge now, as the queue would (same sequence number)
            self._seq += 1
            if ts > self.ts:
                self.ts = ts
            self._ack(vo)
        else:
            self._schedule(ts + self.latency.submit_ns, _ACK, vo.client_order_id, None)
        self._advance(ts)

    def modify(self, client_order_id: ClientOrderId, qty: Quantity | None, price: Price | None,
               trigger: Price | None, ts: int) -> None:  # fmt: skip
        """Request a modification; it takes effect after ``LatencyModel.modify_ns``."""
        self._schedule(ts + self.latency.modify_ns, _MODIFY, client_order_id, (qty, price, trigger))
        self._advance(ts)

    def cancel(self, client_order_id: ClientOrderId, ts: int) -> None:
        """Request a cancel; it takes effect after ``LatencyModel.cancel_ns``."""
        self._schedule(ts + self.latency.cancel_ns, _CANCEL, client_order_id, None)
        self._advance(ts)

    # == market data ===============================================================================
    def process_time(self, ts: int) -> None:
        """Move simulated time to ``ts``: run due latency actions and DAY/GTD expiries."""
        self._advance(ts)

    def process_quote_tick(self, tick: QuoteTick) -> None:
        """Top of book: in L1 mode replaces the one-level book, then matches working orders."""
        self._advance(tick.ts_event)
        if not self.l2:
            self.book.set_top(tick.bid_price.raw, tick.bid_size.raw, tick.ask_price.raw, tick.ask_size.raw)
            if self.working:
                self._match_book_all()

    def process_order_book_deltas(self, deltas: list[OrderBookDelta]) -> None:
        """Apply L2 deltas; working orders match once a delta with ``F_LAST`` ends the batch.

        Ignored for liquidity when the config forces L1.
        """
        if not deltas:
            return
        if self.config.book_level is _L1:
            self._advance(deltas[-1].ts_event)
            return
        self._advance(deltas[0].ts_event)
        if not self.l2:
            self.l2 = True
            self.book.clear()
        apply = self.book.apply_delta
        for d in deltas:
            apply(d)
        self._advance(deltas[-1].ts_event)
        if self.working and deltas[-1].flags & OrderBookDelta.F_LAST:
            self._match_book_all()

    def process_trade_tick(self, tick: TradeTick) -> None:
        """A recorded trade: triggers stops, fills resting limits it crosses (see module docstring)."""
        self._advance(tick.ts_event)
        p = tick.price.raw
        self.last_trade_raw = p
        if not self.working or not self._session_ok(self.ts):
            return
        remaining = tick.size.raw
        agg = tick.aggressor_side
        has_book = self.book.has_levels()
        for vo in list(self.working.values()):
            if vo.client_order_id not in self.working:
                continue
            if vo.order_type in CONDITIONAL and not vo.triggered:
                if trigger_touch(vo.order_type, vo.is_buy, vo.trigger_raw, p, p) is None:  # type: ignore[arg-type]
                    continue
                self._trigger(vo)
                if has_book:
                    self._match_book(vo)
                else:
                    self._match_segment(vo, p, p, self.ts)
                    self._end_first_pass(vo)
                continue
            if vo.is_market_like:
                if not has_book:
                    self._fill(vo, self._capped_leaves(vo), self._slip(vo, p), _TAKER)
                    self._end_first_pass(vo)
                continue
            if not vo.rested:
                if not has_book:
                    self._match_segment(vo, p, p, self.ts)
                    self._end_first_pass(vo)
                continue
            if not self.config.trade_fills or remaining <= 0:
                continue
            lim = vo.price_raw
            if vo.is_buy:
                if agg is _BUYER or p > lim:  # type: ignore[operator]
                    continue
                through = p < lim  # type: ignore[operator]
            else:
                if agg is _SELLER or p < lim:  # type: ignore[operator]
                    continue
                through = p > lim  # type: ignore[operator]
            if through:
                vo.queue_ahead = 0
                fillable = remaining
            else:
                ahead = vo.queue_ahead or 0
                fillable = tick.size.raw - ahead
                vo.queue_ahead = max(0, ahead - tick.size.raw)
                if fillable > remaining:
                    fillable = remaining
            if fillable > 0:
                q = min(fillable, self._capped_leaves(vo))
                if q > 0:
                    remaining -= q
                    self._fill(vo, q, lim, _MAKER)  # type: ignore[arg-type]

    def process_bar(self, bar: Bar) -> None:
        """A bar: match working orders along the OHLC path (see module docstring). O(1) with no orders."""
        if not self.working and not self._pending:
            self.last_bar = bar
            if bar.ts_event > self.ts:
                self.ts = bar.ts_event
            return
        interval = self._intervals.get(bar.bar_type)
        if interval is None:
            spec = bar.bar_type.spec
            interval = spec.interval_ns if spec.is_time else 0
            self._intervals[bar.bar_type] = interval
        t_open = bar.ts_event - interval
        self._advance(t_open)
        if self.working and self._session_ok(t_open):
            path = bar_path_raw(bar)
            o = path[0]
            orders = list(self.working.values())
            for vo in orders:
                if vo.client_order_id in self.working:
                    self._match_segment(vo, o, o, t_open)
                    self._end_first_pass(vo)
            for k in range(3):
                a, b = path[k], path[k + 1]
                for vo in orders:
                    if vo.client_order_id in self.working:
                        self._match_segment(vo, a, b, bar.ts_event)
        self.last_bar = bar
        self._advance(bar.ts_event)

    # == time and latency ==========================================================================
    def _schedule(self, due: int, kind: str, coid: ClientOrderId, payload: Any) -> None:
        self._seq += 1
        heapq.heappush(self._pending, (due, self._seq, kind, coid, payload))

    def _advance(self, ts: int) -> None:
        pending = self._pending
        if not pending and self._next_expiry is None:  # nothing queued or expiring: only the clock moves
            if ts > self.ts:
                self.ts = ts
            return
        while True:
            due = pending[0][0] if pending else None
            exp = self._next_expiry
            if due is not None and due <= ts and (exp is None or due <= exp):
                _, _, kind, coid, payload = heapq.heappop(pending)
                if due > self.ts:
                    self.ts = due
                self._run_action(kind, coid, payload)
            elif exp is not None and exp <= ts:
                if exp > self.ts:
                    self.ts = exp
                self._expire(exp)
            else:
                break
        if ts > self.ts:
            self.ts = ts

    def _run_action(self, kind: str, coid: ClientOrderId, payload: Any) -> None:
        vo = self.orders.get(coid)
        if kind == _ACK:
            self._ack(vo)  # type: ignore[arg-type]
        elif kind == _ACTIVATE:
            if vo is not None and vo.is_open:
                self._activate(vo)
        elif kind == _MODIFY:
            self._apply_modify(coid, vo, *payload)
        elif kind == _CANCEL:
            self._apply_cancel(coid, vo)

    def _expire(self, upto: int) -> None:
        for vo in list(self.working.values()):
            if vo.expire_ns is not None and vo.expire_ns <= upto:
                self._close(vo, _EXPIRED)
                self._emit(OrderExpired(vo.client_order_id, vo.strategy_id, vo.instrument_id, self.ts, self.ts,
                                        vo.venue_order_id))  # fmt: skip
        self._recompute_expiry()

    def _recompute_expiry(self) -> None:
        exps = [vo.expire_ns for vo in self.working.values() if vo.expire_ns is not None]
        self._next_expiry = min(exps) if exps else None

    # == order lifecycle ===========================================================================
    def _ack(self, vo: VenueOrder) -> None:
        if vo.status is not _SUBMITTED:
            return  # canceled before the acknowledgement arrived
        ts = self.ts
        reason = vo.reject_reason
        if not reason and (
            vo.post_only or vo.reduce_only or vo.time_in_force is _GTD or not self.sessions.always_open
        ):  # otherwise _acceptance_check has nothing to refuse
            reason = self._acceptance_check(vo)
        if reason:
            vo.status = _REJECTED
            vo.ts_last = ts
            self._emit(OrderRejected(vo.client_order_id, vo.strategy_id, vo.instrument_id, ts, ts, reason,
                                     self.account_id))  # fmt: skip
            return
        vo.status = _ACCEPTED
        vo.ts_accepted = vo.ts_last = ts
        if vo.time_in_force is _DAY:
            vo.expire_ns = self.sessions.session_close(ts)
        elif vo.time_in_force is not _GTD:
            vo.expire_ns = None
        self._emit(OrderAccepted(vo.client_order_id, vo.strategy_id, vo.instrument_id, ts, ts, vo.venue_order_id,
                                 self.account_id))  # fmt: skip
        if self.latency.match_ns:
            self._schedule(ts + self.latency.match_ns, _ACTIVATE, vo.client_order_id, None)
        else:
            self._activate(vo)

    def _acceptance_check(self, vo: VenueOrder) -> str | None:
        ts = self.ts
        if vo.time_in_force is _GTD and (vo.expire_ns is None or vo.expire_ns <= ts):
            return f"GTD expire time {vo.expire_ns} is not after the venue time {ts}"
        reject_closed = self.config.closed_session_policy is ClosedSessionPolicy.REJECT
        if reject_closed and not self.sessions.always_open and not self._session_ok(ts):
            return f"market closed at {ts} ns (session {self.sessions.state(ts)})"
        if vo.post_only and vo.order_type is _LIMIT and self._crosses_book(vo):
            return f"post-only limit {self._px(vo.price_raw)} would take liquidity"  # type: ignore[arg-type]
        if vo.reduce_only and not self._reduces(vo):
            return f"reduce-only order would increase the position ({self.position.describe()})"
        return None

    def _activate(self, vo: VenueOrder) -> None:
        vo.matchable = True
        self.working[vo.client_order_id] = vo
        if vo.expire_ns is not None:
            self._next_expiry = vo.expire_ns if self._next_expiry is None else min(self._next_expiry, vo.expire_ns)
        self._first_pass(vo)

    def _first_pass(self, vo: VenueOrder) -> None:
        """The order's first matching opportunity right now (book, or close of the last bar)."""
        if not self.sessions.always_open and not self._session_ok(self.ts):
            return
        book = self.book
        if book.has_levels():
            self._match_book(vo)
        elif self.last_bar is not None and not self._next_mode:
            c = self.last_bar.close.raw
            self._match_segment(vo, c, c, self.ts)
            self._end_first_pass(vo)
        elif self.last_bar is None and self.last_trade_raw is None and vo.time_in_force in _IMMEDIATE:
            self._cancel_rest(vo, "no liquidity for an immediate order")

    def _end_first_pass(self, vo: VenueOrder) -> None:
        if vo.first_pass or vo.client_order_id not in self.working:
            return
        if vo.order_type in CONDITIONAL and not vo.triggered:
            return  # the first pass of a conditional order starts when it triggers
        vo.first_pass = True
        if vo.time_in_force in (_IOC, _FOK):
            self._cancel_rest(vo, f"{vo.time_in_force.name} remainder canceled")
        elif not vo.is_market_like:
            self._rest(vo)

    def _rest(self, vo: VenueOrder) -> None:
        vo.rested = True
        if vo.queue_ahead is None and vo.price_raw is not None:
            vo.queue_ahead = self.queue_model.initial_ahead(self.book.displayed(vo.is_buy, vo.price_raw))

    def _trigger(self, vo: VenueOrder) -> None:
        vo.triggered = True
        vo.rested = False
        vo.first_pass = False
        vo.queue_ahead = None
        vo.status = _TRIGGERED if not vo.filled_raw else vo.status
        vo.ts_last = self.ts
        self._emit(OrderTriggered(vo.client_order_id, vo.strategy_id, vo.instrument_id, self.ts, self.ts,
                                  vo.venue_order_id))  # fmt: skip

    def _close(self, vo: VenueOrder, status: OrderStatus) -> None:
        vo.status = status
        vo.ts_last = self.ts
        self.working.pop(vo.client_order_id, None)

    def _cancel_rest(self, vo: VenueOrder, reason: str) -> None:
        self._close(vo, _CANCELED)
        self._emit(OrderCanceled(vo.client_order_id, vo.strategy_id, vo.instrument_id, self.ts, self.ts,
                                 vo.venue_order_id, reason))  # fmt: skip

    def _apply_cancel(self, coid: ClientOrderId, vo: VenueOrder | None) -> None:
        ts = self.ts
        if vo is None or not vo.is_open:
            reason = "unknown order" if vo is None else f"order is {vo.status.value}"
            sid = vo.strategy_id if vo is not None else None
            self._emit(OrderCancelRejected(coid, sid, self.instrument.id, ts, ts, reason,  # type: ignore[arg-type]
                                           None if vo is None else vo.venue_order_id))  # fmt: skip
            return
        self._cancel_rest(vo, "")
        if vo.expire_ns is not None:
            self._recompute_expiry()

    def _apply_modify(self, coid: ClientOrderId, vo: VenueOrder | None, qty: Quantity | None, price: Price | None,
                      trigger: Price | None) -> None:  # fmt: skip
        ts = self.ts
        reason = None
        if vo is None or not vo.is_open or vo.status is _SUBMITTED:
            reason = "unknown order" if vo is None else f"order is {vo.status.value}"
        elif qty is not None and (qty.raw <= 0 or qty.raw < vo.filled_raw):
            reason = f"quantity {qty} is below the filled quantity or not positive"
        elif qty is not None and not self.instrument.is_on_lot(qty):
            reason = f"quantity {qty} is not a multiple of the lot size {self.instrument.lot_size}"
        elif price is not None and (vo.price_raw is None or not self.instrument.is_on_tick(price)):
            reason = f"price {price} is off the tick {self.instrument.tick_size} or the order has no limit price"
        elif trigger is not None and (
            vo.trigger_raw is None or vo.triggered or not self.instrument.is_on_tick(trigger)
        ):
            reason = f"trigger price {trigger} cannot be set (no trigger, already triggered, or off tick)"
        if reason is None and price is not None and vo.post_only:  # type: ignore[union-attr]
            old = vo.price_raw  # type: ignore[union-attr]
            vo.price_raw = price.raw  # type: ignore[union-attr]
            crosses = self._crosses_book(vo)  # type: ignore[arg-type]
            vo.price_raw = old  # type: ignore[union-attr]
            if crosses:
                reason = f"post-only limit {price} would take liquidity"
        if reason is not None:
            self._emit(OrderModifyRejected(coid, None if vo is None else vo.strategy_id, self.instrument.id, ts, ts,  # type: ignore[arg-type]
                                           reason, None if vo is None else vo.venue_order_id))  # fmt: skip
            return
        assert vo is not None
        requeue = (price is not None and price.raw != vo.price_raw) or (qty is not None and qty.raw > vo.quantity_raw)
        if qty is not None:
            vo.quantity_raw = qty.raw
        if price is not None:
            vo.price_raw = price.raw
        if trigger is not None:
            vo.trigger_raw = trigger.raw
        vo.ts_last = ts
        self._emit(OrderUpdated(coid, vo.strategy_id, vo.instrument_id, ts, ts, qty, price, trigger, vo.venue_order_id))
        if vo.leaves_raw == 0:
            self._close(vo, _FILLED)
            return
        if requeue and vo.client_order_id in self.working:
            del self.working[vo.client_order_id]  # loses time priority
            self.working[vo.client_order_id] = vo
            vo.rested = False
            vo.first_pass = False
            vo.queue_ahead = None
        if vo.matchable and (requeue or trigger is not None):
            self._first_pass(vo)

    # == matching ==================================================================================
    def _session_ok(self, ts: int) -> bool:
        if self.sessions.always_open:
            return True
        state = self.sessions.state(ts)
        return state is SessionState.REGULAR or (state is SessionState.EXTENDED and self.config.allow_extended_hours)

    def _crosses_book(self, vo: VenueOrder) -> bool:
        px = vo.price_raw
        if vo.is_buy:
            ask = self.book.best_ask_raw()
            return ask is not None and ask <= px  # type: ignore[operator]
        bid = self.book.best_bid_raw()
        return bid is not None and bid >= px  # type: ignore[operator]

    def _reduces(self, vo: VenueOrder) -> bool:
        pos = self.position.signed_qty_raw
        return pos != 0 and (pos > 0) != vo.is_buy

    def _capped_leaves(self, vo: VenueOrder) -> int:
        leaves = vo.leaves_raw
        if vo.reduce_only:
            pos = self.position.signed_qty_raw
            cap = abs(pos) if pos != 0 and (pos > 0) != vo.is_buy else 0
            if cap < leaves:
                return cap
        return leaves

    def _slip(self, vo: VenueOrder, px: int) -> int:
        return self.slippage.adjust(vo.is_buy, px, self._tick, self.book.best_bid_raw(), self.book.best_ask_raw())

    def _match_book_all(self) -> None:
        if not self._session_ok(self.ts):
            return
        book = self.book
        on_update = self.queue_model.on_level_update
        l1 = book.is_l1
        working = self.working
        for vo in list(working.values()):
            if vo.client_order_id not in working:
                continue
            if l1 and vo.first_pass and vo.order_type is _MARKET and not vo.reduce_only:
                # a market order already past its first pass waits for liquidity on its side: with none
                # left in this update, _match_book would find no level and change nothing
                if book.l1_available(vo.is_buy) <= 0:
                    continue
            elif vo.rested and vo.queue_ahead:
                vo.queue_ahead = on_update(vo.queue_ahead, book.displayed(vo.is_buy, vo.price_raw))  # type: ignore[arg-type]
            self._match_book(vo)

    def _match_book(self, vo: VenueOrder) -> None:
        """Match one order against the current book (taker on its first pass, maker once resting)."""
        book = self.book
        if vo.order_type is _MARKET:
            self._take(vo, None)
            self._end_first_pass(vo)
            return
        if vo.order_type in CONDITIONAL and not vo.triggered:
            ref = book.best_ask_raw() if vo.is_buy else book.best_bid_raw()
            if ref is None or trigger_touch(vo.order_type, vo.is_buy, vo.trigger_raw, ref, ref) is None:  # type: ignore[arg-type]
                return
            self._trigger(vo)
        if vo.is_market_like:
            self._take(vo, None)
        elif vo.rested:
            if self._crosses_book(vo):
                self._maker_cross(vo)
        else:
            if vo.post_only and self._crosses_book(vo):
                self._cancel_rest(vo, f"post-only limit {self._px(vo.price_raw)} would take liquidity")  # type: ignore[arg-type]
                return
            self._take(vo, vo.price_raw)
        self._end_first_pass(vo)

    def _take(self, vo: VenueOrder, limit: int | None) -> None:
        """Walk the opposite side as a taker up to ``limit`` (None = market), applying the TIF rules."""
        want = self._capped_leaves(vo) if vo.reduce_only else vo.quantity_raw - vo.filled_raw
        if want <= 0:
            self._cancel_rest(vo, "reduce-only order would increase the position")
            return
        book = self.book
        take_asks = vo.is_buy
        levels, total = book.take_levels(take_asks, limit, want)
        tif = vo.time_in_force
        if tif is _FOK and total < want:
            self._cancel_rest(vo, f"FOK: {want} (raw) wanted, {total} (raw) available")
            return
        if not levels:
            return  # nothing to take now: market orders wait, limits rest
        bid, ask = book.best_bid_raw(), book.best_ask_raw()
        fills: list[tuple[int, int]] = []
        rem = want
        for px, avail in levels:
            q = avail if avail < rem else rem
            book.consume(take_asks, px, q)
            fills.append((px, q))
            rem -= q
            if not rem:
                break
        market = limit is None
        if rem and market and tif not in (_IOC, _FOK):
            policy = self.config.remainder_policy
            last = fills[-1][0]
            if policy is _SAME_PRICE:
                fills.append((last, rem))
                rem = 0
            elif policy is _SLIPPAGE:
                fills.append((last + self._tick if take_asks else last - self._tick, rem))
                rem = 0
        slip = market and not self._no_slippage
        for px, q in fills:
            if slip:
                px = self.slippage.adjust(take_asks, px, self._tick, bid, ask)
            self._fill(vo, q, px, _TAKER)
            if vo.client_order_id not in self.working:
                return
        if rem and market:
            self._cancel_rest(vo, f"market remainder canceled: no visible liquidity ({self.config.remainder_policy})")

    def _maker_cross(self, vo: VenueOrder) -> None:
        """The book moved through a resting limit: fill at the limit, up to the crossing size."""
        lim = vo.price_raw
        want = self._capped_leaves(vo)
        if want <= 0:
            self._cancel_rest(vo, "reduce-only order would increase the position")
            return
        got = 0
        for px, avail in list(self.book.liquidity(vo.is_buy, lim)):
            q = min(avail, want - got)
            self.book.consume(vo.is_buy, px, q)
            got += q
            if got == want:
                break
        if got:
            self._fill(vo, got, lim, _MAKER)  # type: ignore[arg-type]

    def _match_segment(self, vo: VenueOrder, a: int, b: int, ts: int) -> None:
        """Match one order along a price move ``a -> b`` (bars, or a trade with ``a == b``)."""
        if vo.order_type in CONDITIONAL and not vo.triggered:
            x = trigger_touch(vo.order_type, vo.is_buy, vo.trigger_raw, a, b)  # type: ignore[arg-type]
            if x is None:
                return
            saved, self.ts = self.ts, max(self.ts, ts)
            self._trigger(vo)
            self.ts = saved
            a = x
        if vo.is_market_like:
            if vo.first_pass or vo.triggered or a == b:
                q = self._capped_leaves(vo)
                self._fill_at(vo, q, self._slip(vo, a), _TAKER, ts)
            return
        x = limit_touch(vo.is_buy, vo.price_raw, a, b)  # type: ignore[arg-type]
        if x is None:
            if vo.triggered and not vo.rested:
                self._rest(vo)
            return
        if vo.post_only and not vo.rested:
            self._cancel_rest(vo, f"post-only limit {self._px(vo.price_raw)} would take liquidity")  # type: ignore[arg-type]
            return
        liq = _MAKER if vo.rested else _TAKER
        self._fill_at(vo, self._capped_leaves(vo), x, liq, ts)

    def _fill_at(self, vo: VenueOrder, qty: int, px: int, liq: LiquiditySide, ts: int) -> None:
        if qty <= 0:
            self._cancel_rest(vo, "reduce-only order would increase the position")
            return
        saved = self.ts
        self.ts = max(ts, vo.ts_accepted)
        self._fill(vo, qty, px, liq)
        self.ts = max(saved, self.ts)

    def _fill(self, vo: VenueOrder, qty: int, px: int, liq: LiquiditySide) -> None:
        """Emit one fill of ``qty`` raw at ``px`` raw and update the order and the venue position."""
        ts = self.ts
        inst = self.instrument
        self.trade_seq += 1
        vo.filled_raw += qty
        vo.notional += px * qty
        vo.ts_last = ts
        done = vo.filled_raw == vo.quantity_raw
        vo.status = _FILLED if done else _PARTIALLY_FILLED
        if done:
            self.working.pop(vo.client_order_id, None)
        self.position.apply(vo.is_buy, qty, px, ts)
        fill = OrderFilled(
            vo.client_order_id, vo.strategy_id, vo.instrument_id, ts, ts, vo.venue_order_id,
            _new_id(TradeId, f"{self._symbol}-{self.trade_seq}"), vo.side, vo.order_type,
            Quantity.from_raw(qty, vo.size_precision), Price.from_raw(px, self._pp),
            self.fee_model.commission(inst, qty, px, liq), liq, None, self.account_id,
        )  # fmt: skip
        self._emit(fill)
        self._on_fill(vo, fill)
        if not done and vo.reduce_only and not self._reduces(vo) and vo.client_order_id in self.working:
            self._cancel_rest(vo, "reduce-only remainder canceled: position closed")

    def _px(self, raw: int) -> str:
        return str(Price.from_raw(raw, self._pp))

    # == persistence ===============================================================================
    def snapshot(self) -> dict[str, Any]:
        """JSON-friendly state: orders, position, counters and pending latency actions (raws as strings)."""
        pending = []
        for due, seq, kind, coid, payload in sorted(self._pending):
            p = None
            if kind == _MODIFY:
                p = [None if v is None else [str(v.raw), v.precision] for v in payload]
            pending.append([str(due), str(seq), kind, str(coid), p])
        return {
            "instrument_id": str(self.instrument.id), "ts": str(self.ts), "trade_seq": str(self.trade_seq),
            "seq": str(self._seq), "orders": [vo.to_dict() for vo in self.orders.values()],
            "working": [str(c) for c in self.working], "position": self.position.to_dict(), "pending": pending,
        }  # fmt: skip

    def restore(self, state: dict[str, Any]) -> None:
        """Load :meth:`snapshot` output (market data state is not part of it and starts empty)."""
        self.ts = int(state["ts"])
        self.trade_seq = int(state["trade_seq"])
        self._seq = int(state["seq"])
        self.orders = {}
        for d in state["orders"]:
            vo = VenueOrder.from_dict(d)
            self.orders[vo.client_order_id] = vo
        self.working = {ClientOrderId(c): self.orders[ClientOrderId(c)] for c in state["working"]}
        self.position = VenuePosition.from_dict(self.instrument, state["position"])
        self._pending = []
        for due, seq, kind, coid, p in state["pending"]:
            payload = None
            if kind == _MODIFY:
                qty, price, trig = p
                payload = (
                    None if qty is None else Quantity.from_raw(int(qty[0]), qty[1]),
                    None if price is None else Price.from_raw(int(price[0]), price[1]),
                    None if trig is None else Price.from_raw(int(trig[0]), trig[1]),
                )
            self._pending.append((int(due), int(seq), kind, ClientOrderId(coid), payload))
        heapq.heapify(self._pending)
        self._recompute_expiry()

    def __repr__(self) -> str:
        return f"MatchingEngine({self.instrument.id}, working={len(self.working)}, ts={self.ts})"


__all__ = ["LIMIT_TYPES", "MatchingEngine"]
