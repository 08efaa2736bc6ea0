"""A node that dies after sending a webhook alert's order but before marking the alert handled does not send
the order a second time when it starts again: its event store shows the order was placed."""

from __future__ import annotations

import json
import time

from tradewire.model.identifiers import ClientOrderId
from tradewire.node.live import NodeConfig, TradingNode
from tradewire.persistence import open_store

SECRET = "node-restart-secret-0123456789"


def _node(tmp_path, monkeypatch) -> TradingNode:
    monkeypatch.setenv("TRADEWIRE_WEBHOOK_SOURCES", json.dumps({"tradingview": {"secret": SECRET,
                       "default_venue": "BINANCE", "rate_per_s": "1000", "burst": 1000}}))  # fmt: skip
    monkeypatch.setenv("TRADEWIRE_WEBHOOK_DATA_DIR", str(tmp_path / "wh"))
    return TradingNode(NodeConfig(speed=20, database_url=f"sqlite:///{tmp_path}/tw.db", webhook=True))


def _wait(cond, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.02)
    return cond()


def test_an_alert_sent_before_a_crash_is_not_sent_again(tmp_path, monkeypatch):
    first = _node(tmp_path, monkeypatch)
    svc = first.webhook_service
    svc._marks.interval_ns = 10**15  # the process dies before its deferred marks are due
    monkeypatch.setattr(svc, "flush_dispatched", lambda due_only=False: 0)  # ... and never writes them on stop
    first.start()
    try:
        assert _wait(lambda: first.view("book:BTCUSDT.BINANCE")), "no book within 20 s"
        body = json.dumps({"secret": SECRET, "ticker": "BINANCE:BTCUSDT", "action": "buy", "quantity": "0.001",
                           "alert_id": "sent-then-crash"}).encode()  # fmt: skip
        r = svc.handle("tradingview", body, "application/json", "127.0.0.1", {})
        assert r.status_code == 202
        cid = ClientOrderId(r.body["client_order_ids"][0])
        assert _wait(lambda: (o := first.kernel.cache.order(cid)) is not None and o.is_closed), "order not filled"
    finally:
        first.stop()
    assert len(svc._store.undispatched()) == 1  # never marked handled

    with open_store(f"sqlite:///{tmp_path}/tw.db") as store:
        assert store.recorded_client_order_ids([str(cid), "O-unknown"]) == {str(cid)}
        assert store.recorded_client_order_ids([]) == set()

    second = _node(tmp_path, monkeypatch)
    assert second.webhook_service.recovered == 1
    second.start()
    try:
        recs = second.webhook_service.recent_alerts
        assert _wait(lambda: recs(1)[0].outcome != "accepted", 10), recs(1)
        rec = recs(1)[0]
        assert (rec.outcome, rec.reason) == ("submitted", "placed before the restart; not sent again")
        assert second.kernel.cache.order(cid) is None  # not submitted by this process
    finally:
        second.stop()
    assert second.webhook_service._store.undispatched() == []  # marked on stop
