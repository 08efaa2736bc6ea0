"""`PaperExecutionClient`: a simulated venue account with one `MatchingEngine` per instrument.

The node (or a test) feeds it market data with ``process_quote_tick``, ``process_trade_tick``,
``process_bar``, ``process_order_book_deltas`` and ``process_time``; orders come in through the
`ExecutionClient` methods; every outcome goes to ``event_handler`` synchronously as order events.

Native order types: market, limit, stop-market, stop-limit, market-if-touched, limit-if-touched with
GTC/IOC/FOK/DAY/GTD, post-only, reduce-only and modify. Trailing stops, OCO and brackets are not native
(``supports`` says so): the `ExecutionEngine` emulates them and sends plain orders here.

The venue keeps its own orders, fills and net positions in memory (`generate_*_reports`) and can be
saved and loaded as a JSON-friendly dict (:meth:`PaperExecutionClient.snapshot` / ``restore``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, Final

from tradewire.core.clock import Clock
from tradewire.execution.client import ExecutionClient
from tradewire.execution.reports import FillReport, OrderStatusReport, PositionReport
from tradewire.model.data import Bar, OrderBookDelta, QuoteTick, TradeTick
from tradewire.model.enums import LiquiditySide, OrderSide, OrderType, PositionSide, TimeInForce
from tradewire.model.events import OrderCancelRejected, OrderFilled, OrderModifyRejected, OrderRejected
from tradewire.model.identifiers import AccountId, ClientOrderId, InstrumentId, TradeId, Venue, VenueOrderId
from tradewire.model.instruments import Instrument
from tradewire.model.objects import FIXED_PRECISION, Currency, Money, Price, Quantity, div_round
from tradewire.model.orders import Order
from tradewire.venues.paper.config import PaperVenueConfig
from tradewire.venues.paper.engine_state import VenueGate
from tradewire.venues.paper.matching import MatchingEngine
from tradewire.venues.paper.models import (
    DisplayedSizeQueue,
    FeeModel,
    InstrumentFeeModel,
    LatencyModel,
    NoSlippage,
    QueuePositionModel,
    SlippageModel,
)
from tradewire.venues.paper.sessions import AlwaysOpen, TradingSessions
from tradewire.venues.paper.state import CONDITIONAL, LIMIT_TYPES, VenueOrder

# enum members as module constants: Enum class attribute access is a Python-level lookup in 3.11
_GTD: Final = TimeInForce.GTD
_LIMIT: Final = OrderType.LIMIT
_LONG: Final = PositionSide.LONG
_SHORT: Final = PositionSide.SHORT

# ids built here from already valid parts (non-empty, no surrounding whitespace) skip the
# Identifier re-validation: str.__new__ gives the same typed value
_new_id: Final = str.__new__

_TRAILING: Final = frozenset({OrderType.TRAILING_STOP_MARKET, OrderType.TRAILING_STOP_LIMIT})


class PaperExecutionClient(ExecutionClient):
    """Simulated venue account (see module docstring).

    Parameters
    ----------
    venue, account_id, clock, event_handler
        As for `ExecutionClient`. The clock gives the submit time of orders (the later of the clock and
        the instrument's latest data time, so standalone use with a `TestClock` left at 0 works too).
    instruments : Iterable[Instrument]
        Instruments tradable here (their ids must be on ``venue``); more with :meth:`add_instrument`.
    config : PaperVenueConfig | None
    fee_model, slippage_model, latency_model, queue_model : optional models (defaults: instrument fees,
        no slippage, zero latency, join behind the displayed size).
    sessions : TradingSessions | None
        Default `AlwaysOpen` (24/7).

    Raises
    ------
    ValueError
        If an instrument is on another venue.
    """

    supports = frozenset(
        {"stop_market", "stop_limit", "mit", "lit", "post_only", "reduce_only", "fok", "ioc", "gtd", "modify"}
    )

    def __init__(
        self, venue: Venue, account_id: AccountId, clock: Clock, event_handler: Callable[[object], None],
        instruments: Iterable[Instrument] = (), config: PaperVenueConfig | None = None,
        fee_model: FeeModel | None = None, slippage_model: SlippageModel | None = None,
        latency_model: LatencyModel | None = None, queue_model: QueuePositionModel | None = None,
        sessions: TradingSessions | None = None,
    ) -> None:  # fmt: skip
        super().__init__(venue, account_id, clock, event_handler)
        self.config = config or PaperVenueConfig()
        self.fee_model = fee_model or InstrumentFeeModel()
        self.slippage_model = slippage_model or NoSlippage()
        self.latency_model = latency_model or LatencyModel()
        self.queue_model = queue_model or DisplayedSizeQueue()
        self.sessions = sessions or AlwaysOpen()
        self._engines: dict[InstrumentId, MatchingEngine] = {}
        self._venue_order_seq = 0
        self._venue_prefix = f"{venue}-"  # a plain str: formatting the Venue str subclass is slower
        self._fills: list[FillReport | OrderFilled] = []  # in execution order; restored ones as FillReport
        self._gate: VenueGate | None = None  # DurablePaperVenue sees every call from outside (see VenueGate)
        for instrument in instruments:
            self.add_instrument(instrument)

    # -- setup ---------------------------------------------------------------------------------
    def add_instrument(self, instrument: Instrument) -> MatchingEngine:
        """Make ``instrument`` tradable; return its matching engine (raises ValueError if on another venue)."""
        if instrument.id.venue != self.venue:
            raise ValueError(f"instrument {instrument.id} is not on venue {self.venue}")
        engine = self._engines.get(instrument.id)
        if engine is None:
            engine = MatchingEngine(
                instrument, self.config, self.fee_model, self.slippage_model, self.latency_model, self.queue_model,
                self.sessions, self.account_id, self.event_handler, self._record_fill,
            )  # fmt: skip
            engine._gate = self._gate
            self._engines[instrument.id] = engine
        return engine

    def matching_engine(self, instrument_id: InstrumentId) -> MatchingEngine:
        """The engine of ``instrument_id`` (a node may bind its ``process_bar`` directly for speed).

        Raises
        ------
        KeyError
            If the instrument was not added.
        """
        try:
            return self._engines[instrument_id]
        except KeyError:
            raise KeyError(f"instrument {instrument_id} is not traded on paper venue {self.venue}") from None

    # -- market data ---------------------------------------------------------------------------
    def process_quote_tick(self, tick: QuoteTick) -> None:
        """Feed a quote (raises KeyError for an instrument not added)."""
        if self._gate is not None and not self._gate.depth:  # a call from outside (see VenueGate)
            self._gate.call(PaperExecutionClient.process_quote_tick, self, tick)
            return
        self.matching_engine(tick.instrument_id).process_quote_tick(tick)

    def process_trade_tick(self, tick: TradeTick) -> None:
        """Feed a trade (raises KeyError for an instrument not added)."""
        if self._gate is not None and not self._gate.depth:  # a call from outside (see VenueGate)
            self._gate.call(PaperExecutionClient.process_trade_tick, self, tick)
            return
        self.matching_engine(tick.instrument_id).process_trade_tick(tick)

    def process_bar(self, bar: Bar) -> None:
        """Feed a bar (raises KeyError for an instrument not added)."""
        if self._gate is not None and not self._gate.depth:  # a call from outside (see VenueGate)
            self._gate.call(PaperExecutionClient.process_bar, self, bar)
            return
        try:
            engine = self._engines[bar.bar_type.instrument_id]
        except KeyError:
            raise KeyError(
                f"instrument {bar.bar_type.instrument_id} is not traded on paper venue {self.venue}"
            ) from None
        engine.process_bar(bar)

    def process_order_book_deltas(self, deltas: list[OrderBookDelta]) -> None:
        """Feed one batch of L2 deltas of a single instrument.

        Raises
        ------
        ValueError
            If the batch mixes instruments.
        """
        if self._gate is not None and not self._gate.depth:  # a call from outside (see VenueGate)
            self._gate.call(PaperExecutionClient.process_order_book_deltas, self, deltas)
            return
        if not deltas:
            return
        iid = deltas[0].instrument_id
        for d in deltas:
            if d.instrument_id != iid:
                raise ValueError(f"delta batch mixes instruments {iid} and {d.instrument_id}")
        self.matching_engine(iid).process_order_book_deltas(deltas)

    def process_time(self, ts_ns: int) -> None:
        """Advance every engine to ``ts_ns`` (latency queues, DAY/GTD expiry)."""
        if self._gate is not None and not self._gate.depth:  # a call from outside (see VenueGate)
            self._gate.call(PaperExecutionClient.process_time, self, ts_ns)
            return
        for engine in self._engines.values():
            engine.process_time(ts_ns)

    # -- commands ------------------------------------------------------------------------------
    def submit_order(self, order: Order) -> None:
        """Send ``order``; answers OrderAccepted or OrderRejected (after ``latency_model.submit_ns``)."""
        if self._gate is not None and not self._gate.depth:  # a call from outside (see VenueGate)
            self._gate.on_submit(order)
            self._gate.call(PaperExecutionClient.submit_order, self, order)
            return
        engine = self._engines.get(order.instrument_id)
        if engine is None:
            ts = self.clock.timestamp_ns()
            self.event_handler(OrderRejected(order.client_order_id, order.strategy_id, order.instrument_id, ts, ts,
                                             f"unknown instrument {order.instrument_id} at {self.venue}",
                                             self.account_id))  # fmt: skip
            return
        ts = self.clock.timestamp_ns()
        if ts < engine.ts:  # the later of the clock and the instrument's data time
            ts = engine.ts
        self._venue_order_seq += 1
        # VenueOrder.from_order without the extra call layer (one per order)
        qty = order.quantity
        price = order.price
        trigger = order.trigger_price
        vo = VenueOrder(
            order.client_order_id, _new_id(VenueOrderId, f"{self._venue_prefix}{self._venue_order_seq}"),
            order.strategy_id, order.instrument_id, order.side, order.order_type, qty.raw,
            None if price is None else price.raw, None if trigger is None else trigger.raw, order.time_in_force,
            order.expire_time_ns, order.post_only, order.reduce_only, ts, engine._pp, qty.precision,
        )  # fmt: skip
        if order.client_order_id in engine.orders:
            vo.reject_reason = f"duplicate client order id {order.client_order_id}"
            engine.process_time(ts + self.latency_model.submit_ns)
            self.event_handler(OrderRejected(vo.client_order_id, vo.strategy_id, vo.instrument_id, engine.ts,
                                             engine.ts, vo.reject_reason, self.account_id))  # fmt: skip
            return
        vo.reject_reason = self._validate(order, engine.instrument)
        engine.submit(vo, ts)

    def modify_order(
        self, order: Order, quantity: Quantity | None, price: Price | None, trigger_price: Price | None
    ) -> None:
        """Ask to change a working order; answers OrderUpdated or OrderModifyRejected."""
        if self._gate is not None and not self._gate.depth:  # a call from outside (see VenueGate)
            self._gate.on_command(order)
            self._gate.call(PaperExecutionClient.modify_order, self, order, quantity, price, trigger_price)
            return
        engine = self._engines.get(order.instrument_id)
        if engine is None or order.client_order_id not in engine.orders:
            ts = self.clock.timestamp_ns() if engine is None else max(self.clock.timestamp_ns(), engine.ts)
            self.event_handler(OrderModifyRejected(order.client_order_id, order.strategy_id, order.instrument_id, ts,
                                                   ts, "unknown order", order.venue_order_id))  # fmt: skip
            return
        engine.modify(order.client_order_id, quantity, price, trigger_price, max(self.clock.timestamp_ns(), engine.ts))

    def cancel_order(self, order: Order) -> None:
        """Ask to cancel a working order; answers OrderCanceled or OrderCancelRejected."""
        if self._gate is not None and not self._gate.depth:  # a call from outside (see VenueGate)
            self._gate.on_command(order)
            self._gate.call(PaperExecutionClient.cancel_order, self, order)
            return
        engine = self._engines.get(order.instrument_id)
        if engine is None or order.client_order_id not in engine.orders:
            ts = self.clock.timestamp_ns() if engine is None else max(self.clock.timestamp_ns(), engine.ts)
            self.event_handler(OrderCancelRejected(order.client_order_id, order.strategy_id, order.instrument_id, ts,
                                                   ts, "unknown order", order.venue_order_id))  # fmt: skip
            return
        engine.cancel(order.client_order_id, max(self.clock.timestamp_ns(), engine.ts))

    @staticmethod
    def _validate(order: Order, inst: Instrument) -> str | None:
        """Reason the venue refuses ``order`` outright, or None."""
        t = order.order_type
        qty = order.quantity
        if t in _TRAILING:
            return f"{t.value} is not native at the paper venue (trailing stops are emulated by the OMS)"
        if qty.raw <= 0:
            return f"quantity must be positive, was {qty}"
        if qty.raw % inst.lot_size.raw:  # Instrument.is_on_lot
            return f"quantity {qty} is not a multiple of the lot size {inst.lot_size}"
        if inst.min_quantity is not None and qty.raw < inst.min_quantity.raw:
            return f"quantity {qty} is below the minimum {inst.min_quantity}"
        if inst.max_quantity is not None and qty.raw > inst.max_quantity.raw:
            return f"quantity {qty} is above the maximum {inst.max_quantity}"
        if t in LIMIT_TYPES:
            if order.price is None:
                return f"{t.value} order needs a limit price"
            if not inst.is_on_tick(order.price):
                return f"price {order.price} is not a multiple of the tick size {inst.tick_size}"
        if t in CONDITIONAL:
            if order.trigger_price is None:
                return f"{t.value} order needs a trigger price"
            if not inst.is_on_tick(order.trigger_price):
                return f"trigger price {order.trigger_price} is not a multiple of the tick size {inst.tick_size}"
        if order.post_only and t is not _LIMIT:
            return "post-only needs a limit order"
        if order.time_in_force is _GTD and order.expire_time_ns is None:
            return "GTD order needs expire_time_ns"
        return None

    def _record_fill(self, vo: VenueOrder, fill: OrderFilled) -> None:
        # kept as the event itself (it carries every FillReport field); reports are built when asked for
        self._fills.append(fill)

    def _fill_report(self, f: FillReport | OrderFilled) -> FillReport:
        if type(f) is FillReport:
            return f
        return FillReport(
            self.account_id, f.instrument_id, f.venue_order_id, f.trade_id, f.order_side, f.last_qty, f.last_px,
            f.commission, f.liquidity_side, f.ts_event, f.ts_init, f.client_order_id,
        )  # fmt: skip

    # -- reconciliation ------------------------------------------------------------------------
    def generate_order_status_reports(self) -> list[OrderStatusReport]:
        """Every open order at the venue (including ones not yet acknowledged)."""
        out = []
        for engine in self._engines.values():
            for vo in engine.orders.values():
                if not vo.is_open:
                    continue
                avg = None
                if vo.filled_raw:
                    avg = Price.from_raw(div_round(vo.notional, vo.filled_raw), FIXED_PRECISION)
                out.append(OrderStatusReport(
                    self.account_id, vo.instrument_id, vo.client_order_id, vo.venue_order_id, vo.side, vo.order_type,
                    vo.time_in_force, vo.status, Quantity.from_raw(vo.quantity_raw, vo.size_precision),
                    Quantity.from_raw(vo.filled_raw, vo.size_precision), vo.ts_accepted, vo.ts_last, engine.ts,
                    None if vo.price_raw is None else Price.from_raw(vo.price_raw, vo.price_precision),
                    None if vo.trigger_raw is None else Price.from_raw(vo.trigger_raw, vo.price_precision),
                    avg, vo.reduce_only, vo.post_only,
                ))  # fmt: skip
        return out

    def generate_fill_reports(self, since_ns: int) -> list[FillReport]:
        """Every fill with ``ts_event >= since_ns``, in execution order."""
        return [self._fill_report(f) for f in self._fills if f.ts_event >= since_ns]

    def generate_position_reports(self) -> list[PositionReport]:
        """The venue's non-flat net positions (average open price rounded half-even to 1e-9)."""
        out = []
        for engine in self._engines.values():
            pos = engine.position
            q = pos.signed_qty_raw
            if not q:
                continue
            avg = pos.avg_px_raw()
            out.append(PositionReport(
                self.account_id, engine.instrument.id, _LONG if q > 0 else _SHORT,
                Quantity.from_raw(abs(q), engine.instrument.size_precision), pos.ts_last, engine.ts,
                None if avg is None else Price.from_raw(avg, FIXED_PRECISION),
            ))  # fmt: skip
        return out

    # -- persistence ---------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """The venue state as a JSON-friendly dict (exact numbers as strings).

        Holds orders (open and closed), fills, net positions, pending latency actions and id counters,
        per instrument. Market data (the book) is not included: it is rebuilt from the next data.
        """
        return {
            "venue": str(self.venue), "account_id": str(self.account_id),
            "venue_order_seq": str(self._venue_order_seq), "config": self.config.to_dict(),
            "sessions": self.sessions.to_dict(),
            "engines": {str(iid): e.snapshot() for iid, e in self._engines.items()},
            "fills": [_fill_to_dict(f) for f in self._fills],
        }  # fmt: skip

    def restore(self, state: dict[str, Any]) -> None:
        """Load :meth:`snapshot` output; instruments must have been added first.

        Raises
        ------
        ValueError
            If the snapshot is for another venue/account or names an instrument not added here.
        """
        if state.get("venue") != str(self.venue) or state.get("account_id") != str(self.account_id):
            raise ValueError(
                f"snapshot is for {state.get('venue')}/{state.get('account_id')}, not {self.venue}/{self.account_id}"
            )
        for iid in state["engines"]:
            if InstrumentId(iid) not in self._engines:
                raise ValueError(f"snapshot names instrument {iid} that is not added to paper venue {self.venue}")
        self._venue_order_seq = int(state["venue_order_seq"])
        for iid, est in state["engines"].items():
            self._engines[InstrumentId(iid)].restore(est)
        self._fills = [_fill_from_dict(self.account_id, d) for d in state["fills"]]


def _fill_to_dict(f: FillReport | OrderFilled) -> dict[str, Any]:
    return {
        "instrument_id": str(f.instrument_id), "venue_order_id": str(f.venue_order_id), "trade_id": str(f.trade_id),
        "order_side": f.order_side.value, "last_qty": str(f.last_qty), "last_px": str(f.last_px),
        "commission": str(f.commission.as_decimal()), "commission_currency": f.commission.currency.code,
        "liquidity_side": f.liquidity_side.value, "ts_event": str(f.ts_event), "ts_init": str(f.ts_init),
        "client_order_id": None if f.client_order_id is None else str(f.client_order_id),
    }  # fmt: skip


def _fill_from_dict(account_id: AccountId, d: dict[str, Any]) -> FillReport:
    return FillReport(
        account_id, InstrumentId(d["instrument_id"]), VenueOrderId(d["venue_order_id"]), TradeId(d["trade_id"]),
        OrderSide(d["order_side"]), Quantity.from_str(d["last_qty"]), Price.from_str(d["last_px"]),
        Money(Decimal(d["commission"]), Currency.from_str(d["commission_currency"])),
        LiquiditySide(d["liquidity_side"]), int(d["ts_event"]), int(d["ts_init"]),
        None if d["client_order_id"] is None else ClientOrderId(d["client_order_id"]),
    )  # fmt: skip


__all__ = ["PaperExecutionClient"]
