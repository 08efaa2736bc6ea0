"""Compiled vs pure-Python order book cores: identical books, reads and errors; value range; selection."""

from __future__ import annotations

import copy
import hashlib
import os
import pickle
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.data import book as book_mod
from tradewire.data._book_pure import I64_MAX, I64_MIN
from tradewire.data.book import CompiledOrderBook, PurePythonOrderBook
from tradewire.model.data import OrderBookDelta
from tradewire.model.enums import BookAction, BookSide
from tradewire.model.identifiers import InstrumentId
from tradewire.model.objects import Price, Quantity

IID = InstrumentId("ETHUSDT.BINANCE")
TICK = 10**7  # 0.01 in raws

needs_compiled = pytest.mark.skipif(
    CompiledOrderBook is None, reason="compiled book core not built or out of date (see the import log)"
)
IMPLS = pytest.mark.parametrize(
    "book_cls",
    [
        pytest.param(PurePythonOrderBook, id="python"),
        pytest.param(CompiledOrderBook, id="compiled", marks=needs_compiled),
    ],
)


def snapshot(book) -> tuple:
    """Everything a caller can read from a book, for comparing two books."""
    return (
        book.bids_raw(),
        book.asks_raw(),
        book.bids_raw(3),
        book.asks_raw(3),
        book.bids_raw(0),
        book.asks_raw(-1),
        book.top_bid_raw,
        book.top_ask_raw,
        book.best_bid_raw(),
        book.best_ask_raw(),
        book.best_bid_size_raw(),
        book.best_ask_size_raw(),
        book.bid_level_count,
        book.ask_level_count,
        book.sequence,
        book.ts_event,
        book.ts_init,
        book.update_count,
        book.in_batch,
        book.spread(),
        book.midpoint(),
        book.is_crossed(),
        book.is_locked(),
    )


def outcome(fn, *args):
    """``("ok", result)`` or ``(exception type, message)``."""
    try:
        return ("ok", fn(*args))
    except (ValueError, OverflowError) as exc:
        return (type(exc), str(exc))


# prices: mostly a narrow band (many hits on existing levels), sometimes the int64 edges or beyond
prices = st.one_of(
    st.integers(min_value=1, max_value=40).map(lambda k: k * TICK),
    st.integers(min_value=-5, max_value=300).map(lambda k: k * TICK),
    st.sampled_from([I64_MIN, I64_MIN + 1, I64_MAX - 1, I64_MAX, I64_MAX + 1, I64_MIN - 1, 2**70, 0]),
)
sizes = st.one_of(
    st.integers(min_value=0, max_value=5).map(lambda q: q * 10**9),
    st.sampled_from([1, I64_MAX, I64_MAX + 1, 2**64, 10**30, -1, -(2**64)]),
)
raw_op = st.tuples(st.just("raw"), st.sampled_from([1, 2, 1, 2, 0, 3]), prices, sizes)
model_op = st.tuples(
    st.just("delta"),
    st.sampled_from([BookAction.ADD, BookAction.UPDATE, BookAction.DELETE, BookAction.CLEAR]),
    st.sampled_from([BookSide.BID, BookSide.ASK]),
    st.integers(min_value=1, max_value=40),
    st.integers(min_value=0, max_value=4),
    st.sampled_from([0, OrderBookDelta.F_LAST]),
)
other_op = st.one_of(
    st.tuples(st.just("clear")),
    st.tuples(st.just("clear_side"), st.sampled_from([1, 2, BookSide.BID, BookSide.ASK])),
    st.tuples(
        st.just("snapshot"),
        st.lists(st.tuples(st.integers(1, 40).map(lambda k: k * TICK), st.integers(0, 3)), max_size=6),
        st.lists(st.tuples(st.integers(1, 40).map(lambda k: k * TICK), st.integers(-1, 3)), max_size=6),
    ),
)
batch_op = st.tuples(st.just("batch"), st.lists(model_op, min_size=1, max_size=8))
ops = st.lists(st.one_of(raw_op, raw_op, raw_op, model_op, batch_op, other_op), max_size=200)


def model_delta(op, seq: int) -> OrderBookDelta:
    _, action, side, k, q, flags = op
    price, size = Price.from_raw(k * TICK, 2), Quantity.from_raw(q * 10**9, 3)
    return OrderBookDelta(IID, action, side, price, size, flags, seq, seq, seq + 1)


def step(book, op, seq: int):
    kind = op[0]
    if kind == "raw":
        _, side, p, s = op
        return outcome(book.apply_delta_raw, side, p, s)
    if kind == "delta":
        return outcome(book.apply_delta, model_delta(op, seq))
    if kind == "batch":  # apply_deltas stops at the first invalid delta (an ADD/UPDATE of size 0)
        return outcome(book.apply_deltas, [model_delta(d, seq + j) for j, d in enumerate(op[1])])
    if kind == "clear":
        return outcome(book.clear)
    if kind == "clear_side":
        return outcome(book.clear_side, op[1])
    _, bids, asks = op
    return outcome(book.apply_snapshot_raw, bids, asks, seq, seq, seq)


@needs_compiled
@settings(max_examples=200, deadline=None)
@given(ops)
def test_compiled_and_pure_agree_after_every_step(operations):
    """The same random delta sequence gives identical results, errors and books on both cores."""
    py = PurePythonOrderBook(IID, 2, 3)
    cc = CompiledOrderBook(IID, 2, 3)
    for i, op in enumerate(operations):
        r_py, r_cc = step(py, op, i + 1), step(cc, op, i + 1)
        assert r_py == r_cc, f"step {i}: {op}"
        py.check_integrity()
        cc.check_integrity()
        assert snapshot(py) == snapshot(cc), f"step {i}: {op}"
        if op[0] == "raw":
            _, side, p, _ = op
            for sd in (1, 2):
                assert py.size_at_raw(sd, p) == cc.size_at_raw(sd, p)
                assert py.volume_within_raw(sd, p) == cc.volume_within_raw(sd, p)
            if I64_MIN <= p <= I64_MAX and p >= 0:
                px = Price.from_raw(p, 2)
                assert py.volume_within(BookSide.BID, px) == cc.volume_within(BookSide.BID, px)
                assert py.volume_within(BookSide.ASK, px) == cc.volume_within(BookSide.ASK, px)


@needs_compiled
def test_large_books_agree_and_grow_past_initial_capacity():
    """Thousands of random updates on 600 prices a side (the compiled arrays grow from 64 slots)."""
    rng = random.Random(7)
    py = PurePythonOrderBook(IID, 2, 3)
    cc = CompiledOrderBook(IID, 2, 3)
    for i in range(20_000):
        side = rng.choice((1, 2))
        p = rng.randint(1, 600) * TICK
        s = 0 if rng.random() < 0.3 else rng.randint(1, 10**6) * 10**6
        py.apply_delta_raw(side, p, s)
        cc.apply_delta_raw(side, p, s)
        if i % 997 == 0:
            assert snapshot(py) == snapshot(cc)
    assert cc.bid_level_count > 300 and cc.ask_level_count > 300
    assert snapshot(py) == snapshot(cc)
    cc.check_integrity()


@IMPLS
def test_int64_price_range_and_unbounded_sizes(book_cls):
    book = book_cls(IID, 2, 3)
    book.apply_delta_raw(1, I64_MIN, 5)
    book.apply_delta_raw(1, I64_MAX, 6)
    book.apply_delta_raw(2, I64_MAX, 7)
    assert book.bids_raw() == [(I64_MAX, 6), (I64_MIN, 5)]
    assert (book.top_bid_raw, book.top_ask_raw) == (I64_MAX, I64_MAX)
    for p in (I64_MAX + 1, I64_MIN - 1, 10**40):
        with pytest.raises(OverflowError, match=r"int64 range"):
            book.apply_delta_raw(2, p, 1)
        book.apply_delta_raw(2, p, 0)  # deleting a level that cannot exist is a no-op
        assert book.size_at_raw(2, p) == 0
    huge = 10**40 + 1
    book.apply_delta_raw(2, 10, huge)
    assert book.best_ask_size_raw() == huge and book.size_at_raw(2, 10) == huge
    assert book.volume_within_raw(2, I64_MAX) == huge + 7
    assert book.volume_within_raw(2, 2**80) == huge + 7
    assert book.volume_within_raw(2, -(2**80)) == 0
    assert book.volume_within_raw(1, -(2**80)) == 11
    assert book.volume_within_raw(1, 2**80) == 0
    with pytest.raises(ValueError, match="size_raw must be >= 0"):
        book.apply_delta_raw(1, 10, -1)
    with pytest.raises(ValueError, match="size_raw must be >= 0"):
        book.apply_delta_raw(1, 10, -(2**70))
    with pytest.raises(ValueError, match=r"side must be 1 \(bid\) or 2 \(ask\), got 0"):
        book.apply_delta_raw(0, 10, 1)
    book.check_integrity()
    before = snapshot(book)
    too_high = OrderBookDelta(
        IID, BookAction.ADD, BookSide.BID, Price.from_raw(2**63, 2), Quantity("1", 3), OrderBookDelta.F_LAST, 9, 1, 2
    )
    with pytest.raises(OverflowError, match=r"ETHUSDT\.BINANCE: price_raw 9223372036854775808 is outside the int64"):
        book.apply_delta(too_high)
    assert snapshot(book) == before  # nothing applied, header unchanged


@needs_compiled
def test_compiled_core_rejects_non_int_raws():
    book = CompiledOrderBook(IID, 2, 3)
    with pytest.raises(TypeError):
        book.apply_delta_raw(1, 1.5, 10)
    with pytest.raises(TypeError):
        book.apply_delta_raw(1, 10, 2.0)
    assert book.bid_level_count == 0


@needs_compiled
def test_compiled_core_holds_exactly_one_reference_per_size():
    """Sizes are kept as Python objects: set, replace, delete, clear and free release them."""
    size = 10**30 + 12345  # a fresh int object
    base = sys.getrefcount(size)
    book = CompiledOrderBook(IID, 2, 3)
    book.apply_delta_raw(1, 100, size)
    assert sys.getrefcount(size) == base + 1
    book.apply_delta_raw(1, 100, 7)  # replaced
    assert sys.getrefcount(size) == base
    book.apply_delta_raw(2, 200, size)
    book.apply_delta_raw(2, 200, 0)  # deleted
    assert sys.getrefcount(size) == base
    for p in range(100):
        book.apply_delta_raw(1 + p % 2, 1000 + p, size)
    assert sys.getrefcount(size) == base + 100
    book.clear_side(1)
    assert sys.getrefcount(size) == base + 50
    book.clear()
    assert sys.getrefcount(size) == base
    book.apply_delta_raw(2, 5, size)
    del book
    assert sys.getrefcount(size) == base


@IMPLS
def test_pickle_and_copy_keep_levels_and_header(book_cls):
    book = book_cls(IID, 2, 3)
    book.apply_snapshot_raw([(100, 1), (99, 2)], [(101, 3)], sequence=42, ts_event=5, ts_init=6)
    book.apply_delta_raw(2, 102, 10**25)
    for clone in (pickle.loads(pickle.dumps(book)), copy.deepcopy(book), copy.copy(book)):
        assert type(clone) is book_cls
        assert snapshot(clone) == snapshot(book)
        assert clone.instrument_id == IID and clone.price_precision == 2 and clone.size_precision == 3
        clone.apply_delta_raw(1, 100, 0)
        assert book.best_bid_raw() == 100  # independent storage


@needs_compiled
def test_top_of_book_attributes_are_read_only_on_compiled_core():
    book = CompiledOrderBook(IID, 2, 3)
    with pytest.raises(AttributeError):
        book.top_bid_raw = 5


def test_implementation_flag_matches_active_class():
    assert book_mod.IMPLEMENTATION in ("compiled", "python")
    if book_mod.IMPLEMENTATION == "compiled":
        assert issubclass(book_mod.OrderBook, CompiledOrderBook)
    else:
        assert issubclass(book_mod.OrderBook, PurePythonOrderBook)
    if CompiledOrderBook is not None and not os.environ.get(book_mod.PURE_PYTHON_ENV):
        assert book_mod.IMPLEMENTATION == "compiled"


_PROBE = (
    "import logging, sys\n"
    "logging.basicConfig(level=logging.INFO, stream=sys.stdout, format='%(levelname)s %(message)s')\n"
    "{block}"
    "import tradewire.data.book as b\n"
    "print('IMPL', b.IMPLEMENTATION, b.OrderBook.__mro__[1].__name__)\n"
)
_BLOCK_EXTENSION = "sys.modules['tradewire.data._book_core'] = None  # as if the extension were not built\n"


def _probe(env_extra: dict[str, str], block: str = "") -> str:
    env = {k: v for k, v in os.environ.items() if k != book_mod.PURE_PYTHON_ENV}
    env.update(env_extra)
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(block=block)], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_env_var_forces_pure_python_and_is_logged():
    out = _probe({book_mod.PURE_PYTHON_ENV: "1"})
    assert "IMPL python PurePythonOrderBook" in out
    assert "INFO order book: pure-Python core (forced by TRADEWIRE_PURE_PYTHON)" in out
    assert out.count("order book:") == 1


def test_missing_extension_falls_back_with_a_warning():
    out = _probe({}, _BLOCK_EXTENSION)
    assert "IMPL python PurePythonOrderBook" in out
    assert "WARNING order book: compiled core not available" in out


@needs_compiled
def test_compiled_core_is_used_by_default_and_logged():
    out = _probe({book_mod.PURE_PYTHON_ENV: "0"})
    assert "IMPL compiled CompiledOrderBook" in out
    assert "INFO order book: compiled core" in out


@needs_compiled
def test_extension_built_from_another_source_is_not_used():
    """An extension whose compiled-in source hash differs from the .pyx beside it falls back, with a warning."""
    block = "import tradewire.data._book_core as core\ncore.SOURCE_SHA256 = '0' * 64\n"
    out = _probe({}, block)
    assert "IMPL python PurePythonOrderBook" in out
    assert "WARNING order book: compiled core" in out and "out of date (built from another version of" in out


@needs_compiled
def test_extension_records_the_hash_of_its_source():
    from tradewire.data import _book_core

    pyx = Path(_book_core.__file__).with_name("_book_core.pyx")
    assert hashlib.sha256(pyx.read_bytes()).hexdigest() == _book_core.SOURCE_SHA256


@pytest.mark.skipif(not os.environ.get("CI"), reason="only CI insists on the compiled book core")
def test_ci_runs_the_compiled_book_core():
    """The extension is optional at install time; in CI a missing build must fail loudly, not fall back."""
    assert book_mod.IMPLEMENTATION == "compiled"
