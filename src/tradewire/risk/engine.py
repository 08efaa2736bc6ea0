"""`RiskEngine`: pre-trade checks, account rules and the kill switch.

Commands from strategies, the webhook and the API arrive on the bus endpoint ``RiskEngine.execute``.
What passes is forwarded with ``bus.send("ExecutionEngine.execute", cmd)``. A denied order gets an
``OrderDenied`` (reason text starting with its code, e.g. ``"MAX_NOTIONAL: notional 1,250,000 USD >
limit 1,000,000 USD"``) sent to ``ExecutionEngine.process`` and published on ``events.risk``; a denied
modification gets an ``OrderModifyRejected`` the same way. Cancels always pass, even when halted.

Trading state (kill switch)
---------------------------
``ACTIVE``: every check applies. ``REDUCING``: only orders that reduce the current net position pass
(and modifications that do not raise the quantity). ``HALTED``: every new order and modification is
denied; entering HALTED cancels all working orders (``CancelAllOrders`` per strategy and instrument)
and flattens all open positions with reduce-only market orders, once per breach (both configurable
in ``[kill_switch]``). The state is persisted through a :class:`~tradewire.risk.state.RiskStateStore`
so that a restart stays halted until an explicit :meth:`RiskEngine.reset`, or until the next session
boundary when every rule that imposed the state says ``reset = "next_session"``.

Account rules are evaluated after every fill (through ``events.position.*`` or :meth:`on_fill`) and
every mark-to-market (:meth:`on_mark`, called by the node after ``Portfolio.update_mark``).
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any, Final

from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import Clock, TimeEvent
from tradewire.model.commands import CancelAllOrders, CancelOrder, ModifyOrder, SubmitOrder, SubmitOrderList
from tradewire.model.enums import OrderSide, OrderType, TimeInForce, TradingState
from tradewire.model.events import OrderDenied, OrderInitialized, OrderModifyRejected
from tradewire.model.identifiers import ClientOrderId, InstrumentId, StrategyId
from tradewire.model.objects import Currency, Quantity
from tradewire.model.orders import Order
from tradewire.risk.checks import PortfolioView, PreTradeChecker, SessionProvider, fmt_amount, optional_method
from tradewire.risk.config import BreachAction, ResetPolicy, RiskConfig
from tradewire.risk.events import RiskBreach, TradingStateChanged
from tradewire.risk.rules import AccountRule, AccountSnapshot, MaxContractsRule, build_rule, dec_to_raw, pct_text
from tradewire.risk.sessions import next_session_end_ns
from tradewire.risk.state import STATE_VERSION, MemoryRiskStateStore, RiskStateStore
from tradewire.risk.working import WorkingOrders

log = logging.getLogger("tradewire.risk")

EXEC_EXECUTE = "ExecutionEngine.execute"
EXEC_PROCESS = "ExecutionEngine.process"
RISK_TOPIC = "events.risk"
_ALERT: Final = "RiskEngine.session_end"
# enum members as module constants for the per-order paths (a class attribute read of an enum member is a
# descriptor call on CPython 3.11)
_ACTIVE: Final = TradingState.ACTIVE
_HALTED: Final = TradingState.HALTED
_REDUCING: Final = TradingState.REDUCING
_BUY: Final = OrderSide.BUY


class RiskEngine:
    """Pre-trade risk, account rules and kill switch for one account.

    Parameters
    ----------
    bus : MessageBus
        Registers ``RiskEngine.execute``; subscribes to ``events.order.*`` (working-order tracking) and,
        when account rules are configured, ``events.position.*`` (account rules after fills).
    cache : Cache
        Instruments, latest market data, orders and positions.
    portfolio : PortfolioView
        Net positions, equity and balances (``tradewire.portfolio.Portfolio`` in a node).
    clock : Clock
        The injected clock: throttles, session boundaries and event timestamps use it.
    config : RiskConfig | None
        The rule set (``load_preset``/``load_risk_config``); default: no limits, balance check on.
    state_store : RiskStateStore | None
        Where the trading state and rule peaks are persisted; default in-memory.
    session_provider : SessionProvider | None
        Trading-session test for the pre-trade check (e.g. :class:`~tradewire.risk.sessions.ExchangeCalendarSessions`).
    persist_interval_ns : int
        Minimum clock time between saves caused only by a new equity peak (state changes, breaches and
        session rolls are saved immediately).

    Raises
    ------
    tradewire.risk.state.RiskStateError
        If the stored state cannot be read.
    """

    def __init__(
        self, bus: MessageBus, cache: Cache, portfolio: PortfolioView, clock: Clock, config: RiskConfig | None = None,
        state_store: RiskStateStore | None = None, session_provider: SessionProvider | None = None,
        persist_interval_ns: int = 1_000_000_000,
    ) -> None:  # fmt: skip
        self.bus = bus
        self.cache = cache
        self.portfolio = portfolio
        self.clock = clock
        self.config = config or RiskConfig()
        self.store: RiskStateStore = state_store if state_store is not None else MemoryRiskStateStore()
        self.persist_interval_ns = persist_interval_ns
        self.currency = Currency.from_str(self.config.currency)
        self.rules: list[AccountRule] = [build_rule(r) for r in self.config.rules]
        max_contracts = next((r.limit_raw for r in self.rules if isinstance(r, MaxContractsRule)), None)
        self.working = WorkingOrders()
        self.checker = PreTradeChecker(
            self.config.pre_trade, cache, portfolio, self.working, session_provider, max_contracts
        )
        self._tz = self.config.session.tz
        self._close = self.config.session.close
        # state
        self.trading_state = TradingState.ACTIVE
        self.state_reason = ""
        self.release = ResetPolicy.NEXT_SESSION  # policy that lifts the current REDUCING/HALTED state
        self.breach_seq = 0
        self.flattened_breach_seq = 0
        self.last_breach: dict[str, Any] | None = None
        self.starting_raw: int | None = (
            None if self.config.starting_balance is None else dec_to_raw(self.config.starting_balance)
        )
        self.session_end_ns: int | None = None
        self.session_start_equity_raw: int | None = None
        self.last_equity_raw: int | None = None
        self.denied: Counter[str] = Counter()
        self.forwarded = 0
        self._flatten_seq = 0
        self._last_persist_ns = -(2**62)
        self._dirty = False
        self._alert_at: int | None = None
        self._load()
        bus.register("RiskEngine.execute", self.execute)
        bus.subscribe("events.order.*", self.working.on_event)
        if self.rules:
            # only with account rules to evaluate: the Portfolio builds a position event per fill only while
            # someone subscribes to it (measured ~16 us more per order in benchmarks/oms.py with it)
            bus.subscribe("events.position.*", self._on_position_event)

    # ===================================================================== commands
    def execute(self, command: object) -> None:
        """Check a command and forward it, or deny it (endpoint ``RiskEngine.execute``).

        Raises
        ------
        TypeError
            For an object that is not a trading command.
        """
        t = type(command)
        if t is SubmitOrder:
            self._submit(command)  # type: ignore[arg-type]
        elif t is CancelOrder or t is CancelAllOrders:
            self.bus.send(EXEC_EXECUTE, command)
        elif t is ModifyOrder:
            self._modify(command)  # type: ignore[arg-type]
        elif t is SubmitOrderList:
            self._submit_list(command)  # type: ignore[arg-type]
        else:
            raise TypeError(f"RiskEngine.execute: not a trading command: {command!r}")

    def check_order(self, order: Order) -> tuple[str, str] | None:
        """Run the trading-state gate and every pre-trade check for ``order`` without forwarding it.

        Returns
        -------
        (code, text) | None
            The first denial, or None if the order would pass.
        """
        return self._check(order, self.clock.timestamp_ns())

    def _check(self, order: Order, ts: int) -> tuple[str, str] | None:
        if self.trading_state is not _ACTIVE:
            gate = self._state_gate(order.instrument_id, order.side, order.quantity.raw)
            if gate is not None:
                return gate
        return self.checker.check(
            order.strategy_id, order.instrument_id, order.side, order.order_type, order.quantity.raw, order.price,
            order.trigger_price, order.reduce_only, ts,
        )  # fmt: skip

    def _state_gate(self, instrument_id: InstrumentId, side: OrderSide, qty_raw: int) -> tuple[str, str] | None:
        st = self.trading_state
        if st is _ACTIVE:
            return None
        if st is _HALTED:
            return "TRADING_HALTED", f"TRADING_HALTED: {self.state_reason}"
        pos = self.portfolio.net_position_raw(instrument_id)
        if pos != 0 and (pos > 0) != (side is _BUY) and qty_raw <= abs(pos):
            return None
        return "TRADING_REDUCING", (
            f"TRADING_REDUCING: only orders reducing the position pass ({side.value} {fmt_amount(qty_raw)} "
            f"vs position {fmt_amount(pos)}); {self.state_reason}"
        )

    def _submit(self, cmd: SubmitOrder) -> None:
        order = cmd.order
        ts = self.clock.timestamp_ns()
        # _check inlined (one call layer less per order): the state gate, then every pre-trade check
        denial = None
        if self.trading_state is not _ACTIVE:
            denial = self._state_gate(order.instrument_id, order.side, order.quantity.raw)
        checker = self.checker
        if denial is None:
            denial = checker.check(
                order.strategy_id, order.instrument_id, order.side, order.order_type, order.quantity.raw,
                order.price, order.trigger_price, order.reduce_only, ts,
            )  # fmt: skip
        if denial is not None:
            self._deny(order, denial)
            return
        if checker.submit_rate is not None or checker.account_rate is not None:  # a throttle to count against
            checker.record_submit(order.strategy_id, ts)
        self.working.add(order)
        self.forwarded += 1
        self.bus.send(EXEC_EXECUTE, cmd)

    def _submit_list(self, cmd: SubmitOrderList) -> None:
        if not cmd.orders:
            raise ValueError(f"SubmitOrderList {cmd.order_list_id} has no orders")
        entry, *children = cmd.orders
        denial = self.check_order(entry)
        bad = entry
        if denial is None:
            ts = self.clock.timestamp_ns()
            for child in children:
                if self.trading_state is _HALTED:
                    denial = self._state_gate(child.instrument_id, child.side, child.quantity.raw)
                else:  # children close the entry: structural checks only, no exposure limits
                    denial = self.checker.check_static(
                        child.instrument_id, child.order_type, child.quantity.raw, child.price, child.trigger_price
                    )
                if denial is not None:
                    bad = child
                    break
            else:
                self.checker.record_submit(entry.strategy_id, ts)
                for o in cmd.orders:
                    self.working.add(o)
                self.forwarded += 1
                self.bus.send(EXEC_EXECUTE, cmd)
                return
        code, text = denial
        for o in cmd.orders:
            self._deny(
                o, ("ORDER_LIST", f"ORDER_LIST: {cmd.order_list_id} denied because {bad.client_order_id}: {text}")
            )
        self.denied[code] += 1

    def _modify(self, cmd: ModifyOrder) -> None:
        order = self.cache.orders.get(cmd.client_order_id) or self.working.orders.get(cmd.client_order_id)
        ts = self.clock.timestamp_ns()
        if order is None:
            self._reject_modify(cmd, None, ("ORDER_UNKNOWN", f"ORDER_UNKNOWN: no order {cmd.client_order_id}"), ts)
            return
        new_qty = cmd.quantity.raw if cmd.quantity is not None else order.quantity.raw
        denial: tuple[str, str] | None = None
        st = self.trading_state
        if st is _HALTED:
            denial = ("TRADING_HALTED", f"TRADING_HALTED: {self.state_reason}")
        elif st is _REDUCING and new_qty > order.quantity.raw:
            denial = ("TRADING_REDUCING", f"TRADING_REDUCING: quantity increase not allowed; {self.state_reason}")
        if denial is None:
            denial = self.checker.check(
                order.strategy_id, order.instrument_id, order.side, order.order_type, new_qty,
                cmd.price if cmd.price is not None else order.price,
                cmd.trigger_price if cmd.trigger_price is not None else order.trigger_price,
                order.reduce_only, ts, modify_of=order,
            )  # fmt: skip
        if denial is not None:
            self._reject_modify(cmd, order, denial, ts)
            return
        self.checker.record_modify(order.strategy_id, ts)
        self.bus.send(EXEC_EXECUTE, cmd)

    def _deny(self, order: Order, denial: tuple[str, str]) -> None:
        code, text = denial
        if code != "ORDER_LIST":
            self.denied[code] += 1
        ts = self.clock.timestamp_ns()
        event = OrderDenied(order.client_order_id, order.strategy_id, order.instrument_id, ts, ts, text)
        self.bus.send(EXEC_PROCESS, event)
        self.bus.publish(RISK_TOPIC, event)

    def _reject_modify(self, cmd: ModifyOrder, order: Order | None, denial: tuple[str, str], ts: int) -> None:
        code, text = denial
        self.denied[code] += 1
        event = OrderModifyRejected(
            cmd.client_order_id, cmd.strategy_id, cmd.instrument_id, ts, ts, text,
            None if order is None else order.venue_order_id,
        )  # fmt: skip
        if order is not None:
            self.bus.send(EXEC_PROCESS, event)
        self.bus.publish(RISK_TOPIC, event)

    # ===================================================================== account rules
    def on_fill(self, fill: object = None) -> None:
        """Evaluate the account rules after a fill (call after ``Portfolio.update_fill``)."""
        self.evaluate()

    def on_mark(self, ts_ns: int | None = None) -> None:
        """Evaluate the account rules after a mark-to-market (call after ``Portfolio.update_mark``)."""
        self.evaluate(ts_ns)

    def _on_position_event(self, event: object) -> None:
        self.evaluate()

    def evaluate(self, ts_ns: int | None = None) -> None:
        """Roll the session if its end has passed, then check every account rule against current equity.

        Parameters
        ----------
        ts_ns : int | None
            Evaluation time; default the clock's time.

        Raises
        ------
        LookupError
            If the portfolio cannot value the account (no mark price, no FX rate): the rules cannot be
            evaluated and the error must surface rather than pass silently.
        """
        ts = self.clock.timestamp_ns() if ts_ns is None else ts_ns
        if self.session_end_ns is None or ts >= self.session_end_ns:
            self._roll_sessions(ts)
        if not self.rules:
            return
        snap = self._snapshot(ts)
        for rule in self.rules:
            before = getattr(rule, "peak_raw", None)
            rule.observe(snap)
            if getattr(rule, "peak_raw", None) != before:
                self._dirty = True
            if not rule.breached:
                reason = rule.check(snap)
                if reason is not None:
                    rule.breached = True
                    self._breach(rule.kind, reason, rule.action, rule.reset, ts)
        if self._dirty and ts - self._last_persist_ns >= self.persist_interval_ns:
            self._persist(ts)

    def _snapshot(self, ts: int) -> AccountSnapshot:
        eq_raw = optional_method(self.portfolio, "equity_raw")
        equity = eq_raw(self.currency) if eq_raw is not None else self.portfolio.equity(self.currency).raw
        self.last_equity_raw = equity
        if self.starting_raw is None:
            self.starting_raw = equity
            self._dirty = True
        if self.session_start_equity_raw is None:
            self.session_start_equity_raw = equity
            self._dirty = True
        contracts = 0
        if self.checker.max_contracts_raw is not None:
            contracts = sum(abs(p.signed_qty_raw) for p in self.checker.open_positions().values())
        return AccountSnapshot(ts, equity, self.session_start_equity_raw, self.starting_raw, contracts)

    def _roll_sessions(self, ts: int) -> None:
        """Close every session whose end is at or before ``ts`` and open the one containing ``ts``."""
        if self.session_end_ns is None:
            self.session_end_ns = next_session_end_ns(ts, self._tz, self._close)
            self._schedule_alert()
            self._dirty = True
            return
        while ts >= self.session_end_ns:
            close_equity = self.last_equity_raw
            if close_equity is not None:
                start = self.session_start_equity_raw if self.session_start_equity_raw is not None else close_equity
                for rule in self.rules:
                    rule.on_session_end(close_equity, close_equity - start)
                self.session_start_equity_raw = close_equity
            for rule in self.rules:
                if rule.reset is ResetPolicy.NEXT_SESSION:
                    rule.breached = False
            if self.trading_state is not TradingState.ACTIVE and self.release is ResetPolicy.NEXT_SESSION:
                self._set_state(TradingState.ACTIVE, "new session", self.session_end_ns)
            self.session_end_ns = next_session_end_ns(self.session_end_ns, self._tz, self._close)
        self._schedule_alert()
        self._persist(ts)

    def _schedule_alert(self) -> None:
        end = self.session_end_ns
        if end is None or end == self._alert_at or end <= self.clock.timestamp_ns():
            return
        self.clock.cancel_timer(_ALERT)
        self.clock.set_time_alert(_ALERT, end, self._on_session_alert)
        self._alert_at = end

    def _on_session_alert(self, event: TimeEvent) -> None:
        self._alert_at = None
        self.evaluate(event.ts_event)

    # ===================================================================== kill switch
    def _breach(self, rule: str, reason: str, action: BreachAction, reset: ResetPolicy, ts: int) -> None:
        self.breach_seq += 1
        breach = RiskBreach(rule, reason, action.value, reset.value, self.breach_seq, ts, self.clock.timestamp_ns())
        self.last_breach = breach.to_dict()
        log.warning("risk breach #%d: %s (action %s, reset %s)", self.breach_seq, reason, action.value, reset.value)
        self.bus.publish(RISK_TOPIC, breach)
        if action is BreachAction.HALT:
            self._impose(TradingState.HALTED, reason, reset, ts)
        elif action is BreachAction.REDUCE and self.trading_state is not TradingState.HALTED:
            self._impose(TradingState.REDUCING, reason, reset, ts)
        self._persist(ts)

    def _impose(self, state: TradingState, reason: str, reset: ResetPolicy, ts: int) -> None:
        if self.trading_state is TradingState.ACTIVE:
            self.release = reset
        elif reset is ResetPolicy.MANUAL:
            self.release = ResetPolicy.MANUAL  # the strictest release wins
        if self.trading_state is state:
            return
        self._set_state(state, reason, ts)
        if state is TradingState.HALTED:
            self._kill(ts)

    def _set_state(self, state: TradingState, reason: str, ts: int) -> None:
        prev = self.trading_state
        self.trading_state = state
        self.state_reason = reason
        if state is TradingState.ACTIVE:
            self.release = ResetPolicy.NEXT_SESSION
        self.bus.publish(RISK_TOPIC, TradingStateChanged(prev, state, reason, ts, self.clock.timestamp_ns()))

    def _kill(self, ts: int) -> None:
        """Cancel working orders and flatten positions, once per breach."""
        if self.flattened_breach_seq >= self.breach_seq:
            return
        self.flattened_breach_seq = self.breach_seq
        ks = self.config.kill_switch
        if ks.cancel_orders:
            pairs: dict[tuple[StrategyId, InstrumentId], None] = {}
            for o in list(self.cache.orders.values()) + list(self.working.orders.values()):
                if not o.status.is_closed:
                    pairs[(o.strategy_id, o.instrument_id)] = None
            for sid, iid in pairs:
                self.bus.send(EXEC_EXECUTE, CancelAllOrders(sid, iid, ts))
        if ks.flatten:
            for pos in [p for p in self.cache.positions.values() if p.signed_qty_raw]:
                self._flatten_seq += 1
                side = OrderSide.SELL if pos.signed_qty_raw > 0 else OrderSide.BUY
                coid = ClientOrderId(f"RISK-{self.breach_seq}-{ts}-{self._flatten_seq}")
                init = OrderInitialized(
                    coid, pos.strategy_id, pos.instrument_id, ts, ts, side, OrderType.MARKET,
                    Quantity.from_raw(abs(pos.signed_qty_raw), pos.size_precision), TimeInForce.IOC,
                    reduce_only=True, tags="risk-flatten",
                )  # fmt: skip
                self.bus.send(EXEC_EXECUTE, SubmitOrder(pos.strategy_id, pos.instrument_id, ts, Order(init)))

    # ===================================================================== operator
    def halt(self, reason: str = "operator halt", flatten: bool | None = None) -> None:
        """Move to HALTED now (manual reset); cancels working orders and flattens per config or ``flatten``."""
        ts = self.clock.timestamp_ns()
        ks = self.config.kill_switch
        if flatten is not None and flatten != ks.flatten:
            from dataclasses import replace

            self.config = replace(self.config, kill_switch=replace(ks, flatten=flatten))
            try:
                self._breach("operator", f"OPERATOR_HALT: {reason}", BreachAction.HALT, ResetPolicy.MANUAL, ts)
            finally:
                self.config = replace(self.config, kill_switch=ks)
            return
        self._breach("operator", f"OPERATOR_HALT: {reason}", BreachAction.HALT, ResetPolicy.MANUAL, ts)

    def reduce(self, reason: str = "operator reduce-only") -> None:
        """Move to REDUCING (manual reset)."""
        ts = self.clock.timestamp_ns()
        self._breach("operator", f"OPERATOR_REDUCE: {reason}", BreachAction.REDUCE, ResetPolicy.MANUAL, ts)

    def reset(self, reason: str = "operator reset") -> None:
        """Return to ACTIVE and re-arm every rule (a rule still in breach fires again on the next evaluation)."""
        ts = self.clock.timestamp_ns()
        for rule in self.rules:
            rule.breached = False
        if self.trading_state is not TradingState.ACTIVE:
            self._set_state(TradingState.ACTIVE, reason, ts)
        self._persist(ts)

    # ===================================================================== persistence
    def state_document(self) -> dict[str, Any]:
        """The JSON-compatible state that the store persists."""
        return {
            "version": STATE_VERSION, "name": self.config.name, "trading_state": self.trading_state.value,
            "state_reason": self.state_reason, "release": self.release.value, "breach_seq": self.breach_seq,
            "flattened_breach_seq": self.flattened_breach_seq, "last_breach": self.last_breach,
            "starting_raw": self.starting_raw, "session_end_ns": self.session_end_ns,
            "session_start_equity_raw": self.session_start_equity_raw, "last_equity_raw": self.last_equity_raw,
            "rules": {r.kind: r.dump() for r in self.rules}, "saved_ts_ns": self.clock.timestamp_ns(),
        }  # fmt: skip

    def _persist(self, ts: int) -> None:
        self.store.save(self.state_document())
        self._last_persist_ns = ts
        self._dirty = False

    def _load(self) -> None:
        doc = self.store.load()
        if doc is None:
            return
        self.trading_state = TradingState(doc["trading_state"])
        self.state_reason = doc.get("state_reason", "")
        self.release = ResetPolicy(doc.get("release", "next_session"))
        self.breach_seq = int(doc.get("breach_seq", 0))
        self.flattened_breach_seq = int(doc.get("flattened_breach_seq", 0))
        self.last_breach = doc.get("last_breach")
        if doc.get("starting_raw") is not None and self.config.starting_balance is None:
            self.starting_raw = int(doc["starting_raw"])
        self.session_end_ns = doc.get("session_end_ns")
        self.session_start_equity_raw = doc.get("session_start_equity_raw")
        self.last_equity_raw = doc.get("last_equity_raw")
        saved = doc.get("rules", {})
        for rule in self.rules:
            if rule.kind in saved:
                rule.load(saved[rule.kind])
        if self.session_end_ns is not None and self.clock.timestamp_ns() >= self.session_end_ns:
            self._roll_sessions(self.clock.timestamp_ns())
        else:
            self._schedule_alert()

    # ===================================================================== status
    def status(self) -> dict[str, Any]:
        """JSON-friendly status for the API and dashboard.

        Returns
        -------
        dict
            ``trading_state``, ``state_reason``, ``release``; ``account`` (currency, starting balance,
            equity, session P&L); ``rules`` (per rule: limit, value, headroom absolute and in % of the
            limit, breached); ``pre_trade`` (limits and current usage: open orders, per-instrument
            position vs limit with headroom); ``last_breach``; ``denied`` counts by reason code.
            Amounts are decimal strings in the account currency.
        """
        from tradewire.risk.rules import raw_to_text

        ts = self.clock.timestamp_ns()
        out: dict[str, Any] = {
            "name": self.config.name, "ts": ts, "trading_state": self.trading_state.value,
            "state_reason": self.state_reason,
            "release": None if self.trading_state is TradingState.ACTIVE else self.release.value,
            "last_breach": self.last_breach, "breach_count": self.breach_seq, "denied": dict(self.denied),
            "forwarded": self.forwarded,
        }  # fmt: skip
        try:
            equity = self.portfolio.equity(self.currency).raw
        except LookupError as exc:
            equity = None
            out["account_error"] = str(exc)
        starting = self.starting_raw if self.starting_raw is not None else equity
        if equity is not None and starting is not None:
            sse = self.session_start_equity_raw if self.session_start_equity_raw is not None else equity
            contracts = sum(abs(p.signed_qty_raw) for p in self.checker.open_positions().values())
            snap = AccountSnapshot(ts, equity, sse, starting, contracts)
            out["account"] = {
                "currency": self.currency.code, "starting_balance": raw_to_text(starting),
                "equity": raw_to_text(equity), "session_pnl": raw_to_text(equity - sse),
                "session_end_ns": self.session_end_ns, "open_contracts": raw_to_text(contracts),
            }  # fmt: skip
            out["rules"] = [r.status(snap) for r in self.rules]
        pt = self.config.pre_trade
        self.working.prune()
        n_open = len(self.working.orders)
        pre: dict[str, Any] = {
            "open_orders": n_open, "max_open_orders": pt.max_open_orders,
            "open_orders_headroom": None if pt.max_open_orders is None else pt.max_open_orders - n_open,
            "max_concentration_pct": None if pt.max_concentration_pct is None else str(pt.max_concentration_pct),
            "max_submits_per_second": pt.max_submits_per_second, "max_modifies_per_second": pt.max_modifies_per_second,
            "session_check": "on" if self.checker.session_provider is not None else "off",
            "instruments": {},
        }  # fmt: skip
        for iid, inst in self.cache.instruments.items():
            c = self.checker.compiled(inst)
            pos = self.portfolio.net_position_raw(iid)
            entry: dict[str, Any] = {
                "position": raw_to_text(pos),
                "max_position": None if c.max_position_raw is None else raw_to_text(c.max_position_raw),
                "max_order_quantity": None if c.max_qty_raw is None else raw_to_text(c.max_qty_raw),
                "max_order_notional": None if c.max_notional_raw is None else raw_to_text(c.max_notional_raw),
                "allowed": c.denied_text is None,
            }
            if c.max_position_raw is not None:
                head = c.max_position_raw - abs(pos)
                entry["position_headroom"] = raw_to_text(head)
                entry["position_headroom_pct"] = pct_text(head, c.max_position_raw)
            pre["instruments"][str(iid)] = entry
        out["pre_trade"] = pre
        return out
