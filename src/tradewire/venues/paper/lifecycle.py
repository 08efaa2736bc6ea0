"""Order lifecycle of the paper `MatchingEngine`: acceptance, activation, triggers, cancel and modify.

An acknowledged order is checked (GTD time, closed session, post-only crossing, reduce-only) and
accepted or rejected; an accepted order becomes matchable after ``LatencyModel.match_ns`` and gets its
first matching opportunity; IOC/FOK remainders are canceled after it, other limits rest.
"""

from __future__ import annotations

from typing import Final

from mypy_extensions import trait

from tradewire.model.enums import OrderStatus, OrderType, TimeInForce
from tradewire.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderModifyRejected,
    OrderRejected,
    OrderTriggered,
    OrderUpdated,
)
from tradewire.model.objects import Price, Quantity
from tradewire.venues.paper.config import ClosedSessionPolicy
from tradewire.venues.paper.engine_state import EngineState
from tradewire.venues.paper.sessions import SessionState
from tradewire.venues.paper.state import CONDITIONAL, VenueOrder
from tradewire.venues.paper.timing import _ACTIVATE

# enum members as module constants: Enum class attribute access is a Python-level lookup in 3.11
_ACCEPTED: Final = OrderStatus.ACCEPTED
_CANCELED: Final = OrderStatus.CANCELED
_DAY: Final = TimeInForce.DAY
_FILLED: Final = OrderStatus.FILLED
_FOK: Final = TimeInForce.FOK
_GTD: Final = TimeInForce.GTD
_IOC: Final = TimeInForce.IOC
_LIMIT: Final = OrderType.LIMIT
_REJECTED: Final = OrderStatus.REJECTED
_SUBMITTED: Final = OrderStatus.SUBMITTED
_TRIGGERED: Final = OrderStatus.TRIGGERED
_IMMEDIATE: Final = (TimeInForce.IOC, TimeInForce.FOK)


@trait
class OrderLifecycle(EngineState):
    """Mixin of `MatchingEngine`: order state changes and the events they emit (uses the engine's state)."""

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

    def _apply_cancel(self, vo: VenueOrder) -> None:
        # the order is known: MatchingEngine.cancel refuses others, the client answers them itself
        if not vo.is_open:
            self._emit(OrderCancelRejected(vo.client_order_id, vo.strategy_id, self.instrument.id, self.ts, self.ts,
                                           f"order is {vo.status.value}", vo.venue_order_id))  # fmt: skip
            return
        self._cancel_rest(vo, "")
        if vo.expire_ns is not None:
            self._recompute_expiry()

    def _apply_modify(self, vo: VenueOrder, qty: Quantity | None, price: Price | None, trigger: Price | None) -> None:
        # the order is known: MatchingEngine.modify refuses others, the client answers them itself
        ts = self.ts
        reason = None
        if not vo.is_open or vo.status is _SUBMITTED:
            reason = f"order is {vo.status.value}"
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
        if reason is None and price is not None and vo.post_only:
            old = vo.price_raw
            vo.price_raw = price.raw
            crosses = self._crosses_book(vo)
            vo.price_raw = old
            if crosses:
                reason = f"post-only limit {price} would take liquidity"
        if reason is not None:
            self._emit(OrderModifyRejected(vo.client_order_id, vo.strategy_id, self.instrument.id, ts, ts, reason,
                                           vo.venue_order_id))  # fmt: skip
            return
        requeue = (price is not None and price.raw != vo.price_raw) or (qty is not None and qty.raw > vo.quantity_raw)
        if qty is not None:
            vo.quantity_raw = qty.raw
        if price is not None:
            vo.price_raw = price.raw
        if trigger is not None:
            vo.trigger_raw = trigger.raw
        vo.ts_last = ts
        self._emit(
            OrderUpdated(
                vo.client_order_id, vo.strategy_id, vo.instrument_id, ts, ts, qty, price, trigger, vo.venue_order_id
            )
        )
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

    # == acceptance predicates ======================================================================
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
