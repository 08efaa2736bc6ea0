"""MessageBus.version moves with every subscription change, so cached handler tuples can be refreshed."""

from __future__ import annotations

from tradewire.core.bus import MessageBus


def test_version_counts_subscription_changes_only():
    bus = MessageBus()
    v0 = bus.version
    a: list[int] = []
    bus.subscribe("x.*", a.append)
    assert bus.version == v0 + 1
    bus.subscribe("x.*", a.append)  # already there: nothing changed
    assert bus.version == v0 + 1
    hs = bus.handlers("x.1")
    bus.publish("x.1", 1)
    bus.register("E", a.append)
    bus.send("E", 2)
    assert bus.version == v0 + 1 and bus.handlers("x.1") == hs  # publish/send/register change nothing
    bus.unsubscribe("x.*", a.append)
    assert bus.version == v0 + 2 and bus.handlers("x.1") == ()
    assert a == [1, 2]
