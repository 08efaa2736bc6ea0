"""Per-venue order book sequence rules: which diff messages to apply, drop, buffer or flag as a gap.

A synchronizer sits between a venue's diff stream and an :class:`~tradewire.data.book.OrderBook`.
It never touches the book itself: it is fed update ids (and an opaque payload, typically the
message's deltas) and answers with the payloads the caller must apply, in order. Until a snapshot
has been applied it buffers diffs (bounded); on a gap it emits a :class:`SequenceGap`, marks the
book ``stale`` and buffers again until the next snapshot, which resynchronizes.

Rules implemented (ids: ``U`` first update id, ``u`` final update id, ``pu`` previous final id):

* :class:`BinanceSpotSynchronizer` -- Binance Spot API docs, "Web Socket Streams / How to manage a
  local order book correctly": drop any event with ``u <= lastUpdateId`` of the REST snapshot; the
  first processed event must satisfy ``U <= lastUpdateId + 1 <= u``; each next event's ``U`` must
  equal the previous event's ``u + 1``.
* :class:`BinanceFuturesSynchronizer` -- Binance USD-M Futures docs, "Websocket Market Streams /
  How to manage a local order book correctly": drop any event with ``u < lastUpdateId``; the first
  processed event must satisfy ``U <= lastUpdateId <= u``; each next event's ``pu`` must equal the
  previous event's ``u``.
* :class:`BybitSynchronizer` -- Bybit v5 docs, "WebSocket Stream / Public / Orderbook": a
  ``snapshot`` message replaces the local book (also when it arrives mid-stream, e.g. ``u == 1``
  after a service restart); each ``delta`` must carry ``u == previous u + 1``.

A diff whose ids go backwards (already covered, e.g. a duplicate or late message) is dropped and
reported as ``out_of_order`` without resync, since applying it would rewind levels; a diff that
skips ids, overlaps the previous one partially, or breaks the ``pu`` chain is a ``gap``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from tradewire.data.book import OrderBook
from tradewire.model.data import OrderBookDelta
from tradewire.model.identifiers import InstrumentId

T = TypeVar("T")


class SyncState(StrEnum):
    """State of a synchronizer."""

    AWAITING_SNAPSHOT = "awaiting_snapshot"
    SYNCING = "syncing"  # snapshot applied, waiting for the diff that bridges it
    LIVE = "live"


@dataclass(frozen=True, slots=True)
class SequenceGap:
    """A break in a venue's update-id sequence (or an out-of-order message).

    Attributes
    ----------
    instrument_id : InstrumentId
    venue_rule : str
        Which rule saw it (``"binance_spot"``, ``"binance_futures"``, ``"bybit"``).
    kind : str
        ``"gap"`` (book marked stale, resync from the next snapshot) or ``"out_of_order"`` (message
        dropped, book still valid).
    expected : int
        The id the rule required (e.g. previous ``u + 1`` for Binance spot ``U``).
    got : int
        The id the message carried (``U`` for spot/Bybit, ``pu`` for futures).
    first_update_id, final_update_id : int
        The message's ``U`` and ``u``.
    ts_event, ts_init : int
        Timestamps (UTC ns) of the offending message.
    """

    instrument_id: InstrumentId
    venue_rule: str
    kind: str
    expected: int
    got: int
    first_update_id: int
    final_update_id: int
    ts_event: int
    ts_init: int


class BookSynchronizer(Generic[T]):
    """Base class: snapshot/diff bookkeeping, bounded buffering and gap reporting.

    Parameters
    ----------
    instrument_id : InstrumentId
    on_gap : callable, optional
        Called with each :class:`SequenceGap` (e.g. to publish on ``events.data_quality``).
    max_buffer : int
        Diffs kept while waiting for a snapshot; older ones are discarded first (they would be
        dropped by the snapshot rule anyway).
    """

    rule = "base"

    def __init__(
        self,
        instrument_id: InstrumentId,
        on_gap: Callable[[SequenceGap], None] | None = None,
        max_buffer: int = 10_000,
    ) -> None:
        self.instrument_id = instrument_id
        self.on_gap = on_gap
        self.state = SyncState.AWAITING_SNAPSHOT
        self.last_update_id: int | None = None  # id the local book is at
        self.gaps: list[SequenceGap] = []
        self.applied = 0
        self.dropped = 0
        self._buffer: deque[tuple[int, int, int | None, T, int, int]] = deque(maxlen=max_buffer)

    @property
    def stale(self) -> bool:
        """True while the local book cannot be trusted (no snapshot yet, or after a gap)."""
        return self.state is SyncState.AWAITING_SNAPSHOT

    @property
    def buffered(self) -> int:
        """Number of diffs waiting for a snapshot."""
        return len(self._buffer)

    def on_snapshot(self, last_update_id: int, ts_event: int = 0, ts_init: int = 0) -> list[T]:
        """Record that the caller replaced its book with a snapshot at ``last_update_id``.

        Returns
        -------
        list
            Payloads of buffered diffs that now apply, in order; the caller applies them right after
            the snapshot. Buffered diffs that the rules drop are discarded; a buffered diff that
            cannot bridge the snapshot raises a gap (and the rest stay buffered for the next one).
        """
        self.last_update_id = last_update_id
        self.state = SyncState.SYNCING
        pending = list(self._buffer)
        self._buffer.clear()
        out: list[T] = []
        for i, (first, final, prev, payload, te, ti) in enumerate(pending):
            if self.state is SyncState.AWAITING_SNAPSHOT:
                self._buffer.extend(pending[i:])
                break
            out.extend(self.on_update(first, final, prev, payload, te, ti))
        return out

    def on_update(
        self, first_id: int, final_id: int, prev_id: int | None, payload: T, ts_event: int = 0, ts_init: int = 0
    ) -> list[T]:
        """Classify one diff message and return the payloads to apply now (empty or ``[payload]``).

        Parameters
        ----------
        first_id, final_id : int
            The message's first and final update ids (Binance ``U``/``u``; Bybit ``u`` for both).
        prev_id : int | None
            Binance futures ``pu`` (previous final update id); None where the venue has none.
        payload : any
            Returned unchanged when the diff is to be applied.
        """
        if self.state is SyncState.AWAITING_SNAPSHOT:
            self._buffer.append((first_id, final_id, prev_id, payload, ts_event, ts_init))
            return []
        assert self.last_update_id is not None
        verdict = self._check(first_id, final_id, prev_id)
        if verdict is None:
            self.last_update_id = final_id
            self.state = SyncState.LIVE
            self.applied += 1
            return [payload]
        kind, expected, got = verdict
        if kind == "drop":
            self.dropped += 1
            return []
        self._report(kind, expected, got, first_id, final_id, ts_event, ts_init)
        if kind == "gap":
            self.state = SyncState.AWAITING_SNAPSHOT
            self._buffer.append((first_id, final_id, prev_id, payload, ts_event, ts_init))
        else:
            self.dropped += 1
        return []

    def reset(self) -> None:
        """Forget the book (e.g. after a reconnect): stale until the next snapshot."""
        self.state = SyncState.AWAITING_SNAPSHOT
        self.last_update_id = None
        self._buffer.clear()

    def _report(self, kind: str, expected: int, got: int, first: int, final: int, ts_event: int, ts_init: int) -> None:
        gap = SequenceGap(self.instrument_id, self.rule, kind, expected, got, first, final, ts_event, ts_init)
        self.gaps.append(gap)
        if self.on_gap is not None:
            self.on_gap(gap)

    def _check(self, first: int, final: int, prev: int | None) -> tuple[str, int, int] | None:
        """Return None to apply, or ``(kind, expected, got)`` with kind ``drop``/``gap``/``out_of_order``."""
        raise NotImplementedError


class BinanceSpotSynchronizer(BookSynchronizer[T]):
    """Binance spot ``<symbol>@depth`` rules (see module docstring for the source)."""

    rule = "binance_spot"

    def _check(self, first: int, final: int, prev: int | None) -> tuple[str, int, int] | None:
        last = self.last_update_id
        assert last is not None
        if self.state is SyncState.SYNCING:
            if final <= last:
                return ("drop", last + 1, final)
            if first <= last + 1:  # and last + 1 <= final, guaranteed by the branch above
                return None
            return ("gap", last + 1, first)
        if first == last + 1:
            return None
        if final <= last:
            return ("out_of_order", last + 1, first)
        return ("gap", last + 1, first)


class BinanceFuturesSynchronizer(BookSynchronizer[T]):
    """Binance USD-M futures ``<symbol>@depth`` rules with the ``pu`` chain (see module docstring)."""

    rule = "binance_futures"

    def _check(self, first: int, final: int, prev: int | None) -> tuple[str, int, int] | None:
        last = self.last_update_id
        assert last is not None
        if self.state is SyncState.SYNCING:
            if final < last:
                return ("drop", last, final)
            if first <= last:  # and last <= final
                return None
            return ("gap", last, first)
        if prev is None:
            raise ValueError(f"{self.instrument_id}: Binance futures diff {first}..{final} has no 'pu'")
        if prev == last:
            return None
        if final <= last:
            return ("out_of_order", last, prev)
        return ("gap", last, prev)


class BybitSynchronizer(BookSynchronizer[T]):
    """Bybit v5 ``orderbook.{depth}.{symbol}`` rules: snapshot resets, deltas step ``u`` by 1.

    Feed snapshot messages to :meth:`on_snapshot` with their ``u`` and deltas to
    :meth:`~BookSynchronizer.on_update` with ``first_id == final_id == u``.
    """

    rule = "bybit"

    def on_snapshot(self, last_update_id: int, ts_event: int = 0, ts_init: int = 0) -> list[T]:
        """Reset to a snapshot at ``u == last_update_id``; deltas buffered before it are discarded.

        A Bybit snapshot carries the full book as of its ``u``, so nothing received earlier applies.
        """
        self._buffer.clear()
        return super().on_snapshot(last_update_id, ts_event, ts_init)

    def _check(self, first: int, final: int, prev: int | None) -> tuple[str, int, int] | None:
        last = self.last_update_id
        assert last is not None
        if first == last + 1:
            return None
        if final <= last:
            return ("out_of_order", last + 1, first)
        return ("gap", last + 1, first)


class SyncedOrderBook:
    """An :class:`~tradewire.data.book.OrderBook` fed through a :class:`BookSynchronizer`.

    Parameters
    ----------
    book : OrderBook
    synchronizer : BookSynchronizer
        Decides, per venue rules, which diffs reach the book.

    Notes
    -----
    Diff payloads are sequences of :class:`~tradewire.model.data.OrderBookDelta`. A snapshot's deltas
    should start with a CLEAR (the loaders emit one); the book is cleared here anyway.
    """

    def __init__(self, book: OrderBook, synchronizer: BookSynchronizer[Sequence[OrderBookDelta]]) -> None:
        self.book = book
        self.sync = synchronizer

    @property
    def stale(self) -> bool:
        """True while the book cannot be trusted (before the first snapshot, or after a gap)."""
        return self.sync.stale

    def apply_snapshot(
        self, last_update_id: int, deltas: Sequence[OrderBookDelta], ts_event: int = 0, ts_init: int = 0
    ) -> int:
        """Replace the book with a snapshot and apply any buffered diffs that bridge it.

        Returns
        -------
        int
            Number of buffered diffs applied after the snapshot.
        """
        self.book.clear()
        self.book.apply_deltas(deltas)
        self.book.sequence = last_update_id
        pending = self.sync.on_snapshot(last_update_id, ts_event, ts_init)
        for batch in pending:
            self.book.apply_deltas(batch)
        return len(pending)

    def apply_diff(
        self,
        first_id: int,
        final_id: int,
        prev_id: int | None,
        deltas: Sequence[OrderBookDelta],
        ts_event: int = 0,
        ts_init: int = 0,
    ) -> bool:
        """Offer one diff message; returns True if it (and nothing else) was applied to the book."""
        out = self.sync.on_update(first_id, final_id, prev_id, deltas, ts_event, ts_init)
        for batch in out:
            self.book.apply_deltas(batch)
        if out:
            self.book.sequence = final_id
        return bool(out)
