from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tradewire.model import (
    USD,
    ClientOrderId,
    InstrumentId,
    Money,
    OrderFilled,
    OrderSide,
    OrderType,
    Position,
    PositionId,
    Price,
    Quantity,
    StrategyId,
    TradeId,
    VenueOrderId,
)

IID = InstrumentId("ES.CME")
S = StrategyId("S-1")


def fill(side, qty, px, n=[0]):  # noqa: B006 - counter for unique trade ids
    n[0] += 1
    return OrderFilled(
        ClientOrderId(f"O-{n[0]}"), S, IID, n[0], n[0], VenueOrderId("V"), TradeId(f"T-{n[0]}"), side,
        OrderType.MARKET, Quantity(str(qty), 0), Price(str(px), 2), Money("0", USD),
    )  # fmt: skip


def new_pos(mult="50"):
    return Position(PositionId("P"), IID, S, int(Decimal(mult) * 10**9), USD, 0)


def test_es_round_trip_with_multiplier():
    p = new_pos()
    p.apply(fill(OrderSide.BUY, 2, "5000.25"))
    assert p.avg_px_open == Decimal("5000.25")
    assert p.unrealized_pnl(Price("5001.00", 2)) == Money("75", USD)  # 0.75 pt * 50 * 2
    realized = p.apply(fill(OrderSide.SELL, 2, "5002.50"))
    assert realized == 225 * 10**9
    assert p.is_flat and p.realized_pnl == Money("225", USD)


def test_flip_long_to_short_books_realized_and_new_basis():
    p = new_pos("1")
    p.apply(fill(OrderSide.BUY, 3, "10.00"))
    p.apply(fill(OrderSide.SELL, 5, "12.00"))
    assert p.signed_qty == -2
    assert p.avg_px_open == Decimal("12")
    assert p.realized_pnl == Money("6", USD)


def test_partial_close_uses_average_cost():
    p = new_pos("1")
    p.apply(fill(OrderSide.BUY, 1, "10.00"))
    p.apply(fill(OrderSide.BUY, 2, "11.00"))
    p.apply(fill(OrderSide.SELL, 1, "12.00"))  # avg 10.666..
    p.apply(fill(OrderSide.SELL, 2, "9.00"))
    # whole round trip: proceeds 12 + 18 = 30, cost 10 + 22 = 32
    assert p.realized_pnl == Money("-2", USD)


@given(st.lists(st.tuples(st.sampled_from([OrderSide.BUY, OrderSide.SELL]), st.integers(1, 9), st.integers(100, 99999)),
                min_size=1, max_size=40))  # fmt: skip
def test_quantity_and_flat_pnl_are_exact(fills):
    p = new_pos("1")
    cash = 0
    qty = 0
    for side, q, cents in fills:
        px = Decimal(cents) / 100
        p.apply(fill(side, q, f"{px:.2f}"))
        qty += q if side is OrderSide.BUY else -q
        cash += (-q if side is OrderSide.BUY else q) * cents
    assert p.signed_qty == qty
    if qty == 0:
        assert p.realized_pnl.as_decimal() == Decimal(cash) / 100
