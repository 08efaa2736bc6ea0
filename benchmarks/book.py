"""L2 order book throughput: tradewire `OrderBook` vs NautilusTrader's Rust `OrderBook` on the same deltas.

1,000,000 random market-by-price deltas (fixed seed) on ~50 levels a side: each delta sets or removes
one level (ADD for a new price, UPDATE for an existing one, DELETE with size 0). Both books apply the
identical sequence; NautilusTrader's delta objects are built before timing (building them from
Python costs more than applying them). Figures: deltas/s with best bid/ask read after every delta
(tradewire: the cached ``top_bid_raw``/``top_ask_raw`` attributes; NautilusTrader:
``best_bid_price()``/``best_ask_price()``), and apply only. Correctness is checked before timing:
both books agree on best bid/ask after each of the first 20,000 deltas and at the end, and on the
final number of levels per side.

tradewire's ``OrderBook`` runs on its compiled level store (Cython extension ``tradewire.data._book_core``)
when installed, else on the pure-Python one; the benchmark prints which (``implementation`` in the JSON;
``TRADEWIRE_PURE_PYTHON=1`` forces the pure-Python one). When the compiled one is active, the pure-Python
``PurePythonOrderBook`` is timed too, interleaved in the same runs, for the compiled/pure speed-up.

Run: ``.venv/bin/python benchmarks/book.py [--n 1000000] [--repeat 5]``. The last line printed is a
JSON object with the figures (best of ``--repeat`` interleaved runs; ratios > 1 mean tradewire is faster).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time

from tradewire.data import book as book_mod
from tradewire.data.book import OrderBook, PurePythonOrderBook
from tradewire.model.identifiers import InstrumentId

SCALE = 10**9  # tradewire raw scale
TICK = 10**7  # 0.01 in tradewire raws
LEVELS = 100  # candidate prices per side; about half are live at any time


def make_deltas(n: int, seed: int = 42) -> list[tuple[int, int, int, int]]:
    """Return ``n`` deltas ``(side, price_raw, size_raw, action)`` with action 0 add, 1 update, 2 delete.

    Bids take prices 1..100 ticks below 60,000.00 and asks 1..100 ticks above it, so the book never
    crosses; each delta picks a side and a price uniformly, and removes an existing level with
    probability 1/2, else sets a random size of 0.001..10.000.
    """
    rng = random.Random(seed)
    mid = 6_000_000  # ticks
    live: dict[int, set[int]] = {1: set(), 2: set()}
    out = []
    for _ in range(n):
        side = 1 if rng.random() < 0.5 else 2
        k = rng.randint(1, LEVELS)
        price = (mid - k if side == 1 else mid + k) * TICK
        lv = live[side]
        if price in lv and rng.random() < 0.5:
            lv.discard(price)
            out.append((side, price, 0, 2))
        else:
            size = rng.randint(1, 10_000) * 10**6
            out.append((side, price, size, 1 if price in lv else 0))
            lv.add(price)
    return out


def run_tradewire(deltas, reads: bool, cls: type = OrderBook) -> float:
    book = cls(InstrumentId("BTCUSDT.BINANCE"), 2, 3)
    apply = book.apply_delta_raw
    gc.disable()
    t0 = time.perf_counter()
    if reads:
        for side, p, s, _ in deltas:
            apply(side, p, s)
            book.top_bid_raw  # noqa: B018 (the read being measured)
            book.top_ask_raw  # noqa: B018
    else:
        for side, p, s, _ in deltas:
            apply(side, p, s)
    dt = time.perf_counter() - t0
    gc.enable()
    return dt


def build_nautilus(deltas):
    from nautilus_trader.model.data import BookOrder, OrderBookDelta
    from nautilus_trader.model.enums import BookAction, BookType, OrderSide
    from nautilus_trader.model.identifiers import InstrumentId as NtInstrumentId
    from nautilus_trader.model.objects import FIXED_SCALAR, Price, Quantity

    k = int(FIXED_SCALAR) // SCALE  # nautilus raws use a larger fixed scale
    iid = NtInstrumentId.from_str("BTCUSDT.BINANCE")
    actions = (BookAction.ADD, BookAction.UPDATE, BookAction.DELETE)
    sides = {1: OrderSide.BUY, 2: OrderSide.SELL}
    out = []
    for i, (side, p, s, a) in enumerate(deltas):
        order = BookOrder(sides[side], Price.from_raw(p * k, 2), Quantity.from_raw(s * k, 3), 0)
        out.append(OrderBookDelta(iid, actions[a], order, 0, i + 1, i, i))
    return out, (
        lambda: __import__("nautilus_trader.model.book", fromlist=["OrderBook"]).OrderBook(iid, BookType.L2_MBP)
    )


def run_nautilus(nt_deltas, new_book, reads: bool) -> float:
    book = new_book()
    apply = book.apply_delta
    bb, ba = book.best_bid_price, book.best_ask_price
    gc.disable()
    t0 = time.perf_counter()
    if reads:
        for d in nt_deltas:
            apply(d)
            bb()
            ba()
    else:
        for d in nt_deltas:
            apply(d)
    dt = time.perf_counter() - t0
    gc.enable()
    return dt


def check_agreement(deltas, nt_deltas, new_book, steps: int) -> None:
    """Raise AssertionError unless both books agree after each of the first ``steps`` deltas and at the end."""
    tw = OrderBook(InstrumentId("BTCUSDT.BINANCE"), 2, 3)
    nt = new_book()
    from nautilus_trader.model.objects import FIXED_SCALAR

    k = int(FIXED_SCALAR) // SCALE
    for i, ((side, p, s, _), d) in enumerate(zip(deltas, nt_deltas, strict=True)):
        tw.apply_delta_raw(side, p, s)
        nt.apply_delta(d)
        if i < steps or i == len(deltas) - 1:
            nb, na = nt.best_bid_price(), nt.best_ask_price()
            got = (None if nb is None else nb.raw // k, None if na is None else na.raw // k)
            if got != (tw.best_bid_raw(), tw.best_ask_raw()):
                raise AssertionError(f"books disagree after delta {i}: nautilus {got}, tradewire {tw.best_bid_raw()}")
    if (len(nt.bids()), len(nt.asks())) != (tw.bid_level_count, tw.ask_level_count):
        raise AssertionError("final level counts differ")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--check-steps", type=int, default=20_000)
    args = ap.parse_args()

    t0 = time.perf_counter()
    deltas = make_deltas(args.n)
    print(f"generated {args.n:,} deltas in {time.perf_counter() - t0:.1f}s")
    impl = book_mod.IMPLEMENTATION
    print(f"tradewire order book implementation: {impl}")
    result: dict[str, object] = {"n_deltas": args.n, "python": sys.version.split()[0], "implementation": impl}
    time_pure = impl != "python"
    try:
        t0 = time.perf_counter()
        nt_deltas, new_nt_book = build_nautilus(deltas)
        print(f"built NautilusTrader deltas in {time.perf_counter() - t0:.1f}s (not timed below)")
    except ImportError as exc:
        nt_deltas = new_nt_book = None
        print(f"NautilusTrader not available ({exc}); tradewire figures only")
    if nt_deltas is not None:
        check_agreement(deltas, nt_deltas, new_nt_book, args.check_steps)
        print(f"checked: both books agree after each of the first {args.check_steps:,} deltas and at the end")

    # Runs are interleaved (tradewire, nautilus, tradewire, ...) and the best of each kept, so a burst of
    # load from other processes on the machine hits both sides alike.
    times: dict[str, list[float]] = {
        k: [] for k in ("tw_reads", "tw_apply", "nt_reads", "nt_apply", "py_reads", "py_apply")
    }
    for _ in range(args.repeat):
        times["tw_reads"].append(run_tradewire(deltas, True))
        if nt_deltas is not None:
            times["nt_reads"].append(run_nautilus(nt_deltas, new_nt_book, True))
        if time_pure:
            times["py_reads"].append(run_tradewire(deltas, True, PurePythonOrderBook))
        times["tw_apply"].append(run_tradewire(deltas, False))
        if nt_deltas is not None:
            times["nt_apply"].append(run_nautilus(nt_deltas, new_nt_book, False))
        if time_pure:
            times["py_apply"].append(run_tradewire(deltas, False, PurePythonOrderBook))
    tw_reads = args.n / min(times["tw_reads"])
    tw_apply = args.n / min(times["tw_apply"])
    result.update(tradewire_reads_per_s=round(tw_reads), tradewire_apply_per_s=round(tw_apply))
    print(
        f"tradewire ({impl}) apply + best bid/ask: {tw_reads / 1e6:6.2f} M deltas/s   apply only: "
        f"{tw_apply / 1e6:6.2f} M/s"
    )
    if time_pure:
        py_reads = args.n / min(times["py_reads"])
        py_apply = args.n / min(times["py_apply"])
        result.update(python_reads_per_s=round(py_reads), python_apply_per_s=round(py_apply))
        print(
            f"tradewire (python)   apply + best bid/ask: {py_reads / 1e6:6.2f} M deltas/s   apply only: "
            f"{py_apply / 1e6:6.2f} M/s   ({impl}/python: {tw_reads / py_reads:.2f}x, {tw_apply / py_apply:.2f}x)"
        )
    if nt_deltas is not None:
        nt_reads = args.n / min(times["nt_reads"])
        nt_apply = args.n / min(times["nt_apply"])
        result.update(
            nautilus_reads_per_s=round(nt_reads),
            nautilus_apply_per_s=round(nt_apply),
            ratio_reads=round(tw_reads / nt_reads, 3),
            ratio_apply=round(tw_apply / nt_apply, 3),
        )
        print(
            f"nautilus 1.221       apply + best bid/ask: {nt_reads / 1e6:6.2f} M deltas/s   apply only: "
            f"{nt_apply / 1e6:6.2f} M/s"
        )
        print(f"ratio tradewire/nautilus: {tw_reads / nt_reads:.2f}x with reads, {tw_apply / nt_apply:.2f}x apply only")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
