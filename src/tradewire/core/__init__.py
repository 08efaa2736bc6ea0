"""Engine core: message bus, clocks, id generation."""

from tradewire.core.bus import MessageBus
from tradewire.core.clock import Clock, LiveClock, TestClock, TimeEvent

__all__ = ["Clock", "LiveClock", "MessageBus", "TestClock", "TimeEvent"]
