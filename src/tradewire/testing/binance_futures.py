"""State, matching and positions of the local Binance USD-M futures exchange.

Transport (``/fapi`` REST, ``fstream`` websockets, listenKey user stream) is
:class:`tradewire.testing.binance_futures_server.BinanceFuturesServer`; this module owns everything else:

* market data: a real recorded USD-M capture (``<recv_ns> <json>`` lines) read with
  :func:`tradewire.data.loaders.binance.iter_binance_stream`; the book starts from the recorded REST
  snapshot and follows the recorded ``depthUpdate`` diffs (``U``/``u``/``pu`` kept as recorded), which are
  republished on ``<symbol>@depth``, ``@depth@0ms``, ``@depth@100ms`` and ``@depth@500ms``; trades on
  ``@trade`` and ``@aggTrade``; ``@bookTicker`` as recorded;
* orders (``LIMIT`` GTC/IOC/FOK/GTX, ``MARKET``; ``reduceOnly``; ``positionSide`` in hedge mode) matched
  against the book as taker and resting as maker until a recorded trade trades through their price (the
  spot server's rule, :meth:`BinanceExchange._on_market_trade`);
* USDT-margined positions, one per (symbol, positionSide), with Binance's bookkeeping (USD-M Futures docs,
  "Account / Position Information V2"): ``positionAmt`` signed; ``entryPrice`` the quantity-weighted average
  of the fills that opened it (unchanged by reducing fills; a flip reopens at the fill price); realized P&L
  ``(price - entryPrice) * closedQty * sign`` credited to the wallet together with the commission (charged in
  USDT on the fill notional); ``unRealizedProfit`` ``positionAmt * (markPrice - entryPrice)`` with the mark
  price taken as the last recorded trade price. All amounts are exact decimals, written as strings.

Every order change is reported as ``ORDER_TRADE_UPDATE`` and every fill also as ``ACCOUNT_UPDATE``
(Binance USD-M Futures docs, "User Data Streams / Event: Order Update" and "Event: Balance and Position
Update").
"""

from __future__ import annotations

import functools
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradewire.data.loaders.binance import (
    BinanceBookTicker,
    BinanceDepthDiff,
    BinanceDepthSnapshot,
    iter_binance_stream,
)
from tradewire.model.data import TradeTick
from tradewire.model.enums import AggressorSide, BookSide
from tradewire.testing.binance_exchange import D0, ApiError, BinanceExchange
from tradewire.testing.binance_futures_orders import _OPEN, FuturesOrders, FuturesSymbolSpec, _FOrder, _Position, _s

_NS_PER_MS = 1_000_000


@functools.lru_cache(maxsize=4)
def load_futures_recording(path: Path, symbol: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read a recorded USD-M combined-stream capture into a depth snapshot and wire messages to replay.

    Parameters
    ----------
    path : Path
        ``<recv_ns> <json>`` capture (gzip or text) holding one REST depth snapshot.
    symbol : str
        The capture's symbol (e.g. ``"BTCUSDT"``).

    Returns
    -------
    (snapshot, messages)
        (cached per path; callers must not mutate them) ``{"lastUpdateId", "bids", "asks"}`` with decimal
        text, and ``{"stream", "data"}`` messages in file order after dropping diffs the snapshot covers
        (``u < lastUpdateId``, USD-M rule), with prices and sizes re-written from the parsed exact values.

    Raises
    ------
    tradewire.data.loaders.binance.DataFormatError
        On a malformed line (file and line named).
    ValueError
        If the capture has no depth snapshot.
    """
    lower = symbol.lower()
    snap: BinanceDepthSnapshot | None = None
    before: list[tuple[int, dict[str, Any]]] = []
    after: list[dict[str, Any]] = []
    for rec in iter_binance_stream(path, f"{symbol}-PERP.BINANCE"):
        if isinstance(rec, BinanceDepthSnapshot):
            snap = rec
            continue
        if isinstance(rec, BinanceDepthDiff):
            b = [[str(d.price), str(d.size)] for d in rec.deltas if d.side is BookSide.BID]
            a = [[str(d.price), str(d.size)] for d in rec.deltas if d.side is BookSide.ASK]
            ms = rec.ts_event // _NS_PER_MS
            d = {"e": "depthUpdate", "E": ms, "T": ms, "s": symbol, "U": rec.first_update_id,
                 "u": rec.final_update_id, "pu": rec.prev_final_update_id, "b": b, "a": a}  # fmt: skip
            msg = {"stream": f"{lower}@depth@0ms", "data": d}
        elif isinstance(rec, BinanceBookTicker):
            q, ms = rec.quote, rec.quote.ts_event // _NS_PER_MS
            d = {"e": "bookTicker", "u": rec.update_id, "s": symbol, "b": str(q.bid_price), "B": str(q.bid_size),
                 "a": str(q.ask_price), "A": str(q.ask_size), "T": ms, "E": ms}  # fmt: skip
            msg = {"stream": f"{lower}@bookTicker", "data": d}
        elif isinstance(rec, TradeTick):
            ms = rec.ts_event // _NS_PER_MS
            d = {"e": "trade", "E": ms, "T": ms, "s": symbol, "t": int(rec.trade_id), "p": str(rec.price),
                 "q": str(rec.size), "X": "MARKET", "m": rec.aggressor_side is AggressorSide.SELLER}  # fmt: skip
            msg = {"stream": f"{lower}@trade", "data": d}
        else:
            continue
        if snap is None:
            before.append((0, msg))
        else:
            after.append(msg)
    if snap is None:
        raise ValueError(f"{path}: no REST depth snapshot in the recording")
    last = snap.last_update_id
    book: dict[str, list[list[str]]] = {"bids": [], "asks": []}
    for dl in snap.deltas[1:]:
        book["bids" if dl.side is BookSide.BID else "asks"].append([str(dl.price), str(dl.size)])
    bridge = [m for _, m in before if m["data"]["e"] == "depthUpdate" and m["data"]["u"] >= last]
    return {"lastUpdateId": last, **book}, bridge + after


class BinanceFuturesExchange(FuturesOrders, BinanceExchange):
    """USD-M exchange state and ``/fapi`` endpoint handlers (see module docstring); mixed into the server.

    Handlers are named ``_h_<version>_<path>_<method>`` (``/fapi/v2/positionRisk`` GET ->
    ``_h_v2_positionRisk_get``).
    """

    def _init_futures(self, recording: Path, wallet: str, spec: FuturesSymbolSpec, leverage: int,
                      maker_fee: str, taker_fee: str) -> None:  # fmt: skip
        snap, self.messages = load_futures_recording(recording, spec.symbol)
        self.fsymbols = {spec.symbol: spec}
        self.bids = {Decimal(p): Decimal(q) for p, q in snap["bids"]}
        self.asks = {Decimal(p): Decimal(q) for p, q in snap["asks"]}
        self.last_update_id = snap["lastUpdateId"]
        self.wallet = Decimal(wallet)
        self.maker_fee, self.taker_fee = Decimal(maker_fee), Decimal(taker_fee)
        self.leverage = {spec.symbol: leverage}
        self.margin_type = {spec.symbol: "cross"}
        self.dual_side = False
        self.positions: dict[tuple[str, str], _Position] = {}
        self.orders = {}  # type: ignore[assignment]
        self.my_trades = []
        self.cursor = 0

    # -- market data ------------------------------------------------------------------------------
    async def _advance(self, n: int) -> int:
        done = 0
        while done < n and self.cursor < len(self.messages):
            d = dict(self.messages[self.cursor]["data"])
            self.cursor += 1
            done += 1
            te = self._event_ms(d)
            if self._time_shift_ms is None and te:
                self._time_shift_ms = self._now_ms() - self.clock_skew_ms - te
            for k in ("E", "T"):
                if k in d:
                    d[k] = d[k] + (self._time_shift_ms or 0)
            if d["e"] == "depthUpdate":
                for side, levels in ((self.bids, d["b"]), (self.asks, d["a"])):
                    for p, q in levels:
                        if Decimal(q) == 0:
                            side.pop(Decimal(p), None)
                        else:
                            side[Decimal(p)] = Decimal(q)
                self.last_update_id = d["u"]
                await self._publish(d, ("depth", "depth@0ms", "depth@100ms", "depth@500ms"))
            elif d["e"] == "trade":
                await self._publish(d, ("trade",))
                agg = {"e": "aggTrade", "E": d["E"], "s": d["s"], "a": d["t"], "p": d["p"], "q": d["q"],
                       "f": d["t"], "l": d["t"], "T": d["T"], "m": d["m"]}  # fmt: skip
                await self._publish(agg, ("aggTrade",))
                await self._on_market_trade(d)
            elif d["e"] == "bookTicker":
                await self._publish(d, ("bookTicker",))
        return done

    def mark_price(self, symbol: str) -> Decimal:
        """Last recorded trade price (mid of the book before the first trade)."""
        if self.last_trade_px is not None:
            return self.last_trade_px
        if self.bids and self.asks:
            return (max(self.bids) + min(self.asks)) / 2
        raise ApiError(400, -1000, f"no mark price yet for {symbol}")

    # -- public REST ------------------------------------------------------------------------------
    async def _h_v1_ping_get(self, p: dict) -> Any:
        return {}

    async def _h_v1_time_get(self, p: dict) -> Any:
        return {"serverTime": self._now_ms()}

    async def _h_v1_exchangeInfo_get(self, p: dict) -> Any:
        syms = []
        for s in self.fsymbols.values():
            syms.append({
                "symbol": s.symbol, "pair": s.symbol, "contractType": "PERPETUAL", "deliveryDate": 4133404800000,
                "onboardDate": 1569398400000, "status": "TRADING", "maintMarginPercent": "2.5000",
                "requiredMarginPercent": "5.0000", "baseAsset": s.base, "quoteAsset": s.quote, "marginAsset": s.quote,
                "pricePrecision": s.price_precision, "quantityPrecision": s.quantity_precision,
                "baseAssetPrecision": 8, "quotePrecision": 8, "underlyingType": "COIN", "underlyingSubType": ["PoW"],
                "triggerProtect": "0.0500", "liquidationFee": "0.012500", "marketTakeBound": "0.05",
                "maxMoveOrderLimit": 10000,
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": "556.80", "maxPrice": "4529764",
                     "tickSize": s.tick_size},
                    {"filterType": "LOT_SIZE", "minQty": s.min_qty, "maxQty": "1000", "stepSize": s.step_size},
                    {"filterType": "MARKET_LOT_SIZE", "minQty": s.min_qty, "maxQty": "120", "stepSize": s.step_size},
                    {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                    {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
                    {"filterType": "MIN_NOTIONAL", "notional": s.min_notional},
                    {"filterType": "PERCENT_PRICE", "multiplierUp": "1.0500", "multiplierDown": "0.9500",
                     "multiplierDecimal": "4"},
                ],
                "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET",
                               "TRAILING_STOP_MARKET"],
                "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
            })  # fmt: skip
        limits = [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": self.weight_limit},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
        ]
        return {"timezone": "UTC", "serverTime": self._now_ms(), "futuresType": "U_MARGINED", "rateLimits": limits,
                "exchangeFilters": [], "assets": [{"asset": "USDT", "marginAvailable": True,
                                                   "autoAssetExchange": "-10000"}],
                "symbols": syms}  # fmt: skip

    def _fsymbol(self, p: dict) -> FuturesSymbolSpec:
        s = self.fsymbols.get(p.get("symbol", ""))
        if s is None:
            raise ApiError(400, -1121, "Invalid symbol.")
        return s

    async def _h_v1_depth_get(self, p: dict) -> Any:
        self._fsymbol(p)
        limit = int(p.get("limit", 500))
        if limit not in (5, 10, 20, 50, 100, 500, 1000):
            raise ApiError(400, -1130, "Data sent for parameter 'limit' is not valid.")
        b, a = self._top(limit)
        now = self._now_ms()
        return {"lastUpdateId": self.last_update_id, "E": now, "T": now,
                "bids": [[str(x), str(y)] for x, y in b], "asks": [[str(x), str(y)] for x, y in a]}  # fmt: skip

    async def _h_v1_klines_get(self, p: dict) -> Any:
        self._fsymbol(p)
        return await self._h_klines_get(p)

    # -- account ----------------------------------------------------------------------------------
    def _unrealized(self, sym: str, pos: _Position) -> Decimal:
        return pos.amt * (self.mark_price(sym) - pos.entry) if pos.amt else D0

    def _position_margin(self, sym: str, pos: _Position) -> Decimal:
        return abs(pos.amt) * self.mark_price(sym) / self.leverage[sym] if pos.amt else D0

    def _order_margin(self, o: _FOrder) -> Decimal:
        if o.reduce_only or o.status not in _OPEN:
            return D0
        return (o.qty - o.executed) * o.price / self.leverage[o.symbol]

    def available_balance(self) -> Decimal:
        """Wallet + unrealized P&L - position and open-order initial margin (cross margin)."""
        upnl = sum((self._unrealized(s, p) for (s, _), p in self.positions.items()), D0)
        im = sum((self._position_margin(s, p) for (s, _), p in self.positions.items()), D0)
        om = sum((self._order_margin(o) for o in self.orders.values()), D0)
        return self.wallet + upnl - im - om

    def _position_rows(self, sym: str | None, v3: bool) -> list[dict[str, Any]]:
        rows = []
        sides = ("LONG", "SHORT") if self.dual_side else ("BOTH",)
        for s in self.fsymbols.values():
            if sym is not None and s.symbol != sym:
                continue
            for ps in sides:
                pos = self.positions.get((s.symbol, ps)) or _Position()
                if v3 and not pos.amt:
                    continue  # v3 lists only symbols with a position or open orders
                mark = self.mark_price(s.symbol)
                row = {"symbol": s.symbol, "positionSide": ps, "positionAmt": _s(pos.amt), "entryPrice": _s(pos.entry),
                       "breakEvenPrice": _s(pos.entry), "markPrice": _s(mark),
                       "unRealizedProfit": _s(self._unrealized(s.symbol, pos)), "liquidationPrice": "0",
                       "isolatedMargin": "0", "notional": _s(pos.amt * mark), "isolatedWallet": "0",
                       "updateTime": pos.update_time}  # fmt: skip
                if v3:
                    im = _s(self._position_margin(s.symbol, pos))
                    row |= {"marginAsset": s.quote, "initialMargin": im, "maintMargin": "0",
                            "positionInitialMargin": im, "openOrderInitialMargin": "0", "adl": 0,
                            "bidNotional": "0", "askNotional": "0"}  # fmt: skip
                else:
                    row |= {"leverage": str(self.leverage[s.symbol]), "maxNotionalValue": "5000000",
                            "marginType": self.margin_type[s.symbol], "isAutoAddMargin": "false",
                            "isolated": self.margin_type[s.symbol] == "isolated", "adlQuantile": 0}  # fmt: skip
                rows.append(row)
        return rows

    async def _h_v2_positionRisk_get(self, p: dict) -> Any:
        return self._position_rows(p.get("symbol"), v3=False)

    async def _h_v3_positionRisk_get(self, p: dict) -> Any:
        return self._position_rows(p.get("symbol"), v3=True)

    def _balance_totals(self) -> dict[str, str]:
        upnl = sum((self._unrealized(s, p) for (s, _), p in self.positions.items()), D0)
        avail = self.available_balance()
        return {"walletBalance": _s(self.wallet), "unrealizedProfit": _s(upnl), "marginBalance": _s(self.wallet + upnl),
                "availableBalance": _s(avail), "maxWithdrawAmount": _s(min(avail, self.wallet))}  # fmt: skip

    async def _account(self, v3: bool) -> Any:
        t = self._balance_totals()
        asset = {"asset": "USDT", "walletBalance": t["walletBalance"], "unrealizedProfit": t["unrealizedProfit"],
                 "marginBalance": t["marginBalance"], "crossWalletBalance": t["walletBalance"],
                 "crossUnPnl": t["unrealizedProfit"], "availableBalance": t["availableBalance"],
                 "maxWithdrawAmount": t["maxWithdrawAmount"], "initialMargin": "0", "maintMargin": "0",
                 "positionInitialMargin": "0", "openOrderInitialMargin": "0", "updateTime": self._now_ms()}  # fmt: skip
        return {"totalWalletBalance": t["walletBalance"], "totalUnrealizedProfit": t["unrealizedProfit"],
                "totalMarginBalance": t["marginBalance"], "totalCrossWalletBalance": t["walletBalance"],
                "totalCrossUnPnl": t["unrealizedProfit"], "availableBalance": t["availableBalance"],
                "maxWithdrawAmount": t["maxWithdrawAmount"], "totalInitialMargin": "0", "totalMaintMargin": "0",
                "assets": [asset], "positions": self._position_rows(None, v3=True)}  # fmt: skip

    async def _h_v2_account_get(self, p: dict) -> Any:
        return await self._account(v3=False)

    async def _h_v3_account_get(self, p: dict) -> Any:
        return await self._account(v3=True)

    async def _h_v2_balance_get(self, p: dict) -> Any:
        t = self._balance_totals()
        return [{"accountAlias": "SgsR", "asset": "USDT", "balance": t["walletBalance"],
                 "crossWalletBalance": t["walletBalance"], "crossUnPnl": t["unrealizedProfit"],
                 "availableBalance": t["availableBalance"], "maxWithdrawAmount": t["maxWithdrawAmount"],
                 "marginAvailable": True, "updateTime": self._now_ms()}]  # fmt: skip

    _h_v3_balance_get = _h_v2_balance_get

    async def _h_v1_leverageBracket_get(self, p: dict) -> Any:
        out = []
        for s in self.fsymbols.values():
            if p.get("symbol") not in (None, s.symbol):
                continue
            out.append({"symbol": s.symbol, "brackets": [
                {"bracket": 1, "initialLeverage": 125, "notionalCap": 50000, "notionalFloor": 0,
                 "maintMarginRatio": 0.004, "cum": 0.0}]})  # fmt: skip
        return out

    async def _h_v1_leverage_post(self, p: dict) -> Any:
        s = self._fsymbol(p)
        lev = int(p.get("leverage", "0"))
        if not 1 <= lev <= 125:
            raise ApiError(400, -4028, f"Leverage {lev} is not valid")
        self.leverage[s.symbol] = lev
        return {"leverage": lev, "maxNotionalValue": "5000000", "symbol": s.symbol}

    async def _h_v1_marginType_post(self, p: dict) -> Any:
        s = self._fsymbol(p)
        mt = p.get("marginType", "").upper()
        if mt not in ("ISOLATED", "CROSSED"):
            raise ApiError(400, -4044, "The margin type is invalid.")
        new = "isolated" if mt == "ISOLATED" else "cross"
        if self.margin_type[s.symbol] == new:
            raise ApiError(400, -4046, "No need to change margin type.")
        if any(p_.amt for (sym, _), p_ in self.positions.items() if sym == s.symbol) or any(
            o.symbol == s.symbol and o.status in _OPEN for o in self.orders.values()
        ):
            raise ApiError(400, -4048, "Margin type cannot be changed if there exists position.")
        self.margin_type[s.symbol] = new
        return {"code": 200, "msg": "success"}

    async def _h_v1_positionSide_dual_get(self, p: dict) -> Any:
        return {"dualSidePosition": self.dual_side}

    async def _h_v1_positionSide_dual_post(self, p: dict) -> Any:
        want = p.get("dualSidePosition", "").lower() == "true"
        if want == self.dual_side:
            raise ApiError(400, -4059, "No need to change position side.")
        if any(p_.amt for p_ in self.positions.values()) or any(o.status in _OPEN for o in self.orders.values()):
            raise ApiError(400, -4068, "Position side cannot be changed if there exists position.")
        self.dual_side = want
        return {"code": 200, "msg": "success"}


__all__ = ["BinanceFuturesExchange", "FuturesSymbolSpec", "load_futures_recording"]
