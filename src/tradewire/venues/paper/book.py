"""`PaperBook`: the matching engine's own minimal L2 view (market-by-price, keyed by raw price).

Besides the displayed size per level it keeps the size already **consumed** by paper fills at each
level, so two paper orders in the same book update cannot take the same liquidity. The consumed size
of a level is forgotten (the liquidity restored) when the next update for that level arrives: a delta
at that price (L2) or a new top-of-book quote (L1).

Two modes. After :meth:`PaperBook.set_top` (L1 quotes) the book is ``is_l1``: its one level per side is
held as plain ints (``l1_bid``/``l1_bid_size``, ``l1_ask``/``l1_ask_size``) and the sorted ``bids``/``asks``
stay empty, so a quote costs no sorted-container work and best prices and the taker walk
(:meth:`PaperBook.take_levels`) no lookups. :meth:`PaperBook.apply_delta` (L2) leaves L1 mode, moving the
L1 levels into the sorted levels first. Read levels through the methods (:meth:`has_levels`,
:meth:`best_bid_raw`, :meth:`displayed`, :meth:`liquidity`, ...), which answer in both modes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from sortedcontainers import SortedDict

from tradewire.model.data import OrderBookDelta
from tradewire.model.enums import BookAction, BookSide

_size: Final = dict.__getitem__  # SortedDict is a dict subclass; this skips its Python-level layers
_CLEAR, _DELETE, _ADD, _UPDATE = BookAction.CLEAR, BookAction.DELETE, BookAction.ADD, BookAction.UPDATE


class PaperBook:
    """Two-sided book of raw prices to raw sizes (scale 1e9), with consumed-liquidity tracking.

    Attributes
    ----------
    bids, asks : SortedDict
        L2 levels: ``-price_raw -> size_raw`` (bids) and ``price_raw -> size_raw`` (asks), best first;
        empty while ``is_l1``.
    consumed_bids, consumed_asks : dict[int, int]
        Size raw taken by paper fills per price raw since that level's last update.
    is_l1 : bool
        True after :meth:`set_top` until the next delta or :meth:`clear`.
    l1_bid, l1_ask : int | None
        L1 prices raw (None: no level on that side); sizes in ``l1_bid_size``/``l1_ask_size``.
    """

    __slots__ = ("asks", "bids", "consumed_asks", "consumed_bids", "is_l1", "l1_ask", "l1_ask_size", "l1_bid",
                 "l1_bid_size")  # fmt: skip

    def __init__(self) -> None:
        self.bids: SortedDict = SortedDict()  # key: -price_raw (best first)
        self.asks: SortedDict = SortedDict()  # key: price_raw (best first)
        self.consumed_bids: dict[int, int] = {}
        self.consumed_asks: dict[int, int] = {}
        self.is_l1 = False
        self.l1_bid: int | None = None
        self.l1_bid_size = 0
        self.l1_ask: int | None = None
        self.l1_ask_size = 0

    def clear(self) -> None:
        """Remove every level and all consumption (and leave L1 mode)."""
        if self.bids:
            self.bids.clear()
        if self.asks:
            self.asks.clear()
        self.consumed_bids.clear()
        self.consumed_asks.clear()
        self.is_l1 = False
        self.l1_bid = self.l1_ask = None
        self.l1_bid_size = self.l1_ask_size = 0

    def _leave_l1(self) -> None:
        # the L1 levels become sorted levels (consumption is kept), as if they had come as deltas
        self.is_l1 = False
        if self.l1_bid is not None:
            self.bids[-self.l1_bid] = self.l1_bid_size
        if self.l1_ask is not None:
            self.asks[self.l1_ask] = self.l1_ask_size
        self.l1_bid = self.l1_ask = None
        self.l1_bid_size = self.l1_ask_size = 0

    def apply_delta(self, delta: OrderBookDelta) -> None:
        """Apply one delta (ADD/UPDATE set the level size, DELETE or size 0 removes, CLEAR empties).

        Raises
        ------
        ValueError
            On an unknown action or side.
        """
        action = delta.action
        if action is _CLEAR:
            self.clear()
            return
        if self.is_l1:
            self._leave_l1()
        px = delta.price.raw
        size = delta.size.raw
        side = delta.side
        if side == BookSide.BID:
            levels, consumed, key = self.bids, self.consumed_bids, -px
        elif side == BookSide.ASK:
            levels, consumed, key = self.asks, self.consumed_asks, px
        else:
            raise ValueError(f"unknown book side {side!r} in {delta!r}")
        consumed.pop(px, None)
        if action is _DELETE or size == 0:
            levels.pop(key, None)
        elif action is _ADD or action is _UPDATE:
            levels[key] = size
        else:
            raise ValueError(f"unknown book action {action!r} in {delta!r}")

    def set_top(self, bid_raw: int, bid_size_raw: int, ask_raw: int, ask_size_raw: int) -> None:
        """Replace the book by one level per side (L1 quote); consumption is reset.

        A side with a size <= 0 has no level.
        """
        if self.is_l1:
            self.consumed_bids.clear()
            self.consumed_asks.clear()
        else:
            self.clear()
            self.is_l1 = True
        if bid_size_raw > 0:
            self.l1_bid = bid_raw
            self.l1_bid_size = bid_size_raw
        else:
            self.l1_bid = None
            self.l1_bid_size = 0
        if ask_size_raw > 0:
            self.l1_ask = ask_raw
            self.l1_ask_size = ask_size_raw
        else:
            self.l1_ask = None
            self.l1_ask_size = 0

    def has_levels(self) -> bool:
        """True if either side has a level."""
        if self.is_l1:
            return self.l1_bid is not None or self.l1_ask is not None
        return bool(self.bids) or bool(self.asks)

    def best_bid_raw(self) -> int | None:
        """Best bid price raw or None."""
        if self.is_l1:
            return self.l1_bid
        return -self.bids.peekitem(0)[0] if self.bids else None

    def best_ask_raw(self) -> int | None:
        """Best ask price raw or None."""
        if self.is_l1:
            return self.l1_ask
        return self.asks.peekitem(0)[0] if self.asks else None

    def displayed(self, is_bid: bool, px_raw: int) -> int:
        """Displayed size raw at ``px_raw`` on the bid (True) or ask side; 0 if no level."""
        if self.is_l1:
            if is_bid:
                return self.l1_bid_size if px_raw == self.l1_bid else 0
            return self.l1_ask_size if px_raw == self.l1_ask else 0
        return self.bids.get(-px_raw, 0) if is_bid else self.asks.get(px_raw, 0)

    def liquidity(self, take_asks: bool, limit_raw: int | None) -> Iterator[tuple[int, int]]:
        """Yield ``(price_raw, available_raw)`` levels a taker can hit, best first, up to ``limit_raw``.

        ``take_asks`` is True for a buyer (walks asks upwards), False for a seller (bids downwards).
        Available size is displayed minus consumed; exhausted levels are skipped.
        """
        if self.is_l1:
            if take_asks:
                px = self.l1_ask
                if px is not None and (limit_raw is None or px <= limit_raw):
                    avail = self.l1_ask_size - self.consumed_asks.get(px, 0)
                    if avail > 0:
                        yield px, avail
            else:
                px = self.l1_bid
                if px is not None and (limit_raw is None or px >= limit_raw):
                    avail = self.l1_bid_size - self.consumed_bids.get(px, 0)
                    if avail > 0:
                        yield px, avail
            return
        # iterate the keys (C speed) and read sizes with dict's own __getitem__: SortedDict.items() goes
        # through a pure-Python ItemsView generator, several times slower for the usual one or two levels
        if take_asks:
            levels = self.asks
            get = self.consumed_asks.get
            for px in levels:
                if limit_raw is not None and px > limit_raw:
                    return
                avail = _size(levels, px) - get(px, 0)
                if avail > 0:
                    yield px, avail
        else:
            levels = self.bids
            get = self.consumed_bids.get
            for key in levels:
                px = -key
                if limit_raw is not None and px < limit_raw:
                    return
                avail = _size(levels, key) - get(px, 0)
                if avail > 0:
                    yield px, avail

    def l1_available(self, take_asks: bool) -> int:
        """Size raw a taker can still take at the one level of an L1 book (asks if ``take_asks``); 0 if none.

        Only meaningful while ``is_l1`` (after :meth:`set_top`).
        """
        if take_asks:
            px = self.l1_ask
            return 0 if px is None else self.l1_ask_size - self.consumed_asks.get(px, 0)
        px = self.l1_bid
        return 0 if px is None else self.l1_bid_size - self.consumed_bids.get(px, 0)

    def take_levels(self, take_asks: bool, limit_raw: int | None, want_raw: int) -> tuple[list[tuple[int, int]], int]:
        """Levels a taker of ``want_raw`` would walk: ``([(price_raw, available_raw), ...], total_available_raw)``.

        Best first, as :meth:`liquidity` yields them, stopping once the total reaches ``want_raw``
        (the total may then exceed it). An L1 book answers from its one level without iterating.
        """
        if self.is_l1:
            if take_asks:
                px = self.l1_ask
                if px is None or (limit_raw is not None and px > limit_raw):
                    return [], 0
                avail = self.l1_ask_size - self.consumed_asks.get(px, 0)
            else:
                px = self.l1_bid
                if px is None or (limit_raw is not None and px < limit_raw):
                    return [], 0
                avail = self.l1_bid_size - self.consumed_bids.get(px, 0)
            return ([(px, avail)], avail) if avail > 0 else ([], 0)
        levels = []
        total = 0
        for px, avail in self.liquidity(take_asks, limit_raw):
            levels.append((px, avail))
            total += avail
            if total >= want_raw:
                break
        return levels, total

    def consume(self, take_asks: bool, px_raw: int, qty_raw: int) -> None:
        """Record that paper fills took ``qty_raw`` at level ``px_raw`` (asks if ``take_asks``)."""
        consumed = self.consumed_asks if take_asks else self.consumed_bids
        consumed[px_raw] = consumed.get(px_raw, 0) + qty_raw
