"""`OrderFlowEngine`: incremental order-flow analytics per instrument, fed by a `DataEngine` over the bus.

The engine subscribes to ``data.trades.{id}``, ``data.book.deltas.{id}`` (batches, already applied to
``cache.books[id]``) and ``data.quotes.{id}``, keeps one :class:`InstrumentOrderFlow` per instrument and
publishes each :class:`~tradewire.orderflow.signals.OrderFlowSignal` on ``events.orderflow.{id}``. The
same code runs in backtests and live; time windows follow the data's ``ts_event`` (made monotonic per
instrument), so a replay gives the same figures as the live session did.

Sessions: cumulative delta, VWAP and the volume profile restart when ``ts_event`` crosses a session
boundary, every ``session_ns`` (default one day; None: never) from ``session_offset_ns`` after the UTC epoch.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import Clock
from tradewire.data.book import OrderBook
from tradewire.model.data import OrderBookDelta, QuoteTick, TradeTick
from tradewire.model.identifiers import InstrumentId
from tradewire.model.objects import FIXED_SCALAR, Price, raw_to_str
from tradewire.orderflow.book_metrics import BookFlow
from tradewire.orderflow.detectors import (
    AbsorptionDetector,
    ExhaustionDetector,
    IcebergDetector,
    ImbalanceDetector,
    LargeOrderDetector,
)
from tradewire.orderflow.footprint import FootprintAggregator, FootprintBar
from tradewire.orderflow.regime import RegimeIndicator, RollingCorrelation
from tradewire.orderflow.signals import OrderFlowSignal, SignalKind
from tradewire.orderflow.trades import CumulativeDelta, TradeClassifier, VolumeProfile, Vwap

SECOND = 1_000_000_000


@dataclass(frozen=True)
class OrderFlowConfig:
    """Parameters of the metrics and detectors (see each module for definitions).

    Attributes
    ----------
    depth_levels : int
        Levels per side for depth imbalances.
    decay_bps : float
        Distance decay of the weighted depth imbalance.
    depth_sample_ns : int
        Minimum event time between two computations of the top-N depth figures (default 100 ms, the
        cadence of Binance's depth stream); top of book, OFI and liquidity follow every batch.
    interval_ns : int
        Liquidity-interval length and CVD-series sampling step.
    cvd_window_ns : int
        Rolling CVD window.
    footprint_interval_ns : int
        Footprint bar length.
    row_raw : int | None
        Footprint/profile row height as a price raw; None = automatic: the tick size times the smallest
        power of ten that keeps the price under ``auto_rows`` rows (ES at 0.25 stays 0.25; BTC at 60,000
        with a 0.01 tick gets 10.00 rows).
    auto_rows : int
    imbalance_ratio : float
        Diagonal footprint imbalance ratio; ``stacked_rows`` consecutive rows make a stacked imbalance.
    session_ns : int | None
        Session length for CVD/VWAP/profile resets; None = never reset (one recorded session).
    session_offset_ns : int
        Session start offset from the UTC epoch grid (e.g. ``22 * 3600 * 10**9`` for a 22:00 UTC open).
    detectors : tuple[str, ...]
        Which detectors run (all by default).
    large_order, absorption, exhaustion, imbalance, iceberg, regime : dict
        Keyword arguments for each detector's constructor.
    keep_signals : int
        Recent signals kept for :meth:`InstrumentOrderFlow.snapshot`.
    microprice : MicropriceModel | None
        A fitted Stoikov micro-price model (:func:`tradewire.orderflow.microprice.fit_microprice`); when
        given, snapshots report the micro-price next to the weighted mid.
    """

    depth_levels: int = 10
    decay_bps: float = 5.0
    depth_sample_ns: int = 100_000_000
    interval_ns: int = SECOND
    cvd_window_ns: int = 60 * SECOND
    footprint_interval_ns: int = 60 * SECOND
    row_raw: int | None = None
    auto_rows: int = 20_000
    imbalance_ratio: float = 3.0
    stacked_rows: int = 3
    session_ns: int | None = 86_400 * SECOND
    session_offset_ns: int = 0
    detectors: tuple[str, ...] = ("large_order", "absorption", "exhaustion", "imbalance", "iceberg", "regime")
    large_order: dict | None = None
    absorption: dict | None = None
    exhaustion: dict | None = None
    imbalance: dict | None = None
    iceberg: dict | None = None
    regime: dict | None = None
    keep_signals: int = 200
    microprice: Any = None


def auto_row_raw(price_raw: int, tick_raw: int, max_rows: int) -> int:
    """Smallest ``tick * 10**k`` with ``price / row <= max_rows`` (>= one tick)."""
    row = max(tick_raw, 1)
    while price_raw // row > max_rows:
        row *= 10
    return row


class InstrumentOrderFlow:
    """All order-flow state of one instrument.

    Parameters
    ----------
    instrument_id : InstrumentId
    price_precision, size_precision : int
        Display precisions (raws stay exact).
    tick_raw : int
        Price increment raw (for the automatic row height).
    config : OrderFlowConfig
    emit : callable(OrderFlowSignal)
        Receives each signal.
    clock : Clock, optional
        Source of ``ts_init`` for signals (else the triggering data's ``ts_init``).
    """

    def __init__(
        self,
        instrument_id: InstrumentId,
        price_precision: int,
        size_precision: int,
        tick_raw: int,
        config: OrderFlowConfig,
        emit: Callable[[OrderFlowSignal], None],
        clock: Clock | None = None,
    ) -> None:
        cfg = config
        self.instrument_id = instrument_id
        self.price_precision = price_precision
        self.size_precision = size_precision
        self.tick_raw = tick_raw
        self.config = cfg
        self._emit = emit
        self._clock = clock
        self.classifier = TradeClassifier()
        self.cvd = CumulativeDelta(cfg.cvd_window_ns)
        self.vwap = Vwap()
        self.profile: VolumeProfile | None = None
        self.footprint: FootprintAggregator | None = None
        self.book = BookFlow(cfg.depth_levels, cfg.decay_bps, cfg.interval_ns, depth_sample_ns=cfg.depth_sample_ns)
        on = set(cfg.detectors)
        unknown = on - set(OrderFlowConfig.detectors)
        if unknown:
            raise ValueError(f"unknown detectors {sorted(unknown)}; known: {list(OrderFlowConfig.detectors)}")
        self.large = LargeOrderDetector(**(cfg.large_order or {})) if "large_order" in on else None
        self.absorption = AbsorptionDetector(**(cfg.absorption or {})) if "absorption" in on else None
        self.exhaustion = ExhaustionDetector(**(cfg.exhaustion or {})) if "exhaustion" in on else None
        self.imbalance = ImbalanceDetector(**(cfg.imbalance or {})) if "imbalance" in on else None
        self.iceberg = IcebergDetector(**(cfg.iceberg or {})) if "iceberg" in on else None
        rcfg = {"short": 30, "long": 300, **(cfg.regime or {})}
        self.regime = RegimeIndicator(**rcfg) if "regime" in on else None
        if self.iceberg is not None:
            self.book.level_hook = (self.iceberg.watch, self.iceberg.on_level)
        self.signals: deque[OrderFlowSignal] = deque(maxlen=cfg.keep_signals)
        self.signal_counts: dict[str, int] = {str(k): 0 for k in SignalKind}
        self.cvd_series: deque[tuple[int, int]] = deque(maxlen=600)  # (slot end ns, session CVD raw)
        self._cvd_slot_end: int | None = None
        self._next_tick = -(1 << 62)  # first event runs _tick
        self.now = 0
        self.session: int | None = None
        self.trades = 0
        self.volume_raw = 0
        self.batches = 0
        self.deltas = 0
        self.last_price_raw: int | None = None
        self._quote: tuple[int, int] | None = None  # (bid, ask) from quotes, when no book

    # ------------------------------------------------------------------ helpers
    def _signal(self, kind: SignalKind, det: tuple, ts: int, ts_init: int) -> None:
        strength, price_raw, details = det
        ti = self._clock.timestamp_ns() if self._clock is not None else ts_init
        price = None if price_raw is None else Price.from_raw(price_raw, self.price_precision)
        sig = OrderFlowSignal(self.instrument_id, kind, float(strength), price, ts, ti, details)
        self.signals.append(sig)
        self.signal_counts[kind.value] += 1
        self._emit(sig)

    def _time(self, ts: int) -> int:
        """Monotonic event time; runs the per-slot work (session check, CVD sample) when a slot ends."""
        if ts < self.now:
            return self.now
        self.now = ts
        if ts >= self._next_tick:
            self._tick(ts)
        return ts

    def _tick(self, ts: int) -> None:
        cfg = self.config
        if cfg.session_ns is None:
            s = 0
        else:
            s = (ts - cfg.session_offset_ns) // cfg.session_ns
        if s != self.session:
            if self.session is not None:
                self.new_session()
            self.session = s
        step = cfg.interval_ns
        end = self._cvd_slot_end
        if end is not None:
            self.cvd_series.append((end, self.cvd.session_raw))
            if self.iceberg is not None:
                self.iceberg.expire(ts)
        self._cvd_slot_end = ts - ts % step + step
        nxt = self._cvd_slot_end
        if cfg.session_ns is not None:
            nxt = min(nxt, (s + 1) * cfg.session_ns + cfg.session_offset_ns)
        self._next_tick = nxt

    def new_session(self) -> None:
        """Reset the session figures (CVD, VWAP, volume profile); bars and windows continue."""
        self.cvd.reset_session()
        self.vwap.reset()
        if self.profile is not None:
            self.profile.reset()

    def _init_rows(self, price_raw: int) -> None:
        cfg = self.config
        row = cfg.row_raw or auto_row_raw(price_raw, self.tick_raw, cfg.auto_rows)
        self.profile = VolumeProfile(row)
        self.footprint = FootprintAggregator(cfg.footprint_interval_ns, row, on_bar=self._on_footprint_bar)

    # ------------------------------------------------------------------ inputs
    def on_trade(self, t: TradeTick) -> None:
        """Process one trade (classification, CVD, VWAP, profile, footprint, trade detectors)."""
        ts = t.ts_event
        if ts < self.now:
            ts = self.now
        else:
            self.now = ts
            if ts >= self._next_tick:
                self._tick(ts)
        p = t.price.raw
        q = t.size.raw
        top = self.book.top_raw
        if top is not None:
            bid, ask = top[0], top[2]
        elif self._quote is not None:
            bid, ask = self._quote
        else:
            bid = ask = None
        sign, _ = self.classifier.classify(p, t.aggressor_side, bid, ask)
        self.trades += 1
        self.volume_raw += q
        self.last_price_raw = p
        cvd = self.cvd
        cvd.update(ts, sign, q)
        self.vwap.update(p, q)
        if self.footprint is None:
            self._init_rows(p)
        self.profile.update(p, q)
        self.footprint.update(ts, p, q, sign, cvd.session_raw)  # may close a bar -> exhaustion
        self.book.on_trade(ts, p, q, sign)
        ti = t.ts_init
        if self.large is not None:
            d = self.large.on_trade(ts, p, q, sign)
            if d is not None:
                self._signal(SignalKind.LARGE_ORDER, d, ts, ti)
        if self.absorption is not None:
            d = self.absorption.on_trade(ts, p, q, sign)
            if d is not None:
                self._signal(SignalKind.ABSORPTION, d, ts, ti)
        if self.imbalance is not None:
            d = self.imbalance.on_trade(ts, p, q, sign)
            if d is not None:
                self._signal(SignalKind.IMBALANCE, d, ts, ti)
        if self.iceberg is not None and sign:
            levels = self.book.bids if sign < 0 else self.book.asks
            self.iceberg.on_trade(ts, p, q, sign, levels.get(p, 0))
        if self.regime is not None and top is None:
            self._regime(ts, p / FIXED_SCALAR, ti)

    def on_deltas(self, deltas: list[OrderBookDelta], book: OrderBook | None) -> None:
        """Process one applied venue batch (``book`` is the book after the batch)."""
        if not deltas:
            return
        last = deltas[-1]
        ts = last.ts_event  # monotonic event time (inline of _time: this is the hot path)
        if ts < self.now:
            ts = self.now
        else:
            self.now = ts
            if ts >= self._next_tick:
                self._tick(ts)
        self.batches += 1
        self.deltas += len(deltas)
        bf = self.book
        biggest = bf.on_deltas(deltas)
        if book is None:
            return
        depth_updated = bf.on_batch(book, ts)
        ti = last.ts_init
        if self.iceberg is not None and self.iceberg.pending:
            for d in self.iceberg.pending:
                self._signal(SignalKind.ICEBERG, d, ts, ti)
            self.iceberg.pending.clear()
        if depth_updated is None:
            return
        mid2 = bf.mid2_raw
        if biggest is not None and self.large is not None and not (last.flags & OrderBookDelta.F_SNAPSHOT):
            # the batch's largest single-level increase, tested against the rolling distribution
            inc, side, price_raw = biggest
            d = self.large.on_level_increase(side, price_raw, inc, mid2)
            if d is not None:
                self._signal(SignalKind.LARGE_ORDER, d, ts, ti)
        if depth_updated and self.imbalance is not None:
            d = self.imbalance.on_depth(ts, bf.depth_imbalance)
            if d is not None:
                self._signal(SignalKind.IMBALANCE, d, ts, ti)
        if self.regime is not None:
            self._regime(ts, mid2 / (2 * FIXED_SCALAR), ti)

    def on_quote(self, q: QuoteTick) -> None:
        """Remember the best bid/ask for the quote rule when no L2 book feeds this instrument."""
        self._quote = (q.bid_price.raw, q.ask_price.raw)
        if self.book.top_raw is None and self.regime is not None:
            ts = self._time(q.ts_event)
            self._regime(ts, (q.bid_price.raw + q.ask_price.raw) / (2 * FIXED_SCALAR), q.ts_init)

    def _regime(self, ts: int, price: float, ti: int) -> None:
        st = self.regime.update(ts, price)
        if st is not None:
            er = st["efficiency_ratio"]
            sgn = 1 if st["trend"] == "up" else -1 if st["trend"] == "down" else 0
            self._signal(SignalKind.REGIME, (sgn * er, None, dict(st)), ts, ti)

    def _on_footprint_bar(self, bar: FootprintBar) -> None:
        if self.exhaustion is not None:
            d = self.exhaustion.on_bar(bar)
            if d is not None:
                self._signal(SignalKind.EXHAUSTION, d, bar.ts_event, bar.ts_event)

    def flush(self) -> None:
        """End of a recorded session: close the open footprint bar and liquidity interval."""
        if self.footprint is not None:
            self.footprint.flush()
        self.book.close_interval()

    # ------------------------------------------------------------------ output
    def _px(self, raw: int | None) -> str | None:
        return None if raw is None else raw_to_str(raw, self.price_precision)

    def _sz(self, raw: int) -> str:
        return raw_to_str(raw, self.size_precision)

    def totals(self) -> dict[str, Any]:
        """Session totals: volumes, CVD, VWAP, POC/value area, signal counts, classification methods."""
        cvd = self.cvd
        va = self.profile.value_area() if self.profile is not None else None
        v = self.vwap.vwap
        return {
            "instrument_id": str(self.instrument_id),
            "trades": self.trades,
            "book_batches": self.batches,
            "book_deltas": self.deltas,
            "volume": self._sz(self.volume_raw),
            "buy_volume": self._sz(cvd.buy_raw),
            "sell_volume": self._sz(cvd.sell_raw),
            "unclassified_volume": self._sz(cvd.neutral_raw),
            "cvd": self._sz(cvd.session_raw),
            "vwap": None if v is None else str(round(v, self.price_precision + 4)),
            "poc": self._px(self.profile.poc()) if self.profile is not None else None,
            "value_area_low": self._px(va[0]) if va else None,
            "value_area_high": self._px(va[1]) if va else None,
            "classification": {str(k): n for k, n in self.classifier.counts.items()},
            "signals": dict(self.signal_counts),
        }

    def snapshot(self, cvd_tail: int = 120, signals_tail: int = 20) -> dict[str, Any]:
        """JSON-friendly state for the API/dashboard.

        Returns
        -------
        dict
            ``totals`` (see :meth:`totals`), ``book`` (spread, mid, weighted mid, imbalances), ``cvd``
            (session, rolling, and the last ``cvd_tail`` ``[ts, cvd]`` samples as decimal strings),
            ``vwap`` (VWAP and sigma bands), ``footprint`` (the open bar, else the last closed one),
            ``liquidity`` (last closed interval: totals, OFI, the 10 busiest levels per side), ``regime``
            and the last ``signals_tail`` signals.
        """
        top = self.book.top
        book = None
        if top is not None:
            book = {
                "bid": self._px(top.bid_raw),
                "ask": self._px(top.ask_raw),
                "spread": self._px(top.spread_raw),
                "mid": str(top.mid2_raw / 2 / FIXED_SCALAR),
                "weighted_mid": top.weighted_mid,
                "microprice": None
                if self.config.microprice is None
                else self.config.microprice.microprice(top.bid_raw, top.bid_size_raw, top.ask_raw, top.ask_size_raw),
                "tob_imbalance": top.tob_imbalance,
                "depth_imbalance": top.depth_imbalance,
                "weighted_depth_imbalance": top.weighted_depth_imbalance,
                "ts_event": top.ts_event,
            }
        fp = self.footprint
        bar = None
        if fp is not None:
            b = fp.current or (fp.bars[-1] if fp.bars else None)
            if b is not None:
                bar = b.to_dict(
                    self.price_precision, self.size_precision, self.config.imbalance_ratio, self.config.stacked_rows
                )
        liq = None
        if self.book.intervals:
            iv = self.book.intervals[-1]

            def busiest(levels: dict[int, tuple[int, int, int]]) -> list[dict[str, str]]:
                top = sorted(levels.items(), key=lambda kv: -(kv[1][0] + kv[1][1]))[:10]
                return [
                    {"price": self._px(p), "added": self._sz(a), "removed": self._sz(r), "traded": self._sz(t)}
                    for p, (a, r, t) in top
                ]

            liq = {
                "start_ns": iv.start_ns,
                "end_ns": iv.end_ns,
                "added": self._sz(iv.added_raw),
                "removed": self._sz(iv.removed_raw),
                "traded": self._sz(iv.traded_raw),
                "ofi": self._sz(iv.ofi_raw),
                "bid_levels": busiest(iv.bids),
                "ask_levels": busiest(iv.asks),
            }
        tail = list(self.cvd_series)[-cvd_tail:] if cvd_tail else []
        return {
            "totals": self.totals(),
            "book": book,
            "cvd": {
                "session": self._sz(self.cvd.session_raw),
                "rolling": self._sz(self.cvd.rolling_raw),
                "series": [[ts, self._sz(v)] for ts, v in tail],
            },
            "vwap": self.vwap.bands(),
            "footprint": bar,
            "liquidity": liq,
            "regime": self.regime.state if self.regime is not None else None,
            "signals": [s.to_dict() for s in list(self.signals)[-signals_tail:]] if signals_tail else [],
        }


class OrderFlowEngine:
    """Order-flow analytics for the instruments it is asked to follow.

    Parameters
    ----------
    bus : MessageBus
    cache : Cache
        For instruments (precisions, tick size) and the books the data engine maintains.
    clock : Clock, optional
        ``ts_init`` of signals.
    data_engine : DataEngine-like, optional
        If given, :meth:`subscribe` goes through its ``subscribe_*`` methods (so the venue streams are
        requested); otherwise straight to the bus topics.
    config : OrderFlowConfig, optional
    correlation_window : int
        Grid steps (``config.interval_ns``) in the rolling correlation matrix. Prices are sampled for it
        only while at least two instruments are followed (its history starts with the second one).

    Examples
    --------
    >>> engine = OrderFlowEngine(bus, cache, clock, data_engine)          # doctest: +SKIP
    >>> engine.subscribe(InstrumentId("BTCUSDT.BINANCE"))                   # doctest: +SKIP
    >>> bus.subscribe("events.orderflow.*", print)                          # doctest: +SKIP
    """

    def __init__(
        self,
        bus: MessageBus,
        cache: Cache,
        clock: Clock | None = None,
        data_engine: Any = None,
        config: OrderFlowConfig | None = None,
        correlation_window: int = 300,
    ) -> None:
        self.bus = bus
        self.cache = cache
        self.clock = clock
        self.data_engine = data_engine
        self.config = config or OrderFlowConfig()
        self.instruments: dict[InstrumentId, InstrumentOrderFlow] = {}
        self.correlation = RollingCorrelation(self.config.interval_ns, correlation_window)
        self._handlers: dict[InstrumentId, list[tuple[str, Callable]]] = {}
        self._correlate = False  # prices are sampled for the correlation only while >= 2 instruments are followed

    def _state_for(self, iid: InstrumentId) -> InstrumentOrderFlow:
        inst = self.cache.instruments.get(iid)
        if inst is None:
            raise KeyError(f"instrument {iid} is not in the cache: add it before following its order flow")
        pp, sp, tick = inst.price_precision, inst.size_precision, inst.tick_size.raw
        topic = f"events.orderflow.{iid}"
        bus = self.bus

        def emit(sig: OrderFlowSignal, _topic: str = topic) -> None:
            bus.publish(_topic, sig)

        st = InstrumentOrderFlow(iid, pp, sp, tick, self.config, emit, self.clock)
        self.instruments[iid] = st
        return st

    def subscribe(self, instrument_id: InstrumentId | str) -> InstrumentOrderFlow:
        """Follow ``instrument_id``: trades, book delta batches and quotes (idempotent).

        Raises
        ------
        KeyError
            If the instrument is not in the cache (its precisions and tick size are needed).
        ValueError
            If the configuration names an unknown detector.
        """
        iid = InstrumentId(str(instrument_id))
        st = self.instruments.get(iid)
        if st is not None:
            return st
        st = self._state_for(iid)
        cache = self.cache
        corr = self.correlation
        key = str(iid)

        engine = self

        def on_trade(t: TradeTick) -> None:
            st.on_trade(t)
            if engine._correlate and st.book.top_raw is None:
                corr.update(key, st.now, t.price.raw / FIXED_SCALAR)

        def on_deltas(batch: list[OrderBookDelta]) -> None:
            st.on_deltas(batch, cache.books.get(iid))
            if engine._correlate:
                mid2 = st.book.mid2_raw
                if mid2 is not None:
                    corr.update(key, st.now, mid2 / (2 * FIXED_SCALAR))

        def on_quote(q: QuoteTick) -> None:
            st.on_quote(q)

        subs = [
            (f"data.trades.{iid}", on_trade, "subscribe_trade_ticks"),
            (f"data.book.deltas.{iid}", on_deltas, "subscribe_order_book_deltas"),
            (f"data.quotes.{iid}", on_quote, "subscribe_quote_ticks"),
        ]
        for topic, handler, via in subs:
            if self.data_engine is not None:
                getattr(self.data_engine, via)(iid, handler)
            else:
                self.bus.subscribe(topic, handler)
        self._handlers[iid] = [(t, h) for t, h, _ in subs]
        self._correlate = len(self.instruments) > 1
        return st

    def unsubscribe(self, instrument_id: InstrumentId | str) -> None:
        """Stop following ``instrument_id`` (its state is dropped)."""
        iid = InstrumentId(str(instrument_id))
        vias = ("unsubscribe_trade_ticks", "unsubscribe_order_book_deltas", "unsubscribe_quote_ticks")
        for (topic, handler), via in zip(self._handlers.pop(iid, []), vias, strict=False):
            if self.data_engine is not None:
                getattr(self.data_engine, via)(iid, handler)
            else:
                self.bus.unsubscribe(topic, handler)
        self.instruments.pop(iid, None)
        self._correlate = len(self.instruments) > 1

    def flush(self) -> None:
        """Close open footprint bars and liquidity intervals (end of a recorded session)."""
        for st in self.instruments.values():
            st.flush()

    def snapshot(self, cvd_tail: int = 120, signals_tail: int = 20) -> dict[str, Any]:
        """JSON-friendly state of every followed instrument plus the return-correlation matrix."""
        keys, matrix = self.correlation.matrix()
        return {
            "instruments": {str(k): st.snapshot(cvd_tail, signals_tail) for k, st in self.instruments.items()},
            "correlation": {"instruments": keys, "matrix": matrix},
        }


__all__ = ["InstrumentOrderFlow", "OrderFlowConfig", "OrderFlowEngine", "auto_row_raw"]
