"""Event store throughput: sustained batched appends/s and durable appends/s on SQLite and PostgreSQL.

Batched: N ``OrderFilled`` events appended without waiting, then ``flush()``; events/s = N / total time
(the writer thread commits in batches). Durable: sequential ``append(durable=True)`` calls, each waiting
for commit + fsync (the rate an order-intent path can sustain one at a time). PostgreSQL runs on a
throw-away local server with default durability (fsync on); skipped with a message if not installed.
Last line: JSON with every figure.
"""

from __future__ import annotations

import json
import tempfile
import time

from tradewire.model import (
    ClientOrderId,
    InstrumentId,
    OrderFilled,
    OrderSide,
    OrderType,
    Price,
    Quantity,
    StrategyId,
    TradeId,
    VenueOrderId,
)  # fmt: skip
from tradewire.model.objects import USDT, Money
from tradewire.persistence import open_store
from tradewire.persistence.pgtemp import PostgresUnavailable, TempPostgres

N_BATCHED = 50_000
N_DURABLE = 300


def _fill(i: int) -> OrderFilled:
    return OrderFilled(ClientOrderId(f"O-{i}"), StrategyId("bench"), InstrumentId("BTCUSDT.BINANCE"), i, i,
                       venue_order_id=VenueOrderId(f"V-{i}"), trade_id=TradeId(f"T-{i}"), order_side=OrderSide.BUY,
                       order_type=OrderType.MARKET, last_qty=Quantity("0.001", 3), last_px=Price("60000.01", 2),
                       commission=Money("0.06", USDT))  # fmt: skip


def measure(url: str) -> dict:
    events = [_fill(i) for i in range(N_BATCHED)]
    with open_store(url, flush_interval_ms=20, max_batch=5000) as store:
        t0 = time.perf_counter()
        call = 0.0
        for e in events:
            c0 = time.perf_counter()
            store.append(e)
            call += time.perf_counter() - c0
        store.flush(timeout=600)
        batched = N_BATCHED / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for i in range(N_DURABLE):
            store.append(_fill(N_BATCHED + i), durable=True)
        durable = N_DURABLE / (time.perf_counter() - t0)
        assert store.last_seq() == N_BATCHED + N_DURABLE
    return {"batched_events_per_s": round(batched), "durable_appends_per_s": round(durable, 1),
            "append_call_us": round(call / N_BATCHED * 1e6, 2)}  # fmt: skip


def main() -> None:
    out: dict = {"n_batched": N_BATCHED, "n_durable": N_DURABLE}
    with tempfile.TemporaryDirectory() as d:
        out["sqlite"] = measure(f"sqlite:///{d}/bench.db")
    print("sqlite    ", out["sqlite"])
    pg = TempPostgres()
    try:
        pg.start()
        out["postgresql"] = measure(pg.create_database())
        print("postgresql", out["postgresql"])
    except PostgresUnavailable as exc:
        print(f"postgresql skipped: {exc}")
        out["postgresql"] = None
    finally:
        pg.stop()
    for k in ("sqlite", "postgresql"):
        if out[k]:
            out[k]["batched_over_durable"] = round(out[k]["batched_events_per_s"] / out[k]["durable_appends_per_s"], 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
