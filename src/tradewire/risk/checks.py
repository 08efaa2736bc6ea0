"""Pre-trade checks: each returns a denial ``(code, text)`` or None.

The :class:`PreTradeChecker` runs the checks for one order (or one modification) in a fixed order,
cheapest first, and stops at the first denial. All amounts are compared as exact integers (raw
fixed-point, scale 1e9); percentages as integer ratios. Missing data that a configured check needs
(no price for a market order's notional, no reference price for the collar, no balance for the
currency) denies the order with a clear reason: nothing passes unchecked.

Latency: the checks run for every order before it reaches the OMS. Instrument fields and limits are
read once per instrument into raw integers (``_Compiled``, rebuilt when the cache holds a new
`Instrument` object for the id), the current trading-session interval is cached per instrument and
asked again only when the clock leaves it, and the pass path builds no text and no temporary
container, tuple or iterator (each GC-tracked allocation brings the next generation-0 collection
closer, which then lands inside whichever call allocates: Python docs, ``gc`` module). Reason texts
are formatted only for a denial. Remaining allocations on the pass path come from the portfolio
reads (``equity_raw``, ``balance_free_raw``) and, with ``max_contracts`` set, one walk over the open
positions of the other instruments.

Reason codes
------------
INSTRUMENT_UNKNOWN, INSTRUMENT_NOT_ALLOWED, QUANTITY_INVALID, QUANTITY_NOT_ON_LOT, QUANTITY_BELOW_MIN,
QUANTITY_ABOVE_MAX, PRICE_NOT_ON_TICK, PRICE_MISSING, REDUCE_ONLY, MAX_ORDER_QUANTITY, NO_MARKET_PRICE,
NOTIONAL_BELOW_MIN, MAX_NOTIONAL, PRICE_COLLAR, MAX_POSITION, MAX_CONTRACTS, MAX_CONCENTRATION,
MAX_OPEN_ORDERS, RATE_LIMIT, MARKET_CLOSED, INSUFFICIENT_BALANCE, INSUFFICIENT_MARGIN, NO_ACCOUNT.
The engine adds TRADING_HALTED, TRADING_REDUCING, ORDER_UNKNOWN and ORDER_LIST.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final, Protocol

from tradewire.core.cache import Cache
from tradewire.model.enums import OrderSide, OrderType
from tradewire.model.identifiers import InstrumentId, StrategyId
from tradewire.model.instruments import Instrument
from tradewire.model.objects import FIXED_SCALAR, Currency, Money, Price
from tradewire.model.orders import Order
from tradewire.risk.config import PreTradeConfig
from tradewire.risk.rules import dec_to_raw
from tradewire.risk.working import RateLimiter, WorkingOrders

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


_S: Final = FIXED_SCALAR
_HALF: Final = _S // 2


def mul_raw_exact(a: int, b: int) -> int:
    """``a * b / 1e9`` rounded half-to-even: the same integer as ``tradewire.model.objects.mul_raw``.

    Written with ``//`` instead of ``divmod`` so that no tuple (a GC-tracked object) is built: this
    runs several times per pre-trade check.
    """
    p = a * b
    q = p // _S
    r = p - q * _S
    if r > _HALF or (r == _HALF and q & 1):
        q += 1
    return q


def notional_raw(c: _Compiled, qty_raw: int, px_raw: int) -> int:
    """``Instrument.notional_raw`` (``qty * price * multiplier``, each product rounded half-to-even to
    scale 1e9) for the instrument ``c`` was compiled from: the same integer, exact.

    Whole quantities and whole multipliers (futures contracts, 1-lot orders) are plain integer products.
    """
    n = qty_raw // _S * px_raw if qty_raw % _S == 0 else mul_raw_exact(qty_raw, px_raw)
    m = c.mult_int
    return n * m if m is not None else mul_raw_exact(n, c.mult_raw)


# enum members as module constants: ``OrderSide.BUY`` is a descriptor lookup on the enum class (~0.3 µs
# each on CPython 3.11), a module global is a dict read
_BUY: Final = OrderSide.BUY
_PRICED: Final = frozenset(
    {OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.LIMIT_IF_TOUCHED, OrderType.TRAILING_STOP_LIMIT}
)
_TRIGGERED: Final = frozenset({OrderType.STOP_MARKET, OrderType.MARKET_IF_TOUCHED})


class _Compiled:
    """Per-instrument limits and instrument fields as raw integers (built once per `Instrument` object).

    ``sess_start``/``sess_end``/``sess_open``: the trading-session interval ``[start, end)`` (UTC ns)
    last reported by the session provider and whether the market is open in it; empty until asked.
    """

    __slots__ = (
        "collar", "denied_text", "fee_kind", "fee_raw", "inst", "inst_max_qty_raw", "lot_raw", "margin_raw",
        "max_notional_raw", "max_position_raw", "max_qty_raw", "min_notional_raw", "min_qty_raw", "mult_int",
        "mult_raw", "sess_end", "sess_open", "sess_start", "settle", "tick_raw",
    )  # fmt: skip

    def __init__(self, inst: Instrument, cfg: PreTradeConfig) -> None:
        self.inst = inst
        self.lot_raw = inst.lot_size.raw
        self.tick_raw = inst.tick_size.raw
        self.min_qty_raw = None if inst.min_quantity is None else inst.min_quantity.raw
        self.inst_max_qty_raw = None if inst.max_quantity is None else inst.max_quantity.raw
        self.min_notional_raw = None if inst.min_notional is None else inst.min_notional.raw
        self.mult_raw = inst.multiplier.raw
        self.mult_int = self.mult_raw // _S if self.mult_raw % _S == 0 else None
        self.settle = inst.settlement_currency
        self.sess_start = self.sess_end = 0
        self.sess_open = False
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


_UNSET: Final = object()


class PreTradeChecker:
    """Run the configured pre-trade checks for a new order or a modification.

    Parameters
    ----------
    config : PreTradeConfig
    cache : Cache
        Instruments and latest quotes/trades/bars (reference prices), open positions.
    portfolio : PortfolioView
        Net positions, equity and free balances. Optional fast readers are used when present:
        ``equity_raw(currency)`` and ``balance_free_raw(currency)`` (raw ints instead of `Money`), and an
        ``open_positions`` dict (position id -> position with ``signed_qty_raw``), which the worst-case
        contracts check walks instead of every position ever opened in ``cache.positions``.
    working : WorkingOrders
        Open orders forwarded by the engine (open-order counts, worst-case position).
    session_provider : SessionProvider | None
        Trading-session test; required when ``config.check_session`` is true for the check to run
        (without one the check is skipped, and the engine reports ``session_check: off`` in status).
        A provider with an ``interval(instrument_id, ts_ns) -> (start_ns, end_ns, is_open)`` method
        (:class:`~tradewire.risk.sessions.ExchangeCalendarSessions`) is asked only when the clock
        leaves the last interval it reported for the instrument.
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
        self._has_open_positions = isinstance(getattr(portfolio, "open_positions", None), dict)
        self._net_scratch: dict[InstrumentId, int] = {}
        self.working = working
        self.session_provider = session_provider if config.check_session else None
        self._session_interval = (
            None if self.session_provider is None else optional_method(self.session_provider, "interval")
        )
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
        """Raw limits for ``inst`` (cached per instrument id; rebuilt for a new `Instrument` object)."""
        c = self._compiled.get(inst.id)
        if c is None or c.inst is not inst:
            c = self._compiled[inst.id] = _Compiled(inst, self.config)
        return c

    # -- helpers ---------------------------------------------------------------------------------
    def market_price_raw(self, instrument_id: InstrumentId, side: OrderSide) -> int | None:
        """Price a market order would pay: ask for a buy, bid for a sell, else last trade, else bar close."""
        cache = self.cache
        q = cache.quotes.get(instrument_id)
        if q is not None:
            return q.ask_price.raw if side is _BUY else q.bid_price.raw
        t = cache.trades.get(instrument_id)
        if t is not None:
            return t.price.raw
        b = cache.bars.get(instrument_id)
        return None if b is None else b.close.raw

    def open_positions(self) -> dict[Any, Any]:
        """The portfolio's ``open_positions`` dict when it keeps one, else every position in the cache."""
        return self.portfolio.open_positions if self._has_open_positions else self.cache.positions  # type: ignore[attr-defined]

    def worst_case_contracts_raw(self, exclude: InstrumentId | None = None) -> int:
        """Sum over instruments (except ``exclude``) of ``|net position|`` plus working leaves that add to it.

        Net positions are summed per instrument over the open positions (all strategies); a working
        order adds its leaves quantity when the instrument is flat or the order is on the side of the
        net position.
        """
        total = 0
        net = self._net_scratch
        net.clear()
        if self._has_open_positions:
            positions = self.portfolio.open_positions  # type: ignore[attr-defined]
            # one open position and a net position in ``exclude``: that position is the one (no walk)
            walk = len(positions) > 1 or (
                len(positions) == 1 and (exclude is None or not self.portfolio.net_position_raw(exclude))
            )
        else:
            positions = self.cache.positions
            walk = bool(positions)
        if walk:
            for p in positions.values():
                q = p.signed_qty_raw
                if q:
                    iid = p.instrument_id
                    if iid != exclude:
                        old = net.get(iid, 0)
                        net[iid] = old + q
                        total += abs(old + q) - abs(old)
        w = self.working
        if w.has_orders_besides(exclude):
            for iid, orders in w.by_instrument.items():
                if iid == exclude:
                    continue
                q = net.get(iid, 0)
                for o in orders.values():
                    if not o.status.is_closed and (q == 0 or (q > 0) == (o.side is _BUY)):
                        total += o.quantity.raw - o.filled_qty.raw
        return total

    def _session_open(self, c: _Compiled, instrument_id: InstrumentId, ts_ns: int) -> bool:
        if c.sess_start <= ts_ns < c.sess_end:
            return c.sess_open
        interval = self._session_interval
        if interval is None:
            return bool(self.session_provider(instrument_id, ts_ns))  # type: ignore[misc]
        c.sess_start, c.sess_end, c.sess_open = interval(instrument_id, ts_ns)
        return c.sess_open

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
        if c is None or c.inst is not inst:
            c = self.compiled(inst)
        return self._static(c, qty_raw, price, trigger_price)

    @staticmethod
    def _static(c: _Compiled, qty_raw: int, price: Price | None, trigger_price: Price | None) -> Denial | None:
        if c.denied_text is not None:
            return "INSTRUMENT_NOT_ALLOWED", c.denied_text
        inst = c.inst
        if qty_raw <= 0:
            return "QUANTITY_INVALID", f"QUANTITY_INVALID: quantity {fmt_amount(qty_raw)} must be > 0"
        if qty_raw % c.lot_raw:
            return "QUANTITY_NOT_ON_LOT", (
                f"QUANTITY_NOT_ON_LOT: quantity {fmt_amount(qty_raw)} is not a multiple of lot size {inst.lot_size}"
            )
        if c.min_qty_raw is not None and qty_raw < c.min_qty_raw:
            return "QUANTITY_BELOW_MIN", f"QUANTITY_BELOW_MIN: quantity {fmt_amount(qty_raw)} < {inst.min_quantity}"
        if c.inst_max_qty_raw is not None and qty_raw > c.inst_max_qty_raw:
            return "QUANTITY_ABOVE_MAX", f"QUANTITY_ABOVE_MAX: quantity {fmt_amount(qty_raw)} > {inst.max_quantity}"
        tick = c.tick_raw
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
        inst = cache.instruments.get(instrument_id)
        if inst is None:
            return "INSTRUMENT_UNKNOWN", f"INSTRUMENT_UNKNOWN: no instrument {instrument_id} in the cache"
        c = self._compiled.get(instrument_id)
        if c is None or c.inst is not inst:
            c = self.compiled(inst)
        if (
            c.denied_text is not None
            or qty_raw <= 0
            or qty_raw % c.lot_raw
            or c.min_qty_raw is not None
            or c.inst_max_qty_raw is not None
            or price is not None
            or trigger_price is not None
        ):  # a static check could deny (else _static would pass: the call is skipped for plain market orders)
            denial = self._static(c, qty_raw, price, trigger_price)
            if denial is not None:
                return denial
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
            q = cache.quotes.get(instrument_id)  # market_price_raw's first choice, without the call
            mp = (
                (q.ask_price.raw if side is _BUY else q.bid_price.raw)
                if q is not None
                else (self.market_price_raw(instrument_id, side))
            )
            if mp is None:
                return "NO_MARKET_PRICE", (
                    f"NO_MARKET_PRICE: no quote, trade or bar for {instrument_id} to value a {order_type.value} order"
                )
            px_raw = mp
        # position, reduce-only
        pos = self.portfolio.net_position_raw(instrument_id)
        buy = side is _BUY
        signed = qty_raw if buy else -qty_raw
        if reduce_only and not (pos != 0 and (pos > 0) != buy and qty_raw <= abs(pos)):
            return "REDUCE_ONLY", (
                f"REDUCE_ONLY: {side.value} {fmt_amount(qty_raw)} would not reduce position {fmt_amount(pos)}"
            )
        # notional
        anot = abs(notional_raw(c, qty_raw, px_raw))
        if c.min_notional_raw is not None and anot < c.min_notional_raw:
            return "NOTIONAL_BELOW_MIN", (
                f"NOTIONAL_BELOW_MIN: notional {fmt_amount(anot, c.settle.code)} < minimum {inst.min_notional}"
            )
        if c.max_notional_raw is not None and anot > c.max_notional_raw:
            return "MAX_NOTIONAL", (
                f"MAX_NOTIONAL: notional {fmt_amount(anot, c.settle.code)} > limit "
                f"{fmt_amount(c.max_notional_raw, c.settle.code)}"
            )
        # collar (fat finger)
        ref: Any = _UNSET
        if c.collar is not None and (price is not None or trigger_price is not None):
            ref = cache.last_price_raw(instrument_id)
            if ref is None or ref == 0:
                return "PRICE_COLLAR", f"PRICE_COLLAR: no reference price for {instrument_id} to check the collar"
            num, den = c.collar
            limit = num * abs(ref)
            if price is not None and abs(price.raw - ref) * 100 * den > limit:
                return _collar_denial("price", price, ref, num, den)
            if trigger_price is not None and abs(trigger_price.raw - ref) * 100 * den > limit:
                return _collar_denial("trigger price", trigger_price, ref, num, den)
        # position limits (worst case: same-side working orders fill as well)
        w = self.working
        pending = (
            w.same_side_leaves_raw(instrument_id, side, None if modify_of is None else modify_of.client_order_id)
            if w.by_instrument.get(instrument_id)
            else 0
        )
        projected = pos + signed + (pending if buy else -pending)
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
            ccy = c.settle
            try:
                eq_raw = self._equity_raw
                eq = eq_raw(ccy) if eq_raw is not None else self.portfolio.equity(ccy).raw
            except KeyError:
                return "NO_ACCOUNT", f"NO_ACCOUNT: no equity in {ccy.code} for the concentration check"
            if ref is _UNSET:
                ref = cache.last_price_raw(instrument_id)
            exposure = abs(notional_raw(c, abs(projected), ref or px_raw))
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
        if self.session_provider is not None and not (
            c.sess_open if c.sess_start <= ts_ns < c.sess_end else self._session_open(c, instrument_id, ts_ns)
        ):
            return "MARKET_CLOSED", f"MARKET_CLOSED: trading session for {instrument_id} is closed at {ts_ns}"
        # balance / margin for the part that adds exposure
        if cfg.check_balance:
            return self._check_balance(c, buy, qty_raw, px_raw, pos, modify_of, anot)
        return None

    def _check_balance(
        self, c: _Compiled, buy: bool, qty_raw: int, px_raw: int, pos: int, modify_of: Order | None, anot: int
    ) -> Denial | None:
        """Free balance or margin for the part of the order that adds exposure; ``anot`` is
        ``|notional(qty_raw, px_raw)|``, reused when the whole order adds exposure."""
        inst = c.inst
        if modify_of is not None:
            qty_raw -= modify_of.quantity.raw  # only an increase needs more funds
            if qty_raw <= 0:
                return None
            anot = abs(notional_raw(c, qty_raw, px_raw))
        if c.margin_raw == 0 and inst.base_currency is not None:
            if not buy:  # spot: sell what is held in the base asset
                return self._compare(inst.base_currency, qty_raw, "INSUFFICIENT_BALANCE")
            return self._compare(inst.quote_currency, anot + _fee_raw(c, qty_raw, anot), "INSUFFICIENT_BALANCE")
        adding = qty_raw if pos == 0 or (pos > 0) == buy else max(0, qty_raw - abs(pos))
        if adding == 0:
            return None
        notional = anot if adding == qty_raw else abs(notional_raw(c, adding, px_raw))
        fee = _fee_raw(c, adding, notional)
        if c.margin_raw:
            return self._compare(c.settle, mul_raw_exact(notional, c.margin_raw) + fee, "INSUFFICIENT_MARGIN")
        if not buy:
            return "INSUFFICIENT_BALANCE", (
                f"INSUFFICIENT_BALANCE: a cash account cannot open a short {inst.id} position of {fmt_amount(adding)}"
            )
        return self._compare(c.settle, notional + fee, "INSUFFICIENT_BALANCE")

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


def _fee_raw(c: _Compiled, qty_raw: int, notional_raw: int) -> int:
    """Taker fee of an order: per contract, or a rate of the notional (raw Money)."""
    if c.fee_kind == 1:
        return c.fee_raw * (qty_raw // _S) if qty_raw % _S == 0 else mul_raw_exact(c.fee_raw, qty_raw)
    return mul_raw_exact(notional_raw, c.fee_raw) if c.fee_raw else 0


def _collar_denial(label: str, p: Price, ref: int, num: int, den: int) -> Denial:
    dev = Decimal(abs(p.raw - ref) * 100) / Decimal(abs(ref))
    return "PRICE_COLLAR", (
        f"PRICE_COLLAR: {label} {p} is {dev.quantize(Decimal('0.01'))}% from reference "
        f"{fmt_amount(ref)} > {Decimal(num) / den}%"
    )


__all__ = [
    "Denial", "PortfolioView", "PreTradeChecker", "RateLimiter", "SessionProvider", "WorkingOrders", "mul_raw_exact",
    "notional_raw",
]  # fmt: skip
