"""`Kernel`: the wiring shared by every node (backtest, paper, live).

It owns the clock, message bus, cache, portfolio, risk engine, execution engine and data engine,
registers venue execution clients, and hands market data to the venues' matching engines before the
strategies see it. Backtest, paper and live differ only in the clock, the data source and the
execution clients plugged in here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import Clock
from tradewire.data.engine import DataEngine
from tradewire.execution.client import ExecutionClient
from tradewire.execution.engine import ExecutionEngine
from tradewire.execution.factory import OrderFactory
from tradewire.model.data import Bar, BarType, OrderBookDelta, QuoteTick, TradeTick
from tradewire.model.enums import OmsType
from tradewire.model.identifiers import AccountId, InstrumentId, TraderId, Venue
from tradewire.model.instruments import Instrument
from tradewire.model.objects import Currency, Money
from tradewire.portfolio.accounts import Account, CashAccount, MarginAccount
from tradewire.portfolio.portfolio import Portfolio
from tradewire.risk.config import RiskConfig
from tradewire.risk.engine import RiskEngine
from tradewire.strategy.base import Strategy
from tradewire.venues.paper.config import PaperVenueConfig
from tradewire.venues.paper.execution import PaperExecutionClient


@dataclass(frozen=True, slots=True)
class VenueConfig:
    """A simulated (paper) venue and the account held there.

    Parameters
    ----------
    name : str
        Venue code, e.g. ``"BINANCE"`` or ``"SIM"``.
    starting_balances : list[Money]
        Opening balances, e.g. ``[Money("100000", USDT)]``.
    account_type : str
        ``"cash"`` or ``"margin"``.
    base_currency : Currency | None
        Currency equity is reported in (None: the first balance's currency).
    oms_type : OmsType
        NETTING or HEDGING.
    paper : PaperVenueConfig
        Matching behaviour (bar fill mode, book level, sessions ...).
    """

    name: str
    starting_balances: list[Money]
    account_type: str = "cash"
    base_currency: Currency | None = None
    oms_type: OmsType = OmsType.NETTING
    paper: PaperVenueConfig = field(default_factory=PaperVenueConfig)
    leverage: str = "1"


class DataSubscriptions:
    """What a strategy's ``subscribe_*`` calls reach: the DataEngine, told which bar types arrive
    ready-made from the data source (recorded bar files) so it does not aggregate them from ticks."""

    def __init__(self, data_engine: DataEngine, external_bar_types: set) -> None:
        self._de = data_engine
        self.external_bar_types = external_bar_types

    def subscribe_bars(self, bar_type, handler) -> None:
        """Bars: aggregated from ticks unless the source provides this bar type."""
        self._de.subscribe_bars(bar_type, handler, external=bar_type in self.external_bar_types)

    def __getattr__(self, name: str):
        return getattr(self._de, name)


class Kernel:
    """Component wiring for one trader.

    Parameters
    ----------
    clock : Clock
        TestClock for backtests, LiveClock for paper/live nodes.
    trader_id : str
        Trader (node) id.
    risk_config : RiskConfig, optional
        RiskEngine configuration (default: ``RiskConfig`` in the first venue's base currency: the
        always-on checks only — tradable instrument, tick/lot, session, balance; no limits). The
        RiskEngine is created with the first venue, since its checks need an account currency.
    """

    def __init__(self, clock: Clock, trader_id: str = "TRADER-001", risk_config: Any = None) -> None:
        self.trader_id = TraderId(trader_id)
        self.clock = clock
        self.bus = MessageBus()
        self.cache = Cache()
        self.portfolio = Portfolio(self.cache, self.bus, clock)
        self.exec_engine = ExecutionEngine(self.bus, self.cache, clock, self.portfolio)
        self.risk_config = risk_config
        self.risk_engine: RiskEngine | None = None
        self.data_engine = DataEngine(self.bus, self.cache, clock)
        self.external_bar_types: set = set()
        self.subscriptions = DataSubscriptions(self.data_engine, self.external_bar_types)
        self.venues: dict[Venue, PaperExecutionClient] = {}
        self.venue_configs: dict[Venue, VenueConfig] = {}
        self.strategies: list[Strategy] = []
        self.external_clients: dict[Venue, ExecutionClient] = {}
        self._venue_by_instrument: dict[InstrumentId, PaperExecutionClient] = {}
        self._me: dict[InstrumentId, Any] = {}  # matching engine per instrument (None: no paper venue)
        self._emulator = self.exec_engine.emulator
        self._update_mark = self.portfolio.update_mark
        self._de_process = self.data_engine.process
        self._bar_pipes: dict[BarType, Callable[[Bar], None]] = {}
        self.topology = 0  # bumped whenever a venue or instrument is attached: bar pipelines are rebuilt
        self._last_bt: BarType | None = None
        self._last_pipe: Callable[[Bar], None] | None = None
        self._last_topology = -1
        self._emulator_held = self._emulator.held_by_instrument  # dict: empty while nothing is emulated
        self._dispatch = {
            Bar: self._on_bar, QuoteTick: self._on_quote, TradeTick: self._on_trade, list: self._on_deltas,
            OrderBookDelta: self._on_delta,
        }  # fmt: skip

    # -- set-up --------------------------------------------------------------------------------
    def add_venue(self, config: VenueConfig) -> PaperExecutionClient:
        """Create the paper venue ``config.name`` with its account; return its execution client."""
        venue = Venue(config.name)
        if venue in self.venues:
            raise ValueError(f"venue {venue} already added")
        account_id = AccountId(f"{venue}-001")
        base = config.base_currency or config.starting_balances[0].currency
        if config.account_type == "cash":
            account = CashAccount(account_id, list(config.starting_balances), base_currency=base)
        elif config.account_type == "margin":
            account = MarginAccount(account_id, list(config.starting_balances), base_currency=base)
        else:
            raise ValueError(f"account_type must be 'cash' or 'margin', was {config.account_type!r}")
        self.portfolio.register_account(account)
        if self.risk_engine is None:
            cfg = self.risk_config or RiskConfig(currency=base.code)
            self.risk_engine = RiskEngine(self.bus, self.cache, self.portfolio, self.clock, cfg)
            self._wire_marks()
        client = PaperExecutionClient(venue, account_id, self.clock, self.exec_engine.process, config=config.paper)
        client.oms_type = config.oms_type
        self.exec_engine.register_client(client)
        self.venues[venue] = client
        self.venue_configs[venue] = config
        for inst in self.cache.instruments.values():
            if inst.id.venue == venue:
                self._attach(inst, client)
        return client

    def add_execution_client(self, client: ExecutionClient, account: Account) -> ExecutionClient:
        """Register a non-paper execution client (a real venue adapter, e.g. ccxt) and its account.

        The client's ``event_handler`` must end in ``exec_engine.process``; market data for its instruments
        goes straight to the data engine (no simulated matching).

        Raises
        ------
        ValueError
            If the venue is already registered (paper or not), or the account has no base currency.
        """
        venue = Venue(client.venue)
        if account.base_currency is None:
            raise ValueError(f"account {account.id} needs a base_currency for the risk engine")
        if venue in self.venues or venue in self.external_clients:
            raise ValueError(f"venue {venue} already added")
        self.portfolio.register_account(account)
        if self.risk_engine is None:
            cfg = self.risk_config or RiskConfig(currency=account.base_currency.code)
            self.risk_engine = RiskEngine(self.bus, self.cache, self.portfolio, self.clock, cfg)
            self._wire_marks()
        self.exec_engine.register_client(client)
        self.external_clients[venue] = client
        return client

    def add_instrument(self, instrument: Instrument) -> None:
        """Register an instrument (its venue may be added before or after)."""
        self.cache.add_instrument(instrument)
        client = self.venues.get(instrument.id.venue)
        if client is not None:
            self._attach(instrument, client)

    def _attach(self, instrument: Instrument, client: PaperExecutionClient) -> None:
        client.add_instrument(instrument)
        self._venue_by_instrument[instrument.id] = client
        self._me.pop(instrument.id, None)
        self._bar_pipes.clear()
        self.topology += 1

    def add_strategy(self, strategy: Strategy) -> None:
        """Wire a strategy (its ``on_start`` runs at :meth:`start`)."""
        factory = OrderFactory(strategy.id, self.clock)
        strategy.register(
            clock=self.clock, cache=self.cache, bus=self.bus, portfolio=self.portfolio, order_factory=factory,
            data_engine=self.subscriptions,
        )  # fmt: skip
        self.strategies.append(strategy)

    def start(self) -> None:
        """Start strategies (they subscribe to data here)."""
        for s in self.strategies:
            s.on_start()

    def stop(self) -> None:
        """Stop strategies."""
        for s in self.strategies:
            s.on_stop()

    def _wire_marks(self) -> None:
        """Route every mark-to-market through the account rules when the risk engine has any.

        Account rules (daily loss, trailing drawdown that follows unrealized equity, ...) must be evaluated
        on every mark, not only on fills: a position left open while the price runs against it breaches at
        the mark that takes equity through the limit. Without rules the mark is the portfolio's alone.
        """
        update = self.portfolio.update_mark
        risk = self.risk_engine
        if risk is None or not risk.rules:
            self._update_mark = update
        else:
            on_mark = risk.on_mark

            def mark(instrument_id: InstrumentId, price_raw: int) -> None:
                update(instrument_id, price_raw)
                on_mark()

            self._update_mark = mark
        self._bar_pipes.clear()
        self.topology += 1

    # -- data path -----------------------------------------------------------------------------
    def process(self, obj: Any) -> None:
        """Hand one market-data object (or a list = one venue batch of book deltas) to the venue's
        matching engine, the order emulator and the portfolio marks, then to the data engine.

        Venue first: resting orders react to the new market state (and, in next-open bar mode, orders
        from the previous bar fill at this bar's open) before strategies see the data.

        Raises
        ------
        TypeError
            For an object that is not market data.
        """
        try:
            handler = self._dispatch[type(obj)]
        except KeyError:
            raise TypeError(f"Kernel cannot process {type(obj).__name__}") from None
        handler(obj)

    def _matching(self, iid: InstrumentId) -> Any:
        client = self._venue_by_instrument.get(iid)
        return None if client is None else client.matching_engine(iid)

    def process_bar(self, bar: Bar) -> None:
        """:meth:`process` for one ``Bar`` (no type dispatch): runs :meth:`bar_pipeline` of its bar type."""
        bt = bar.bar_type
        if bt is not self._last_bt or self._last_topology != self.topology:
            self._last_pipe = self.bar_pipeline(bt)
            self._last_bt = bt
            self._last_topology = self.topology
        self._last_pipe(bar)

    def bar_pipeline(self, bar_type: BarType) -> Callable[[Bar], None]:
        """Return the function that takes one bar of ``bar_type`` through the node, in this order:

        1. the paper venue's matching engine for the instrument (fills resting orders, and in next-open
           mode the orders of the previous bar), if a paper venue trades it;
        2. the order emulator, while it holds orders;
        3. the portfolio's mark (the bar's close);
        4. the data engine (cache, counters, ``data.bars.{bar_type}`` subscribers).

        The venue and the data engine's publisher are resolved once per bar type (the topology is static
        while a node runs); the function stays valid until :attr:`topology` changes (a venue or instrument
        is added). Subscribers that come and go are picked up on every bar (see
        :meth:`DataEngine.bar_publisher`).

        Parameters
        ----------
        bar_type : BarType
            Bars the function will be called with.

        Returns
        -------
        callable(Bar) -> None
        """
        pipe = self._bar_pipes.get(bar_type)
        if pipe is not None:
            return pipe
        iid = bar_type.instrument_id
        me = self._matching(iid)
        held = self._emulator_held
        emulate = self._emulator.on_bar
        update_mark = self._update_mark
        publish = self.data_engine.bar_publisher(bar_type)
        if me is None:

            def pipe(bar: Bar) -> None:
                if held:
                    emulate(bar)
                update_mark(iid, bar.close.raw)
                publish(bar)

        else:
            match = me.process_bar

            def pipe(bar: Bar) -> None:
                match(bar)
                if held:
                    emulate(bar)
                update_mark(iid, bar.close.raw)
                publish(bar)

        self._bar_pipes[bar_type] = pipe
        return pipe

    _on_bar = process_bar

    def _on_quote(self, tick: QuoteTick) -> None:
        iid = tick.instrument_id
        me = self._me.get(iid, _MISSING)
        if me is _MISSING:
            me = self._me[iid] = self._matching(iid)
        if me is not None:
            me.process_quote_tick(tick)
        self._emulator.on_quote_tick(tick)
        self._update_mark(iid, (tick.bid_price.raw + tick.ask_price.raw) // 2)
        self._de_process(tick)

    def _on_trade(self, tick: TradeTick) -> None:
        iid = tick.instrument_id
        me = self._me.get(iid, _MISSING)
        if me is _MISSING:
            me = self._me[iid] = self._matching(iid)
        if me is not None:
            me.process_trade_tick(tick)
        self._emulator.on_trade_tick(tick)
        if iid not in self.cache.quotes:
            self._update_mark(iid, tick.price.raw)
        self._de_process(tick)

    def _on_deltas(self, deltas: list[OrderBookDelta]) -> None:
        if not deltas:
            return
        client = self._venue_by_instrument.get(deltas[0].instrument_id)
        if client is not None:
            client.process_order_book_deltas(deltas)
        dp = self._de_process
        for d in deltas:
            dp(d)

    def _on_delta(self, delta: OrderBookDelta) -> None:
        self._on_deltas([delta])


_MISSING = object()
