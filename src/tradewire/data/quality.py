"""`DataQualityMonitor`: staleness, gaps, out-of-order data, crossed books and feed latency.

One set of statistics per subscription (instrument + data type: ``quotes``, ``trades``,
``book.deltas``, ``book.depth``, ``bars.<spec>``). Findings are published as
:class:`DataQualityEvent` on the ``events.data_quality`` topic and kept for :meth:`snapshot`, a
JSON-friendly dict the API serves.

What is checked
---------------
* **staleness** -- no message for ``stale_after_ns`` of *clock* time (``clock.timestamp_ns() -
  last ts_init``), evaluated by a clock timer (:meth:`DataQualityMonitor.start`) or on demand
  (:meth:`DataQualityMonitor.check_staleness`); a later message emits ``recovered``;
* **time gaps** -- ``ts_event`` jumps by more than ``max_time_gap_ns`` (optional);
* **out-of-order timestamps** -- ``ts_event`` lower than the previous one of the subscription;
* **sequence** -- a lower venue ``sequence`` than the previous one (``out_of_order_sequence``); with
  ``contiguous_sequences`` also a step other than +1 between batches (``sequence_gap``); gaps found by
  a venue synchronizer are passed in with :meth:`DataQualityMonitor.record_sequence_gap`;
* **crossed / locked quotes and books** -- best bid > best ask (crossed) or == (locked); an event on
  entering the state, a count of every crossed update;
* **latency** -- ``ts_init - ts_event`` per message; percentiles p50/p90/p99 (nearest-rank method:
  the ``ceil(p/100 * n)``-th smallest of the last ``latency_window`` samples) and max.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tradewire.core.bus import MessageBus
from tradewire.core.clock import Clock, TimeEvent
from tradewire.data.book import OrderBook, OrderBookDepth
from tradewire.data.sync import SequenceGap
from tradewire.model.data import Bar, OrderBookDelta, QuoteTick, TradeTick
from tradewire.model.identifiers import InstrumentId

TOPIC = "events.data_quality"
_TIMER = "DataQualityMonitor.staleness"


class DataQualityKind(StrEnum):
    """What a :class:`DataQualityEvent` reports."""

    STALE = "stale"
    RECOVERED = "recovered"
    SEQUENCE_GAP = "sequence_gap"
    OUT_OF_ORDER_SEQUENCE = "out_of_order_sequence"
    OUT_OF_ORDER_TIME = "out_of_order_time"
    TIME_GAP = "time_gap"
    CROSSED = "crossed"
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class DataQualityEvent:
    """A data-quality finding for one subscription.

    Attributes
    ----------
    kind : DataQualityKind
    instrument_id : InstrumentId
    data_type : str
        ``quotes``, ``trades``, ``book.deltas``, ``book.depth`` or ``bars.<spec>``.
    message : str
        Human-readable detail.
    expected, got : int | None
        Ids or timestamps involved (e.g. expected/got update id for a gap; previous/new ts_event for
        out-of-order time; last ts_init/clock now for staleness).
    ts_event : int
        When the condition occurred (the offending message's ``ts_event``, or clock time for
        staleness), UTC ns.
    ts_init : int
        When the monitor created the event (clock time), UTC ns.
    """

    kind: DataQualityKind
    instrument_id: InstrumentId
    data_type: str
    message: str
    expected: int | None
    got: int | None
    ts_event: int
    ts_init: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "kind": self.kind.value,
            "instrument_id": str(self.instrument_id),
            "data_type": self.data_type,
            "message": self.message,
            "expected": self.expected,
            "got": self.got,
            "ts_event": self.ts_event,
            "ts_init": self.ts_init,
        }


class _Stats:
    __slots__ = (
        "count",
        "crossed",
        "crossed_count",
        "data_type",
        "first_ts_init",
        "instrument_id",
        "last_sequence",
        "last_ts_event",
        "last_ts_init",
        "latencies",
        "latency_max",
        "locked",
        "locked_count",
        "n_events",
        "stale",
    )

    def __init__(self, instrument_id: InstrumentId, data_type: str, window: int) -> None:
        self.instrument_id = instrument_id
        self.data_type = data_type
        self.count = 0
        self.first_ts_init = 0
        self.last_ts_event: int | None = None
        self.last_ts_init = 0
        self.last_sequence: int | None = None
        self.latencies: deque[int] = deque(maxlen=window)
        self.latency_max: int | None = None
        self.stale = False
        self.crossed = False
        self.locked = False
        self.crossed_count = 0
        self.locked_count = 0
        self.n_events: dict[str, int] = {}


def percentile_nearest_rank(sorted_values: list[int], p: float) -> int:
    """Return the ``p``-th percentile (0 < p <= 100) of ascending ``sorted_values`` by nearest rank.

    The ``ceil(p/100 * n)``-th smallest value (1-based), as in NIST/"nearest-rank" definitions.

    Raises
    ------
    ValueError
        If the list is empty or ``p`` is outside (0, 100].
    """
    if not sorted_values:
        raise ValueError("percentile of an empty sample")
    if not 0 < p <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {p}")
    return sorted_values[max(1, math.ceil(p / 100 * len(sorted_values))) - 1]


class DataQualityMonitor:
    """Watch market data per subscription and publish :class:`DataQualityEvent` s.

    Parameters
    ----------
    bus : MessageBus
        Events are published on ``events.data_quality``; :meth:`attach` subscribes to the data topics.
    clock : Clock
        Source of "now" for staleness and for event ``ts_init``.
    stale_after_ns : int
        A subscription with no message for this long (clock time vs its last ``ts_init``) is stale.
    max_time_gap_ns : int | None
        Report a ``time_gap`` when consecutive ``ts_event`` differ by more than this (None: off).
    contiguous_sequences : bool
        Report a ``sequence_gap`` when a new batch's ``sequence`` is not the previous + 1 (venues with
        contiguous per-message sequence numbers; Binance update ids are not).
    latency_window : int
        Number of most recent latency samples kept per subscription for the percentiles.

    Raises
    ------
    ValueError
        If ``stale_after_ns`` or ``latency_window`` is not positive.
    """

    def __init__(
        self,
        bus: MessageBus,
        clock: Clock,
        stale_after_ns: int = 10_000_000_000,
        max_time_gap_ns: int | None = None,
        contiguous_sequences: bool = False,
        latency_window: int = 10_000,
    ) -> None:
        if stale_after_ns <= 0 or latency_window <= 0:
            raise ValueError("stale_after_ns and latency_window must be positive")
        self.bus = bus
        self.clock = clock
        self.stale_after_ns = stale_after_ns
        self.max_time_gap_ns = max_time_gap_ns
        self.contiguous_sequences = contiguous_sequences
        self.latency_window = latency_window
        self._stats: dict[tuple[str, str], _Stats] = {}
        self.events: deque[DataQualityEvent] = deque(maxlen=1000)

    # ------------------------------------------------------------------ wiring

    def attach(self) -> None:
        """Subscribe to quotes, trades, bars, book deltas and book depth on the bus.

        Use this *or* let a ``DataEngine`` feed the monitor directly, not both (messages would count twice).
        """
        self.bus.subscribe("data.quotes.*", self.on_quote)
        self.bus.subscribe("data.trades.*", self.on_trade)
        self.bus.subscribe("data.bars.*", self.on_bar)
        self.bus.subscribe("data.book.deltas.*", self.on_delta)
        self.bus.subscribe("data.book.depth.*", self.on_depth)

    def detach(self) -> None:
        """Undo :meth:`attach`."""
        self.bus.unsubscribe("data.quotes.*", self.on_quote)
        self.bus.unsubscribe("data.trades.*", self.on_trade)
        self.bus.unsubscribe("data.bars.*", self.on_bar)
        self.bus.unsubscribe("data.book.deltas.*", self.on_delta)
        self.bus.unsubscribe("data.book.depth.*", self.on_depth)

    def start(self, check_interval_ns: int = 1_000_000_000) -> None:
        """Check staleness every ``check_interval_ns`` of clock time (a clock timer)."""
        self.clock.set_timer(_TIMER, check_interval_ns, self._on_timer)

    def stop(self) -> None:
        """Cancel the staleness timer."""
        self.clock.cancel_timer(_TIMER)

    def _on_timer(self, event: TimeEvent) -> None:
        self.check_staleness(event.ts_event)

    # ------------------------------------------------------------------ inputs

    def on_quote(self, tick: QuoteTick) -> None:
        """Record a quote; also checks it for crossed/locked prices."""
        st = self.record(tick.instrument_id, "quotes", tick.ts_event, tick.ts_init)
        if tick.bid_size.raw and tick.ask_size.raw:
            self._check_cross(st, tick.bid_price.raw, tick.ask_price.raw, tick.ts_event)

    def on_trade(self, tick: TradeTick) -> None:
        """Record a trade."""
        self.record(tick.instrument_id, "trades", tick.ts_event, tick.ts_init)

    def on_bar(self, bar: Bar) -> None:
        """Record a bar (subscription ``bars.<spec>``)."""
        self.record(bar.bar_type.instrument_id, f"bars.{bar.bar_type.spec}", bar.ts_event, bar.ts_init)

    def on_delta(self, delta: OrderBookDelta | Sequence[OrderBookDelta]) -> None:
        """Record a book delta, or a batch of them (as the DataEngine publishes on ``data.book.deltas``).

        ``sequence`` is checked once per batch, on the delta flagged ``F_LAST``.
        """
        if not isinstance(delta, OrderBookDelta):
            for d in delta:
                self.on_delta(d)
            return
        seq = delta.sequence if delta.flags & OrderBookDelta.F_LAST else None
        self.record(delta.instrument_id, "book.deltas", delta.ts_event, delta.ts_init, seq or None)

    def on_depth(self, depth: OrderBookDepth) -> None:
        """Record a depth snapshot and check its top of book for crossing."""
        st = self.record(depth.instrument_id, "book.depth", depth.ts_event, depth.ts_init, depth.sequence or None)
        if depth.bids and depth.asks:
            self._check_cross(st, depth.bids[0].price.raw, depth.asks[0].price.raw, depth.ts_event)

    def check_book(self, book: OrderBook, data_type: str = "book.deltas") -> bool:
        """Check a live book for crossed/locked state (call after a complete batch); returns is_crossed."""
        st = self._get(book.instrument_id, data_type)
        b, a = book.best_bid_raw(), book.best_ask_raw()
        if b is None or a is None:
            return False
        self._check_cross(st, b, a, book.ts_event)
        return b > a

    def record_sequence_gap(self, gap: SequenceGap, data_type: str = "book.deltas") -> None:
        """Report a gap or out-of-order message found by a venue synchronizer."""
        st = self._get(gap.instrument_id, data_type)
        kind = DataQualityKind.SEQUENCE_GAP if gap.kind == "gap" else DataQualityKind.OUT_OF_ORDER_SEQUENCE
        self._emit(
            st,
            kind,
            f"{gap.venue_rule}: expected {gap.expected}, got {gap.got} (message {gap.first_update_id}.."
            f"{gap.final_update_id})",
            gap.expected,
            gap.got,
            gap.ts_event,
        )

    def record(
        self, instrument_id: InstrumentId, data_type: str, ts_event: int, ts_init: int, sequence: int | None = None
    ) -> _Stats:
        """Record one message of a subscription and run the per-message checks.

        Parameters
        ----------
        instrument_id : InstrumentId
        data_type : str
        ts_event, ts_init : int
            UTC ns; latency is ``ts_init - ts_event`` (may be negative if the venue clock runs ahead).
        sequence : int | None
            Venue sequence/update id, checked for monotonicity (and contiguity if configured).
        """
        st = self._get(instrument_id, data_type)
        last_te = st.last_ts_event
        if last_te is not None:
            if ts_event < last_te:
                self._emit(
                    st,
                    DataQualityKind.OUT_OF_ORDER_TIME,
                    f"ts_event {ts_event} is {last_te - ts_event} ns before the previous {last_te}",
                    last_te,
                    ts_event,
                    ts_event,
                )
            elif self.max_time_gap_ns is not None and ts_event - last_te > self.max_time_gap_ns:
                self._emit(
                    st,
                    DataQualityKind.TIME_GAP,
                    f"no data for {ts_event - last_te} ns (limit {self.max_time_gap_ns})",
                    last_te,
                    ts_event,
                    ts_event,
                )
        else:
            st.first_ts_init = ts_init
        if sequence is not None:
            prev = st.last_sequence
            if prev is not None:
                if sequence < prev:
                    self._emit(
                        st,
                        DataQualityKind.OUT_OF_ORDER_SEQUENCE,
                        f"sequence {sequence} after {prev}",
                        prev + 1,
                        sequence,
                        ts_event,
                    )
                elif self.contiguous_sequences and sequence != prev + 1:
                    self._emit(
                        st,
                        DataQualityKind.SEQUENCE_GAP,
                        f"expected sequence {prev + 1}, got {sequence}",
                        prev + 1,
                        sequence,
                        ts_event,
                    )
            if prev is None or sequence > prev:
                st.last_sequence = sequence
        if last_te is None or ts_event > last_te:
            st.last_ts_event = ts_event
        st.last_ts_init = ts_init
        st.count += 1
        lat = ts_init - ts_event
        st.latencies.append(lat)
        if st.latency_max is None or lat > st.latency_max:
            st.latency_max = lat
        if st.stale:
            st.stale = False
            self._emit(st, DataQualityKind.RECOVERED, "data resumed", None, ts_init, ts_event)
        return st

    # ------------------------------------------------------------------ checks

    def check_staleness(self, now_ns: int | None = None) -> list[DataQualityEvent]:
        """Mark subscriptions with no message for ``stale_after_ns`` as stale; return the new events."""
        now = self.clock.timestamp_ns() if now_ns is None else now_ns
        out = []
        for st in self._stats.values():
            if st.count and not st.stale and now - st.last_ts_init > self.stale_after_ns:
                st.stale = True
                out.append(
                    self._emit(
                        st,
                        DataQualityKind.STALE,
                        f"no data for {now - st.last_ts_init} ns (limit {self.stale_after_ns})",
                        st.last_ts_init,
                        now,
                        now,
                    )
                )
        return out

    def _check_cross(self, st: _Stats, bid_raw: int, ask_raw: int, ts_event: int) -> None:
        crossed = bid_raw > ask_raw
        locked = bid_raw == ask_raw
        if crossed:
            st.crossed_count += 1
            if not st.crossed:
                self._emit(st, DataQualityKind.CROSSED, "best bid above best ask", ask_raw, bid_raw, ts_event)
        if locked:
            st.locked_count += 1
            if not st.locked:
                self._emit(st, DataQualityKind.LOCKED, "best bid equals best ask", ask_raw, bid_raw, ts_event)
        st.crossed = crossed
        st.locked = locked

    # ------------------------------------------------------------------ output

    def _get(self, instrument_id: InstrumentId, data_type: str) -> _Stats:
        key = (instrument_id, data_type)
        st = self._stats.get(key)
        if st is None:
            st = self._stats[key] = _Stats(instrument_id, data_type, self.latency_window)
        return st

    def _emit(
        self, st: _Stats, kind: DataQualityKind, message: str, expected: int | None, got: int | None, ts_event: int
    ) -> DataQualityEvent:
        ev = DataQualityEvent(
            kind, st.instrument_id, st.data_type, message, expected, got, ts_event, self.clock.timestamp_ns()
        )
        st.n_events[kind.value] = st.n_events.get(kind.value, 0) + 1
        self.events.append(ev)
        self.bus.publish(TOPIC, ev)
        return ev

    def latency_percentiles(self, instrument_id: InstrumentId, data_type: str) -> dict[str, int | None]:
        """``{"p50", "p90", "p99", "max"}`` of ``ts_init - ts_event`` in ns (None without samples).

        ``max`` is over the subscription's whole life; the percentiles over the last ``latency_window``.
        """
        st = self._stats.get((instrument_id, data_type))
        if st is None or not st.latencies:
            return {"p50": None, "p90": None, "p99": None, "max": None}
        s = sorted(st.latencies)
        return {
            "p50": percentile_nearest_rank(s, 50),
            "p90": percentile_nearest_rank(s, 90),
            "p99": percentile_nearest_rank(s, 99),
            "max": st.latency_max,
        }

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """State of every subscription, keyed ``"<instrument_id>:<data_type>"`` (JSON-friendly)."""
        now = self.clock.timestamp_ns()
        out: dict[str, dict[str, Any]] = {}
        for (iid, dt), st in self._stats.items():
            out[f"{iid}:{dt}"] = {
                "instrument_id": str(iid),
                "data_type": dt,
                "count": st.count,
                "last_ts_event": st.last_ts_event,
                "last_ts_init": st.last_ts_init,
                "age_ns": now - st.last_ts_init if st.count else None,
                "stale": st.stale,
                "last_sequence": st.last_sequence,
                "crossed": st.crossed,
                "crossed_count": st.crossed_count,
                "locked_count": st.locked_count,
                "events": dict(st.n_events),
                "latency_ns": self.latency_percentiles(iid, dt),
            }
        return out
