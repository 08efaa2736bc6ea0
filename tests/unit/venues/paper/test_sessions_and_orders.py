"""Sessions (XNYS via exchange_calendars), DAY/GTD expiry, post-only, reduce-only, modify/cancel, rejects,
per-contract futures fees, reports and snapshot/restore."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from tradewire.model import InstrumentId, OrderStatus, Price, Quantity, QuoteTick, future
from tradewire.venues.paper import BookLevel, CalendarSessions, ClosedSessionPolicy, PaperVenueConfig

BTC_ID = InstrumentId("BTCUSDT.PAPER")
ORCL = InstrumentId("ORCL.PAPER")
L2 = PaperVenueConfig(book_level=BookLevel.L2)


def _utc(*args):
    return int(dt.datetime(*args, tzinfo=dt.UTC).timestamp()) * 1_000_000_000


def _quote(iid, bid, ask, ts, size="500"):
    return QuoteTick(iid, Price(bid, 6), Price(ask, 6), Quantity(size, 0), Quantity(size, 0), ts, ts)


@pytest.fixture(scope="module")
def xnys():
    return CalendarSessions("XNYS", "2024-08-01", "2024-12-31")


def test_day_order_expires_at_the_xnys_close(orcl, harness, xnys):
    h = harness([orcl], sessions=xnys)
    h.clock.set_time(_utc(2024, 8, 8, 14, 0))  # 10:00 New York (EDT)
    order = h.submit(ORCL, "buy", "limit", "10", price="100.000000", tif="day")
    assert [type(e).__name__ for e in h.of(order)] == ["OrderAccepted"]
    close = _utc(2024, 8, 8, 20, 0)  # 16:00 EDT
    h.client.process_time(close - 1)
    assert h.of(order, "OrderExpired") == []
    h.client.process_time(close + 60_000_000_000)
    exp = h.of(order, "OrderExpired")
    assert len(exp) == 1 and exp[0].ts_event == close
    assert h.replay(order).status is OrderStatus.EXPIRED


def test_day_order_on_early_close_day(orcl, harness, xnys):
    h = harness([orcl], sessions=xnys)
    h.clock.set_time(_utc(2024, 11, 29, 15, 0))  # day after Thanksgiving: close 13:00 EST = 18:00 UTC
    order = h.submit(ORCL, "sell", "limit", "10", price="900.000000", tif="day")
    h.client.process_time(_utc(2024, 11, 30, 0, 0))
    assert h.of(order, "OrderExpired")[0].ts_event == _utc(2024, 11, 29, 18, 0)


def test_gtd_expires_at_its_time(orcl, harness):
    h = harness([orcl])
    t0 = _utc(2024, 8, 8, 14, 0)
    h.clock.set_time(t0)
    order = h.submit(ORCL, "buy", "limit", "10", price="100.000000", tif="gtd", expire_time_ns=t0 + 5_000)
    h.client.process_quote_tick(_quote(ORCL, "150.000000", "150.010000", t0 + 4_999))
    assert h.of(order, "OrderExpired") == []
    h.client.process_quote_tick(_quote(ORCL, "150.000000", "150.010000", t0 + 6_000))
    assert h.of(order, "OrderExpired")[0].ts_event == t0 + 5_000


def test_closed_session_reject_or_queue(orcl, harness, xnys):
    saturday = _utc(2024, 8, 10, 15, 0)
    h = harness([orcl], sessions=xnys)
    h.clock.set_time(saturday)
    rejected = h.submit(ORCL, "buy", "market", "10")
    rej = h.of(rejected, "OrderRejected")
    assert len(rej) == 1 and "market closed" in rej[0].reason

    q = harness([orcl], sessions=xnys, config=PaperVenueConfig(closed_session_policy=ClosedSessionPolicy.QUEUE))
    q.clock.set_time(saturday)
    queued = q.submit(ORCL, "buy", "market", "10")
    assert [type(e).__name__ for e in q.of(queued)] == ["OrderAccepted"]
    q.client.process_quote_tick(_quote(ORCL, "150.000000", "150.010000", _utc(2024, 8, 12, 13, 0)))  # pre-market
    assert q.of(queued, "OrderFilled") == []
    open_ts = _utc(2024, 8, 12, 13, 30)  # 09:30 EDT
    q.client.process_quote_tick(_quote(ORCL, "151.000000", "151.020000", open_ts))
    assert [(str(f.last_px), f.ts_event) for f in q.of(queued, "OrderFilled")] == [("151.020000", open_ts)]


def test_post_only_rejected_when_it_would_cross(binance_stream, btc, harness):
    h = harness([btc], config=L2)
    h.feed(binance_stream.events, 6)
    crossing = h.submit(BTC_ID, "buy", "limit", "0.01", price="61837.64", post_only=True)
    rej = h.of(crossing, "OrderRejected")
    assert len(rej) == 1 and "post-only" in rej[0].reason
    passive = h.submit(BTC_ID, "buy", "limit", "0.01", price="61837.63", post_only=True)
    assert [type(e).__name__ for e in h.of(passive)] == ["OrderAccepted"]


def test_reduce_only_rejected_when_flat_and_trimmed_to_position(binance_stream, btc, harness):
    h = harness([btc], config=L2)
    h.feed(binance_stream.events, 6)
    flat = h.submit(BTC_ID, "sell", "market", "0.01", reduce_only=True)
    assert "reduce-only" in h.of(flat, "OrderRejected")[0].reason
    h.submit(BTC_ID, "buy", "market", "0.01")
    trim = h.submit(BTC_ID, "sell", "market", "0.02", reduce_only=True)
    assert [(str(f.last_px), str(f.last_qty)) for f in h.of(trim, "OrderFilled")] == [("61837.63", "0.01000")]
    assert h.of(trim, "OrderCanceled")
    assert h.client.generate_position_reports() == []


def test_modify_reprices_and_takes_liquidity(binance_stream, btc, harness):
    h = harness([btc], config=L2)
    h.feed(binance_stream.events, 6)
    order = h.submit(BTC_ID, "buy", "limit", "0.01", price="61830.00")
    h.client.modify_order(order, None, Price("61837.64", 2), None)
    upd = h.of(order, "OrderUpdated")
    assert len(upd) == 1 and str(upd[0].price) == "61837.64"
    assert [(str(f.last_px), str(f.last_qty)) for f in h.of(order, "OrderFilled")] == [("61837.64", "0.01000")]
    h.client.modify_order(order, Quantity("0.02", 5), None, None)
    assert "filled" in h.of(order, "OrderModifyRejected")[0].reason
    assert h.client.matching_engine(BTC_ID).orders[order.client_order_id].status is OrderStatus.FILLED


def test_cancel_then_cancel_again(binance_stream, btc, harness):
    h = harness([btc], config=L2)
    h.feed(binance_stream.events, 6)
    order = h.submit(BTC_ID, "buy", "limit", "0.01", price="61830.00")
    h.client.cancel_order(order)
    h.client.cancel_order(order)
    assert [type(e).__name__ for e in h.of(order)] == ["OrderAccepted", "OrderCanceled", "OrderCancelRejected"]


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"order_type": "limit", "qty": "0.01", "price": None}, "needs a limit price"),
        ({"order_type": "stop_market", "qty": "0.01"}, "needs a trigger price"),
        ({"order_type": "trailing_stop_market", "qty": "0.01"}, "emulated by the OMS"),
        ({"order_type": "market", "qty": "0"}, "quantity must be positive"),
        ({"order_type": "market", "qty": "0.01", "tif": "gtd"}, "expire_time_ns"),
    ],
)
def test_venue_rejects_with_reason(btc, harness, kwargs, reason):
    h = harness([btc])
    kw = dict(kwargs)
    order = h.submit(BTC_ID, "buy", kw.pop("order_type"), kw.pop("qty"), **kw)
    rej = h.of(order, "OrderRejected")
    assert len(rej) == 1 and reason in rej[0].reason


def test_off_tick_price_and_unknown_instrument_rejected(harness):
    es = future("ESU4", "PAPER", "0.25", "50", fee_per_contract="2.25")
    h = harness([es])
    t = h.order(es.id, "buy", "limit", "1", price="5500.00")
    object.__setattr__(t, "price", Price("5500.10", 2))
    h.client.submit_order(t)
    assert "tick size" in h.of(t, "OrderRejected")[0].reason
    from tradewire.model import ClientOrderId, Order, OrderInitialized, OrderSide, OrderType, StrategyId

    unknown = Order.from_init(OrderInitialized(ClientOrderId("X-1"), StrategyId("S-1"), InstrumentId("NOPE.PAPER"),
                                               0, 0, OrderSide.BUY, OrderType.MARKET, Quantity(1, 0)))  # fmt: skip
    h.client.submit_order(unknown)
    assert "unknown instrument" in h.of(unknown, "OrderRejected")[0].reason


def test_cancel_or_modify_of_an_order_the_venue_never_got(btc, harness):
    from tradewire.model import ClientOrderId, Order, OrderInitialized, OrderSide, OrderType, StrategyId

    h = harness([btc])
    init = OrderInitialized(ClientOrderId("X-9"), StrategyId("S-9"), BTC_ID, 0, 0, OrderSide.BUY, OrderType.LIMIT,
                            Quantity("0.001", 5), price=Price("100.00", 2))  # fmt: skip
    never = Order.from_init(init)
    h.client.cancel_order(never)  # the client answers with the order's own strategy
    h.client.modify_order(never, None, Price("101.00", 2), None)
    (cr,), (mr,) = h.of(never, "OrderCancelRejected"), h.of(never, "OrderModifyRejected")
    assert cr.reason == mr.reason == "unknown order" and cr.strategy_id == mr.strategy_id == StrategyId("S-9")
    engine = h.client.matching_engine(BTC_ID)  # asked directly, the engine has no strategy to answer with
    with pytest.raises(KeyError, match="no order X-9"):
        engine.cancel(ClientOrderId("X-9"), 1)
    with pytest.raises(KeyError, match="no order X-9"):
        engine.modify(ClientOrderId("X-9"), None, Price("101.00", 2), None, 1)


def test_a_users_own_fee_model_is_used(btc, harness):
    # the pluggable models stay subclassable when the venue is compiled (tradewire._native)
    from tradewire.model import Money
    from tradewire.venues.paper.models import FeeModel

    class FlatFee(FeeModel):
        def commission(self, instrument, qty_raw, px_raw, liquidity_side):
            return Money("1.25", instrument.settlement_currency)

    h = harness([btc], fee_model=FlatFee())
    h.client.process_quote_tick(
        QuoteTick(btc.id, Price("60000.00", 2), Price("60000.10", 2), Quantity(1, 5), Quantity(1, 5), 1, 1)
    )
    fill = h.of(h.submit(btc.id, "buy", "market", "0.01"), "OrderFilled")[0]
    assert fill.commission.as_decimal() == Decimal("1.25") and fill.commission.currency.code == "USDT"


def test_futures_fee_per_contract_and_multiplier_position(harness):
    es = future("ESU4", "PAPER", "0.25", "50", fee_per_contract="2.25")
    h = harness([es])
    h.client.process_quote_tick(
        QuoteTick(es.id, Price("5500.00", 2), Price("5500.25", 2), Quantity(10, 0), Quantity(10, 0), 1, 1)
    )
    order = h.submit(es.id, "buy", "market", "3")
    fill = h.of(order, "OrderFilled")[0]
    assert str(fill.last_px) == "5500.25" and fill.commission.as_decimal() == Decimal("6.75")
    (pos,) = h.client.generate_position_reports()
    assert str(pos.quantity) == "3" and pos.avg_px_open.as_decimal() == Decimal("5500.25")


def test_snapshot_restore_continues_identically(binance_stream, btc, harness):
    ev = binance_stream.events
    a = harness([btc], config=L2)
    a.feed(ev, 8)
    a.submit(BTC_ID, "buy", "market", "0.5")
    resting = a.submit(BTC_ID, "buy", "limit", "0.001", price="61836.00")
    a.feed(ev[8:], 95)  # up to event 102: the first fill of the resting order happened
    state = json.loads(json.dumps(a.client.snapshot()))
    b = harness([btc], config=L2)
    b.client.restore(state)
    assert b.client.generate_order_status_reports() == a.client.generate_order_status_reports()
    assert b.client.generate_fill_reports(0) == a.client.generate_fill_reports(0)
    assert b.client.generate_position_reports() == a.client.generate_position_reports()
    (report,) = a.client.generate_order_status_reports()
    assert report.client_order_id == resting.client_order_id and str(report.filled_qty) == "0.00021"
    # market data is not in the snapshot: both see the next real book batch before continuing
    a.events.clear()
    rest = [e for e in ev[103:] if e[0] != "quote"]
    first_book = next(i for i, e in enumerate(rest) if e[0] == "book")
    b.feed(binance_stream.events[:8])  # rebuild b's book from the snapshot message
    a.feed(rest)
    b.feed(rest)
    to_dicts = lambda evs: [e.to_dict() for e in evs]  # noqa: E731
    assert any(type(e).__name__ == "OrderFilled" for e in a.events)
    assert first_book >= 0 and to_dicts(a.events) == to_dicts([e for e in b.events if e.ts_event >= ev[103][1]])
    assert len(a.client.generate_fill_reports(0)) == len(b.client.generate_fill_reports(0))


def test_restore_rejects_other_venue_snapshot(btc, harness):
    h = harness([btc])
    state = h.client.snapshot()
    state["account_id"] = "OTHER-1"
    with pytest.raises(ValueError, match="snapshot is for"):
        h.client.restore(state)
