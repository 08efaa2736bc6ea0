"""`CcxtDataClient`: market data from a ccxt exchange's public streams (ccxt.pro), REST polling as fallback.

Streams used: ``watch_order_book`` (L2 deltas), ``watch_trades`` (trade ticks), ``watch_bids_asks`` (quote
ticks) and ``watch_ohlcv`` (bars, emitted when the venue starts the next candle). A venue without a stream
is polled over REST (``fetch_order_book`` snapshots, ``fetch_trades``, ``fetch_ohlcv``).

Order book sequencing (documented choice): for Binance the client follows the venue's raw diff stream,
not ccxt's float book. ccxt keeps the ``<symbol>@depth@100ms`` subscription alive; every raw
``depthUpdate`` (with its ``U``/``u`` update ids, futures ``pu``) is handed to a
:class:`~tradewire.data.sync.BinanceSpotSynchronizer` (or ``BinanceFuturesSynchronizer``), diffs are
buffered until a REST snapshot (``GET /api/v3/depth?limit=1000``, exact decimal text) is applied, and each
later diff must continue the previous one (Binance Spot API docs, "How to manage a local order book
correctly"). A gap marks the book stale, is reported to the data-quality monitor, and a fresh snapshot
resynchronizes it. Other venues get ccxt's own nonce checks: each ``watch_order_book`` result is a full
book, delivered as a snapshot batch of deltas (``F_SNAPSHOT``).

Reconnects: a broken stream is retried with exponential backoff and full jitter
(:class:`~tradewire.venues.ccxt.retry.RetryPolicy`); on reconnect ccxt resubscribes and the book is rebuilt
from a fresh snapshot (a CLEAR-first snapshot batch reaches the engine). Every break is reported to the
:class:`~tradewire.data.quality.DataQualityMonitor` as a sequence gap (with the update ids skipped) and its
staleness timer sees the silence.

Threads: streams run on the connection's event loop; model objects reach the engine (``_handle``) through
the connection's inbox, on the engine thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tradewire.core.clock import Clock, LiveClock
from tradewire.data.book import OrderBook
from tradewire.data.client import DataClient, DataKind
from tradewire.data.quality import DataQualityMonitor
from tradewire.data.sync import BinanceFuturesSynchronizer, BinanceSpotSynchronizer, SequenceGap, SyncedOrderBook
from tradewire.model.data import Bar, BarType, OrderBookDelta, QuoteTick, TradeTick
from tradewire.model.enums import BarAggregation
from tradewire.model.identifiers import InstrumentId, TradeId
from tradewire.model.instruments import Instrument
from tradewire.venues.ccxt.errors import VenueError, classify
from tradewire.venues.ccxt.factories import CcxtConnection
from tradewire.venues.ccxt.parsing import aggressor_from_trade, depth_deltas, first, price, quantity
from tradewire.venues.ccxt.retry import RetryPolicy, retry_async

_log = logging.getLogger(__name__)
_MS = 1_000_000
_TIMEFRAME = {BarAggregation.SECOND: "s", BarAggregation.MINUTE: "m", BarAggregation.HOUR: "h",
              BarAggregation.DAY: "d", BarAggregation.WEEK: "w"}  # fmt: skip


def timeframe_of(bar_type: BarType) -> str:
    """ccxt timeframe of a time bar type (``1-MINUTE-LAST`` -> ``1m``); raises ValueError otherwise."""
    spec = bar_type.spec
    unit = _TIMEFRAME.get(spec.aggregation)
    if unit is None or spec.price_type.value != "last":
        raise ValueError(f"{bar_type}: venues only build LAST time bars (second..week)")
    return f"{spec.step}{unit}"


@dataclass
class _BookState:
    instrument: Instrument
    synced: SyncedOrderBook
    last_u: int | None = None
    broken: bool = False
    messages: int = 0
    waiters: list[asyncio.Event] = field(default_factory=list)


class CcxtDataClient(DataClient):
    """Data client for one ccxt connection (see module docstring).

    Parameters
    ----------
    connection : CcxtConnection
        Shared with the execution client; its instruments are loaded on :meth:`connect`.
    clock : Clock
        Source of ``ts_init``.
    quality : DataQualityMonitor | None
        Told about every sequence gap and stream break (on the engine thread).
    retry : RetryPolicy
        Backoff for reconnects and REST calls.
    snapshot_limit : int
        Levels requested for book snapshots (Binance: up to 5000; 1000 matches the recipe).
    poll_interval_s : float
        Period of REST polling where a venue lacks a stream.
    keep_books : bool
        Also apply every delivered batch to the client's own book (``books``), e.g. to compare with the
        venue in tests. The engine maintains its own book either way; the sequencing does not need it.

    Attributes
    ----------
    books : dict[InstrumentId, SyncedOrderBook]
        The client's synchronizers and (with ``keep_books``) books (event-loop thread; read when quiescent).
    reconnects, snapshots : int
        Counters.
    """

    def __init__(
        self,
        connection: CcxtConnection,
        clock: Clock,
        quality: DataQualityMonitor | None = None,
        retry: RetryPolicy = RetryPolicy(max_attempts=1_000_000, base_delay=0.25, max_delay=30.0),
        snapshot_limit: int = 1000,
        poll_interval_s: float = 2.0,
        keep_books: bool = False,
    ) -> None:
        super().__init__(connection.venue)
        self.keep_books = keep_books
        self.conn = connection
        self.ex = connection.exchange
        self.clock = clock
        self.quality = quality
        self.retry = retry
        self.snapshot_limit = snapshot_limit
        self.poll_interval_s = poll_interval_s
        self.books: dict[InstrumentId, SyncedOrderBook] = {}
        self._book_state: dict[str, _BookState] = {}  # venue market id -> state
        self._tasks: dict[tuple[DataKind, Any], asyncio.Task] = {}
        self.reconnects = 0
        self.snapshots = 0
        self.raw_book_mode = connection.config.exchange.startswith("binance")
        if self.raw_book_mode:
            connection.add_depth_listener(self._on_raw_depth)

    # ------------------------------------------------------------------ lifecycle
    async def connect(self) -> None:
        """Load instruments (once)."""
        if not self.conn.instruments.instruments:
            await self.conn.instruments.load()
        self.is_connected = True

    async def disconnect(self) -> None:
        """Stop every stream task."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.is_connected = False

    async def request_instruments(self) -> list[Instrument]:
        """Instruments of the connection's market type."""
        await self.connect()
        return list(self.conn.instruments.instruments.values())

    def connect_blocking(self, timeout: float = 60.0) -> None:
        """:meth:`connect` from a non-loop thread."""
        self.conn.run(self.connect(), timeout)

    def disconnect_blocking(self, timeout: float = 10.0) -> None:
        """:meth:`disconnect` from a non-loop thread."""
        if self.conn.loop.running:
            self.conn.run(self.disconnect(), timeout)

    # ------------------------------------------------------------------ subscriptions (engine thread)
    def _subscribe(self, kind: DataKind, key: InstrumentId | BarType) -> None:
        runner = {DataKind.DELTAS: self._run_book, DataKind.TRADES: self._run_trades,
                  DataKind.QUOTES: self._run_quotes, DataKind.BARS: self._run_bars}[kind]  # fmt: skip

        def start() -> None:
            self._tasks[(kind, key)] = asyncio.get_running_loop().create_task(runner(key))

        self.conn.loop.loop.call_soon_threadsafe(start)

    def _unsubscribe(self, kind: DataKind, key: InstrumentId | BarType) -> None:
        def stop() -> None:
            t = self._tasks.pop((kind, key), None)
            if t is not None:
                t.cancel()

        self.conn.loop.loop.call_soon_threadsafe(stop)

    # ------------------------------------------------------------------ delivery
    def _deliver(self, obj: Any) -> None:
        self.conn.inbox.put(self._handle, obj)

    def _deliver_batch(self, batch: list[OrderBookDelta]) -> None:
        if batch:
            self.conn.inbox.put(self._handle_batch, batch)

    def _handle_batch(self, batch: list[OrderBookDelta]) -> None:
        for d in batch:
            self._handle(d)

    def _report_gap(self, gap: SequenceGap) -> None:
        if self.quality is not None:
            self.conn.inbox.put(self.quality.record_sequence_gap, gap)

    def _ts(self) -> int:
        return self.clock.timestamp_ns()

    async def _stream(self, what: str, body: Callable[[], Any], on_break: Callable[[], None] | None = None) -> None:
        """Run ``body`` (one watch call + handling) forever, reconnecting with backoff and jitter."""
        attempt = 0
        while True:
            try:
                await body()
                attempt = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                err = classify(exc)
                delay = self.retry.delay(min(attempt, 10)) + (0.0 if err.temporary else 5.0)
                _log.warning("%s %s stream broke (%s); reconnect in %.2f s", self.venue, what, err.reason[:160], delay)
                attempt += 1
                self.reconnects += 1
                if on_break is not None:
                    on_break()
                await asyncio.sleep(delay)

    # ------------------------------------------------------------------ order book
    async def _run_book(self, iid: InstrumentId) -> None:
        inst = self.conn.instruments.get(iid)
        sym = self.conn.instruments.symbols.ccxt_symbol(iid)
        if not self.ex.has.get("watchOrderBook"):
            await self._poll_book(inst, sym)
            return
        if not self.raw_book_mode:
            await self._stream(f"book {iid}", lambda: self._watch_full_book(inst, sym))
            return
        market = self.ex.market(sym)
        rule = BinanceFuturesSynchronizer if market.get("contract") else BinanceSpotSynchronizer
        book = OrderBook(iid, inst.price_precision, inst.size_precision)
        synced = SyncedOrderBook(book, rule(iid, on_gap=self._report_gap))
        st = _BookState(inst, synced)
        self.books[iid] = synced
        self._book_state[market["id"]] = st

        def on_break() -> None:
            st.broken = True
            synced.sync.reset()

        watch: asyncio.Future | None = None

        async def body() -> None:
            nonlocal watch
            if watch is None or watch.done():
                watch = asyncio.ensure_future(self._subscribe_depth(market))
            if synced.stale:
                await self._resync_book(st, sym, watch)
            await watch  # never resolves while the socket lives; raises when it drops
            watch = None

        try:
            await self._stream(f"book {iid}", body, on_break)
        finally:
            if watch is not None:
                watch.cancel()

    async def _resync_book(self, st: _BookState, sym: str, watch: asyncio.Future) -> None:
        """Binance recipe: wait for the first buffered diff, fetch a snapshot, apply the diffs that bridge it."""
        synced = st.synced
        deadline = time.monotonic() + 2.0
        while synced.sync.buffered == 0 and time.monotonic() < deadline and not watch.done():
            await asyncio.sleep(0.005)
        if watch.done() and watch.exception() is not None:
            return  # the socket broke again: the caller's loop backs off
        market_id = self.ex.market(sym)["id"]
        for _ in range(5):
            raw = await retry_async(lambda: self._rest_depth(market_id), RetryPolicy(max_attempts=5),
                                    what=f"{self.venue} depth snapshot")  # fmt: skip
            last_id = int(raw["lastUpdateId"])
            ts = self._ts()
            iid = st.instrument.id
            snap = depth_deltas(iid, raw["bids"], raw["asks"], st.instrument.price_precision,
                                st.instrument.size_precision, last_id, ts, ts, snapshot=True)  # fmt: skip
            if st.broken and st.last_u is not None and last_id > st.last_u:
                gap = SequenceGap(iid, synced.sync.rule, "gap", st.last_u + 1, last_id, st.last_u + 1, last_id, ts, ts)
                synced.sync.gaps.append(gap)
                self._report_gap(gap)
            st.broken = False
            pending = synced.sync.on_snapshot(last_id, ts, ts)
            synced.book.clear()
            if self.keep_books:
                synced.book.apply_deltas(snap)
            synced.book.sequence = last_id
            self.snapshots += 1
            self._deliver_batch(snap)
            for batch in pending:
                if self.keep_books:
                    synced.book.apply_deltas(batch)
                self._deliver_batch(batch)
            synced.book.sequence = synced.sync.last_update_id or last_id
            st.last_u = synced.sync.last_update_id
            if not synced.stale:
                return
            await asyncio.sleep(0.05)  # snapshot older than the buffered diffs: take another
        raise VenueError(f"{st.instrument.id}: could not synchronize the book after 5 snapshots")

    def _subscribe_depth(self, market: dict[str, Any]) -> Any:
        """Subscribe ccxt's socket to ``<symbol>@depth@100ms`` without ccxt's own book.

        ``watch_order_book`` would also keep a float book and fetch a second REST snapshot (weight) per
        subscription; the raw stream is all the synchronizer needs. The returned future only settles with the
        connection's error (ccxt rejects every pending future of a closed socket), which drives reconnects.
        """
        ex = self.ex
        mtype = "spot" if market.get("spot") else ("linear" if market.get("linear") else "inverse")
        name = f"{market['lowercaseId']}@depth@100ms"
        url = ex.get_ws_url(mtype, "public") + "/" + ex.stream(mtype, "tradewire-depth::" + market["symbol"])
        request = {"method": "SUBSCRIBE", "params": [name], "id": ex.request_id(url)}
        subscription = {"id": str(request["id"]), "name": name}
        return ex.watch(url, "tradewire-depth::" + market["symbol"], request, name, subscription)

    async def _rest_depth(self, market_id: str) -> dict[str, Any]:
        """Raw depth snapshot with the venue's decimal text (ccxt's unified one turns prices into floats)."""
        ex = self.ex
        market = ex.markets_by_id[market_id][0]
        req = {"symbol": market_id, "limit": self.snapshot_limit}
        if market.get("linear"):
            return await ex.fapiPublicGetDepth(req)
        if market.get("inverse"):
            return await ex.dapiPublicGetDepth(req)
        return await ex.publicGetDepth(req)

    def _on_raw_depth(self, msg: dict[str, Any]) -> None:
        """Every raw Binance ``depthUpdate`` (event-loop thread, before ccxt applies it)."""
        st = self._book_state.get(msg.get("s", ""))
        if st is None:
            return
        st.messages += 1
        ts = self._ts()
        te = int(msg.get("E") or 0) * _MS or ts
        u = int(msg["u"])
        inst = st.instrument
        deltas = depth_deltas(inst.id, msg.get("b", []), msg.get("a", []), inst.price_precision,
                              inst.size_precision, u, te, ts)  # fmt: skip
        synced = st.synced
        before = synced.sync.last_update_id
        out = synced.sync.on_update(int(msg["U"]), u, msg.get("pu"), deltas, te, ts)
        for batch in out:
            if self.keep_books:
                synced.book.apply_deltas(batch)
            synced.book.sequence = u
            self._deliver_batch(batch)
        if out:
            st.last_u = u
        elif synced.stale and before is not None and st.last_u is None:
            st.last_u = before

    async def _watch_full_book(self, inst: Instrument, sym: str) -> None:
        ob = await self.ex.watch_order_book(sym, self.snapshot_limit)
        self._deliver_full_book(inst, ob)

    def _deliver_full_book(self, inst: Instrument, ob: dict[str, Any]) -> None:
        ts = self._ts()
        te = int(ob.get("timestamp") or 0) * _MS or ts
        deltas = depth_deltas(inst.id, [b[:2] for b in ob["bids"]], [a[:2] for a in ob["asks"]],
                              inst.price_precision, inst.size_precision, int(ob.get("nonce") or 0), te, ts,
                              snapshot=True)  # fmt: skip
        self._deliver_batch(deltas)

    async def _poll_book(self, inst: Instrument, sym: str) -> None:
        while True:
            ob = await retry_async(lambda: self.ex.fetch_order_book(sym, self.snapshot_limit), self.retry)
            self._deliver_full_book(inst, ob)
            await asyncio.sleep(self.poll_interval_s)

    # ------------------------------------------------------------------ trades, quotes, bars
    def _trade_tick(self, inst: Instrument, t: dict[str, Any]) -> TradeTick:
        info = t.get("info") or {}
        ts = self._ts()
        te = int(t.get("timestamp") or first(info, "T", "E") or 0) * _MS or ts
        return TradeTick(inst.id, price(first(info, "p") or t["price"], inst.price_precision),
                         quantity(first(info, "q") or t["amount"], inst.size_precision), aggressor_from_trade(t),
                         TradeId(str(t.get("id") or first(info, "t", "a"))), te, ts)  # fmt: skip

    async def _run_trades(self, iid: InstrumentId) -> None:
        inst = self.conn.instruments.get(iid)
        sym = self.conn.instruments.symbols.ccxt_symbol(iid)
        if self.ex.has.get("watchTrades"):

            async def body() -> None:
                for t in await self.ex.watch_trades(sym):
                    self._deliver(self._trade_tick(inst, t))

            await self._stream(f"trades {iid}", body)
            return
        since: int | None = None
        seen: set[str] = set()
        while True:  # REST polling fallback
            trades = await retry_async(lambda s=since: self.ex.fetch_trades(sym, s), self.retry)
            for t in trades:
                if str(t["id"]) not in seen:
                    seen.add(str(t["id"]))
                    self._deliver(self._trade_tick(inst, t))
                since = max(since or 0, int(t["timestamp"]))
            if len(seen) > 100_000:
                seen.clear()
            await asyncio.sleep(self.poll_interval_s)

    async def _run_quotes(self, iid: InstrumentId) -> None:
        inst = self.conn.instruments.get(iid)
        sym = self.conn.instruments.symbols.ccxt_symbol(iid)
        pp, sp = inst.price_precision, inst.size_precision

        def quote(tk: dict[str, Any]) -> QuoteTick:
            info = tk.get("info") or {}
            ts = self._ts()
            te = int(tk.get("timestamp") or first(info, "E", "T") or 0) * _MS or ts  # spot bookTicker has no time
            return QuoteTick(inst.id, price(first(info, "b") or tk["bid"], pp),
                             price(first(info, "a") or tk["ask"], pp),
                             quantity(first(info, "B") or tk.get("bidVolume") or 0, sp),
                             quantity(first(info, "A") or tk.get("askVolume") or 0, sp), te, ts)  # fmt: skip

        if self.ex.has.get("watchBidsAsks"):

            async def body() -> None:
                tickers = await self.ex.watch_bids_asks([sym])
                tk = tickers.get(sym)
                if tk and tk.get("bid") is not None and tk.get("ask") is not None:
                    self._deliver(quote(tk))

            await self._stream(f"quotes {iid}", body)
            return
        while True:
            tk = await retry_async(lambda: self.ex.fetch_ticker(sym), self.retry)
            if tk.get("bid") is not None and tk.get("ask") is not None:
                self._deliver(quote(tk))
            await asyncio.sleep(self.poll_interval_s)

    async def _run_bars(self, bar_type: BarType) -> None:
        iid = bar_type.instrument_id
        inst = self.conn.instruments.get(iid)
        sym = self.conn.instruments.symbols.ccxt_symbol(iid)
        tf = timeframe_of(bar_type)
        step_ns = bar_type.spec.interval_ns
        last_open: list[Any] = [None]
        pending: list[Any] = [None]

        def emit(c: list[Any]) -> None:
            pp, sp = inst.price_precision, inst.size_precision
            self._deliver(Bar(bar_type, price(c[1], pp), price(c[2], pp), price(c[3], pp), price(c[4], pp),
                              quantity(c[5], sp), int(c[0]) * _MS + step_ns, self._ts()))  # fmt: skip

        def offer(candles: list[list[Any]]) -> None:
            for c in sorted(candles, key=lambda c: c[0]):
                if last_open[0] is not None and c[0] < last_open[0]:
                    continue
                if pending[0] is not None and c[0] > pending[0][0]:
                    emit(pending[0])  # a newer candle started: the previous one is closed
                pending[0] = c
                last_open[0] = c[0]

        if self.ex.has.get("watchOHLCV"):

            async def body() -> None:
                offer(await self.ex.watch_ohlcv(sym, tf))

            await self._stream(f"bars {bar_type}", body)
            return
        while True:
            offer(await retry_async(lambda: self.ex.fetch_ohlcv(sym, tf, last_open[0]), self.retry))
            await asyncio.sleep(self.poll_interval_s)


# ---------------------------------------------------------------------------------------------- paper on live data
def parse_data_spec(spec: str) -> tuple[str, str]:
    """Split ``ccxt:<exchange>:<ccxt symbol>`` (e.g. ``ccxt:binance:BTC/USDT``); raises ValueError otherwise."""
    parts = spec.split(":", 2)
    if len(parts) != 3 or parts[0] != "ccxt" or not parts[1] or not parts[2]:
        raise ValueError(
            f"data source {spec!r} is not of the form 'ccxt:<exchange>:<symbol>', e.g. ccxt:binance:BTC/USDT"
        )
    return parts[1], parts[2]


class LiveDataSource:
    """Model objects from an exchange's public streams, for a paper venue fed by live data (no credentials).

    Parameters
    ----------
    spec : str
        ``ccxt:<exchange>:<symbol>`` (symbol in ccxt's notation, as a user types it).
    clock : Clock | None
        ``ts_init`` source (default: a LiveClock).
    kinds : tuple[str, ...]
        Any of ``"deltas"``, ``"trades"``, ``"quotes"``.
    config_overrides : dict
        Extra :class:`ConnectionConfig` fields (tests pass ``url_rewrites`` to a local server).

    Attributes
    ----------
    instrument : Instrument
        The tradewire instrument (``BTCUSDT.BINANCE``), for the paper venue and the strategy.

    Raises
    ------
    ValueError
        If the spec is malformed or the symbol is not listed by the exchange.
    """

    def __init__(
        self,
        spec: str,
        clock: Clock | None = None,
        kinds: tuple[str, ...] = ("deltas", "trades", "quotes"),
        config_overrides: dict[str, Any] | None = None,
    ) -> None:
        from tradewire.venues.ccxt.config import ConnectionConfig

        exchange, symbol = parse_data_spec(spec)
        cfg = ConnectionConfig(name=f"public-{exchange}", exchange=exchange, **(config_overrides or {}))
        self.connection = CcxtConnection(cfg, None)
        self.clock = clock or LiveClock()
        try:
            self.connection.load_instruments()
            iid = self.connection.instruments.symbols.instrument_id(symbol)
        except KeyError:
            self.connection.close()
            raise ValueError(f"{exchange} lists no {cfg.market_type} market {symbol!r}") from None
        self.instrument = self.connection.instruments.get(iid)
        self.client = CcxtDataClient(self.connection, self.clock)
        self._out: list[Any] = []
        self.client.set_handler(self._out.append)
        self.client.connect_blocking()
        subscribe = {"deltas": self.client.subscribe_order_book_deltas, "trades": self.client.subscribe_trade_ticks,
                     "quotes": self.client.subscribe_quote_ticks}  # fmt: skip
        for k in kinds:
            subscribe[k](iid)

    def objects(self, idle_timeout: float | None = None) -> Iterator[Any]:
        """Yield model objects as they arrive (OrderBookDelta batches as lists, like ``Kernel.process`` takes).

        Stops after ``idle_timeout`` seconds without data (None: never).
        """
        inbox = self.connection.inbox
        batch: list[OrderBookDelta] = []
        while True:
            if not inbox.wait(idle_timeout if idle_timeout is not None else 1.0):
                if idle_timeout is not None:
                    return
                continue
            inbox.drain()
            out, self._out[:] = list(self._out), []
            for obj in out:
                if type(obj) is OrderBookDelta:
                    batch.append(obj)
                    if obj.flags & OrderBookDelta.F_LAST:
                        yield batch
                        batch = []
                else:
                    yield obj

    def close(self) -> None:
        """Stop the streams and close the connection."""
        self.client.disconnect_blocking()
        self.connection.close()


__all__ = ["CcxtDataClient", "LiveDataSource", "parse_data_spec", "timeframe_of"]
