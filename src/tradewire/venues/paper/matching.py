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
from typing import Any, Final

from tradewire.model.data import Bar, OrderBookDelta, QuoteTick, TradeTick, bar_path_raw
from tradewire.model.enums import AggressorSide, LiquiditySide
from tradewire.model.events import OrderFilled
from tradewire.model.identifiers import AccountId, ClientOrderId
from tradewire.model.instruments import Instrument
from tradewire.model.objects import Price, Quantity
from tradewire.venues.paper.book import PaperBook
from tradewire.venues.paper.config import BarFillMode, BookLevel, PaperVenueConfig
from tradewire.venues.paper.engine_state import VenueGate
from tradewire.venues.paper.fills import BookMatching
from tradewire.venues.paper.lifecycle import OrderLifecycle
from tradewire.venues.paper.models import FeeModel, LatencyModel, NoSlippage, QueuePositionModel, SlippageModel
from tradewire.venues.paper.positions import VenuePosition
from tradewire.venues.paper.sessions import TradingSessions
from tradewire.venues.paper.state import CONDITIONAL, LIMIT_TYPES, VenueOrder, trigger_touch
from tradewire.venues.paper.timing import _ACK, _CANCEL, _MODIFY, LatencyAndExpiry

# enum members as module constants: Enum class attribute access is a Python-level lookup in 3.11
_BUYER: Final = AggressorSide.BUYER
_L1: Final = BookLevel.L1
_L2: Final = BookLevel.L2
_MAKER: Final = LiquiditySide.MAKER
_SELLER: Final = AggressorSide.SELLER
_TAKER: Final = LiquiditySide.TAKER


class MatchingEngine(BookMatching, OrderLifecycle, LatencyAndExpiry):
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
        self._gate: VenueGate | None = None  # set by the client (DurablePaperVenue): see VenueGate
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
        self._trade_prefix = f"{self._symbol}-"
        self._sp = instrument.size_precision
        self._prices: dict[int, Price] = {}  # raw -> Price at the instrument's precision (see BookMatching._fill)
        self._quantities: dict[int, Quantity] = {}  # raw -> Quantity at the instrument's size precision
        self._next_mode = config.bar_fill_mode is BarFillMode.NEXT_OPEN
        self._no_slippage = type(slippage_model) is NoSlippage  # market fills keep the matched price

    # == commands ==================================================================================
    def submit(self, vo: VenueOrder, ts: int) -> None:
        """Take a new order (``vo.reject_reason`` set = answer OrderRejected) at simulated time ``ts``."""
        if self._gate is not None and not self._gate.depth:  # a call from outside (see VenueGate)
            self._gate.call(MatchingEngine.submit, self, vo, ts)
            return
        self.orders[vo.client_order_id] = vo
        if not self.latency.submit_ns and not self._pending and (self._next_expiry is None or self._next_expiry > ts):
            # no latency and nothing queued before it: acknowledge now, as the queue would (same sequence number)
            self._seq += 1
            if ts > self.ts:
                self.ts = ts
            self._ack(vo)
        else:
            self._schedule(ts + self.latency.submit_ns, _ACK, vo.client_order_id, None)
        if self._pending or self._next_expiry is not None:
            self._advance(ts)
        elif ts > self.ts:  # what _advance does with nothing queued or expiring
            self.ts = ts

    def modify(self, client_order_id: ClientOrderId, qty: Quantity | None, price: Price | None,
               trigger: Price | None, ts: int) -> None:  # fmt: skip
        """Request a modification; it takes effect after ``LatencyModel.modify_ns``.

        Raises
        ------
        KeyError
            If this engine never received the order (the client answers such a request itself).
        """
        if self._gate is not None and not self._gate.depth:  # a call from outside (see VenueGate)
            self._gate.call(MatchingEngine.modify, self, client_order_id, qty, price, trigger, ts)
            return
        self._known(client_order_id)
        self._schedule(ts + self.latency.modify_ns, _MODIFY, client_order_id, (qty, price, trigger))
        self._advance(ts)

    def cancel(self, client_order_id: ClientOrderId, ts: int) -> None:
        """Request a cancel; it takes effect after ``LatencyModel.cancel_ns``.

        Raises
        ------
        KeyError
            If this engine never received the order (the client answers such a request itself).
        """
        if self._gate is not None and not self._gate.depth:  # a call from outside (see VenueGate)
            self._gate.call(MatchingEngine.cancel, self, client_order_id, ts)
            return
        self._known(client_order_id)
        self._schedule(ts + self.latency.cancel_ns, _CANCEL, client_order_id, None)
        self._advance(ts)

    def _known(self, client_order_id: ClientOrderId) -> None:
        # the venue's answer to an unknown order needs the order's strategy, which only the client has
        if client_order_id not in self.orders:
            raise KeyError(f"{self.instrument.id}: the matching engine has no order {client_order_id}")

    # == market data ===============================================================================
    def process_time(self, ts: int) -> None:
        """Move simulated time to ``ts``: run due latency actions and DAY/GTD expiries."""
        if self._gate is not None and not self._gate.depth:  # a call from outside (see VenueGate)
            self._gate.call(MatchingEngine.process_time, self, ts)
            return
        self._advance(ts)

    def process_quote_tick(self, tick: QuoteTick) -> None:
        """Top of book: in L1 mode replaces the one-level book, then matches working orders."""
        if self._gate is not None and not self._gate.depth:  # a call from outside (see VenueGate)
            self._gate.call(MatchingEngine.process_quote_tick, self, tick)
            return
        self._advance(tick.ts_event)
        if not self.l2:
            self.book.set_top(tick.bid_price.raw, tick.bid_size.raw, tick.ask_price.raw, tick.ask_size.raw)
            if self.working:
                self._match_book_all()

    def process_order_book_deltas(self, deltas: list[OrderBookDelta]) -> None:
        """Apply L2 deltas; working orders match once a delta with ``F_LAST`` ends the batch.

        Ignored for liquidity when the config forces L1.
        """
        if self._gate is not None and not self._gate.depth:  # a call from outside (see VenueGate)
            self._gate.call(MatchingEngine.process_order_book_deltas, self, deltas)
            return
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
        if self._gate is not None and not self._gate.depth:  # a call from outside (see VenueGate)
            self._gate.call(MatchingEngine.process_trade_tick, self, tick)
            return
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
        if self._gate is not None and not self._gate.depth:  # a call from outside (see VenueGate)
            self._gate.call(MatchingEngine.process_bar, self, bar)
            return
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
        if self.working and (self.sessions.always_open or self._session_ok(t_open)):
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
