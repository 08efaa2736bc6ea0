"""WebSocket fan-out: engine pushes in, one bounded queue per client out.

Protocol (JSON text frames). Client to server::

    {"type": "subscribe", "topics": ["orders", "fills", "book:BTCUSDT.BINANCE"]}
    {"type": "unsubscribe", "topics": ["fills"]}
    {"type": "ping"}

Server to client, every message carrying ``seq`` (1, 2, 3 ... per connection, no gaps)::

    {"seq": 1, "type": "subscribed", "topics": [...]}
    {"seq": 2, "type": "snapshot", "topic": "orders", "data": [...]}      # after each (re)subscribe
    {"seq": 3, "type": "update", "topic": "orders", "data": {...}}
    {"seq": 9, "type": "error", "message": "..."}

Topics: ``orders``, ``fills``, ``positions``, ``account``, ``engine``, ``risk``, ``alerts``, ``connections``,
``book:{instrument_id}``, ``bars:{instrument_id}``, ``orderflow:{instrument_id}``. ``update`` data: one
order/fill/alert row or one bar; for the others the whole current state (see :mod:`tradewire.node.live`).

Back-pressure: each client has a queue of at most ``max_queue`` messages. When an update does not fit,
the queue is dropped and replaced by one ``snapshot`` per subscribed topic (``"resync": true``), so a
slow client gets the current state instead of an unbounded backlog, and the server's memory stays
bounded. The engine thread never waits on a client: it appends to an inbox and wakes the event loop
(``loop.call_soon_threadsafe``) once per batch.

Coalescing: ``book:`` and ``orderflow:`` updates carry the whole current state (ladder, order-flow
snapshot), so a newer one makes an unsent older one useless. While a client still has an unsent update
of such a topic queued, a newer one replaces it in place (latest wins); a client that reads slower than
the book changes gets fewer, fresher ladders instead of a growing lag. Rows (orders, fills, alerts, bars)
are never coalesced. ``seq`` is assigned when a message is sent, so it stays gapless.

Cost: each update is encoded once (orjson) and the same text goes to every subscriber; only the
``{"seq":N,`` prefix is per client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import deque
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from tradewire.node.views import Ladder

BASE_TOPICS = ("orders", "fills", "positions", "account", "engine", "risk", "alerts", "connections")
PREFIX_TOPICS = ("book:", "bars:", "orderflow:")
COALESCE_PREFIXES = ("book:", "orderflow:")
_OPTS = orjson.OPT_NON_STR_KEYS


def _dumps(obj: Any) -> str:
    """Compact JSON text (orjson; dict keys that are not strings are written as strings, like ``json``)."""
    return orjson.dumps(obj, option=_OPTS).decode()


class ClientConn:
    """One WebSocket client: its topics, sequence counter and bounded outgoing queue.

    The queue holds message bodies (JSON text without ``seq``) or, for a coalesced topic, a two-item list
    ``[topic, body]`` whose body a newer update of the topic replaces while it waits (see module docstring).
    """

    __slots__ = ("coalesced", "event", "hub", "id", "latest", "max_queue", "queue", "resyncs", "sent", "seq",
                 "topics", "ws")  # fmt: skip

    def __init__(self, hub: Hub, ws: WebSocket, cid: int, max_queue: int) -> None:
        self.hub = hub
        self.ws = ws
        self.id = cid
        self.max_queue = max_queue
        self.queue: deque[str | list[str]] = deque()
        self.latest: dict[str, list[str]] = {}  # coalesced topic -> its queued, unsent slot
        self.event = asyncio.Event()
        self.topics: set[str] = set()
        self.seq = 0
        self.sent = 0
        self.resyncs = 0
        self.coalesced = 0

    def offer(self, body: str, topic: str | None = None, ts_init: int | None = None) -> None:
        """Queue a message body (without ``seq``); resync with snapshots when the queue is full.

        Parameters
        ----------
        body : str
            JSON object text.
        topic : str | None
            Topic of an ``update``; a ``book:`` update replaces an unsent one of the same topic.
        ts_init : int | None
            Wall-clock ns the update's data was received (a ladder's ``ts_init``; in a replay, when it was due), to
            measure the send lag. Not the venue's ``ts_event``: venue clocks differ from ours (the bundled
            Binance recording's event times run 1.27 s ahead of its receive times).
        """
        if topic is not None and topic.startswith(COALESCE_PREFIXES):
            slot = self.latest.get(topic)
            if slot is not None:
                slot[1] = body
                slot[2] = ts_init
                self.coalesced += 1
                self.hub.coalesced += 1
                return
            if len(self.queue) < self.max_queue:
                slot = [topic, body, ts_init]
                self.latest[topic] = slot
                self.queue.append(slot)
                self.event.set()
                return
        if len(self.queue) >= self.max_queue:
            self.queue.clear()
            self.latest.clear()
            self.resyncs += 1
            self.hub.snapshots_sent += len(self.topics)
            for t in sorted(self.topics):
                self.queue.append(self.hub.snapshot_body(t, resync=True))
        else:
            self.queue.append(body)
        self.event.set()

    async def sender(self) -> None:
        """Send queued messages in order, numbering them."""
        send = self.ws.send_text
        hub = self.hub
        q = self.queue
        latest = self.latest
        while True:
            await self.event.wait()
            self.event.clear()
            while q:
                item = q.popleft()
                ts = None
                if type(item) is list:
                    del latest[item[0]]
                    item, ts = item[1], item[2]
                self.seq += 1
                await send(f'{{"seq":{self.seq},{item[1:]}')
                if ts is not None:
                    hub.book_send_lag_ns.append(time.time_ns() - ts)
                self.sent += 1
                hub.messages_sent += 1


class Hub:
    """Fan-out of node pushes to WebSocket clients.

    Parameters
    ----------
    node : object
        Has ``add_listener(fn)``, ``remove_listener(fn)``, ``view(topic)`` and ``instruments()``.
    max_queue : int
        Per-client queue bound (messages).
    """

    def __init__(self, node: Any, max_queue: int = 1000) -> None:
        self.node = node
        self.max_queue = max_queue
        self.clients: dict[int, ClientConn] = {}
        self._subs: dict[str, set[ClientConn]] = {}
        self._inbox: deque[tuple[str, Any]] = deque()
        self._scheduled = False
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._next_id = 0
        self.messages_in = 0
        self.messages_sent = 0
        self.snapshots_sent = 0
        self.coalesced = 0
        self.book_send_lag_ns: deque[int] = deque(maxlen=20_000)  # socket write time minus ladder ts_init
        self._instruments = {i["instrument_id"] for i in node.instruments()}

    # -- engine side (any thread) -------------------------------------------------------------
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start receiving node pushes on ``loop``."""
        self._loop = loop
        self.node.add_listener(self.on_push)

    def stop(self) -> None:
        """Stop receiving pushes."""
        self.node.remove_listener(self.on_push)
        self._loop = None

    def on_push(self, topic: str, update: Any) -> None:
        """Node listener (engine thread): queue and wake the event loop once per batch."""
        if topic not in self._subs:
            return
        self._inbox.append((topic, update))
        with self._lock:
            if self._scheduled or self._loop is None:
                return
            self._scheduled = True
        with contextlib.suppress(RuntimeError):  # loop closed during shutdown
            self._loop.call_soon_threadsafe(self._flush)

    @property
    def inbox_depth(self) -> int:
        """Updates waiting for the event loop."""
        return len(self._inbox)

    def _flush(self) -> None:
        with self._lock:
            self._scheduled = False
        inbox = self._inbox
        batch = []
        while inbox:
            batch.append(inbox.popleft())
        self.messages_in += len(batch)
        last: dict[str, int] = {}  # coalesced topic -> index of its newest update in this batch
        for i, (topic, _) in enumerate(batch):
            if topic.startswith(COALESCE_PREFIXES):
                last[topic] = i
        for i, (topic, update) in enumerate(batch):
            subs = self._subs.get(topic)
            if not subs:
                continue
            if last.get(topic, i) != i:  # a newer ladder of this topic follows in the batch: latest wins
                self.coalesced += len(subs)
                continue
            ts_init = None
            if type(update) is Ladder:  # formatted here, and only when it is sent
                ts_init = update.ts_init
                update = update.to_dict()
            body = _dumps({"type": "update", "topic": topic, "data": update})  # once for all subscribers
            for c in tuple(subs):
                c.offer(body, topic, ts_init)

    # -- client side (event loop) ---------------------------------------------------------------
    def valid_topic(self, topic: str) -> bool:
        """True for a base topic or ``book:``/``bars:``/``orderflow:`` of a known instrument."""
        if topic in BASE_TOPICS:
            return True
        return topic.startswith(PREFIX_TOPICS) and topic.split(":", 1)[1] in self._instruments

    def snapshot_body(self, topic: str, resync: bool = False) -> str:
        """A ``snapshot`` message body for ``topic`` from the node's current view."""
        msg: dict[str, Any] = {"type": "snapshot", "topic": topic, "data": self.node.view(topic)}
        if resync:
            msg["resync"] = True
        return _dumps(msg)

    def max_client_queue(self) -> int:
        """Longest client queue now."""
        return max((len(c.queue) for c in self.clients.values()), default=0)

    def _subscribe(self, c: ClientConn, topics: list[str]) -> None:
        bad = [t for t in topics if not self.valid_topic(t)]
        if bad:
            c.offer(_dumps({"type": "error", "message": f"unknown topics: {', '.join(map(str, bad))}"}))
        good = [t for t in topics if t not in bad]
        for t in good:
            c.topics.add(t)
            self._subs.setdefault(t, set()).add(c)
        c.offer(_dumps({"type": "subscribed", "topics": sorted(c.topics)}))
        for t in good:  # after registering: a later update is at worst a repeat of the snapshot's content
            c.offer(self.snapshot_body(t))
        self.snapshots_sent += len(good)

    def _unsubscribe(self, c: ClientConn, topics: list[str]) -> None:
        for t in topics:
            c.topics.discard(t)
            s = self._subs.get(t)
            if s is not None:
                s.discard(c)
                if not s:
                    del self._subs[t]

    async def serve(self, ws: WebSocket) -> None:
        """Run one accepted connection until it closes."""
        self._next_id += 1
        c = ClientConn(self, ws, self._next_id, self.max_queue)
        self.clients[c.id] = c
        sender = asyncio.create_task(c.sender())
        try:
            while True:
                raw = await ws.receive_text()
                try:
                    msg = json.loads(raw)
                    kind = msg.get("type")
                    topics = msg.get("topics", [])
                    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
                        raise ValueError("topics must be a list of strings")
                except (ValueError, AttributeError) as exc:
                    c.offer(_dumps({"type": "error", "message": f"bad message: {exc}"}))
                    continue
                if kind == "subscribe":
                    self._subscribe(c, topics)
                elif kind == "unsubscribe":
                    self._unsubscribe(c, topics)
                    c.offer(_dumps({"type": "subscribed", "topics": sorted(c.topics)}))
                elif kind == "ping":
                    c.offer(_dumps({"type": "pong"}))
                else:
                    c.offer(_dumps({"type": "error", "message": f"unknown message type {kind!r}"}))
                if sender.done():
                    break
        except WebSocketDisconnect:
            pass
        finally:
            sender.cancel()
            self._unsubscribe(c, list(c.topics))
            self.clients.pop(c.id, None)
