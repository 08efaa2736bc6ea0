"""Hub fan-out: one encoding per update for all clients, latest-wins for unsent book ladders, gapless seq."""

from __future__ import annotations

import asyncio
import json

from tradewire.api.hub import ClientConn, Hub
from tradewire.api.routes import EncodedViews

BOOK = "book:BTCUSDT.BINANCE"


class _Node:
    def __init__(self):
        self.views = {"orders": [], BOOK: {"sequence": 0}}

    def view(self, topic):
        return self.views.get(topic)

    def instruments(self):
        return [{"instrument_id": "BTCUSDT.BINANCE"}]

    def add_listener(self, fn):
        pass

    def remove_listener(self, fn):
        pass


class _Ws:
    def __init__(self):
        self.sent: list[str] = []

    async def send_text(self, text):
        self.sent.append(text)


def _client(hub, cid, topics, max_queue=100):
    c = ClientConn(hub, ws=_Ws(), cid=cid, max_queue=max_queue)
    c.topics = set(topics)
    for t in topics:
        hub._subs.setdefault(t, set()).add(c)
    hub.clients[cid] = c
    return c


async def _drain(c):
    task = asyncio.create_task(c.sender())
    for _ in range(5):
        await asyncio.sleep(0)
    task.cancel()
    return [json.loads(x) for x in c.ws.sent]


def test_unsent_book_ladders_are_replaced_by_the_newest_but_rows_are_all_kept():
    async def go():
        hub = Hub(_Node())
        c = _client(hub, 1, [BOOK, "orders"])
        for i in range(1, 4):
            hub.on_push(BOOK, {"sequence": i})
            hub.on_push("orders", {"i": i})
        hub._flush()  # one event-loop wake-up for the whole batch
        msgs = await _drain(c)
        assert [m["seq"] for m in msgs] == [1, 2, 3, 4]
        books = [m["data"]["sequence"] for m in msgs if m["topic"] == BOOK]
        assert books == [3]  # only the newest ladder of the batch
        assert [m["data"]["i"] for m in msgs if m["topic"] == "orders"] == [1, 2, 3]
        assert hub.coalesced == 2

    asyncio.run(go())


def test_a_ladder_queued_behind_a_slow_send_is_updated_in_place():
    async def go():
        hub = Hub(_Node())
        c = _client(hub, 1, [BOOK, "orders"])
        hub.on_push("orders", {"i": 1})
        hub.on_push(BOOK, {"sequence": 1})
        hub._flush()
        hub.on_push(BOOK, {"sequence": 2})  # a later batch while the first ladder is still queued
        hub._flush()
        assert len(c.queue) == 2 and c.coalesced == 1
        msgs = await _drain(c)
        assert [(m["seq"], m["topic"]) for m in msgs] == [(1, "orders"), (2, BOOK)]
        assert msgs[1]["data"] == {"sequence": 2}
        hub.on_push(BOOK, {"sequence": 3})  # after the send: queued again, not lost
        hub._flush()
        msgs = await _drain(c)
        assert msgs[-1]["seq"] == 3 and msgs[-1]["data"] == {"sequence": 3}

    asyncio.run(go())


def test_every_subscriber_gets_the_same_encoded_body():
    async def go():
        hub = Hub(_Node())
        clients = [_client(hub, i, [BOOK]) for i in range(3)]
        hub.on_push(BOOK, {"sequence": 5, "bids": [["60000.00", "0.1"]]})
        hub._flush()
        bodies = [c.queue[0][1] for c in clients]
        assert all(b is bodies[0] for b in bodies)  # one object: encoded once
        assert json.loads(bodies[0]) == {"type": "update", "topic": BOOK,
                                         "data": {"sequence": 5, "bids": [["60000.00", "0.1"]]}}  # fmt: skip

    asyncio.run(go())


def test_overflow_resync_clears_coalescing_slots():
    async def go():
        hub = Hub(_Node())
        c = _client(hub, 1, [BOOK, "orders"], max_queue=2)
        hub.on_push(BOOK, {"sequence": 1})
        hub.on_push("orders", {"i": 1})
        hub.on_push("orders", {"i": 2})  # queue full: resync snapshots replace the backlog
        hub._flush()
        assert c.resyncs == 1 and c.latest == {}
        msgs = await _drain(c)
        assert [(m["type"], m["topic"], m.get("resync")) for m in msgs] == [
            ("snapshot", BOOK, True),
            ("snapshot", "orders", True),
        ]

    asyncio.run(go())


def test_encoded_views_reencode_only_a_new_view_object():
    enc = EncodedViews()
    view = [{"position_id": "P-1", "quantity": "0.01"}]
    r1 = enc.response("positions", view)
    r2 = enc.response("positions", view)
    assert r1.body == r2.body and json.loads(r1.body) == view and enc.encodes == 1
    view2 = [*view, {"position_id": "P-2", "quantity": "0.02"}]
    assert json.loads(enc.response("positions", view2).body) == view2 and enc.encodes == 2
    assert r1.media_type == "application/json"


def test_book_send_lag_counts_from_when_the_data_arrived_not_the_venue_clock():
    """A venue's clock differs from ours (the bundled Binance recording's event times run 1.27 s ahead of its
    receive times): the send lag of a ladder is measured from its ``ts_init``."""
    import time

    from tradewire.node.views import Ladder

    class _Book:
        instrument_id = "BTCUSDT.BINANCE"
        sequence = 1
        price_precision = 2
        size_precision = 5

        def bids_raw(self, n):
            return []

        def asks_raw(self, n):
            return []

    async def go():
        hub = Hub(_Node())
        c = _client(hub, 1, [BOOK])
        book = _Book()
        now = time.time_ns()
        book.ts_init = now - 3_000_000  # arrived 3 ms ago
        book.ts_event = now + 1_270_000_000  # the venue's clock, 1.27 s ahead
        hub.on_push(BOOK, Ladder(book, 5))
        hub._flush()
        msgs = await _drain(c)
        assert msgs[0]["data"]["ts_init"] == book.ts_init and msgs[0]["data"]["ts_event"] == book.ts_event
        (lag,) = hub.book_send_lag_ns
        assert 3_000_000 <= lag < 1_000_000_000

    asyncio.run(go())
