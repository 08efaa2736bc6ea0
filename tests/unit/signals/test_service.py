from __future__ import annotations

import json
import threading
from decimal import Decimal

from tradewire.model.commands import CancelAllOrders, SubmitOrder, SubmitOrderList
from tradewire.model.enums import ContingencyType, OrderSide, OrderType
from tradewire.signals.auth import sign_body
from tradewire.signals.config import SourceConfig

RAW = 10**9


def _order(cmd):
    assert isinstance(cmd, SubmitOrder)
    return cmd.order


def test_buy_is_accepted_then_drained_into_one_submit_order(tv):
    h = tv.make()
    r = h.post(tv.alert())
    assert r.status_code == 202 and r.body["status"] == "accepted"
    assert r.body["instrument_id"] == "BTCUSDT.BINANCE"
    assert h.commands == []  # nothing happens on the HTTP thread
    assert h.service.drain() == 1
    (cmd,) = h.commands
    o = _order(cmd)
    assert [str(o.client_order_id)] == r.body["client_order_ids"]
    assert (o.side, o.order_type, o.quantity.raw, str(o.strategy_id)) == (
        OrderSide.BUY, OrderType.MARKET, 10_000_000, "tradingview",
    )  # fmt: skip
    rec = h.service.recent_alerts(1)[0]
    assert rec.outcome == "submitted" and rec.client_order_ids == tuple(r.body["client_order_ids"])


def test_duplicate_returns_original_result_and_places_no_second_order(tv):
    h = tv.make()
    a = tv.alert(alert_id="abc-1")
    first = h.post(a)
    second = h.post(a)
    assert second.status_code == first.status_code == 202
    assert second.body == first.body and second.headers["Idempotent-Replay"] == "true"
    h.service.drain()
    assert len(h.commands) == 1
    assert [r.outcome for r in h.service.recent_alerts(2)] == ["duplicate", "submitted"]


def test_same_body_and_time_is_a_duplicate_but_a_new_time_is_not(tv):
    h = tv.make()
    t1 = tv.alert(time="2024-08-08T23:54:59Z")
    assert h.post(t1).status_code == 202
    assert h.post(dict(t1, quantity="0.010")).headers.get("Idempotent-Replay") == "true"  # same value, normalized
    assert h.post(tv.alert(time="2024-08-08T23:55:00Z")).status_code == 202
    assert h.service.drain() == 2


def test_body_without_id_or_time_dedups_only_inside_the_window(tv):
    h = tv.make(dedup_window_s=60)
    assert h.post(tv.alert()).status_code == 202
    assert "Idempotent-Replay" in h.post(tv.alert()).headers
    h.clock.advance_time(h.clock.timestamp_ns() + 60 * RAW)
    again = h.post(tv.alert())
    assert again.status_code == 202 and "Idempotent-Replay" not in again.headers
    assert h.service.drain() == 2
    ids = [c.order.client_order_id for c in h.commands]
    assert len(set(ids)) == 2  # fresh ids for the new claim


def test_100_concurrent_identical_alerts_make_exactly_one_order(tv):
    h = tv.make()
    body = json.dumps(tv.alert(alert_id="burst")).encode()
    barrier = threading.Barrier(100)
    results = []

    def send():
        barrier.wait()
        results.append(h.service.handle_blocking("tradingview", body, "application/json", "52.89.214.238", {}))

    threads = [threading.Thread(target=send) for _ in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 100
    assert {r.status_code for r in results} == {202}
    assert len({tuple(r.body["client_order_ids"]) for r in results}) == 1
    assert h.service.drain() == 1 and len(h.commands) == 1


def test_auth_failures_never_place_orders(tv):
    h = tv.make(allowed_ips=["tradingview"], max_body_bytes=512, max_age_s=30, rate_per_s=Decimal(1), burst=3)
    cases = [
        (h.post(tv.alert(secret="wrong-secret-0123456789")), 401),
        (h.post(tv.alert(), peer="198.51.100.4"), 403),
        (h.post(b"x" * 513, content_type="text/plain"), 413),
        (h.post(tv.alert(time="2024-08-08T23:54:00Z")), 422),  # 60 s old, limit 30 s
    ]
    for result, status in cases:
        assert result.status_code == status, result.body
        assert result.body["status"] == "rejected" and tv.SECRET not in json.dumps(result.body)
    r = h.post(tv.alert())  # 3rd token: 413 and 403 are decided before the bucket is touched
    assert r.status_code == 202
    limited = h.post(tv.alert(alert_id="x"))
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert h.service.drain() == 1 and len(h.commands) == 1
    assert [rec.status_code for rec in h.service.recent_alerts(10)] == [429, 202, 422, 413, 403, 401]


def test_wrong_secret_is_401_even_when_the_schema_is_wrong(tv):
    h = tv.make()
    r = h.post({"secret": "nope-nope-nope-nope", "passphrase": "x"})
    assert r.status_code == 401
    r = h.post({"passphrase": "x", "ticker": "BTCUSDT", "action": "buy"})
    assert r.status_code == 422 and "passphrase: unknown field" in r.body["reason"]
    assert "secret: field required" in r.body["reason"]


def test_hmac_signature_required_when_configured(tv):
    h = tv.make(hmac_key="signing-key-0123456789")
    body = json.dumps(tv.alert()).encode()
    assert h.post(body).status_code == 401
    ok = h.post(body, headers={"x-tradewire-signature": sign_body("signing-key-0123456789", body)})
    assert ok.status_code == 202


def test_text_plain_alert(tv):
    h = tv.make()
    r = h.post(f"sell BINANCE:BTCUSDT 0.5 secret={tv.SECRET}".encode(), content_type="text/plain")
    assert r.status_code == 202
    h.service.drain()
    assert _order(h.commands[0]).side is OrderSide.SELL


def test_unknown_instrument_source_and_precision_are_422_or_404(tv):
    h = tv.make()
    assert h.post(tv.alert(ticker="BINANCE:ETHUSDT")).body["reason"].startswith("ticker: unknown instrument")
    r = h.post(tv.alert(quantity="0.000001"))
    assert r.status_code == 422 and "more decimals" in r.body["reason"]
    r = h.post(tv.alert(order_type="limit", price="60000.001"))
    assert r.status_code == 422 and "price" in r.body["reason"]
    assert h.service.handle("nope", b"{}", "application/json", "1.2.3.4", {}).status_code == 404
    assert h.service.drain() == 0


def test_missing_quantity_uses_default_or_is_rejected(tv):
    h = tv.make()
    r = h.post(tv.alert(quantity=None))
    assert r.status_code == 422 and "no default_quantity" in r.body["reason"]
    h2 = tv.make(default_quantity=Decimal("0.002"))
    assert h2.post(tv.alert(quantity=None)).status_code == 202
    h2.service.drain()
    assert _order(h2.commands[0]).quantity.raw == 2_000_000


def test_bracket_becomes_order_list_with_linked_children(tv):
    h = tv.make()
    r = h.post(tv.alert(order_type="limit", price="60000", stop_loss="59000.5", take_profit="62000"))
    assert r.status_code == 202 and len(r.body["client_order_ids"]) == 3
    h.service.drain()
    (cmd,) = h.commands
    assert isinstance(cmd, SubmitOrderList)
    entry, sl, tp = cmd.orders
    assert [str(o.client_order_id) for o in cmd.orders] == r.body["client_order_ids"]
    assert entry.contingency_type is ContingencyType.OTO and entry.linked_order_ids == (
        sl.client_order_id,
        tp.client_order_id,
    )
    assert (sl.order_type, sl.side, sl.trigger_price.raw, sl.reduce_only) == (
        OrderType.STOP_MARKET,
        OrderSide.SELL,
        59000_500_000_000,
        True,
    )
    assert (tp.order_type, tp.price.raw, tp.parent_order_id) == (OrderType.LIMIT, 62000 * RAW, entry.client_order_id)
    assert sl.contingency_type is ContingencyType.OCO and sl.linked_order_ids == (tp.client_order_id,)
    assert entry.order_list_id == sl.order_list_id == tp.order_list_id == cmd.order_list_id


def test_close_reverse_flatten_and_target_positions_use_the_position_at_drain_time(tv):
    h = tv.make()
    h.account.positions[tv.BTC] = 30_000_000  # long 0.03
    h.post(tv.alert(action="close", quantity=None, alert_id="c"))
    h.post(tv.alert(action="reverse", quantity=None, alert_id="r"))
    h.post(tv.alert(action="short", quantity="0.05", alert_id="s"))
    h.post(tv.alert(action="flatten", quantity=None, alert_id="f"))
    h.service.drain(1)
    o = _order(h.commands[-1])
    assert (o.side, o.quantity.raw, o.reduce_only) == (OrderSide.SELL, 30_000_000, True)
    h.service.drain(1)
    o = _order(h.commands[-1])
    assert (o.side, o.quantity.raw, o.reduce_only) == (OrderSide.SELL, 60_000_000, False)  # 0.03 -> -0.03
    h.account.positions[tv.BTC] = -30_000_000
    h.service.drain(1)
    o = _order(h.commands[-1])
    assert (o.side, o.quantity.raw) == (OrderSide.SELL, 20_000_000)  # -0.03 -> target -0.05
    h.account.positions[tv.BTC] = -50_000_000
    h.service.drain(1)
    assert isinstance(h.commands[-2], CancelAllOrders)
    o = _order(h.commands[-1])
    assert (o.side, o.quantity.raw, o.reduce_only) == (OrderSide.BUY, 50_000_000, True)


def test_nothing_to_do_is_recorded_as_no_op(tv):
    h = tv.make()
    r = h.post(tv.alert(action="close", quantity=None))
    assert r.status_code == 202
    h.service.drain()
    assert h.commands == []
    rec = h.service.recent_alerts(1)[0]
    assert (rec.outcome, rec.reason) == ("no_op", "no position to close")


def test_percent_equity_and_risk_sizing(tv):
    h = tv.make()
    # 10 % of 10,000 USDT at 60,000 = 0.0166666.. BTC, floored to the 0.00001 lot = 0.01666
    h.post(tv.alert(quantity="10", quantity_type="percent_equity", price="60000", alert_id="p"))
    # risk 1 % of 10,000 = 100 USDT over a 1,000 USDT stop distance = 0.1 BTC
    h.post(tv.alert(quantity="1", quantity_type="risk", price="60000", stop_loss="59000", alert_id="k"))
    h.service.drain()
    assert _order(h.commands[0]).quantity.raw == 16_660_000
    assert h.commands[1].orders[0].quantity.raw == 100_000_000
    assert h.post(tv.alert(quantity="150", quantity_type="percent_equity")).status_code == 422


def test_sizing_without_a_price_is_refused_on_the_engine_side(tv):
    h = tv.make()
    assert h.post(tv.alert(quantity="10", quantity_type="percent_equity")).status_code == 202
    h.service.drain()
    rec = h.service.recent_alerts(1)[0]
    assert rec.outcome == "rejected" and "no price" in rec.reason and h.commands == []


def test_continuous_future_routes_to_front_month(tv):
    h = tv.make()
    r = h.post(tv.alert(ticker="CME_MINI:ES1!", quantity="2"))
    assert r.status_code == 202 and r.body["instrument_id"] == "ESU4.CME"  # Aug 8 2024: Sep contract (roll Sep 10)


def test_full_queue_answers_503_and_releases_the_claim(tv, tmp_path):
    from tradewire.signals.idempotency import SqlIdempotencyStore
    from tradewire.signals.service import WebhookService

    h = tv.make()
    svc = WebhookService(
        {"tradingview": SourceConfig(secret=tv.SECRET, default_venue="BINANCE", rate_per_s=Decimal(100), burst=100)},
        SqlIdempotencyStore(tmp_path / "q.sqlite"), h.clock, bus=h.bus, market=h.cache, account=h.account, queue_size=1,
    )  # fmt: skip
    body = json.dumps(tv.alert(alert_id="one")).encode()
    assert svc.handle("tradingview", body, "application/json", None, {}).status_code == 202
    body2 = json.dumps(tv.alert(alert_id="two")).encode()
    assert svc.handle("tradingview", body2, "application/json", None, {}).status_code == 503
    svc.drain()
    assert svc.handle("tradingview", body2, "application/json", None, {}).status_code == 202  # retry works
