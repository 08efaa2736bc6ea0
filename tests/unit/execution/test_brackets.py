"""Brackets (OTO + OCO), partial fills, and rebuilding the linkage from events after a restart."""

from __future__ import annotations

from tradewire.model import ContingencyType, OrderCanceled, OrderSide, OrderStatus, OrderType, QuoteTick
from tradewire.model.commands import SubmitOrderList


def submit_bracket(rig, entry_price="99.00", qty="1.000"):
    entry, sl, tp = rig.factory.bracket(rig.inst.id, OrderSide.BUY, rig.qty(qty), sl_trigger_price=rig.px("95.00"),
                                        tp_price=rig.px("110.00"),
                                        entry_price=rig.px(entry_price) if entry_price else None)  # fmt: skip
    rig.engine.execute(SubmitOrderList(rig.sid, rig.inst.id, 0, entry.order_list_id, (entry, sl, tp)))
    return entry, sl, tp


def quote(rig, bid, ask):
    ts = rig.clock.timestamp_ns()
    return QuoteTick(rig.inst.id, rig.px(bid), rig.px(ask), rig.qty("5"), rig.qty("5"), ts, ts)


def test_factory_links_bracket(make_rig):
    rig = make_rig()
    entry, sl, tp = submit_bracket(rig)
    assert entry.contingency_type is ContingencyType.OTO and entry.linked_order_ids == (sl.client_order_id,
                                                                                        tp.client_order_id)  # fmt: skip
    assert sl.parent_order_id == tp.parent_order_id == entry.client_order_id
    assert sl.linked_order_ids == (tp.client_order_id,) and tp.linked_order_ids == (sl.client_order_id,)
    assert sl.contingency_type is tp.contingency_type is ContingencyType.OCO
    assert entry.order_list_id == sl.order_list_id == tp.order_list_id
    assert sl.order_type is OrderType.STOP_MARKET and tp.order_type is OrderType.LIMIT


def test_children_held_until_entry_fills_then_tp_fill_cancels_emulated_stop(make_rig):
    rig = make_rig()  # venue supports no stops: the stop-loss is emulated
    entry, sl, tp = submit_bracket(rig)
    assert entry.status is OrderStatus.ACCEPTED
    assert sl.status is OrderStatus.INITIALIZED and tp.status is OrderStatus.INITIALIZED
    assert rig.client.submitted == [entry.client_order_id]
    rig.client.fill(entry, rig.qty("1"), rig.px("99.00"))
    assert tp.status is OrderStatus.ACCEPTED  # released to the venue
    assert sl.status is OrderStatus.INITIALIZED and sl in rig.engine.emulator  # held locally, armed
    rig.client.fill(tp, rig.qty("1"), rig.px("110.00"))
    assert tp.status is OrderStatus.FILLED
    assert sl.status is OrderStatus.CANCELED and sl not in rig.engine.emulator
    assert rig.portfolio.net_position_raw(rig.inst.id) == 0
    # the stop does not fire any more
    rig.engine.on_quote_tick(quote(rig, "90.00", "90.01"))
    assert rig.cache.orders[sl.client_order_id].status is OrderStatus.CANCELED


def test_tp_fill_cancels_stop_at_venue_when_native(make_rig):
    rig = make_rig(supports=frozenset({"modify", "stop_market"}))
    entry, sl, tp = submit_bracket(rig, entry_price=None)  # market entry fills at once
    assert entry.status is OrderStatus.FILLED
    assert sl.status is OrderStatus.ACCEPTED and tp.status is OrderStatus.ACCEPTED
    rig.client.fill(tp, rig.qty("1"), rig.px("110.00"))
    assert rig.client.canceled == [sl.client_order_id]
    assert sl.status is OrderStatus.CANCELED


def test_partial_entry_fill_releases_and_resizes_both_children(make_rig):
    rig = make_rig(supports=frozenset({"modify", "stop_market"}))
    entry, sl, tp = submit_bracket(rig, qty="1.000")
    rig.client.fill(entry, rig.qty("0.400"), rig.px("99.00"))
    assert sl.quantity == rig.qty("0.4") and tp.quantity == rig.qty("0.4")
    assert sl.status is OrderStatus.ACCEPTED and tp.status is OrderStatus.ACCEPTED
    rig.client.fill(entry, rig.qty("0.350"), rig.px("98.90"))
    assert sl.quantity == rig.qty("0.75") and tp.quantity == rig.qty("0.75")
    assert [m[1] for m in rig.client.modified] == [rig.qty("0.75"), rig.qty("0.75")]
    rig.client.fill(entry, rig.qty("0.250"), rig.px("98.80"))
    assert sl.quantity == tp.quantity == rig.qty("1")


def test_partial_fill_of_one_child_reduces_the_other(make_rig):
    rig = make_rig(supports=frozenset({"modify", "stop_market"}))
    entry, sl, tp = submit_bracket(rig, entry_price=None)
    rig.client.fill(tp, rig.qty("0.3"), rig.px("110.00"))
    assert tp.leaves_qty == rig.qty("0.7")
    assert sl.quantity == rig.qty("0.7") and sl.status is OrderStatus.ACCEPTED
    rig.client.fill(tp, rig.qty("0.7"), rig.px("110.00"))
    assert sl.status is OrderStatus.CANCELED


def test_entry_canceled_unfilled_cancels_held_children(make_rig):
    rig = make_rig()
    entry, sl, tp = submit_bracket(rig)
    rig.engine.cancel(entry)
    assert entry.status is OrderStatus.CANCELED
    assert sl.status is OrderStatus.CANCELED and tp.status is OrderStatus.CANCELED
    assert all(isinstance(e, OrderCanceled) for e in (sl.events[-1], tp.events[-1]))
    assert rig.client.submitted == [entry.client_order_id]


def _restart(old, make_rig):
    """A fresh engine/portfolio/client rebuilt only from the old orders' events."""
    new = make_rig(supports=old.client.supports)
    streams = [list(o.events) for o in old.cache.orders.values()]
    new.engine.restore(streams)
    return new


def test_rebuild_mid_bracket_keeps_linkage_after_partial_entry_fill(make_rig):
    rig = make_rig()
    entry, sl, tp = submit_bracket(rig)
    rig.client.fill(entry, rig.qty("0.6"), rig.px("99.00"))
    new = _restart(rig, make_rig)
    e2, s2, t2 = (new.cache.orders[o.client_order_id] for o in (entry, sl, tp))
    assert e2 is not entry and e2.status is OrderStatus.PARTIALLY_FILLED
    assert s2.parent_order_id == e2.client_order_id and s2.linked_order_ids == (t2.client_order_id,)
    assert s2 in new.engine.emulator and s2.quantity == new.qty("0.6")
    assert new.portfolio.net_position_raw(new.inst.id) == 600_000_000
    # the rest of the entry fills: children resize; then TP fills: the emulated stop is canceled
    new.client.fill(e2, new.qty("0.4"), new.px("99.00"))
    assert s2.quantity == t2.quantity == new.qty("1")
    new.client.fill(t2, new.qty("1"), new.px("110.00"))
    assert s2.status is OrderStatus.CANCELED
    assert new.portfolio.net_position_raw(new.inst.id) == 0


def test_rebuild_before_entry_fill_keeps_children_held(make_rig):
    rig = make_rig()
    entry, sl, tp = submit_bracket(rig)
    new = _restart(rig, make_rig)
    e2, s2, t2 = (new.cache.orders[o.client_order_id] for o in (entry, sl, tp))
    assert new.engine.contingency.is_held(s2) and new.engine.contingency.is_held(t2)
    new.client.fill(e2, new.qty("1"), new.px("99.00"))
    assert t2.status is OrderStatus.ACCEPTED and s2 in new.engine.emulator


def test_resizes_while_a_modify_is_in_flight_catch_up_on_the_ack(make_rig):
    """A live venue answers later: fills that arrive while a resize is pending are applied after its ack."""
    rig = make_rig(supports=frozenset({"modify", "stop_market"}))
    queued = []
    sync_modify = rig.client.modify_order
    rig.client.modify_order = lambda *a: queued.append(a)  # hold the venue's answers
    entry, sl, tp = submit_bracket(rig, qty="1.000")
    rig.client.fill(entry, rig.qty("0.4"), rig.px("99.00"))  # children released at 0.4 (submit is sync)
    rig.client.fill(entry, rig.qty("0.3"), rig.px("99.00"))  # resize to 0.7 requested, not yet answered
    rig.client.fill(entry, rig.qty("0.3"), rig.px("99.00"))  # resize to 1.0 cannot be sent yet
    assert sl.status is OrderStatus.PENDING_UPDATE and rig.engine.busy_count == 2
    assert rig.engine.illegal_event_count == 0
    while queued:
        sync_modify(*queued.pop(0))  # venue acks 0.7, the engine immediately asks for 1.0
    assert sl.quantity == tp.quantity == rig.qty("1")
    assert sl.status is OrderStatus.ACCEPTED and tp.status is OrderStatus.ACCEPTED
    # a partial take-profit reduces the stop to what is left of the position
    rig.client.fill(tp, rig.qty("0.25"), rig.px("110.00"))
    while queued:
        sync_modify(*queued.pop(0))
    assert sl.quantity == rig.qty("0.75")


def test_standalone_oco_pair_partial_fills(make_rig):
    rig = make_rig(supports=frozenset({"modify", "stop_market"}))
    from tradewire.model import ContingencyType, OrderListId

    olid = OrderListId("OL-1")
    ids = (rig.factory.next_client_order_id(), rig.factory.next_client_order_id())
    a = rig.factory._build(rig.inst.id, OrderSide.SELL, OrderType.LIMIT, rig.qty("10"), price=rig.px("110.00"),
                           client_order_id=ids[0], order_list_id=olid, linked_order_ids=(ids[1],),
                           contingency_type=ContingencyType.OCO)  # fmt: skip
    b = rig.factory._build(rig.inst.id, OrderSide.SELL, OrderType.STOP_MARKET, rig.qty("10"),
                           trigger_price=rig.px("90.00"), client_order_id=ids[1], order_list_id=olid,
                           linked_order_ids=(ids[0],), contingency_type=ContingencyType.OCO)  # fmt: skip
    rig.engine.execute(SubmitOrderList(rig.sid, rig.inst.id, 0, olid, (a, b)))
    rig.client.fill(a, rig.qty("3"), rig.px("110.00"))
    assert b.quantity == rig.qty("7")
    rig.client.fill(a, rig.qty("2"), rig.px("110.00"))
    assert b.quantity == rig.qty("5")
    rig.client.fill(a, rig.qty("5"), rig.px("110.00"))
    assert b.status is OrderStatus.CANCELED
