"""Benchmark: SMA(10/30) crossover over N one-minute bars, tradewire vs backtrader vs NautilusTrader.

Input: the real BTC-PERP one-minute bars (tests/fixtures/bars/btc-perp-20211231-20220201_1m.csv.gz,
45,031 bars) repeated with shifted timestamps until N bars (default 1,000,000). Every engine gets the
same bars in memory before its clock starts; the timed part is the engine's run only. Each peer runs in
its own subprocess (NautilusTrader's logging is process-wide), one after the other.

Strategy: long-only, 1 unit, no fees; tradewire and backtrader fill market orders at the next bar's
open; NautilusTrader (``bar_execution``) fills at the signal bar's close, so tradewire also runs in
``close`` mode for the like-for-like comparison with it.

Usage: ``python benchmarks/bars.py [--bars N] [--skip-peers] [--peer-hedging]``. The last line is JSON.
Tradewire's results also carry ``cpu_seconds`` (process time of the run): on a shared machine the wall
time includes waiting for a core, the CPU time much less so.
NautilusTrader with HEDGING OMS runs only with ``--peer-hedging`` (more than 10 minutes at 1M bars here).
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "fixtures" / "bars" / "btc-perp-20211231-20220201_1m.csv.gz"
MIN_NS = 60_000_000_000
Q4 = Decimal("0.0001")  # the file's volumes carry float noise (e.g. 218102.59507500002)


def real_rows() -> list[tuple[int, str, str, str, str, str]]:
    out = []
    with gzip.open(DATA, "rt") as fh:
        next(fh)
        for line in fh:
            ts, o, h, lo, c, v = line.rstrip("\n").split(",")
            dt = datetime.strptime(ts, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
            out.append((int(dt.timestamp()) * 1_000_000_000, o, h, lo, c, v))
    return out


def rows(n: int) -> list[tuple[int, str, str, str, str, str]]:
    base = real_rows()
    span = base[-1][0] - base[0][0] + MIN_NS
    out = []
    k = 0
    while len(out) < n:
        shift = k * span
        out.extend((ts + shift, o, h, lo, c, v) for ts, o, h, lo, c, v in base[: n - len(out)])
        k += 1
    return out


def run_tradewire(n: int, fill: str) -> dict:
    from tradewire.model import USD, Money
    from tradewire.model.data import Bar, BarType
    from tradewire.model.instruments import equity
    from tradewire.model.objects import Price, Quantity
    from tradewire.node.backtest import BacktestEngine
    from tradewire.node.kernel import VenueConfig
    from tradewire.strategy.examples.sma_cross import SmaCross
    from tradewire.venues.paper.config import BarFillMode, PaperVenueConfig

    bt = BarType.from_str("BTCPERP.SIM-1-MINUTE-LAST")
    bars = [
        Bar(
            bt,
            Price.from_str(o),
            Price.from_str(h),
            Price.from_str(lo),
            Price.from_str(c),
            Quantity(Decimal(v).quantize(Q4), 4),
            ts,
            ts,
        )
        for ts, o, h, lo, c, v in rows(n)
    ]
    inst = equity("BTCPERP", "SIM", "USD", 1)
    engine = BacktestEngine(periods_per_year=365)
    mode = BarFillMode.NEXT_OPEN if fill == "next-open" else BarFillMode.CLOSE
    engine.add_venue(VenueConfig("SIM", [Money("100000000", USD)], paper=PaperVenueConfig(bar_fill_mode=mode)))
    engine.add_instrument(inst)
    engine.add_data(bars)
    engine.add_strategy(SmaCross("sma-001", {"bar_type": bt, "fast": 10, "slow": 30, "quantity": "1"}))
    c0 = time.process_time()
    t0 = time.perf_counter()
    res = engine.run()
    secs = time.perf_counter() - t0
    cpu = time.process_time() - c0  # on a shared machine, wall time also counts waiting for a core
    return {"engine": f"tradewire-{fill}", "bars": n, "seconds": secs, "bars_per_s": n / secs,
            "cpu_seconds": cpu, "fills": res.summary["fills"], "pnl": res.summary["total_pnl"]}  # fmt: skip


def run_peer(name: str, n: int) -> dict:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import peers

    data = [
        (
            datetime.fromtimestamp(ts / 1e9, tz=UTC).replace(tzinfo=None),
            float(o),
            float(h),
            float(lo),
            float(c),
            float(v),
        )
        for ts, o, h, lo, c, v in rows(n)
    ]
    if name == "backtrader":
        r = peers.run_backtrader_sma(data, 10, 30, fill="next-open", cash=100_000_000.0)
    else:
        r = peers.run_nautilus_sma(data, 10, 30, oms=name.split("-")[1].upper(), price_precision=1)
    return {"engine": name, "bars": n, "seconds": r.seconds, "bars_per_s": n / r.seconds, "fills": len(r.executions)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bars", type=int, default=1_000_000)
    ap.add_argument("--skip-peers", action="store_true")
    ap.add_argument(
        "--peer-hedging",
        action="store_true",
        help="also run NautilusTrader with HEDGING OMS (slow at 1M bars: every reopen is a new position)",
    )
    ap.add_argument("--peer", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.peer:
        print(json.dumps(run_peer(args.peer, args.bars)))
        return
    results = [run_tradewire(args.bars, "next-open"), run_tradewire(args.bars, "close")]
    for r in results:
        cpu = f"cpu {r['cpu_seconds']:.2f} s"
        print(f"{r['engine']:>24}: {r['bars_per_s']:>12,.0f} bars/s ({r['seconds']:.2f} s, {cpu}, {r['fills']} fills)")
    if not args.skip_peers:
        peers = ("backtrader", "nautilus-netting", "nautilus-hedging") if args.peer_hedging else (
            "backtrader", "nautilus-netting",
        )  # fmt: skip
        for peer in peers:
            out = subprocess.run(
                [sys.executable, __file__, "--bars", str(args.bars), "--peer", peer],
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            results.append(r)
            print(f"{r['engine']:>24}: {r['bars_per_s']:>12,.0f} bars/s ({r['seconds']:.2f} s, {r['fills']} fills)")
    by = {r["engine"]: r["bars_per_s"] for r in results}
    ratios = {}
    if "backtrader" in by:
        ratios["tradewire_next_open_vs_backtrader"] = by["tradewire-next-open"] / by["backtrader"]
    for k in ("nautilus-netting", "nautilus-hedging"):
        if k in by:
            ratios[f"tradewire_close_vs_{k}"] = by["tradewire-close"] / by[k]
    for k, v in ratios.items():
        print(f"{k}: {v:.1f}x")
    from tradewire import _native

    print(f"order path: {_native.IMPLEMENTATION} ({_native.REASON})")
    print(json.dumps({"benchmark": "bars", "implementation": _native.IMPLEMENTATION, "bars": args.bars,
                      "results": results, "ratios": ratios,
                      "target_ratio_vs_backtrader": 20}))  # fmt: skip


if __name__ == "__main__":
    main()
