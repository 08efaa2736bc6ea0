"""Fixtures for the paper venue tests: real Binance spot stream snippet and ORCL daily bars."""

from __future__ import annotations

import csv
import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tradewire.model import (
    AggressorSide,
    Bar,
    BarType,
    BookAction,
    BookSide,
    InstrumentId,
    OrderBookDelta,
    Price,
    Quantity,
    QuoteTick,
    TradeId,
    TradeTick,
)

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "paper"
BINANCE_FILE = FIXTURES / "binance_spot_btcusdt_20240808_head600.gz"
ORCL_FILE = FIXTURES / "backtrader_orcl-1995-2014_head40.txt"
BTC_ID = InstrumentId("BTCUSDT.PAPER")
ORCL_ID = InstrumentId("ORCL.PAPER")
DAY_NS = 86_400_000_000_000


@dataclass
class Stream:
    """Parsed stream: ``events`` is a time-ordered list of (kind, ts_ns, payload).

    kind is ``"book"`` (list[OrderBookDelta], one venue message, last delta has F_LAST), ``"quote"``
    (QuoteTick) or ``"trade"`` (TradeTick). Depth diffs before the REST snapshot are buffered and
    replayed per the Binance procedure (drop ``u <= lastUpdateId``).
    """

    events: list[tuple[str, int, object]] = field(default_factory=list)


def _px(s: str) -> Price:
    return Price(s, 2)


def _qty(s: str) -> Quantity:
    return Quantity(s, 5)


def _deltas(levels_b, levels_a, ts, seq, snapshot=False):
    out = []
    flags = OrderBookDelta.F_SNAPSHOT if snapshot else 0
    if snapshot:
        out.append(OrderBookDelta(BTC_ID, BookAction.CLEAR, BookSide.BID, _px("0"), _qty("0"), flags, seq, ts, ts))
    for side, levels in ((BookSide.BID, levels_b), (BookSide.ASK, levels_a)):
        for p, q in levels:
            size = _qty(q)
            action = BookAction.DELETE if size.raw == 0 else (BookAction.ADD if snapshot else BookAction.UPDATE)
            out.append(OrderBookDelta(BTC_ID, action, side, _px(p), size, flags, seq, ts, ts))
    last = out[-1]
    last.flags |= OrderBookDelta.F_LAST
    return out


def parse_binance_stream(path: Path) -> Stream:
    """Parse ``<ns> <json>`` lines; raises ValueError naming the file and line on bad input."""
    stream = Stream()
    buffered: list[tuple[int, dict]] = []
    last_id: int | None = None
    with gzip.open(path, "rt") as fh:
        for lineno, line in enumerate(fh, 1):
            try:
                ns_text, _, js = line.partition(" ")
                ts = int(ns_text)
                msg = json.loads(js)
                if "lastUpdateId" in msg:
                    last_id = msg["lastUpdateId"]
                    stream.events.append(("book", ts, _deltas(msg["bids"], msg["asks"], ts, last_id, snapshot=True)))
                    for _, d in buffered:
                        if d["u"] > last_id:
                            stream.events.append(("book", ts, _deltas(d["b"], d["a"], ts, d["u"])))
                    buffered.clear()
                    continue
                d = msg["data"]
                if d.get("e") == "depthUpdate":
                    if last_id is None:
                        buffered.append((ts, d))
                    elif d["u"] > last_id:
                        stream.events.append(("book", ts, _deltas(d["b"], d["a"], ts, d["u"])))
                elif d.get("e") == "trade":
                    agg = AggressorSide.SELLER if d["m"] else AggressorSide.BUYER
                    stream.events.append(("trade", ts, TradeTick(BTC_ID, _px(d["p"]), _qty(d["q"]), agg,
                                                                  TradeId(str(d["t"])), ts, ts)))  # fmt: skip
                else:
                    stream.events.append(("quote", ts, QuoteTick(BTC_ID, _px(d["b"]), _px(d["a"]), _qty(d["B"]),
                                                                  _qty(d["A"]), ts, ts)))  # fmt: skip
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{lineno}: cannot parse line: {exc}") from exc
    return stream


def load_orcl_bars(path: Path = ORCL_FILE) -> list[Bar]:
    """ORCL daily bars; ts_event = the day's end (date + 1 day, 00:00 UTC), prices at 6 decimals."""
    import datetime as dt

    bar_type = BarType.from_str(f"{ORCL_ID}-1-DAY-LAST")
    bars = []
    with path.open(newline="") as fh:
        for lineno, row in enumerate(csv.DictReader(fh), 2):
            try:
                day = dt.datetime.strptime(row["Date"], "%Y-%m-%d").replace(tzinfo=dt.UTC)
                ts = int(day.timestamp()) * 1_000_000_000 + DAY_NS
                bars.append(Bar(bar_type, Price(row["Open"], 6), Price(row["High"], 6), Price(row["Low"], 6),
                                Price(row["Close"], 6), Quantity(row["Volume"], 0), ts, ts))  # fmt: skip
            except (ValueError, KeyError) as exc:
                raise ValueError(f"{path}:{lineno}: bad bar row: {exc}") from exc
    return bars


@pytest.fixture(scope="session")
def binance_stream() -> Stream:
    return parse_binance_stream(BINANCE_FILE)


@pytest.fixture(scope="session")
def orcl_bars() -> list[Bar]:
    return load_orcl_bars()


class Harness:
    """A standalone paper venue: TestClock, list-appending event handler, order factory."""

    def __init__(self, instruments, **kwargs) -> None:
        from tradewire.core.clock import TestClock
        from tradewire.model import AccountId, Venue
        from tradewire.venues.paper import PaperExecutionClient

        self.clock = TestClock()
        self.events: list[object] = []
        self.client = PaperExecutionClient(
            Venue("PAPER"), AccountId("PAPER-001"), self.clock, self.events.append, instruments, **kwargs
        )
        self._n = 0

    def order(self, instrument_id, side, order_type, qty, price=None, trigger=None, tif="gtc", **kw):
        from tradewire.model import (
            ClientOrderId,
            Order,
            OrderInitialized,
            OrderSide,
            OrderType,
            StrategyId,
            TimeInForce,
        )

        self._n += 1
        inst = self.client.matching_engine(instrument_id).instrument
        init = OrderInitialized(
            ClientOrderId(f"O-{self._n}"), StrategyId("S-1"), instrument_id, 0, 0, OrderSide(side),
            OrderType(order_type), Quantity(qty, inst.size_precision), TimeInForce(tif),
            None if price is None else Price(price, inst.price_precision),
            None if trigger is None else Price(trigger, inst.price_precision), **kw,
        )  # fmt: skip
        return Order.from_init(init)

    def submit(self, *args, **kwargs):
        order = self.order(*args, **kwargs)
        self.client.submit_order(order)
        return order

    def replay(self, order):
        """Apply OrderSubmitted and every venue event of ``order`` to it (checks the transition table)."""
        from tradewire.model import OrderSubmitted

        order.apply(OrderSubmitted(order.client_order_id, order.strategy_id, order.instrument_id, 0, 0))
        for e in self.of(order):
            order.apply(e)
        return order

    def of(self, order, kind=None):
        """Events of ``order`` (optionally of one class name)."""
        return [
            e for e in self.events
            if getattr(e, "client_order_id", None) == order.client_order_id
            and (kind is None or type(e).__name__ == kind)
        ]  # fmt: skip

    def feed(self, events, upto=None, kinds=("book", "quote", "trade")):
        """Feed parsed stream events [0, upto) to the venue."""
        c = self.client
        for kind, _, payload in events[:upto]:
            if kind not in kinds:
                continue
            if kind == "book":
                c.process_order_book_deltas(payload)
            elif kind == "quote":
                c.process_quote_tick(payload)
            else:
                c.process_trade_tick(payload)


@pytest.fixture
def btc():
    from tradewire.model import crypto_spot

    return crypto_spot("BTCUSDT", "PAPER", "BTC", "USDT", 2, 5, maker_fee="0.0002", taker_fee="0.001")


@pytest.fixture
def orcl():
    from tradewire.model import equity

    return equity("ORCL", "PAPER", price_precision=6)


@pytest.fixture
def harness():
    return Harness
