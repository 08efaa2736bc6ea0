"""Pure-Python level storage for :class:`tradewire.data.book.OrderBook` (the fallback of ``_book_core``).

Each side keeps a ``dict`` price raw -> size raw and an ascending ``list`` of the price raws, kept
sorted with :mod:`bisect` (with ~50 levels a side the list insert/delete is a short memmove). Best
bid (last of the bid list) and best ask (first of the ask list) are cached in ``top_bid_raw`` /
``top_ask_raw`` and refreshed only when a level is inserted or removed.

This module and the compiled :mod:`tradewire.data._book_core` expose the same class, ``BookCore``,
with the same methods, results and errors on valid input (a hypothesis test in
``tests/unit/data/test_book_impl.py`` drives both with the same delta sequences and compares them
after every step).

Value range (both implementations): price raws must lie in the signed 64-bit range
``[-2**63, 2**63 - 1]`` (about +/- 9.22e9 price units at scale 10**9); a new level outside it raises
``OverflowError``. Size raws are Python ints of any magnitude (>= 0).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable

from tradewire.model.data import OrderBookDelta
from tradewire.model.enums import BookAction

API_VERSION = 2
_CLEAR = BookAction.CLEAR
_DELETE = BookAction.DELETE
_L2_MBP = 2  # BookType.L2_MBP
I64_MIN = -(2**63)
I64_MAX = 2**63 - 1


def _side_error(side: object) -> ValueError:
    return ValueError(f"side must be 1 (bid) or 2 (ask), got {side!r}")


def _negative_size_error(price_raw: object, size_raw: object) -> ValueError:
    return ValueError(f"size_raw must be >= 0, got {size_raw!r} at price raw {price_raw!r}")


def _price_range_error(price_raw: object) -> OverflowError:
    return OverflowError(
        f"price_raw {price_raw!r} is outside the int64 range [-2**63, 2**63 - 1] a book level can hold"
    )


class BookCore:
    """Sorted price levels of both sides of an L2 book, as fixed-point raws, and the book's header fields.

    Attributes
    ----------
    top_bid_raw, top_ask_raw : int | None
        Best bid / ask price raw (None if the side is empty); kept current by every mutation.
    instrument_id, price_precision, size_precision, book_type, sequence, ts_event, ts_init, update_count, in_batch
        Header fields, set by ``OrderBook.__init__`` (see there); ``apply_delta`` advances the last five.
    """

    __slots__ = (
        "_ask_px",
        "_asks",
        "_bid_px",
        "_bids",
        "book_type",
        "in_batch",
        "instrument_id",
        "price_precision",
        "sequence",
        "size_precision",
        "top_ask_raw",
        "top_bid_raw",
        "ts_event",
        "ts_init",
        "update_count",
    )

    def __init__(self) -> None:
        self._bids: dict[int, int] = {}
        self._asks: dict[int, int] = {}
        self._bid_px: list[int] = []  # ascending; best bid is [-1]
        self._ask_px: list[int] = []  # ascending; best ask is [0]
        self.top_bid_raw: int | None = None
        self.top_ask_raw: int | None = None

    def apply_delta_raw(self, side: int, price_raw: int, size_raw: int) -> None:
        """Set the size at one level; size 0 removes the level (a no-op if the level is absent).

        Parameters
        ----------
        side : int
            ``1`` bid, ``2`` ask (``BookSide`` values).
        price_raw, size_raw : int
            Fixed-point raws (scale 10**9). Types are not checked in this fallback (hot path); the
            compiled core raises ``TypeError`` for a non-int.

        Raises
        ------
        ValueError
            If ``side`` is neither 1 nor 2, or ``size_raw`` is negative.
        OverflowError
            If a new level's ``price_raw`` is outside the int64 range.
        """
        if side == 1:
            levels = self._bids
            if size_raw > 0:
                if price_raw not in levels:
                    if not I64_MIN <= price_raw <= I64_MAX:
                        raise _price_range_error(price_raw)
                    prices = self._bid_px
                    insort(prices, price_raw)
                    self.top_bid_raw = prices[-1]
                levels[price_raw] = size_raw
            elif size_raw:
                raise _negative_size_error(price_raw, size_raw)
            elif levels.pop(price_raw, None) is not None:
                prices = self._bid_px
                del prices[bisect_left(prices, price_raw)]
                self.top_bid_raw = prices[-1] if prices else None
        elif side == 2:
            levels = self._asks
            if size_raw > 0:
                if price_raw not in levels:
                    if not I64_MIN <= price_raw <= I64_MAX:
                        raise _price_range_error(price_raw)
                    prices = self._ask_px
                    insort(prices, price_raw)
                    self.top_ask_raw = prices[0]
                levels[price_raw] = size_raw
            elif size_raw:
                raise _negative_size_error(price_raw, size_raw)
            elif levels.pop(price_raw, None) is not None:
                prices = self._ask_px
                del prices[bisect_left(prices, price_raw)]
                self.top_ask_raw = prices[0] if prices else None
        else:
            raise _side_error(side)

    def apply_delta(self, delta: OrderBookDelta) -> None:
        """Apply one :class:`OrderBookDelta` (validated) and advance ``sequence``/timestamps.

        ADD/UPDATE set the level's total size, DELETE removes the level, CLEAR empties the book.
        ``sequence`` follows the delta's when it is non-zero; ``in_batch`` is True until a delta with
        ``F_LAST`` arrives.

        Raises
        ------
        ValueError
            On an L1 book, on a negative size, or on ADD/UPDATE with size 0.
        OverflowError
            If an ADD/UPDATE price raw is outside the int64 range.
        """
        if self.book_type != _L2_MBP:
            raise ValueError(f"{self.instrument_id}: deltas need an L2_MBP book, this one is {self.book_type.name}")
        action = delta.action
        if action is _CLEAR:
            self.clear()
        else:
            size_raw = delta.size.raw
            if action is _DELETE:
                size_raw = 0
            elif size_raw <= 0:
                raise ValueError(f"{self.instrument_id}: {action} needs a positive size, got {delta.size} ({delta!r})")
            try:
                self.apply_delta_raw(int(delta.side), delta.price.raw, size_raw)
            except OverflowError as exc:
                raise OverflowError(f"{self.instrument_id}: {exc} ({delta!r})") from None
        if delta.sequence:
            self.sequence = delta.sequence
        self.ts_event = delta.ts_event
        self.ts_init = delta.ts_init
        self.update_count += 1
        self.in_batch = not (delta.flags & OrderBookDelta.F_LAST)

    def apply_deltas(self, deltas: Iterable[OrderBookDelta]) -> None:
        """Apply deltas in order (see :meth:`apply_delta`); an error stops at the offending delta."""
        for d in deltas:
            self.apply_delta(d)

    def best_bid_raw(self) -> int | None:
        """Best (highest) bid price raw, or None if the bid side is empty."""
        return self.top_bid_raw

    def best_ask_raw(self) -> int | None:
        """Best (lowest) ask price raw, or None if the ask side is empty."""
        return self.top_ask_raw

    def best_bid_size_raw(self) -> int | None:
        """Size raw at the best bid, or None."""
        px = self._bid_px
        return self._bids[px[-1]] if px else None

    def best_ask_size_raw(self) -> int | None:
        """Size raw at the best ask, or None."""
        px = self._ask_px
        return self._asks[px[0]] if px else None

    def size_at_raw(self, side: int, price_raw: int) -> int:
        """Size raw at ``price_raw`` on ``side`` (1 bid, anything else ask); 0 if there is no level."""
        return (self._bids if side == 1 else self._asks).get(price_raw, 0)

    def bids_raw(self, depth: int | None = None) -> list[tuple[int, int]]:
        """Bid levels as ``(price_raw, size_raw)``, best (highest) first, at most ``depth`` (all if None)."""
        px = self._bid_px
        sel = px[::-1] if depth is None else px[: -depth - 1 : -1] if depth > 0 else []
        levels = self._bids
        return [(p, levels[p]) for p in sel]

    def asks_raw(self, depth: int | None = None) -> list[tuple[int, int]]:
        """Ask levels as ``(price_raw, size_raw)``, best (lowest) first, at most ``depth`` (all if None)."""
        px = self._ask_px if depth is None else self._ask_px[: max(depth, 0)]
        levels = self._asks
        return [(p, levels[p]) for p in px]

    def volume_within_raw(self, side: int, price_raw: int) -> int:
        """Total size raw on ``side`` at prices at least as good as ``price_raw`` (bids >=, asks <=)."""
        if side == 1:
            px = self._bid_px
            return sum(self._bids[p] for p in px[bisect_left(px, price_raw) :])
        px = self._ask_px
        return sum(self._asks[p] for p in px[: bisect_left(px, price_raw + 1)])

    @property
    def bid_level_count(self) -> int:
        """Number of bid levels."""
        return len(self._bid_px)

    @property
    def ask_level_count(self) -> int:
        """Number of ask levels."""
        return len(self._ask_px)

    def clear(self) -> None:
        """Remove every level of both sides."""
        self._bids.clear()
        self._asks.clear()
        self._bid_px.clear()
        self._ask_px.clear()
        self.top_bid_raw = self.top_ask_raw = None

    def clear_side(self, side: int) -> None:
        """Remove every level of one side (1 bid, anything else ask)."""
        if int(side) == 1:
            self._bids.clear()
            self._bid_px.clear()
            self.top_bid_raw = None
        else:
            self._asks.clear()
            self._ask_px.clear()
            self.top_ask_raw = None

    def check_levels(self) -> None:
        """Verify the storage invariants (sorted unique prices matching the sizes, sizes > 0, cached tops).

        Raises
        ------
        AssertionError
            Naming the broken invariant.
        """
        if self.top_bid_raw != (self._bid_px[-1] if self._bid_px else None):
            raise AssertionError("cached best bid out of date")
        if self.top_ask_raw != (self._ask_px[0] if self._ask_px else None):
            raise AssertionError("cached best ask out of date")
        for name, px, levels in (("bid", self._bid_px, self._bids), ("ask", self._ask_px, self._asks)):
            if px != sorted(levels):
                raise AssertionError(f"{name} price index out of sync with levels")
            if any(s <= 0 for s in levels.values()):
                raise AssertionError(f"non-positive {name} size")
