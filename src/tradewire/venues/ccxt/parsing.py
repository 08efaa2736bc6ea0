"""Wire <-> model conversions for ccxt venues: symbols, markets, trades, book levels, orders, balances.

Exactness: every number that reaches a model ``Price``/``Quantity``/``Money`` is parsed from the venue's
own decimal text where ccxt keeps it (the raw answer in ``info``: e.g. Binance ``"61837.63000000"``). Where
only ccxt's unified float is available, :func:`to_decimal` takes the float's shortest round-trip repr
(``repr(0.1) == '0.1'``), which is exactly the decimal text ccxt parsed it from for any value with at most
15 significant digits, and the result is checked against the instrument's precision (never rounded
silently).

Symbols: ccxt's unified names never leave the adapter. :func:`tradewire_symbol` maps them to tradewire
symbols: spot/margin ``BTC/USDT`` -> ``BTCUSDT``; linear perpetual ``BTC/USDT:USDT`` -> ``BTCUSDT-PERP``;
inverse perpetual ``BTC/USD:BTC`` -> ``BTCUSD-PERP``; dated futures ``BTC/USDT:USDT-240927`` ->
``BTCUSDT-240927``; options keep ccxt's id-like suffix ``BTCUSDT-240927-60000-C``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tradewire.execution.reports import AccountState, FillReport, OrderStatusReport, PositionReport
from tradewire.model.data import OrderBookDelta
from tradewire.model.enums import (
    AggressorSide,
    AssetClass,
    BookAction,
    BookSide,
    InstrumentClass,
    LiquiditySide,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionSide,
    TimeInForce,
)
from tradewire.model.identifiers import AccountId, ClientOrderId, InstrumentId, TradeId, VenueOrderId
from tradewire.model.instruments import Instrument
from tradewire.model.objects import FIXED_PRECISION, Currency, Money, Price, Quantity, parse_raw


def to_decimal(value: Any) -> Decimal | None:
    """Exact Decimal of a ccxt number: str/int/Decimal as written, float via its shortest repr; None stays None.

    Raises
    ------
    ValueError
        If ``value`` is not a finite number.
    """
    if value is None:
        return None
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    elif isinstance(value, (int, str)):
        d = Decimal(value)
    elif isinstance(value, float):
        d = Decimal(repr(value))
    else:
        raise ValueError(f"not a number: {value!r}")
    if not d.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return d


def decimals_of(step: Decimal) -> int:
    """Number of decimals of a tick/step size (``Decimal("0.00001000")`` -> 5)."""
    exp = step.normalize().as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


def tradewire_symbol(market: dict[str, Any]) -> str:
    """tradewire symbol of a ccxt market (rules in the module docstring)."""
    base, quote = market["base"], market["quote"]
    if market.get("spot") or market.get("type") in ("spot", "margin"):
        return f"{base}{quote}"
    if market.get("swap"):
        return f"{base}{quote}-PERP"
    if market.get("future"):
        expiry = market.get("expiryDatetime") or ""
        return f"{base}{quote}-{expiry[2:4]}{expiry[5:7]}{expiry[8:10]}" if expiry else f"{base}{quote}-FUT"
    if market.get("option"):
        sym = market["symbol"].split("-", 1)
        return f"{base}{quote}-{sym[1]}" if len(sym) == 2 else f"{base}{quote}-OPT"
    return f"{base}{quote}"


class SymbolMap:
    """Both directions between ccxt unified symbols and tradewire instrument ids of one venue.

    Raises
    ------
    KeyError
        From the lookups, naming the unknown symbol or instrument.
    ValueError
        From :meth:`add` if two ccxt markets map to the same tradewire symbol.
    """

    def __init__(self, venue: str) -> None:
        self.venue = venue
        self._to_id: dict[str, InstrumentId] = {}
        self._to_ccxt: dict[InstrumentId, str] = {}
        self._by_market_id: dict[str, str] = {}

    def add(self, market: dict[str, Any]) -> InstrumentId:
        """Register a ccxt market; returns its instrument id."""
        iid = InstrumentId.from_parts(tradewire_symbol(market), self.venue)
        prev = self._to_ccxt.get(iid)
        if prev is not None and prev != market["symbol"]:
            raise ValueError(f"{market['symbol']} and {prev} both map to {iid}")
        self._to_id[market["symbol"]] = iid
        self._to_ccxt[iid] = market["symbol"]
        self._by_market_id.setdefault(market["id"], market["symbol"])
        return iid

    def instrument_id(self, ccxt_symbol: str) -> InstrumentId:
        """tradewire id of a ccxt unified symbol."""
        try:
            return self._to_id[ccxt_symbol]
        except KeyError:
            raise KeyError(f"{self.venue}: no instrument for ccxt symbol {ccxt_symbol!r}") from None

    def ccxt_symbol(self, instrument_id: InstrumentId | str) -> str:
        """ccxt unified symbol of a tradewire instrument id."""
        try:
            return self._to_ccxt[InstrumentId(instrument_id)]
        except KeyError:
            raise KeyError(f"{self.venue}: unknown instrument {instrument_id}") from None

    def from_market_id(self, market_id: str) -> InstrumentId:
        """tradewire id from the venue's own market id (``BTCUSDT``)."""
        return self.instrument_id(self._by_market_id[market_id])

    def __len__(self) -> int:
        return len(self._to_id)

    def __contains__(self, item: object) -> bool:
        return item in self._to_id or item in self._to_ccxt


def _filters(market: dict[str, Any]) -> dict[str, dict[str, Any]]:
    info = market.get("info") or {}
    return {f.get("filterType"): f for f in info.get("filters") or [] if isinstance(f, dict)}


def _step(market: dict[str, Any], key: str, filter_type: str, filter_key: str, mode: int) -> Decimal:
    f = _filters(market).get(filter_type)
    if f and f.get(filter_key) and Decimal(f[filter_key]) > 0:
        return Decimal(f[filter_key]).normalize()
    p = market.get("precision", {}).get(key)
    if p is None:
        raise ValueError(f"market {market.get('symbol')}: no {key} precision")
    d = to_decimal(p)
    assert d is not None
    # ccxt precisionMode: 2 = DECIMAL_PLACES, 4 = TICK_SIZE, 3 = SIGNIFICANT_DIGITS (treated as decimals)
    return d.normalize() if mode == 4 else Decimal(1).scaleb(-int(d))


def market_to_instrument(market: dict[str, Any], venue: str, precision_mode: int = 4) -> Instrument:
    """Build a tradewire :class:`Instrument` from a ccxt market structure.

    Parameters
    ----------
    market : dict
        One entry of ``exchange.markets`` (``load_markets()``).
    venue : str
        tradewire venue code.
    precision_mode : int
        ``exchange.precisionMode`` (ccxt: 2 decimal places, 4 tick size).

    Returns
    -------
    Instrument
        Tick and lot size from the venue's own filters where present (Binance ``PRICE_FILTER.tickSize``,
        ``LOT_SIZE.stepSize``), else from ccxt's precision; ``min_quantity``/``max_quantity``/``min_notional``
        from ccxt limits; ``multiplier`` = contract size; fees from ccxt's maker/taker rates.

    Raises
    ------
    ValueError
        If the market lacks precision information or has more than 9 decimals.
    """
    tick = _step(market, "price", "PRICE_FILTER", "tickSize", precision_mode)
    lot = _step(market, "amount", "LOT_SIZE", "stepSize", precision_mode)
    pp, sp = decimals_of(tick), decimals_of(lot)
    if pp > FIXED_PRECISION or sp > FIXED_PRECISION:
        raise ValueError(f"market {market['symbol']}: precision {pp}/{sp} exceeds {FIXED_PRECISION} decimals")
    quote = Currency.from_str(market["quote"])
    settle = Currency.from_str(market.get("settle") or market["quote"])
    if market.get("swap"):
        iclass = InstrumentClass.PERPETUAL
    elif market.get("future"):
        iclass = InstrumentClass.FUTURE
    elif market.get("option"):
        iclass = InstrumentClass.OPTION
    else:
        iclass = InstrumentClass.SPOT
    limits = market.get("limits") or {}
    amount, cost = limits.get("amount") or {}, limits.get("cost") or {}
    f = _filters(market)
    min_notional = (f.get("NOTIONAL") or f.get("MIN_NOTIONAL") or {}).get("minNotional")
    min_notional_d = to_decimal(min_notional) if min_notional else to_decimal(cost.get("min"))
    min_q = to_decimal((f.get("LOT_SIZE") or {}).get("minQty") or amount.get("min"))
    max_q = to_decimal((f.get("LOT_SIZE") or {}).get("maxQty") or amount.get("max"))
    contract = to_decimal(market.get("contractSize")) or Decimal(1)
    leverage_max = to_decimal((limits.get("leverage") or {}).get("max"))
    margin_init = (Decimal(1) / leverage_max) if leverage_max else Decimal(0)

    def q(d: Decimal | None) -> Quantity | None:
        return None if d is None or d <= 0 else Quantity.from_raw(parse_raw(d.normalize()), sp)

    return Instrument(
        id=InstrumentId.from_parts(tradewire_symbol(market), venue),
        asset_class=AssetClass.CRYPTO,
        instrument_class=iclass,
        quote_currency=quote,
        settlement_currency=settle,
        price_precision=pp,
        tick_size=Price.from_raw(parse_raw(tick), pp),
        size_precision=sp,
        lot_size=Quantity.from_raw(parse_raw(lot), sp),
        base_currency=Currency.from_str(market["base"]),
        multiplier=Quantity.from_raw(parse_raw(contract.normalize()), decimals_of(contract)),
        min_quantity=q(min_q),
        max_quantity=q(max_q),
        min_notional=Money(min_notional_d.normalize(), settle) if min_notional_d else None,
        maker_fee=to_decimal(market.get("maker")) or Decimal(0),
        taker_fee=to_decimal(market.get("taker")) or Decimal(0),
        margin_init=margin_init if iclass is not InstrumentClass.SPOT else Decimal(0),
        margin_maint=margin_init / 2 if iclass is not InstrumentClass.SPOT else Decimal(0),
    )


# ---------------------------------------------------------------------------------------------- numbers
def price(value: Any, precision: int) -> Price:
    """An exact Price from venue text (or ccxt float); ``precision`` widens if the value has more decimals."""
    d = to_decimal(value)
    if d is None:
        raise ValueError("missing price")
    raw, prec = _raw(d, precision)
    return Price.from_raw(raw, prec)


def quantity(value: Any, precision: int) -> Quantity:
    """An exact Quantity from venue text (or ccxt float); ``precision`` widens if the value has more decimals.

    Venue book levels can carry more decimals than the lot size (Binance BTCUSDT aggregates such as
    ``25.42618900`` with a 0.00001 step): the value is kept exactly, never rounded.

    Raises
    ------
    ValueError
        If the value is negative or has more than 9 decimals.
    """
    d = to_decimal(value)
    if d is None:
        raise ValueError("missing quantity")
    if d < 0:
        raise ValueError(f"negative quantity {value!r}")
    raw, prec = _raw(d, precision)
    return Quantity.from_raw(raw, prec)


def _raw(d: Decimal, precision: int) -> tuple[int, int]:
    if not d:
        return 0, precision
    n = d.normalize()
    return parse_raw(n), max(precision, min(decimals_of(n), FIXED_PRECISION))


def _text_raw(text: str, precision: int) -> tuple[int, int]:
    """Fast path for plain decimal text (``"61837.63000000"``): exact raw and display precision."""
    whole, dot, frac = text.partition(".")
    frac = frac.rstrip("0")
    if len(frac) <= FIXED_PRECISION and whole.isdigit() and (not frac or frac.isdigit()):
        raw = int(whole) * 1_000_000_000 + (int(frac) * 10 ** (FIXED_PRECISION - len(frac)) if frac else 0)
        return raw, max(precision, len(frac))
    return parse_raw(text), precision  # raises with the reason (sign, exponent, too many decimals)


_PRICE_CACHE: dict[tuple[str, int], Price] = {}


def _level_price(text: Any, precision: int) -> Price:
    key = (text, precision)
    px = _PRICE_CACHE.get(key)
    if px is None:
        if type(text) is str and "e" not in text and "E" not in text:
            px = Price.from_raw(*_text_raw(text, precision))
        else:
            px = price(text, precision)
        if len(_PRICE_CACHE) > 100_000:
            _PRICE_CACHE.clear()
        _PRICE_CACHE[key] = px
    return px


def _level_size(text: Any, precision: int) -> Quantity:
    if type(text) is str and "e" not in text and "E" not in text and not text.startswith("-"):
        return Quantity.from_raw(*_text_raw(text, precision))
    return quantity(text, precision)


def money(value: Any, currency: str) -> Money:
    """Money from venue text (or ccxt float) in ``currency`` (9 decimals kept)."""
    d = to_decimal(value) or Decimal(0)
    return Money.from_raw(parse_raw(d.normalize()) if d else 0, Currency.from_str(currency))


def first(info: dict[str, Any] | None, *keys: str) -> Any:
    """The first present, non-None value of ``keys`` in a raw venue dict."""
    if info:
        for k in keys:
            v = info.get(k)
            if v is not None:
                return v
    return None


# ---------------------------------------------------------------------------------------------- book
def depth_deltas(
    instrument_id: InstrumentId, bids: list, asks: list, price_precision: int, size_precision: int,
    sequence: int, ts_event: int, ts_init: int, snapshot: bool = False,
) -> list[OrderBookDelta]:  # fmt: skip
    """Turn ``[[price, size], ...]`` levels (Binance diff or snapshot) into one batch of deltas.

    A snapshot batch starts with CLEAR and carries ``F_SNAPSHOT``; size 0 means DELETE; the last delta of the
    batch carries ``F_LAST``. An empty diff yields an empty list.
    """
    flag = OrderBookDelta.F_SNAPSHOT if snapshot else 0
    out: list[OrderBookDelta] = []
    zero_p = Price.from_raw(0, price_precision)
    zero_q = Quantity.from_raw(0, size_precision)
    if snapshot:
        out.append(OrderBookDelta(instrument_id, BookAction.CLEAR, BookSide.BID, zero_p, zero_q, flag, sequence,
                                  ts_event, ts_init))  # fmt: skip
    for side, levels in ((BookSide.BID, bids), (BookSide.ASK, asks)):
        for p, s in levels:
            px, sz = _level_price(p, price_precision), _level_size(s, size_precision)
            action = BookAction.DELETE if sz.raw == 0 else (BookAction.ADD if snapshot else BookAction.UPDATE)
            out.append(OrderBookDelta(instrument_id, action, side, px, sz, flag, sequence, ts_event, ts_init))
    if out:
        last = out[-1]
        out[-1] = OrderBookDelta(last.instrument_id, last.action, last.side, last.price, last.size,
                                 last.flags | OrderBookDelta.F_LAST, sequence, ts_event, ts_init)  # fmt: skip
    return out


def aggressor_from_trade(trade: dict[str, Any]) -> AggressorSide:
    """Taker side of a public trade: Binance ``m`` (buyer is maker) when present, else ccxt's ``side``."""
    info = trade.get("info") or {}
    m = info.get("m")
    if isinstance(m, bool):
        return AggressorSide.SELLER if m else AggressorSide.BUYER
    side = trade.get("side")
    return {"buy": AggressorSide.BUYER, "sell": AggressorSide.SELLER}.get(side or "", AggressorSide.NO_AGGRESSOR)


# ---------------------------------------------------------------------------------------------- orders
ORDER_STATUS = {
    "open": OrderStatus.ACCEPTED, "closed": OrderStatus.FILLED, "canceled": OrderStatus.CANCELED,
    "cancelled": OrderStatus.CANCELED, "expired": OrderStatus.EXPIRED, "rejected": OrderStatus.REJECTED,
}  # fmt: skip

ORDER_TYPE = {
    "market": OrderType.MARKET, "limit": OrderType.LIMIT, "limit_maker": OrderType.LIMIT,
    "stop_loss": OrderType.STOP_MARKET, "stop_loss_limit": OrderType.STOP_LIMIT,
    "take_profit": OrderType.MARKET_IF_TOUCHED, "take_profit_limit": OrderType.LIMIT_IF_TOUCHED,
    "stop": OrderType.STOP_MARKET, "stop_market": OrderType.STOP_MARKET, "stop_limit": OrderType.STOP_LIMIT,
}  # fmt: skip

TIME_IN_FORCE = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK, "PO": TimeInForce.GTC,
                 "GTD": TimeInForce.GTD}  # fmt: skip


def order_status(order: dict[str, Any]) -> OrderStatus:
    """tradewire status of a ccxt order (an open order with fills is PARTIALLY_FILLED)."""
    st = ORDER_STATUS.get(order.get("status") or "open", OrderStatus.ACCEPTED)
    filled = to_decimal(first(order.get("info"), "executedQty", "z")) or to_decimal(order.get("filled"))
    if st is OrderStatus.ACCEPTED and filled:
        return OrderStatus.PARTIALLY_FILLED
    return st


def order_side(value: str) -> OrderSide:
    """``buy``/``sell`` (any case) to OrderSide; raises ValueError otherwise."""
    try:
        return OrderSide(value.lower())
    except ValueError:
        raise ValueError(f"unknown order side {value!r}") from None


# ---------------------------------------------------------------------------------------------- balances
def account_state(balance: dict[str, Any], account_id: AccountId, ts_event: int, ts_init: int) -> AccountState:
    """AccountState from a ccxt balance structure, exact from ``info`` where the venue lists assets.

    Binance spot ``info.balances[]`` (``asset``/``free``/``locked``) is used when present; otherwise ccxt's
    unified ``free``/``used``/``total`` per currency. Zero balances are left out.
    """
    info = balance.get("info") or {}
    rows: dict[str, tuple[Decimal, Decimal]] = {}
    if isinstance(info, dict) and isinstance(info.get("balances"), list):
        for b in info["balances"]:
            rows[b["asset"]] = (Decimal(b["free"]), Decimal(b["locked"]))
    else:
        for code, v in balance.items():
            if isinstance(v, dict) and "free" in v and code not in ("free", "used", "total", "info"):
                rows[code] = (to_decimal(v.get("free")) or Decimal(0), to_decimal(v.get("used")) or Decimal(0))
    out = {}
    for code, (free, locked) in rows.items():
        if not free and not locked:
            continue
        f, lk = money(free, code), money(locked, code)
        out[f.currency.code] = (f + lk, lk, f)
    return AccountState(account_id, out, ts_event, ts_init)


# ---------------------------------------------------------------------------------------------- reports
def order_status_report(o: dict[str, Any], account_id: AccountId, inst: Instrument, ts_init: int) -> OrderStatusReport:
    """OrderStatusReport from a ccxt order (quantities and prices from the venue's text in ``info``)."""
    info = o.get("info") or {}
    pp, sp = inst.price_precision, inst.size_precision
    otype = ORDER_TYPE.get(str(first(info, "type") or o.get("type") or "").lower(), OrderType.LIMIT)
    coid = o.get("clientOrderId")
    px = first(info, "price") or o.get("price")
    trig = first(info, "stopPrice") or o.get("triggerPrice")
    ts_acc = int(o.get("timestamp") or 0) * 1_000_000
    return OrderStatusReport(
        account_id, inst.id, ClientOrderId(coid) if coid else None, VenueOrderId(str(o["id"])), order_side(o["side"]),
        otype, TIME_IN_FORCE.get(str(o.get("timeInForce")), TimeInForce.GTC), order_status(o),
        quantity(first(info, "origQty") or o.get("amount"), sp),
        quantity(first(info, "executedQty") or o.get("filled") or 0, sp),
        ts_acc, int(o.get("lastUpdateTimestamp") or 0) * 1_000_000 or ts_acc, ts_init,
        price(px, pp) if px and to_decimal(px) else None, price(trig, pp) if trig and to_decimal(trig) else None,
        post_only=bool(o.get("postOnly")), reduce_only=bool(o.get("reduceOnly")),
    )  # fmt: skip


def fill_report(t: dict[str, Any], account_id: AccountId, inst: Instrument, client_order_id: ClientOrderId | None,
                ts_init: int) -> FillReport:  # fmt: skip
    """FillReport from a ccxt trade of ours (Binance ``myTrades`` text in ``info`` when present)."""
    info = t.get("info") or {}
    fee = t.get("fee") or {}
    cur = first(info, "commissionAsset") or fee.get("currency") or inst.quote_currency.code
    maker = info.get("isMaker") if "isMaker" in info else t.get("takerOrMaker") == "maker"
    return FillReport(
        account_id, inst.id, VenueOrderId(str(t.get("order"))), TradeId(str(t["id"])), order_side(t["side"]),
        quantity(first(info, "qty") or t["amount"], inst.size_precision),
        price(first(info, "price") or t["price"], inst.price_precision),
        money(first(info, "commission") or fee.get("cost") or 0, cur),
        LiquiditySide.MAKER if maker else LiquiditySide.TAKER, int(t["timestamp"]) * 1_000_000, ts_init,
        client_order_id,
    )  # fmt: skip


def position_report(p: dict[str, Any], account_id: AccountId, inst: Instrument, ts_init: int) -> PositionReport | None:
    """PositionReport from a ccxt position (Binance ``positionAmt`` sign gives the side); None when flat."""
    info = p.get("info") or {}
    amt = to_decimal(first(info, "positionAmt") or p.get("contracts")) or Decimal(0)
    if not amt:
        return None
    side = PositionSide.SHORT if amt < 0 or p.get("side") == "short" else PositionSide.LONG
    entry = first(info, "entryPrice") or p.get("entryPrice")
    return PositionReport(account_id, inst.id, side, quantity(abs(amt), inst.size_precision),
                          int(p.get("timestamp") or 0) * 1_000_000 or ts_init, ts_init,
                          price(entry, inst.price_precision) if entry and to_decimal(entry) else None)  # fmt: skip


__all__ = [
    "SymbolMap",
    "account_state",
    "aggressor_from_trade",
    "decimals_of",
    "depth_deltas",
    "fill_report",
    "first",
    "market_to_instrument",
    "money",
    "order_side",
    "order_status",
    "order_status_report",
    "position_report",
    "price",
    "quantity",
    "to_decimal",
    "tradewire_symbol",
]  # fmt: skip
