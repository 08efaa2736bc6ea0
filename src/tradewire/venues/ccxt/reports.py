"""Reconciliation reports and order queries of :class:`~tradewire.venues.ccxt.execution.CcxtExecutionClient`.

Blocking calls made from the engine thread (recovery, reconciliation, tools and the API): each runs a
coroutine on the connection's event loop and waits for it.
"""

from __future__ import annotations

from typing import Any

from tradewire.execution.reports import FillReport, OrderStatusReport, PositionReport
from tradewire.model.enums import OrderStatus
from tradewire.model.identifiers import ClientOrderId
from tradewire.venues.ccxt.errors import OrderNotFoundAtVenue
from tradewire.venues.ccxt.parsing import fill_report, order_status, order_status_report, position_report

_MS = 1_000_000


class CcxtReportsMixin:
    """``generate_*_reports`` and :meth:`fetch_order_status` over the client's ccxt exchange.

    Mixed into :class:`~tradewire.venues.ccxt.execution.CcxtExecutionClient`, whose state it reads: ``ex``,
    ``conn``, ``account_id``, ``_refs``, ``_closed``, ``_by_venue_id``, ``_call``, ``_symbols``, ``_now``.
    """

    ex: Any
    conn: Any
    account_id: Any
    _refs: dict
    _closed: set
    _by_venue_id: dict

    # ------------------------------------------------------------------ reports (engine thread, blocking)
    def generate_order_status_reports(self) -> list[OrderStatusReport]:
        """Every order the venue knows that matters to reconciliation.

        That is the open orders at the venue (all symbols of the connection's market type) plus, for each
        order registered with :meth:`register_order` and not known closed here but missing from that list,
        the venue's answer to a query by its client order id (``origClientOrderId``; Binance spot API
        "Query order (USER_DATA)"): such an order may have been received and then filled, canceled or expired
        while tradewire was down. An order the venue answers "does not exist" for is left out, which tells
        reconciliation it never arrived (so it may be sent again with the same client order id). Without
        this query a filled order that was never acknowledged here would look unknown and be sent twice:
        Binance refuses a duplicate ``newClientOrderId`` only while the first order is open.

        Raises
        ------
        VenueError
            When a query fails for any reason other than "order does not exist" (reconciliation must
            not guess).
        """
        return self.conn.run(self._order_reports(), 60)

    async def _order_reports(self) -> list[OrderStatusReport]:
        self.ex.options["warnOnFetchOpenOrdersWithoutSymbol"] = False
        orders = await self._call("fetch_open_orders", lambda: self.ex.fetch_open_orders())
        syms, ts = self.conn.instruments.symbols, self._now()
        orders = [o for o in orders if o["symbol"] in syms]
        listed = {str(o.get("clientOrderId")) for o in orders}
        for coid, ref in list(self._refs.items()):
            if coid in self._closed or str(coid) in listed:
                continue
            try:
                o = await self._call("fetch_order", lambda r=ref: self.ex.fetch_order(
                    None, r.symbol, {"origClientOrderId": str(r.client_order_id)}))  # fmt: skip
            except OrderNotFoundAtVenue:
                continue
            if o.get("id") is not None:
                self._by_venue_id[str(o["id"])] = ref.client_order_id
            orders.append(o)
        return [order_status_report(o, self.account_id, self.conn.instruments.get(syms.instrument_id(o["symbol"])), ts)
                for o in orders]  # fmt: skip

    def generate_fill_reports(self, since_ns: int) -> list[FillReport]:
        """Our executions since ``since_ns`` on every instrument traded or listed in ``instrument_ids``."""
        return self.conn.run(self._fill_reports(since_ns), 60)

    async def _fill_reports(self, since_ns: int) -> list[FillReport]:
        out, ts = [], self._now()
        for sym in self._symbols():
            inst = self.conn.instruments.get(self.conn.instruments.symbols.instrument_id(sym))
            trades = await self._call("fetch_my_trades", lambda s=sym: self.ex.fetch_my_trades(s, since_ns // _MS))
            out += [
                fill_report(t, self.account_id, inst, self._by_venue_id.get(str(t.get("order"))), ts) for t in trades
            ]
        return out

    def generate_position_reports(self) -> list[PositionReport]:
        """Open derivatives positions (``fetch_positions``); spot has none."""
        if self.conn.config.market_type in ("spot", "margin") or not self.ex.has.get("fetchPositions"):
            return []
        return self.conn.run(self._position_reports(), 60)

    async def _position_reports(self) -> list[PositionReport]:
        positions = await self._call("fetch_positions", lambda: self.ex.fetch_positions())
        syms, ts = self.conn.instruments.symbols, self._now()
        out = [position_report(p, self.account_id, self.conn.instruments.get(syms.instrument_id(p["symbol"])), ts)
               for p in positions if p.get("symbol") in syms]  # fmt: skip
        return [r for r in out if r is not None]

    def fetch_order_status(self, client_order_id: ClientOrderId) -> OrderStatus:
        """The venue's status of one of our orders (blocking REST query)."""
        ref = self._refs[client_order_id]

        async def q() -> OrderStatus:
            o = await self._call("fetch_order", lambda: self.ex.fetch_order(
                None, ref.symbol, {"origClientOrderId": str(client_order_id)}))  # fmt: skip
            return order_status(o)

        return self.conn.run(q(), 30)


__all__ = ["CcxtReportsMixin"]
