"""An alert answered 202 is durable: one commit stores the claim, the response and the order intent; a new
service on the same store places intents a crashed process accepted but never handed to the engine."""

from __future__ import annotations

import json
import sqlite3

from tradewire.model.commands import SubmitOrder, SubmitOrderList
from tradewire.model.enums import OrderSide
from tradewire.signals.dispatch import intent_from_json, intent_to_json
from tradewire.signals.idempotency import SqlIdempotencyStore


def test_accepting_an_alert_is_one_statement_and_one_commit(tv):
    h = tv.make()
    store = h.service._store
    conn = store._raw()  # this thread's connection (autocommit: each statement is its own transaction)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    assert h.post(tv.alert(alert_id="one")).status_code == 202
    assert len(statements) == 1 and statements[0].startswith("INSERT INTO webhook_idempotency")
    assert not conn.in_transaction  # committed by that one statement
    statements.clear()
    dup = h.post(tv.alert(alert_id="one"))  # a duplicate costs a second statement, on its own path only
    assert dup.status_code == 202 and dup.headers == {"Idempotent-Replay": "true"}
    assert [x.split()[0] for x in statements] == ["INSERT", "SELECT"]
    fresh = type(store)(store._path)  # another connection sees the committed entry at once
    assert fresh.get(dup.body["alert_key"]).status_code == 202


def test_intent_round_trips_through_its_stored_form(tv):
    h = tv.make()
    h.post(tv.alert(order_type="limit", price="60000", stop_loss="59000.5", take_profit="62000", alert_id="b"))
    intent = h.service._queue.get_nowait()
    assert intent_from_json(intent_to_json(intent)) == intent


def test_intent_accepted_before_a_crash_is_placed_after_the_restart(tv, tmp_path):
    h = tv.make()
    r = h.post(tv.alert(action="sell", quantity="0.02", alert_id="before-crash"))
    assert r.status_code == 202
    # the process dies here: the 202 was sent, the engine never drained the intent
    home = next(p for p in tmp_path.iterdir() if (p / "webhook.sqlite").exists())
    svc, commands = tv.restart(h, home, tv.T0_NS + 5 * 10**9)
    assert svc.recovered == 1
    assert svc.drain() == 1
    (cmd,) = commands
    assert isinstance(cmd, SubmitOrder)
    assert str(cmd.order.client_order_id) == r.body["client_order_ids"][0]  # the ids reserved the first time
    assert (cmd.order.side, cmd.order.quantity.raw) == (OrderSide.SELL, 20_000_000)  # 0.02 BTC at scale 1e9
    assert [x.outcome for x in svc.recent_alerts(5)] == ["submitted"]
    again, commands2 = tv.restart(h, home, tv.T0_NS + 6 * 10**9)  # handled once: a second restart places nothing
    assert again.recovered == 0 and again.drain() == 0 and commands2 == []
    dup = again.handle("tradingview", json.dumps(tv.alert(action="sell", quantity="0.02", alert_id="before-crash"))
                       .encode(), "application/json", None, {})  # fmt: skip
    assert dup.status_code == 202 and dup.body == r.body  # still idempotent


def test_a_bracket_is_recovered_as_the_same_order_list(tv, tmp_path):
    h = tv.make()
    r = h.post(tv.alert(order_type="limit", price="60000", stop_loss="59000", take_profit="62000", alert_id="b"))
    home = next(p for p in tmp_path.iterdir() if (p / "webhook.sqlite").exists())
    svc, commands = tv.restart(h, home, tv.T0_NS + 10**9)
    svc.drain()
    (cmd,) = commands
    assert isinstance(cmd, SubmitOrderList)
    assert [str(o.client_order_id) for o in cmd.orders] == r.body["client_order_ids"]


def test_a_stale_intent_is_not_placed_after_a_long_outage(tv, tmp_path):
    h = tv.make()
    assert h.post(tv.alert(alert_id="old")).status_code == 202
    home = next(p for p in tmp_path.iterdir() if (p / "webhook.sqlite").exists())
    svc, commands = tv.restart(h, home, tv.T0_NS + 600 * 10**9, recover_max_age_s=60)
    assert svc.recovered == 0 and svc.drain() == 0 and commands == []
    rec = svc.recent_alerts(1)[0]
    assert rec.outcome == "expired" and "600 s" in rec.reason
    again, _ = tv.restart(h, home, tv.T0_NS + 601 * 10**9, recover_max_age_s=60)
    assert again.recent_alerts(5) == []  # dropped once, not reported again


def test_drained_intents_are_marked_in_the_store(tv):
    h = tv.make()
    h.post(tv.alert(alert_id="a"))
    h.post(tv.alert(alert_id="b"))
    store = h.service._store
    assert len(store.undispatched()) == 2
    h.service.drain(1)
    assert len(store.undispatched()) == 1
    h.service.drain()
    assert store.undispatched() == []


def test_a_database_from_before_the_intent_columns_is_upgraded(tmp_path):
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE webhook_idempotency (key VARCHAR(128) PRIMARY KEY, source VARCHAR(64) NOT NULL, "
        "claimed_ns BIGINT NOT NULL, expires_ns BIGINT NOT NULL, status_code INTEGER, response TEXT)"
    )
    con.execute("INSERT INTO webhook_idempotency VALUES ('k', 'tv', 1, 100, 202, '{\"x\": 1}')")
    con.commit()
    con.close()
    st = SqlIdempotencyStore(path)
    assert st.claim("k", "tv", 2, 100).response == {"x": 1}  # old rows still answer duplicates
    assert st.undispatched() == []
    assert st.claim_accept("k2", "tv", 2, 100, 202, {"y": 2}, "{}") is None
    assert st.undispatched() == [("k2", "tv", 2, "{}")]


def test_alerts_arriving_together_share_one_commit_and_a_repeat_in_the_batch_is_a_duplicate(tv):
    import asyncio

    h = tv.make()
    store = h.service._store
    conn = store._raw()
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    bodies = [json.dumps(tv.alert(alert_id=a)).encode() for a in ("g1", "g2", "g1", "g3")]

    async def burst():
        return await asyncio.gather(
            *(h.service.handle_async("tradingview", b, "application/json", "52.89.214.238", {}) for b in bodies)
        )

    results = asyncio.run(burst())
    assert [r.status_code for r in results] == [202, 202, 202, 202]
    assert results[2].headers == {"Idempotent-Replay": "true"} and results[2].body == results[0].body
    assert len({r.body["client_order_ids"][0] for r in results}) == 3
    verbs = [x.split()[0] for x in statements]
    assert verbs.count("BEGIN") == 1 and verbs.count("COMMIT") == 1 and verbs.count("INSERT") == 4
    assert h.service.drain() == 3 and len(h.commands) == 3  # the repeat placed nothing
    assert len(store.undispatched()) == 0


def test_claim_accept_many_matches_claim_accept(tmp_path):
    st = SqlIdempotencyStore(tmp_path / "m.sqlite")
    assert st.claim_accept("k0", "tv", 1, 100, 202, {"n": 0}, "i0") is None
    res = st.claim_accept_many([("k1", "tv", 2, 100, 202, {"n": 1}, "i1"), ("k0", "tv", 2, 100, 202, {"n": 9}, "i9"),
                                ("k1", "tv", 2, 100, 202, {"n": 2}, "i2")])  # fmt: skip
    assert res[0] is None
    assert res[1].response == {"n": 0} and res[2].response == {"n": 1}
    assert [(k, i) for k, _, _, i in st.undispatched()] == [("k0", "i0"), ("k1", "i1")]
    assert st.claim_accept_many(
        [("k0", "tv", 100, 200, 202, {"n": 3}, "i3"), ("k2", "tv", 100, 200, 202, {}, "x")]
    ) == [
        None,
        None,
    ]  # k0 expired at 100: claimed again


def test_wal_checkpoints_run_in_the_background_not_in_a_claim(tmp_path):
    import time

    path = tmp_path / "c.sqlite"
    st = SqlIdempotencyStore(path, checkpoint_interval_s=0.05)
    assert st._raw().execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0  # never inside a commit
    before = path.stat().st_size
    for i in range(200):
        assert st.claim_accept(f"k{i}", "tv", 1, 10**18, 202, {"i": i}, "x" * 400) is None
    deadline = time.monotonic() + 5
    while path.stat().st_size <= before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.stat().st_size > before  # the rows reached the database file through the background checkpoint
    st.close()
    assert not st._checkpointer.is_alive()


def test_wal_restart_gives_up_on_a_reader_instead_of_holding_the_claims(tmp_path, monkeypatch):
    """Past the WAL limit the checkpoint thread's RESTART holds the claims while it waits for the readers of
    the old WAL: a reader that keeps its read transaction open holds them about 250 ms per round, not 30 s."""
    import time

    from tradewire.signals import idempotency

    monkeypatch.setattr(idempotency, "_WAL_MAX_PAGES", 16)
    path = tmp_path / "c.sqlite"
    st = SqlIdempotencyStore(path, checkpoint_interval_s=0.01)
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        for i in range(50):
            assert st.claim_accept(f"k{i}", "tv", 1, 10**18, 202, {"i": i}, "x" * 400) is None
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM webhook_idempotency").fetchone()[0] == 50  # holds its snapshot
        slowest = 0.0
        i = 50
        t_end = time.monotonic() + 1.5
        while time.monotonic() < t_end:
            t0 = time.monotonic()
            assert st.claim_accept(f"k{i}", "tv", 1, 10**18, 202, {"i": i}, "x" * 400) is None
            slowest = max(slowest, time.monotonic() - t0)
            i += 1
        assert slowest < 2.0  # bounded by the checkpoint connection's 250 ms wait (plus a slow machine)
        reader.execute("COMMIT")
    finally:
        reader.close()
        st.close()
