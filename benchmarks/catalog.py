"""Parquet catalog benchmark: write and merged replay of real Binance streams, plus peak replay memory.

Input (default): the two hftbacktest Binance captures in tests/fixtures/binance (spot BTCUSDT and USD-M
BTCUSDT, tagged as two instruments), parsed with ``tradewire.data.loaders.binance`` and turned into
quotes, trades and synced order book deltas exactly as ``tradewire data import`` does. Parsing is timed
separately and excluded from the catalog figures.

Figures
-------
- write: ``ParquetDataCatalog.write`` events/s (partitioning, sort, Parquet encode);
- replay: full merged replay (6 streams heap-merged in ts order, model objects rebuilt) events/s;
- engine: the same replay pushed through ``DataEngine.process`` (book maintained, batches published);
- memory: tracemalloc peak during a full streaming replay vs. the size of the materialised event list;
- peer: NautilusTrader 1.221 ``ParquetDataCatalog.write_data`` and ``query`` (per type, materialised;
  its merged streaming path runs inside its backtest node) on the same events, converted beforehand.

Run: ``.venv/bin/python benchmarks/catalog.py [--repeat N] [--no-peer]``. The last line is JSON.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tradewire.cli.data import binance_model_objects  # noqa: E402
from tradewire.core.bus import MessageBus  # noqa: E402
from tradewire.core.cache import Cache  # noqa: E402
from tradewire.core.clock import TestClock  # noqa: E402
from tradewire.data.catalog import ParquetDataCatalog  # noqa: E402
from tradewire.data.engine import DataEngine  # noqa: E402
from tradewire.data.loaders.binance import iter_binance_stream  # noqa: E402
from tradewire.model.data import OrderBookDelta, QuoteTick, TradeTick  # noqa: E402

FILES = [
    (ROOT / "tests/fixtures/binance/hftbacktest_binance_spot_btcusdt_20240808.gz", "BTCUSDT.BINANCE"),
    (ROOT / "tests/fixtures/binance/hftbacktest_binance_usdm_btcusdt_20240718.gz", "BTCUSDT-PERP.BINANCE"),
]


def load_events() -> tuple[list, float]:
    t = time.perf_counter()
    events = []
    for path, iid in FILES:
        events.extend(binance_model_objects(iter_binance_stream(path, iid)))
    return events, time.perf_counter() - t


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def bench_tradewire(events: list, repeat: int) -> dict:
    n = len(events)
    tmp = Path(tempfile.mkdtemp(prefix="tw-cat-"))
    try:

        def write():
            shutil.rmtree(tmp / "cat", ignore_errors=True)
            ParquetDataCatalog(tmp / "cat").write(events)

        t_write = best(write, repeat)
        cat = ParquetDataCatalog(tmp / "cat")
        disk = sum(p.stat().st_size for p in (tmp / "cat").rglob("*.parquet"))

        def replay():
            c = 0
            for _ in cat.replay():
                c += 1
            assert c == n, (c, n)

        t_replay = best(replay, repeat)

        def engine_replay():
            eng = DataEngine(MessageBus(), Cache(), TestClock(0))
            for o in cat.replay():
                eng.process(o)

        t_engine = best(engine_replay, repeat)

        # memory: streaming replay vs. materialised list (tracemalloc)
        gc.collect()
        tracemalloc.start()
        for _ in cat.replay():
            pass
        _, peak_stream = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        gc.collect()
        tracemalloc.start()
        materialised = list(cat.replay())
        cur_list, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del materialised
        return {
            "events": n,
            "write_s": round(t_write, 4),
            "write_eps": round(n / t_write),
            "replay_s": round(t_replay, 4),
            "replay_eps": round(n / t_replay),
            "engine_replay_eps": round(n / t_engine),
            "disk_bytes": disk,
            "replay_peak_mb": round(peak_stream / 2**20, 2),
            "materialised_mb": round(cur_list / 2**20, 2),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def to_nautilus(events: list) -> list:
    """Convert tradewire events to NautilusTrader objects (same values; untimed)."""
    from nautilus_trader.model.data import BookOrder
    from nautilus_trader.model.data import OrderBookDelta as NDelta
    from nautilus_trader.model.data import QuoteTick as NQuote
    from nautilus_trader.model.data import TradeTick as NTrade
    from nautilus_trader.model.enums import AggressorSide, BookAction, OrderSide
    from nautilus_trader.model.identifiers import InstrumentId, TradeId
    from nautilus_trader.model.objects import Price, Quantity

    ids = {}
    aggr = {"buyer": AggressorSide.BUYER, "seller": AggressorSide.SELLER, "none": AggressorSide.NO_AGGRESSOR}
    acts = {"add": BookAction.ADD, "update": BookAction.UPDATE, "delete": BookAction.DELETE, "clear": BookAction.CLEAR}
    out = []
    for e in events:
        iid = ids.get(e.instrument_id)
        if iid is None:
            iid = ids[e.instrument_id] = InstrumentId.from_str(str(e.instrument_id))
        t = type(e)
        if t is QuoteTick:
            out.append(NQuote(iid, Price.from_str(str(e.bid_price)), Price.from_str(str(e.ask_price)),
                              Quantity.from_str(str(e.bid_size)), Quantity.from_str(str(e.ask_size)),
                              e.ts_event, e.ts_init))  # fmt: skip
        elif t is TradeTick:
            px, sz = Price.from_str(str(e.price)), Quantity.from_str(str(e.size))
            out.append(
                NTrade(iid, px, sz, aggr[e.aggressor_side.value], TradeId(str(e.trade_id)), e.ts_event, e.ts_init)
            )
        elif t is OrderBookDelta:
            side = OrderSide.BUY if int(e.side) == 1 else OrderSide.SELL
            order = BookOrder(side, Price.from_str(str(e.price)), Quantity.from_str(str(e.size)), 0)
            out.append(NDelta(iid, acts[e.action.value], order, e.flags & 0xFF, e.sequence, e.ts_event, e.ts_init))
    return out


def bench_nautilus(events: list, repeat: int) -> dict:
    from nautilus_trader.model.data import OrderBookDelta as NDelta
    from nautilus_trader.model.data import QuoteTick as NQuote
    from nautilus_trader.model.data import TradeTick as NTrade
    from nautilus_trader.persistence.catalog.parquet import ParquetDataCatalog as NCatalog

    t = time.perf_counter()
    nobjs = to_nautilus(events)
    t_convert = time.perf_counter() - t
    # Nautilus writes per (type, instrument) and requires ts_init order within each file
    nobjs.sort(key=lambda o: o.ts_init)
    n = len(nobjs)
    tmp = Path(tempfile.mkdtemp(prefix="nt-cat-"))
    try:

        def write():
            shutil.rmtree(tmp / "cat", ignore_errors=True)
            NCatalog(str(tmp / "cat")).write_data(nobjs)

        t_write = best(write, repeat)
        cat = NCatalog(str(tmp / "cat"))

        def read():
            c = 0
            for cls in (NQuote, NTrade, NDelta):
                c += len(cat.query(cls))
            assert c == n, (c, n)

        t_read = best(read, repeat)
        return {
            "events": n,
            "convert_s": round(t_convert, 3),
            "write_eps": round(n / t_write),
            "query_all_eps": round(n / t_read),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="repetitions per figure (best is reported)")
    ap.add_argument("--no-peer", action="store_true", help="skip NautilusTrader")
    args = ap.parse_args()

    events, t_load = load_events()
    kinds = {}
    for e in events:
        kinds[type(e).__name__] = kinds.get(type(e).__name__, 0) + 1
    print(f"input: {len(events):,} events {kinds} parsed in {t_load:.2f}s ({len(events) / t_load:,.0f}/s)")
    tw = bench_tradewire(events, args.repeat)
    print(f"tradewire write   {tw['write_eps']:>12,} events/s  ({tw['write_s']}s, {tw['disk_bytes']:,} bytes on disk)")
    print(f"tradewire replay  {tw['replay_eps']:>12,} events/s  (merged, model objects)")
    print(f"tradewire engine  {tw['engine_replay_eps']:>12,} events/s  (replay -> DataEngine.process, books kept)")
    print(
        f"replay memory: tracemalloc peak {tw['replay_peak_mb']} MB streaming vs {tw['materialised_mb']} MB "
        "materialised (ru_maxrss is not reported: the parsed input list already sets the high-water mark)"
    )
    result = {"benchmark": "catalog", "input_events": len(events), "parse_eps": round(len(events) / t_load),
              "tradewire": tw}  # fmt: skip
    if not args.no_peer:
        try:
            nt = bench_nautilus(events, args.repeat)
        except ImportError as exc:
            print(f"NautilusTrader not available: {exc}")
        else:
            print(f"nautilus write    {nt['write_eps']:>12,} events/s")
            print(f"nautilus query    {nt['query_all_eps']:>12,} events/s  (per type, materialised lists)")
            result["nautilus"] = nt
            result["ratios"] = {
                "write_tw_over_nt": round(tw["write_eps"] / nt["write_eps"], 3),
                "read_tw_replay_over_nt_query": round(tw["replay_eps"] / nt["query_all_eps"], 3),
            }
            print(f"ratios (tradewire / nautilus): {result['ratios']}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
