"""Long crash-recovery run: 200 SIGKILLs of the journaled-venue node at random moments, then the full checks.

Same procedure and checks as ``tests/integration/test_crash_recovery.py`` (fills exactly once, positions
equal to the venue's, no client_order_id sent twice, no sequence holes). Pass ``--kills N`` for another
count, ``--pg`` to run against a throw-away local PostgreSQL. Last line: JSON figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=200)
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
        t0 = time.perf_counter()
        try:
            figures = mod.run_crash_cycles(url, Path(d), kills=args.kills, seed=11)
        finally:
            if pg is not None:
                pg.stop()
        figures["seconds"] = round(time.perf_counter() - t0, 1)
        figures["backend"] = "postgresql" if args.pg else "sqlite"
    print("all checks passed:", figures)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
