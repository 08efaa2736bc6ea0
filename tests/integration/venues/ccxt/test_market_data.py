"""Market data through the real ccxt.pro client against the local Binance server (recorded BTCUSDT session)."""

from __future__ import annotations

from decimal import Decimal

from tradewire.core.bus import MessageBus
from tradewire.core.clock import LiveClock
from tradewire.data.book import OrderBook
from tradewire.data.quality import DataQualityMonitor
from tradewire.model.data import OrderBookDelta, QuoteTick, TradeTick
from tradewire.model.identifiers import InstrumentId
from tradewire.venues.ccxt.data import CcxtDataClient
from tradewire.venues.ccxt.retry import RetryPolicy

IID = InstrumentId("BTCUSDT.BINANCE")


class Sink:
    """Engine-side consumer: applies delivered deltas to its own book, counts the rest."""

    def __init__(self) -> None:
        self.book = OrderBook(IID, 2, 5)
        self.trades: list[TradeTick] = []
        self.quotes: list[QuoteTick] = []
        self.snapshots = 0

    def __call__(self, obj) -> None:
        if type(obj) is OrderBookDelta:
            if obj.flags & OrderBookDelta.F_SNAPSHOT and obj.action.value == "clear":
                self.snapshots += 1
            self.book.apply_delta(obj)
        elif type(obj) is TradeTick:
            self.trades.append(obj)
        elif type(obj) is QuoteTick:
            self.quotes.append(obj)


def top(book: OrderBook, n: int = 20):
    bids = [(Decimal(p) / 10**9, Decimal(q) / 10**9) for p, q in book.bids_raw(n)]
    asks = [(Decimal(p) / 10**9, Decimal(q) / 10**9) for p, q in book.asks_raw(n)]
    return bids, asks


def make_client(conn, quality=None):
    client = CcxtDataClient(conn, LiveClock(), quality, retry=RetryPolicy(1000, 0.05, 0.2), keep_books=True)
    sink = Sink()
    client.set_handler(sink)
    client.connect_blocking()
    return client, sink


def test_book_and_trades_stream_into_a_gap_free_book(server, conn):
    client, sink = make_client(conn)
    client.subscribe_order_book_deltas(IID)
    client.subscribe_trade_ticks(IID)
    client.subscribe_quote_ticks(IID)
    assert conn.inbox.pump_until(lambda: server.subscriber_count() >= 1 and client.books.get(IID) is not None, 10)
    server.advance(40)  # the first diffs arrive; the client then takes the REST snapshot
    assert conn.inbox.pump_until(lambda: sink.snapshots == 1 and not client.books[IID].stale, 10)
    sent = server.advance(3000)
    assert sent == 3000
    server.advance(0)
    state = client._book_state["BTCUSDT"]
    # every published diff reached the client: it counts all depth messages the server sent after subscribing
    assert conn.inbox.pump_until(lambda: client.books[IID].book.sequence == server.last_update_id, 10)
    conn.inbox.drain()
    assert client.books[IID].sync.gaps == []
    assert state.messages > 0
    assert top(sink.book) == server.book_top(20)
    assert top(client.books[IID].book) == server.book_top(20)
    recorded_trades = [m for m in server.messages[: server.cursor] if m["data"].get("e") == "trade"]
    assert len(sink.trades) > 0
    last = sink.trades[-1]
    match = next(m["data"] for m in recorded_trades if str(m["data"]["t"]) == str(last.trade_id))
    assert str(last.price) == str(Decimal(match["p"]).quantize(Decimal("0.01")))
    assert last.aggressor_side.value == ("seller" if match["m"] else "buyer")
    assert sink.quotes and sink.quotes[-1].bid_price < sink.quotes[-1].ask_price
    client.disconnect_blocking()


def test_websocket_drop_reconnects_and_resyncs_from_a_fresh_snapshot(server, conn):
    bus = MessageBus()
    quality = DataQualityMonitor(bus, LiveClock())
    client, sink = make_client(conn, quality)
    client.subscribe_order_book_deltas(IID)
    assert conn.inbox.pump_until(lambda: server.subscriber_count() >= 1, 10)
    server.advance(40)
    assert conn.inbox.pump_until(lambda: sink.snapshots == 1 and not client.books[IID].stale, 10)
    server.advance(500)
    assert conn.inbox.pump_until(lambda: client.books[IID].book.sequence == server.last_update_id, 10)
    seq_before = server.last_update_id
    server.drop_streams(market=True, user=False)
    server.advance(800)  # published while the client is disconnected: lost to it
    assert server.last_update_id > seq_before
    assert conn.inbox.pump_until(lambda: server.subscriber_count() >= 1, 10), "client did not reconnect"
    server.advance(40)
    assert conn.inbox.pump_until(lambda: sink.snapshots == 2 and not client.books[IID].stale, 10)
    server.advance(500)
    assert conn.inbox.pump_until(lambda: client.books[IID].book.sequence == server.last_update_id, 10)
    conn.inbox.drain()
    assert top(sink.book) == server.book_top(20)
    assert client.reconnects >= 1
    gaps = client.books[IID].sync.gaps
    assert len(gaps) == 1 and gaps[0].expected == seq_before + 1 and gaps[0].got > seq_before
    kinds = [e.kind.value for e in quality.events]
    assert "sequence_gap" in kinds
    client.disconnect_blocking()


def test_venue_bars_from_the_kline_stream(server, conn):
    from tradewire.model.data import Bar, BarType

    client = CcxtDataClient(conn, LiveClock(), retry=RetryPolicy(1000, 0.05, 0.2))
    bars: list[Bar] = []
    client.set_handler(lambda o: bars.append(o) if type(o) is Bar else None)
    client.connect_blocking()
    bt = BarType.from_str("BTCUSDT.BINANCE-1-MINUTE-LAST")
    client.subscribe_bars(bt)
    assert conn.inbox.pump_until(lambda: server.subscriber_count() >= 1, 10)
    server.advance(20_000)  # about half of the session: three minutes and a bit
    shift = server._time_shift_ms
    # independent 1-minute aggregation of the recorded trades on the server's (shifted) clock
    want: dict[int, list] = {}
    for m in server.messages[: server.cursor]:
        d = m["data"]
        if d.get("e") == "trade":
            t = d["T"] + shift
            p, q = Decimal(d["p"]), Decimal(d["q"])
            b = want.setdefault(t - t % 60_000, [p, p, p, p, Decimal(0)])
            b[1], b[2], b[3], b[4] = max(b[1], p), min(b[2], p), p, b[4] + q
    closed = sorted(want)[:-1]  # the last minute is still open: no newer candle has started
    assert len(closed) >= 2
    assert conn.inbox.pump_until(lambda: len(bars) == len(closed), 10)
    got = [((b.ts_event // 1_000_000) - 60_000, b.open.as_decimal(), b.high.as_decimal(), b.low.as_decimal(),
            b.close.as_decimal(), b.volume.as_decimal()) for b in bars]  # fmt: skip
    assert got == [(t, *want[t]) for t in closed]
    client.disconnect_blocking()
