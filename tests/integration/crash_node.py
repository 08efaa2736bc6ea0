"""A small trading node for the crash-recovery test: a high order rate against a journaled venue.

Run: ``python crash_node.py DB_URL VENUE_JOURNAL [--orders N] [--seed S]``. It opens the event store,
recovers orders and positions, reconciles with the venue's reports, resubmits what the venue never
received (same client_order_id), then sends market orders as fast as it can until ``N`` were sent
(``--orders 0``: recover, reconcile, flush and exit) or it is killed.

The venue stands in for an exchange: its state is its own journal file, one JSON line per venue
event, written and fsynced before the venue answers. It fills every new order at once (a taker fill
at a price drawn from a seeded walk), and it records a ``dup`` line whenever it receives a
client_order_id it already has, which it refuses, as a real venue would.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid

from tradewire.execution.reports import FillReport, OrderStatusReport, PositionReport
from tradewire.model import (
    AccountId,
    ClientOrderId,
    LiquiditySide,
    OrderAccepted,
    OrderFilled,
    OrderInitialized,
    OrderSide,
    OrderStatus,
    OrderSubmitted,
    OrderType,
    PositionSide,
    Price,
    Quantity,
    StrategyId,
    TimeInForce,
    TradeId,
    VenueOrderId,
    crypto_spot,
)  # fmt: skip
from tradewire.model.objects import Money
from tradewire.persistence import open_store
from tradewire.persistence.reconciliation import reconcile
from tradewire.persistence.recovery import recover

INST = crypto_spot("BTCUSDT", "SIM", "BTC", "USDT", 2, 3)
ACC = AccountId("SIM-001")
SID = StrategyId("crash-001")


class JournalVenue:
    """Venue whose every event is a fsynced JSON line in ``path`` (reloaded on start)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.orders: dict[str, dict] = {}
        self.fills: list[dict] = []
        if os.path.exists(path):
            good = 0
            with open(path, "rb") as fh:
                for line in fh:
                    if not line.endswith(b"\n"):
                        break  # torn last line: the venue never acknowledged it
                    self._load(json.loads(line))
                    good += len(line)
            os.truncate(path, good)
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115

    def _load(self, rec: dict) -> None:
        if rec["t"] == "new":
            self.orders[rec["coid"]] = rec
        elif rec["t"] == "fill":
            self.fills.append(rec)

    def _write(self, recs: list[dict]) -> None:
        self._fh.write("".join(json.dumps(r) + "\n" for r in recs))
        self._fh.flush()
        os.fsync(self._fh.fileno())
        for r in recs:
            self._load(r)

    def submit(self, init: OrderInitialized, px: str, ts: int) -> list:
        coid = str(init.client_order_id)
        if coid in self.orders:
            self._write([{"t": "dup", "coid": coid}])
            return []
        vid = f"V{len(self.orders) + 1}"
        fee = str(Quantity(init.quantity.as_decimal(), 3).as_decimal() * Price(px, 2).as_decimal() / 1000)
        new = {"t": "new", "coid": coid, "vid": vid, "side": init.side.value, "qty": str(init.quantity), "ts": ts}
        fill = {"t": "fill", "coid": coid, "vid": vid, "trade": f"T{len(self.fills) + 1}", "side": init.side.value,
                "qty": str(init.quantity), "px": px, "fee": fee, "ts": ts}  # fmt: skip
        self._write([new, fill])
        c = init.client_order_id
        return [
            OrderAccepted(c, SID, INST.id, ts, ts, venue_order_id=VenueOrderId(vid), account_id=ACC),
            OrderFilled(c, SID, INST.id, ts, ts, venue_order_id=VenueOrderId(vid), trade_id=TradeId(fill["trade"]),
                        order_side=init.side, order_type=OrderType.MARKET, last_qty=init.quantity,
                        last_px=Price(px, 2), commission=Money(fee, INST.settlement_currency), account_id=ACC),
        ]  # fmt: skip

    # -- reports (what a venue's REST API answers) ---------------------------------------------
    def order_reports(self) -> list[OrderStatusReport]:
        return [
            OrderStatusReport(
                ACC,
                INST.id,
                ClientOrderId(o["coid"]),
                VenueOrderId(o["vid"]),
                OrderSide(o["side"]),
                OrderType.MARKET,
                TimeInForce.IOC,
                OrderStatus.FILLED,
                Quantity(o["qty"], 3),
                Quantity(o["qty"], 3),
                o["ts"],
                o["ts"],
                o["ts"],
            )
            for o in self.orders.values()
        ]

    def fill_reports(self) -> list[FillReport]:
        return [
            FillReport(
                ACC,
                INST.id,
                VenueOrderId(f["vid"]),
                TradeId(f["trade"]),
                OrderSide(f["side"]),
                Quantity(f["qty"], 3),
                Price(f["px"], 2),
                Money(f["fee"], INST.settlement_currency),
                LiquiditySide.TAKER,
                f["ts"],
                f["ts"],
                client_order_id=ClientOrderId(f["coid"]),
            )
            for f in self.fills
        ]

    def net_raw(self) -> int:
        return sum(Quantity(f["qty"], 3).raw * (1 if f["side"] == "buy" else -1) for f in self.fills)

    def position_reports(self) -> list[PositionReport]:
        net = self.net_raw()
        side = PositionSide.LONG if net > 0 else PositionSide.SHORT if net < 0 else PositionSide.FLAT
        return [PositionReport(ACC, INST.id, side, Quantity.from_raw(abs(net), 3), 0, 0)] if net else []


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("db_url")
    ap.add_argument("journal")
    ap.add_argument("--orders", type=int, default=10**9)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    store = open_store(args.db_url, flush_interval_ms=5)
    if not any(True for _ in store.read(kinds=["Instrument"])):
        store.append(INST, durable=True)
    venue = JournalVenue(args.journal)
    state = recover(store, {INST.id: INST})
    if state.anomalies:
        print("ANOMALIES", state.anomalies, file=sys.stderr)
        return 3
    res = reconcile(state, store, account_id=ACC, order_reports=venue.order_reports(),
                    fill_reports=venue.fill_reports(), position_reports=venue.position_reports(),
                    ts_now=time.time_ns())  # fmt: skip
    for order in res.to_resubmit:  # recorded, never received: same client_order_id again
        for ev in venue.submit(order.init, "60000.00", time.time_ns()):
            state.apply(ev)
            store.append(ev)
    rng = random.Random(args.seed)
    px = 6_000_000
    for _ in range(args.orders):
        ts = time.time_ns()
        side = OrderSide.BUY if rng.random() < 0.5 else OrderSide.SELL
        init = OrderInitialized(ClientOrderId(uuid.uuid4().hex[:16]), SID, INST.id, ts, ts, side=side,
                                order_type=OrderType.MARKET, quantity=Quantity(rng.randint(1, 5000), 3),
                                time_in_force=TimeInForce.IOC)  # fmt: skip
        sub = OrderSubmitted(init.client_order_id, SID, INST.id, ts, ts, account_id=ACC)
        store.append_many([init, sub], durable=True)  # nothing is sent that is not recorded
        state.apply(init)
        state.apply(sub)
        px += rng.randint(-50, 50)
        for ev in venue.submit(init, f"{px // 100}.{px % 100:02d}", ts):
            state.apply(ev)
            store.append(ev)  # venue events: batched
    store.close()
    print(json.dumps({"reconciled": len(res.discrepancies), "resubmitted": len(res.to_resubmit)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
