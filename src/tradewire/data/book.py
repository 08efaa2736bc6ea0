"""`OrderBook`: an L2 (market-by-price) or L1 order book per instrument, and `OrderBookDepth`.

The levels are stored by a ``BookCore``: the compiled Cython extension :mod:`tradewire.data._book_core`
when it is installed (built by ``pip install .``/``pip install -e .``), else the pure-Python
:mod:`tradewire.data._book_pure`. Both give identical books, reads and errors (tested step by step
against each other); :data:`IMPLEMENTATION` names the active one (``"compiled"`` or ``"python"``) and
the import logs it once. Setting the environment variable ``TRADEWIRE_PURE_PYTHON=1`` forces the
pure-Python core. Best bid/ask are cached in ``top_bid_raw``/``top_ask_raw`` and refreshed only when
the best level is inserted or removed, so reading the top of book costs an attribute load.

All prices and sizes are the model's fixed-point raws (scale 10**9, see :mod:`tradewire.model.objects`);
derived figures (average fill price, slippage, mid) are exact ``Decimal`` or raw ints, never binary
floats. Value range: price raws must fit a signed 64-bit int, ``[-2**63, 2**63 - 1]`` (about
+/- 9.22e9 price units); a new level outside it raises ``OverflowError``. Size raws may be any
non-negative Python int.

Two APIs:

* model objects: :meth:`OrderBook.apply_delta` / :meth:`OrderBook.apply_deltas` with
  :class:`~tradewire.model.data.OrderBookDelta` (ADD/UPDATE set the level's total size, DELETE
  removes it, CLEAR empties the book), :meth:`OrderBook.update_quote_tick` for L1 books;
* a raw hot path: ``OrderBook.apply_delta_raw(side, price_raw, size_raw)`` where size 0
  deletes the level, and ``best_bid_raw()`` / ``best_ask_raw()`` (or the ``top_bid_raw`` /
  ``top_ask_raw`` attributes).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from pathlib import Path

from tradewire.data import _book_pure
from tradewire.model.data import QuoteTick
from tradewire.model.enums import BookSide, OrderSide
from tradewire.model.identifiers import InstrumentId
from tradewire.model.objects import FIXED_PRECISION, FIXED_SCALAR, Price, Quantity

_log = logging.getLogger(__name__)

PURE_PYTHON_ENV = "TRADEWIRE_PURE_PYTHON"


def _stale_reason(module: object) -> str:
    """Why the compiled module does not match this source tree ("" if it does).

    Compares its ``API_VERSION`` with the fallback's and, when the ``.pyx`` it was built from sits beside
    it (editable installs, wheels), the SHA-256 compiled into it with that file's current SHA-256.
    """
    api = getattr(module, "API_VERSION", None)
    if api != _book_pure.API_VERSION:
        return f"API {api}, expected {_book_pure.API_VERSION}"
    built = getattr(module, "SOURCE_SHA256", "")
    pyx = Path(_book_pure.__file__).with_name("_book_core.pyx")
    if built and pyx.is_file() and hashlib.sha256(pyx.read_bytes()).hexdigest() != built:
        return f"built from another version of {pyx}"
    return ""


def _load_compiled_core() -> type | None:
    """Return the compiled ``BookCore`` class, or None (logged once) if it is missing, stale or disabled."""
    if os.environ.get(PURE_PYTHON_ENV, "").strip().lower() in ("1", "true", "yes", "on"):
        _log.info("order book: pure-Python core (forced by %s)", PURE_PYTHON_ENV)
        return None
    try:
        from tradewire.data import _book_core
    except ImportError as exc:
        _log.warning(
            "order book: compiled core not available (%s); using the pure-Python core "
            "(reinstall with a C compiler present: pip install -e .)",
            exc,
        )
        return None
    stale = _stale_reason(_book_core)
    if stale:
        _log.warning(
            "order book: compiled core %s is out of date (%s); using the pure-Python core "
            "(rebuild it: pip install -e .)",
            _book_core.__file__,
            stale,
        )
        return None
    _log.info("order book: compiled core %s", _book_core.__file__)
    return _book_core.BookCore


_CompiledCore = _load_compiled_core()
IMPLEMENTATION: str = "python" if _CompiledCore is None else "compiled"
"""Which level storage ``OrderBook`` uses: ``"compiled"`` (Cython extension) or ``"python"``."""

BID = int(BookSide.BID)
ASK = int(BookSide.ASK)
_SCALE = Decimal(FIXED_SCALAR)


class BookType(IntEnum):
    """Granularity of a book: L1 (top of book from quotes) or L2 (aggregated size per price)."""

    L1_MBP = 1
    L2_MBP = 2


@dataclass(frozen=True, slots=True)
class BookLevel:
    """One price level: ``price`` and its aggregate ``size``."""

    price: Price
    size: Quantity


@dataclass(frozen=True, slots=True)
class OrderBookDepth:
    """An immutable snapshot of the top levels of a book (10 per side by default).

    Attributes
    ----------
    instrument_id : InstrumentId
    bids, asks : tuple[BookLevel, ...]
        Best first; at most ``depth`` levels each (fewer if the book is thinner).
    sequence : int
        Venue update id of the last delta applied before the snapshot (0 if none).
    ts_event, ts_init : int
        UTC ns of the last applied update at the venue / in tradewire.
    """

    instrument_id: InstrumentId
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    sequence: int
    ts_event: int
    ts_init: int

    @property
    def best_bid(self) -> BookLevel | None:
        """Best bid level or None."""
        return self.bids[0] if self.bids else None

    @property
    def best_ask(self) -> BookLevel | None:
        """Best ask level or None."""
        return self.asks[0] if self.asks else None


@dataclass(frozen=True, slots=True)
class FillEstimate:
    """Result of walking the book for a market order of a given size.

    Attributes
    ----------
    side : OrderSide
        Order side (BUY walks the asks, SELL walks the bids).
    requested, filled : Quantity
        Requested size and the size the visible book can fill (``filled < requested`` when the book
        is too thin).
    avg_px : Decimal | None
        Size-weighted average fill price ``sum(p_i * q_i) / sum(q_i)`` (exact to 28 significant
        digits), None if nothing fills.
    worst_px : Price | None
        Last (worst) price level touched.
    notional_raw : int
        ``sum(p_i * q_i)`` at scale 10**18 (price raw x size raw), exact.
    slippage : Decimal | None
        Adverse distance of ``avg_px`` from the best price, in price units (>= 0).
    slippage_bps : Decimal | None
        ``slippage / best * 10_000``.
    """

    side: OrderSide
    requested: Quantity
    filled: Quantity
    avg_px: Decimal | None
    worst_px: Price | None
    notional_raw: int
    slippage: Decimal | None
    slippage_bps: Decimal | None

    @property
    def fully_filled(self) -> bool:
        """True if the visible book covers the whole requested size."""
        return self.filled.raw == self.requested.raw


class _OrderBookAPI:
    """The model-level API of :class:`OrderBook`, on top of a ``BookCore`` base (compiled or pure Python).

    The core provides the raw level storage: ``apply_delta_raw``, ``top_bid_raw``/``top_ask_raw``,
    ``best_bid_raw``/``best_ask_raw``, ``best_bid_size_raw``/``best_ask_size_raw``, ``size_at_raw``,
    ``bids_raw``/``asks_raw``, ``volume_within_raw``, ``bid_level_count``/``ask_level_count``, ``clear``,
    ``clear_side`` and ``check_levels``, the model-level ``apply_delta``/``apply_deltas`` (the hot path of
    the DataEngine) and the header fields below (see :mod:`tradewire.data._book_pure` for the contracts).
    """

    __slots__ = ()

    # header fields, stored by the core and set by __init__
    instrument_id: InstrumentId
    price_precision: int
    size_precision: int
    book_type: BookType
    sequence: int
    ts_event: int
    ts_init: int
    update_count: int
    in_batch: bool

    def __init__(
        self,
        instrument_id: InstrumentId,
        price_precision: int,
        size_precision: int,
        book_type: BookType = BookType.L2_MBP,
    ) -> None:
        if not 0 <= price_precision <= FIXED_PRECISION or not 0 <= size_precision <= FIXED_PRECISION:
            raise ValueError(f"precisions must be 0..{FIXED_PRECISION}, got {price_precision}, {size_precision}")
        super().__init__()  # the core's storage
        self.instrument_id = instrument_id
        self.price_precision = price_precision
        self.size_precision = size_precision
        self.book_type = BookType(book_type)
        self.sequence = 0
        self.ts_event = 0
        self.ts_init = 0
        self.update_count = 0
        self.in_batch = False

    def __reduce__(self) -> tuple:
        """Pickle/copy support, the same for both cores: the levels and the header fields."""
        header = (self.sequence, self.ts_event, self.ts_init, self.update_count, self.in_batch)
        args = (self.instrument_id, self.price_precision, self.size_precision, self.book_type)
        return _restore_book, (type(self), args, self.bids_raw(), self.asks_raw(), header)

    # ------------------------------------------------------------------ model API

    def apply_snapshot_raw(
        self,
        bids: Iterable[tuple[int, int]],
        asks: Iterable[tuple[int, int]],
        sequence: int = 0,
        ts_event: int = 0,
        ts_init: int = 0,
    ) -> None:
        """Replace the whole book with ``(price_raw, size_raw)`` levels (size 0 levels are skipped).

        Raises
        ------
        ValueError
            If a size is negative.
        """
        self.clear()
        for side, levels in ((BID, bids), (ASK, asks)):
            for p, s in levels:
                if s < 0:
                    raise ValueError(f"{self.instrument_id}: negative size {s} at price raw {p}")
                if s:
                    self.apply_delta_raw(side, p, s)
        self.sequence = sequence
        self.ts_event = ts_event
        self.ts_init = ts_init
        self.update_count += 1
        self.in_batch = False

    def update_quote_tick(self, tick: QuoteTick) -> None:
        """Set an L1 book to the quote's best bid/ask (replacing the previous top of book).

        Raises
        ------
        ValueError
            If the book is not ``L1_MBP`` or the quote is for another instrument.
        """
        if self.book_type is not BookType.L1_MBP:
            raise ValueError(f"{self.instrument_id}: update_quote_tick needs an L1_MBP book, not {self.book_type.name}")
        if tick.instrument_id != self.instrument_id:
            raise ValueError(f"quote for {tick.instrument_id} applied to book of {self.instrument_id}")
        self.clear()
        if tick.bid_size.raw:
            self.apply_delta_raw(BID, tick.bid_price.raw, tick.bid_size.raw)
        if tick.ask_size.raw:
            self.apply_delta_raw(ASK, tick.ask_price.raw, tick.ask_size.raw)
        self.ts_event = tick.ts_event
        self.ts_init = tick.ts_init
        self.update_count += 1

    # ------------------------------------------------------------------ queries

    def _price(self, raw: int | None) -> Price | None:
        return None if raw is None else Price.from_raw(raw, self.price_precision)

    def _qty(self, raw: int | None) -> Quantity | None:
        return None if raw is None else Quantity.from_raw(raw, self.size_precision)

    def best_bid_price(self) -> Price | None:
        """Best bid as a ``Price``, or None."""
        return self._price(self.best_bid_raw())

    def best_ask_price(self) -> Price | None:
        """Best ask as a ``Price``, or None."""
        return self._price(self.best_ask_raw())

    def best_bid_size(self) -> Quantity | None:
        """Size at the best bid, or None."""
        return self._qty(self.best_bid_size_raw())

    def best_ask_size(self) -> Quantity | None:
        """Size at the best ask, or None."""
        return self._qty(self.best_ask_size_raw())

    def spread(self) -> Price | None:
        """Best ask minus best bid (negative if crossed), or None if a side is empty."""
        b, a = self.best_bid_raw(), self.best_ask_raw()
        return None if b is None or a is None else Price.from_raw(a - b, self.price_precision)

    def midpoint(self) -> Decimal | None:
        """Exact mid ``(best bid + best ask) / 2`` as Decimal, or None if a side is empty."""
        b, a = self.best_bid_raw(), self.best_ask_raw()
        return None if b is None or a is None else Decimal(a + b) / 2 / _SCALE

    def is_crossed(self) -> bool:
        """True if best bid > best ask."""
        b, a = self.best_bid_raw(), self.best_ask_raw()
        return b is not None and a is not None and b > a

    def is_locked(self) -> bool:
        """True if best bid == best ask."""
        b, a = self.best_bid_raw(), self.best_ask_raw()
        return b is not None and b == a

    def bids(self, depth: int | None = None) -> list[BookLevel]:
        """Bid levels, best first, at most ``depth``."""
        pp, sp = self.price_precision, self.size_precision
        return [BookLevel(Price.from_raw(p, pp), Quantity.from_raw(s, sp)) for p, s in self.bids_raw(depth)]

    def asks(self, depth: int | None = None) -> list[BookLevel]:
        """Ask levels, best first, at most ``depth``."""
        pp, sp = self.price_precision, self.size_precision
        return [BookLevel(Price.from_raw(p, pp), Quantity.from_raw(s, sp)) for p, s in self.asks_raw(depth)]

    def cumulative_depth(self, side: BookSide | int, depth: int | None = None) -> list[BookLevel]:
        """Running total of size from the best level outwards: ``[(price_i, sum(size_0..i))]``."""
        levels = self.bids_raw(depth) if int(side) == BID else self.asks_raw(depth)
        out: list[BookLevel] = []
        total = 0
        pp, sp = self.price_precision, self.size_precision
        for p, s in levels:
            total += s
            out.append(BookLevel(Price.from_raw(p, pp), Quantity.from_raw(total, sp)))
        return out

    def volume_within(self, side: BookSide | int, price: Price) -> Quantity:
        """Total size on ``side`` at prices at least as good as ``price`` (bids >= price, asks <= price)."""
        total = self.volume_within_raw(int(side), price.raw)
        return Quantity.from_raw(total, self.size_precision)

    def simulate_fill(self, side: OrderSide, quantity: Quantity) -> FillEstimate:
        """Walk the book for a market order of ``quantity`` and return the average price and slippage.

        A BUY consumes asks from the lowest price up, a SELL consumes bids from the highest price
        down; each level contributes ``min(remaining, size)``. Computation is on raws: the notional
        ``sum(p_i * q_i)`` is an exact int, ``avg_px = notional / filled`` is a Decimal.

        Parameters
        ----------
        side : OrderSide
        quantity : Quantity
            Must be positive.

        Raises
        ------
        ValueError
            If ``quantity`` is not positive.
        """
        want = quantity.raw
        if want <= 0:
            raise ValueError(f"quantity must be positive, got {quantity}")
        levels = self.asks_raw() if side is OrderSide.BUY else self.bids_raw()
        remaining = want
        notional = 0
        worst = None
        for p, s in levels:
            take = s if s < remaining else remaining
            notional += p * take
            remaining -= take
            worst = p
            if not remaining:
                break
        filled = want - remaining
        if not filled:
            return FillEstimate(side, quantity, Quantity.from_raw(0, quantity.precision), None, None, 0, None, None)
        avg = Decimal(notional) / Decimal(filled) / _SCALE
        best = Decimal(levels[0][0]) / _SCALE
        slip = avg - best if side is OrderSide.BUY else best - avg
        bps = slip / best * 10_000 if best else None
        return FillEstimate(
            side,
            quantity,
            Quantity.from_raw(filled, max(quantity.precision, self.size_precision)),
            avg,
            self._price(worst),
            notional,
            slip,
            bps,
        )

    def get_avg_px_for_quantity(self, side: OrderSide, quantity: Quantity) -> Decimal | None:
        """Average fill price for a market order of ``quantity`` (None if the side is empty)."""
        return self.simulate_fill(side, quantity).avg_px

    def to_depth(self, depth: int = 10) -> OrderBookDepth:
        """Snapshot the top ``depth`` levels into an immutable :class:`OrderBookDepth`."""
        return OrderBookDepth(
            self.instrument_id,
            tuple(self.bids(depth)),
            tuple(self.asks(depth)),
            self.sequence,
            self.ts_event,
            self.ts_init,
        )

    def check_integrity(self) -> None:
        """Verify the internal invariants (sorted unique prices, sizes > 0, cached best bid/ask current).

        Raises
        ------
        AssertionError
            Naming the instrument and the broken invariant.
        """
        try:
            self.check_levels()
        except AssertionError as exc:
            raise AssertionError(f"{self.instrument_id}: {exc}") from None

    def pprint(self, depth: int = 5) -> str:
        """Human-readable ladder of the top ``depth`` levels (asks above bids)."""
        lines = [f"{lvl.size!s:>16}  {lvl.price!s:<16}" for lvl in reversed(self.asks(depth))]
        lines.append("-" * 34)
        lines += [f"{'':>16}  {lvl.price!s:<16}{lvl.size!s}" for lvl in self.bids(depth)]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"OrderBook({self.instrument_id}, {self.book_type.name}, bid={self.best_bid_price()}, "
            f"ask={self.best_ask_price()}, levels={self.bid_level_count}x{self.ask_level_count}, seq={self.sequence})"
        )


def _restore_book(
    cls: type,
    args: tuple,
    bids: list[tuple[int, int]],
    asks: list[tuple[int, int]],
    header: tuple[int, int, int, int, bool],
) -> _OrderBookAPI:
    """Rebuild a pickled book (see ``_OrderBookAPI.__reduce__``)."""
    book = cls(*args)
    for p, s in bids:
        book.apply_delta_raw(BID, p, s)
    for p, s in asks:
        book.apply_delta_raw(ASK, p, s)
    book.sequence, book.ts_event, book.ts_init, book.update_count, book.in_batch = header
    return book


class PurePythonOrderBook(_OrderBookAPI, _book_pure.BookCore):
    """:class:`OrderBook` on the pure-Python core (always available; same API and results)."""

    __slots__ = ()


if _CompiledCore is None:
    CompiledOrderBook: type | None = None
    _Active: type = PurePythonOrderBook
else:

    class CompiledOrderBook(_OrderBookAPI, _CompiledCore):  # type: ignore[no-redef, valid-type, misc]
        """:class:`OrderBook` on the compiled core (None when the extension is not installed)."""

        __slots__ = ()

    _Active = CompiledOrderBook


class OrderBook(_Active):  # type: ignore[valid-type, misc]
    """Market-by-price order book for one instrument.

    Parameters
    ----------
    instrument_id : InstrumentId
    price_precision, size_precision : int
        Decimals used when raws are turned back into ``Price``/``Quantity`` (display only; the raws
        stay exact).
    book_type : BookType
        ``L2_MBP`` (default) accepts deltas; ``L1_MBP`` is maintained from quotes.

    Raises
    ------
    ValueError
        If a precision is outside ``0..9``.

    Attributes
    ----------
    top_bid_raw, top_ask_raw : int | None
        Cached best bid/ask price raws, kept current by every mutation (read-only for callers; the
        cheapest way to read the top of book in a hot loop).

    Notes
    -----
    The level storage is the compiled core when installed, else the pure-Python one (see
    :data:`IMPLEMENTATION`); ``PurePythonOrderBook`` and ``CompiledOrderBook`` name both explicitly.
    Raw hot path: ``apply_delta_raw(side, price_raw, size_raw)`` sets one level (size 0 removes it;
    ``ValueError`` for a side other than 1/2 or a negative size, ``OverflowError`` for a new level whose
    price raw is outside int64).
    ``sequence``, ``ts_event`` and ``ts_init`` follow the last delta applied through the model API.
    ``in_batch`` is True while a venue batch is half applied (the last delta lacked ``F_LAST``):
    consumers should only read a consistent book, i.e. when ``in_batch`` is False.
    """

    __slots__ = ()
