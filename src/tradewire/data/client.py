"""`DataClient`: the seam between a data source (venue socket, recorded file, catalog) and the `DataEngine`.

A client turns its source into model objects (``QuoteTick``, ``TradeTick``, ``Bar``, ``OrderBookDelta``)
and hands each one to the engine's ``process`` callback, in the thread that runs the engine. The public
``subscribe_*`` / ``unsubscribe_*`` methods are synchronous and only do bookkeeping, then call the
subclass hooks :meth:`DataClient._subscribe` / :meth:`DataClient._unsubscribe`; a live client sends the
venue request from there (scheduling it on its event loop). ``connect``, ``disconnect`` and
``request_instruments`` are coroutines because live clients do network I/O there.

:class:`ReplayDataClient` streams recorded data (any iterable of model objects in ``ts_event`` order,
e.g. a catalog replay or a loader) for backtests and paper sessions, advancing a ``TestClock`` to each
object's ``ts_event`` first so timers (time-bar boundaries, strategy timers) fire exactly when they would
have live.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum
from typing import Any

from tradewire.core.clock import Clock, TestClock
from tradewire.model.data import Bar, BarType, OrderBookDelta, QuoteTick, TradeTick
from tradewire.model.identifiers import InstrumentId, Venue
from tradewire.model.instruments import Instrument

DataHandler = Callable[[Any], None]


class DataKind(StrEnum):
    """What a subscription is for."""

    QUOTES = "quotes"
    TRADES = "trades"
    DELTAS = "deltas"
    BARS = "bars"


class DataClient(ABC):
    """Abstract data client for one venue.

    Parameters
    ----------
    venue : Venue or str
        The venue whose data this client provides (subscriptions are routed here by ``instrument_id.venue``).

    Attributes
    ----------
    subscriptions : dict[DataKind, set]
        Current subscriptions: instrument ids for quotes/trades/deltas, bar types for bars.
    is_connected : bool
    """

    def __init__(self, venue: Venue | str) -> None:
        self.venue = Venue(venue)
        self.subscriptions: dict[DataKind, set] = {k: set() for k in DataKind}
        self.is_connected = False
        self._handler: DataHandler | None = None

    # ------------------------------------------------------------------ wiring
    def set_handler(self, handler: DataHandler) -> None:
        """Set the callback that receives every data object (the engine's ``process``)."""
        self._handler = handler

    def _handle(self, obj: Any) -> None:
        """Hand one data object to the engine.

        Raises
        ------
        RuntimeError
            If the client was not registered with an engine.
        """
        h = self._handler
        if h is None:
            raise RuntimeError(f"{type(self).__name__}({self.venue}) has no handler: register it with a DataEngine")
        h(obj)

    # ------------------------------------------------------------------ lifecycle
    @abstractmethod
    async def connect(self) -> None:
        """Open connections (idempotent)."""

    @abstractmethod
    async def disconnect(self) -> None:
        """Close connections (idempotent)."""

    @abstractmethod
    async def request_instruments(self) -> list[Instrument]:
        """Return the instruments this client can provide data for."""

    # ------------------------------------------------------------------ subscription hooks
    @abstractmethod
    def _subscribe(self, kind: DataKind, key: InstrumentId | BarType) -> None:
        """Start the venue stream for ``key`` (called once per new subscription)."""

    @abstractmethod
    def _unsubscribe(self, kind: DataKind, key: InstrumentId | BarType) -> None:
        """Stop the venue stream for ``key`` (called once when the last subscription goes)."""

    def _add(self, kind: DataKind, key: InstrumentId | BarType) -> None:
        subs = self.subscriptions[kind]
        if key not in subs:
            subs.add(key)
            self._subscribe(kind, key)

    def _remove(self, kind: DataKind, key: InstrumentId | BarType) -> None:
        subs = self.subscriptions[kind]
        if key in subs:
            subs.discard(key)
            self._unsubscribe(kind, key)

    # ------------------------------------------------------------------ public subscription API
    def subscribe_quote_ticks(self, instrument_id: InstrumentId) -> None:
        """Start receiving quote ticks (top of book) for ``instrument_id``."""
        self._add(DataKind.QUOTES, instrument_id)

    def subscribe_trade_ticks(self, instrument_id: InstrumentId) -> None:
        """Start receiving trade ticks for ``instrument_id``."""
        self._add(DataKind.TRADES, instrument_id)

    def subscribe_order_book_deltas(self, instrument_id: InstrumentId) -> None:
        """Start receiving L2 order book deltas (a snapshot batch first, then diffs)."""
        self._add(DataKind.DELTAS, instrument_id)

    def subscribe_bars(self, bar_type: BarType) -> None:
        """Start receiving venue-built bars of ``bar_type``."""
        self._add(DataKind.BARS, bar_type)

    def unsubscribe_quote_ticks(self, instrument_id: InstrumentId) -> None:
        """Stop quote ticks for ``instrument_id`` (no error if not subscribed)."""
        self._remove(DataKind.QUOTES, instrument_id)

    def unsubscribe_trade_ticks(self, instrument_id: InstrumentId) -> None:
        """Stop trade ticks for ``instrument_id`` (no error if not subscribed)."""
        self._remove(DataKind.TRADES, instrument_id)

    def unsubscribe_order_book_deltas(self, instrument_id: InstrumentId) -> None:
        """Stop order book deltas for ``instrument_id`` (no error if not subscribed)."""
        self._remove(DataKind.DELTAS, instrument_id)

    def unsubscribe_bars(self, bar_type: BarType) -> None:
        """Stop venue bars of ``bar_type`` (no error if not subscribed)."""
        self._remove(DataKind.BARS, bar_type)


def _key_of(obj: Any) -> tuple[DataKind, Any]:
    t = type(obj)
    if t is QuoteTick:
        return DataKind.QUOTES, obj.instrument_id
    if t is TradeTick:
        return DataKind.TRADES, obj.instrument_id
    if t is OrderBookDelta:
        return DataKind.DELTAS, obj.instrument_id
    if t is Bar:
        return DataKind.BARS, obj.bar_type
    raise TypeError(f"ReplayDataClient cannot replay {t.__name__} objects")


class ReplayDataClient(DataClient):
    """Replay recorded model objects (sorted by ``ts_event``) into the engine.

    Parameters
    ----------
    venue : Venue or str
    data : Iterable
        Model objects in non-decreasing ``ts_event`` order (a catalog replay, a loader, a list). Consumed
        lazily, so a streaming source keeps memory bounded.
    clock : Clock or None
        If a ``TestClock``, it is advanced to each object's ``ts_event`` before the object is delivered
        (timers due at or before that time fire first).
    instruments : Iterable[Instrument]
        What :meth:`request_instruments` returns.
    deliver_all : bool
        False (default): deliver only objects that match a subscription, as a venue would. True:
        deliver everything (useful to fill a catalog-driven backtest without listing subscriptions).

    Attributes
    ----------
    delivered, skipped, out_of_order : int
        Objects handed to the engine, objects without a subscription, and objects whose ``ts_event`` was
        earlier than the previous one (delivered, but the clock is not moved backwards).
    """

    def __init__(
        self,
        venue: Venue | str,
        data: Iterable[Any],
        clock: Clock | None = None,
        instruments: Iterable[Instrument] = (),
        deliver_all: bool = False,
    ) -> None:
        super().__init__(venue)
        self._it: Iterator[Any] = iter(data)
        self._clock = clock if isinstance(clock, TestClock) else None
        self._instruments = list(instruments)
        self.deliver_all = deliver_all
        self.delivered = 0
        self.skipped = 0
        self.out_of_order = 0
        self._last_ts = -(2**63)
        self._pending: Any = None
        self.exhausted = False

    async def connect(self) -> None:
        """Nothing to open for recorded data."""
        self.is_connected = True

    async def disconnect(self) -> None:
        """Nothing to close for recorded data."""
        self.is_connected = False

    async def request_instruments(self) -> list[Instrument]:
        """The instruments given at construction."""
        return list(self._instruments)

    def _subscribe(self, kind: DataKind, key: InstrumentId | BarType) -> None:
        """Recorded data needs no request: the subscription set filters the replay."""

    def _unsubscribe(self, kind: DataKind, key: InstrumentId | BarType) -> None:
        """Recorded data needs no request: the subscription set filters the replay."""

    def replay(self, until_ns: int | None = None, limit: int | None = None) -> int:
        """Deliver recorded objects in order.

        Parameters
        ----------
        until_ns : int or None
            Stop before the first object with ``ts_event > until_ns`` (it stays pending for the next call).
        limit : int or None
            Stop after delivering this many objects.

        Returns
        -------
        int
            Objects delivered in this call.

        Raises
        ------
        TypeError
            If the source yields something that is not a market data object.
        RuntimeError
            If no engine handler is set.
        """
        handler = self._handler
        if handler is None:
            raise RuntimeError(f"ReplayDataClient({self.venue}) has no handler: register it with a DataEngine")
        clock = self._clock
        subs = self.subscriptions
        deliver_all = self.deliver_all
        n = 0
        it = self._it
        while limit is None or n < limit:
            obj = self._pending
            if obj is None:
                obj = next(it, None)
                if obj is None:
                    self.exhausted = True
                    break
            else:
                self._pending = None
            ts = obj.ts_event
            if until_ns is not None and ts > until_ns:
                self._pending = obj
                break
            kind, key = _key_of(obj)
            if not deliver_all and key not in subs[kind]:
                self.skipped += 1
                continue
            if ts < self._last_ts:
                self.out_of_order += 1
            else:
                self._last_ts = ts
                if clock is not None and ts > clock.timestamp_ns():
                    clock.advance_time(ts)
            handler(obj)
            n += 1
        self.delivered += n
        if until_ns is not None and clock is not None and until_ns > clock.timestamp_ns():
            clock.advance_time(until_ns)
        return n

    async def run(self, chunk: int = 10_000) -> int:
        """Replay everything, yielding to the event loop every ``chunk`` objects; returns the count delivered."""
        total = 0
        while not self.exhausted:
            total += self.replay(limit=chunk)
            await asyncio.sleep(0)
        return total
