"""Orders, fills and positions of the local Binance USD-M futures exchange (:mod:`.binance_futures`).

Endpoints (Binance USD-M Futures docs, "Trade" section): ``POST/GET/DELETE /fapi/v1/order``,
``GET /fapi/v1/openOrders``, ``DELETE /fapi/v1/allOpenOrders``, ``GET /fapi/v1/allOrders``,
``GET /fapi/v1/userTrades``. Position bookkeeping is described in :mod:`tradewire.testing.binance_futures`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from tradewire.testing.binance_exchange import D0, ApiError, find_order

_OPEN = ("NEW", "PARTIALLY_FILLED")
_E8 = Decimal("1e-8")


def _s(x: Decimal) -> str:
    """Binance-style decimal text: exact to 8 decimals, no exponent, trailing zeros dropped (``"0.0"`` style)."""
    t = f"{x.quantize(_E8, ROUND_HALF_EVEN):f}".rstrip("0")
    return t + "0" if t.endswith(".") else t


@dataclass
class FuturesSymbolSpec:
    """Filters of one USD-M perpetual (``/fapi/v1/exchangeInfo``; defaults are Binance's BTCUSDT values)."""

    symbol: str = "BTCUSDT"
    base: str = "BTC"
    quote: str = "USDT"
    tick_size: str = "0.10"
    step_size: str = "0.001"
    min_qty: str = "0.001"
    min_notional: str = "100"
    price_precision: int = 2
    quantity_precision: int = 3


@dataclass
class _FOrder:
    symbol: str
    order_id: int
    client_order_id: str
    side: str
    type: str
    tif: str
    qty: Decimal
    price: Decimal
    reduce_only: bool
    position_side: str
    time: int
    stop_price: Decimal = D0
    executed: Decimal = D0
    quote: Decimal = D0
    status: str = "NEW"
    update_time: int = 0
    triggered: bool = True

    @property
    def avg_price(self) -> Decimal:
        return self.quote / self.executed if self.executed else D0

    def wire(self) -> dict[str, Any]:
        return {
            "orderId": self.order_id, "symbol": self.symbol, "status": self.status,
            "clientOrderId": self.client_order_id, "price": _s(self.price), "avgPrice": _s(self.avg_price),
            "origQty": _s(self.qty), "executedQty": _s(self.executed), "cumQuote": _s(self.quote),
            "timeInForce": self.tif, "type": self.type, "reduceOnly": self.reduce_only, "closePosition": False,
            "side": self.side, "positionSide": self.position_side, "stopPrice": "0", "workingType": "CONTRACT_PRICE",
            "priceProtect": False, "origType": self.type, "priceMatch": "NONE", "selfTradePreventionMode": "NONE",
            "goodTillDate": 0, "time": self.time, "updateTime": self.update_time or self.time,
        }  # fmt: skip


class _Position:
    __slots__ = ("amt", "entry", "update_time")

    def __init__(self) -> None:
        self.amt, self.entry, self.update_time = D0, D0, 0


def apply_fill(pos: _Position, signed_qty: Decimal, px: Decimal) -> Decimal:
    """Apply one fill to a position; returns the realized P&L (quote currency, exact).

    Increasing: ``entry = (|amt| * entry + qty * px) / (|amt| + qty)``. Reducing: realized
    ``closed * (px - entry) * sign(amt)``, entry unchanged; flat: entry 0; flipping: the rest opens at ``px``.
    """
    a = pos.amt
    if a == 0 or (a > 0) == (signed_qty > 0):
        new = a + signed_qty
        pos.entry = (abs(a) * pos.entry + abs(signed_qty) * px) / abs(new)
        pos.amt = new
        return D0
    closed = min(abs(signed_qty), abs(a))
    realized = closed * (px - pos.entry) * (1 if a > 0 else -1)
    new = a + signed_qty
    if new == 0:
        pos.entry = D0
    elif (new > 0) != (a > 0):
        pos.entry = px
    pos.amt = new
    return realized


class FuturesOrders:
    """Order entry, matching and position updates (mixin of :class:`~.binance_futures.BinanceFuturesExchange`)."""

    fsymbols: dict[str, FuturesSymbolSpec]
    orders: dict[int, Any]
    positions: dict[tuple[str, str], _Position]
    my_trades: list[dict[str, Any]]
    wallet: Decimal
    dual_side: bool
    leverage: dict[str, int]

    def _position_side(self, p: dict, side: str) -> str:
        ps = p.get("positionSide", "BOTH").upper()
        if self.dual_side:
            if ps not in ("LONG", "SHORT"):
                raise ApiError(400, -4061, "Order's position side does not match user's setting.")
            if str(p.get("reduceOnly", "")).lower() == "true":
                raise ApiError(400, -1106, "Parameter 'reduceonly' sent when not required.")
        elif ps != "BOTH":
            raise ApiError(400, -4061, "Order's position side does not match user's setting.")
        return ps

    def _reduces(self, symbol: str, side: str, ps: str) -> Decimal:
        """How much an order of ``side`` can reduce the position it belongs to (0: it would not reduce it)."""
        pos = self.positions.get((symbol, ps))
        if pos is None or not pos.amt:
            return D0
        return abs(pos.amt) if (pos.amt > 0) == (side == "SELL") else D0

    async def _h_v1_order_post(self, p: dict) -> Any:
        s = self._fsymbol(p)  # type: ignore[attr-defined]
        side, typ = p.get("side", ""), p.get("type", "")
        if side not in ("BUY", "SELL"):
            raise ApiError(400, -1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed.")
        if typ not in ("LIMIT", "MARKET"):
            raise ApiError(400, -1116, "Invalid orderType.")
        ps = self._position_side(p, side)
        reduce_only = str(p.get("reduceOnly", "")).lower() == "true" or (
            self.dual_side and (ps == "LONG") == (side == "SELL")
        )
        try:
            qty, price = Decimal(p.get("quantity", "0")), Decimal(p.get("price", "0"))
        except ArithmeticError:
            raise ApiError(400, -1100, "Illegal characters found in a parameter.") from None
        if qty <= 0:
            raise ApiError(400, -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.")
        if qty % Decimal(s.step_size) or qty < Decimal(s.min_qty):
            raise ApiError(400, -1111, "Precision is over the maximum defined for this asset.")
        tif = p.get("timeInForce", "GTC") if typ == "LIMIT" else "GTC"
        if typ == "LIMIT" and (price <= 0 or price % Decimal(s.tick_size)):
            raise ApiError(400, -4014, "Price not increased by tick size.")
        if typ == "MARKET" and "price" in p:
            raise ApiError(400, -1106, "Parameter 'price' sent when not required.")
        coid = p.get("newClientOrderId") or f"x-{self._next_order_id}"  # type: ignore[attr-defined]
        if any(o.client_order_id == coid and o.status in _OPEN for o in self.orders.values()):
            raise ApiError(400, -4015, "Client order id is not valid.")
        ref = price or self._ref_price(side)  # type: ignore[attr-defined]
        if ref is None:
            raise ApiError(400, -1000, "No market price for a market order yet.")
        if reduce_only and not self._reduces(s.symbol, side, ps):
            raise ApiError(400, -2022, "ReduceOnly Order is rejected.")
        if not reduce_only:
            if qty * ref < Decimal(s.min_notional):
                raise ApiError(400, -4164, f"Order's notional must be no smaller than {s.min_notional} "
                               "(unless you choose reduce only).")  # fmt: skip
            if qty * ref / self.leverage[s.symbol] > self.available_balance():  # type: ignore[attr-defined]
                raise ApiError(400, -2019, "Margin is insufficient.")
        if tif == "GTX" and self._crosses(side, price):  # type: ignore[attr-defined]
            raise ApiError(400, -5022, "Due to the order could not be executed as maker, the Post Only order will "
                           "be rejected.")  # fmt: skip
        now = self._now_ms()  # type: ignore[attr-defined]
        o = _FOrder(s.symbol, self._next_order_id, coid, side, typ, tif, qty, price, reduce_only, ps, now)  # type: ignore[attr-defined]
        self._next_order_id += 1  # type: ignore[attr-defined]
        self.orders[o.order_id] = o
        await self._report(o, "NEW")
        if tif == "FOK" and self._fillable(o) < qty:
            await self._cancel(o, status="EXPIRED")
        elif tif != "GTX":
            await self._take(o)
        return o.wire()

    def _fillable(self, o: _FOrder) -> Decimal:
        levels = sorted(self.asks.items()) if o.side == "BUY" else sorted(self.bids.items(), reverse=True)  # type: ignore[attr-defined]
        return sum((q for px, q in levels if o.type == "MARKET" or (px <= o.price if o.side == "BUY"
                                                                     else px >= o.price)), D0)  # fmt: skip

    async def _take(self, o: _FOrder) -> list[dict[str, Any]]:
        """Match an incoming order against the book as taker, level by level."""
        levels = sorted(self.asks.items()) if o.side == "BUY" else sorted(self.bids.items(), reverse=True)  # type: ignore[attr-defined]
        fills = []
        for px, avail in levels:
            left = o.qty - o.executed
            if left <= 0 or o.status not in _OPEN:
                break
            if o.type == "LIMIT" and (px > o.price if o.side == "BUY" else px < o.price):
                break
            fills.append(await self._fill(o, min(left, avail), px, maker=False))
        if o.status in _OPEN and (o.tif in ("IOC", "FOK") or o.type == "MARKET") and o.executed < o.qty:
            await self._cancel(o, status="EXPIRED")
        return fills

    async def _fill(self, o: _FOrder, qty: Decimal, px: Decimal, maker: bool) -> dict[str, Any]:
        if o.reduce_only:
            qty = min(qty, self._reduces(o.symbol, o.side, o.position_side))
            if qty <= 0:
                await self._cancel(o, status="EXPIRED")
                return {}
        pos = self.positions.setdefault((o.symbol, o.position_side), _Position())
        realized = apply_fill(pos, qty if o.side == "BUY" else -qty, px)
        rate = self.maker_fee if maker else self.taker_fee  # type: ignore[attr-defined]
        fee = (px * qty * rate).quantize(_E8, ROUND_HALF_EVEN)
        self.wallet += realized - fee
        now = self._now_ms()  # type: ignore[attr-defined]
        pos.update_time = now
        o.executed += qty
        o.quote += px * qty
        o.update_time = now
        o.status = "FILLED" if o.executed >= o.qty else "PARTIALLY_FILLED"
        tid = self._next_trade_id  # type: ignore[attr-defined]
        self._next_trade_id += 1  # type: ignore[attr-defined]
        trade = {"symbol": o.symbol, "id": tid, "orderId": o.order_id, "side": o.side, "price": _s(px),
                 "qty": _s(qty), "realizedPnl": _s(realized), "quoteQty": _s(px * qty), "commission": _s(fee),
                 "commissionAsset": "USDT", "time": now, "positionSide": o.position_side, "buyer": o.side == "BUY",
                 "maker": maker}  # fmt: skip
        self.my_trades.append(trade)
        await self._report(o, "TRADE", qty, px, fee, tid, maker, realized)
        await self._account_update(o.symbol, o.position_side)
        return trade

    async def _cancel(self, o: _FOrder, status: str = "CANCELED") -> None:
        o.status = status
        o.update_time = self._now_ms()  # type: ignore[attr-defined]
        await self._report(o, "EXPIRED" if status == "EXPIRED" else status)

    async def _report(self, o: _FOrder, exec_type: str, last_qty: Decimal = D0, last_px: Decimal = D0,
                      fee: Decimal = D0, trade_id: int = 0, maker: bool = False,
                      realized: Decimal = D0) -> None:  # fmt: skip
        now = self._now_ms()  # type: ignore[attr-defined]
        ev = {"s": o.symbol, "c": o.client_order_id, "S": o.side, "o": o.type, "f": o.tif, "q": _s(o.qty),
              "p": _s(o.price), "ap": _s(o.avg_price), "sp": "0", "x": exec_type, "X": o.status, "i": o.order_id,
              "l": _s(last_qty), "z": _s(o.executed), "L": _s(last_px), "N": "USDT", "n": _s(fee),
              "T": o.update_time or now, "t": trade_id, "b": "0", "a": "0", "m": maker, "R": o.reduce_only,
              "wt": "CONTRACT_PRICE", "ot": o.type, "ps": o.position_side, "cp": False, "rp": _s(realized),
              "pP": False, "si": 0, "ss": 0, "V": "NONE", "pm": "NONE", "gtd": 0}  # fmt: skip
        await self._user_event({"e": "ORDER_TRADE_UPDATE", "E": now, "T": o.update_time or now, "o": ev})  # type: ignore[attr-defined]

    async def _account_update(self, symbol: str, ps: str) -> None:
        pos = self.positions[(symbol, ps)]
        now = self._now_ms()  # type: ignore[attr-defined]
        wb = _s(self.wallet)
        row = {"s": symbol, "pa": _s(pos.amt), "ep": _s(pos.entry), "bep": _s(pos.entry), "cr": "0",
               "up": _s(self._unrealized(symbol, pos)), "mt": self.margin_type[symbol],  # type: ignore[attr-defined]
               "iw": "0", "ps": ps}  # fmt: skip
        ev = {"e": "ACCOUNT_UPDATE", "E": now, "T": now,
              "a": {"m": "ORDER", "B": [{"a": "USDT", "wb": wb, "cw": wb, "bc": "0"}], "P": [row]}}  # fmt: skip
        await self._user_event(ev)  # type: ignore[attr-defined]

    # -- queries ------------------------------------------------------------------------------------
    def _ffind(self, p: dict) -> _FOrder:
        return find_order(self.orders, self._fsymbol(p).symbol, p)  # type: ignore[attr-defined]

    async def _h_v1_order_get(self, p: dict) -> Any:
        return self._ffind(p).wire()

    async def _h_v1_order_delete(self, p: dict) -> Any:
        try:
            o = self._ffind(p)
        except ApiError:
            raise ApiError(400, -2011, "Unknown order sent.") from None
        if o.status not in _OPEN:
            raise ApiError(400, -2011, "Unknown order sent.")
        await self._cancel(o)
        return o.wire()

    async def _h_v1_openOrders_get(self, p: dict) -> Any:
        sym = p.get("symbol")
        return [o.wire() for o in self.orders.values() if o.status in _OPEN and sym in (None, o.symbol)]

    async def _h_v1_allOpenOrders_delete(self, p: dict) -> Any:
        sym = self._fsymbol(p).symbol  # type: ignore[attr-defined]
        for o in [o for o in self.orders.values() if o.symbol == sym and o.status in _OPEN]:
            await self._cancel(o)
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    async def _h_v1_allOrders_get(self, p: dict) -> Any:
        sym = self._fsymbol(p).symbol  # type: ignore[attr-defined]
        return [o.wire() for o in self.orders.values() if o.symbol == sym]

    async def _h_v1_userTrades_get(self, p: dict) -> Any:
        sym = self._fsymbol(p).symbol  # type: ignore[attr-defined]
        start = int(p.get("startTime", 0))
        oid = int(p["orderId"]) if "orderId" in p else None
        out = [t for t in self.my_trades
               if t["symbol"] == sym and t["time"] >= start and oid in (None, t["orderId"])]  # fmt: skip
        return out[: int(p.get("limit", 500))]


__all__ = ["FuturesOrders", "FuturesSymbolSpec", "apply_fill"]
