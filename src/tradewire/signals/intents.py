"""Order intents: a validated alert turned into trading commands.

The HTTP side builds an :class:`AlertIntent` (instrument resolved, client order ids reserved) and
hands it to the engine thread. There :class:`IntentPlanner` reads the *current* position and equity
(so consecutive alerts such as two ``reverse`` see each other's effect in order) and produces
``SubmitOrder`` / ``SubmitOrderList`` / ``CancelAllOrders`` commands for ``RiskEngine.execute``.

Sizing (``quantity_type``), with ``px`` the alert ``price`` or the latest mark and ``m`` the
instrument multiplier, always rounded *down* to the lot size:

- ``units`` / ``contracts``: ``quantity`` as given (must be on the lot size);
- ``percent_equity``: ``equity * quantity / 100 / (px * m)``;
- ``risk``: ``equity * quantity / 100 / (|px - stop_loss| * m)`` (fixed-fractional position sizing,
  R. Vince, "The Mathematics of Money Management", 1992, ch. 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Protocol

from tradewire.model.commands import CancelAllOrders, SubmitOrder, SubmitOrderList, TradingCommand
from tradewire.model.enums import ContingencyType, OrderSide, OrderType, TimeInForce
from tradewire.model.events import OrderInitialized
from tradewire.model.identifiers import ClientOrderId, InstrumentId, OrderListId, StrategyId
from tradewire.model.instruments import Instrument
from tradewire.model.objects import FIXED_SCALAR, Currency, Money, Price, Quantity
from tradewire.model.orders import Order
from tradewire.signals.schema import Action, AlertOrderType, QuantityType


class AccountView(Protocol):
    """What the planner needs from the Portfolio (implemented by ``tradewire.portfolio.Portfolio``)."""

    def net_position_raw(self, instrument_id: InstrumentId, strategy_id: StrategyId | None = None) -> int:
        """Signed position quantity, raw (scale 1e9)."""
        ...

    def equity(self, currency: Currency) -> Money:
        """Account equity in ``currency``."""
        ...


class MarketView(Protocol):
    """What the planner needs from the Cache: instruments and the latest mark."""

    instruments: dict[InstrumentId, Instrument]

    def last_price_raw(self, instrument_id: InstrumentId) -> int | None:
        """Latest mark as a raw price, or None."""
        ...


class PlanningError(Exception):
    """The intent cannot become orders in the current state (e.g. no price to size with)."""


@dataclass(frozen=True, slots=True)
class AlertIntent:
    """A validated, routed alert waiting for the engine thread.

    ``client_order_ids`` are reserved on the HTTP side: entry first, then stop-loss and take-profit
    for a bracket. Prices and quantities are exact Decimals as sent.
    """

    alert_key: str
    source: str
    strategy_id: StrategyId
    instrument_id: InstrumentId
    action: Action
    quantity: Decimal | None
    quantity_type: QuantityType
    order_type: AlertOrderType
    price: Decimal | None
    stop_loss: Decimal | None
    take_profit: Decimal | None
    time_in_force: TimeInForce
    client_order_ids: tuple[ClientOrderId, ...]
    order_list_id: OrderListId | None
    ts_init: int


@dataclass(frozen=True, slots=True)
class Plan:
    """The planner's answer: commands to send, and ``outcome`` (``submitted`` or ``no_op``) with a reason."""

    commands: tuple[TradingCommand, ...]
    outcome: str
    reason: str = ""

    @property
    def client_order_ids(self) -> tuple[ClientOrderId, ...]:
        """Ids of the orders in ``commands``."""
        out: list[ClientOrderId] = []
        for c in self.commands:
            if isinstance(c, SubmitOrder):
                out.append(c.order.client_order_id)
            elif isinstance(c, SubmitOrderList):
                out.extend(o.client_order_id for o in c.orders)
        return tuple(out)


def reserve_order_ids(prefix: str, action: Action, stop_loss: object, take_profit: object) -> tuple[ClientOrderId, ...]:
    """Client order ids an alert may use: ``<prefix>-E`` plus ``-SL``/``-TP`` for a bracket."""
    ids = [ClientOrderId(f"{prefix}-E")]
    if action in (Action.BUY, Action.SELL):
        if stop_loss is not None:
            ids.append(ClientOrderId(f"{prefix}-SL"))
        if take_profit is not None:
            ids.append(ClientOrderId(f"{prefix}-TP"))
    return tuple(ids)


def to_price(instrument: Instrument, value: Decimal, field: str) -> Price:
    """``value`` as a Price of ``instrument``; raises PlanningError when off precision or off tick."""
    try:
        px = instrument.make_price(value)
    except (ValueError, TypeError):
        raise PlanningError(
            f"{field}: {value} has more decimals than {instrument.id} allows ({instrument.price_precision})"
        ) from None
    if not instrument.is_on_tick(px):
        raise PlanningError(f"{field}: {value} is not a multiple of the tick size {instrument.tick_size}")
    return px


def to_quantity(instrument: Instrument, value: Decimal, field: str = "quantity") -> Quantity:
    """``value`` as a Quantity of ``instrument``; raises PlanningError when off precision or off lot."""
    try:
        qty = instrument.make_qty(value)
    except (ValueError, TypeError):
        raise PlanningError(
            f"{field}: {value} has more decimals than {instrument.id} allows ({instrument.size_precision})"
        ) from None
    if not instrument.is_on_lot(qty):
        raise PlanningError(f"{field}: {value} is not a multiple of the lot size {instrument.lot_size}")
    return qty


def _floor_to_lot(instrument: Instrument, value: Decimal) -> Quantity:
    raw = int((value * FIXED_SCALAR).to_integral_value(rounding=ROUND_FLOOR))
    lot = instrument.lot_size.raw
    raw -= raw % lot
    return Quantity.from_raw(raw, instrument.size_precision)


class IntentPlanner:
    """Turn :class:`AlertIntent` objects into commands against the current state (engine thread only).

    Parameters
    ----------
    market : MarketView
        Instruments and marks (the ``Cache``).
    account : AccountView
        Positions and equity (the ``Portfolio``).
    """

    def __init__(self, market: MarketView, account: AccountView) -> None:
        self._market = market
        self._account = account

    # -- sizing -------------------------------------------------------------------------------
    def _ref_price(self, intent: AlertIntent, inst: Instrument) -> Decimal:
        if intent.price is not None:
            return intent.price
        raw = self._market.last_price_raw(inst.id)
        if raw is None or raw <= 0:
            raise PlanningError(f"no price for {inst.id} to size {intent.quantity_type.value} (send a price)")
        return Decimal(raw) / FIXED_SCALAR

    def size(self, intent: AlertIntent, inst: Instrument) -> Quantity:
        """Absolute order/target quantity from the intent's quantity and quantity type.

        Raises
        ------
        PlanningError
            Missing quantity or price, or a size that rounds down to zero lots.
        """
        if intent.quantity is None:
            raise PlanningError(f"quantity: required for {intent.action.value} (no default_quantity configured)")
        qt = intent.quantity_type
        if qt in (QuantityType.UNITS, QuantityType.CONTRACTS):
            return to_quantity(inst, intent.quantity)
        equity = self._account.equity(inst.settlement_currency).as_decimal()
        if equity <= 0:
            raise PlanningError(f"equity in {inst.settlement_currency.code} is {equity}: cannot size")
        px = self._ref_price(intent, inst)
        mult = inst.multiplier.as_decimal()
        budget = equity * intent.quantity / 100
        if qt is QuantityType.PERCENT_EQUITY:
            qty = _floor_to_lot(inst, budget / (px * mult))
        else:  # RISK
            assert intent.stop_loss is not None  # schema guarantees it
            dist = abs(px - intent.stop_loss)
            if dist == 0:
                raise PlanningError("risk sizing: stop_loss equals the entry price")
            qty = _floor_to_lot(inst, budget / (dist * mult))
        if qty.raw <= 0:
            raise PlanningError(f"sized quantity rounds down to zero lots of {inst.lot_size}")
        return qty

    # -- orders -------------------------------------------------------------------------------
    def _order(
        self, intent: AlertIntent, inst: Instrument, cid: ClientOrderId, side: OrderSide, qty: Quantity,
        order_type: AlertOrderType, reduce_only: bool, **extra,
    ) -> Order:  # fmt: skip
        price = trigger = None
        if order_type is AlertOrderType.LIMIT:
            otype, price = OrderType.LIMIT, to_price(inst, intent.price, "price")
        elif order_type is AlertOrderType.STOP:
            otype, trigger = OrderType.STOP_MARKET, to_price(inst, intent.price, "price")
        else:
            otype = OrderType.MARKET
        tif = intent.time_in_force
        init = OrderInitialized(
            client_order_id=cid, strategy_id=intent.strategy_id, instrument_id=inst.id, ts_event=intent.ts_init,
            ts_init=intent.ts_init, side=side, order_type=otype, quantity=qty, time_in_force=tif, price=price,
            trigger_price=trigger, reduce_only=reduce_only, tags=f"webhook:{intent.source}", **extra,
        )  # fmt: skip
        return Order.from_init(init)

    def plan(self, intent: AlertIntent) -> Plan:
        """Build the commands for ``intent`` (see module docstring for sizing and each action).

        Raises
        ------
        PlanningError
            When the intent cannot be executed (unknown instrument, precision, sizing).
        """
        inst = self._market.instruments.get(intent.instrument_id)
        if inst is None:
            raise PlanningError(f"unknown instrument {intent.instrument_id}")
        a = intent.action
        sid, iid, ts = intent.strategy_id, inst.id, intent.ts_init
        entry_id = intent.client_order_ids[0]
        if a in (Action.BUY, Action.SELL):
            return self._plan_entry(intent, inst)
        pos = self._account.net_position_raw(iid, sid)
        if a in (Action.CLOSE, Action.FLATTEN):
            cmds: list[TradingCommand] = []
            if a is Action.FLATTEN:
                cmds.append(CancelAllOrders(strategy_id=sid, instrument_id=iid, ts_init=ts))
            if pos == 0:
                if cmds:
                    return Plan(tuple(cmds), "submitted", "no position; working orders canceled")
                return Plan((), "no_op", "no position to close")
            size = abs(pos)
            if a is Action.CLOSE and intent.quantity is not None and intent.quantity_type in (
                QuantityType.UNITS, QuantityType.CONTRACTS,
            ):  # fmt: skip
                size = min(size, to_quantity(inst, intent.quantity).raw)
            side = OrderSide.SELL if pos > 0 else OrderSide.BUY
            qty = Quantity.from_raw(size, inst.size_precision)
            otype = intent.order_type if a is Action.CLOSE else AlertOrderType.MARKET
            order = self._order(intent, inst, entry_id, side, qty, otype, reduce_only=True)
            cmds.append(SubmitOrder(strategy_id=sid, instrument_id=iid, ts_init=ts, order=order))
            return Plan(tuple(cmds), "submitted")
        if a is Action.REVERSE:
            if pos == 0:
                return Plan((), "no_op", "no position to reverse")
            new_size = self.size(intent, inst).raw if intent.quantity is not None else abs(pos)
            side = OrderSide.SELL if pos > 0 else OrderSide.BUY
            qty = Quantity.from_raw(abs(pos) + new_size, inst.size_precision)
        else:  # LONG / SHORT / FLAT: target position
            target = 0 if a is Action.FLAT else self.size(intent, inst).raw * (1 if a is Action.LONG else -1)
            delta = target - pos
            if delta == 0:
                return Plan((), "no_op", f"position already at target {a.value}")
            side = OrderSide.BUY if delta > 0 else OrderSide.SELL
            qty = Quantity.from_raw(abs(delta), inst.size_precision)
        order = self._order(intent, inst, entry_id, side, qty, intent.order_type, reduce_only=a is Action.FLAT)
        return Plan((SubmitOrder(strategy_id=sid, instrument_id=iid, ts_init=ts, order=order),), "submitted")

    def _plan_entry(self, intent: AlertIntent, inst: Instrument) -> Plan:
        side = OrderSide.BUY if intent.action is Action.BUY else OrderSide.SELL
        qty = self.size(intent, inst)
        sid, iid, ts = intent.strategy_id, inst.id, intent.ts_init
        ids = intent.client_order_ids
        if intent.stop_loss is None and intent.take_profit is None:
            order = self._order(intent, inst, ids[0], side, qty, intent.order_type, reduce_only=False)
            return Plan((SubmitOrder(strategy_id=sid, instrument_id=iid, ts_init=ts, order=order),), "submitted")
        children = ids[1:]
        list_id = intent.order_list_id
        entry = self._order(
            intent, inst, ids[0], side, qty, intent.order_type, reduce_only=False, order_list_id=list_id,
            linked_order_ids=children, contingency_type=ContingencyType.OTO,
        )  # fmt: skip
        orders = [entry]
        exit_side = side.opposite()
        k = 1
        for value, kind in ((intent.stop_loss, "stop_loss"), (intent.take_profit, "take_profit")):
            if value is None:
                continue
            cid = ids[k]
            k += 1
            px = to_price(inst, value, kind)
            others = tuple(c for c in children if c != cid)
            init = OrderInitialized(
                client_order_id=cid, strategy_id=sid, instrument_id=iid, ts_event=ts, ts_init=ts, side=exit_side,
                order_type=OrderType.STOP_MARKET if kind == "stop_loss" else OrderType.LIMIT, quantity=qty,
                time_in_force=TimeInForce.GTC, price=px if kind == "take_profit" else None,
                trigger_price=px if kind == "stop_loss" else None, reduce_only=True, order_list_id=list_id,
                parent_order_id=ids[0], linked_order_ids=others,
                contingency_type=ContingencyType.OCO if others else ContingencyType.NONE,
                tags=f"webhook:{intent.source}",
            )  # fmt: skip
            orders.append(Order.from_init(init))
        cmd = SubmitOrderList(
            strategy_id=sid, instrument_id=iid, ts_init=ts, order_list_id=list_id, orders=tuple(orders)
        )
        return Plan((cmd,), "submitted")
