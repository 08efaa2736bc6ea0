"""Read models of a :class:`tradewire.node.live.TradingNode`: JSON rows, the book ladder, and the views the
engine thread publishes for the API (positions, closed trades, trading stats, engine, connections, health).

Every builder here runs in the engine thread; the results are plain dicts/lists that are published (replaced,
never mutated afterwards) so any other thread may read them. Prices and quantities are formatted from the exact
fixed-point ``raw`` integers (scale 1e9) with integer arithmetic: no binary float touches a figure.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from tradewire.model.events import OrderFilled
from tradewire.model.objects import Money

RAW_SCALE = 1_000_000_000
_RAW_DIGITS = 9


def format_raw(raw: int, precision: int) -> str:
    """Format a fixed-point ``raw`` integer (value = raw / 1e9) with exactly ``precision`` decimals.

    Rounds half to even when ``raw`` has more digits than ``precision`` (the same result as
    ``Decimal(raw).scaleb(-9).quantize(Decimal(1).scaleb(-precision))`` in the default context), but with
    integer arithmetic only, so it is cheap enough to format a 20-level ladder for every book batch.

    Parameters
    ----------
    raw : int
        Value times 1e9 (``Price.raw``, ``Quantity.raw``, book level raws).
    precision : int
        Decimals to print, 0 to 9.

    Returns
    -------
    str
        e.g. ``format_raw(60000_010_000_000, 2) == "60000.01"``, ``format_raw(1_000_000, 5) == "0.00100"``.

    Raises
    ------
    ValueError
        If ``precision`` is outside 0..9.
    """
    if not 0 <= precision <= _RAW_DIGITS:
        raise ValueError(f"precision must be 0..9, got {precision}")
    sign = "-" if raw < 0 else ""
    scale = 10 ** (_RAW_DIGITS - precision)
    q, r = divmod(abs(raw), scale)
    if r * 2 > scale or (r * 2 == scale and q & 1):
        q += 1
    if precision == 0:
        return f"{sign}{q}"
    unit = 10**precision
    return f"{sign}{q // unit}.{q % unit:0{precision}d}"


class Ladder:
    """A book ladder captured in the engine thread as raw ints and formatted on first use, in any thread.

    Capturing costs two short list copies; formatting (:func:`format_raw` for every price and size) is left
    to whoever needs the text: the WebSocket hub formats only the ladders it sends (a newer one replaces an
    unsent one), so at a high book rate most ladders are never formatted. Immutable once built; two threads
    formatting at once compute the same dict.

    Parameters
    ----------
    book : tradewire.data.book.OrderBook
        Read now (engine thread).
    levels : int
        Levels per side.
    """

    __slots__ = ("_asks", "_bids", "_dict", "instrument_id", "price_precision", "sequence", "size_precision",
                 "ts_event", "ts_init")  # fmt: skip

    def __init__(self, book: Any, levels: int) -> None:
        self.instrument_id = str(book.instrument_id)
        self.ts_event = book.ts_event
        self.ts_init = book.ts_init
        self.sequence = book.sequence
        self.price_precision = book.price_precision
        self.size_precision = book.size_precision
        self._bids = book.bids_raw(levels)
        self._asks = book.asks_raw(levels)
        self._dict: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ladder as :func:`ladder_row` returns it (computed once)."""
        d = self._dict
        if d is None:
            pp, sp = self.price_precision, self.size_precision
            d = {
                "instrument_id": self.instrument_id,
                "ts_event": self.ts_event,
                "ts_init": self.ts_init,
                "sequence": self.sequence,
                "bids": [[format_raw(p, pp), format_raw(q, sp)] for p, q in self._bids],
                "asks": [[format_raw(p, pp), format_raw(q, sp)] for p, q in self._asks],
            }
            self._dict = d
        return d


def ladder_row(book: Any, levels: int) -> dict[str, Any]:
    """Top ``levels`` price levels per side of ``book`` as JSON-ready decimal strings.

    Parameters
    ----------
    book : tradewire.data.book.OrderBook
        Read in the engine thread (``bids_raw``/``asks_raw`` give ``(price_raw, size_raw)`` best first).
    levels : int
        Levels per side.

    Returns
    -------
    dict
        ``{"instrument_id", "ts_event", "ts_init", "sequence", "bids": [[price, size], ...], "asks": [...]}`` with
        prices at the book's price precision and sizes at its size precision; ``ts_event`` is the venue's time of
        the last update, ``ts_init`` when it arrived here (UTC ns).
    """
    return Ladder(book, levels).to_dict()


def _dec(v: Decimal | None) -> str | None:
    return None if v is None else str(v.quantize(Decimal("0.00000001")).normalize())


def _ratio(num: int, den: int, places: str) -> str:
    return str((Decimal(num) / Decimal(den)).quantize(Decimal(places)))


def order_row(o: Any) -> dict[str, Any]:
    """JSON row of an ``Order`` (decimal strings, ts in UTC ns)."""
    return {
        "client_order_id": str(o.client_order_id),
        "venue_order_id": None if o.venue_order_id is None else str(o.venue_order_id),
        "strategy_id": str(o.strategy_id),
        "instrument_id": str(o.instrument_id),
        "side": str(o.side),
        "order_type": str(o.order_type),
        "time_in_force": str(o.time_in_force),
        "quantity": str(o.quantity),
        "price": None if o.price is None else str(o.price),
        "filled_qty": str(o.filled_qty),
        "avg_px": _dec(o.avg_px),
        "status": str(o.status),
        "reason": o.last_reason,
        "ts_init": o.ts_init,
        "ts_last": o.ts_last,
    }


def fill_row(event: OrderFilled) -> dict[str, Any]:
    """JSON row of an ``OrderFilled``."""
    return {
        "ts_event": event.ts_event,
        "ts_init": event.ts_init,
        "client_order_id": str(event.client_order_id),
        "venue_order_id": str(event.venue_order_id),
        "trade_id": str(event.trade_id),
        "instrument_id": str(event.instrument_id),
        "strategy_id": str(event.strategy_id),
        "side": str(event.order_side),
        "quantity": str(event.last_qty),
        "price": str(event.last_px),
        "commission": str(event.commission.as_decimal()),
        "commission_currency": event.commission.currency.code,
        "liquidity_side": str(event.liquidity_side),
    }


def _history_row(t: Any) -> dict[str, Any]:
    return {
        "position_id": str(t.position_id),
        "instrument_id": str(t.instrument_id),
        "strategy_id": str(t.strategy_id),
        "side": str(t.side),
        "quantity": str(t.quantity),
        "ts_opened": t.ts_entry_ns,
        "ts_closed": t.ts_exit_ns,
        "avg_px_open": _dec(t.avg_px_entry),
        "avg_px_close": _dec(t.avg_px_exit),
        "realized_pnl": str(t.realized_pnl.as_decimal()),
        "commissions": str(t.commissions.as_decimal()),
        "net_pnl": str(t.net_pnl.as_decimal()),
    }


class TradeHistory:
    """The newest closed trades, newest first, as published by the engine thread; their JSON rows are built on
    the first read (by the API thread, :meth:`rows`), once, and not at all when nobody reads them.

    The trades are immutable (``ClosedTrade`` is a frozen dataclass), so another thread may read them.
    """

    __slots__ = ("_rows", "trades")

    def __init__(self, trades: tuple[Any, ...]) -> None:
        self.trades = trades
        self._rows: list[dict[str, Any]] | None = None

    def rows(self) -> list[dict[str, Any]]:
        """``[_history_row(t) for t in trades]``, built once (the same list object on every later call)."""
        rows = self._rows
        if rows is None:
            rows = self._rows = [_history_row(t) for t in self.trades]
        return rows


def alert_row(source: str, level: str, message: str, ts: int, **extra: Any) -> dict[str, Any]:
    """JSON row of an alert (``source``: operator, risk, data_quality, orderflow; ``ts`` in UTC ns)."""
    return {"source": source, "level": level, "message": message, "ts_event": ts, **extra}


class NodeViews:
    """Mixin of :class:`tradewire.node.live.TradingNode`: builds and publishes the read models.

    The engine-thread methods (``_positions``, ``_stats``, ``_refresh_snapshot`` ...) read engine objects; the
    public read methods (``health``, ``positions`` ...) only read the published dict and are safe from any thread.
    Closed-trade aggregates and the closed-trade history are updated incrementally (closed trades are only
    appended), so a refresh costs O(new trades), not O(all trades).
    """

    def _positions(self) -> list[dict[str, Any]]:
        k = self.kernel
        out = []
        for p in k.portfolio.positions(open_only=True):
            mark = k.cache.last_price_raw(p.instrument_id)
            out.append(
                {
                    "position_id": str(p.position_id),
                    "instrument_id": str(p.instrument_id),
                    "strategy_id": str(p.strategy_id),
                    "side": str(p.side),
                    "quantity": str(p.quantity),
                    "signed_qty": str(p.signed_qty.normalize()),
                    "avg_px_open": _dec(p.avg_px_open),
                    "mark": None if mark is None else str(Decimal(mark).scaleb(-9).normalize()),
                    "unrealized_pnl": None if mark is None else str(p.unrealized_pnl_raw(mark) / Decimal(10**9)),
                    "realized_pnl": str(p.realized_pnl.as_decimal()),
                }
            )
        return out

    def _closed_trades_update(self) -> int:
        """Fold trades closed since the last call into the aggregates and the history rows; return how many
        trades have closed in all (only the new ones are read from the portfolio)."""
        pf = self.kernel.portfolio
        total = pf.closed_trade_count
        agg = getattr(self, "_trade_agg", None)
        if agg is None or agg[0] > total:  # first call (or a portfolio that was rebuilt)
            agg = [0, 0, 0, 0, 0]  # seen, wins, losses, gross win raw, gross loss raw
            self._history_trades: list[Any] = []
            self._history_pub = TradeHistory(())
        if agg[0] != total:
            new = pf.closed_trades_since(agg[0])
            for t in new:
                net = t.net_pnl.raw
                if net > 0:
                    agg[1] += 1
                    agg[3] += net
                elif net < 0:
                    agg[2] += 1
                    agg[4] -= net
            self._history_trades = (new[-500:][::-1] + self._history_trades)[:500]
            self._history_pub = TradeHistory(tuple(self._history_trades))  # rows built when read
        agg[0] = total
        self._trade_agg = agg
        return total

    def _positions_history(self) -> TradeHistory:
        self._closed_trades_update()  # sets _history_pub on its first call
        return self._history_pub

    def _stats(self) -> dict[str, Any]:
        k = self.kernel
        pf = k.portfolio
        ts = self.clock.timestamp_ns()
        try:
            equity = pf.equity(self.currency)
        except LookupError:  # no price yet to value the base asset
            equity = None
        day = ts // 86_400_000_000_000
        if equity is not None and day != self._day:
            self._day, self._day_start_equity = day, equity
        n_trades = self._closed_trades_update()
        _, n_wins, _, gross_win, gross_loss = self._trade_agg
        exposure = sum((pf.exposure(i).raw for i in k.cache.instruments), 0)
        acct = next(iter(k.venues.values())).account_id
        balances = {
            c: {"total": str(t.as_decimal()), "locked": str(lk.as_decimal()), "free": str(f.as_decimal())}
            for c, (t, lk, f) in pf.account(acct).balances().items()
        }
        return {
            "currency": self.currency.code,
            "starting_equity": str(self._start_equity.as_decimal()),
            "equity": None if equity is None else str(equity.as_decimal()),
            "total_pnl": None if equity is None else str((equity - self._start_equity).as_decimal()),
            "daily_pnl": None if equity is None else str((equity - self._day_start_equity).as_decimal()),
            "realized_pnl": str(pf.realized_pnl(self.currency).as_decimal()),
            "unrealized_pnl": str(pf.unrealized_pnl(self.currency).as_decimal()),
            "fees": str(pf.commissions(self.currency).as_decimal()),
            "balance": str(pf.balance_total(self.currency).as_decimal()),
            "balances": balances,
            "fills": pf.fill_count,
            "orders": len(k.cache.orders),
            "open_orders": sum(1 for o in k.cache.orders.values() if o.is_open),
            "closed_trades": n_trades,
            "win_rate_pct": _ratio(n_wins * 100, n_trades, "0.01") if n_trades else None,
            "profit_factor": _ratio(gross_win, gross_loss, "0.0001") if gross_loss else None,
            "exposure": str(Money.from_raw(exposure, self.currency).as_decimal()),
            "ts": ts,
        }

    def _take_lag_max_ms(self) -> float:
        lag, self._lag_max_ns = self._lag_max_ns, 0
        return round(lag / 1e6, 1)

    def _engine_view(self) -> dict[str, Any]:
        k = self.kernel
        running = self.state == "running"
        return {
            "state": self.state,
            "error": self.error,
            "mode": "paper",
            "data": self._data_mode(),
            "strategies": [{"id": str(s.id), "state": "running" if running else "stopped"} for s in k.strategies],
            "connections": [{"id": cid, "status": self._conn_status(cid)} for cid in self.connections],
            "counters": {
                "events_processed": self.events_processed,
                "events_per_s": round(self._rate[2], 1),
                # most a replayed message waited past its due time since the previous engine view
                "replay_lag_ms_max": self._take_lag_max_ms(),
                "loop": self.loop_index,
                "loops_done": self.loops_done,
                "orders": len(k.cache.orders),
                "fills": k.portfolio.fill_count,
                "bus_publishes": k.bus.pub_count,
                "pending_commands": self._calls.qsize(),
            },
            "started_ns": self.started_ns,
            "last_update_ns": self.last_update_ns,
        }

    def _data_mode(self) -> str:
        """``live`` (exchange streams through ccxt) or ``replay`` (a recorded session)."""
        return "replay" if self.source is None else "live"

    def _data_health(self) -> dict[str, Any]:
        """Health fields that depend on the data source: mode, badge label, banner."""
        if self.source is None:
            return {
                "data": "replay",
                "mode_label": "PAPER / REPLAY",
                "banner": (
                    f"Paper trading on replayed recorded market data ({self.data_path.name}, "
                    f"speed x{self.config.speed:g}, loop {self.loop_index + 1}). No real orders are sent anywhere."
                ),
                "data_source": self.data_path.name,
            }
        spec = self.config.live_data
        exchange = spec.split(":", 2)[1]
        return {
            "data": "live",
            "mode_label": "PAPER / LIVE DATA",
            "banner": (
                f"Paper trading on live market data from {exchange} ({spec.split(':', 2)[2]}, public streams, "
                "no credentials). No real orders are sent anywhere."
            ),
            "data_source": spec,
            "exchange": exchange,
        }

    def _push_orderflow(self, force: bool = False) -> None:
        """Publish ``orderflow:{instrument}`` (the order-flow engine's snapshot) at most every ``orderflow_ms``,
        and only when it changed."""
        mono = time.monotonic()
        last, prev = self._orderflow_last
        if not force and (mono - last) * 1000 < self.config.orderflow_ms:
            return
        ts = self.clock.timestamp_ns()
        seen = {}
        for iid, st in self.orderflow_engine.instruments.items():
            topic = f"orderflow:{iid}"
            body = st.snapshot(cvd_tail=300, signals_tail=50)
            seen[topic] = body
            if body != prev.get(topic) or topic not in self._pub:
                view = {"instrument_id": str(iid), "ts": ts, **body}
                self._emit(topic, view, view)
        self._orderflow_last = (mono, seen)

    def _conn_status(self, cid: str) -> str:
        if not self.connections[cid]["enabled"]:
            return "disabled"
        return {"running": "connected", "error": "error"}.get(self.state, "idle")

    def _connections(self) -> list[dict[str, Any]]:
        k = self.kernel
        out = []
        for venue, client in k.venues.items():
            cid = str(venue)
            acct = k.portfolio.account(client.account_id)
            st = self.connections[cid]
            out.append(
                {
                    "id": cid,
                    "venue": cid,
                    "kind": "paper",
                    "mode": "paper",
                    "data": self._data_mode(),
                    "status": self._conn_status(cid),
                    "enabled": st["enabled"],
                    "live_trading": False,
                    "live_available": False,
                    "credentials_configured": False,
                    "account_id": str(client.account_id),
                    "balance": {c: str(t.as_decimal()) for c, (t, _, _) in acct.balances().items()},
                    "open_positions": sum(
                        1 for p in k.portfolio.positions(open_only=True) if p.instrument_id.venue == venue
                    ),
                    "last_test": st["last_test"],
                }
            )
        return out

    def _push_risk(self, force: bool = False) -> None:
        risk = self.kernel.risk_engine.status()
        prev = self._pub.get("risk")
        if force or prev is None or {**prev, "ts": 0} != {**risk, "ts": 0}:
            self._emit("risk", risk, risk)

    def _refresh_snapshot(self) -> None:
        self._flush_views(force=True)
        mono = time.monotonic()
        t0, n0, rate = self._rate
        if mono - t0 >= 1.0:
            self._rate = (mono, self.events_processed, (self.events_processed - n0) / (mono - t0))
        stats = self._stats()
        positions = self._positions()
        if positions != self._pub.get("positions"):
            self._emit("positions", positions, positions)
        if stats["equity"] is not None and (not self._equity_curve or stats["ts"] - self._equity_curve[-1][0] >= 10**9):
            self._equity_curve.append((stats["ts"], stats["equity"]))
        prev = self._pub.get("account")
        if prev is None or {**prev, "ts": 0, "equity_curve": None} != {**stats, "ts": 0, "equity_curve": None}:
            point = list(self._equity_curve[-1]) if self._equity_curve else None
            self._emit("account", {**stats, "equity_point": point}, {**stats, "equity_curve": list(self._equity_curve)})
        self._serve_alerts()  # the refresh takes ~3 ms under load: queued alerts go first between its parts
        self._push_risk()
        self._push_orderflow()
        self._serve_alerts()
        if mono - self._last_engine_push >= 1.0:
            self._last_engine_push = mono
            ev = self._engine_view()
            self._emit("engine", ev, ev)
        conns = self._connections()
        if conns != self._pub.get("connections"):
            self._emit("connections", conns, conns)
        pub = self._pub
        pub["stats"] = stats
        pub["positions_history"] = self._positions_history()
        self._serve_alerts()
        pub["data_quality"] = {
            "subscriptions": self.quality.snapshot(),
            "events": [e.to_dict() for e in list(self.quality.events)[-100:]],
        }
        pub["ack_latency_ns"] = list(self._ack_latency_ns)  # newest last; readers sort (metrics, when scraped)
        pub.setdefault("orders", [])
        pub.setdefault("fills", [])
        pub.setdefault("alerts", [])
        pub["health"] = {
            "status": "ok" if self.state not in ("error",) else self.state,
            "state": self.state,
            "error": self.error,
            "mode": "paper",
            **self._data_health(),
            "instrument_id": str(self.instrument.id),
            "events_processed": self.events_processed,
            "loop": self.loop_index,
            "webhook": self.webhook_service is not None,
            "ts": self.clock.timestamp_ns(),
        }

    # NodeView (read by the API thread) --------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """Node state and mode."""
        return self._pub.get("health", {"status": self.state})

    def positions(self) -> list[dict[str, Any]]:
        """Open positions."""
        return self._pub.get("positions", [])

    def orders(self) -> list[dict[str, Any]]:
        """Orders, newest first (last 500)."""
        return self._pub.get("orders", [])

    def fills(self) -> list[dict[str, Any]]:
        """Fills, newest first (last 1000)."""
        return self._pub.get("fills", [])

    def orderflow(self, instrument_id: str) -> dict[str, Any] | None:
        """Latest order-flow snapshot of ``instrument_id`` (None for an instrument the node does not follow)."""
        return self._pub.get(f"orderflow:{instrument_id}")

    def trading_stats(self) -> dict[str, Any]:
        """P&L, fees, win rate, profit factor, exposure."""
        return self._pub.get("stats", {})

    def instruments(self) -> list[dict[str, Any]]:
        """Instruments (immutable objects, safe to read from any thread)."""
        return [
            {
                "instrument_id": str(i.id),
                "venue": str(i.id.venue),
                "asset_class": str(i.asset_class),
                "instrument_class": str(i.instrument_class),
                "quote_currency": i.quote_currency.code,
                "base_currency": None if i.base_currency is None else i.base_currency.code,
                "price_precision": i.price_precision,
                "tick_size": str(i.tick_size),
                "size_precision": i.size_precision,
                "lot_size": str(i.lot_size),
                "maker_fee": str(i.maker_fee),
                "taker_fee": str(i.taker_fee),
            }
            for i in [self.instrument]
        ]
