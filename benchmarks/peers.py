"""Peer engines running the same SMA-cross strategy, for parity tests and benchmarks.

``run_backtrader_sma`` runs backtrader 1.9.78.123 on plain row tuples with a list-based feed (its
PandasData feed spends most of its time loading), long-only, 1 unit per trade, no commission, market
orders filled at the next bar's open (default broker) or at this bar's close (``cheat_on_close``).
``run_nautilus_sma`` runs NautilusTrader's BacktestEngine on the same bars (``bar_execution=True``:
a market order fills at the signal bar's close).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass
class PeerResult:
    """What a peer engine did: executions (ts or date, side, price, size), final P&L, timing."""

    engine: str
    executions: list[tuple[Any, str, float, float]] = field(default_factory=list)
    final_pnl: float = 0.0
    seconds: float = 0.0
    bars: int = 0


def run_backtrader_sma(
    rows: list[tuple[datetime, float, float, float, float, float]], fast: int = 10, slow: int = 30,
    fill: str = "next-open", cash: float = 1_000_000.0, size: float = 1,
) -> PeerResult:  # fmt: skip
    """Run backtrader's SMA crossover on ``rows`` of (naive UTC datetime, o, h, l, c, v).

    ``fill`` is ``"next-open"`` (default broker) or ``"close"`` (``cheat_on_close=True``).
    """
    import backtrader as bt

    class ListFeed(bt.feeds.DataBase):
        params = (("rows", None),)

        def start(self):
            super().start()
            self._i = 0

        def _load(self):
            rows_ = self.p.rows
            if self._i >= len(rows_):
                return False
            dt, o, h, low, c, v = rows_[self._i]
            self._i += 1
            ln = self.lines
            ln.datetime[0] = bt.date2num(dt)
            ln.open[0] = o
            ln.high[0] = h
            ln.low[0] = low
            ln.close[0] = c
            ln.volume[0] = v
            ln.openinterest[0] = 0.0
            return True

    execs: list[tuple[Any, str, float, float]] = []

    class SmaCrossBT(bt.Strategy):
        params = (("fast", fast), ("slow", slow))

        def __init__(self):
            f = bt.ind.SMA(self.data.close, period=self.p.fast)
            s = bt.ind.SMA(self.data.close, period=self.p.slow)
            self.x = bt.ind.CrossOver(f, s)

        def notify_order(self, order):
            if order.status == order.Completed:
                side = "buy" if order.isbuy() else "sell"
                execs.append((bt.num2date(order.executed.dt), side, order.executed.price, order.executed.size))

        def next(self):
            if not self.position:
                if self.x > 0:
                    self.buy(size=size)
            elif self.x < 0:
                self.close()

    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(ListFeed(rows=rows))
    cerebro.addstrategy(SmaCrossBT)
    cerebro.broker.setcash(cash)
    if fill == "close":
        cerebro.broker.set_coc(True)
    t0 = time.perf_counter()
    cerebro.run()
    secs = time.perf_counter() - t0
    return PeerResult("backtrader", execs, cerebro.broker.getvalue() - cash, secs, len(rows))


def run_nautilus_sma(
    rows: list[tuple[datetime, float, float, float, float, float]], fast: int = 10, slow: int = 30,
    oms: str = "HEDGING", price_precision: int = 2, cash: int = 1_000_000_000,
) -> PeerResult:  # fmt: skip
    """Run NautilusTrader 1.221's BacktestEngine with an SMA crossover on the same bars.

    Bars are indexed at their close time; market orders fill at the signal bar's close
    (``bar_execution=True``). One engine per process (its logging is process-wide).
    """
    import pandas as pd
    from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
    from nautilus_trader.config import LoggingConfig, StrategyConfig
    from nautilus_trader.indicators import SimpleMovingAverage
    from nautilus_trader.model.currencies import USD
    from nautilus_trader.model.data import BarType
    from nautilus_trader.model.enums import AccountType, OmsType, OrderSide
    from nautilus_trader.model.identifiers import InstrumentId, Symbol, TraderId, Venue
    from nautilus_trader.model.instruments import Equity
    from nautilus_trader.model.objects import Money, Price, Quantity
    from nautilus_trader.persistence.wranglers import BarDataWrangler
    from nautilus_trader.trading.strategy import Strategy

    venue = Venue("SIM")
    iid = InstrumentId(Symbol("TEST"), venue)
    tick = Price.from_str("0." + "0" * (price_precision - 1) + "1") if price_precision else Price.from_int(1)
    inst = Equity(
        instrument_id=iid, raw_symbol=Symbol("TEST"), currency=USD, price_precision=price_precision,
        price_increment=tick, lot_size=Quantity.from_int(1), ts_event=0, ts_init=0,
    )  # fmt: skip
    bar_type = BarType.from_str("TEST.SIM-1-MINUTE-LAST-EXTERNAL")
    execs: list[tuple[Any, str, float, float]] = []

    class Cfg(StrategyConfig, frozen=True):
        fast: int = 10
        slow: int = 30

    class SmaNT(Strategy):
        def __init__(self, config: Cfg):
            super().__init__(config)
            self.f = SimpleMovingAverage(config.fast)
            self.s = SimpleMovingAverage(config.slow)
            self.nz = 0
            self.long = False

        def on_start(self):
            self.register_indicator_for_bars(bar_type, self.f)
            self.register_indicator_for_bars(bar_type, self.s)
            self.subscribe_bars(bar_type)

        def on_bar(self, bar):
            if not self.s.initialized:
                return
            d = self.f.value - self.s.value
            if d == 0:
                return
            st = 1 if d > 0 else -1
            prev, self.nz = self.nz, st
            if not prev or prev == st:
                return
            if st == 1 and not self.long:
                self.submit_order(self.order_factory.market(iid, OrderSide.BUY, Quantity.from_int(1)))
                self.long = True
            elif st == -1 and self.long:
                self.submit_order(self.order_factory.market(iid, OrderSide.SELL, Quantity.from_int(1)))
                self.long = False

        def on_order_filled(self, event):
            execs.append((event.ts_event, str(event.order_side).lower(), float(event.last_px), float(event.last_qty)))

    engine = BacktestEngine(
        BacktestEngineConfig(
            trader_id=TraderId("BENCH-001"), logging=LoggingConfig(log_level="ERROR"), run_analysis=False
        )
    )
    engine.add_venue(
        venue, getattr(OmsType, oms), AccountType.CASH, base_currency=USD,
        starting_balances=[Money(cash, USD)], bar_execution=True,
    )  # fmt: skip
    engine.add_instrument(inst)
    idx = pd.DatetimeIndex([r[0] for r in rows], tz=UTC)
    df = pd.DataFrame(
        {"open": [r[1] for r in rows], "high": [r[2] for r in rows], "low": [r[3] for r in rows],
         "close": [r[4] for r in rows], "volume": [r[5] for r in rows]}, index=idx,
    )  # fmt: skip
    engine.add_data(BarDataWrangler(bar_type, inst).process(df))
    engine.add_strategy(SmaNT(Cfg(fast=fast, slow=slow)))
    t0 = time.perf_counter()
    engine.run()
    secs = time.perf_counter() - t0
    pnl = 0.0
    buys = [e for e in execs if e[1] == "buy"]
    sells = [e for e in execs if e[1] == "sell"]
    pnl = sum(e[2] for e in sells) - sum(e[2] for e in buys[: len(sells)])
    engine.dispose()
    return PeerResult("nautilus", execs, pnl, secs, len(rows))


def yahoo_rows(path: str) -> list[tuple[datetime, float, float, float, float, float]]:
    """Read a Yahoo-style daily CSV (Date,Open,High,Low,Close,Adj Close,Volume) as peer rows (unadjusted)."""
    import csv

    out = []
    with open(path, newline="") as fh:
        for rec in csv.DictReader(fh):
            dt = datetime.strptime(rec["Date"], "%Y-%m-%d")
            out.append(
                (
                    dt,
                    float(rec["Open"]),
                    float(rec["High"]),
                    float(rec["Low"]),
                    float(rec["Close"]),
                    float(rec["Volume"]),
                )
            )
    return out
