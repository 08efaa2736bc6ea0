import pytest

from tradewire.core import LiveClock, MessageBus, TestClock


def test_wildcards_order_and_priority():
    bus = MessageBus()
    got = []
    bus.subscribe("data.bars.*", lambda m: got.append(("a", m)))
    bus.subscribe("data.*.ES.CME-1-MINUTE-LAST", lambda m: got.append(("b", m)))
    bus.subscribe("data.bars.ES.CME-1-MINUTE-LAST", lambda m: got.append(("c", m)), priority=10)
    bus.subscribe("data.quotes.?S.CME", lambda m: got.append(("q", m)))
    bus.publish("data.bars.ES.CME-1-MINUTE-LAST", 1)
    bus.publish("data.quotes.ES.CME", 2)
    bus.publish("other", 3)
    assert got == [("c", 1), ("a", 1), ("b", 1), ("q", 2)]


def test_subscribe_idempotent_and_unsubscribe_invalidate_cache():
    bus = MessageBus()
    got = []
    bus.subscribe("x.*", got.append)
    bus.subscribe("x.*", got.append)
    bus.publish("x.1", 1)
    bus.unsubscribe("x.*", got.append)
    bus.publish("x.1", 2)
    assert got == [1]


def test_endpoints():
    bus = MessageBus()
    got = []
    bus.register("RiskEngine.execute", got.append)
    bus.send("RiskEngine.execute", "cmd")
    assert got == ["cmd"]
    with pytest.raises(KeyError, match="no endpoint"):
        bus.send("nope", 1)
    assert bus.endpoint("RiskEngine.execute") == got.append
    with pytest.raises(KeyError, match="no endpoint registered as 'nope'"):
        bus.endpoint("nope")


def test_test_clock_timers_and_alerts_fire_in_order():
    clock = TestClock(100)
    fired = []
    clock.set_timer("t", 10, lambda e: fired.append((e.name, e.ts_event, clock.timestamp_ns())), stop_ns=130)
    clock.set_time_alert("a", 115, lambda e: fired.append((e.name, e.ts_event, clock.timestamp_ns())))
    clock.advance_time(200)
    assert fired == [("t", 110, 110), ("a", 115, 115), ("t", 120, 120), ("t", 130, 130)]
    assert clock.timestamp_ns() == 200
    assert clock.timer_names == []
    with pytest.raises(ValueError, match="backwards"):
        clock.advance_time(100)


def test_timer_name_clash_and_cancel():
    clock = TestClock()
    clock.set_time_alert("a", 5, lambda e: None)
    with pytest.raises(ValueError, match="already set"):
        clock.set_time_alert("a", 6, lambda e: None)
    clock.cancel_timer("a")
    assert clock.advance_time(10) == []


def test_live_clock_is_utc_now():
    import time

    c = LiveClock()
    assert abs(c.timestamp_ns() - time.time_ns()) < 1_000_000_000
    assert c.utc_now().tzinfo is not None
