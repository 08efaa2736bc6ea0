"""`BacktestEngine`: replay recorded data through the same components as a live node, on a TestClock.

Data from every source is merged in ``ts_event`` order (stable: for equal timestamps, the order sources
were added and their internal order). For each object the simulated time is set to its ``ts_event``
(firing due timers first), the venue's matching engine sees it, then the data engine publishes it to
strategies. Orders follow the same path as live: Strategy → RiskEngine → ExecutionEngine → paper venue.
"""

from __future__ import annotations

import gc
import heapq
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from itertools import pairwise
from operator import attrgetter
from typing import Any

from tradewire.analysis.stats import TradeRecord, raw_to_money_decimal, summarize_raw
from tradewire.core.clock import TestClock
from tradewire.model.data import Bar
from tradewire.model.events import OrderFilled
from tradewire.model.instruments import Instrument
from tradewire.model.objects import Currency
from tradewire.node.kernel import Kernel, VenueConfig
from tradewire.portfolio.trades import ClosedTrade
from tradewire.strategy.base import Strategy

_ts = attrgetter("ts_event")


def _ts_of(obj: Any) -> int:
    return obj[-1].ts_event if isinstance(obj, list) else obj.ts_event


class _ReplayGc:
    """Cyclic garbage collection during a replay, run at checkpoints the replay loop calls.

    The objects that exist when the run starts (the loaded data) are frozen (``gc.freeze``) so that no
    scan visits them again, and automatic collection is off. At a checkpoint, once ``young`` tracked
    objects have been allocated (net) since the last one, the young objects are collected
    (``gc.collect(0)``) and the survivors frozen. The engine's own objects form no reference cycles (its
    orders, events and positions are freed by reference counting), so these scans mostly visit objects
    that stay alive (every order, event and fill of the run): after two scans in a row that find no
    garbage, the young objects are only frozen (O(1), no scan), and every ``resample``-th checkpoint
    scans again. A scan that finds garbage (a strategy that makes cycles) switches back to scanning at
    every checkpoint. Garbage frozen between two scans (at most ``resample`` checkpoints' worth) is
    reclaimed by the first full collection after the run. :meth:`stop` unfreezes everything (into the
    oldest generation) and restores the collector's state.
    """

    __slots__ = ("_enabled", "_threshold", "freezes", "quiet", "resample", "scans", "skipped", "young")

    def __init__(self, young: int = 100_000, resample: int = 8) -> None:
        self.young = young
        self.resample = resample
        self.quiet = 0  # scans in a row that found no garbage
        self.skipped = 0  # checkpoints since the last scan
        self.scans = 0
        self.freezes = 0
        self._enabled = gc.isenabled()
        self._threshold = gc.get_threshold()

    def start(self) -> None:
        """Freeze the existing objects and stop automatic collection."""
        gc.freeze()
        gc.disable()

    def checkpoint(self) -> None:
        """Collect (or only freeze) the young objects if enough were allocated since the last checkpoint."""
        if gc.get_count()[0] < self.young:
            return
        if self.quiet >= 2 and self.skipped < self.resample - 1:
            self.skipped += 1
            self.freezes += 1
        else:
            self.skipped = 0
            self.scans += 1
            self.quiet = self.quiet + 1 if gc.collect(0) == 0 else 0
        gc.freeze()

    def stop(self) -> None:
        """Unfreeze everything and restore automatic collection as it was."""
        gc.unfreeze()
        gc.set_threshold(*self._threshold)
        if self._enabled:
            gc.enable()


_GC_CHUNK = 16_384  # bars between garbage-collection checkpoints in the bar replay loop


def _decimal_curve(ts: list[int], raws: list[int]) -> list[tuple[int, Decimal]]:
    """Pair sample times with equity as Decimal (one Decimal per distinct consecutive value)."""
    out: list[tuple[int, Decimal]] = []
    add = out.append
    last_raw = None
    last = Decimal(0)
    for t, raw in zip(ts, raws, strict=True):
        if raw != last_raw:
            last_raw = raw
            last = raw_to_money_decimal(raw)
        add((t, last))
    return out


def _trade_record(t: ClosedTrade) -> TradeRecord:
    return TradeRecord(
        instrument_id=str(t.instrument_id),
        side=str(t.side),
        quantity=t.quantity.as_decimal(),
        entry_ts=t.ts_entry_ns,
        exit_ts=t.ts_exit_ns,
        entry_price=t.avg_px_entry,
        exit_price=t.avg_px_exit,
        pnl=t.realized_pnl.as_decimal(),
        fees=t.commissions.as_decimal(),
        currency=t.realized_pnl.currency.code,
    )


class _Once:
    """A no-argument function's result, computed on the first call."""

    __slots__ = ("_fn", "_value")

    def __init__(self, fn: Callable[[], Any]) -> None:
        self._fn: Callable[[], Any] | None = fn
        self._value: Any = None

    def __call__(self) -> Any:
        if self._fn is not None:
            self._value = self._fn()
            self._fn = None
        return self._value


class BacktestResult:
    """Outcome of a run.

    Attributes
    ----------
    trades : list[TradeRecord]
        Closed round trips in exit order; built on first access from the portfolio's closed trades (the
        summary is computed from their raw amounts).
    equity_curve : list[tuple[int, Decimal]]
        (ts_ns, equity in the first venue's base currency) after each bar (or each second of simulated time
        for tick data). The run records raw amounts; this list of Decimals is built on first access.
    equity_raw : list[int]
        The same equity samples as raw amounts (Money scale 1e9).
    summary : dict
        :func:`tradewire.analysis.stats.summarize` output plus run figures (events, wall seconds).
    fills : list[dict]
        Every execution (ts, client_order_id, side, qty, price, commission) as strings; built on first
        access from the run's fill events.
    """

    def __init__(
        self, trades: Callable[[], list[TradeRecord]], curve_ts: Callable[[], list[int]], equity_raw: list[int],
        summary: dict[str, Any], fills: Callable[[], list[dict[str, Any]]],
    ) -> None:  # fmt: skip
        """Hold a run's outcome; ``trades``, ``curve_ts`` and ``fills`` are called (once) on first access."""
        self._trades = trades
        self.equity_raw = equity_raw
        self.summary = summary
        self._curve_ts = curve_ts
        self._fills = fills
        self._curve: list[tuple[int, Decimal]] | None = None

    @property
    def trades(self) -> list[TradeRecord]:
        """Closed round trips in exit order (see the class docstring)."""
        return self._trades()

    @property
    def equity_ts(self) -> list[int]:
        """Sample times of :attr:`equity_raw` (UTC ns)."""
        return self._curve_ts()

    @property
    def equity_curve(self) -> list[tuple[int, Decimal]]:
        """(ts_ns, equity) pairs, Decimals with the representation of ``Money.as_decimal``."""
        if self._curve is None:
            self._curve = _decimal_curve(self._curve_ts(), self.equity_raw)
        return self._curve

    @property
    def fills(self) -> list[dict[str, Any]]:
        """Every execution of the run as a row of strings (see the class docstring)."""
        return self._fills()


class BacktestEngine:
    """Run strategies over recorded data with a simulated venue.

    Parameters
    ----------
    trader_id : str
        Trader id used for order ids.
    risk_config : object, optional
        RiskEngine configuration.
    periods_per_year : int
        For the Sharpe ratio (252 exchange-traded, 365 crypto).
    tune_gc : bool
        During :meth:`run`, move the objects that already exist (the loaded data) out of the cyclic
        garbage collector's scans (``gc.freeze``) and collect young objects at checkpoints of the replay
        loop, about every 100,000 allocations instead of 700, scanning less often while scans find no
        garbage (see ``_ReplayGc``); the collector's state is restored when the run ends. Results do not
        depend on it.

    Examples
    --------
    >>> engine = BacktestEngine()                                         # doctest: +SKIP
    >>> engine.add_venue(VenueConfig("SIM", [Money("100000", USD)]))      # doctest: +SKIP
    >>> engine.add_instrument(equity("ORCL", "SIM"))                      # doctest: +SKIP
    >>> engine.add_data(bars); engine.add_strategy(SmaCross(config=...))  # doctest: +SKIP
    >>> result = engine.run()                                             # doctest: +SKIP
    """

    def __init__(self, trader_id: str = "BACKTESTER-001", risk_config: Any = None, periods_per_year: int = 252,
                 tune_gc: bool = True) -> None:  # fmt: skip
        self.tune_gc = tune_gc
        self.clock = TestClock(0)
        self.kernel = Kernel(self.clock, trader_id, risk_config)
        self.periods_per_year = periods_per_year
        self._sources: list[list[Any]] = []
        self._bars_only: list[bool] = []  # per source: holds bars only (the replay loop needs no type dispatch)
        self._fills: list[dict[str, Any]] = []
        self._fill_events: list[OrderFilled] = []
        self.kernel.bus.subscribe("events.order.*", self._on_order_event)

    # -- set-up ---------------------------------------------------------------------------------
    def add_venue(self, config: VenueConfig) -> None:
        """Add a paper venue and its account."""
        self.kernel.add_venue(config)

    def add_instrument(self, instrument: Instrument) -> None:
        """Add an instrument."""
        self.kernel.add_instrument(instrument)

    def add_data(self, data: Iterable[Any]) -> None:
        """Add a stream of market data objects (or lists = batches of book deltas), any order.

        Raises
        ------
        ValueError
            If an object's instrument was not added.
        """
        items = list(data)
        if not items:
            return
        items.sort(key=_ts_of)
        known = self.kernel.cache.instruments
        first = items[0][0] if isinstance(items[0], list) else items[0]
        if first.instrument_id not in known:
            raise ValueError(f"add the instrument {first.instrument_id} before its data")
        bar_types = {o.bar_type for o in items if type(o) is Bar}
        self.kernel.external_bar_types.update(bar_types)
        self._sources.append(items)
        self._bars_only.append(bool(bar_types) and all(type(o) is Bar for o in items))

    def add_strategy(self, strategy: Strategy) -> None:
        """Add a strategy."""
        self.kernel.add_strategy(strategy)

    def _on_order_event(self, event: Any) -> None:
        if type(event) is OrderFilled:
            self._fill_events.append(event)

    def _fill_rows(self) -> list[dict[str, Any]]:
        """Fill events recorded so far as rows of strings (built once per run, not on every fill)."""
        rows = self._fills
        for event in self._fill_events[len(rows) :]:
            rows.append(
                {
                    "ts_event": event.ts_event,
                    "client_order_id": str(event.client_order_id),
                    "instrument_id": str(event.instrument_id),
                    "side": str(event.order_side),
                    "quantity": str(event.last_qty),
                    "price": str(event.last_px),
                    "commission": str(event.commission.as_decimal()),
                    "currency": event.commission.currency.code,
                }
            )
        return rows

    # -- run ------------------------------------------------------------------------------------
    def run(self, progress: Callable[[int, int], None] | None = None, progress_every: int = 50_000) -> BacktestResult:
        """Replay all data and return the result.

        Parameters
        ----------
        progress : callable(done, total), optional
            Called after the events with index 0, ``progress_every``, 2 ``progress_every`` ... and at the end.
        progress_every : int
            Events between progress calls (>= 1).

        Raises
        ------
        ValueError
            If no venue was added, or ``progress_every`` < 1.
        """
        k = self.kernel
        if not k.venues:
            raise ValueError("add a venue before running")
        if progress_every < 1:
            raise ValueError(f"progress_every must be >= 1, was {progress_every}")
        stream = self._sources[0] if len(self._sources) == 1 else list(heapq.merge(*self._sources, key=_ts_of))
        bars_only = all(self._bars_only)
        total = len(stream)
        if total:
            self.clock.set_time(_ts_of(stream[0]))
        venue_cfg = next(iter(k.venue_configs.values()))
        currency: Currency = venue_cfg.base_currency or venue_cfg.starting_balances[0].currency
        start_equity_raw = k.portfolio.equity_raw(currency)
        k.start()
        gc_policy = _ReplayGc() if self.tune_gc else None
        if gc_policy is not None:
            gc_policy.start()
        try:
            t0 = time.perf_counter()
            # equity samples as raw ints (Decimals only for the few figures reported)
            if bars_only:  # one sample per bar: the sample times are the bars' (listed only if asked for)
                curve_eq = self._replay_bars(stream, currency, start_equity_raw, progress, progress_every, gc_policy)
                ts_of_samples: list[Any] = stream
                ts_key: Callable[[Any], int] | None = _ts
            else:
                ts_of_samples, curve_eq = self._replay_mixed(
                    stream, currency, start_equity_raw, progress, progress_every, gc_policy
                )
                ts_key = None
            wall = time.perf_counter() - t0
        finally:
            if gc_policy is not None:
                gc_policy.stop()
        k.stop()
        if progress is not None:
            progress(total, total)
        closed = k.portfolio.closed_trades()
        n_fills = len(self._fill_events)
        summary = summarize_raw(
            [t.realized_pnl.raw for t in closed], [t.commissions.raw for t in closed], ts_of_samples, curve_eq,
            start_equity_raw, self.periods_per_year, n_fills, currency.code, ts_key=ts_key,
        )  # fmt: skip
        summary.update({"events": total, "wall_seconds": wall, "events_per_second": total / wall if wall > 0 else None})
        curve_ts = _Once(lambda: ts_of_samples if ts_key is None else list(map(ts_key, ts_of_samples)))
        trades = _Once(lambda: [_trade_record(t) for t in closed])
        return BacktestResult(trades, curve_ts, curve_eq, summary, _Once(lambda: self._fill_rows()[:n_fills]))

    def _replay_bars(self, stream: list[Bar], currency: Currency, last_eq: int,
                     progress: Callable[[int, int], None] | None, every: int,
                     gc_policy: _ReplayGc | None = None) -> list[int]:  # fmt: skip
        """Replay a stream of bars only; return the equity after each bar (raw).

        Per bar: fire due timers (else just set the clock), run the kernel's precomputed
        :meth:`Kernel.bar_pipeline` of its bar type, and sample equity, which only moves with a fill or,
        while a position is open, with the mark.
        """
        k = self.kernel
        clock = self.clock
        heap = clock._heap
        pf = k.portfolio
        equity_raw = pf.equity_raw
        figures, held = pf.equity_view(currency)  # equity_raw(currency) without a call while only it is held
        code = currency.code
        open_positions = pf.open_positions
        curve: list[int] = []
        add = curve.append
        last_fills = -1
        last_bt = None
        topology = -1
        pipe = None
        total = len(stream)
        # chunks end after the indices progress reports (0, every, 2 every, ...) and every _GC_CHUNK bars
        # (garbage-collection checkpoints): no per-bar check of either
        cuts = set(range(_GC_CHUNK, total, _GC_CHUNK)) if gc_policy is not None else set()
        if progress is not None:
            cuts.update(i + 1 for i in range(0, total, every))
        edges = sorted(cuts | {0, total})
        bounds = list(pairwise(edges))
        for lo, hi in bounds:
            for bar in stream if hi - lo == total else stream[lo:hi]:
                ts = bar.ts_event
                if heap and heap[0][0] <= ts:  # a timer may be due (the heap may hold canceled entries)
                    clock.advance_time(ts)
                else:
                    clock._now = ts
                bt = bar.bar_type
                if bt is not last_bt or k.topology != topology:
                    pipe = k.bar_pipeline(bt)
                    last_bt = bt
                    topology = k.topology
                pipe(bar)  # type: ignore[misc]
                if open_positions or pf.fill_count != last_fills:
                    last_fills = pf.fill_count
                    if not held or (len(held) == 1 and held[0] == code):
                        last_eq = figures[1]
                    else:
                        last_eq = equity_raw(currency)
                add(last_eq)
            if progress is not None and (hi - 1) % every == 0:
                progress(hi - 1, total)
            if gc_policy is not None:
                gc_policy.checkpoint()
        return curve

    def _replay_mixed(
        self, stream: list[Any], currency: Currency, last_eq: int, progress: Callable[[int, int], None] | None,
        every: int, gc_policy: _ReplayGc | None = None,
    ) -> tuple[list[int], list[int]]:  # fmt: skip
        """Replay a stream with ticks or book deltas; return sample times and equity (raw): after each bar,
        and at most once per second of simulated time otherwise."""
        k = self.kernel
        clock = self.clock
        heap = clock._heap
        process = k.process
        on_bar = k.process_bar
        pf = k.portfolio
        equity_raw = pf.equity_raw
        open_positions = pf.open_positions
        curve_ts: list[int] = []
        curve_eq: list[int] = []
        add_ts = curve_ts.append
        add_eq = curve_eq.append
        last_fills = -1
        next_sample = 0
        for i, obj in enumerate(stream):
            if type(obj) is Bar:
                ts = obj.ts_event
                if heap and heap[0][0] <= ts:
                    clock.advance_time(ts)
                else:
                    clock._now = ts
                on_bar(obj)
                if open_positions or pf.fill_count != last_fills:
                    last_fills = pf.fill_count
                    last_eq = equity_raw(currency)
                add_ts(ts)
                add_eq(last_eq)
                next_sample = ts + 1_000_000_000
            else:
                ts = obj[-1].ts_event if type(obj) is list else obj.ts_event
                if heap and heap[0][0] <= ts:
                    clock.advance_time(ts)
                else:
                    clock._now = ts
                process(obj)
                if ts >= next_sample:
                    if open_positions or pf.fill_count != last_fills:
                        last_fills = pf.fill_count
                        last_eq = equity_raw(currency)
                    add_ts(ts)
                    add_eq(last_eq)
                    next_sample = ts + 1_000_000_000
            if progress is not None and i % every == 0:
                progress(i, len(stream))
            if not i & 4095 and gc_policy is not None:
                gc_policy.checkpoint()
        return curve_ts, curve_eq
