"""``recover_node`` and the durable paper venue, one crash window at a time, in process.

Each test runs a node (real Kernel, RiskEngine, ExecutionEngine, Portfolio, PaperExecutionClient) on
real Binance BTCUSDT quotes from the bundled capture, cuts one message path to reproduce what a crash
at that moment leaves behind (the store without the venue's answer, the venue without the order, ...),
then starts a second node on the same store and venue journal and checks what recovery did.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tradewire.core.clock import TestClock
from tradewire.execution.factory import OrderFactory
from tradewire.model import ClientOrderId, OrderSide, OrderStatus, Price, Quantity, StrategyId
from tradewire.model.commands import CancelOrder, ModifyOrder, SubmitOrder
from tradewire.model.events import OrderInitialized
from tradewire.node.kernel import Kernel, VenueConfig
from tradewire.node.recovery import recover_node
from tradewire.persistence import open_store
from tradewire.persistence.recovery import recover
from tradewire.venues.paper.durable import DurablePaperVenue, VenueJournalError, read_journal

sys.path.insert(0, str(Path(__file__).parent))
import crash_node

INST = crash_node.INST
SID = StrategyId("S-001")
RECORDS = crash_node.load_records(400)
QUOTES = [r for r in RECORDS if type(r).__name__ == "QuoteTick"]


class Node:
    """One node process: kernel + store + journaled venue, recovered on construction."""

    def __init__(self, tmp: Path, tag: str, start_ns: int, **recover_kw) -> None:
        self.tmp = tmp
        self.clock = TestClock(start_ns)
        self.kernel = Kernel(self.clock, "T-001")
        self.kernel.add_instrument(INST)
        self.kernel.add_venue(VenueConfig("BINANCE", list(crash_node.BALANCES)))
        self.client = self.kernel.venues[INST.id.venue]
        self.store = open_store(f"sqlite:///{tmp / 'node.db'}", flush_interval_ms=1)
        self.factory = OrderFactory(SID, self.clock, id_prefix=tag)
        self.result = recover_node(self.kernel, self.store, tmp / "state", fsync=False, **recover_kw)
        self.venue: DurablePaperVenue = self.result.venues[INST.id.venue]

    def feed(self, quotes) -> None:
        for q in quotes:
            ts = max(self.clock.timestamp_ns() + 1, q.ts_init)
            self.clock.advance_time(ts)
            self.kernel.process(crash_node.shifted(q, ts - q.ts_init))

    def send(self, cmd) -> None:
        self.kernel.bus.send("RiskEngine.execute", cmd)

    def submit(self, order) -> None:
        self.send(SubmitOrder(SID, INST.id, self.clock.timestamp_ns(), order))

    def market(self, side=OrderSide.BUY, qty="0.01"):
        order = self.factory.market(INST.id, side, Quantity(qty, INST.size_precision))
        self.submit(order)
        return order

    def resting_limit(self, qty="0.01"):
        bid = self.kernel.cache.quotes[INST.id].bid_price
        px = Price.from_raw(bid.raw - 500 * INST.tick_size.raw, INST.price_precision)  # 5 USDT below the bid
        order = self.factory.limit(INST.id, OrderSide.BUY, Quantity(qty, INST.size_precision), px)
        self.submit(order)
        return order

    def crash(self) -> None:
        """Stop as a SIGKILL would, except that records already handed to the store are committed."""
        self.store.close()

    def close(self) -> None:
        self.venue.close()
        self.store.close()

    def order(self, coid) -> object:
        return self.kernel.cache.orders[ClientOrderId(str(coid))]


@pytest.fixture
def t0() -> int:
    return QUOTES[0].ts_init


def _store_state(tmp: Path):
    store = open_store(f"sqlite:///{tmp / 'node.db'}")
    try:
        return recover(store, {INST.id: INST}), [e.record for e in store.read(kinds=["ReconciliationDiscrepancy"])]
    finally:
        store.close()


def test_clean_restart_restores_orders_positions_and_balances(tmp_path, t0):
    a = Node(tmp_path, "A", t0)
    assert a.result.is_clean and not a.result.venue_restored[INST.id.venue]
    a.feed(QUOTES[:5])
    filled = a.market(qty="0.02")
    resting = a.resting_limit()
    a.feed(QUOTES[5:10])
    net, usdt = a.kernel.portfolio.net_position_raw(INST.id), a.kernel.portfolio.balance_total(crash_node.USDT)
    assert a.order(filled.client_order_id).status is OrderStatus.FILLED and net == Quantity("0.02", 5).raw
    a.close()

    b = Node(tmp_path, "B", a.clock.timestamp_ns() + 1)
    assert b.result.is_clean, b.result.discrepancies
    assert b.result.venue_restored[INST.id.venue] and b.result.orders_restored == 2
    assert b.order(resting.client_order_id).status is OrderStatus.ACCEPTED
    assert b.kernel.portfolio.net_position_raw(INST.id) == net
    assert b.kernel.portfolio.balance_total(crash_node.USDT) == usdt
    # the restored resting order is still working at the restored venue: cancel it there
    b.send(CancelOrder(SID, INST.id, b.clock.timestamp_ns(), resting.client_order_id))
    assert b.order(resting.client_order_id).status is OrderStatus.CANCELED
    b.close()


def test_fill_the_store_lost_is_inferred_exactly_once(tmp_path, t0):
    a = Node(tmp_path, "A", t0)
    a.feed(QUOTES[:5])
    a.venue._downstream = lambda ev: None  # crash after the venue persisted, before its answer was recorded
    order = a.market(qty="0.03")
    a.crash()

    b = Node(tmp_path, "B", a.clock.timestamp_ns() + 1)
    kinds = b.result.by_kind()
    assert kinds == {"missing_fill/applied": 1}, kinds
    assert b.result.inferred_fills == 1 and not b.result.resubmitted
    assert b.order(order.client_order_id).status is OrderStatus.FILLED
    assert b.kernel.portfolio.net_position_raw(INST.id) == Quantity("0.03", 5).raw
    b.close()

    c = Node(tmp_path, "C", b.clock.timestamp_ns() + 1)  # a second restart finds nothing more to do
    assert c.result.is_clean, c.result.discrepancies
    c.close()
    state, _ = _store_state(tmp_path)
    assert len(state.fill_keys) == 1 and state.net_qty_raw(INST.id) == Quantity("0.03", 5).raw


def test_order_the_venue_never_received_is_resent_with_the_same_id(tmp_path, t0):
    a = Node(tmp_path, "A", t0)
    a.feed(QUOTES[:5])
    a.client.submit_order = lambda order: None  # crash after OrderSubmitted was recorded, before the venue got it
    order = a.market(side=OrderSide.SELL, qty="0.01")
    assert a.order(order.client_order_id).status is OrderStatus.SUBMITTED
    a.crash()

    b = Node(tmp_path, "B", a.clock.timestamp_ns() + 1)
    assert b.result.by_kind() == {"not_sent/resubmit": 1}
    assert b.result.resubmitted == [order.client_order_id]
    b.feed(QUOTES[5:8])  # the venue has no quote after its restart: the market order fills on the next one
    assert b.order(order.client_order_id).status is OrderStatus.FILLED
    assert b.venue.received[str(order.client_order_id)] == 1 and not b.venue.duplicates
    b.close()


def test_stale_order_never_received_is_rejected_not_resent(tmp_path, t0):
    a = Node(tmp_path, "A", t0)
    a.feed(QUOTES[:5])
    a.client.submit_order = lambda order: None
    order = a.market()
    a.crash()

    b = Node(tmp_path, "B", a.clock.timestamp_ns() + 120 * 10**9, max_resubmit_age_ns=60 * 10**9)
    assert b.result.by_kind() == {"not_sent/rejected_stale": 1} and not b.result.resubmitted
    assert b.order(order.client_order_id).status is OrderStatus.REJECTED
    assert str(order.client_order_id) not in b.venue.received
    b.close()


def test_order_initialized_but_never_submitted_is_submitted(tmp_path, t0):
    a = Node(tmp_path, "A", t0)
    a.feed(QUOTES[:5])
    order = a.factory.market(INST.id, OrderSide.BUY, Quantity("0.01", 5))
    a.store.append(order.init, durable=True)  # the OMS stored it; the crash came before OrderSubmitted
    a.crash()

    b = Node(tmp_path, "B", a.clock.timestamp_ns() + 1)
    assert b.result.by_kind() == {"not_submitted/submitted": 1} and b.result.submitted == [order.client_order_id]
    b.feed(QUOTES[5:8])
    assert b.order(order.client_order_id).status is OrderStatus.FILLED
    b.close()
    state, _ = _store_state(tmp_path)
    kinds = [type(e).__name__ for e in state.orders[order.client_order_id].events]
    assert kinds[:3] == ["OrderInitialized", "OrderSubmitted", "OrderAccepted"] and kinds[-1] == "OrderFilled"


def test_cancel_in_flight_is_sent_again(tmp_path, t0):
    a = Node(tmp_path, "A", t0)
    a.feed(QUOTES[:5])
    order = a.resting_limit()
    assert a.order(order.client_order_id).status is OrderStatus.ACCEPTED
    a.client.cancel_order = lambda order: None  # OrderPendingCancel recorded, the venue never got the cancel
    a.send(CancelOrder(SID, INST.id, a.clock.timestamp_ns(), order.client_order_id))
    assert a.order(order.client_order_id).status is OrderStatus.PENDING_CANCEL
    a.crash()

    b = Node(tmp_path, "B", a.clock.timestamp_ns() + 1)
    assert b.result.by_kind() == {"cancel_not_received/resend": 1}
    assert b.result.cancels_resent == [order.client_order_id]
    assert b.order(order.client_order_id).status is OrderStatus.CANCELED
    b.close()


def test_modify_in_flight_is_rejected_or_applied_as_the_venue_shows(tmp_path, t0):
    a = Node(tmp_path, "A", t0)
    a.feed(QUOTES[:5])
    lost = a.resting_limit()
    applied = a.resting_limit()
    real_modify = a.client.modify_order
    a.client.modify_order = lambda order, *args: None  # the venue never got this modify
    a.send(ModifyOrder(SID, INST.id, a.clock.timestamp_ns(), lost.client_order_id, Quantity("0.02", 5)))
    a.client.modify_order = real_modify
    a.venue._downstream = lambda ev: None  # this one was applied, its OrderUpdated lost
    a.send(ModifyOrder(SID, INST.id, a.clock.timestamp_ns(), applied.client_order_id, Quantity("0.03", 5)))
    assert a.order(applied.client_order_id).status is OrderStatus.PENDING_UPDATE
    a.crash()

    b = Node(tmp_path, "B", a.clock.timestamp_ns() + 1)
    assert b.result.by_kind() == {"modify_in_flight/rejected": 1, "modify_in_flight/applied": 1}
    o1, o2 = b.order(lost.client_order_id), b.order(applied.client_order_id)
    assert (o1.status, o1.quantity) == (OrderStatus.ACCEPTED, Quantity("0.01", 5))
    assert (o2.status, o2.quantity) == (OrderStatus.ACCEPTED, Quantity("0.03", 5))
    b.close()


def test_order_the_venue_rejected_is_closed_not_resent(tmp_path, t0):
    a = Node(tmp_path, "A", t0)
    a.feed(QUOTES[:5])
    ask = a.kernel.cache.quotes[INST.id].ask_price
    order = a.factory.limit(INST.id, OrderSide.BUY, Quantity("0.01", 5), ask, post_only=True)  # would take
    a.venue._downstream = lambda ev: None  # the rejection was never recorded
    a.submit(order)
    a.crash()

    b = Node(tmp_path, "B", a.clock.timestamp_ns() + 1)
    assert b.result.by_kind() == {"order_status/applied": 1} and not b.result.resubmitted
    assert b.order(order.client_order_id).status is OrderStatus.REJECTED
    assert not b.venue.duplicates
    b.close()


def test_order_submitted_is_durable_before_the_venue_gets_the_order(tmp_path, t0):
    a = Node(tmp_path, "A", t0)
    a.feed(QUOTES[:5])
    seen: list[list[str]] = []
    real_submit = a.client.submit_order

    def submit(order):  # what another process reading the database sees at this moment
        probe = open_store(f"sqlite:///{tmp_path / 'node.db'}", migrate=False)
        try:
            seen.append([e.kind for e in probe.read(client_order_id=str(order.client_order_id))])
        finally:
            probe.close()
        real_submit(order)

    a.client.submit_order = submit
    order = a.market()
    assert seen == [["OrderInitialized", "OrderSubmitted"]]
    assert a.order(order.client_order_id).status is OrderStatus.FILLED
    a.close()


# -- the venue journal -----------------------------------------------------------------------------
def _traded_venue(tmp_path, t0) -> Node:
    a = Node(tmp_path, "A", t0)
    a.feed(QUOTES[:5])
    a.market(qty="0.02")
    a.resting_limit()
    a.market(side=OrderSide.SELL, qty="0.01")
    a.feed(QUOTES[5:20])
    return a


def _comparable(snapshot: dict) -> dict:
    return {k: v for k, v in snapshot.items() if k not in ("config", "sessions", "new", "dup")}


def test_journal_replays_to_the_venue_snapshot_exactly(tmp_path, t0):
    a = _traded_venue(tmp_path, t0)
    a.close()
    _, snap, lines = read_journal(tmp_path / "state" / "BINANCE.journal")
    assert lines == a.venue.lines_written
    assert _comparable(snap) == _comparable(a.client.snapshot())
    assert sorted(snap["new"]) == sorted(str(c) for c in a.kernel.cache.orders)


def test_compaction_keeps_the_state_and_the_receipts(tmp_path, t0):
    a = _traded_venue(tmp_path, t0)
    a.close()
    before = a.client.snapshot()
    b = Node(tmp_path, "B", a.clock.timestamp_ns() + 1)
    b.venue.close()
    dv = DurablePaperVenue(b.client, tmp_path / "state" / "BINANCE.journal", fsync=False, compact_lines=1)
    _, snap, lines = read_journal(tmp_path / "state" / "BINANCE.journal")
    dv.close()
    assert lines == 2 and _comparable(snap) == _comparable(before)
    assert sorted(snap["new"]) == sorted(str(c) for c in a.kernel.cache.orders)
    b.store.close()


def test_torn_last_line_is_dropped_and_a_bad_line_is_named(tmp_path, t0):
    a = _traded_venue(tmp_path, t0)
    a.close()
    path = tmp_path / "state" / "BINANCE.journal"
    good = path.read_bytes()
    with open(path, "ab") as fh:
        fh.write(b'{"k":"step","venue_order_seq":"99","eng')  # the write the crash cut
    _, snap, lines = read_journal(path, repair=True)
    assert path.read_bytes() == good and snap["venue_order_seq"] != "99"

    lines_ = good.split(b"\n")
    lines_[2] = b'{"k":"step", not json'
    path.write_bytes(b"\n".join(lines_))
    offset = len(lines_[0]) + len(lines_[1]) + 2
    with pytest.raises(VenueJournalError, match=rf"BINANCE.journal: line 3 \(byte offset {offset}\)"):
        read_journal(path)


def test_journal_of_another_account_is_refused(tmp_path, t0):
    path = tmp_path / "state" / "BINANCE.journal"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"k": "header", "format": 1, "venue": "BINANCE", "account_id": "BINANCE-002"}) + "\n")
    with pytest.raises(VenueJournalError, match="journal of BINANCE/BINANCE-002"):
        Node(tmp_path, "A", t0)


def test_recover_node_refuses_a_kernel_that_already_has_orders(tmp_path, t0):
    a = Node(tmp_path, "A", t0)
    a.feed(QUOTES[:5])
    a.market()
    with pytest.raises(RuntimeError, match="fresh kernel"):
        recover_node(a.kernel, a.store, tmp_path / "state")
    a.close()


def test_strategy_ids_continue_past_the_store(tmp_path, t0):
    a = Node(tmp_path, "A", t0)
    a.feed(QUOTES[:5])
    ids = [a.market().client_order_id for _ in range(3)]
    a.close()
    clock = TestClock(a.clock.timestamp_ns() + 1)
    kernel = Kernel(clock, "T-001")
    kernel.add_instrument(INST)
    kernel.add_venue(VenueConfig("BINANCE", list(crash_node.BALANCES)))
    strategy = crash_node.CrashFlowStrategy(str(SID))
    kernel.add_strategy(strategy)
    strategy.order_factory.tag = "A"  # same tag as the first run's ids
    store = open_store(f"sqlite:///{tmp_path / 'node.db'}")
    res = recover_node(kernel, store, tmp_path / "state", fsync=False)
    assert strategy.order_factory.count == 3
    assert strategy.order_factory.next_client_order_id() not in ids
    res.venues[INST.id.venue].close()
    store.close()


def test_initialized_records_survive_in_the_store_order(tmp_path, t0):
    """The store keeps OrderInitialized before anything else of that order (recovery's precondition)."""
    a = _traded_venue(tmp_path, t0)
    a.close()
    store = open_store(f"sqlite:///{tmp_path / 'node.db'}")
    try:
        first: dict[str, str] = {}
        for e in store.read():
            coid = getattr(e.record, "client_order_id", None)
            if coid is not None:
                first.setdefault(str(coid), e.kind)
    finally:
        store.close()
    assert first and set(first.values()) == {OrderInitialized.__name__}


def test_an_order_sent_from_a_fill_handler_is_journaled_and_answered_in_order(tmp_path, t0):
    a = Node(tmp_path, "A", t0)
    a.feed(QUOTES[:5])
    seen: list[tuple[str, str]] = []
    follow: list = []

    def on_event(ev) -> None:
        seen.append((type(ev).__name__, str(ev.client_order_id)))
        if type(ev).__name__ == "OrderFilled" and not follow:
            follow.append(a.market(side=OrderSide.SELL))  # the venue is delivering the first order's fill
            assert a.order(follow[0].client_order_id).status is OrderStatus.SUBMITTED  # answered after return

    a.kernel.bus.subscribe(f"events.order.{SID}", on_event)
    first = a.market()
    c1, c2 = str(first.client_order_id), str(follow[0].client_order_id)
    assert [k for k, c in seen if c == c2] == ["OrderInitialized", "OrderSubmitted", "OrderAccepted", "OrderFilled"]
    assert seen.index(("OrderFilled", c1)) < seen.index(("OrderAccepted", c2))
    a.close()
    _, snap, _ = read_journal(tmp_path / "state" / "BINANCE.journal")
    assert snap["new"] == [c1, c2] and len(snap["fills"]) == 2


def test_stale_order_never_submitted_is_rejected_not_sent(tmp_path, t0):
    a = Node(tmp_path, "A", t0)
    a.feed(QUOTES[:5])
    order = a.factory.market(INST.id, OrderSide.BUY, Quantity("0.01", 5))
    a.store.append(order.init, durable=True)
    a.crash()

    b = Node(tmp_path, "B", a.clock.timestamp_ns() + 120 * 10**9, max_resubmit_age_ns=60 * 10**9)
    assert b.result.by_kind() == {"not_submitted/rejected_stale": 1} and not b.result.submitted
    assert b.order(order.client_order_id).status is OrderStatus.REJECTED
    assert str(order.client_order_id) not in b.venue.received
    b.close()
    state, notes = _store_state(tmp_path)
    assert state.orders[order.client_order_id].status is OrderStatus.REJECTED and len(notes) == 1
