"""`fast_frozen_init`: same constructor behaviour as the dataclass-generated one, still immutable."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import pickle
from pathlib import Path

import pytest

from tradewire import _native
from tradewire.model import (
    ORDER_EVENT_TYPES,
    ClientOrderId,
    InstrumentId,
    Money,
    Price,
    Quantity,
    StrategyId,
    commands,
    events,
)
from tradewire.model.commands import CancelAllOrders, CancelOrder, ModifyOrder, SubmitOrder, SubmitOrderList
from tradewire.model.enums import LiquiditySide, OrderSide, OrderType
from tradewire.model.events import OrderFilled, fast_frozen_init
from tradewire.model.identifiers import TradeId, VenueOrderId
from tradewire.model.objects import USD


def _declared_inits(module) -> dict[str, list[tuple[str, object]]]:
    """``{class: [(parameter, default or MISSING), ...]}`` of the ``__init__`` written in the module's source.

    Read from the ``.py`` file with ``ast``, so it is the same check whether the module runs compiled (the
    compiled ``__init__`` has no introspectable signature) or from source (where it was replaced).
    """
    tree = ast.parse(Path(module.__file__).with_suffix("").with_suffix(".py").read_text())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for fn in node.body:
                if isinstance(fn, ast.FunctionDef) and fn.name == "__init__":
                    args = fn.args.args[1:]
                    defaults = [dataclasses.MISSING] * (len(args) - len(fn.args.defaults)) + [
                        eval(ast.unparse(d), vars(module)) for d in fn.args.defaults
                    ]
                    out[node.name] = [(a.arg, d) for a, d in zip(args, defaults, strict=True)]
    return out


_CLASSES = [(events, name) for name in sorted(ORDER_EVENT_TYPES)] + [
    (commands, c.__name__) for c in (SubmitOrder, SubmitOrderList, ModifyOrder, CancelOrder, CancelAllOrders)
]


@pytest.mark.parametrize(("module", "name"), _CLASSES, ids=[n for _, n in _CLASSES])
def test_declared_init_takes_the_fields_in_order_with_their_defaults(module, name):
    cls = getattr(module, name)
    want = [(f.name, f.default) for f in dataclasses.fields(cls)]
    assert _declared_inits(module)[name] == want
    if _native.IMPLEMENTATION == "interpreted":  # the active __init__ is the descriptor-based one: same signature
        assert [(p.name, p.default if p.default is not p.empty else dataclasses.MISSING)
                for p in inspect.signature(cls.__init__).parameters.values()][1:] == want  # fmt: skip


def test_a_declared_init_that_differs_from_the_fields_is_refused():
    @dataclasses.dataclass(frozen=True, slots=True, init=False)
    class Swapped:
        a: int
        b: int = 0

        def __init__(self, b: int = 0, a: int = 1) -> None:
            pass

    with pytest.raises(TypeError, match="do not match its fields"):
        fast_frozen_init(Swapped)


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
