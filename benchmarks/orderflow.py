"""Order-flow analytics throughput and added latency on real recorded sessions.

Input: the Binance BTCUSDT spot capture shipped as a sample (2024-08-08, ~6 minutes: 126k book deltas in
3.4k venue batches, 9.8k trades, 28k quotes) and the Databento ES MBO file (2023-12-25: 69k L2 deltas
in 47k batches, 3k trades).

For each session, the recorded stream is replayed ``--repeat`` times through a ``DataEngine``, once without
and once with an ``OrderFlowEngine`` subscribed (all metrics and all detectors on), and once more with the
order-flow handlers wrapped in a per-call timer. Times are CPU times of this process/thread
(``process_time`` / ``thread_time_ns``), so other processes on the machine do not count; the recorded
data is loaded first and moved out of the garbage collector's sight (``gc.freeze``), as a replay would.

* ``orderflow_events_per_s``: (book deltas + trades) / (CPU time with order flow - CPU time without),
  best and median over the repeats (quotes are handled too and counted separately);
* ``added_latency_us``: p50 / p99 / p99.9 / max CPU time of one order-flow handler call (one trade, one
  quote or one venue batch of deltas), i.e. how long the engine delays the next subscriber; median over
  the repeats. The timer itself adds ~0.1-0.3 us per call;
* ``pipeline_events_per_s`` with and without the order-flow engine (objects through the whole
  DataEngine path) and the slowdown ratio.

No peer engine ships order-flow analytics to compare with.
Run: ``.venv/bin/python benchmarks/orderflow.py [--repeat 3]``; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from tradewire.core.bus import MessageBus  # noqa: E402
from tradewire.core.cache import Cache  # noqa: E402
from tradewire.core.clock import TestClock  # noqa: E402
from tradewire.data.engine import DataEngine  # noqa: E402
from tradewire.orderflow import OrderFlowConfig, OrderFlowEngine  # noqa: E402
from tradewire.orderflow.sessions import load_session  # noqa: E402

SESSIONS = {
    "binance_btcusdt": ROOT / "src" / "tradewire" / "samples" / "binance_spot_btcusdt_20240808.gz",
    "databento_es_mbo": ROOT / "tests" / "fixtures" / "databento" / "esh4-glbx-mdp3-20231225.mbo.dbn.zst",
}


def _flatten(items: list) -> list:
    out = []
    for it in items:
        if type(it) is list:
            out.extend(it)
        else:
            out.append(it)
    return out


def _pipeline(session, flat: list, with_orderflow: bool, timed: bool):
    bus, cache, clock = MessageBus(), Cache(), TestClock(0)
    cache.add_instrument(session.instrument)
    de = DataEngine(bus, cache, clock)
    # a plain subscriber so the data engine publishes every topic in both runs
    iid = session.instrument.id
    for t in (f"data.trades.{iid}", f"data.book.deltas.{iid}", f"data.quotes.{iid}"):
        bus.subscribe(t, lambda _m: None)
    lat: list[int] = []
    st = None
    if with_orderflow:
        eng = OrderFlowEngine(bus, cache, clock, None, OrderFlowConfig(session_ns=None))
        st = eng.subscribe(iid)
        if timed:
            ns = time.thread_time_ns
            for topic, handler in eng._handlers[iid]:
                bus.unsubscribe(topic, handler)

                def wrapped(msg, _h=handler, _lat=lat, _ns=ns):
                    t0 = _ns()
                    _h(msg)
                    _lat.append(_ns() - t0)

                bus.subscribe(topic, wrapped)
    process = de.process
    t0 = time.process_time()
    for obj in flat:
        process(obj)
    cpu = time.process_time() - t0
    return cpu, lat, st


def _pct(values: list[int], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] / 1000.0


def bench(name: str, path: Path, repeat: int) -> dict:
    session = load_session(path)
    c = session.counts
    flat = _flatten(session.items)
    gc.collect()
    gc.freeze()
    events = c["book_deltas"] + c["trades"]
    of_rates, p50, p99, p999, pmax, with_rates, without_rates = [], [], [], [], [], [], []
    signals = None
    for _ in range(repeat):
        cpu_plain, _, _ = _pipeline(session, flat, False, False)
        cpu_of, _, st = _pipeline(session, flat, True, False)
        _, lat, _ = _pipeline(session, flat, True, True)
        of_rates.append(events / max(cpu_of - cpu_plain, 1e-9))
        p50.append(_pct(lat, 0.50))
        p99.append(_pct(lat, 0.99))
        p999.append(_pct(lat, 0.999))
        pmax.append(max(lat) / 1000.0)
        with_rates.append(len(flat) / cpu_of)
        without_rates.append(len(flat) / cpu_plain)
        signals = st.signal_counts
    gc.unfreeze()
    med = statistics.median
    return {
        "session": name,
        "book_deltas": c["book_deltas"],
        "book_batches": c["book_batches"],
        "trades": c["trades"],
        "quotes": c["quotes"],
        "orderflow_events_per_s": round(max(of_rates)),
        "orderflow_events_per_s_median": round(med(of_rates)),
        "added_latency_us": {
            "p50": round(med(p50), 2),
            "p99": round(med(p99), 2),
            "p999": round(med(p999), 2),
            "max": round(med(pmax), 1),
        },
        "added_us_per_event": round(1e6 / max(of_rates), 3),
        "pipeline_events_per_s_without_orderflow": round(max(without_rates)),
        "pipeline_events_per_s_with_orderflow": round(max(with_rates)),
        "pipeline_slowdown_ratio": round(max(without_rates) / max(with_rates), 2),
        "signals": signals,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--session", choices=sorted(SESSIONS), action="append")
    args = ap.parse_args()
    out = {"benchmark": "orderflow", "repeat": args.repeat, "target_events_per_s": 200_000, "results": []}
    for name in args.session or list(SESSIONS):
        r = bench(name, SESSIONS[name], args.repeat)
        out["results"].append(r)
        lat = r["added_latency_us"]
        print(
            f"{name}: {r['book_deltas']:,} deltas in {r['book_batches']:,} batches + {r['trades']:,} trades "
            f"(+{r['quotes']:,} quotes)\n"
            f"  order-flow: {r['orderflow_events_per_s']:,} events/s best, "
            f"{r['orderflow_events_per_s_median']:,} median "
            f"({r['added_us_per_event']} us/event; target 200,000: "
            f"{r['orderflow_events_per_s'] / 200_000:.2f}x)\n"
            f"  added CPU latency per handler call (trade, quote or venue batch): p50 {lat['p50']} us, "
            f"p99 {lat['p99']} us, p99.9 {lat['p999']} us, max {lat['max']} us\n"
            f"  DataEngine pipeline: {r['pipeline_events_per_s_without_orderflow']:,} -> "
            f"{r['pipeline_events_per_s_with_orderflow']:,} objects/s with order flow "
            f"(slowdown x{r['pipeline_slowdown_ratio']})\n"
            f"  signals: {r['signals']}"
        )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
