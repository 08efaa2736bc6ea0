"""`OrderFactory`: builds orders (and bracket order lists) with unique client order ids.

Client order id format
----------------------
``O-<yyyymmdd>-<HHMMSS>-<tag>-<n>`` where the date/time is the UTC time the factory was created
(from its clock), ``tag`` is the ``id_prefix`` (default: the strategy id) and ``n`` counts from 1.
A restarted strategy gets a new factory start time, so its ids never collide with those of an
earlier run unless two factories with the same tag start within the same UTC second; pass
``start_count`` (e.g. the number of orders recovered from the event store) to continue a run's
numbering instead. Order list ids use the same scheme with prefix ``OL``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Final

from tradewire.core.clock import Clock
from tradewire.model.enums import ContingencyType, OrderSide, OrderType, TimeInForce
from tradewire.model.events import OrderInitialized
from tradewire.model.identifiers import ClientOrderId, InstrumentId, OrderListId, StrategyId
from tradewire.model.objects import Price, Quantity
from tradewire.model.orders import Order

# ids built here from already valid parts (non-empty, no surrounding whitespace) skip the
# Identifier re-validation: str.__new__ gives the same typed value
_new_id: Final = str.__new__

TRAILING_OFFSET_TYPES = ("price", "bps")
_MARKET: Final = OrderType.MARKET
_GTD: Final = TimeInForce.GTD
_NO_CONTINGENCY: Final = ContingencyType.NONE


class OrderFactory:
    """Create orders for one strategy.

    Parameters
    ----------
    strategy_id : StrategyId
        Owner of every order built.
    clock : Clock
        Gives ``ts_init`` of the ``OrderInitialized`` events and the factory start time in ids.
    id_prefix : str | None
        Tag in the client order id (no ``-`` or whitespace); default the strategy id with ``-`` removed.
    start_count : int
        Counter value of the last id already used (default 0).

    Raises
    ------
    ValueError
        If ``id_prefix`` is empty or contains ``-`` or whitespace.
    """

    def __init__(
        self, strategy_id: StrategyId, clock: Clock, id_prefix: str | None = None, start_count: int = 0
    ) -> None:
        tag = id_prefix if id_prefix is not None else str(strategy_id).replace("-", "")
        if not tag or "-" in tag or any(c.isspace() for c in tag):
            raise ValueError(f"id_prefix must be non-empty without '-' or whitespace, was {tag!r}")
        self.strategy_id = strategy_id
        self.clock = clock
        start = datetime.fromtimestamp(clock.timestamp_ns() // 1_000_000_000, tz=UTC)
        self._stamp = start.strftime("%Y%m%d-%H%M%S")
        self.tag = tag  # also sets the client order id prefix
        self.count = start_count
        self.list_count = 0

    @property
    def tag(self) -> str:
        """Tag in the ids; assigning it changes the ids built from then on."""
        return self._tag

    @tag.setter
    def tag(self, value: str) -> None:
        self._tag = value
        self._coid_prefix = f"O-{self._stamp}-{value}-"  # formatted once, not per order

    # -- ids ------------------------------------------------------------------------------------
    def next_client_order_id(self) -> ClientOrderId:
        """Return the next unique client order id."""
        self.count += 1
        return _new_id(ClientOrderId, f"{self._coid_prefix}{self.count}")

    def next_order_list_id(self) -> OrderListId:
        """Return the next unique order list id."""
        self.list_count += 1
        return OrderListId(f"OL-{self._stamp}-{self.tag}-{self.list_count}")

    # -- builders -------------------------------------------------------------------------------
    def _build(self, instrument_id: InstrumentId, side: OrderSide, order_type: OrderType, quantity: Quantity,
               **kw) -> Order:  # fmt: skip
        if quantity.raw <= 0:
            raise ValueError(f"order quantity must be positive, was {quantity}")
        tif = kw.get("time_in_force", TimeInForce.GTC)
        if tif is TimeInForce.GTD and kw.get("expire_time_ns") is None:
            raise ValueError("GTD orders need expire_time_ns")
        ts = self.clock.timestamp_ns()
        coid = kw.pop("client_order_id", None) or self.next_client_order_id()
        init = OrderInitialized(coid, self.strategy_id, instrument_id, ts, ts, side, order_type, quantity, **kw)
        return Order(init)

    def market(self, instrument_id: InstrumentId, side: OrderSide, quantity: Quantity,
               time_in_force: TimeInForce = TimeInForce.GTC, reduce_only: bool = False,
               tags: str | None = None) -> Order:  # fmt: skip
        """Build a market order."""
        if quantity.raw <= 0:
            raise ValueError(f"order quantity must be positive, was {quantity}")
        if time_in_force is _GTD:
            raise ValueError("GTD orders need expire_time_ns")
        ts = self.clock.timestamp_ns()
        self.count += 1
        coid = _new_id(ClientOrderId, f"{self._coid_prefix}{self.count}")
        # positional, in OrderInitialized's field order: the same event as _build's keywords give
        return Order(OrderInitialized(
            coid, self.strategy_id, instrument_id, ts, ts, side, _MARKET, quantity, time_in_force, None, None, None,
            False, reduce_only, None, None, None, None, None, (), _NO_CONTINGENCY, tags,
        ))  # fmt: skip

    def limit(self, instrument_id: InstrumentId, side: OrderSide, quantity: Quantity, price: Price,
              time_in_force: TimeInForce = TimeInForce.GTC, expire_time_ns: int | None = None,
              post_only: bool = False, reduce_only: bool = False, tags: str | None = None) -> Order:  # fmt: skip
        """Build a limit order."""
        return self._build(instrument_id, side, OrderType.LIMIT, quantity, price=price, time_in_force=time_in_force,
                           expire_time_ns=expire_time_ns, post_only=post_only, reduce_only=reduce_only,
                           tags=tags)  # fmt: skip

    def stop_market(self, instrument_id: InstrumentId, side: OrderSide, quantity: Quantity, trigger_price: Price,
                    time_in_force: TimeInForce = TimeInForce.GTC, expire_time_ns: int | None = None,
                    reduce_only: bool = False, tags: str | None = None) -> Order:  # fmt: skip
        """Build a stop-market order (buy: triggers when the market rises to ``trigger_price``)."""
        return self._build(instrument_id, side, OrderType.STOP_MARKET, quantity, trigger_price=trigger_price,
                           time_in_force=time_in_force, expire_time_ns=expire_time_ns, reduce_only=reduce_only,
                           tags=tags)  # fmt: skip

    def stop_limit(self, instrument_id: InstrumentId, side: OrderSide, quantity: Quantity, price: Price,
                   trigger_price: Price, time_in_force: TimeInForce = TimeInForce.GTC,
                   expire_time_ns: int | None = None, post_only: bool = False, reduce_only: bool = False,
                   tags: str | None = None) -> Order:  # fmt: skip
        """Build a stop-limit order: becomes a limit at ``price`` once ``trigger_price`` is reached."""
        return self._build(instrument_id, side, OrderType.STOP_LIMIT, quantity, price=price,
                           trigger_price=trigger_price, time_in_force=time_in_force, expire_time_ns=expire_time_ns,
                           post_only=post_only, reduce_only=reduce_only, tags=tags)  # fmt: skip

    def market_if_touched(self, instrument_id: InstrumentId, side: OrderSide, quantity: Quantity,
                          trigger_price: Price, time_in_force: TimeInForce = TimeInForce.GTC,
                          expire_time_ns: int | None = None, reduce_only: bool = False,
                          tags: str | None = None) -> Order:  # fmt: skip
        """Build a market-if-touched order (buy: triggers when the market falls to ``trigger_price``)."""
        return self._build(instrument_id, side, OrderType.MARKET_IF_TOUCHED, quantity, trigger_price=trigger_price,
                           time_in_force=time_in_force, expire_time_ns=expire_time_ns, reduce_only=reduce_only,
                           tags=tags)  # fmt: skip

    def limit_if_touched(self, instrument_id: InstrumentId, side: OrderSide, quantity: Quantity, price: Price,
                         trigger_price: Price, time_in_force: TimeInForce = TimeInForce.GTC,
                         expire_time_ns: int | None = None, post_only: bool = False, reduce_only: bool = False,
                         tags: str | None = None) -> Order:  # fmt: skip
        """Build a limit-if-touched order: becomes a limit at ``price`` once touched."""
        return self._build(instrument_id, side, OrderType.LIMIT_IF_TOUCHED, quantity, price=price,
                           trigger_price=trigger_price, time_in_force=time_in_force, expire_time_ns=expire_time_ns,
                           post_only=post_only, reduce_only=reduce_only, tags=tags)  # fmt: skip

    @staticmethod
    def _check_offset(offset: Decimal | str, offset_type: str) -> Decimal:
        if offset_type not in TRAILING_OFFSET_TYPES:
            raise ValueError(f"trailing_offset_type must be one of {TRAILING_OFFSET_TYPES}, was {offset_type!r}")
        if isinstance(offset, float):
            raise TypeError("trailing offset must be a Decimal or str, not a binary float")
        offset = Decimal(offset)
        if offset <= 0:
            raise ValueError(f"trailing offset must be positive, was {offset}")
        return offset

    def trailing_stop_market(self, instrument_id: InstrumentId, side: OrderSide, quantity: Quantity,
                             trailing_offset: Decimal | str, trailing_offset_type: str = "price",
                             trigger_price: Price | None = None, time_in_force: TimeInForce = TimeInForce.GTC,
                             expire_time_ns: int | None = None, reduce_only: bool = False,
                             tags: str | None = None) -> Order:  # fmt: skip
        """Build a trailing stop-market order.

        ``trailing_offset`` is a price distance (``"price"``) or basis points of the market price
        (``"bps"``, 1 bp = 0.01 %). Without ``trigger_price`` the first market price seen sets it.
        """
        off = self._check_offset(trailing_offset, trailing_offset_type)
        return self._build(instrument_id, side, OrderType.TRAILING_STOP_MARKET, quantity, trigger_price=trigger_price,
                           trailing_offset=off, trailing_offset_type=trailing_offset_type,
                           time_in_force=time_in_force, expire_time_ns=expire_time_ns, reduce_only=reduce_only,
                           tags=tags)  # fmt: skip

    def trailing_stop_limit(self, instrument_id: InstrumentId, side: OrderSide, quantity: Quantity,
                            trailing_offset: Decimal | str, limit_offset: Decimal | str,
                            trailing_offset_type: str = "price", trigger_price: Price | None = None,
                            price: Price | None = None, time_in_force: TimeInForce = TimeInForce.GTC,
                            expire_time_ns: int | None = None, reduce_only: bool = False,
                            tags: str | None = None) -> Order:  # fmt: skip
        """Build a trailing stop-limit order; on trigger it becomes a limit ``limit_offset`` beyond the trigger.

        ``limit_offset`` is in the same unit as ``trailing_offset`` (price or bps).
        """
        off = self._check_offset(trailing_offset, trailing_offset_type)
        if isinstance(limit_offset, float):
            raise TypeError("limit offset must be a Decimal or str, not a binary float")
        loff = Decimal(limit_offset)
        if loff < 0:
            raise ValueError(f"limit_offset must be >= 0, was {loff}")
        return self._build(instrument_id, side, OrderType.TRAILING_STOP_LIMIT, quantity, price=price,
                           trigger_price=trigger_price, trailing_offset=off, trailing_offset_type=trailing_offset_type,
                           limit_offset=loff, time_in_force=time_in_force, expire_time_ns=expire_time_ns,
                           reduce_only=reduce_only, tags=tags)  # fmt: skip

    def bracket(self, instrument_id: InstrumentId, side: OrderSide, quantity: Quantity, sl_trigger_price: Price,
                tp_price: Price, entry_price: Price | None = None, entry_trigger_price: Price | None = None,
                entry_time_in_force: TimeInForce = TimeInForce.GTC, sl_time_in_force: TimeInForce = TimeInForce.GTC,
                tp_time_in_force: TimeInForce = TimeInForce.GTC, tp_post_only: bool = False,
                tags: str | None = None) -> tuple[Order, Order, Order]:  # fmt: skip
        """Build a bracket: entry + stop-loss (stop-market) + take-profit (limit).

        The entry is a market order, a limit order (``entry_price``), a stop-market
        (``entry_trigger_price``) or a stop-limit (both). The entry is ``OTO`` with
        ``linked_order_ids = (sl, tp)``; the stop-loss and take-profit are ``OCO`` with each other, carry
        ``parent_order_id = entry`` and are released when the entry fills (sized to the filled quantity).
        All three share one ``order_list_id``.

        Returns
        -------
        tuple[Order, Order, Order]
            ``(entry, stop_loss, take_profit)``, ready for ``SubmitOrderList``.

        Raises
        ------
        ValueError
            If the stop-loss and take-profit are on the wrong side of each other for ``side``.
        """
        exit_side = side.opposite()
        if side is OrderSide.BUY and not sl_trigger_price < tp_price:
            raise ValueError(f"buy bracket needs stop-loss {sl_trigger_price} below take-profit {tp_price}")
        if side is OrderSide.SELL and not sl_trigger_price > tp_price:
            raise ValueError(f"sell bracket needs stop-loss {sl_trigger_price} above take-profit {tp_price}")
        olid = self.next_order_list_id()
        entry_id, sl_id, tp_id = (self.next_client_order_id() for _ in range(3))
        if entry_trigger_price is not None:
            etype = OrderType.STOP_LIMIT if entry_price is not None else OrderType.STOP_MARKET
        else:
            etype = OrderType.LIMIT if entry_price is not None else OrderType.MARKET
        entry = self._build(instrument_id, side, etype, quantity, client_order_id=entry_id, price=entry_price,
                            trigger_price=entry_trigger_price, time_in_force=entry_time_in_force,
                            order_list_id=olid, linked_order_ids=(sl_id, tp_id),
                            contingency_type=ContingencyType.OTO, tags=tags)  # fmt: skip
        sl = self._build(instrument_id, exit_side, OrderType.STOP_MARKET, quantity, client_order_id=sl_id,
                         trigger_price=sl_trigger_price, time_in_force=sl_time_in_force, reduce_only=True,
                         order_list_id=olid, parent_order_id=entry_id, linked_order_ids=(tp_id,),
                         contingency_type=ContingencyType.OCO, tags=tags)  # fmt: skip
        tp = self._build(instrument_id, exit_side, OrderType.LIMIT, quantity, client_order_id=tp_id, price=tp_price,
                         time_in_force=tp_time_in_force, post_only=tp_post_only, reduce_only=True,
                         order_list_id=olid, parent_order_id=entry_id, linked_order_ids=(sl_id,),
                         contingency_type=ContingencyType.OCO, tags=tags)  # fmt: skip
        return entry, sl, tp


__all__ = ["TRAILING_OFFSET_TYPES", "OrderFactory"]
