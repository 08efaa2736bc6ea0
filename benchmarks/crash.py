"""Long crash-recovery run: 200 SIGKILLs of the real paper node at random moments, then the full checks.

Same node and checks as ``tests/integration/test_crash_recovery.py``: the node is the real Kernel
(RiskEngine, ExecutionEngine, Portfolio) with a journaled ``PaperExecutionClient``, trading market and
limit orders on replayed Binance BTCUSDT quotes, restarted through ``tradewire.node.recovery.recover_node``
after every kill. Checked at the end: every venue fill in the store exactly once and unaltered,
positions (store rebuild, restarted portfolio, venue) equal, no client_order_id received twice or
unrecorded, order statuses equal to the venue's, no sequence holes.

Options: ``--kills N`` (default 200; each cycle costs a node start-up, about 1.5-3 s), ``--pg`` to run
against a throw-away local PostgreSQL. There is no peer engine here: neither NautilusTrader nor
backtrader has a comparable crash-recovery path to drive. Last line: JSON figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=200)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--pg", action="store_true")
    args = ap.parse_args()
    spec = importlib.util.spec_from_file_location("crash_test", ROOT / "tests/integration/test_crash_recovery.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    pg = None
    with tempfile.TemporaryDirectory() as d:
        if args.pg:
            from tradewire.persistence.pgtemp import TempPostgres

            pg = TempPostgres()
            pg.start()
            url = pg.create_database()
        else:
            url = f"sqlite:///{d}/node.db"
        try:
            figures = mod.run_crash_cycles(url, Path(d), kills=args.kills, seed=args.seed)
        finally:
            if pg is not None:
                pg.stop()
        figures["backend"] = "postgresql" if args.pg else "sqlite"
    print(f"all checks passed after {figures['kills']} kills ({figures['killed_before_ready']} during start-up or "
          f"recovery) in {figures['seconds']} s")  # fmt: skip
    print(f"  venue: {figures['venue_orders']} orders, {figures['venue_fills']} fills; store: "
          f"{figures['store_events']} events, {figures['inferred_fills']} fills inferred from the venue, "
          f"{figures['resubmitted']} orders resent")  # fmt: skip
    print(f"  order rate while trading: {figures['orders_per_trading_s']} orders/s; median start-up to READY "
          f"{figures['median_ready_s']} s")  # fmt: skip
    for kind, n in figures["discrepancies"].items():
        print(f"  discrepancy {kind}: {n}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
