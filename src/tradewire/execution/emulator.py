"""`OrderEmulator`: holds stop, if-touched and trailing orders locally and triggers them on market data.

Used by the `ExecutionEngine` for order types the venue's client does not list in ``supports``.
While held, an emulated order stays INITIALIZED (local modifies are ``OrderUpdated`` events, a local
cancel is ``OrderCanceled``). When triggered the engine releases it as a market or limit order.

Trigger rules (price ``p`` is the ask for buys and the bid for sells on quotes, the trade price on
trades):

* stop-market, stop-limit, trailing stops: a buy triggers when ``p >= trigger``, a sell when ``p <= trigger``;
* market-if-touched, limit-if-touched: a buy triggers when ``p <= trigger``, a sell when ``p >= trigger``.

Trailing stops keep ``trigger = p - offset`` (sell) or ``p + offset`` (buy) and move it only in the
favourable direction (up for a sell stop, down for a buy stop). The offset is a price distance, or
basis points of ``p`` (1 bp = 1/10,000) rounded half-even to the instrument's tick. Each move is an
``OrderUpdated(trigger_price=...)`` event. A bar is walked along :func:`tradewire.model.data.bar_path_raw`
(open, high, low, close for an up or flat bar, else open, low, high, close), the same path the paper
venue matches on (an assumption: the true intrabar path is unknown).
Orders whose ``expire_time_ns`` has passed (DAY/GTD) expire on the first data at or after it, or on
:meth:`OrderEmulator.on_time` (``ExecutionEngine.on_time``), whichever comes first.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Final

from tradewire.core.cache import Cache
from tradewire.model.data import Bar, QuoteTick, TradeTick, bar_path_raw
from tradewire.model.enums import OrderSide, OrderType
from tradewire.model.identifiers import ClientOrderId, InstrumentId
from tradewire.model.objects import Price, div_round, parse_raw
from tradewire.model.orders import Order

REQUIRED_CAPABILITY: dict[OrderType, str] = {
    OrderType.STOP_MARKET: "stop_market",
    OrderType.STOP_LIMIT: "stop_limit",
    OrderType.MARKET_IF_TOUCHED: "mit",
    OrderType.LIMIT_IF_TOUCHED: "lit",
    OrderType.TRAILING_STOP_MARKET: "trailing",
    OrderType.TRAILING_STOP_LIMIT: "trailing",
}
"""Capability a client must list in ``supports`` to receive each order type natively."""

_IF_TOUCHED: Final = frozenset({OrderType.MARKET_IF_TOUCHED, OrderType.LIMIT_IF_TOUCHED})
_TRAILING: Final = frozenset({OrderType.TRAILING_STOP_MARKET, OrderType.TRAILING_STOP_LIMIT})


def offset_raw(order_offset: Decimal, offset_type: str | None, ref_raw: int, tick_raw: int) -> int:
    """Return a trailing/limit offset as a raw price distance.

    Parameters
    ----------
    order_offset : Decimal
        The offset, in price units or basis points.
    offset_type : str | None
        ``"price"`` (or None) or ``"bps"``.
    ref_raw : int
        Reference price raw (scale 1e9), used for bps.
    tick_raw : int
        Tick size raw; a bps offset is rounded half-even to a multiple of it.
    """
    if offset_type == "bps":
        num, den = order_offset.as_integer_ratio()
        off = div_round(ref_raw * num, den * 10_000)
        return div_round(off, tick_raw) * tick_raw if tick_raw > 1 else off
    return parse_raw(order_offset)


class OrderEmulator:
    """Locally held orders per instrument, checked on every quote, trade and bar of that instrument.

    Parameters
    ----------
    cache : Cache
        For instrument tick sizes.
    on_trigger : Callable[[Order, int, int], None]
        Called with ``(order, trigger price raw, ts_event)`` when an order triggers; the callee
        must release the order and call :meth:`remove`.
    on_trailing_update : Callable[[Order, Price, int], None]
        Called with the new trigger price when a trailing stop moves.
    on_expire : Callable[[Order, int], None]
        Called when an order's expire time has passed.
    """

    def __init__(self, cache: Cache, on_trigger: Callable[[Order, int, int], None],
                 on_trailing_update: Callable[[Order, Price, int], None],
                 on_expire: Callable[[Order, int], None]) -> None:  # fmt: skip
        self.cache = cache
        self._on_trigger = on_trigger
        self._on_trailing_update = on_trailing_update
        self._on_expire = on_expire
        self._orders: dict[InstrumentId, dict[ClientOrderId, Order]] = {}
        self.held_by_instrument = self._orders
        """Held orders by instrument (read-only view; an instrument's entry is removed when it empties)."""

    def add(self, order: Order) -> None:
        """Hold ``order`` until it triggers, expires or is removed."""
        self._orders.setdefault(order.instrument_id, {})[order.client_order_id] = order

    def remove(self, order: Order) -> None:
        """Stop holding ``order`` (no error if absent)."""
        held = self._orders.get(order.instrument_id)
        if held is not None:
            held.pop(order.client_order_id, None)
            if not held:
                del self._orders[order.instrument_id]

    def replace(self, order: Order) -> None:
        """Swap the held object for ``order`` with the same client order id (after a rebuild)."""
        held = self._orders.get(order.instrument_id)
        if held is not None and order.client_order_id in held:
            held[order.client_order_id] = order

    def held(self, instrument_id: InstrumentId | None = None) -> list[Order]:
        """Orders currently held (optionally for one instrument)."""
        if instrument_id is not None:
            return list(self._orders.get(instrument_id, {}).values())
        return [o for d in self._orders.values() for o in d.values()]

    def __contains__(self, order: Order) -> bool:
        return order.client_order_id in self._orders.get(order.instrument_id, ())

    # -- market data ------------------------------------------------------------------------------
    def on_quote_tick(self, tick: QuoteTick) -> None:
        """Check held orders of the tick's instrument against bid (sells) and ask (buys)."""
        held = self._orders.get(tick.instrument_id)
        if held:
            bid = tick.bid_price.raw
            ask = tick.ask_price.raw
            for order in list(held.values()):
                self._check(order, ask if order.side is OrderSide.BUY else bid, tick.ts_event)

    def on_trade_tick(self, tick: TradeTick) -> None:
        """Check held orders of the tick's instrument against the trade price."""
        held = self._orders.get(tick.instrument_id)
        if held:
            px = tick.price.raw
            for order in list(held.values()):
                self._check(order, px, tick.ts_event)

    def on_bar(self, bar: Bar) -> None:
        """Walk the bar's assumed path (:func:`~tradewire.model.data.bar_path_raw`) through the held orders."""
        held = self._orders.get(bar.bar_type.instrument_id)
        if not held:
            return
        for px in bar_path_raw(bar):
            for order in list(held.values()):
                if order.client_order_id in held:
                    self._check(order, px, bar.ts_event)

    def on_time(self, ts_ns: int) -> None:
        """Expire held orders whose ``expire_time_ns`` is at or before ``ts_ns`` (no market data needed)."""
        for held in list(self._orders.values()):
            for order in list(held.values()):
                if order.expire_time_ns is not None and ts_ns >= order.expire_time_ns:
                    self._on_expire(order, ts_ns)

    # -- logic ------------------------------------------------------------------------------------
    def _tick_raw(self, order: Order) -> int:
        inst = self.cache.instruments.get(order.instrument_id)
        return inst.tick_size.raw if inst is not None else 1

    def _check(self, order: Order, px: int, ts: int) -> None:
        if order.expire_time_ns is not None and ts >= order.expire_time_ns:
            self._on_expire(order, ts)
            return
        otype = order.order_type
        trig = order.trigger_price
        buy = order.side is OrderSide.BUY
        if trig is not None:
            t = trig.raw
            if otype in _IF_TOUCHED:
                hit = px <= t if buy else px >= t
            else:
                hit = px >= t if buy else px <= t
            if hit:
                self._on_trigger(order, t, ts)
                return
        if otype in _TRAILING:
            trailing = order.trailing_offset
            if trailing is None:
                raise ValueError(f"trailing order {order.client_order_id} has no trailing_offset")
            off = offset_raw(trailing, order.trailing_offset_type, px, self._tick_raw(order))
            cand = px + off if buy else px - off
            if trig is None or (cand < trig.raw if buy else cand > trig.raw):
                prec = trig.precision if trig is not None else self._precision(order)
                self._on_trailing_update(order, Price.from_raw(cand, prec), ts)

    def _precision(self, order: Order) -> int:
        inst = self.cache.instruments.get(order.instrument_id)
        return inst.price_precision if inst is not None else 9


def limit_price_after_trigger(order: Order, trigger_raw: int, tick_raw: int) -> int:
    """Limit price raw of a released trailing stop-limit: trigger plus (buy) or minus (sell) ``limit_offset``."""
    off = offset_raw(order.limit_offset or Decimal(0), order.trailing_offset_type, trigger_raw, tick_raw)
    return trigger_raw + off if order.side is OrderSide.BUY else trigger_raw - off


__all__ = ["REQUIRED_CAPABILITY", "OrderEmulator", "limit_price_after_trigger", "offset_raw"]
