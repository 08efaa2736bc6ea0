"""Account rules in a backtest are evaluated on every mark, not only on fills.

Real CME 6E (Euro FX, Mar-2024) one-minute bars. A strategy buys 3 contracts once and holds; nothing else
fills until the intraday trailing drawdown (2,000 USD, trail stops at the starting balance) is breached
by the marks alone. The breach bar is derived independently from the closes and the rule text.
"""

from __future__ import annotations

import csv
import gzip
from decimal import Decimal
from pathlib import Path

from tradewire.model import USD, AssetClass, Money, OrderSide, Quantity, TradingState, future
from tradewire.model.data import Bar, BarType
from tradewire.model.objects import Price
from tradewire.node.backtest import BacktestEngine
from tradewire.node.kernel import VenueConfig
from tradewire.risk import parse_risk_config
from tradewire.risk.events import TradingStateChanged
from tradewire.strategy.base import Strategy

FIXTURE = Path(__file__).parents[1] / "fixtures" / "bars" / "6EH4.XCME_1min_bars_20240101_20240131.csv.gz"
BT = BarType.from_str("6EH4.XCME-1-MINUTE-LAST")
START, MULT, QTY, ENTRY_BAR = Decimal(50000), Decimal(125000), 3, 1250


def _bars(until: str = "2024-01-13") -> list[Bar]:
    from datetime import UTC, datetime

    out = []
    with gzip.open(FIXTURE, "rt", newline="") as f:
        for r in csv.DictReader(f):
            if r["timestamp_utc"] >= until:
                break
            ts = int(datetime.fromisoformat(r["timestamp_utc"]).replace(tzinfo=UTC).timestamp()) * 10**9
            px = [Price.from_str(r[k]) for k in ("open", "high", "low", "close")]
            out.append(Bar(BT, *px, Quantity(1, 0), ts, ts))
    return out


class BuyOnceAndHold(Strategy):
    def on_start(self) -> None:
        self.seen = 0
        self.subscribe_bars(BT)

    def on_bar(self, bar: Bar) -> None:
        self.seen += 1
        if self.seen == ENTRY_BAR:
            self.submit_order(self.order_factory.market(BT.instrument_id, OrderSide.BUY, Quantity(QTY, 0)))


def test_trailing_drawdown_halts_on_the_mark_that_breaches_it_and_flattens():
    bars = _bars()
    cfg = parse_risk_config({
        "account": {"currency": "USD", "starting_balance": str(START)},
        "session": {"timezone": "America/Chicago", "close": "17:00"},
        "pre_trade": {"check_balance": False},
        "rules": {"trailing_drawdown": {"amount": "2000", "mode": "intraday", "stop_at_offset": "0"}},
    }, "test")  # fmt: skip
    engine = BacktestEngine(risk_config=cfg)
    engine.add_venue(VenueConfig("XCME", [Money(str(START), USD)], account_type="margin"))
    engine.add_instrument(future("6EH4", "XCME", "0.00005", "125000", asset_class=AssetClass.FX))
    engine.add_data(bars)
    engine.add_strategy(BuyOnceAndHold("hold-001"))
    halts: list[int] = []
    engine.kernel.bus.subscribe(
        "events.risk",
        lambda e: halts.append(e.ts_event) if isinstance(e, TradingStateChanged) and e.state is TradingState.HALTED
        else None,
    )  # fmt: skip
    result = engine.run()

    entry, flatten = result.fills[0], result.fills[-1]
    assert len(result.fills) == 2 and entry["side"] == str(OrderSide.BUY) and flatten["side"] == str(OrderSide.SELL)
    assert Decimal(flatten["quantity"]) == QTY  # the halt flattened the position: nothing else traded
    # independent: equity at each close after the entry fill; intraday peak; threshold min(peak - 2000, start)
    px, fee = Decimal(entry["price"]), Decimal(entry["commission"])
    peak, breach_ts = START, None
    for i, bar in enumerate(bars):
        if bar.ts_event < entry["ts_event"]:
            continue
        eq = START - fee + QTY * (bar.close.as_decimal() - px) * MULT
        peak = max(peak, eq)
        if eq <= min(peak - 2000, START):
            breach_ts, next_open = bar.ts_event, bars[i + 1].open.as_decimal()
            break
    assert breach_ts is not None
    assert halts == [breach_ts]
    assert engine.kernel.risk_engine.trading_state is TradingState.HALTED
    # the flatten order fills at the next bar's open (next-open fill mode; a bar is stamped with its close
    # time, so that open is at the breach bar's timestamp)
    assert Decimal(flatten["price"]) == next_open and flatten["ts_event"] == breach_ts
