"""`Portfolio`: positions, balances, P&L and exposure, updated from fills and marks.

The `ExecutionEngine` calls :meth:`Portfolio.update_fill` for every ``OrderFilled`` it accepts and
:meth:`Portfolio.update_order` when a resting order's reservation changes; the node calls
:meth:`Portfolio.update_mark` with market prices. Everything is exact integer arithmetic on raw
values (scale 1e9); products are rounded once, half-to-even.

Position ids
------------
* NETTING accounts: one position per instrument and strategy, ``<instrument_id>-<strategy_id>``.
* HEDGING accounts: one position per entry order, ``<instrument_id>-<root client order id>`` where the
  root follows ``parent_order_id`` (a bracket's stop-loss and take-profit close their entry's
  position). A fill carrying ``position_id`` always goes to that position.

Marks
-----
Unrealized P&L, exposure and margin use, per instrument: the last :meth:`update_mark` price, else
the cache's latest quote mid / trade / bar close, else the last fill price.

Currency conversion
-------------------
See :mod:`tradewire.portfolio.conversion`: the latest quote mid of a pair, else its mark; no implicit rate.

Maintained figures
------------------
:meth:`Portfolio.balance_free_raw` and :meth:`Portfolio.equity_raw` are read by the RiskEngine on every
pre-trade check, so they answer in O(1) from figures kept up to date by every mutation: per currency,
the sum of account totals and of free balances (accounts report each change of a total or a
reservation, see :mod:`tradewire.portfolio.accounts`), and the value open positions add to equity
(kept per position, updated by fills and by marks of that position's instrument only). The
from-scratch computations are kept as ``_recompute_*`` to check them against.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import Clock
from tradewire.model.account import AccountState, MarginBalance
from tradewire.model.enums import InstrumentClass, OmsType, OrderSide, OrderType
from tradewire.model.events import OrderFilled
from tradewire.model.identifiers import AccountId, ClientOrderId, InstrumentId, PositionId, StrategyId, Venue
from tradewire.model.instruments import Instrument
from tradewire.model.objects import FIXED_SCALAR, Currency, Money, div_round
from tradewire.model.orders import Order
from tradewire.model.position import Position
from tradewire.portfolio.accounts import Account, MarginAccount
from tradewire.portfolio.conversion import ConversionRateError, CurrencyConversion
from tradewire.portfolio.events import PositionChanged, PositionClosed, PositionOpened
from tradewire.portfolio.figures import PortfolioFigures
from tradewire.portfolio.trades import ClosedTrade, RoundTrip

# enum members as module constants: Enum class attribute access is a Python-level lookup in 3.11
_BUY: Final = OrderSide.BUY
_MARKET: Final = OrderType.MARKET
_SPOT: Final = InstrumentClass.SPOT

_log: Final = logging.getLogger(__name__)
_S2: Final = FIXED_SCALAR * FIXED_SCALAR
_NONE: Final = 0
_PNL: Final = 1  # derivative: a position adds its unrealized P&L to equity
_VALUE: Final = 2  # spot without base currency (equities): a position adds its market value
_NETTING: Final = OmsType.NETTING
_LOCKING: Final = frozenset(
    {"submitted", "accepted", "triggered", "partially_filled", "pending_update", "pending_cancel"}
)


def _div_round_s2(num: int) -> int:
    """``div_round(num, 10**18)`` with floor division (no ``divmod`` tuple); half-to-even, exact."""
    q = num // _S2
    twice = 2 * (num - q * _S2)
    if twice > _S2 or (twice == _S2 and q & 1):
        q += 1
    return q


def _position_value(p: Position, kind: int, mark_raw: int) -> int:
    """What open position ``p`` adds to equity at ``mark_raw``: the same integer as
    ``p.unrealized_pnl_raw(mark_raw)`` (kind ``_PNL``) or ``p.notional_raw(mark_raw)`` (kind ``_VALUE``)."""
    q = p.signed_qty_raw
    if not q:
        return 0
    if kind == _PNL:
        value = mark_raw * q
        return _div_round_s2((value - p._cost if q > 0 else value + p._cost) * p.multiplier_raw)
    return _div_round_s2(mark_raw * q * p.multiplier_raw)


def _exact_factor(p: Position, kind: int) -> int | None:
    """For a spot position valued at market (``_VALUE``) whose quantity x multiplier is a whole number
    ``k`` of units (scale 1e18), the value at ``mark_raw`` is exactly ``mark_raw * k`` (what
    :func:`_position_value` computes, without big products and rounding); else None."""
    if kind != _VALUE:
        return None
    k, rest = divmod(p.signed_qty_raw * p.multiplier_raw, _S2)
    return None if rest else k


class Portfolio(CurrencyConversion, PortfolioFigures):
    """Positions and accounts of one trader.

    Parameters
    ----------
    cache : Cache
        Shared state: instruments and quotes are read from it; positions are written to ``cache.positions``.
    bus : MessageBus
        Position events go to ``events.position.{strategy_id}``, account states to
        ``events.account.{account_id}`` (only built when someone subscribes).
    clock : Clock
        Gives ``ts_init`` of published events.
    base_currency : Currency | None
        Default reporting currency.
    """

    def __init__(self, cache: Cache, bus: MessageBus, clock: Clock, base_currency: Currency | None = None) -> None:
        self.cache = cache
        self.bus = bus
        self.clock = clock
        self.base_currency = base_currency
        self.accounts: dict[AccountId, Account] = {}
        self._by_venue: dict[Venue, Account] = {}
        self._positions: dict[PositionId, Position] = {}
        self._pos_account: dict[PositionId, Account] = {}
        self._by_instrument: dict[InstrumentId, list[Position]] = {}
        self._net: dict[InstrumentId, int] = {}
        self._net_strategy: dict[tuple[InstrumentId, StrategyId], int] = {}
        self._netting_ids: dict[tuple[InstrumentId, StrategyId], PositionId] = {}
        # NETTING fills without position_id: (instrument, strategy, fill account id) -> (account, position);
        # used only while the account still books NETTING; cleared when accounts change
        self._routes: dict[tuple[InstrumentId, StrategyId, AccountId | None], tuple[Account, Position]] = {}
        self._marks: dict[InstrumentId, int] = {}
        self._round_trips: dict[PositionId, tuple[RoundTrip, int]] = {}  # rt, realized (1e27) at open
        # ClosedTrade, or (RoundTrip, Position, realized P&L, ts_exit) until closed_trades() builds it
        self._closed: list[ClosedTrade | tuple[RoundTrip, Position, Money, int]] = []
        self._closed_pending = False
        self._closed_built = 0  # entries of _closed before this index are built ClosedTrade objects
        self._pos_topics: dict[StrategyId, str] = {}
        self._acct_topics: dict[AccountId, str] = {}
        self.fill_count = 0
        self.open_positions: dict[PositionId, Position] = {}
        """Non-flat positions by id (kept by :meth:`update_fill`; read-only for callers)."""
        self._margin_marks: set[InstrumentId] = set()  # instruments whose marks move margin (non-spot, margin acct)
        # maintained figures (see the module docstring), per currency code
        # [free, amount]: free = sum of account totals minus reservations; amount = equity before
        # conversion = account totals plus the values of open positions (one list: one lookup per update)
        self._figs: dict[str, list[int]] = {}
        self._amt_nonzero: list[str] = []  # codes whose _amt is not zero
        self._kind: dict[InstrumentId, int] = {}  # _NONE / _PNL / _VALUE
        # open positions that add a value to equity (kind != _NONE), per instrument, each as
        # [position, quantity raw, k, value raw, figures of its currency]: k is the exact integer factor
        # value = mark raw * k of a spot position whose quantity x multiplier is whole units (else None)
        self._valued: dict[InstrumentId, dict[PositionId, list[Any]]] = {}
        self._init_conversion()

    # -- accounts -------------------------------------------------------------------------------
    def register_account(self, account: Account) -> None:
        """Add an account; fills for its venue without an explicit account id are booked to it.

        Raises
        ------
        ValueError
            If an account with the same id is already registered.
        """
        if account.id in self.accounts:
            raise ValueError(f"account {account.id} already registered")
        if account._ledger is not None:
            raise ValueError(f"account {account.id} is already registered in another portfolio")
        self.accounts[account.id] = account
        for code, raw in account.total.items():
            self._total_changed(account.currencies[code], raw)
        for code in set(account.order_locked) | set(getattr(account, "_position_locked", ())):
            self._locked_changed(code, account.locked_raw(code))
        account._ledger = self
        self._by_venue.setdefault(account.venue, account)
        self._routes.clear()

    def account(self, account_id: AccountId) -> Account:
        """The account; raises KeyError naming the id if unknown."""
        try:
            return self.accounts[account_id]
        except KeyError:
            raise KeyError(f"no account {account_id} registered in the portfolio") from None

    def _account_for(self, account_id: AccountId | None, instrument_id: InstrumentId) -> Account:
        if account_id is not None:
            acct = self.accounts.get(account_id)
            if acct is not None:
                return acct
        acct = self._by_venue.get(instrument_id.venue)
        if acct is None:
            raise KeyError(f"no account registered for {account_id or instrument_id.venue} (fill for {instrument_id})")
        return acct

    # -- maintained figures (called by accounts and on fills / marks) --------------------------------
    def _total_changed(self, currency: Currency, delta_raw: int) -> None:
        """An account total in ``currency`` moved by ``delta_raw``: the free balance and the equity amount
        both move by it."""
        if delta_raw:
            self._amount_changed(currency, delta_raw)
            self._figs[currency.code][0] += delta_raw

    def _locked_changed(self, code: str, delta_raw: int) -> None:
        """An account reservation in ``code`` moved by ``delta_raw``."""
        fig = self._figs.get(code)
        if fig is None:
            fig = self._figs[code] = [0, 0]
        fig[0] -= delta_raw

    def _amount_changed(self, currency: Currency, delta_raw: int) -> None:
        """What open positions add to equity in ``currency`` moved by ``delta_raw`` (not zero)."""
        code = currency.code
        fig = self._figs.get(code)
        if fig is None:
            fig = self._figs[code] = [0, 0]
        old = fig[1]
        new = fig[1] = old + delta_raw
        if not old:
            self._amt_nonzero.append(code)
        elif not new:
            self._amt_nonzero.remove(code)

    def _revalue(self, pos: Position, kind: int, mark_raw: int) -> None:
        """Bring the value ``pos`` adds to equity up to date (kind != _NONE)."""
        pid = pos.position_id
        valued = self._valued.get(pos.instrument_id)
        if valued is None:
            valued = self._valued[pos.instrument_id] = {}
        entry = valued.get(pid)
        old = 0 if entry is None else entry[3]
        if pos.signed_qty_raw:
            new = _position_value(pos, kind, mark_raw)
            code = pos.currency.code
            fig = self._figs.get(code)
            if fig is None:
                fig = self._figs[code] = [0, 0]
            valued[pid] = [pos, pos.signed_qty_raw, _exact_factor(pos, kind), new, fig]
        else:
            new = 0
            valued.pop(pid, None)
        if new != old:
            self._amount_changed(pos.currency, new - old)

    def update_account(self, state: AccountState) -> None:
        """Replace an account's totals with venue-reported balances and republish the state."""
        self.account(state.account_id).set_balances(state.balances)
        self.bus.publish(f"events.account.{state.account_id}", state)

    def account_state(self, account_id: AccountId) -> AccountState:
        """The account's current balances and margins as an :class:`AccountState` (``reported=False``)."""
        acct = self.account(account_id)
        margins: tuple[MarginBalance, ...] = ()
        if isinstance(acct, MarginAccount):
            margins = tuple(
                MarginBalance(Money.from_raw(im, acct.currencies[c]), Money.from_raw(mm, acct.currencies[c]), iid)
                for iid, (c, im, mm) in acct.position_margin.items()
            )
        ts = self.clock.timestamp_ns()
        return AccountState(acct.id, acct.balances(), ts, ts, margins, reported=False)

    # -- orders ---------------------------------------------------------------------------------
    def update_order(self, order: Order) -> None:
        """Recompute what ``order`` reserves in its account (release when it is no longer working)."""
        if order.order_type is _MARKET:
            return
        acct = self._account_for(None, order.instrument_id)
        px = order.price if order.price is not None else order.trigger_price
        if order.status.value in _LOCKING and px is not None and order.leaves_qty.raw:
            inst = self.cache.instrument(order.instrument_id)
            acct.update_order_lock(
                order.client_order_id, acct.order_lock(inst, order.side, order.leaves_qty.raw, px.raw)
            )
        else:
            acct.update_order_lock(order.client_order_id, None)

    # -- fills ----------------------------------------------------------------------------------
    def _position_id(self, fill: OrderFilled, acct: Account) -> PositionId:
        if fill.position_id is not None:
            return fill.position_id
        if acct.oms_type is _NETTING:
            key = (fill.instrument_id, fill.strategy_id)
            pid = self._netting_ids.get(key)
            if pid is None:
                pid = self._netting_ids[key] = PositionId(f"{fill.instrument_id}-{fill.strategy_id}")
            return pid
        root: ClientOrderId = fill.client_order_id
        order = self.cache.orders.get(root)
        seen = 0
        while order is not None and order.parent_order_id is not None and seen < 16:
            root = order.parent_order_id
            order = self.cache.orders.get(root)
            seen += 1
        return PositionId(f"{fill.instrument_id}-{root}")

    def update_fill(self, fill: OrderFilled) -> None:
        """Book a fill: position, balances, fees, realized P&L, round trips; publish the position event.

        Raises
        ------
        KeyError
            If the instrument is not in the cache or no account matches the fill.
        """
        iid = fill.instrument_id
        inst = self.cache.instruments.get(iid)
        if inst is None:
            raise KeyError(f"fill {fill.trade_id} for unknown instrument {iid}")
        sid = fill.strategy_id
        route = None if fill.position_id is not None else self._routes.get((iid, sid, fill.account_id))
        pos: Position | None
        if route is not None and route[0].oms_type is _NETTING:
            acct, pos = route
            pid = pos.position_id
        else:
            acct = self._account_for(fill.account_id, iid)
            pid = self._position_id(fill, acct)
            pos = self._positions.get(pid)
            if pos is None:
                pos = Position(pid, inst.id, sid, inst.multiplier.raw, inst.settlement_currency,
                               inst.size_precision)  # fmt: skip
                self._positions[pid] = pos
                self._pos_account[pid] = acct
                self.cache.positions[pid] = pos
                self._by_instrument.setdefault(inst.id, []).append(pos)
            if fill.position_id is None and acct.oms_type is _NETTING:
                # the same (instrument, strategy, account) books to the same netting position next time
                self._routes[(iid, sid, fill.account_id)] = (acct, pos)
        before = pos.signed_qty_raw
        realized_before = pos._realized
        pos.apply(fill)
        # credit the change of the rounded cumulative P&L, so per-fill roundings never accumulate
        realized_now = pos._realized
        realized = (
            0 if realized_now == realized_before else div_round(realized_now, _S2) - div_round(realized_before, _S2)
        )
        after = pos.signed_qty_raw
        qty = fill.last_qty.raw
        px = fill.last_px.raw
        side = fill.order_side
        acct.apply_fill(inst, side, qty, px, realized, fill.commission)
        delta = after - before
        iid = inst.id
        self._net[iid] = self._net.get(iid, 0) + delta
        key = (iid, fill.strategy_id)
        self._net_strategy[key] = self._net_strategy.get(key, 0) + delta
        if iid not in self._marks:
            self._marks[iid] = px
        if after:
            self.open_positions[pid] = pos
        else:
            self.open_positions.pop(pid, None)
        kind = self._kind.get(iid)
        if kind is None:
            kind = self._kind[iid] = (
                _PNL if inst.instrument_class is not _SPOT else _VALUE if inst.base_currency is None else _NONE
            )
        if kind:
            self._revalue(pos, kind, self._marks[iid])
        self._track_round_trip(pos, before, after, realized_before, fill)
        if acct.is_margin and inst.instrument_class is not _SPOT:
            self._margin_marks.add(iid)
            self._update_margin(acct, inst)  # type: ignore[arg-type]
        self.fill_count += 1
        topic = self._pos_topics.get(fill.strategy_id)
        if topic is None:
            topic = self._pos_topics[fill.strategy_id] = f"events.position.{fill.strategy_id}"
        bus = self.bus
        if bus.handlers(topic):
            cls = PositionOpened if before == 0 else PositionClosed if after == 0 else PositionChanged
            mark = self._mark_raw(iid, pos)
            ts = self.clock.timestamp_ns()
            bus.publish(topic, cls(
                pid, iid, fill.strategy_id, pos.side, pos.signed_qty, pos.avg_px_open, pos.realized_pnl,
                Money.from_raw(pos.unrealized_pnl_raw(mark), pos.currency), fill.ts_event, ts,
            ))  # fmt: skip
        atopic = self._acct_topics.get(acct.id)
        if atopic is None:
            atopic = self._acct_topics[acct.id] = f"events.account.{acct.id}"
        if bus.handlers(atopic):
            bus.publish(atopic, self.account_state(acct.id))

    def _track_round_trip(self, pos: Position, before: int, after: int, realized_before: int,
                          fill: OrderFilled) -> None:  # fmt: skip
        pid = pos.position_id
        side = fill.order_side
        qty = fill.last_qty.raw
        px = fill.last_px.raw
        if before == 0:
            rt = RoundTrip(side, fill.ts_event)
            self._round_trips[pid] = (rt, realized_before)
            rt.add(side, qty, px, fill.commission)
            return
        rt, start = self._round_trips[pid]
        if (before > 0) == (side is _BUY) or abs(before) > qty:
            rt.add(side, qty, px, fill.commission)
            return
        closed = abs(before)
        comm = fill.commission
        comm_close = Money.from_raw(div_round(comm.raw * closed, qty), comm.currency) if closed != qty else comm
        rt.add(side, closed, px, comm_close)
        pnl = Money.from_raw(div_round(pos._realized - start, _S2), pos.currency)
        # the ClosedTrade is built when closed_trades() is first asked for (most runs read them once, at the end)
        self._closed.append((rt, pos, pnl, fill.ts_event))
        self._closed_pending = True
        del self._round_trips[pid]
        if after != 0:
            nrt = RoundTrip(side, fill.ts_event)
            nrt.add(side, qty - closed, px, comm - comm_close)
            self._round_trips[pid] = (nrt, pos._realized)

    def _update_margin(self, acct: MarginAccount, inst: Instrument) -> None:
        total = 0
        for p in self._by_instrument.get(inst.id, ()):
            if p.signed_qty_raw and self._pos_account[p.position_id] is acct:
                total += abs(p.notional_raw(self._mark_raw(inst.id, p)))
        acct.update_position_margin(inst, total)

    # -- marks ----------------------------------------------------------------------------------
    def update_mark(self, instrument_id: InstrumentId, price_raw: int) -> None:
        """Set the mark price (raw, scale 1e9) used for unrealized P&L, exposure and margin.

        When the price changed, the value that each open position of that instrument adds to equity is
        brought up to date (derivatives: unrealized P&L; spot without base currency: market value), and
        margin accounts recompute that instrument's position margin. Cost: O(open positions of that
        instrument), O(1) when none is open.
        """
        marks = self._marks
        if marks.get(instrument_id) != price_raw:
            marks[instrument_id] = price_raw
            valued = self._valued.get(instrument_id)
            if valued:
                # runs on every bar/quote while a position is open: the amount update is inlined here and a
                # whole-unit spot position needs no _position_value call (see _exact_factor)
                for entry in valued.values():
                    p, q, k, old_value, fig = entry
                    if p.signed_qty_raw != q:  # changed since it was entered (the fill revalues it next)
                        q = entry[1] = p.signed_qty_raw
                        k = entry[2] = _exact_factor(p, self._kind[instrument_id])
                    if k is not None:
                        new = price_raw * k  # exact: no rounding (see _exact_factor)
                    else:
                        new = _position_value(p, self._kind[instrument_id], price_raw)
                    if new != old_value:
                        entry[3] = new
                        old = fig[1]
                        now = fig[1] = old + new - old_value
                        if not old:
                            self._amt_nonzero.append(p.currency.code)
                        elif not now:
                            self._amt_nonzero.remove(p.currency.code)
        if instrument_id not in self._margin_marks:
            return  # no margin account ever held a derivative position in it: the mark moves no margin
        positions = self._by_instrument.get(instrument_id)
        if not positions:
            return
        inst = self.cache.instruments[instrument_id]
        done: list[Account] = []
        for p in positions:
            if p.signed_qty_raw:
                acct = self._pos_account[p.position_id]
                if acct.is_margin and acct not in done:
                    done.append(acct)
                    self._update_margin(acct, inst)  # type: ignore[arg-type]

    def _mark_raw(self, instrument_id: InstrumentId, pos: Position | None = None) -> int:
        m = self._marks.get(instrument_id)
        if m is None:
            m = self.cache.last_price_raw(instrument_id)
        if m is None:
            if pos is None or pos.last_px is None:
                raise LookupError(f"no mark price for {instrument_id}")
            m = pos.last_px.raw
        return m

    # -- positions ------------------------------------------------------------------------------
    def net_position_raw(self, instrument_id: InstrumentId, strategy_id: StrategyId | None = None) -> int:
        """Signed open quantity raw (scale 1e9) across accounts, for one strategy or all."""
        if strategy_id is None:
            return self._net.get(instrument_id, 0)
        return self._net_strategy.get((instrument_id, strategy_id), 0)

    def position(self, instrument_id: InstrumentId, strategy_id: StrategyId) -> Position | None:
        """The netting position of ``strategy_id`` in ``instrument_id`` (in hedging mode: the open one,
        or the most recent one if several/none are open), or None."""
        pid = self._netting_ids.get((instrument_id, strategy_id))
        if pid is not None:
            return self._positions[pid]
        found = [p for p in self._by_instrument.get(instrument_id, ()) if p.strategy_id == strategy_id]
        open_ = [p for p in found if p.signed_qty_raw]
        if open_:
            return open_[-1]
        return found[-1] if found else None

    def positions(self, instrument_id: InstrumentId | None = None, open_only: bool = False) -> list[Position]:
        """All positions (optionally of one instrument, optionally only open ones)."""
        ps = self._by_instrument.get(instrument_id, []) if instrument_id is not None else self._positions.values()
        return [p for p in ps if not open_only or p.signed_qty_raw]

    def _build_closed(self) -> None:
        """Build the ClosedTrade of every round trip closed since the last build (they are appended in order)."""
        closed = self._closed
        for i in range(self._closed_built, len(closed)):
            t = closed[i]
            if type(t) is tuple:
                rt, pos, pnl, ts_exit = t
                closed[i] = rt.close(pos.position_id, pos.instrument_id, pos.strategy_id, pos.size_precision, pnl,
                                     ts_exit)  # fmt: skip
        self._closed_built = len(closed)
        self._closed_pending = False

    def closed_trades(self) -> list[ClosedTrade]:
        """Completed round trips in the order they closed (a new list)."""
        if self._closed_pending:
            self._build_closed()
        return list(self._closed)  # type: ignore[arg-type]

    def closed_trades_since(self, start: int) -> list[ClosedTrade]:
        """``closed_trades()[start:]``: the round trips closed after the first ``start``, without building or
        copying the earlier ones (a dashboard refresh reads only what is new: O(new trades), not O(all))."""
        if self._closed_pending:
            self._build_closed()
        return self._closed[start:]  # type: ignore[return-value]

    @property
    def closed_trade_count(self) -> int:
        """Number of completed round trips so far."""
        return len(self._closed)


__all__ = ["ConversionRateError", "Portfolio"]
