"""Market orders on bars (NEXT_OPEN) with a slippage model and with reduce-only, on real ORCL daily bars.

Bars (backtrader sample, 1995; price precision 6, tick 0.000001):
  bar 0: 1995-01-03 O 2.179012 ... C 2.117284
  bar 1: 1995-01-04 O 2.123457 H 2.148148 L 2.092592 C 2.135803
  bar 2: 1995-01-05 O 2.141975 H 2.148148 L 2.086420 C 2.092592
A NEXT_OPEN market order fills at the next bar's open; 2 ticks of slippage move a buy to open + 0.000002
and a sell to open - 0.000002.
"""

from __future__ import annotations

from tradewire.model import InstrumentId, OrderStatus
from tradewire.venues.paper import BarFillMode, PaperVenueConfig
from tradewire.venues.paper.models import FixedTickSlippage

ORCL = InstrumentId("ORCL.PAPER")
NEXT_OPEN = PaperVenueConfig(bar_fill_mode=BarFillMode.NEXT_OPEN)


def _fills(h, order):
    return [(str(f.last_px), str(f.last_qty)) for f in h.of(order, "OrderFilled")]


def test_next_open_market_fills_are_slipped_by_the_model(orcl_bars, orcl, harness):
    h = harness([orcl], config=NEXT_OPEN, slippage_model=FixedTickSlippage(2))
    h.client.process_bar(orcl_bars[0])
    buy = h.submit(ORCL, "buy", "market", "100")
    h.client.process_bar(orcl_bars[1])
    sell = h.submit(ORCL, "sell", "market", "40")
    h.client.process_bar(orcl_bars[2])
    assert _fills(h, buy) == [("2.123459", "100")]  # 2.123457 + 2 ticks
    assert _fills(h, sell) == [("2.141973", "40")]  # 2.141975 - 2 ticks


def test_next_open_reduce_only_market_is_capped_by_the_position_at_fill_time(orcl_bars, orcl, harness):
    h = harness([orcl], config=NEXT_OPEN)
    h.client.process_bar(orcl_bars[0])
    buy = h.submit(ORCL, "buy", "market", "100")
    h.client.process_bar(orcl_bars[1])  # long 100 at 2.123457
    close = h.submit(ORCL, "sell", "market", "150", reduce_only=True)
    h.client.process_bar(orcl_bars[2])
    assert _fills(h, buy) == [("2.123457", "100")]
    assert _fills(h, close) == [("2.141975", "100")]  # only the 100 held, at the next open
    assert [type(e).__name__ for e in h.of(close)] == ["OrderAccepted", "OrderFilled", "OrderCanceled"]
    assert h.replay(close).status is OrderStatus.CANCELED
    assert h.client.matching_engine(ORCL).position.signed_qty_raw == 0
