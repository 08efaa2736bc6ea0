"""The node's side of webhook alerts: one engine wake-up per drain, one pushed order row per engine step."""

from __future__ import annotations

import json
import time

import pytest

from tradewire.node.live import NodeConfig, TradingNode

SECRET = "node-handoff-secret-0123456789"


@pytest.fixture
def node(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADEWIRE_WEBHOOK_SOURCES", json.dumps({"tradingview": {"secret": SECRET,
                       "default_venue": "BINANCE", "rate_per_s": "1000", "burst": 1000}}))  # fmt: skip
    monkeypatch.setenv("TRADEWIRE_WEBHOOK_DATA_DIR", str(tmp_path / "wh"))
    n = TradingNode(NodeConfig(speed=20, database_url=f"sqlite:///{tmp_path}/tw.db", webhook=True))
    yield n
    n.stop()


def _alert(i: int, action: str = "buy") -> bytes:
    return json.dumps({"secret": SECRET, "ticker": "BINANCE:BTCUSDT", "action": action, "quantity": "0.001",
                       "alert_id": f"h-{i}"}).encode()  # fmt: skip


def test_alerts_queued_before_a_drain_share_one_wake_up(node):
    svc = node.webhook_service
    for i in range(5):
        assert svc.handle("tradingview", _alert(i), "application/json", "127.0.0.1", {}).status_code == 202
    assert node._calls.qsize() == 1  # five alerts, one queued wake-up
    node.state = "running"  # what the engine thread's step sees; the thread itself is not started here
    node._service(0)
    assert svc.pending_intents == 0 and node._calls.qsize() == 0
    assert svc.handle("tradingview", _alert(9), "application/json", "127.0.0.1", {}).status_code == 202
    assert node._calls.qsize() == 1  # after the drain, the next alert wakes the engine again
    node.state = "idle"


def test_a_queued_wake_up_hands_the_gil_to_the_engine_once(node, monkeypatch):
    from tradewire.node import live

    sleeps: list[float] = []
    monkeypatch.setattr(live.time, "sleep", sleeps.append)
    node._wake()
    node._wake()  # a wake-up is pending: nothing queued, no hand-off
    assert node._calls.qsize() == 1 and sleeps == [0]
    node._wake_pending = False  # what the engine does before it drains
    node._wake()
    assert node._calls.qsize() == 2 and sleeps == [0, 0]


def test_alerts_queued_during_long_engine_work_are_served_at_its_preemption_points(node):
    import threading

    svc = node.webhook_service
    assert svc.handle("tradingview", _alert(1), "application/json", "127.0.0.1", {}).status_code == 202
    node.state = "running"
    node._thread = threading.Thread(target=lambda: None)  # not this thread: nothing is drained here
    node._serve_alerts()
    assert svc.pending_intents == 1 and node._wake_pending
    node._thread = threading.current_thread()  # as if on the engine thread
    node._serve_alerts()
    assert svc.pending_intents == 0 and not node._wake_pending
    node._serve_alerts()  # nothing pending: a no-op
    node.state = "idle"
    node._thread = None


def test_an_order_is_pushed_once_per_step_with_its_final_state(node):
    rows: list[dict] = []
    node.add_listener(lambda topic, row: rows.append(row) if topic == "orders" else None)
    node.start()
    deadline = time.monotonic() + 20
    while not node.view("book:BTCUSDT.BINANCE") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert node.view("book:BTCUSDT.BINANCE"), "no book within 20 s"
    svc = node.webhook_service
    ids = []
    for i, action in enumerate(("buy", "sell")):
        r = svc.handle("tradingview", _alert(100 + i, action), "application/json", "127.0.0.1", {})
        assert r.status_code == 202
        ids.append(r.body["client_order_ids"][0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and {r["client_order_id"] for r in rows if r["status"] == "filled"} < set(ids):
        time.sleep(0.02)
    mine = [r for r in rows if r["client_order_id"] in ids]
    # one row per engine step in the order's state at the end of that step (not one per order event): the
    # step that takes the alert initializes and submits it, so "initialized" is never pushed, no state is
    # pushed twice, and the last row is the fill (usually the only row; on a loaded machine the fill may
    # come in a later step than the submission)
    for cid in ids:
        statuses = [r["status"] for r in mine if r["client_order_id"] == cid]
        assert statuses and statuses[-1] == "filled", statuses
        assert "initialized" not in statuses and len(statuses) == len(set(statuses)), statuses
    assert [r["client_order_id"] for r in mine if r["status"] == "filled"] == ids
    deadline = time.monotonic() + 5  # the published list follows the pushed rows within LIST_PUBLISH_NS
    while time.monotonic() < deadline and len([r for r in node.view("orders") if r["client_order_id"] in ids]) < 2:
        time.sleep(0.01)
    listed = [r["client_order_id"] for r in node.view("orders") if r["client_order_id"] in ids]
    assert listed == [ids[1], ids[0]]  # newest first


def test_position_events_of_one_step_push_the_positions_once(node):
    pushed: list = []
    node.add_listener(lambda topic, rows: pushed.append(rows) if topic == "positions" else None)
    node._on_position_event(object())
    node._on_position_event(object())
    assert pushed == []  # nothing before the step ends
    node._flush_views()
    assert pushed == [node.view("positions")] and node.view("positions") == node._positions()
    node._flush_views()
    assert len(pushed) == 1  # no position event since: nothing more


def test_positions_are_pushed_at_most_once_per_publish_interval_unless_forced(node, monkeypatch):
    from tradewire.node import live

    pushed: list = []
    node.add_listener(lambda topic, rows: pushed.append(rows) if topic == "positions" else None)
    node._on_position_event(object())
    node._flush_views()  # the first push after a quiet interval: at once
    assert len(pushed) == 1
    monkeypatch.setattr(live, "LIST_PUBLISH_NS", 10**12)  # the next interval never ends in this test
    node._on_position_event(object())
    node._flush_views()
    node._flush_views()
    assert len(pushed) == 1 and node._positions_dirty  # held, not lost
    node._flush_views(force=True)
    assert len(pushed) == 2 and not node._positions_dirty
    monkeypatch.setattr(live, "LIST_PUBLISH_NS", 0)
    node._on_position_event(object())
    node._flush_views()  # the interval has passed: pushed by the next flush
    assert len(pushed) == 3


def test_published_lists_follow_within_the_publish_interval_or_at_once_when_forced(node, monkeypatch):
    from tradewire.node import live

    node._fills.appendleft({"trade_id": "T-1"})
    node._views_dirty = True
    node._lists_published_ns = 0
    node._flush_views()  # first flush after a long pause: published at once
    assert node.view("fills") == [{"trade_id": "T-1"}]
    monkeypatch.setattr(live, "LIST_PUBLISH_NS", 10**12)  # no time-based republish in this test
    node._fills.appendleft({"trade_id": "T-2"})
    node._views_dirty = True
    node._flush_views()
    assert node.view("fills") == [{"trade_id": "T-1"}]  # within the interval: not copied yet
    node._flush_views(force=True)  # what a command and the snapshot refresh do
    assert node.view("fills") == [{"trade_id": "T-2"}, {"trade_id": "T-1"}]


def test_trade_history_rows_are_built_on_first_read_once(monkeypatch):
    from tradewire.node import views

    calls: list = []
    monkeypatch.setattr(views, "_history_row", lambda t: calls.append(t) or {"position_id": t})
    h = views.TradeHistory(("P-2", "P-1"))  # newest first, as published
    assert calls == []  # nothing built when published
    rows = h.rows()
    assert rows == [{"position_id": "P-2"}, {"position_id": "P-1"}] and calls == ["P-2", "P-1"]
    assert h.rows() is rows and len(calls) == 2  # built once; the API's response cache keys on this identity
