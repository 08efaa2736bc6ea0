"""The paper venue's own record of an order (`VenueOrder`) and the price-path touch rules.

The venue does not mutate the engine's `Order` objects: it keeps its own copy of what it was sent and
what happened, as exchanges do, so it can answer reconciliation reports and be snapshotted.
"""

from __future__ import annotations

from typing import Any, Final

from tradewire.model.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from tradewire.model.identifiers import ClientOrderId, InstrumentId, StrategyId, VenueOrderId
from tradewire.model.orders import Order

# enum members as module constants: Enum class attribute access is a Python-level lookup in 3.11
_BUY: Final = OrderSide.BUY
_MARKET: Final = OrderType.MARKET
_SUBMITTED: Final = OrderStatus.SUBMITTED

MARKET_LIKE = frozenset({OrderType.MARKET, OrderType.STOP_MARKET, OrderType.MARKET_IF_TOUCHED})
CONDITIONAL = frozenset(
    {OrderType.STOP_MARKET, OrderType.STOP_LIMIT, OrderType.MARKET_IF_TOUCHED, OrderType.LIMIT_IF_TOUCHED}
)
LIMIT_TYPES = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.LIMIT_IF_TOUCHED})
STOP_TYPES = frozenset({OrderType.STOP_MARKET, OrderType.STOP_LIMIT})
OPEN_STATUSES = frozenset({OrderStatus.ACCEPTED, OrderStatus.TRIGGERED, OrderStatus.PARTIALLY_FILLED})

# VenueOrder's attributes, in to_dict order (a compiled class has no readable __slots__)
_FIELDS: Final = (
    "client_order_id", "expire_ns", "filled_raw", "first_pass", "instrument_id", "is_buy", "matchable",
    "notional", "order_type", "post_only", "price_precision", "price_raw", "quantity_raw", "queue_ahead",
    "reduce_only", "reject_reason", "rested", "side", "size_precision", "status", "strategy_id",
    "time_in_force", "trigger_raw", "triggered", "ts_accepted", "ts_last", "ts_submitted", "venue_order_id",
)  # fmt: skip


class VenueOrder:
    """What the paper venue knows about one order (prices and quantities as raws, scale 1e9).

    ``queue_ahead`` is the displayed size still ahead of the order at its price (None until it rests);
    ``rested`` is True once the order has had its first matching pass and still works (later fills are
    maker fills); ``first_pass`` records that the first matching opportunity happened (IOC/FOK end there).
    """

    __slots__ = _FIELDS

    def __init__(
        self, client_order_id: ClientOrderId, venue_order_id: VenueOrderId, strategy_id: StrategyId,
        instrument_id: InstrumentId, side: OrderSide, order_type: OrderType, quantity_raw: int,
        price_raw: int | None, trigger_raw: int | None, time_in_force: TimeInForce, expire_ns: int | None,
        post_only: bool, reduce_only: bool, ts_submitted: int, price_precision: int, size_precision: int,
    ) -> None:  # fmt: skip
        self.client_order_id = client_order_id
        self.venue_order_id = venue_order_id
        self.strategy_id = strategy_id
        self.instrument_id = instrument_id
        self.side = side
        self.is_buy = side is _BUY
        self.order_type = order_type
        self.quantity_raw = quantity_raw
        self.filled_raw = 0
        self.notional = 0  # sum(px_raw * qty_raw), scale 1e18
        self.price_raw = price_raw
        self.trigger_raw = trigger_raw
        self.time_in_force = time_in_force
        self.expire_ns = expire_ns
        self.post_only = post_only
        self.reduce_only = reduce_only
        self.triggered = False
        self.status = _SUBMITTED
        self.ts_submitted = ts_submitted
        self.ts_accepted = 0
        self.ts_last = ts_submitted
        self.queue_ahead: int | None = None
        self.rested = False
        self.first_pass = False
        self.matchable = False
        self.reject_reason: str | None = None
        self.price_precision = price_precision
        self.size_precision = size_precision

    @classmethod
    def from_order(cls, order: Order, venue_order_id: VenueOrderId, ts: int, price_precision: int) -> VenueOrder:
        """Copy the specification of an engine `Order`."""
        return cls(
            order.client_order_id, venue_order_id, order.strategy_id, order.instrument_id, order.side,
            order.order_type, order.quantity.raw, None if order.price is None else order.price.raw,
            None if order.trigger_price is None else order.trigger_price.raw, order.time_in_force,
            order.expire_time_ns, order.post_only, order.reduce_only, ts, price_precision, order.quantity.precision,
        )  # fmt: skip

    @property
    def leaves_raw(self) -> int:
        """Quantity still to fill (raw)."""
        return self.quantity_raw - self.filled_raw

    @property
    def is_open(self) -> bool:
        """True while the venue may still fill it (acknowledged or not)."""
        return self.status in OPEN_STATUSES or self.status is _SUBMITTED

    @property
    def is_market_like(self) -> bool:
        """True for a market order or a triggered stop-market / market-if-touched."""
        t = self.order_type
        return t is _MARKET or (self.triggered and t in MARKET_LIKE)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (raws as decimal strings of ints, enums as values)."""
        out: dict[str, Any] = {}
        for name in _FIELDS:
            v = getattr(self, name)
            if isinstance(v, (OrderSide, OrderType, TimeInForce, OrderStatus)):
                v = v.value
            elif isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool)):
                v = str(v)
            out[name] = v
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VenueOrder:
        """Inverse of :meth:`to_dict`; raises KeyError/ValueError on a malformed dict."""

        def i(key: str) -> int | None:
            return None if d[key] is None else int(d[key])

        vo = cls(
            ClientOrderId(d["client_order_id"]), VenueOrderId(d["venue_order_id"]), StrategyId(d["strategy_id"]),
            InstrumentId(d["instrument_id"]), OrderSide(d["side"]), OrderType(d["order_type"]),
            int(d["quantity_raw"]), i("price_raw"), i("trigger_raw"), TimeInForce(d["time_in_force"]),
            i("expire_ns"), bool(d["post_only"]), bool(d["reduce_only"]), int(d["ts_submitted"]),
            int(d["price_precision"]), int(d["size_precision"]),
        )  # fmt: skip
        vo.filled_raw = int(d["filled_raw"])
        vo.notional = int(d["notional"])
        vo.triggered = bool(d["triggered"])
        vo.status = OrderStatus(d["status"])
        vo.ts_accepted = int(d["ts_accepted"])
        vo.ts_last = int(d["ts_last"])
        vo.queue_ahead = i("queue_ahead")
        vo.rested = bool(d["rested"])
        vo.first_pass = bool(d["first_pass"])
        vo.matchable = bool(d["matchable"])
        vo.reject_reason = d["reject_reason"]
        return vo


def trigger_touch(order_type: OrderType, is_buy: bool, trigger: int, a: int, b: int) -> int | None:
    """Price at which a conditional order triggers while the price moves from ``a`` to ``b``, or None.

    Stops trigger when the price reaches the trigger against the position being protected (buy stop:
    price >= trigger; sell stop: price <= trigger); if-touched orders trigger in the favourable direction
    (buy MIT/LIT: price <= trigger; sell: price >= trigger). If the condition already holds at ``a`` the
    order triggers at ``a`` (a gap through the trigger), otherwise at the trigger price itself.
    """
    up = (order_type in STOP_TYPES) == is_buy  # True: triggers on price >= trigger
    if up:
        if a >= trigger:
            return a
        return trigger if b >= trigger else None
    if a <= trigger:
        return a
    return trigger if b <= trigger else None


def limit_touch(is_buy: bool, limit: int, a: int, b: int) -> int | None:
    """Fill price of a limit order while the price moves from ``a`` to ``b``, or None if not reached.

    Marketable at ``a`` (buy: ``a <= limit``) fills at ``a``; reached within the move fills at ``limit``.
    """
    if is_buy:
        if a <= limit:
            return a
        return limit if b <= limit else None
    if a >= limit:
        return a
    return limit if b >= limit else None
