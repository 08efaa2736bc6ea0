# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
# cython: embedsignature=True
"""Compiled level storage for :class:`tradewire.data.book.OrderBook` (Cython).

Same class, methods, results and errors as the pure-Python :mod:`tradewire.data._book_pure` on valid
input (tested step by step against it in ``tests/unit/data/test_book_impl.py``).

Layout: each side is a pair of parallel C arrays, prices as ``int64_t`` and sizes as references to the
Python ints passed in, sorted so that the best level is always the LAST element (bids ascending, asks
descending). Lookups are binary searches; inserting or removing a level moves only the levels
better than it (a ``memmove`` of a few words near the top of book, where most updates land). The best
bid/ask price raws are cached as Python ints in the read-only members ``top_bid_raw``/``top_ask_raw``
and replaced only when the best level itself is inserted or removed, so reading the top of book is a
member load with no allocation.

Value range: price raws must lie in ``[-2**63, 2**63 - 1]`` (about +/- 9.22e9 price units at scale
10**9); a new level outside it raises ``OverflowError`` (deleting or querying such a price finds no
level, as in the fallback). Size raws are kept as Python ints and may have any magnitude (>= 0).
Non-int raws raise ``TypeError``.
"""

from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.ref cimport Py_DECREF, Py_INCREF, PyObject
from libc.stdint cimport int64_t
from libc.string cimport memmove


cdef extern from "Python.h":
    long long PyLong_AsLongLongAndOverflow(object obj, int* overflow) except? -1
    bint PyLong_CheckExact(object obj)


cdef extern from *:
    """
    #ifndef TW_BOOK_CORE_SOURCE_SHA256
    #define TW_BOOK_CORE_SOURCE_SHA256 ""
    #endif
    """
    const char* TW_BOOK_CORE_SOURCE_SHA256


from tradewire.model.enums import BookAction

API_VERSION = 2
cdef object _CLEAR = BookAction.CLEAR
cdef object _DELETE = BookAction.DELETE
# SHA-256 of this .pyx as it was when the extension was built (set by setup.py; "" if built otherwise)
SOURCE_SHA256 = TW_BOOK_CORE_SOURCE_SHA256.decode("ascii")
I64_MIN = -(2**63)
I64_MAX = 2**63 - 1

cdef enum:
    INITIAL_CAPACITY = 64


cdef struct Ladder:
    int64_t* px  # price raws, best level last
    PyObject** sz  # owned references to the size ints, parallel to px
    Py_ssize_t n
    Py_ssize_t cap
    bint desc  # True for asks: prices stored descending


cdef inline Py_ssize_t _lower(const Ladder* lad, int64_t p) noexcept nogil:
    """First index whose price does not come before ``p`` in the ladder's order."""
    cdef Py_ssize_t lo = 0, hi = lad.n, mid
    if lad.desc:
        while lo < hi:
            mid = (lo + hi) >> 1
            if lad.px[mid] > p:
                lo = mid + 1
            else:
                hi = mid
    else:
        while lo < hi:
            mid = (lo + hi) >> 1
            if lad.px[mid] < p:
                lo = mid + 1
            else:
                hi = mid
    return lo


cdef int _init(Ladder* lad, bint desc) except -1:
    lad.px = <int64_t*> PyMem_Malloc(INITIAL_CAPACITY * sizeof(int64_t))
    lad.sz = <PyObject**> PyMem_Malloc(INITIAL_CAPACITY * sizeof(PyObject*))
    if lad.px == NULL or lad.sz == NULL:
        raise MemoryError()
    lad.n = 0
    lad.cap = INITIAL_CAPACITY
    lad.desc = desc
    return 0


cdef int _grow(Ladder* lad) except -1:
    cdef Py_ssize_t cap = lad.cap * 2
    cdef int64_t* px = <int64_t*> PyMem_Realloc(lad.px, cap * sizeof(int64_t))
    if px == NULL:
        raise MemoryError()
    lad.px = px
    cdef PyObject** sz = <PyObject**> PyMem_Realloc(lad.sz, cap * sizeof(PyObject*))
    if sz == NULL:
        raise MemoryError()
    lad.sz = sz
    lad.cap = cap
    return 0


cdef void _clear(Ladder* lad) noexcept:
    cdef Py_ssize_t i
    cdef Py_ssize_t n = lad.n
    lad.n = 0
    for i in range(n):
        Py_DECREF(<object> lad.sz[i])


cdef void _free(Ladder* lad) noexcept:
    if lad.sz != NULL:
        _clear(lad)
    PyMem_Free(lad.px)
    PyMem_Free(lad.sz)
    lad.px = NULL
    lad.sz = NULL


cdef int _set(Ladder* lad, int64_t p, object size) except -1:
    """Set the size at price ``p``; return 1 if a new best level was inserted, else 0."""
    cdef Py_ssize_t i = _lower(lad, p)
    cdef Py_ssize_t n = lad.n
    cdef PyObject* old
    if i < n and lad.px[i] == p:
        old = lad.sz[i]
        Py_INCREF(size)
        lad.sz[i] = <PyObject*> size
        Py_DECREF(<object> old)
        return 0
    if n == lad.cap:
        _grow(lad)
    if i < n:
        memmove(&lad.px[i + 1], &lad.px[i], (n - i) * sizeof(int64_t))
        memmove(&lad.sz[i + 1], &lad.sz[i], (n - i) * sizeof(PyObject*))
    lad.px[i] = p
    Py_INCREF(size)
    lad.sz[i] = <PyObject*> size
    lad.n = n + 1
    return i == n


cdef int _remove(Ladder* lad, int64_t p) noexcept:
    """Remove the level at price ``p``: 0 if absent, 1 if removed, 2 if the removed level was the best."""
    cdef Py_ssize_t i = _lower(lad, p)
    cdef Py_ssize_t n = lad.n
    if i >= n or lad.px[i] != p:
        return 0
    cdef PyObject* old = lad.sz[i]
    if i < n - 1:
        memmove(&lad.px[i], &lad.px[i + 1], (n - 1 - i) * sizeof(int64_t))
        memmove(&lad.sz[i], &lad.sz[i + 1], (n - 1 - i) * sizeof(PyObject*))
    lad.n = n - 1
    Py_DECREF(<object> old)
    return 2 if i == n - 1 else 1


cdef object _top(const Ladder* lad):
    return lad.px[lad.n - 1] if lad.n else None


cdef list _levels(const Ladder* lad, object depth):
    """Levels best first as ``(price_raw, size_raw)`` tuples, at most ``depth`` (all if None)."""
    cdef Py_ssize_t n = lad.n
    cdef Py_ssize_t i
    if depth is not None:
        if depth <= 0:
            n = 0
        elif depth < n:
            n = depth
    cdef list out = []
    for i in range(lad.n - 1, lad.n - 1 - n, -1):
        out.append((lad.px[i], <object> lad.sz[i]))
    return out


cdef class BookCore:
    """Sorted price levels of both sides of an L2 book, as fixed-point raws, and the book's header fields.

    Attributes
    ----------
    top_bid_raw, top_ask_raw : int | None
        Best bid / ask price raw (None if the side is empty); read-only, kept current by every
        mutation.
    instrument_id, price_precision, size_precision, book_type, sequence, ts_event, ts_init, update_count, in_batch
        Header fields, set by ``OrderBook.__init__`` (see there); ``apply_delta`` advances the last five.
    """

    cdef Ladder _bid
    cdef Ladder _ask
    cdef readonly object top_bid_raw
    cdef readonly object top_ask_raw
    cdef public object instrument_id
    cdef public object price_precision
    cdef public object size_precision
    cdef public object book_type
    cdef public object sequence
    cdef public object ts_event
    cdef public object ts_init
    cdef public object update_count
    cdef public object in_batch

    def __cinit__(self, *args, **kwargs):
        # Subclasses pass their own constructor arguments through; the core takes none.
        _init(&self._bid, False)
        _init(&self._ask, True)
        self.top_bid_raw = None
        self.top_ask_raw = None

    def __dealloc__(self):
        _free(&self._bid)
        _free(&self._ask)

    def apply_delta_raw(self, int side, object price_raw, object size_raw):
        """Set the size at one level; size 0 removes the level (a no-op if the level is absent).

        Parameters
        ----------
        side : int
            ``1`` bid, ``2`` ask (``BookSide`` values).
        price_raw, size_raw : int
            Fixed-point raws (scale 10**9).

        Raises
        ------
        ValueError
            If ``side`` is neither 1 nor 2, or ``size_raw`` is negative.
        OverflowError
            If a new level's ``price_raw`` is outside the int64 range.
        TypeError
            If a raw is not an int.
        """
        self._apply_raw(side, price_raw, size_raw)

    cdef int _apply_raw(self, int side, object price_raw, object size_raw) except -1:
        cdef Ladder* lad
        cdef int sovf = 0, povf = 0
        cdef long long s
        cdef int64_t p
        if side == 1:
            lad = &self._bid
        elif side == 2:
            lad = &self._ask
        else:
            raise ValueError(f"side must be 1 (bid) or 2 (ask), got {side!r}")
        s = PyLong_AsLongLongAndOverflow(size_raw, &sovf)
        if sovf < 0 or (sovf == 0 and s < 0):
            raise ValueError(f"size_raw must be >= 0, got {size_raw!r} at price raw {price_raw!r}")
        p = PyLong_AsLongLongAndOverflow(price_raw, &povf)
        if sovf or s:  # a positive size (beyond int64 sizes are kept as Python ints)
            if povf:
                raise OverflowError(
                    f"price_raw {price_raw!r} is outside the int64 range [-2**63, 2**63 - 1] a book level can hold"
                )
            if not PyLong_CheckExact(size_raw):
                size_raw = int(size_raw)
            if _set(lad, p, size_raw):
                if not PyLong_CheckExact(price_raw):
                    price_raw = p
                if side == 1:
                    self.top_bid_raw = price_raw
                else:
                    self.top_ask_raw = price_raw
        elif not povf and _remove(lad, p) == 2:
            if side == 1:
                self.top_bid_raw = _top(lad)
            else:
                self.top_ask_raw = _top(lad)
        return 0

    def apply_delta(self, delta):
        """Apply one :class:`~tradewire.model.data.OrderBookDelta` (validated) and advance ``sequence``/timestamps.

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
        self._apply_delta(delta)

    def apply_deltas(self, deltas):
        """Apply deltas in order (see :meth:`apply_delta`); an error stops at the offending delta."""
        for d in deltas:
            self._apply_delta(d)

    cdef int _apply_delta(self, object delta) except -1:
        if self.book_type != 2:  # BookType.L2_MBP
            raise ValueError(f"{self.instrument_id}: deltas need an L2_MBP book, this one is {self.book_type.name}")
        action = delta.action
        if action is _CLEAR:
            self._clear_all()
        else:
            size_raw = delta.size.raw
            if action is _DELETE:
                size_raw = 0
            elif size_raw <= 0:
                raise ValueError(f"{self.instrument_id}: {action} needs a positive size, got {delta.size} ({delta!r})")
            try:
                self._apply_raw(delta.side, delta.price.raw, size_raw)
            except OverflowError as exc:
                raise OverflowError(f"{self.instrument_id}: {exc} ({delta!r})") from None
        sequence = delta.sequence
        if sequence:
            self.sequence = sequence
        self.ts_event = delta.ts_event
        self.ts_init = delta.ts_init
        self.update_count += 1
        self.in_batch = not (delta.flags & 1)  # OrderBookDelta.F_LAST
        return 0

    cdef void _clear_all(self) noexcept:
        _clear(&self._bid)
        _clear(&self._ask)
        self.top_bid_raw = None
        self.top_ask_raw = None

    def best_bid_raw(self):
        """Best (highest) bid price raw, or None if the bid side is empty."""
        return self.top_bid_raw

    def best_ask_raw(self):
        """Best (lowest) ask price raw, or None if the ask side is empty."""
        return self.top_ask_raw

    def best_bid_size_raw(self):
        """Size raw at the best bid, or None."""
        return <object> self._bid.sz[self._bid.n - 1] if self._bid.n else None

    def best_ask_size_raw(self):
        """Size raw at the best ask, or None."""
        return <object> self._ask.sz[self._ask.n - 1] if self._ask.n else None

    def size_at_raw(self, side, price_raw):
        """Size raw at ``price_raw`` on ``side`` (1 bid, anything else ask); 0 if there is no level."""
        cdef Ladder* lad = &self._bid if side == 1 else &self._ask
        cdef int ovf = 0
        cdef int64_t p = PyLong_AsLongLongAndOverflow(price_raw, &ovf)
        if ovf:
            return 0
        cdef Py_ssize_t i = _lower(lad, p)
        if i < lad.n and lad.px[i] == p:
            return <object> lad.sz[i]
        return 0

    def bids_raw(self, depth=None):
        """Bid levels as ``(price_raw, size_raw)``, best (highest) first, at most ``depth`` (all if None)."""
        return _levels(&self._bid, depth)

    def asks_raw(self, depth=None):
        """Ask levels as ``(price_raw, size_raw)``, best (lowest) first, at most ``depth`` (all if None)."""
        return _levels(&self._ask, depth)

    def volume_within_raw(self, side, price_raw):
        """Total size raw on ``side`` at prices at least as good as ``price_raw`` (bids >=, asks <=)."""
        cdef Ladder* lad = &self._bid if side == 1 else &self._ask
        cdef int ovf = 0
        cdef int64_t p = PyLong_AsLongLongAndOverflow(price_raw, &ovf)
        cdef Py_ssize_t start, i
        if ovf:
            # beyond int64: every level is better (bid side, very low price / ask side, very high) or none is
            start = 0 if (ovf < 0) == (side == 1) else lad.n
        else:
            start = _lower(lad, p)
        total = 0
        for i in range(start, lad.n):
            total += <object> lad.sz[i]
        return total

    @property
    def bid_level_count(self):
        """Number of bid levels."""
        return self._bid.n

    @property
    def ask_level_count(self):
        """Number of ask levels."""
        return self._ask.n

    def clear(self):
        """Remove every level of both sides."""
        self._clear_all()

    def clear_side(self, side):
        """Remove every level of one side (1 bid, anything else ask)."""
        if int(side) == 1:
            _clear(&self._bid)
            self.top_bid_raw = None
        else:
            _clear(&self._ask)
            self.top_ask_raw = None

    def check_levels(self):
        """Verify the storage invariants (strictly ordered prices, sizes > 0, cached tops).

        Raises
        ------
        AssertionError
            Naming the broken invariant.
        """
        if self.top_bid_raw != _top(&self._bid):
            raise AssertionError("cached best bid out of date")
        if self.top_ask_raw != _top(&self._ask):
            raise AssertionError("cached best ask out of date")
        cdef Ladder* lad
        cdef Py_ssize_t i
        for name, lad_side in (("bid", 1), ("ask", 2)):
            lad = &self._bid if lad_side == 1 else &self._ask
            for i in range(1, lad.n):
                if (lad.px[i - 1] <= lad.px[i]) if lad.desc else (lad.px[i - 1] >= lad.px[i]):
                    raise AssertionError(f"{name} price index out of sync with levels")
            for i in range(lad.n):
                if not (<object> lad.sz[i] > 0):
                    raise AssertionError(f"non-positive {name} size")
