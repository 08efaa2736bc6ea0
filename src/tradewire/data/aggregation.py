"""Bar aggregation: time, tick, volume and value (notional) bars from trades or quotes.

Every aggregator turns ticks into :class:`~tradewire.model.data.Bar` objects and hands each finished
bar to a callback. All arithmetic is on the fixed-point ``raw`` integers (scale 10**9) of the model's
``Price`` and ``Quantity``, so open/high/low/close and volume are exact.

Which price a bar is built from is the bar type's ``PriceType``:

- ``LAST``: trade ticks (price, size).
- ``BID`` / ``ASK``: quote ticks, the bid (ask) price with the bid (ask) size.
- ``MID``: quote ticks, ``(bid + ask) / 2`` with size ``(bid_size + ask_size) / 2``; both halves are
  exact at one more decimal than the inputs (rounded half-to-even only at the 9th decimal).

Rules (decided here, relied upon by tests):

Time bars
    Intervals are aligned to UTC boundaries counted from the Unix epoch (1970-01-01 00:00 UTC): a
    ``5-MINUTE`` bar covers ``[t, t + 5 min)`` with ``t`` a multiple of 5 minutes; ``1-DAY`` bars run
    midnight to midnight UTC; ``WEEK`` bars start on Monday 00:00 UTC. A tick belongs to the interval
    containing its ``ts_event`` (a tick exactly at a boundary opens the next bar). The bar for
    ``[t, t + step)`` is emitted with ``ts_event = ts_init = t + step`` (the close time) either when
    the first tick at or after ``t + step`` arrives, or, if a clock was given, when the clock's timer
    fires at ``t + step``. Both paths give the same bars; in a backtest the ``TestClock`` timer fires
    at the boundary before the next tick is processed, so backtest and live behave alike.
    A tick whose ``ts_event`` is earlier than the open bar's start (a late tick) is added to the open
    bar and counted in :attr:`BarAggregator.late_ticks`; it never re-opens a closed bar.
Empty intervals
    ``empty="skip"`` (default) emits nothing for an interval without ticks. ``empty="flat"`` emits a
    bar with open = high = low = close = the previous bar's close and zero volume; nothing is emitted
    before the first tick (there is no previous close yet).
Tick bars
    A bar closes after every ``step`` ticks.
Volume bars
    A bar closes when its volume reaches exactly ``step`` units. The tick that crosses the threshold
    is **split**: the part that fills the bar goes into it, the remainder (at the same price and
    ``ts_event``) opens the next bar, so every emitted bar has volume exactly ``step``. A tick larger
    than several steps yields several bars with the same ``ts_event``. With ``split=False`` the
    crossing tick goes whole into the bar, whose volume is then in ``[step, step + tick size)``.
Value bars
    A bar closes on the tick that makes its notional ``sum(price * size)`` reach ``step`` (in quote
    currency units). The crossing tick is **not** split (a fractional share of a tick's size at a
    given notional is generally not representable in the instrument's size increment), so a bar's
    notional lies in ``[step, step + notional of its last tick)``. Notional per tick is
    ``price * size`` rounded half-to-even at the 9th decimal.

Finished non-time bars have ``ts_event = ts_init =`` the ``ts_event`` of the tick that closed them.

References
----------
López de Prado, M. (2018). *Advances in Financial Machine Learning*, ch. 2.3 "Standard bars"
(tick, volume and dollar bars).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from tradewire.core.clock import Clock, TimeEvent
from tradewire.model.data import Bar, BarType, QuoteTick, TradeTick
from tradewire.model.enums import BarAggregation, PriceType
from tradewire.model.objects import FIXED_PRECISION, FIXED_SCALAR, Price, Quantity, div_round, mul_raw

BarHandler = Callable[[Bar], None]
EmptyRule = Literal["skip", "flat"]

_WEEK_ORIGIN_NS = 4 * 86_400_000_000_000  # 1970-01-05 was the first Monday after the epoch


class BarAggregator:
    """Base class: accumulates OHLCV on raw integers and emits bars.

    Parameters
    ----------
    bar_type : BarType
        What to build. Its ``price_type`` selects trades (``LAST``) or quotes (``BID``/``ASK``/``MID``).
    handler : Callable[[Bar], None]
        Called with each finished bar.
    price_precision, size_precision : int or None
        Decimals of the bars' prices and volume. ``None`` uses the largest precision seen in the ticks.

    Raises
    ------
    ValueError
        If ``bar_type.spec.step`` is not positive.
    """

    __slots__ = (
        "_close",
        "_count",
        "_fixed_pp",
        "_fixed_sp",
        "_high",
        "_low",
        "_open",
        "_pp",
        "_sp",
        "_volume",
        "bar_type",
        "handler",
        "late_ticks",
        "price_type",
        "step",
    )

    def __init__(
        self,
        bar_type: BarType,
        handler: BarHandler,
        price_precision: int | None = None,
        size_precision: int | None = None,
    ) -> None:
        if bar_type.spec.step <= 0:
            raise ValueError(f"bar step must be positive, got {bar_type}")
        self.bar_type = bar_type
        self.handler = handler
        self.price_type = bar_type.spec.price_type
        self.step = bar_type.spec.step
        self._pp = -1 if price_precision is None else price_precision
        self._sp = -1 if size_precision is None else size_precision
        self._fixed_pp = price_precision is not None
        self._fixed_sp = size_precision is not None
        self._open: int | None = None
        self._high = 0
        self._low = 0
        self._close: int | None = None  # close of the open bar, else of the last emitted bar
        self._volume = 0
        self._count = 0
        self.late_ticks = 0

    # ------------------------------------------------------------------ input
    def handle_trade_tick(self, tick: TradeTick) -> None:
        """Add a trade tick (only for ``PriceType.LAST`` bars).

        Raises
        ------
        ValueError
            If the bar type is not built from trades.
        """
        if self.price_type is not PriceType.LAST:
            raise ValueError(f"{self.bar_type} is built from quotes, not trades")
        p = tick.price
        s = tick.size
        if not self._fixed_pp and p.precision > self._pp:
            self._pp = p.precision
        if not self._fixed_sp and s.precision > self._sp:
            self._sp = s.precision
        self.update(p.raw, s.raw, tick.ts_event)

    def handle_quote_tick(self, tick: QuoteTick) -> None:
        """Add a quote tick (``BID``, ``ASK`` or ``MID`` bars).

        Raises
        ------
        ValueError
            If the bar type is built from trades (``LAST``).
        """
        pt = self.price_type
        if pt is PriceType.BID:
            p, s = tick.bid_price, tick.bid_size
            price_raw, size_raw, pp, sp = p.raw, s.raw, p.precision, s.precision
        elif pt is PriceType.ASK:
            p, s = tick.ask_price, tick.ask_size
            price_raw, size_raw, pp, sp = p.raw, s.raw, p.precision, s.precision
        elif pt is PriceType.MID:
            price_raw = div_round(tick.bid_price.raw + tick.ask_price.raw, 2)
            size_raw = div_round(tick.bid_size.raw + tick.ask_size.raw, 2)
            pp = min(max(tick.bid_price.precision, tick.ask_price.precision) + 1, FIXED_PRECISION)
            sp = min(max(tick.bid_size.precision, tick.ask_size.precision) + 1, FIXED_PRECISION)
        else:
            raise ValueError(f"{self.bar_type} is built from trades, not quotes")
        if not self._fixed_pp and pp > self._pp:
            self._pp = pp
        if not self._fixed_sp and sp > self._sp:
            self._sp = sp
        self.update(price_raw, size_raw, tick.ts_event)

    def update(self, price_raw: int, size_raw: int, ts_event: int) -> None:
        """Add one (price, size) observation given as raw fixed-point ints; subclasses decide when to close."""
        raise NotImplementedError

    # ------------------------------------------------------------------ building blocks
    def _add(self, price_raw: int, size_raw: int) -> None:
        if self._open is None:
            self._open = self._high = self._low = price_raw
        elif price_raw > self._high:
            self._high = price_raw
        elif price_raw < self._low:
            self._low = price_raw
        self._close = price_raw
        self._volume += size_raw
        self._count += 1

    def _emit(self, ts: int) -> None:
        """Emit the open bar with ``ts_event = ts_init = ts`` and reset the accumulator."""
        pp = max(self._pp, 0)
        bar = Bar(
            self.bar_type,
            Price.from_raw(self._open, pp),
            Price.from_raw(self._high, pp),
            Price.from_raw(self._low, pp),
            Price.from_raw(self._close, pp),
            Quantity.from_raw(self._volume, max(self._sp, 0)),
            ts,
            ts,
        )
        self._open = None
        self._volume = 0
        self._count = 0
        self.handler(bar)

    @property
    def has_partial(self) -> bool:
        """True if ticks were added since the last emitted bar."""
        return self._open is not None

    def partial_bar(self, ts: int) -> Bar | None:
        """The bar in progress stamped ``ts`` (not emitted), or None if it is empty."""
        if self._open is None:
            return None
        pp = max(self._pp, 0)
        return Bar(
            self.bar_type,
            Price.from_raw(self._open, pp),
            Price.from_raw(self._high, pp),
            Price.from_raw(self._low, pp),
            Price.from_raw(self._close, pp),
            Quantity.from_raw(self._volume, max(self._sp, 0)),
            ts,
            ts,
        )


class TickBarAggregator(BarAggregator):
    """Close a bar after every ``step`` ticks."""

    __slots__ = ()

    def update(self, price_raw: int, size_raw: int, ts_event: int) -> None:
        """Add an observation; emit when the bar holds ``step`` ticks."""
        self._add(price_raw, size_raw)
        if self._count >= self.step:
            self._emit(ts_event)


class VolumeBarAggregator(BarAggregator):
    """Close a bar when its volume reaches ``step`` units (crossing tick split by default).

    Parameters
    ----------
    split : bool
        True (default): split the crossing tick so every bar has volume exactly ``step``.
        False: the crossing tick goes whole into the bar.
    """

    __slots__ = ("_step_raw", "split")

    def __init__(self, bar_type: BarType, handler: BarHandler, price_precision=None, size_precision=None, split=True):
        super().__init__(bar_type, handler, price_precision, size_precision)
        if bar_type.spec.aggregation is not BarAggregation.VOLUME:
            raise ValueError(f"{bar_type} is not a volume bar type")
        self._step_raw = self.step * FIXED_SCALAR
        self.split = split

    def update(self, price_raw: int, size_raw: int, ts_event: int) -> None:
        """Add an observation; emit one or more bars when the volume threshold is reached."""
        step_raw = self._step_raw
        if not self.split:
            self._add(price_raw, size_raw)
            if self._volume >= step_raw:
                self._emit(ts_event)
            return
        remaining = size_raw
        while True:
            room = step_raw - self._volume
            if remaining < room:
                self._add(price_raw, remaining)
                return
            self._add(price_raw, room)
            self._emit(ts_event)
            remaining -= room
            if remaining == 0:
                return


class ValueBarAggregator(BarAggregator):
    """Close a bar on the tick that brings its notional ``sum(price * size)`` to ``step`` or more."""

    __slots__ = ("_step_raw", "_value")

    def __init__(self, bar_type: BarType, handler: BarHandler, price_precision=None, size_precision=None):
        super().__init__(bar_type, handler, price_precision, size_precision)
        if bar_type.spec.aggregation is not BarAggregation.VALUE:
            raise ValueError(f"{bar_type} is not a value bar type")
        self._step_raw = self.step * FIXED_SCALAR
        self._value = 0

    @property
    def value_raw(self) -> int:
        """Notional of the bar in progress (raw, scale 10**9)."""
        return self._value

    def update(self, price_raw: int, size_raw: int, ts_event: int) -> None:
        """Add an observation; emit when the notional reaches ``step``."""
        self._add(price_raw, size_raw)
        self._value += mul_raw(price_raw, size_raw)
        if self._value >= self._step_raw:
            self._value = 0
            self._emit(ts_event)


class TimeBarAggregator(BarAggregator):
    """UTC-aligned time bars (``SECOND`` .. ``WEEK``); see the module docstring for the rules.

    Parameters
    ----------
    clock : Clock or None
        If given, a repeating timer (set when the first tick arrives, aligned to its interval) closes
        each interval at its boundary even when no tick follows (live mode; in a backtest the
        ``TestClock`` fires it as time advances). Without a clock bars are
        closed only by the next tick at or after the boundary (or :meth:`flush`).
    empty : {"skip", "flat"}
        What an interval without ticks yields.

    Raises
    ------
    ValueError
        If the bar type has no fixed interval (``MONTH``, tick/volume/value) or ``empty`` is unknown.
    """

    __slots__ = ("_clock", "_end", "_origin", "_start", "_timer_name", "empty", "interval_ns")

    def __init__(
        self,
        bar_type: BarType,
        handler: BarHandler,
        price_precision: int | None = None,
        size_precision: int | None = None,
        clock: Clock | None = None,
        empty: EmptyRule = "skip",
    ) -> None:
        super().__init__(bar_type, handler, price_precision, size_precision)
        if empty not in ("skip", "flat"):
            raise ValueError(f"empty must be 'skip' or 'flat', got {empty!r}")
        self.interval_ns = bar_type.spec.interval_ns  # raises ValueError for non-time bars
        self._origin = _WEEK_ORIGIN_NS if bar_type.spec.aggregation is BarAggregation.WEEK else 0
        self.empty = empty
        self._start: int | None = None  # start of the current interval
        self._end: int | None = None
        self._clock = clock
        self._timer_name = f"bars:{bar_type}"

    def interval_start(self, ts: int) -> int:
        """Start (ns) of the UTC-aligned interval that contains ``ts``."""
        return ts - (ts - self._origin) % self.interval_ns

    def update(self, price_raw: int, size_raw: int, ts_event: int) -> None:
        """Add an observation, first closing every interval that ended at or before ``ts_event``."""
        end = self._end
        if end is None:
            self._start = self.interval_start(ts_event)
            self._end = self._start + self.interval_ns
            if self._clock is not None:  # the timer starts with the first tick, aligned to its interval
                self._clock.set_timer(self._timer_name, self.interval_ns, self._on_timer, start_ns=self._start)
        elif ts_event >= end:
            self.close_until(ts_event)
        elif ts_event < self._start:
            self.late_ticks += 1
        self._add(price_raw, size_raw)

    def close_until(self, ts: int) -> None:
        """Close every interval whose end is at or before ``ts`` (emitting per the empty rule)."""
        end = self._end
        if end is None or ts < end:
            return
        step = self.interval_ns
        if self._open is not None:
            self._emit(end)
        elif self.empty == "flat" and self._close is not None:
            self._emit_flat(end)
        new_start = self.interval_start(ts)
        if self.empty == "flat" and self._close is not None:
            t = end + step
            while t <= new_start:
                self._emit_flat(t)
                t += step
        self._start = new_start
        self._end = new_start + step

    def _emit_flat(self, ts: int) -> None:
        c = self._close
        self._open = self._high = self._low = c
        self._volume = 0
        self._emit(ts)

    def _on_timer(self, event: TimeEvent) -> None:
        self.close_until(event.ts_event)

    def flush(self, ts: int | None = None) -> None:
        """Emit the open bar now, stamped with its interval end (end of a replay).

        Parameters
        ----------
        ts : int or None
            If given, close every interval ending at or before ``ts`` instead (as if time reached ``ts``).
        """
        if ts is not None:
            self.close_until(ts)
        elif self._open is not None and self._end is not None:
            self._emit(self._end)
            self._start, self._end = self._end, self._end + self.interval_ns

    def stop(self) -> None:
        """Cancel the clock timer (if any)."""
        if self._clock is not None:
            self._clock.cancel_timer(self._timer_name)


def make_aggregator(
    bar_type: BarType,
    handler: BarHandler,
    *,
    price_precision: int | None = None,
    size_precision: int | None = None,
    clock: Clock | None = None,
    empty: EmptyRule = "skip",
) -> BarAggregator:
    """Build the aggregator that matches ``bar_type.spec.aggregation``.

    Raises
    ------
    ValueError
        If the aggregation cannot be built from ticks (``MONTH``).
    """
    agg = bar_type.spec.aggregation
    if bar_type.spec.is_time:
        return TimeBarAggregator(bar_type, handler, price_precision, size_precision, clock=clock, empty=empty)
    if agg is BarAggregation.TICK:
        return TickBarAggregator(bar_type, handler, price_precision, size_precision)
    if agg is BarAggregation.VOLUME:
        return VolumeBarAggregator(bar_type, handler, price_precision, size_precision)
    if agg is BarAggregation.VALUE:
        return ValueBarAggregator(bar_type, handler, price_precision, size_precision)
    raise ValueError(f"cannot aggregate {bar_type} from ticks ({agg} has no fixed length)")


def aggregate(ticks, bar_type: BarType, *, empty: EmptyRule = "skip", flush: bool = False, **kw) -> list[Bar]:
    """Aggregate an iterable of ticks into a list of bars (offline helper).

    Parameters
    ----------
    ticks : Iterable[TradeTick | QuoteTick]
        Ticks in ``ts_event`` order.
    bar_type : BarType
        Bars to build.
    empty : {"skip", "flat"}
        Empty-interval rule for time bars.
    flush : bool
        Also emit the last, unfinished bar (time bars stamped at their interval end). Default False:
        an unfinished bar is not a bar yet.

    Returns
    -------
    list[Bar]
    """
    out: list[Bar] = []
    a = make_aggregator(bar_type, out.append, empty=empty, **kw)
    handle = a.handle_trade_tick if bar_type.spec.price_type is PriceType.LAST else a.handle_quote_tick
    for t in ticks:
        handle(t)
    if flush and isinstance(a, TimeBarAggregator):
        a.flush()
    return out
