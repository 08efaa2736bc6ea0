"""Risk scenarios on a replay of real CME 6E (Euro FX, Mar-2024) one-minute bars, 2–12 January 2024.

A small simulated venue fills every forwarded order at the current bar's close and books it into a
model `Position`; equity is the starting balance plus realized and unrealized P&L at the close. The
expected breach bars are derived independently below from the closes with the programs' rule text
(no code shared with the risk engine).
"""

from __future__ import annotations

import csv
import gzip
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import TestClock
from tradewire.model import (
    AssetClass,
    ClientOrderId,
    Currency,
    InstrumentId,
    Money,
    Order,
    OrderAccepted,
    OrderDenied,
    OrderFilled,
    OrderInitialized,
    OrderSide,
    OrderSubmitted,
    OrderType,
    Price,
    Quantity,
    StrategyId,
    TradeId,
    TradingState,
    VenueOrderId,
    future,
)
from tradewire.model.commands import SubmitOrder
from tradewire.model.data import Bar, BarType
from tradewire.model.position import Position
from tradewire.risk import JsonFileRiskStateStore, RiskEngine, parse_risk_config

FIXTURE = Path(__file__).parents[1] / "fixtures" / "bars" / "6EH4.XCME_1min_bars_20240101_20240131.csv.gz"
IID = InstrumentId("6EH4.XCME")
START = Decimal(50000)
MULT = Decimal(125000)


def load_bars(until: str = "2024-01-13") -> list[tuple[datetime, str]]:
    rows = []
    with gzip.open(FIXTURE, "rt", newline="") as f:
        for r in csv.DictReader(f):
            if r["timestamp_utc"] >= until:
                break
            rows.append((datetime.fromisoformat(r["timestamp_utc"]).replace(tzinfo=UTC), r["close"]))
    return rows


BARS = load_bars()


class SimVenue:
    """Fills at the current close; keeps one netting position; values the account."""

    def __init__(self) -> None:
        self.bus = MessageBus()
        self.cache = Cache()
        self.clock = TestClock(int(BARS[0][0].timestamp()) * 10**9 - 60 * 10**9)
        self.inst = future("6EH4", "XCME", "0.00005", "125000", asset_class=AssetClass.FX)
        self.cache.add_instrument(self.inst)
        self.pos = Position(
            "6EH4.XCME-s1", IID, StrategyId("s1"), self.inst.multiplier.raw, self.inst.quote_currency, 0
        )
        self.cache.positions[self.pos.position_id] = self.pos
        self.close_raw = 0
        self.fills = 0
        self.flatten_orders: list[Order] = []
        self.denied: list[OrderDenied] = []
        self.bus.register("ExecutionEngine.execute", self._execute)
        self.bus.register("ExecutionEngine.process", lambda ev: self.denied.append(ev))
        self.start_raw = int(START) * 10**9

    # PortfolioView
    def net_position_raw(self, instrument_id, strategy_id=None) -> int:
        return self.pos.signed_qty_raw

    def equity(self, currency: Currency) -> Money:
        raw = self.start_raw + self.pos.realized_pnl.raw + self.pos.unrealized_pnl_raw(self.close_raw)
        return Money.from_raw(raw, currency)

    def balance_free(self, currency: Currency) -> Money:
        return self.equity(currency)

    def balance_total(self, currency: Currency) -> Money:
        return self.equity(currency)

    def _execute(self, cmd) -> None:
        if not isinstance(cmd, SubmitOrder):
            return
        o, ts = cmd.order, self.clock.timestamp_ns()
        if o.tags == "risk-flatten":
            self.flatten_orders.append(o)
        self.fills += 1
        o.apply(OrderSubmitted(o.client_order_id, o.strategy_id, o.instrument_id, ts, ts))
        o.apply(
            OrderAccepted(o.client_order_id, o.strategy_id, o.instrument_id, ts, ts, VenueOrderId(f"V{self.fills}"))
        )
        fill = OrderFilled(
            o.client_order_id, o.strategy_id, o.instrument_id, ts, ts, VenueOrderId(f"V{self.fills}"),
            TradeId(f"T{self.fills}"), o.side, o.order_type, o.quantity, Price.from_raw(self.close_raw, 5),
            Money(0, self.inst.quote_currency),
        )  # fmt: skip
        o.apply(fill)
        self.pos.apply(fill)

    def bar(self, i: int) -> None:
        """Advance to bar ``i`` (firing the session alert), publish its close as the mark."""
        t, close = BARS[i]
        ts = int(t.timestamp()) * 10**9
        self.clock.advance_time(ts)
        self.close_raw = Price.from_str(close).raw
        bar_type = BarType.from_str("6EH4.XCME-1-MINUTE-LAST")
        p = Price.from_str(close)
        self.cache.bars[IID] = Bar(bar_type, p, p, p, p, Quantity(1, 0), ts, ts)

    def market(self, side: str, qty: int, n: int) -> Order:
        ts = self.clock.timestamp_ns()
        init = OrderInitialized(ClientOrderId(f"S-{n}"), StrategyId("s1"), IID, ts, ts, OrderSide(side),
                                OrderType.MARKET, Quantity(qty, 0))  # fmt: skip
        return Order(init)


def config(mode: str | None = None, max_position: str | None = None):
    doc = {
        "account": {"currency": "USD", "starting_balance": str(START)},
        "session": {"timezone": "America/Chicago", "close": "17:00"},
        "pre_trade": {"check_balance": False},
        "rules": {},
    }
    if mode:
        doc["rules"]["trailing_drawdown"] = {"amount": "2000", "mode": mode, "stop_at_offset": "0"}
    if max_position:
        doc["pre_trade"]["default_limits"] = {"max_position": max_position}
    return parse_risk_config(doc, "scenario")


def expected_breach(entry_i: int, qty: int, mode: str, amount: Decimal = Decimal(2000)) -> int | None:
    """First bar index at which equity <= trailing threshold, straight from the rule text.

    EOD: the peak is the highest equity at a session close (17:00 Chicago = 23:00 UTC in January);
    intraday: the highest equity at any bar. The threshold ``peak - amount`` stops at the start balance.
    """
    entry = Decimal(BARS[entry_i][1])
    peak, last_eq, end = START, None, None
    for i in range(entry_i, len(BARS)):
        t, close = BARS[i]
        if end is None:
            end = t.replace(hour=23, minute=0) if t.hour < 23 else t.replace(hour=23, minute=0) + timedelta(days=1)
        while t >= end:
            if mode == "eod" and last_eq is not None:
                peak = max(peak, last_eq)
            end += timedelta(days=1)
        eq = START + qty * (Decimal(close) - entry) * MULT
        if mode == "intraday":
            peak = max(peak, eq)
        last_eq = eq
        if eq <= min(peak - amount, START):
            return i
    return None


def run_trailing(mode: str, venue: SimVenue, risk: RiskEngine, entry_i: int = 1250, qty: int = 3):
    halted_at = None
    for i in range(len(BARS)):
        venue.bar(i)
        if i == entry_i:
            venue.bus.send("RiskEngine.execute", SubmitOrder(StrategyId("s1"), IID, 0, venue.market("buy", qty, i)))
        risk.on_mark()
        if halted_at is None and risk.trading_state is TradingState.HALTED:
            halted_at = i
    return halted_at


def test_strategy_that_keeps_buying_hits_the_position_limit():
    venue = SimVenue()
    risk = RiskEngine(venue.bus, venue.cache, venue, venue.clock, config(max_position="5"))
    for i in range(12):
        venue.bar(i)
        venue.bus.send("RiskEngine.execute", SubmitOrder(StrategyId("s1"), IID, 0, venue.market("buy", 1, i)))
        risk.on_mark()
    assert venue.fills == 5 and venue.pos.signed_qty_raw == 5 * 10**9
    assert len(venue.denied) == 7
    assert venue.denied[0].client_order_id == "S-5"  # the sixth order
    assert venue.denied[0].reason == "MAX_POSITION: position would be 6 (now 5, working same side 0) > limit 5"
    assert risk.status()["pre_trade"]["instruments"]["6EH4.XCME"]["position_headroom"] == "0"


@pytest.mark.parametrize("mode", ["eod", "intraday"])
def test_trailing_drawdown_halts_at_the_right_bar_and_flattens_once(mode, tmp_path):
    expected = expected_breach(1250, 3, mode)
    assert expected is not None
    venue = SimVenue()
    store = JsonFileRiskStateStore(tmp_path / "risk.json")
    risk = RiskEngine(venue.bus, venue.cache, venue, venue.clock, config(mode), state_store=store)
    halted_at = run_trailing(mode, venue, risk)
    assert halted_at == expected
    assert len(venue.flatten_orders) == 1  # exactly once, although later marks stay below the threshold
    flat = venue.flatten_orders[0]
    assert flat.side is OrderSide.SELL and flat.quantity == Quantity(3, 0) and flat.reduce_only
    assert venue.pos.signed_qty_raw == 0
    assert risk.status()["last_breach"]["rule"] == "trailing_drawdown"
    if mode == "eod":
        assert BARS[halted_at][0] == datetime(2024, 1, 5, 13, 31, tzinfo=UTC)
    else:
        assert BARS[halted_at][0] == datetime(2024, 1, 3, 15, 23, tzinfo=UTC)
    # a new order after the halt is denied
    venue.bus.send("RiskEngine.execute", SubmitOrder(StrategyId("s1"), IID, 0, venue.market("buy", 1, 99_999)))
    assert venue.denied[-1].reason.startswith("TRADING_HALTED: TRAILING_DRAWDOWN")


def test_intraday_trails_closer_than_eod_on_the_same_path():
    assert expected_breach(1250, 3, "intraday") < expected_breach(1250, 3, "eod")


def test_after_restart_the_node_is_still_halted(tmp_path):
    store_path = tmp_path / "state" / "risk.json"
    venue = SimVenue()
    risk = RiskEngine(
        venue.bus, venue.cache, venue, venue.clock, config("eod"), state_store=JsonFileRiskStateStore(store_path)
    )
    run_trailing("eod", venue, risk)
    assert risk.trading_state is TradingState.HALTED
    # restart: new bus, cache, venue and engine, same state file, a later session
    venue2 = SimVenue()
    venue2.bar(len(BARS) - 1)
    risk2 = RiskEngine(venue2.bus, venue2.cache, venue2, venue2.clock, config("eod"),
                       state_store=JsonFileRiskStateStore(store_path))  # fmt: skip
    assert risk2.trading_state is TradingState.HALTED
    risk2.on_mark()
    venue2.bus.send("RiskEngine.execute", SubmitOrder(StrategyId("s1"), IID, 0, venue2.market("buy", 1, 1)))
    assert venue2.fills == 0 and venue2.denied[-1].reason.startswith("TRADING_HALTED")
    assert venue2.flatten_orders == []  # the breach was already handled before the restart
