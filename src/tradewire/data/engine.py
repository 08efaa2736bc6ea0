"""`DataEngine`: receives market data from `DataClient`s, keeps the `Cache` current, builds bars and
books, and publishes on the message bus.

Topics (see ARCHITECTURE.md):

- ``data.quotes.{instrument_id}`` — each ``QuoteTick``
- ``data.trades.{instrument_id}`` — each ``TradeTick``
- ``data.bars.{bar_type}`` — each ``Bar`` (venue-built or aggregated here)
- ``data.book.deltas.{instrument_id}`` — one ``list[OrderBookDelta]`` per venue batch (up to the delta
  carrying ``F_LAST``), published after the batch was applied to the book
- ``data.book.depth.{instrument_id}`` — an ``OrderBookDepth`` snapshot after each applied batch

Hot path: one ``type(obj)`` dict dispatch, dict reads of precomputed topic strings and aggregator
lists, and a publish only when the topic has subscribers.

Order book batching: deltas are buffered per instrument until the one with ``F_LAST``; the batch is
then applied to ``cache.books[instrument_id]`` in one go (so nobody ever sees a half-applied venue
message) and published. A source that never sets ``F_LAST`` never gets its deltas applied: every
tradewire loader and client sets it on the last delta of each venue message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import Clock
from tradewire.data.aggregation import BarAggregator, EmptyRule, make_aggregator
from tradewire.data.book import OrderBook
from tradewire.data.client import DataClient, DataKind
from tradewire.model.data import Bar, BarType, OrderBookDelta, QuoteTick, TradeTick
from tradewire.model.enums import PriceType
from tradewire.model.identifiers import InstrumentId, Venue

Handler = Callable[[Any], None]

_F_LAST = OrderBookDelta.F_LAST


class DataEngine:
    """Route market data from clients to the cache, aggregators, books and the bus.

    Parameters
    ----------
    bus : MessageBus
    cache : Cache
    clock : Clock
        Passed to time-bar aggregators so bars close at their boundary even without a following tick.
    empty_bars : {"skip", "flat"}
        Empty-interval rule for aggregated time bars (see :mod:`tradewire.data.aggregation`).
    depth_levels : int
        Levels per side in the ``data.book.depth`` snapshots.
    quality_monitor : object or None
        A ``tradewire.data.quality.DataQualityMonitor`` (fed through its ``on_quote``/``on_trade``/
        ``on_bar``/``on_delta`` methods, and ``check_book(book)`` after each applied batch), or anything
        with a ``process(obj)`` method, or a plain callable. It sees every object before it is published.
        Feed a monitor either this way or with its own ``attach()`` to the bus, not both.

    Attributes
    ----------
    counts : dict[str, int]
        Objects processed per kind (``quotes``, ``trades``, ``bars``, ``deltas``, ``batches``).
    """

    def __init__(
        self,
        bus: MessageBus,
        cache: Cache,
        clock: Clock,
        *,
        empty_bars: EmptyRule = "skip",
        depth_levels: int = 10,
        quality_monitor: Any = None,
    ) -> None:
        self.bus = bus
        self.cache = cache
        self.clock = clock
        self.empty_bars = empty_bars
        self.depth_levels = depth_levels
        self._clients: dict[Venue, DataClient] = {}
        self._default_client: DataClient | None = None
        self._quote_topics: dict[InstrumentId, str] = {}
        self._trade_topics: dict[InstrumentId, str] = {}
        self._delta_topics: dict[InstrumentId, tuple[str, str]] = {}
        self._quote_aggs: dict[InstrumentId, list[BarAggregator]] = {}
        self._trade_aggs: dict[InstrumentId, list[BarAggregator]] = {}
        self._aggregators: dict[BarType, BarAggregator] = {}
        self._pending_deltas: dict[InstrumentId, list[OrderBookDelta]] = {}
        self._refs: dict[tuple[DataKind, Any], int] = {}
        self._obs_quote = self._obs_trade = self._obs_bar = self._obs_delta = None
        self._obs_book: Handler | None = None
        self.quality_monitor = quality_monitor
        if quality_monitor is not None:
            if hasattr(quality_monitor, "on_quote"):  # DataQualityMonitor's per-type interface
                m = quality_monitor
                self._obs_quote, self._obs_trade, self._obs_bar = m.on_quote, m.on_trade, m.on_bar
                self._obs_delta, self._obs_book = m.on_delta, getattr(m, "check_book", None)
            else:
                fn = getattr(quality_monitor, "process", quality_monitor)
                if not callable(fn):
                    raise TypeError(f"quality_monitor {quality_monitor!r} has neither on_quote() nor process()")
                self._obs_quote = self._obs_trade = self._obs_bar = self._obs_delta = fn
        self._last_bt: BarType | None = None
        self._last_bar_pub: Handler | None = None
        self._bar_pubs: dict[BarType, Handler] = {}
        self.counts = {"quotes": 0, "trades": 0, "bars": 0, "deltas": 0, "batches": 0}
        self._dispatch: dict[type, Handler] = {
            QuoteTick: self._on_quote,
            TradeTick: self._on_trade,
            Bar: self._on_bar,
            OrderBookDelta: self._on_delta,
        }

    # ------------------------------------------------------------------ clients
    def register_client(self, client: DataClient, default: bool = False) -> None:
        """Attach a client: its data flows into :meth:`process`; subscriptions for its venue go to it.

        Parameters
        ----------
        default : bool
            Also route subscriptions for venues without a client of their own to this one.
        """
        client.set_handler(self.process)
        self._clients[client.venue] = client
        if default or self._default_client is None:
            self._default_client = client

    def client_for(self, instrument_id: InstrumentId) -> DataClient | None:
        """The client serving ``instrument_id``'s venue (else the default client, else None)."""
        return self._clients.get(instrument_id.venue, self._default_client)

    # ------------------------------------------------------------------ hot path
    def process(self, obj: Any) -> None:
        """Handle one market data object from a client (or a test).

        Raises
        ------
        TypeError
            If ``obj`` is not a ``QuoteTick``, ``TradeTick``, ``Bar`` or ``OrderBookDelta``.
        """
        try:
            fn = self._dispatch[type(obj)]
        except KeyError:
            raise TypeError(f"DataEngine cannot process {type(obj).__name__}") from None
        fn(obj)

    def _on_quote(self, q: QuoteTick) -> None:
        iid = q.instrument_id
        self.cache.quotes[iid] = q
        self.counts["quotes"] += 1
        if self._obs_quote is not None:
            self._obs_quote(q)
        aggs = self._quote_aggs.get(iid)
        if aggs:
            for a in aggs:
                a.handle_quote_tick(q)
        topic = self._quote_topics.get(iid)
        if topic is None:
            topic = self._quote_topics[iid] = f"data.quotes.{iid}"
        if self.bus.handlers(topic):
            self.bus.publish(topic, q)

    def _on_trade(self, t: TradeTick) -> None:
        iid = t.instrument_id
        self.cache.trades[iid] = t
        self.counts["trades"] += 1
        if self._obs_trade is not None:
            self._obs_trade(t)
        aggs = self._trade_aggs.get(iid)
        if aggs:
            for a in aggs:
                a.handle_trade_tick(t)
        topic = self._trade_topics.get(iid)
        if topic is None:
            topic = self._trade_topics[iid] = f"data.trades.{iid}"
        if self.bus.handlers(topic):
            self.bus.publish(topic, t)

    def process_bar(self, bar: Bar) -> None:
        """:meth:`process` for a ``Bar`` without the type dispatch (the backtest hot path)."""
        bt = bar.bar_type
        if bt is self._last_bt:  # bar types hash their fields on every lookup: skip it for a repeated type
            pub = self._last_bar_pub
        else:
            pub = self._bar_pubs.get(bt)
            if pub is None:
                pub = self._bar_pubs[bt] = self.bar_publisher(bt)
            self._last_bt = bt
            self._last_bar_pub = pub
        pub(bar)

    def bar_publisher(self, bar_type: BarType) -> Handler:
        """Return a function that does what :meth:`process_bar` does for one bar of ``bar_type``.

        The function keeps the topic ``data.bars.{bar_type}``, the cache, the counters and the topic's
        handler tuple in closure cells; it re-reads the handlers only when the bus's subscription
        :attr:`~tradewire.core.bus.MessageBus.version` moved, so it stays exact when handlers subscribe or
        unsubscribe at any time (even from inside a handler: the bar being published still goes to the
        handlers resolved before the first of them ran, as with :meth:`MessageBus.publish`).

        Parameters
        ----------
        bar_type : BarType
            Bars the function will be called with (it does not check ``bar.bar_type``).

        Returns
        -------
        callable(Bar) -> None
        """
        bus = self.bus
        topic = f"data.bars.{bar_type}"
        iid = bar_type.instrument_id
        bars = self.cache.bars
        counts = self.counts
        obs = self._obs_bar
        version = bus.version
        hs = bus.handlers(topic)

        def publish(bar: Bar) -> None:
            nonlocal version, hs
            bars[iid] = bar
            counts["bars"] += 1
            if obs is not None:
                obs(bar)
            if bus.version != version:
                version = bus.version
                hs = bus.handlers(topic)
            if hs:
                bus.pub_count += 1  # what bus.publish(topic, bar) does, without looking the handlers up
                for h in hs:
                    h(bar)

        return publish

    _on_bar = process_bar

    def _on_delta(self, d: OrderBookDelta) -> None:
        iid = d.instrument_id
        self.counts["deltas"] += 1
        pending = self._pending_deltas.get(iid)
        if pending is None:
            pending = self._pending_deltas[iid] = []
        pending.append(d)
        if self._obs_delta is not None:
            self._obs_delta(d)
        if d.flags & _F_LAST:
            self._pending_deltas[iid] = []
            self._apply_batch(iid, pending)

    def _apply_batch(self, iid: InstrumentId, batch: list[OrderBookDelta]) -> None:
        book = self.cache.books.get(iid)
        if book is None:
            book = self._new_book(iid, batch[0])
        book.apply_deltas(batch)
        self.counts["batches"] += 1
        if self._obs_book is not None:
            self._obs_book(book)
        topics = self._delta_topics.get(iid)
        if topics is None:
            topics = self._delta_topics[iid] = (f"data.book.deltas.{iid}", f"data.book.depth.{iid}")
        bus = self.bus
        if bus.handlers(topics[0]):
            bus.publish(topics[0], batch)
        if bus.handlers(topics[1]):
            bus.publish(topics[1], book.to_depth(self.depth_levels))

    def _new_book(self, iid: InstrumentId, first: OrderBookDelta) -> OrderBook:
        inst = self.cache.instruments.get(iid)
        if inst is not None:
            book = OrderBook(iid, inst.price_precision, inst.size_precision)
        else:
            book = OrderBook(iid, first.price.precision, first.size.precision)
        self.cache.books[iid] = book
        return book

    # ------------------------------------------------------------------ subscriptions
    def _ref(self, kind: DataKind, key: Any, delta: int) -> int:
        k = (kind, key)
        n = self._refs.get(k, 0) + delta
        if n <= 0:
            self._refs.pop(k, None)
            return 0
        self._refs[k] = n
        return n

    def _client_subscribe(self, kind: DataKind, key: Any) -> None:
        if self._ref(kind, key, +1) == 1:
            iid = key.instrument_id if kind is DataKind.BARS else key
            client = self.client_for(iid)
            if client is not None:
                getattr(client, _SUB[kind])(key)

    def _client_unsubscribe(self, kind: DataKind, key: Any) -> None:
        if (kind, key) in self._refs and self._ref(kind, key, -1) == 0:
            iid = key.instrument_id if kind is DataKind.BARS else key
            client = self.client_for(iid)
            if client is not None:
                getattr(client, _UNSUB[kind])(key)

    def subscribe_quote_ticks(self, instrument_id: InstrumentId, handler: Handler | None = None) -> None:
        """Subscribe ``handler`` to ``data.quotes.{instrument_id}`` and make sure the venue sends quotes."""
        if handler is not None:
            self.bus.subscribe(f"data.quotes.{instrument_id}", handler)
        self._client_subscribe(DataKind.QUOTES, instrument_id)

    def unsubscribe_quote_ticks(self, instrument_id: InstrumentId, handler: Handler | None = None) -> None:
        """Undo :meth:`subscribe_quote_ticks` (the venue stream stops with the last subscriber)."""
        if handler is not None:
            self.bus.unsubscribe(f"data.quotes.{instrument_id}", handler)
        self._client_unsubscribe(DataKind.QUOTES, instrument_id)

    def subscribe_trade_ticks(self, instrument_id: InstrumentId, handler: Handler | None = None) -> None:
        """Subscribe ``handler`` to ``data.trades.{instrument_id}`` and make sure the venue sends trades."""
        if handler is not None:
            self.bus.subscribe(f"data.trades.{instrument_id}", handler)
        self._client_subscribe(DataKind.TRADES, instrument_id)

    def unsubscribe_trade_ticks(self, instrument_id: InstrumentId, handler: Handler | None = None) -> None:
        """Undo :meth:`subscribe_trade_ticks`."""
        if handler is not None:
            self.bus.unsubscribe(f"data.trades.{instrument_id}", handler)
        self._client_unsubscribe(DataKind.TRADES, instrument_id)

    def subscribe_order_book_deltas(self, instrument_id: InstrumentId, handler: Handler | None = None) -> None:
        """Subscribe ``handler`` to delta batches (``list[OrderBookDelta]``); the engine maintains the book."""
        if handler is not None:
            self.bus.subscribe(f"data.book.deltas.{instrument_id}", handler)
        self._client_subscribe(DataKind.DELTAS, instrument_id)

    def unsubscribe_order_book_deltas(self, instrument_id: InstrumentId, handler: Handler | None = None) -> None:
        """Undo :meth:`subscribe_order_book_deltas`."""
        if handler is not None:
            self.bus.unsubscribe(f"data.book.deltas.{instrument_id}", handler)
        self._client_unsubscribe(DataKind.DELTAS, instrument_id)

    def subscribe_order_book_depth(self, instrument_id: InstrumentId, handler: Handler | None = None) -> None:
        """Subscribe ``handler`` to ``OrderBookDepth`` snapshots published after each applied batch."""
        if handler is not None:
            self.bus.subscribe(f"data.book.depth.{instrument_id}", handler)
        self._client_subscribe(DataKind.DELTAS, instrument_id)

    def unsubscribe_order_book_depth(self, instrument_id: InstrumentId, handler: Handler | None = None) -> None:
        """Undo :meth:`subscribe_order_book_depth`."""
        if handler is not None:
            self.bus.unsubscribe(f"data.book.depth.{instrument_id}", handler)
        self._client_unsubscribe(DataKind.DELTAS, instrument_id)

    def subscribe_bars(self, bar_type: BarType, handler: Handler | None = None, *, external: bool = False) -> None:
        """Subscribe ``handler`` to ``data.bars.{bar_type}``.

        Parameters
        ----------
        bar_type : BarType
        handler : callable or None
        external : bool
            True: the venue builds the bars (the client is asked for them). False (default): bars are
            aggregated here from trades (``LAST``) or quotes (``BID``/``ASK``/``MID``); the aggregator and
            the tick subscription it needs are created on the first subscription.

        Raises
        ------
        ValueError
            If the bar type cannot be aggregated from ticks (e.g. ``MONTH``).
        """
        if handler is not None:
            self.bus.subscribe(f"data.bars.{bar_type}", handler)
        if external:
            self._client_subscribe(DataKind.BARS, bar_type)
            return
        if bar_type in self._aggregators:
            self._ref(DataKind.BARS, ("agg", bar_type), +1)
            return
        iid = bar_type.instrument_id
        inst = self.cache.instruments.get(iid)
        agg = make_aggregator(
            bar_type,
            self._on_bar,
            price_precision=None if inst is None or bar_type.spec.price_type is PriceType.MID else inst.price_precision,
            size_precision=None if inst is None or bar_type.spec.price_type is PriceType.MID else inst.size_precision,
            clock=self.clock,
            empty=self.empty_bars,
        )
        self._aggregators[bar_type] = agg
        self._ref(DataKind.BARS, ("agg", bar_type), +1)
        if bar_type.spec.price_type is PriceType.LAST:
            self._trade_aggs.setdefault(iid, []).append(agg)
            self._client_subscribe(DataKind.TRADES, iid)
        else:
            self._quote_aggs.setdefault(iid, []).append(agg)
            self._client_subscribe(DataKind.QUOTES, iid)

    def unsubscribe_bars(self, bar_type: BarType, handler: Handler | None = None, *, external: bool = False) -> None:
        """Undo :meth:`subscribe_bars`; the aggregator is dropped with its last subscriber."""
        if handler is not None:
            self.bus.unsubscribe(f"data.bars.{bar_type}", handler)
        if external:
            self._client_unsubscribe(DataKind.BARS, bar_type)
            return
        key = (DataKind.BARS, ("agg", bar_type))
        if key not in self._refs or self._ref(DataKind.BARS, ("agg", bar_type), -1) > 0:
            return
        agg = self._aggregators.pop(bar_type)
        stop = getattr(agg, "stop", None)
        if stop is not None:
            stop()
        iid = bar_type.instrument_id
        if bar_type.spec.price_type is PriceType.LAST:
            self._trade_aggs[iid].remove(agg)
            self._client_unsubscribe(DataKind.TRADES, iid)
        else:
            self._quote_aggs[iid].remove(agg)
            self._client_unsubscribe(DataKind.QUOTES, iid)

    @property
    def aggregators(self) -> dict[BarType, BarAggregator]:
        """Active bar aggregators by bar type."""
        return dict(self._aggregators)

    def pending_deltas(self, instrument_id: InstrumentId) -> int:
        """Deltas received for ``instrument_id`` whose batch has not ended yet (no ``F_LAST`` seen)."""
        return len(self._pending_deltas.get(instrument_id, ()))


_SUB = {
    DataKind.QUOTES: "subscribe_quote_ticks",
    DataKind.TRADES: "subscribe_trade_ticks",
    DataKind.DELTAS: "subscribe_order_book_deltas",
    DataKind.BARS: "subscribe_bars",
}
_UNSUB = {k: "un" + v for k, v in _SUB.items()}
