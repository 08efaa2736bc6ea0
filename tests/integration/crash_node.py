"""A paper trading node for the crash-recovery test: the real engine at a high order rate.

Run: ``python crash_node.py DB_URL STATE_DIR [--seed S] [--orders N] [--records R]``.

It builds a :class:`tradewire.node.kernel.Kernel` (RiskEngine, ExecutionEngine, Portfolio, a
``PaperExecutionClient`` for BINANCE with a cash account) on a ``TestClock``, adds
:class:`CrashFlowStrategy`, calls :func:`tradewire.node.recovery.recover_node` (event store at
``DB_URL``, venue journal under ``STATE_DIR``), prints ``READY <json>`` with the recovery result, then
replays the first ``R`` quote and trade records of the bundled real Binance BTCUSDT capture in loops
(timestamps moved past everything already recorded) until the strategy has sent ``N`` orders or the
process is killed. ``--orders 0`` recovers, prints, closes the store and exits: the final check run.

The last line on stdout of a clean exit is ``DONE <json>`` with the portfolio's and the venue's net
position (raw, scale 1e9).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from tradewire.core.clock import TestClock
from tradewire.data.loaders.binance import BinanceBookTicker, iter_binance_stream
from tradewire.model import Currency, Money, OrderSide, OrderStatus, OrderType, Price, Quantity, TradeTick, crypto_spot
from tradewire.model.data import QuoteTick
from tradewire.node.kernel import Kernel, VenueConfig
from tradewire.node.recovery import recover_node
from tradewire.persistence import open_store
from tradewire.persistence.tables import events
from tradewire.strategy.base import Strategy

SAMPLE = Path(__import__("tradewire.samples", fromlist=["x"]).__file__).with_name("binance_spot_btcusdt_20240808.gz")
INST = crypto_spot("BTCUSDT", "BINANCE", "BTC", "USDT", 2, 5, "0.001", "0.001")
USDT = Currency.from_str("USDT")
BTC = Currency.from_str("BTC")
BALANCES = [Money("10000000", USDT), Money("100", BTC)]
STRATEGY_ID = "crashflow-001"


class CrashFlowStrategy(Strategy):
    """Trades on every ``every``-th quote: market orders, limit orders near the touch, cancels.

    Config: ``seed`` (int), ``every`` (quotes per action), ``max_open`` (resting limit orders kept),
    ``max_position`` (BTC, decimal string; beyond it orders reduce), ``max_orders`` (stop sending).
    Open limit orders are taken from the cache on start, so orders restored after a crash are managed
    (canceled) like the others.
    """

    def on_start(self) -> None:
        c = self.config
        self.rng = random.Random(c.get("seed", 1))
        self.every = int(c.get("every", 2))
        self.max_open = int(c.get("max_open", 8))
        self.max_pos = Quantity(c.get("max_position", "0.5"), INST.size_precision).raw
        self.max_orders = int(c.get("max_orders", 10**12))
        self.sent = 0
        self.n = 0
        self.open_limits = [
            o for o in self.cache.orders.values()
            if o.strategy_id == self.id and o.order_type is OrderType.LIMIT and not o.is_closed
        ]  # fmt: skip
        self.subscribe_quote_ticks(INST.id)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        self.n += 1
        if self.n % self.every or self.sent >= self.max_orders:
            return
        self.open_limits = [o for o in self.open_limits if not o.is_closed]
        rng = self.rng
        pos = self.position_qty_raw(INST.id)
        if pos > self.max_pos:
            side = OrderSide.SELL
        elif pos < -self.max_pos:
            side = OrderSide.BUY
        else:
            side = OrderSide.BUY if rng.random() < 0.5 else OrderSide.SELL
        qty = Quantity.from_raw(rng.randint(1, 40) * 100_000 * 10, INST.size_precision)  # 0.001 .. 0.04 BTC
        r = rng.random()
        working = [o for o in self.open_limits if o.status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)]
        if (r < 0.15 or len(self.open_limits) >= self.max_open) and working:
            self.cancel_order(working[0])
            return
        if r < 0.6:
            order = self.order_factory.market(INST.id, side, qty)
        else:
            ticks = rng.randint(-1, 4)  # -1: one tick through the touch (marketable), else behind it
            tick_raw = INST.tick_size.raw
            if side is OrderSide.BUY:
                px = tick.bid_price.raw - ticks * tick_raw
            else:
                px = tick.ask_price.raw + ticks * tick_raw
            order = self.order_factory.limit(INST.id, side, qty, Price.from_raw(px, INST.price_precision))
            self.open_limits.append(order)
        self.sent += 1
        self.submit_order(order)


def load_records(limit: int) -> list:
    """The first ``limit`` quotes and trades of the bundled capture, in file order."""
    out: list = []
    for rec in iter_binance_stream(SAMPLE, INST.id, INST.price_precision, INST.size_precision):
        if isinstance(rec, BinanceBookTicker):
            out.append(rec.quote)
        elif isinstance(rec, TradeTick):
            out.append(rec)
        else:
            continue
        if len(out) >= limit:
            break
    return out


def shifted(rec, dt: int):
    """``rec`` with ``ts_event``/``ts_init`` moved by ``dt`` ns."""
    if type(rec) is QuoteTick:
        return QuoteTick(rec.instrument_id, rec.bid_price, rec.ask_price, rec.bid_size, rec.ask_size,
                         rec.ts_event + dt, rec.ts_init + dt)  # fmt: skip
    return TradeTick(rec.instrument_id, rec.price, rec.size, rec.aggressor_side, rec.trade_id,
                     rec.ts_event + dt, rec.ts_init + dt)  # fmt: skip


def build_kernel(clock: TestClock, seed: int, max_orders: int) -> tuple[Kernel, CrashFlowStrategy]:
    """The node: kernel, BINANCE paper venue with a cash account, the strategy."""
    kernel = Kernel(clock, "CRASH-001")
    kernel.add_instrument(INST)
    kernel.add_venue(VenueConfig("BINANCE", list(BALANCES)))
    strategy = CrashFlowStrategy(STRATEGY_ID, {"seed": seed, "max_orders": max_orders})
    kernel.add_strategy(strategy)
    return kernel, strategy


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("db_url")
    ap.add_argument("state_dir")
    ap.add_argument("--orders", type=int, default=10**9)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--records", type=int, default=1500)
    args = ap.parse_args(argv)
    store = open_store(args.db_url, flush_interval_ms=5)
    with store.engine.connect() as conn:
        hwm = conn.execute(select(func.max(events.c.ts_event))).scalar() or 0
    clock = TestClock(max(time.time_ns(), hwm + 1_000_000))
    kernel, strategy = build_kernel(clock, args.seed, args.orders)
    records = load_records(args.records) if args.orders > 0 else []
    result = recover_node(kernel, store, args.state_dir)
    print("READY " + json.dumps(result.to_dict()), flush=True)
    client = kernel.venues[INST.id.venue]
    if args.orders > 0:
        venue_ts = max(e.ts for e in (client.matching_engine(INST.id),))
        t0 = min(r.ts_event for r in records)
        span = max(r.ts_init for r in records) - t0 + 1_000_000
        base = max(clock.timestamp_ns(), venue_ts) + 1_000_000
        kernel.start()
        loop = 0
        while strategy.sent < args.orders:
            dt = base + loop * span - t0
            for rec in records:
                obj = shifted(rec, dt)
                if obj.ts_init > clock.timestamp_ns():  # file order is receive order
                    clock.advance_time(obj.ts_init)
                kernel.process(obj)
                if strategy.sent >= args.orders:
                    break
            loop += 1
        kernel.stop()
    for dv in result.venues.values():
        dv.close()
    store.close()
    venue_net = client.matching_engine(INST.id).position.signed_qty_raw
    print("DONE " + json.dumps({"portfolio_net_raw": kernel.portfolio.net_position_raw(INST.id),
                                "venue_net_raw": venue_net, "orders_sent": getattr(strategy, "sent", 0)}),
          flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
