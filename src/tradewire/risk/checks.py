"""Pre-trade checks: each returns a denial ``(code, text)`` or None.

The :class:`PreTradeChecker` runs the checks for one order (or one modification) in a fixed order,
cheapest first, and stops at the first denial. All amounts are compared as exact integers (raw
fixed-point, scale 1e9); percentages as integer ratios. Missing data that a configured check needs
(no price for a market order's notional, no reference price for the collar, no balance for the
currency) denies the order with a clear reason: nothing passes unchecked.

Reason codes
------------
INSTRUMENT_UNKNOWN, INSTRUMENT_NOT_ALLOWED, QUANTITY_INVALID, QUANTITY_NOT_ON_LOT, QUANTITY_BELOW_MIN,
QUANTITY_ABOVE_MAX, PRICE_NOT_ON_TICK, PRICE_MISSING, REDUCE_ONLY, MAX_ORDER_QUANTITY, NO_MARKET_PRICE,
NOTIONAL_BELOW_MIN, MAX_NOTIONAL, PRICE_COLLAR, MAX_POSITION, MAX_CONTRACTS, MAX_CONCENTRATION,
MAX_OPEN_ORDERS, RATE_LIMIT, MARKET_CLOSED, INSUFFICIENT_BALANCE, INSUFFICIENT_MARGIN, NO_ACCOUNT.
The engine adds TRADING_HALTED, TRADING_REDUCING, ORDER_UNKNOWN and ORDER_LIST.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

from tradewire.core.cache import Cache
from tradewire.model.enums import OrderSide, OrderType
from tradewire.model.identifiers import ClientOrderId, InstrumentId, StrategyId
from tradewire.model.instruments import Instrument
from tradewire.model.objects import Currency, Money, Price, mul_raw
from tradewire.model.orders import Order
from tradewire.risk.config import PreTradeConfig
from tradewire.risk.rules import dec_to_raw

Denial = tuple[str, str]
SessionProvider = Callable[[InstrumentId, int], bool]
"""``(instrument_id, ts_ns) -> True`` when the instrument's trading session is open at ``ts_ns``."""


class PortfolioView(Protocol):
    """What the risk engine reads from the portfolio (a subset of ``tradewire.portfolio.Portfolio``)."""

    def net_position_raw(self, instrument_id: InstrumentId, strategy_id: StrategyId | None = None) -> int:
        """Signed net quantity raw (scale 1e9)."""
        ...

    def equity(self, currency: Currency) -> Money:
        """Balances plus unrealized P&L in ``currency``."""
        ...

    def balance_free(self, currency: Currency) -> Money:
        """Free (unlocked, not used as margin) balance in ``currency``."""
        ...

    def balance_total(self, currency: Currency) -> Money:
        """Total balance in ``currency``."""
        ...


def optional_method(obj: object, name: str) -> Any:
    """``obj.name`` if it is a method (optional fast readers of a portfolio), else None."""
    m = getattr(obj, name, None)
    return m if callable(m) else None


def fmt_amount(raw: int, unit: str = "") -> str:
    """``1250000000000000, "USD"`` -> ``"1,250,000 USD"`` (exact, thousands separators)."""
    text = format(Decimal(raw).scaleb(-9).normalize(), ",f")
    return f"{text} {unit}" if unit else text


def _ratio(pct: Decimal) -> tuple[int, int]:
    num, den = pct.as_integer_ratio()
    return num, den


_PRICED = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.LIMIT_IF_TOUCHED, OrderType.TRAILING_STOP_LIMIT})
_TRIGGERED = frozenset({OrderType.STOP_MARKET, OrderType.MARKET_IF_TOUCHED})


class _Compiled:
    """Per-instrument limits as raw integers (built once per instrument)."""

    __slots__ = (
        "allowed", "collar", "denied_text", "fee_kind", "fee_raw", "margin_raw", "max_notional_raw",
        "max_position_raw", "max_qty_raw",
    )  # fmt: skip

    def __init__(self, inst: Instrument, cfg: PreTradeConfig) -> None:
        iid = str(inst.id)
        lim = cfg.limits_for(iid)
        self.max_qty_raw = None if lim.max_order_quantity is None else dec_to_raw(lim.max_order_quantity)
        self.max_notional_raw = None if lim.max_order_notional is None else dec_to_raw(lim.max_order_notional)
        self.max_position_raw = None if lim.max_position is None else dec_to_raw(lim.max_position)
        self.collar = None if lim.price_collar_pct is None else _ratio(lim.price_collar_pct)
        self.denied_text: str | None = None
        if iid in cfg.denied_instruments:
            self.denied_text = f"INSTRUMENT_NOT_ALLOWED: {iid} is on the deny list"
        elif cfg.allowed_instruments is not None and iid not in cfg.allowed_instruments:
            self.denied_text = f"INSTRUMENT_NOT_ALLOWED: {iid} is not on the allow list"
        self.margin_raw = dec_to_raw(inst.margin_init) if inst.margin_init else 0
        if inst.fee_per_contract is not None:
            self.fee_kind, self.fee_raw = 1, inst.fee_per_contract.raw
        else:
            self.fee_kind, self.fee_raw = 2, dec_to_raw(max(inst.taker_fee, Decimal(0)))


class RateLimiter:
    """Sliding-window counter: at most ``limit`` events per ``window_ns`` per key (on the caller's clock).

    An event at time t counts against the window ``(t - window_ns, t]``. :meth:`allows` does not
    record; call :meth:`record` once the guarded action really happens, so denied orders do not use
    up the budget.
    """

    __slots__ = ("_events", "limit", "window_ns")

    def __init__(self, limit: int, window_ns: int) -> None:
        if limit <= 0 or window_ns <= 0:
            raise ValueError("limit and window_ns must be positive")
        self.limit = limit
        self.window_ns = window_ns
        self._events: dict[object, deque[int]] = {}

    def allows(self, key: object, ts_ns: int) -> bool:
        """True if one more event at ``ts_ns`` stays within the limit."""
        q = self._events.get(key)
        if q is None:
            return True
        edge = ts_ns - self.window_ns
        while q and q[0] <= edge:
            q.popleft()
        return len(q) < self.limit

    def record(self, key: object, ts_ns: int) -> None:
        """Count an event at ``ts_ns``."""
        q = self._events.get(key)
        if q is None:
            q = self._events[key] = deque()
        q.append(ts_ns)

    def count(self, key: object, ts_ns: int) -> int:
        """Events in the window ending at ``ts_ns``."""
        self.allows(key, ts_ns)
        q = self._events.get(key)
        return 0 if q is None else len(q)


class WorkingOrders:
    """Orders the risk engine forwarded and that are not closed yet (the same `Order` objects the OMS updates).

    Counts can be stale-high (an order closed without an event reaching :meth:`on_event`); callers
    :meth:`prune` before denying on a count.
    """

    __slots__ = ("by_instrument", "by_strategy", "orders")

    def __init__(self) -> None:
        self.orders: dict[ClientOrderId, Order] = {}
        self.by_instrument: dict[InstrumentId, dict[ClientOrderId, Order]] = {}
        self.by_strategy: dict[StrategyId, int] = {}

    def add(self, order: Order) -> None:
        """Track ``order``."""
        coid = order.client_order_id
        if coid in self.orders:
            return
        self.orders[coid] = order
        d = self.by_instrument.get(order.instrument_id)
        if d is None:
            d = self.by_instrument[order.instrument_id] = {}
        d[coid] = order
        self.by_strategy[order.strategy_id] = self.by_strategy.get(order.strategy_id, 0) + 1

    def remove(self, coid: ClientOrderId) -> None:
        """Stop tracking an order (no error if unknown)."""
        order = self.orders.pop(coid, None)
        if order is None:
            return
        self.by_instrument[order.instrument_id].pop(coid, None)
        self.by_strategy[order.strategy_id] -= 1

    def on_event(self, event: object) -> None:
        """Drop the order an order event closed (subscribe to ``events.order.*``)."""
        coid = getattr(event, "client_order_id", None)
        order = self.orders.get(coid) if coid is not None else None
        if order is not None and order.status.is_closed:
            self.remove(coid)

    def prune(self) -> None:
        """Drop every closed order."""
        for coid in [c for c, o in self.orders.items() if o.status.is_closed]:
            self.remove(coid)

    def same_side_leaves_raw(self, instrument_id: InstrumentId, side: OrderSide, exclude: ClientOrderId | None) -> int:
        """Sum of leaves quantity of open orders on ``side`` for the instrument (raw)."""
        d = self.by_instrument.get(instrument_id)
        if not d:
            return 0
        total = 0
        for coid, o in d.items():
            if o.side is side and coid != exclude and not o.status.is_closed:
                total += o.quantity.raw - o.filled_qty.raw
        return total


class PreTradeChecker:
    """Run the configured pre-trade checks for a new order or a modification.

    Parameters
    ----------
    config : PreTradeConfig
    cache : Cache
        Instruments and latest quotes/trades/bars (reference prices), open positions.
    portfolio : PortfolioView
        Net positions, equity and free balances.
    working : WorkingOrders
        Open orders forwarded by the engine (open-order counts, worst-case position).
    session_provider : SessionProvider | None
        Trading-session test; required when ``config.check_session`` is true for the check to run
        (without one the check is skipped, and the engine reports ``session_check: off`` in status).
    max_contracts_raw : int | None
        Account-wide cap on the sum of absolute positions (from the ``max_contracts`` account rule).
    """

    def __init__(
        self, config: PreTradeConfig, cache: Cache, portfolio: PortfolioView, working: WorkingOrders,
        session_provider: SessionProvider | None = None, max_contracts_raw: int | None = None,
    ) -> None:  # fmt: skip
        self.config = config
        self.cache = cache
        self.portfolio = portfolio
        # raw-int readers when the portfolio has them (tradewire's Portfolio does): no Money per check
        self._free_raw = optional_method(portfolio, "balance_free_raw")
        self._equity_raw = optional_method(portfolio, "equity_raw")
        self.working = working
        self.session_provider = session_provider if config.check_session else None
        self.max_contracts_raw = max_contracts_raw
        self._compiled: dict[InstrumentId, _Compiled] = {}
        w = config.rate_window_ns
        self.submit_rate = (
            None if config.max_submits_per_second is None else RateLimiter(config.max_submits_per_second, w)
        )
        self.modify_rate = (
            None if config.max_modifies_per_second is None else RateLimiter(config.max_modifies_per_second, w)
        )
        n = config.max_account_submits_per_second
        self.account_rate = None if n is None else RateLimiter(n, w)
        self._conc = None if config.max_concentration_pct is None else _ratio(config.max_concentration_pct)

    def compiled(self, inst: Instrument) -> _Compiled:
        """Raw limits for ``inst`` (cached)."""
        c = self._compiled.get(inst.id)
        if c is None:
            c = self._compiled[inst.id] = _Compiled(inst, self.config)
        return c

    # -- helpers ---------------------------------------------------------------------------------
    def market_price_raw(self, instrument_id: InstrumentId, side: OrderSide) -> int | None:
        """Price a market order would pay: ask for a buy, bid for a sell, else last trade, else bar close."""
        cache = self.cache
        q = cache.quotes.get(instrument_id)
        if q is not None:
            return q.ask_price.raw if side is OrderSide.BUY else q.bid_price.raw
        t = cache.trades.get(instrument_id)
        if t is not None:
            return t.price.raw
        b = cache.bars.get(instrument_id)
        return None if b is None else b.close.raw

    def worst_case_contracts_raw(self, exclude: InstrumentId | None = None) -> int:
        """Sum over instruments (except ``exclude``) of ``|net position|`` plus working leaves that add to it."""
        net: dict[InstrumentId, int] = {}
        for p in self.cache.positions.values():
            if p.signed_qty_raw and p.instrument_id != exclude:
                net[p.instrument_id] = net.get(p.instrument_id, 0) + p.signed_qty_raw
        total = sum(abs(q) for q in net.values())
        for iid, orders in self.working.by_instrument.items():
            if iid == exclude:
                continue
            q = net.get(iid, 0)
            for o in orders.values():
                if not o.status.is_closed and (q == 0 or (q > 0) == (o.side is OrderSide.BUY)):
                    total += o.quantity.raw - o.filled_qty.raw
        return total

    # -- the checks ------------------------------------------------------------------------------
    def check_static(
        self, instrument_id: InstrumentId, order_type: OrderType, qty_raw: int, price: Price | None,
        trigger_price: Price | None,
    ) -> Denial | None:  # fmt: skip
        """Instrument known and allowed, quantity positive/on lot/within instrument bounds, prices on tick."""
        inst = self.cache.instruments.get(instrument_id)
        if inst is None:
            return "INSTRUMENT_UNKNOWN", f"INSTRUMENT_UNKNOWN: no instrument {instrument_id} in the cache"
        c = self._compiled.get(instrument_id)
        if c is None:
            c = self.compiled(inst)
        if c.denied_text is not None:
            return "INSTRUMENT_NOT_ALLOWED", c.denied_text
        # quantity
        if qty_raw <= 0:
            return "QUANTITY_INVALID", f"QUANTITY_INVALID: quantity {fmt_amount(qty_raw)} must be > 0"
        if qty_raw % inst.lot_size.raw:
            return "QUANTITY_NOT_ON_LOT", (
                f"QUANTITY_NOT_ON_LOT: quantity {fmt_amount(qty_raw)} is not a multiple of lot size {inst.lot_size}"
            )
        if inst.min_quantity is not None and qty_raw < inst.min_quantity.raw:
            return "QUANTITY_BELOW_MIN", f"QUANTITY_BELOW_MIN: quantity {fmt_amount(qty_raw)} < {inst.min_quantity}"
        if inst.max_quantity is not None and qty_raw > inst.max_quantity.raw:
            return "QUANTITY_ABOVE_MAX", f"QUANTITY_ABOVE_MAX: quantity {fmt_amount(qty_raw)} > {inst.max_quantity}"
        # prices
        tick = inst.tick_size.raw
        if price is not None and price.raw % tick:
            return "PRICE_NOT_ON_TICK", f"PRICE_NOT_ON_TICK: price {price} is not a multiple of tick {inst.tick_size}"
        if trigger_price is not None and trigger_price.raw % tick:
            return "PRICE_NOT_ON_TICK", (
                f"PRICE_NOT_ON_TICK: trigger price {trigger_price} is not a multiple of tick {inst.tick_size}"
            )
        return None

    def check(
        self, strategy_id: StrategyId, instrument_id: InstrumentId, side: OrderSide, order_type: OrderType,
        qty_raw: int, price: Price | None, trigger_price: Price | None, reduce_only: bool, ts_ns: int,
        modify_of: Order | None = None,
    ) -> Denial | None:  # fmt: skip
        """Check one order (or the order ``modify_of`` as it would be after a modification).

        Parameters
        ----------
        qty_raw : int
            Order quantity raw (scale 1e9); for a modification the new total quantity.
        price, trigger_price : Price | None
            Limit and trigger prices (as they would be after a modification).
        ts_ns : int
            Current time (clock) for throttles and the session test.
        modify_of : Order | None
            The order being modified (excluded from counts; throttled with the modify budget).

        Returns
        -------
        (code, text) | None
            The first failing check, or None when the order passes.
        """
        cache = self.cache
        denial = self.check_static(instrument_id, order_type, qty_raw, price, trigger_price)
        if denial is not None:
            return denial
        inst = cache.instruments[instrument_id]
        c = self._compiled[instrument_id]
        if c.max_qty_raw is not None and qty_raw > c.max_qty_raw:
            return "MAX_ORDER_QUANTITY", (
                f"MAX_ORDER_QUANTITY: quantity {fmt_amount(qty_raw)} > limit {fmt_amount(c.max_qty_raw)}"
            )
        if order_type in _PRICED:
            if price is None:
                return "PRICE_MISSING", f"PRICE_MISSING: {order_type.value} order without a limit price"
            px_raw = price.raw
        elif order_type in _TRIGGERED:
            if trigger_price is None:
                return "PRICE_MISSING", f"PRICE_MISSING: {order_type.value} order without a trigger price"
            px_raw = trigger_price.raw
        else:
            mp = self.market_price_raw(instrument_id, side)
            if mp is None:
                return "NO_MARKET_PRICE", (
                    f"NO_MARKET_PRICE: no quote, trade or bar for {instrument_id} to value a {order_type.value} order"
                )
            px_raw = mp
        # position, reduce-only
        pos = self.portfolio.net_position_raw(instrument_id)
        signed = qty_raw if side is OrderSide.BUY else -qty_raw
        if reduce_only and not (pos != 0 and (pos > 0) != (signed > 0) and qty_raw <= abs(pos)):
            return "REDUCE_ONLY", (
                f"REDUCE_ONLY: {side.value} {fmt_amount(qty_raw)} would not reduce position {fmt_amount(pos)}"
            )
        # notional
        notional = inst.notional_raw(qty_raw, px_raw)
        anot = abs(notional)
        ccy = inst.settlement_currency
        if inst.min_notional is not None and anot < inst.min_notional.raw:
            return "NOTIONAL_BELOW_MIN", (
                f"NOTIONAL_BELOW_MIN: notional {fmt_amount(anot, ccy.code)} < minimum {inst.min_notional}"
            )
        if c.max_notional_raw is not None and anot > c.max_notional_raw:
            return "MAX_NOTIONAL", (
                f"MAX_NOTIONAL: notional {fmt_amount(anot, ccy.code)} > limit "
                f"{fmt_amount(c.max_notional_raw, ccy.code)}"
            )
        # collar (fat finger)
        if c.collar is not None and (price is not None or trigger_price is not None):
            ref = cache.last_price_raw(instrument_id)
            if ref is None or ref == 0:
                return "PRICE_COLLAR", f"PRICE_COLLAR: no reference price for {instrument_id} to check the collar"
            num, den = c.collar
            for label, p in (("price", price), ("trigger price", trigger_price)):
                if p is not None and abs(p.raw - ref) * 100 * den > num * abs(ref):
                    dev = Decimal(abs(p.raw - ref) * 100) / Decimal(abs(ref))
                    return "PRICE_COLLAR", (
                        f"PRICE_COLLAR: {label} {p} is {dev.quantize(Decimal('0.01'))}% from reference "
                        f"{fmt_amount(ref)} > {Decimal(num) / den}%"
                    )
        # position limits (worst case: same-side working orders fill as well)
        exclude = None if modify_of is None else modify_of.client_order_id
        pending = self.working.same_side_leaves_raw(instrument_id, side, exclude)
        projected = pos + signed + (pending if side is OrderSide.BUY else -pending)
        increases = abs(projected) > abs(pos)
        if increases and c.max_position_raw is not None and abs(projected) > c.max_position_raw:
            return "MAX_POSITION", (
                f"MAX_POSITION: position would be {fmt_amount(projected)} (now {fmt_amount(pos)}, working same side "
                f"{fmt_amount(pending)}) > limit {fmt_amount(c.max_position_raw)}"
            )
        if increases and self.max_contracts_raw is not None:
            total = self.worst_case_contracts_raw(instrument_id) + abs(projected)
            if total > self.max_contracts_raw:
                return "MAX_CONTRACTS", (
                    f"MAX_CONTRACTS: open contracts would be {fmt_amount(total)} > limit "
                    f"{fmt_amount(self.max_contracts_raw)}"
                )
        if increases and self._conc is not None:
            try:
                eq_raw = self._equity_raw
                eq = eq_raw(ccy) if eq_raw is not None else self.portfolio.equity(ccy).raw
            except KeyError:
                return "NO_ACCOUNT", f"NO_ACCOUNT: no equity in {ccy.code} for the concentration check"
            mark = cache.last_price_raw(instrument_id) or px_raw
            exposure = abs(inst.notional_raw(abs(projected), mark))
            num, den = self._conc
            if eq <= 0 or exposure * 100 * den > num * eq:
                return "MAX_CONCENTRATION", (
                    f"MAX_CONCENTRATION: {instrument_id} exposure {fmt_amount(exposure, ccy.code)} would be "
                    f"{(Decimal(exposure * 100) / Decimal(eq)).quantize(Decimal('0.01')) if eq > 0 else 'inf'}% "
                    f"of equity {fmt_amount(eq, ccy.code)} > {Decimal(num) / den}%"
                )
        # open orders, throttles, session (only for new orders / modifications respectively)
        cfg = self.config
        if modify_of is None:
            w = self.working
            mo = cfg.max_open_orders
            if mo is not None and len(w.orders) + 1 > mo:
                w.prune()
                if len(w.orders) + 1 > mo:
                    return "MAX_OPEN_ORDERS", f"MAX_OPEN_ORDERS: {len(w.orders)} open orders, limit {mo}"
            ms = cfg.max_open_orders_per_strategy
            if ms is not None and w.by_strategy.get(strategy_id, 0) + 1 > ms:
                w.prune()
                n = w.by_strategy.get(strategy_id, 0)
                if n + 1 > ms:
                    return "MAX_OPEN_ORDERS", f"MAX_OPEN_ORDERS: strategy {strategy_id} has {n} open orders, limit {ms}"
            if self.submit_rate is not None and not self.submit_rate.allows(strategy_id, ts_ns):
                return "RATE_LIMIT", (
                    f"RATE_LIMIT: strategy {strategy_id} reached {self.submit_rate.limit} submits per "
                    f"{self.submit_rate.window_ns / 1e9:g}s"
                )
            if self.account_rate is not None and not self.account_rate.allows(None, ts_ns):
                return "RATE_LIMIT", (
                    f"RATE_LIMIT: account reached {self.account_rate.limit} submits per "
                    f"{self.account_rate.window_ns / 1e9:g}s"
                )
        elif self.modify_rate is not None and not self.modify_rate.allows(strategy_id, ts_ns):
            return "RATE_LIMIT", (
                f"RATE_LIMIT: strategy {strategy_id} reached {self.modify_rate.limit} modifies per "
                f"{self.modify_rate.window_ns / 1e9:g}s"
            )
        if self.session_provider is not None and not self.session_provider(instrument_id, ts_ns):
            return "MARKET_CLOSED", f"MARKET_CLOSED: trading session for {instrument_id} is closed at {ts_ns}"
        # balance / margin for the part that adds exposure
        if cfg.check_balance:
            return self._check_balance(inst, c, side, qty_raw, px_raw, pos, modify_of)
        return None

    def _check_balance(
        self, inst: Instrument, c: _Compiled, side: OrderSide, qty_raw: int, px_raw: int, pos: int,
        modify_of: Order | None,
    ) -> Denial | None:  # fmt: skip
        if modify_of is not None:
            qty_raw -= modify_of.quantity.raw  # only an increase needs more funds
            if qty_raw <= 0:
                return None
        if c.margin_raw == 0 and inst.base_currency is not None:
            if side is OrderSide.SELL:  # spot: sell what is held in the base asset
                ccy = inst.base_currency
                required = qty_raw
            else:
                ccy = inst.quote_currency
                notional = abs(inst.notional_raw(qty_raw, px_raw))
                required = notional + self._fee_raw(c, qty_raw, notional)
            return self._compare(ccy, required, "INSUFFICIENT_BALANCE")
        adding = qty_raw if pos == 0 or (pos > 0) == (side is OrderSide.BUY) else max(0, qty_raw - abs(pos))
        if adding == 0:
            return None
        notional = abs(inst.notional_raw(adding, px_raw))
        fee = self._fee_raw(c, adding, notional)
        if c.margin_raw:
            return self._compare(inst.settlement_currency, mul_raw(notional, c.margin_raw) + fee, "INSUFFICIENT_MARGIN")
        if side is OrderSide.SELL:
            return "INSUFFICIENT_BALANCE", (
                f"INSUFFICIENT_BALANCE: a cash account cannot open a short {inst.id} position of {fmt_amount(adding)}"
            )
        return self._compare(inst.settlement_currency, notional + fee, "INSUFFICIENT_BALANCE")

    @staticmethod
    def _fee_raw(c: _Compiled, qty_raw: int, notional_raw: int) -> int:
        if c.fee_kind == 1:
            return mul_raw(c.fee_raw, qty_raw)
        return mul_raw(notional_raw, c.fee_raw) if c.fee_raw else 0

    def _compare(self, ccy: Currency, required: int, code: str) -> Denial | None:
        try:
            free_raw = self._free_raw
            free = free_raw(ccy) if free_raw is not None else self.portfolio.balance_free(ccy).raw
        except KeyError:
            return "NO_ACCOUNT", f"NO_ACCOUNT: no balance in {ccy.code} to fund the order"
        if required > free:
            what = "margin" if code == "INSUFFICIENT_MARGIN" else "funds"
            return code, (
                f"{code}: order needs {fmt_amount(required, ccy.code)} {what}, free {fmt_amount(free, ccy.code)}"
            )
        return None

    def record_submit(self, strategy_id: StrategyId, ts_ns: int) -> None:
        """Count a forwarded submit against the throttles."""
        if self.submit_rate is not None:
            self.submit_rate.record(strategy_id, ts_ns)
        if self.account_rate is not None:
            self.account_rate.record(None, ts_ns)

    def record_modify(self, strategy_id: StrategyId, ts_ns: int) -> None:
        """Count a forwarded modification against the modify throttle."""
        if self.modify_rate is not None:
            self.modify_rate.record(strategy_id, ts_ns)


__all__ = ["Denial", "PortfolioView", "PreTradeChecker", "RateLimiter", "SessionProvider", "WorkingOrders"]
