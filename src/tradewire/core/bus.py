"""`MessageBus`: synchronous topic publish/subscribe with wildcards.

Topics are dot- or colon-separated strings such as ``data.quotes.BTCUSDT.BINANCE`` or
``events.order.sma-001``. A subscription pattern may use ``*`` (any run of characters) and ``?``
(one character), matched with :func:`fnmatch.fnmatchcase`. Handlers run in the publishing thread,
in subscription order (then by ``priority``, higher first), so a backtest is deterministic.
The resolved handler list per topic is cached and rebuilt only when subscriptions change;
:attr:`MessageBus.version` counts those changes, so a hot path may keep a topic's handler tuple and
re-read it only when the version moved.
"""

from __future__ import annotations

from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any

Handler = Callable[[Any], None]


class MessageBus:
    """Publish/subscribe by topic; also a point-to-point endpoint registry.

    Attributes
    ----------
    version : int
        Number of subscription changes so far (subscribe or unsubscribe calls). A caller that keeps the
        tuple returned by :meth:`handlers` must read it again once ``version`` differs from the value it
        saw then.
    pub_count : int
        Messages published so far.

    Examples
    --------
    >>> bus = MessageBus()
    >>> got = []
    >>> bus.subscribe("data.bars.*", got.append)
    >>> bus.publish("data.bars.ES.CME", 1)
    >>> got
    [1]
    """

    __slots__ = ("_cache", "_endpoints", "_seq", "_subs", "pub_count", "version")

    def __init__(self) -> None:
        self._subs: list[tuple[str, Handler, int, int]] = []  # (pattern, handler, priority, seq)
        self._cache: dict[str, tuple[Handler, ...]] = {}
        self._endpoints: dict[str, Handler] = {}
        self._seq = 0
        self.pub_count = 0
        self.version = 0  # bumped on every subscription change: handler tuples read before are stale

    def subscribe(self, pattern: str, handler: Handler, priority: int = 0) -> None:
        """Subscribe ``handler`` to topics matching ``pattern`` (idempotent for the same pair)."""
        if not pattern:
            raise ValueError("empty topic pattern")
        for p, h, _, _ in self._subs:
            if p == pattern and h == handler:
                return
        self._seq += 1
        self._subs.append((pattern, handler, priority, self._seq))
        self._subs.sort(key=lambda s: (-s[2], s[3]))
        self._cache.clear()
        self.version += 1

    def unsubscribe(self, pattern: str, handler: Handler) -> None:
        """Remove a subscription (no error if absent)."""
        self._subs = [s for s in self._subs if not (s[0] == pattern and s[1] == handler)]
        self._cache.clear()
        self.version += 1

    def handlers(self, topic: str) -> tuple[Handler, ...]:
        """Handlers that a publish on ``topic`` would call, in call order."""
        hs = self._cache.get(topic)
        if hs is None:
            hs = tuple(h for p, h, _, _ in self._subs if p == topic or fnmatchcase(topic, p))
            self._cache[topic] = hs
        return hs

    def publish(self, topic: str, msg: Any) -> None:
        """Deliver ``msg`` to every handler subscribed to a pattern matching ``topic``."""
        self.pub_count += 1
        hs = self._cache.get(topic)
        if hs is None:
            hs = self.handlers(topic)
        for h in hs:
            h(msg)

    def has_subscribers(self, topic: str) -> bool:
        """True if a publish on ``topic`` reaches anyone."""
        return bool(self.handlers(topic))

    def register(self, endpoint: str, handler: Handler) -> None:
        """Register a point-to-point endpoint (e.g. ``"RiskEngine.execute"``)."""
        self._endpoints[endpoint] = handler

    def endpoint(self, endpoint: str) -> Handler:
        """The handler registered as ``endpoint``; raises KeyError if none."""
        try:
            return self._endpoints[endpoint]
        except KeyError:
            raise KeyError(f"no endpoint registered as {endpoint!r}") from None

    def send(self, endpoint: str, msg: Any) -> None:
        """Send ``msg`` to a registered endpoint; raises KeyError if none."""
        try:
            h = self._endpoints[endpoint]
        except KeyError:
            raise KeyError(f"no endpoint registered as {endpoint!r}") from None
        h(msg)

    @property
    def subscriptions(self) -> list[str]:
        """All subscribed patterns."""
        return [p for p, _, _, _ in self._subs]
