"""Matching and fills of the paper `MatchingEngine`: taking from the book, maker crosses, bar/trade paths.

See :mod:`tradewire.venues.paper.matching` for the rules (book walk up to the limit, maker fills at the
order's own price up to the crossing size, bar path open -> high/low -> close, reduce-only caps).
"""

from __future__ import annotations

from typing import Any, Final

from mypy_extensions import trait

from tradewire.model.enums import LiquiditySide, OrderStatus, OrderType, TimeInForce
from tradewire.model.events import OrderFilled
from tradewire.model.identifiers import TradeId
from tradewire.model.objects import Price, Quantity
from tradewire.venues.paper.config import RemainderPolicy
from tradewire.venues.paper.engine_state import EngineState
from tradewire.venues.paper.state import CONDITIONAL, VenueOrder, limit_touch, trigger_touch

# enum members as module constants: Enum class attribute access is a Python-level lookup in 3.11
_FILLED: Final = OrderStatus.FILLED
_FOK: Final = TimeInForce.FOK
_IOC: Final = TimeInForce.IOC
_MAKER: Final = LiquiditySide.MAKER
_PARTIALLY_FILLED: Final = OrderStatus.PARTIALLY_FILLED
_SAME_PRICE: Final = RemainderPolicy.SAME_PRICE
_SLIPPAGE: Final = RemainderPolicy.SLIPPAGE
_TAKER: Final = LiquiditySide.TAKER
_MARKET: Final = OrderType.MARKET
_CACHE_SIZE: Final = 4096  # Price/Quantity objects kept per matching engine for reuse by later fills

# ids built here from already valid parts (non-empty, no surrounding whitespace) skip the
# Identifier re-validation: str.__new__ gives the same typed value
_new_id: Final = str.__new__


@trait
class BookMatching(EngineState):
    """Mixin of `MatchingEngine`: matching working orders and emitting fills (uses the engine's state)."""

    # == matching ==================================================================================
    def _capped_leaves(self, vo: VenueOrder) -> int:
        """Leaves quantity raw, for a reduce-only order capped by the opposite venue position (0 if none)."""
        leaves = vo.leaves_raw
        if vo.reduce_only:
            pos = self.position.signed_qty_raw
            cap = abs(pos) if pos != 0 and (pos > 0) != vo.is_buy else 0
            if cap < leaves:
                return cap
        return leaves

    def _slip(self, vo: VenueOrder, px: int) -> int:
        return self.slippage.adjust(vo.is_buy, px, self._tick, self.book.best_bid_raw(), self.book.best_ask_raw())

    def _match_book_all(self) -> None:
        if not self._session_ok(self.ts):
            return
        book = self.book
        on_update = self.queue_model.on_level_update
        l1 = book.is_l1
        working = self.working
        for vo in list(working.values()):
            if vo.client_order_id not in working:
                continue
            if l1 and vo.first_pass and vo.order_type is _MARKET and not vo.reduce_only:
                # a market order already past its first pass waits for liquidity on its side: with none
                # left in this update, _match_book would find no level and change nothing
                if book.l1_available(vo.is_buy) <= 0:
                    continue
            elif vo.rested and vo.queue_ahead:
                vo.queue_ahead = on_update(vo.queue_ahead, book.displayed(vo.is_buy, vo.price_raw))  # type: ignore[arg-type]
            self._match_book(vo)

    def _match_book(self, vo: VenueOrder) -> None:
        """Match one order against the current book (taker on its first pass, maker once resting)."""
        book = self.book
        if vo.order_type is _MARKET:
            self._take(vo, None)
            if vo.client_order_id in self.working:  # else filled or canceled: _end_first_pass has nothing to do
                self._end_first_pass(vo)
            return
        if vo.order_type in CONDITIONAL and not vo.triggered:
            ref = book.best_ask_raw() if vo.is_buy else book.best_bid_raw()
            if ref is None or trigger_touch(vo.order_type, vo.is_buy, vo.trigger_raw, ref, ref) is None:  # type: ignore[arg-type]
                return
            self._trigger(vo)
        if vo.is_market_like:
            self._take(vo, None)
        elif vo.rested:
            if self._crosses_book(vo):
                self._maker_cross(vo)
        else:
            if vo.post_only and self._crosses_book(vo):
                self._cancel_rest(vo, f"post-only limit {self._px(vo.price_raw)} would take liquidity")  # type: ignore[arg-type]
                return
            self._take(vo, vo.price_raw)
        self._end_first_pass(vo)

    def _take(self, vo: VenueOrder, limit: int | None) -> None:
        """Walk the opposite side as a taker up to ``limit`` (None = market), applying the TIF rules."""
        want = self._capped_leaves(vo) if vo.reduce_only else vo.quantity_raw - vo.filled_raw
        if want <= 0:
            self._cancel_rest(vo, "reduce-only order would increase the position")
            return
        book = self.book
        take_asks = vo.is_buy
        levels, total = book.take_levels(take_asks, limit, want)
        tif = vo.time_in_force
        if tif is _FOK and total < want:
            self._cancel_rest(vo, f"FOK: {want} (raw) wanted, {total} (raw) available")
            return
        if not levels:
            return  # nothing to take now: market orders wait, limits rest
        market = limit is None
        slip = market and not self._no_slippage
        # the touch before this order's fills, for the slippage model (not read without one)
        bid, ask = (book.best_bid_raw(), book.best_ask_raw()) if slip else (None, None)
        fills: list[tuple[int, int]] = []
        rem = want
        for px, avail in levels:
            q = avail if avail < rem else rem
            book.consume(take_asks, px, q)
            fills.append((px, q))
            rem -= q
            if not rem:
                break
        if rem and market and tif not in (_IOC, _FOK):
            policy = self.config.remainder_policy
            last = fills[-1][0]
            if policy is _SAME_PRICE:
                fills.append((last, rem))
                rem = 0
            elif policy is _SLIPPAGE:
                fills.append((last + self._tick if take_asks else last - self._tick, rem))
                rem = 0
        for px, q in fills:
            if slip:
                px = self.slippage.adjust(take_asks, px, self._tick, bid, ask)
            self._fill(vo, q, px, _TAKER)
            if vo.client_order_id not in self.working:
                return
        if rem and market:
            self._cancel_rest(vo, f"market remainder canceled: no visible liquidity ({self.config.remainder_policy})")

    def _maker_cross(self, vo: VenueOrder) -> None:
        """The book moved through a resting limit: fill at the limit, up to the crossing size."""
        lim = vo.price_raw
        want = self._capped_leaves(vo)
        if want <= 0:
            self._cancel_rest(vo, "reduce-only order would increase the position")
            return
        got = 0
        for px, avail in list(self.book.liquidity(vo.is_buy, lim)):
            q = min(avail, want - got)
            self.book.consume(vo.is_buy, px, q)
            got += q
            if got == want:
                break
        if got:
            self._fill(vo, got, lim, _MAKER)  # type: ignore[arg-type]

    def _match_segment(self, vo: VenueOrder, a: int, b: int, ts: int) -> None:
        """Match one order along a price move ``a -> b`` (bars, or a trade with ``a == b``)."""
        if vo.order_type in CONDITIONAL and not vo.triggered:
            x = trigger_touch(vo.order_type, vo.is_buy, vo.trigger_raw, a, b)  # type: ignore[arg-type]
            if x is None:
                return
            saved, self.ts = self.ts, max(self.ts, ts)
            self._trigger(vo)
            self.ts = saved
            a = x
        if vo.order_type is _MARKET or vo.is_market_like:  # the plain market order without the property call
            if vo.first_pass or vo.triggered or a == b:
                q = self._capped_leaves(vo) if vo.reduce_only else vo.quantity_raw - vo.filled_raw
                self._fill_at(vo, q, a if self._no_slippage else self._slip(vo, a), _TAKER, ts)
            return
        x = limit_touch(vo.is_buy, vo.price_raw, a, b)  # type: ignore[arg-type]
        if x is None:
            if vo.triggered and not vo.rested:
                self._rest(vo)
            return
        if vo.post_only and not vo.rested:
            self._cancel_rest(vo, f"post-only limit {self._px(vo.price_raw)} would take liquidity")  # type: ignore[arg-type]
            return
        liq = _MAKER if vo.rested else _TAKER
        self._fill_at(vo, self._capped_leaves(vo), x, liq, ts)

    def _fill_at(self, vo: VenueOrder, qty: int, px: int, liq: LiquiditySide, ts: int) -> None:
        if qty <= 0:
            self._cancel_rest(vo, "reduce-only order would increase the position")
            return
        saved = self.ts
        self.ts = ts if ts > vo.ts_accepted else vo.ts_accepted  # max(), without the builtin call
        self._fill(vo, qty, px, liq)
        if saved > self.ts:
            self.ts = saved

    def _fill(self, vo: VenueOrder, qty: int, px: int, liq: LiquiditySide) -> None:
        """Emit one fill of ``qty`` raw at ``px`` raw and update the order and the venue position."""
        ts = self.ts
        inst = self.instrument
        self.trade_seq += 1
        vo.filled_raw += qty
        vo.notional += px * qty
        vo.ts_last = ts
        done = vo.filled_raw == vo.quantity_raw
        vo.status = _FILLED if done else _PARTIALLY_FILLED
        if done:
            self.working.pop(vo.client_order_id, None)
        self.position.apply(vo.is_buy, qty, px, ts)
        # Prices and Quantities are immutable: one object per raw value serves every fill at it
        last_px = self._prices.get(px)
        if last_px is None:
            last_px = self._cached(self._prices, px, Price.from_raw(px, self._pp))
        if vo.size_precision == self._sp:
            last_qty = self._quantities.get(qty)
            if last_qty is None:
                last_qty = self._cached(self._quantities, qty, Quantity.from_raw(qty, self._sp))
        else:
            last_qty = Quantity.from_raw(qty, vo.size_precision)
        fill = OrderFilled(
            vo.client_order_id, vo.strategy_id, vo.instrument_id, ts, ts, vo.venue_order_id,
            _new_id(TradeId, f"{self._trade_prefix}{self.trade_seq}"), vo.side, vo.order_type, last_qty, last_px,
            self.fee_model.commission(inst, qty, px, liq), liq, None, self.account_id,
        )  # fmt: skip
        self._emit(fill)
        self._on_fill(vo, fill)
        if not done and vo.reduce_only and not self._reduces(vo) and vo.client_order_id in self.working:
            self._cancel_rest(vo, "reduce-only remainder canceled: position closed")

    @staticmethod
    def _cached(cache: dict[int, Any], raw: int, value: Any) -> Any:
        """Keep ``value`` as the object for ``raw`` (the cache is emptied at 4,096 entries) and return it."""
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        cache[raw] = value
        return value

    def _px(self, raw: int) -> str:
        return str(Price.from_raw(raw, self._pp))
