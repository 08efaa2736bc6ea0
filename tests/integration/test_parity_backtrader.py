"""Parity: tradewire's sma_cross equals backtrader's on the same daily files.

Both engines: long-only SMA(10)/SMA(30) crossover (backtrader's ``CrossOver`` definition, see
``tradewire.strategy.examples.sma_cross``), 1 share per trade, no commission, market orders filled at the
next bar's open (and, in a second check, at the signal bar's close with backtrader's ``cheat_on_close``).
Prices are the file's unadjusted Open/Close for both.
"""

from __future__ import annotations

import importlib.util
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tradewire.data.loaders.bars import default_bar_type, load_bars
from tradewire.model import USD, Money
from tradewire.model.instruments import equity
from tradewire.node.backtest import BacktestEngine
from tradewire.node.kernel import VenueConfig
from tradewire.strategy.examples.sma_cross import SmaCross
from tradewire.venues.paper.config import BarFillMode, PaperVenueConfig

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "bars"

# load benchmarks/peers.py by path: putting benchmarks/ on sys.path would shadow packages such as ccxt
_spec = importlib.util.spec_from_file_location("tradewire_bench_peers", ROOT / "benchmarks" / "peers.py")
_peers = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _peers  # dataclasses resolve the module by name
_spec.loader.exec_module(_peers)
run_backtrader_sma, yahoo_rows = _peers.run_backtrader_sma, _peers.yahoo_rows

NS_PER_DAY = 86_400_000_000_000


def run_tradewire(path: Path, fill: BarFillMode):
    bar_type = default_bar_type(path)
    bars = load_bars(path, bar_type=bar_type)
    inst = equity(str(bar_type.instrument_id.symbol), "SIM", "USD", bars[0].close.precision)
    engine = BacktestEngine()
    engine.add_venue(VenueConfig("SIM", [Money("1000000", USD)], paper=PaperVenueConfig(bar_fill_mode=fill)))
    engine.add_instrument(inst)
    engine.add_data(bars)
    engine.add_strategy(SmaCross("sma-001", {"bar_type": bar_type, "fast": 10, "slow": 30, "quantity": "1"}))
    return engine.run()


@pytest.mark.parametrize("name", ["backtrader_orcl-1995-2014.txt", "backtrader_nvda-1999-2014.txt"])
@pytest.mark.parametrize(("fill", "bt_fill"), [(BarFillMode.NEXT_OPEN, "next-open"), (BarFillMode.CLOSE, "close")])
def test_trades_and_final_pnl_equal_backtrader(name, fill, bt_fill):
    path = FIXTURES / name
    ours = run_tradewire(path, fill)
    ref = run_backtrader_sma(yahoo_rows(str(path)), 10, 30, fill=bt_fill)

    # executions: (UTC date, side, price)
    mine = []
    for f in ours.fills:
        ts = f["ts_event"]
        if fill is BarFillMode.CLOSE:
            ts -= NS_PER_DAY  # a close fill is stamped at the bar's close = end of the day
        day = ts // NS_PER_DAY
        mine.append((day, f["side"], Decimal(f["price"])))
    theirs = []
    for dt, side, price, _size in ref.executions:
        day = int(dt.timestamp()) // 86_400 if dt.tzinfo else (dt - dt.__class__(1970, 1, 1)).days
        theirs.append((day, side, Decimal(f"{price:.6f}")))
    assert len(mine) > 100
    assert mine == theirs

    # final P&L: backtrader values the open position at the last close, so does our equity
    final_pnl = Decimal(ours.summary["final_equity"]) - Decimal(ours.summary["starting_equity"])
    assert abs(final_pnl - Decimal(str(ref.final_pnl))) < Decimal("0.000001")
    # closed round trips add up to the realized P&L
    realized = sum((t.pnl for t in ours.trades), Decimal(0))
    assert realized == Decimal(ours.summary["closed_pnl"])
