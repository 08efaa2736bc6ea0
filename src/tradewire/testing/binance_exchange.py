"""State and matching of the local Binance spot exchange (:mod:`tradewire.testing.binance_server`).

:class:`BinanceExchange` owns everything that is not transport: the order book rebuilt from a real recorded
session (REST depth snapshot, then the recorded ``depthUpdate`` diffs), the replay cursor, balances, orders,
fills and klines, and one handler per REST endpoint returning Binance's JSON. Orders match against the
book as taker (level by level) and rest as maker until a recorded trade trades through their price (a
recorded trade at exactly their price fills them when its aggressor is on the other side); stop orders
trigger on the recorded last price. Commissions are charged in the asset received, as on Binance spot.
Every order change is reported as an ``executionReport`` (plus ``outboundAccountPosition``) through
:meth:`BinanceExchange._user_event`, and market data through :meth:`BinanceExchange._publish`; the
server subclass sends both over its websockets.
"""

from __future__ import annotations

import functools
import gzip
import json
import time
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

D0 = Decimal(0)
INTERVAL_MS = {"1s": 1000, "1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000}


class ApiError(Exception):
    """A Binance error answer: HTTP ``status`` and JSON ``{"code", "msg"}``."""

    def __init__(self, status: int, code: int, msg: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{code}: {msg}")
        self.status, self.code, self.msg, self.headers = status, code, msg, headers or {}


def find_order(orders: dict[int, Any], symbol: str, p: dict) -> Any:
    """The order of ``symbol`` named by ``orderId`` or, else, the newest with ``origClientOrderId`` (Binance's
    "Query order" lookup, spot and USD-M alike).

    Raises
    ------
    ApiError
        -2013 "Order does not exist." when no order of ``symbol`` matches.
    """
    if "orderId" in p:
        o = orders.get(int(p["orderId"]))
    else:
        coid = p.get("origClientOrderId")
        o = next((x for x in sorted(orders.values(), key=lambda x: -x.order_id)
                  if x.client_order_id == coid and x.symbol == symbol), None)  # fmt: skip
    if o is None or o.symbol != symbol:
        raise ApiError(400, -2013, "Order does not exist.")
    return o


@dataclass
class SymbolSpec:
    """Filters of one spot symbol (``exchangeInfo``)."""

    symbol: str
    base: str
    quote: str
    tick_size: str = "0.01"
    step_size: str = "0.00001"
    min_qty: str = "0.00001"
    min_notional: str = "5"


@dataclass
class _Order:
    symbol: str
    order_id: int
    client_order_id: str
    side: str
    type: str
    tif: str
    qty: Decimal
    price: Decimal
    stop_price: Decimal
    time: int
    executed: Decimal = D0
    quote: Decimal = D0
    status: str = "NEW"
    update_time: int = 0
    triggered: bool = field(default=True)

    def wire(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol, "orderId": self.order_id, "orderListId": -1, "clientOrderId": self.client_order_id,
            "price": f"{self.price:.8f}", "origQty": f"{self.qty:.8f}", "executedQty": f"{self.executed:.8f}",
            "cummulativeQuoteQty": f"{self.quote:.8f}", "status": self.status, "timeInForce": self.tif,
            "type": self.type, "side": self.side, "stopPrice": f"{self.stop_price:.8f}", "icebergQty": "0.00000000",
            "time": self.time, "updateTime": self.update_time or self.time, "isWorking": self.triggered,
            "workingTime": self.time, "origQuoteOrderQty": "0.00000000", "selfTradePreventionMode": "EXPIRE_MAKER",
        }  # fmt: skip


@functools.lru_cache(maxsize=4)
def load_recording(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read a Binance raw combined-stream capture: the REST depth snapshot and the stream messages after it.

    Returns
    -------
    (snapshot, messages)
        (cached per path; callers must not mutate them) ``snapshot`` is the ``{"lastUpdateId", "bids", "asks"}``
        answer; ``messages`` the combined-stream
        ``{"stream", "data"}`` objects in file order, minus depth diffs the snapshot already covers
        (``u <= lastUpdateId``, the Binance spot rule).

    Raises
    ------
    ValueError
        If a line is not ``<int> <json>`` (file and line named) or no snapshot is present.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    snapshot: dict[str, Any] | None = None
    before: list[dict[str, Any]] = []
    after: list[dict[str, Any]] = []
    with opener(path, "rt") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                _, text = line.split(" ", 1)
                msg = json.loads(text)
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: not a '<ns> <json>' line: {exc}") from None
            if "lastUpdateId" in msg:
                snapshot = msg
            elif snapshot is None:
                before.append(msg)
            else:
                after.append(msg)
    if snapshot is None:
        raise ValueError(f"{path}: no REST depth snapshot in the recording")
    last = snapshot["lastUpdateId"]
    bridge = [m for m in before if m["data"].get("e") == "depthUpdate" and m["data"]["u"] > last]
    return snapshot, bridge + after


class BinanceExchange:
    """Exchange state, market replay and REST endpoint handlers (no transport; see module docstring).

    Parameters
    ----------
    recording : Path | None
        Capture to replay (default: the bundled BTCUSDT 2024-08-08 session).
    balances : dict[str, str]
        Starting free balances per asset.
    symbols : list[SymbolSpec] | None
        Listed symbols (default BTCUSDT plus ETHUSDT; only the recorded one has market data).
    maker_fee, taker_fee : str
        Commission rates, charged in the asset received (Binance spot's default, no BNB discount).
    weight_limit : int
        REQUEST_WEIGHT per minute advertised in ``exchangeInfo``.
    """

    def __init__(
        self,
        recording: Path | None = None,
        balances: dict[str, str] | None = None,
        symbols: list[SymbolSpec] | None = None,
        maker_fee: str = "0.001",
        taker_fee: str = "0.001",
        weight_limit: int = 6000,
    ) -> None:
        if recording is None:
            from importlib import resources

            recording = Path(str(resources.files("tradewire.samples").joinpath("binance_spot_btcusdt_20240808.gz")))
        snap, self.messages = load_recording(Path(recording))
        self.symbols = {s.symbol: s for s in (symbols or [SymbolSpec("BTCUSDT", "BTC", "USDT"),
                                                          SymbolSpec("ETHUSDT", "ETH", "USDT")])}  # fmt: skip
        self.bids = {Decimal(p): Decimal(q) for p, q in snap["bids"]}
        self.asks = {Decimal(p): Decimal(q) for p, q in snap["asks"]}
        self.last_update_id: int = snap["lastUpdateId"]
        self.cursor = 0
        self.last_trade_px: Decimal | None = None
        self.balances = {a: [Decimal(v), D0] for a, v in (balances or {"USDT": "100000", "BTC": "1"}).items()}
        self.maker_fee, self.taker_fee = Decimal(maker_fee), Decimal(taker_fee)
        self.orders: dict[int, _Order] = {}
        self.my_trades: list[dict[str, Any]] = []
        self.klines: dict[int, list[Any]] = {}  # 1m open time -> [o, h, l, c, v, qv, n]
        self._next_order_id = 1000
        self._next_trade_id = 5000
        self.weight_limit = weight_limit
        self.clock_skew_ms = 0
        self._time_shift_ms: int | None = None
        self._hist: dict[int, list[Any]] | None = None

    async def _publish(self, d: dict[str, Any], kinds: tuple[str, ...]) -> None:
        """Send a market-data event to subscribers of ``<symbol>@<kind>`` (transport: the server)."""
        raise NotImplementedError

    async def _user_event(self, event: dict[str, Any]) -> None:
        """Send a user-data event to subscribed user streams (transport: the server)."""
        raise NotImplementedError

    def _now_ms(self) -> int:
        return int(time.time() * 1000) + self.clock_skew_ms

    @staticmethod
    def _event_ms(d: dict[str, Any]) -> int:
        return int(d.get("E") or d.get("T") or 0)

    def _top(self, depth: int) -> tuple[list, list]:
        b = sorted(self.bids.items(), reverse=True)[:depth]
        a = sorted(self.asks.items())[:depth]
        return b, a

    async def _advance(self, n: int) -> int:
        done = 0
        while done < n and self.cursor < len(self.messages):
            msg = self.messages[self.cursor]
            self.cursor += 1
            done += 1
            stream, d = msg["stream"], dict(msg["data"])
            te = self._event_ms(d)
            if self._time_shift_ms is None and te:
                self._time_shift_ms = int(time.time() * 1000) - te
            for k in ("E", "T"):
                if k in d:
                    d[k] = d[k] + (self._time_shift_ms or 0)
            kind = stream.split("@", 1)[1]
            if d.get("e") == "depthUpdate":
                for side, levels in ((self.bids, d["b"]), (self.asks, d["a"])):
                    for p, q in levels:
                        if Decimal(q) == 0:
                            side.pop(Decimal(p), None)
                        else:
                            side[Decimal(p)] = Decimal(q)
                self.last_update_id = d["u"]
                await self._publish(d, ("depth", "depth@100ms"))
            elif d.get("e") == "trade":
                await self._publish(d, ("trade",))
                await self._on_market_trade(d)
            elif kind == "bookTicker":
                await self._publish(d, ("bookTicker",))
        return done

    async def _on_market_trade(self, d: dict[str, Any]) -> None:
        px, qty, t = Decimal(d["p"]), Decimal(d["q"]), d["T"]
        self.last_trade_px = px
        ot = t - t % 60_000
        k = self.klines.get(ot)
        if k is None:
            self.klines[ot] = [px, px, px, px, qty, px * qty, 1]
        else:
            k[1], k[2], k[3] = max(k[1], px), min(k[2], px), px
            k[4] += qty
            k[5] += px * qty
            k[6] += 1
        for interval in {s.split("@kline_")[1] for subs in self._market_ws.values() for s in subs if "@kline_" in s}:
            await self._publish_kline(d["s"], interval, t)
        for o in [o for o in self.orders.values() if o.status in ("NEW", "PARTIALLY_FILLED") and o.symbol == d["s"]]:
            if not o.triggered:
                hit = (px >= o.stop_price) if o.side == "BUY" else (px <= o.stop_price)
                if not hit:
                    continue
                o.triggered = True
                if o.type in ("STOP_LOSS", "TAKE_PROFIT"):
                    await self._take(o)
                    continue
            if o.type == "MARKET" or o.price == 0:
                continue
            crosses = px < o.price if o.side == "BUY" else px > o.price
            touches = px == o.price and ((o.side == "BUY") == bool(d["m"]))
            if crosses or touches:
                await self._fill(o, min(qty, o.qty - o.executed), o.price, maker=True)

    async def _publish_kline(self, symbol: str, interval: str, t: int) -> None:
        ms = INTERVAL_MS.get(interval)
        if ms is None:
            return
        start = t - t % ms
        rows = [v for k, v in self.klines.items() if start <= k < start + ms]
        if not rows:
            return
        o, h, lo, c = rows[0][0], max(r[1] for r in rows), min(r[2] for r in rows), rows[-1][3]
        v, qv, n = sum(r[4] for r in rows), sum(r[5] for r in rows), sum(r[6] for r in rows)
        k = {"t": start, "T": start + ms - 1, "s": symbol, "i": interval, "f": 0, "L": 0, "o": str(o), "c": str(c),
             "h": str(h), "l": str(lo), "v": str(v), "n": n, "x": False, "q": str(qv), "V": "0", "Q": "0",
             "B": "0"}  # fmt: skip
        await self._publish({"e": "kline", "E": t, "s": symbol, "k": k}, (f"kline_{interval}",))

    async def _h_ping_get(self, p: dict) -> Any:
        return {}

    async def _h_time_get(self, p: dict) -> Any:
        return {"serverTime": self._now_ms()}

    async def _h_exchangeInfo_get(self, p: dict) -> Any:
        syms = []
        for s in self.symbols.values():
            syms.append({
                "symbol": s.symbol, "status": "TRADING", "baseAsset": s.base, "baseAssetPrecision": 8,
                "quoteAsset": s.quote, "quotePrecision": 8, "quoteAssetPrecision": 8, "baseCommissionPrecision": 8,
                "quoteCommissionPrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                               "TAKE_PROFIT_LIMIT"],
                "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True, "quoteOrderQtyMarketAllowed": True,
                "allowTrailingStop": True, "cancelReplaceAllowed": True, "amendAllowed": True,
                "isSpotTradingAllowed": True, "isMarginTradingAllowed": False,
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": s.tick_size, "maxPrice": "1000000.00000000",
                     "tickSize": s.tick_size},
                    {"filterType": "LOT_SIZE", "minQty": s.min_qty, "maxQty": "9000.00000000", "stepSize": s.step_size},
                    {"filterType": "NOTIONAL", "minNotional": s.min_notional, "applyMinToMarket": True,
                     "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
                ],
                "permissions": [], "permissionSets": [["SPOT"]], "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
                "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
            })  # fmt: skip
        limits = [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": self.weight_limit}
        ]
        return {"timezone": "UTC", "serverTime": self._now_ms(), "rateLimits": limits, "exchangeFilters": [],
                "symbols": syms}  # fmt: skip

    def _symbol(self, p: dict) -> SymbolSpec:
        s = self.symbols.get(p.get("symbol", ""))
        if s is None:
            raise ApiError(400, -1121, "Invalid symbol.")
        return s

    async def _h_depth_get(self, p: dict) -> Any:
        self._symbol(p)
        b, a = self._top(int(p.get("limit", 100)))
        return {"lastUpdateId": self.last_update_id, "bids": [[f"{x:.8f}", f"{y:.8f}"] for x, y in b],
                "asks": [[f"{x:.8f}", f"{y:.8f}"] for x, y in a]}  # fmt: skip

    async def _h_klines_get(self, p: dict) -> Any:
        self._symbol(p)
        ms = INTERVAL_MS.get(p.get("interval", ""))
        if ms is None or ms % 60_000:
            raise ApiError(400, -1120, "Invalid interval.")
        start, end = int(p.get("startTime", 0)), int(p.get("endTime", 2**62))
        limit = min(int(p.get("limit", 500)), 1000)
        self._ensure_klines()
        buckets: dict[int, list[list[Any]]] = {}
        for t in sorted(self.klines):
            buckets.setdefault(t - t % ms, []).append(self.klines[t])
        out = []
        for t in sorted(buckets):
            if t < start or t > end:
                continue
            rows = buckets[t]
            o, c = rows[0][0], rows[-1][3]
            h, lo = max(r[1] for r in rows), min(r[2] for r in rows)
            v, qv, n = sum(r[4] for r in rows), sum(r[5] for r in rows), sum(r[6] for r in rows)
            out.append([t, f"{o:.8f}", f"{h:.8f}", f"{lo:.8f}", f"{c:.8f}", f"{v:.8f}", t + ms - 1, f"{qv:.8f}", n,
                        "0", "0", "0"])  # fmt: skip
            if len(out) >= limit:
                break
        return out

    def _ensure_klines(self) -> None:
        """Klines come from the whole recording's trades (with their recorded timestamps) on first use."""
        if self._hist is None:
            hist: dict[int, list[Any]] = {}
            for m in self.messages:
                d = m["data"]
                if d.get("e") != "trade":
                    continue
                px, q, t = Decimal(d["p"]), Decimal(d["q"]), d["T"]
                ot = t - t % 60_000
                k = hist.get(ot)
                if k is None:
                    hist[ot] = [px, px, px, px, q, px * q, 1]
                else:
                    k[1], k[2], k[3] = max(k[1], px), min(k[2], px), px
                    k[4], k[5], k[6] = k[4] + q, k[5] + px * q, k[6] + 1
            self._hist = hist
        self.klines = {**self._hist, **self.klines}

    # -- account & orders ---------------------------------------------------------------------
    async def _h_account_get(self, p: dict) -> Any:
        bals = [{"asset": a, "free": f"{f:.8f}", "locked": f"{lk:.8f}"} for a, (f, lk) in self.balances.items()]
        return {"makerCommission": 10, "takerCommission": 10, "buyerCommission": 0, "sellerCommission": 0,
                "commissionRates": {"maker": str(self.maker_fee), "taker": str(self.taker_fee), "buyer": "0",
                                    "seller": "0"},
                "canTrade": True, "canWithdraw": False, "canDeposit": False, "brokered": False,
                "requireSelfTradePrevention": False, "preventSor": False, "updateTime": self._now_ms(),
                "accountType": "SPOT", "balances": bals, "permissions": ["SPOT"], "uid": 1}  # fmt: skip

    def _find(self, p: dict) -> _Order:
        return find_order(self.orders, self._symbol(p).symbol, p)

    async def _h_order_get(self, p: dict) -> Any:
        return self._find(p).wire()

    async def _h_openOrders_get(self, p: dict) -> Any:
        sym = p.get("symbol")
        return [o.wire() for o in self.orders.values()
                if o.status in ("NEW", "PARTIALLY_FILLED") and (sym is None or o.symbol == sym)]  # fmt: skip

    async def _h_allOrders_get(self, p: dict) -> Any:
        sym = self._symbol(p).symbol
        return [o.wire() for o in self.orders.values() if o.symbol == sym]

    async def _h_myTrades_get(self, p: dict) -> Any:
        sym = self._symbol(p).symbol
        start = int(p.get("startTime", 0))
        oid = int(p["orderId"]) if "orderId" in p else None
        out = [t for t in self.my_trades if t["symbol"] == sym and t["time"] >= start
               and (oid is None or t["orderId"] == oid)]  # fmt: skip
        return out[: int(p.get("limit", 500))]

    async def _h_order_delete(self, p: dict) -> Any:
        try:
            o = self._find(p)
        except ApiError:
            raise ApiError(400, -2011, "Unknown order sent.") from None
        if o.status not in ("NEW", "PARTIALLY_FILLED"):
            raise ApiError(400, -2011, "Unknown order sent.")
        await self._cancel(o)
        return o.wire() | {"origClientOrderId": o.client_order_id}

    async def _h_openOrders_delete(self, p: dict) -> Any:
        sym = self._symbol(p).symbol
        out = []
        for o in [o for o in self.orders.values() if o.symbol == sym and o.status in ("NEW", "PARTIALLY_FILLED")]:
            await self._cancel(o)
            out.append(o.wire())
        return out

    async def _h_order_cancelReplace_post(self, p: dict) -> Any:
        cancel = {"symbol": p["symbol"]}
        if "cancelOrderId" in p:
            cancel["orderId"] = p["cancelOrderId"]
        else:
            cancel["origClientOrderId"] = p.get("cancelOrigClientOrderId", "")
        try:
            old = self._find(cancel)
            if old.status not in ("NEW", "PARTIALLY_FILLED"):
                raise ApiError(400, -2011, "Unknown order sent.")
        except ApiError as e:
            raise ApiError(
                400,
                -2022,
                "Order cancel-replace failed.",
            ) from e
        await self._cancel(old)
        new = dict(p)
        for k in ("cancelOrderId", "cancelOrigClientOrderId", "cancelReplaceMode", "cancelNewClientOrderId"):
            new.pop(k, None)
        res = await self._h_order_post(new)
        return {"cancelResult": "SUCCESS", "newOrderResult": "SUCCESS", "cancelResponse": old.wire(),
                "newOrderResponse": res}  # fmt: skip

    async def _h_order_post(self, p: dict) -> Any:
        s = self._symbol(p)
        side, typ = p.get("side", ""), p.get("type", "")
        if side not in ("BUY", "SELL"):
            raise ApiError(400, -1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed.")
        if typ not in ("LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                       "TAKE_PROFIT_LIMIT"):  # fmt: skip
            raise ApiError(400, -1116, "Invalid orderType.")
        qty = Decimal(p.get("quantity", "0"))
        price = Decimal(p.get("price", "0"))
        stop = Decimal(p.get("stopPrice", "0"))
        tick, step = Decimal(s.tick_size), Decimal(s.step_size)
        if qty <= 0:
            raise ApiError(400, -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.")
        if qty % step or qty < Decimal(s.min_qty):
            raise ApiError(400, -1013, "Filter failure: LOT_SIZE")
        if typ not in ("MARKET", "STOP_LOSS", "TAKE_PROFIT") and (price <= 0 or price % tick):
            raise ApiError(400, -1013, "Filter failure: PRICE_FILTER")
        coid = p.get("newClientOrderId") or f"x-{self._next_order_id}"
        if any(o.client_order_id == coid and o.status in ("NEW", "PARTIALLY_FILLED") for o in self.orders.values()):
            raise ApiError(400, -2010, "Duplicate order sent.")
        ref = price or self._ref_price(side)
        if ref is not None and qty * ref < Decimal(s.min_notional):
            raise ApiError(400, -1013, "Filter failure: NOTIONAL")
        if typ == "LIMIT_MAKER" and self._crosses(side, price):
            raise ApiError(400, -2010, "Order would immediately match and take.")
        need_asset, need = (s.quote, qty * (ref or D0)) if side == "BUY" else (s.base, qty)
        if typ == "MARKET" and side == "BUY":
            need = need * Decimal("1.0001")
        free = self.balances.get(need_asset, [D0, D0])[0]
        if need > free:
            raise ApiError(400, -2010, "Account has insufficient balance for requested action.")
        now = self._now_ms()
        o = _Order(s.symbol, self._next_order_id, coid, side, typ, p.get("timeInForce", "GTC"), qty, price, stop, now)
        o.triggered = typ in ("LIMIT", "LIMIT_MAKER", "MARKET")
        self._next_order_id += 1
        self.orders[o.order_id] = o
        if typ != "MARKET":
            lock = qty * price if side == "BUY" else qty
            if typ in ("STOP_LOSS", "TAKE_PROFIT") and side == "BUY":
                lock = qty * (ref or D0)
            bal = self.balances.setdefault(need_asset, [D0, D0])
            bal[0] -= lock
            bal[1] += lock
        await self._report(o, "NEW")
        fills: list[dict[str, Any]] = []
        if o.triggered and typ != "LIMIT_MAKER":
            fills = await self._take(o)
        resp = o.wire() | {"transactTime": now, "fills": fills}
        if p.get("newOrderRespType") == "ACK":
            return {"symbol": o.symbol, "orderId": o.order_id, "orderListId": -1, "clientOrderId": coid,
                    "transactTime": now}  # fmt: skip
        return resp

    def _ref_price(self, side: str) -> Decimal | None:
        book = self.asks if side == "BUY" else self.bids
        if not book:
            return self.last_trade_px
        return min(book) if side == "BUY" else max(book)

    def _crosses(self, side: str, price: Decimal) -> bool:
        best = self._ref_price(side)
        return best is not None and (price >= best if side == "BUY" else price <= best)

    async def _take(self, o: _Order) -> list[dict[str, Any]]:
        """Match an incoming (or just triggered) order against the book as taker, level by level."""
        levels = sorted(self.asks.items()) if o.side == "BUY" else sorted(self.bids.items(), reverse=True)
        fills = []
        for px, avail in levels:
            left = o.qty - o.executed
            if left <= 0:
                break
            if o.type not in ("MARKET", "STOP_LOSS", "TAKE_PROFIT") and (
                px > o.price if o.side == "BUY" else px < o.price
            ):
                break
            fills.append(await self._fill(o, min(left, avail), px, maker=False))
        if (o.tif in ("IOC", "FOK") or o.type in ("MARKET", "STOP_LOSS", "TAKE_PROFIT")) and o.executed < o.qty:
            await self._cancel(o, status="EXPIRED")
        return fills

    async def _fill(self, o: _Order, qty: Decimal, px: Decimal, maker: bool) -> dict[str, Any]:
        s = self.symbols[o.symbol]
        rate = self.maker_fee if maker else self.taker_fee
        now = self._now_ms()
        quote = px * qty
        if o.side == "BUY":
            fee, fee_asset = (qty * rate).quantize(Decimal("1e-8"), ROUND_DOWN), s.base
            q = self.balances.setdefault(s.quote, [D0, D0])
            if o.type in ("MARKET",):
                q[0] -= quote
            else:
                locked = qty * (o.price if o.price else px)
                q[1] -= locked
                q[0] += locked - quote
            b = self.balances.setdefault(s.base, [D0, D0])
            b[0] += qty - fee
        else:
            fee, fee_asset = (quote * rate).quantize(Decimal("1e-8"), ROUND_DOWN), s.quote
            b = self.balances.setdefault(s.base, [D0, D0])
            if o.type == "MARKET":
                b[0] -= qty
            else:
                b[1] -= qty
            q = self.balances.setdefault(s.quote, [D0, D0])
            q[0] += quote - fee
        o.executed += qty
        o.quote += quote
        o.update_time = now
        o.status = "FILLED" if o.executed >= o.qty else "PARTIALLY_FILLED"
        tid = self._next_trade_id
        self._next_trade_id += 1
        self.my_trades.append({
            "symbol": o.symbol, "id": tid, "orderId": o.order_id, "orderListId": -1, "price": f"{px:.8f}",
            "qty": f"{qty:.8f}", "quoteQty": f"{quote:.8f}", "commission": f"{fee:.8f}", "commissionAsset": fee_asset,
            "time": now, "isBuyer": o.side == "BUY", "isMaker": maker, "isBestMatch": True,
        })  # fmt: skip
        await self._report(
            o, "TRADE", last_qty=qty, last_px=px, fee=fee, fee_asset=fee_asset, trade_id=tid, maker=maker
        )
        return {"price": f"{px:.8f}", "qty": f"{qty:.8f}", "commission": f"{fee:.8f}", "commissionAsset": fee_asset,
                "tradeId": tid}  # fmt: skip

    async def _cancel(self, o: _Order, status: str = "CANCELED") -> None:
        s = self.symbols[o.symbol]
        if o.type != "MARKET":
            left = o.qty - o.executed
            asset, amount = (s.quote, left * o.price) if o.side == "BUY" else (s.base, left)
            if o.type in ("STOP_LOSS", "TAKE_PROFIT") and o.side == "BUY":
                amount = D0
            bal = self.balances.setdefault(asset, [D0, D0])
            bal[1] -= amount
            bal[0] += amount
        o.status = status
        o.update_time = self._now_ms()
        await self._report(o, status)

    async def _report(self, o: _Order, exec_type: str, last_qty: Decimal = D0, last_px: Decimal = D0,
                      fee: Decimal = D0, fee_asset: str | None = None, trade_id: int = -1,
                      maker: bool = False) -> None:  # fmt: skip
        now = self._now_ms()
        ev = {
            "e": "executionReport", "E": now, "s": o.symbol, "c": o.client_order_id, "S": o.side, "o": o.type,
            "f": o.tif, "q": f"{o.qty:.8f}", "p": f"{o.price:.8f}", "P": f"{o.stop_price:.8f}", "F": "0.00000000",
            "g": -1, "C": "", "x": exec_type, "X": o.status, "r": "NONE", "i": o.order_id,
            "l": f"{last_qty:.8f}", "z": f"{o.executed:.8f}", "L": f"{last_px:.8f}", "n": f"{fee:.8f}",
            "N": fee_asset, "T": o.update_time or now, "t": trade_id, "I": 0,
            "w": o.status in ("NEW", "PARTIALLY_FILLED"),
            "m": maker, "M": False, "O": o.time, "Z": f"{o.quote:.8f}", "Y": f"{last_px * last_qty:.8f}",
            "Q": "0.00000000", "W": o.time, "V": "EXPIRE_MAKER",
        }  # fmt: skip
        await self._user_event(ev)
        bals = [{"a": a, "f": f"{f:.8f}", "l": f"{lk:.8f}"} for a, (f, lk) in self.balances.items()]
        await self._user_event({"e": "outboundAccountPosition", "E": now, "u": now, "B": bals})


_SIGNED = {"account", "order", "openOrders", "allOrders", "myTrades", "order/cancelReplace"}

__all__ = ["INTERVAL_MS", "ApiError", "BinanceExchange", "SymbolSpec", "load_recording"]
