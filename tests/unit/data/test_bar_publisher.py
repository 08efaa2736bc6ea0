"""DataEngine.process_bar / bar_publisher: same deliveries as MessageBus.publish, also when handlers change."""

from __future__ import annotations

from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import TestClock
from tradewire.data.engine import DataEngine
from tradewire.model import Bar, BarType, Price, Quantity

BT = BarType.from_str("ES.CME-1-MINUTE-LAST")
BT2 = BarType.from_str("NQ.CME-1-MINUTE-LAST")


def _bar(bt: BarType, i: int) -> Bar:
    p = Price.from_str(f"{100 + i}.25")
    return Bar(bt, p, p, p, p, Quantity(1, 0), i, i)


def _scenario(deliver) -> tuple[MessageBus, list[tuple[str, int]]]:
    """Handlers that subscribe and unsubscribe others while bars are being delivered."""
    bus = MessageBus()
    got: list[tuple[str, int]] = []

    def late(bar: Bar) -> None:
        got.append(("late", bar.ts_event))

    def first(bar: Bar) -> None:
        got.append(("first", bar.ts_event))
        if bar.ts_event == 1:
            bus.subscribe(f"data.bars.{BT}", late)  # from bar 2 on, never for bar 1
        if bar.ts_event == 3:
            bus.unsubscribe(f"data.bars.{BT}", late)  # bar 3 still reaches it (resolved before)
        if bar.ts_event == 4:
            bus.subscribe("data.bars.*", got_any)

    def got_any(bar: Bar) -> None:
        got.append(("any", bar.ts_event))

    bus.subscribe(f"data.bars.{BT}", first)
    for i in range(7):
        deliver(bus, _bar(BT, i))
    return bus, got


def test_process_bar_delivers_like_bus_publish():
    _, want = _scenario(lambda bus, bar: bus.publish(f"data.bars.{bar.bar_type}", bar))
    engines: list[DataEngine] = []

    def via_engine(bus: MessageBus, bar: Bar) -> None:
        if not engines:
            engines.append(DataEngine(bus, Cache(), TestClock(0)))
        engines[0].process_bar(bar)

    bus, got = _scenario(via_engine)
    assert got == want
    assert ("late", 1) not in got and ("late", 3) in got and ("late", 4) not in got and ("any", 5) in got
    engine = engines[0]
    assert engine.counts["bars"] == 7 and bus.pub_count == 7
    assert engine.cache.bars[BT.instrument_id].ts_event == 6


def test_bar_without_subscribers_is_cached_and_counted_not_published():
    bus = MessageBus()
    engine = DataEngine(bus, Cache(), TestClock(0))
    engine.process_bar(_bar(BT, 0))
    engine.process_bar(_bar(BT2, 1))
    assert bus.pub_count == 0 and engine.counts["bars"] == 2
    assert engine.cache.bars[BT2.instrument_id].ts_event == 1
    got: list[int] = []
    bus.subscribe(f"data.bars.{BT2}", lambda b: got.append(b.ts_event))
    engine.process_bar(_bar(BT, 2))  # alternating bar types reuse each type's publisher
    engine.process_bar(_bar(BT2, 3))
    assert got == [3] and bus.pub_count == 1


def test_quality_observer_sees_every_bar_first():
    seen: list[str] = []
    bus = MessageBus()
    engine = DataEngine(bus, Cache(), TestClock(0), quality_monitor=lambda b: seen.append(f"q{b.ts_event}"))
    bus.subscribe(f"data.bars.{BT}", lambda b: seen.append(f"h{b.ts_event}"))
    publish = engine.bar_publisher(BT)
    publish(_bar(BT, 0))
    engine.process_bar(_bar(BT, 1))
    assert seen == ["q0", "h0", "q1", "h1"]
