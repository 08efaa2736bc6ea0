"""Venue sequence rules: Binance spot, Binance USD-M futures, Bybit (unit cases + real Bybit archive)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.data.book import OrderBook
from tradewire.data.sync import (
    BinanceFuturesSynchronizer,
    BinanceSpotSynchronizer,
    BybitSynchronizer,
    SyncedOrderBook,
    SyncState,
)
from tradewire.model.data import OrderBookDelta
from tradewire.model.enums import BookAction, BookSide
from tradewire.model.identifiers import InstrumentId
from tradewire.model.objects import Price, Quantity

IID = InstrumentId("BTCUSDT.BINANCE")
FIXTURES = Path(__file__).parents[2] / "fixtures"


def test_spot_buffer_drop_bridge_then_contiguous():
    gaps = []
    s = BinanceSpotSynchronizer(IID, on_gap=gaps.append)
    assert s.stale
    assert s.on_update(90, 95, None, "a") == []  # buffered before the snapshot
    assert s.on_update(96, 100, None, "b") == []
    assert s.on_update(101, 110, None, "c") == []
    assert s.buffered == 3
    # snapshot at 100: "a" (u=95) and "b" (u=100 <= 100) dropped; "c" bridges (101 <= 101 <= 110)
    assert s.on_snapshot(100) == ["c"]
    assert s.state is SyncState.LIVE and s.last_update_id == 110 and s.dropped == 2
    assert s.on_update(111, 120, None, "d") == ["d"]
    assert gaps == []


def test_spot_first_event_must_bridge_snapshot():
    s = BinanceSpotSynchronizer(IID)
    s.on_snapshot(100)
    assert s.on_update(102, 110, None, "x") == []  # U > lastUpdateId + 1: a gap
    assert s.stale and s.gaps[0].kind == "gap" and (s.gaps[0].expected, s.gaps[0].got) == (101, 102)


def test_spot_gap_and_out_of_order_then_resync():
    gaps = []
    s = BinanceSpotSynchronizer(IID, on_gap=gaps.append)
    s.on_snapshot(100)
    assert s.on_update(95, 105, None, 1) == [1]
    assert s.on_update(100, 104, None, 2) == []  # goes backwards: dropped, reported, still live
    assert gaps[-1].kind == "out_of_order" and not s.stale
    assert s.on_update(108, 112, None, 3) == []  # skipped 106..107
    assert gaps[-1].kind == "gap" and (gaps[-1].expected, gaps[-1].got) == (106, 108) and s.stale
    assert s.on_update(113, 115, None, 4) == []  # buffered while stale
    assert s.on_snapshot(112) == [4]  # resync: buffered "3" dropped (u=112), "4" bridges
    assert not s.stale and s.last_update_id == 115


def test_futures_pu_chain():
    s = BinanceFuturesSynchronizer(IID)
    s.on_update(1, 9, 0, "early")
    s.on_update(10, 20, 9, "bridge")
    assert s.on_snapshot(15) == ["bridge"]  # U <= 15 <= u
    assert s.on_update(25, 30, 20, "next") == ["next"]  # pu == previous u (ids need not be contiguous)
    assert s.on_update(40, 50, 35, "bad") == []
    gap = s.gaps[-1]
    assert (gap.kind, gap.expected, gap.got, gap.first_update_id, gap.final_update_id) == ("gap", 30, 35, 40, 50)
    assert s.stale


def test_futures_snapshot_equal_to_u_is_kept():
    s = BinanceFuturesSynchronizer(IID)
    s.on_snapshot(20)
    assert s.on_update(10, 19, 5, "old") == []  # u < lastUpdateId: dropped
    assert s.on_update(15, 20, 19, "edge") == ["edge"]  # u == lastUpdateId still applies (u >= lastUpdateId)
    assert s.gaps == []


def _delta(side, price, size, flags=0, seq=0):
    action = BookAction.UPDATE if size != "0" else BookAction.DELETE
    return OrderBookDelta(IID, action, side, Price(price, 4), Quantity(size, 0), flags, seq, 0, 0)


def test_bybit_real_archive_applies_every_delta_and_detects_removed_message():
    """Real Bybit orderbook.500 capture: one snapshot, 49 deltas with u stepping by 1."""
    with zipfile.ZipFile(FIXTURES / "bybit" / "bybit_xrpusdt-ob500.data.zip") as zf:
        lines = zf.read(zf.namelist()[0]).decode().splitlines()
    msgs = [json.loads(line) for line in lines if line.strip()]

    def run(messages):
        book = OrderBook(IID, 4, 0)
        synced = SyncedOrderBook(book, BybitSynchronizer(IID))
        crossed = 0
        for m in messages:
            d = m["data"]
            deltas = [_delta(BookSide.BID, p, q) for p, q in d["b"]] + [_delta(BookSide.ASK, p, q) for p, q in d["a"]]
            if m["type"] == "snapshot":
                synced.apply_snapshot(d["u"], [x for x in deltas if x.size.raw])
            else:
                synced.apply_diff(d["u"], d["u"], None, deltas)
            crossed += book.is_crossed()
        return synced, crossed

    synced, crossed = run(msgs)
    assert synced.sync.applied == 49 and synced.sync.gaps == [] and not synced.stale and crossed == 0
    synced, _ = run(msgs[:20] + msgs[21:])  # drop one delta message
    assert len(synced.sync.gaps) == 1 and synced.stale
    gap = synced.sync.gaps[0]
    assert gap.expected == msgs[20]["data"]["u"] and gap.got == msgs[21]["data"]["u"]


def test_bybit_new_snapshot_resets():
    s = BybitSynchronizer(IID)
    s.on_update(5, 5, None, "pre")
    assert s.on_snapshot(10) == []  # deltas received before a Bybit snapshot never apply
    assert s.on_update(11, 11, None, "a") == ["a"]
    assert s.on_snapshot(1) == []  # service restart: u == 1 snapshot overwrites
    assert s.on_update(2, 2, None, "b") == ["b"]
    assert s.gaps == []


# --------------------------------------------------------------------------- property test


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=5), min_size=2, max_size=40),
    snap_offset=st.integers(min_value=0, max_value=4),
    removed=st.integers(min_value=0, max_value=39),
)
def test_spot_gap_reported_iff_a_message_is_missing(sizes, snap_offset, removed):
    """Contiguous messages [U, u] with one optionally removed: a gap is reported exactly when the removed
    message lies after the first message that bridges the snapshot; otherwise every later message applies."""
    msgs, first = [], 1000
    for n in sizes:
        msgs.append((first, first + n - 1))
        first += n
    snap = msgs[0][0] + snap_offset  # inside or right after the first message(s)
    drop_idx = removed if removed < len(msgs) else None
    fed = [m for i, m in enumerate(msgs) if i != drop_idx]
    s = BinanceSpotSynchronizer(IID)
    s.on_snapshot(snap)
    applied = [m for m in fed if s.on_update(m[0], m[1], None, m)]
    bridge = next(i for i, m in enumerate(msgs) if m[1] >= snap + 1) if msgs[-1][1] >= snap + 1 else None
    needed = [] if bridge is None else msgs[bridge:]
    if drop_idx is None or (bridge is not None and drop_idx < bridge) or bridge is None or drop_idx == len(msgs) - 1:
        assert s.gaps == []
        assert applied == [m for m in needed if m in fed]
    else:
        assert len(s.gaps) == 1 and s.gaps[0].kind == "gap" and s.stale
        assert s.gaps[0].expected == max(msgs[drop_idx][0], snap + 1)  # the bridge itself may be missing
        assert applied == needed[: drop_idx - bridge]
