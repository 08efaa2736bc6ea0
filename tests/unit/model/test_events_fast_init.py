"""`fast_frozen_init`: same constructor behaviour as the dataclass-generated one, still immutable."""

from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest

from tradewire.model import ORDER_EVENT_TYPES, ClientOrderId, InstrumentId, Money, Price, Quantity, StrategyId
from tradewire.model.enums import LiquiditySide, OrderSide, OrderType
from tradewire.model.events import OrderFilled, fast_frozen_init
from tradewire.model.identifiers import TradeId, VenueOrderId
from tradewire.model.objects import USD


def _params(init) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(init).parameters.values()]


@pytest.mark.parametrize("name", sorted(ORDER_EVENT_TYPES))
def test_signature_matches_the_generated_init(name):
    cls = ORDER_EVENT_TYPES[name]
    fresh = [dataclasses.field(default=f.default) if f.default is not dataclasses.MISSING else dataclasses.field()
             for f in dataclasses.fields(cls)]  # fmt: skip
    plain = dataclasses.make_dataclass(
        "Plain", [(f.name, f.type, g) for f, g in zip(dataclasses.fields(cls), fresh, strict=True)], frozen=True,
        slots=True,
    )  # fmt: skip
    assert _params(cls.__init__) == _params(plain.__init__)


def test_fill_built_positionally_and_by_keyword_is_equal_frozen_and_picklable():
    args = (ClientOrderId("O-1"), StrategyId("S-1"), InstrumentId("BTCUSDT.BINANCE"), 5, 6, VenueOrderId("V-1"),
            TradeId("T-1"), OrderSide.SELL, OrderType.MARKET, Quantity("0.002", 3), Price("50000.10", 2),
            Money("0.1", USD))  # fmt: skip
    a = OrderFilled(*args)
    b = OrderFilled(**{f.name: v for f, v in zip(dataclasses.fields(OrderFilled), args, strict=False)})
    assert a == b and a.liquidity_side is LiquiditySide.TAKER and a.inferred is False and a.position_id is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.last_px = Price("1", 2)  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(a)) == a
    assert dataclasses.replace(a, ts_event=9).ts_event == 9
    with pytest.raises(TypeError):
        OrderFilled(*args[:-1])  # a required field missing, as with the generated __init__


def test_default_factory_and_rejections():
    @dataclasses.dataclass(frozen=True, slots=True)
    class WithFactory:
        a: int
        b: tuple = dataclasses.field(default_factory=tuple)

    fast_frozen_init(WithFactory)
    assert WithFactory(1).b == () and WithFactory(1, (2,)).b == (2,)

    @dataclasses.dataclass(frozen=True, slots=True)
    class WithPost:
        a: int

        def __post_init__(self) -> None:
            pass

    with pytest.raises(TypeError, match="__post_init__"):
        fast_frozen_init(WithPost)

    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    with pytest.raises(TypeError, match="slots"):
        fast_frozen_init(NoSlots)
