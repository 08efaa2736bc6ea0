"""Fills keep booking where the accounts say after the portfolio remembered an earlier fill's route."""

from __future__ import annotations

from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.core.clock import TestClock
from tradewire.model import (
    AccountId,
    ClientOrderId,
    Money,
    OmsType,
    OrderFilled,
    OrderSide,
    OrderType,
    Price,
    Quantity,
    StrategyId,
    TradeId,
    VenueOrderId,
    equity,
)
from tradewire.model.objects import USD
from tradewire.portfolio import CashAccount, Portfolio

AAPL = equity("AAPL", "XNAS")
SID = StrategyId("S-1")


def make(account: CashAccount) -> Portfolio:
    cache = Cache()
    cache.add_instrument(AAPL)
    pf = Portfolio(cache, MessageBus(), TestClock(0), base_currency=USD)
    pf.register_account(account)
    return pf


def _fill(n: int, side: OrderSide, qty: int, px: str, account: str | None = None,
          strategy: StrategyId = SID) -> OrderFilled:  # fmt: skip
    return OrderFilled(
        ClientOrderId(f"R-{n}"), strategy, AAPL.id, n, n, VenueOrderId(f"V-{n}"), TradeId(f"T-{n}"), side,
        OrderType.MARKET, Quantity(qty, 0), Price(px, 2), Money("1", USD),
        account_id=None if account is None else AccountId(account),
    )  # fmt: skip


def test_account_switched_to_hedging_books_new_fills_per_order():
    acct = CashAccount(AccountId("XNAS-1"), [Money("100000", USD)])
    pf = make(acct)
    pf.update_fill(_fill(1, OrderSide.BUY, 10, "100.00"))
    pf.update_fill(_fill(2, OrderSide.BUY, 5, "101.00"))
    (netting,) = pf.positions()
    assert netting.signed_qty_raw == 15 * 10**9
    acct.oms_type = OmsType.HEDGING  # as ExecutionEngine.register_client does for a hedging venue
    pf.update_fill(_fill(3, OrderSide.SELL, 4, "102.00"))
    positions = pf.positions()
    assert len(positions) == 2 and positions[0] is netting and netting.signed_qty_raw == 15 * 10**9
    assert positions[1].position_id == f"{AAPL.id}-R-3" and positions[1].signed_qty_raw == -4 * 10**9
    assert pf.net_position_raw(AAPL.id, SID) == 11 * 10**9
    # cash: -1000 - 505 + 408 and three 1 USD fees
    assert pf.balance_total(USD) == Money(100000 - 1000 - 505 + 408 - 3, USD)


def test_account_registered_later_receives_its_fills():
    first = CashAccount(AccountId("XNAS-1"), [Money("100000", USD)])
    pf = make(first)
    # XNAS-2 is not registered yet: its fill books to the venue's account
    pf.update_fill(_fill(1, OrderSide.BUY, 10, "100.00", account="XNAS-2"))
    assert first.total["USD"] == Money(100000 - 1000 - 1, USD).raw
    second = CashAccount(AccountId("XNAS-2"), [Money("50000", USD)])
    pf.register_account(second)
    pf.update_fill(_fill(2, OrderSide.SELL, 10, "103.00", account="XNAS-2"))
    assert first.total["USD"] == Money(100000 - 1000 - 1, USD).raw
    assert second.total["USD"] == Money(50000 + 1030 - 1, USD).raw
    # one netting position per instrument and strategy across both accounts: flat again
    (pos,) = pf.positions()
    assert pos.is_flat and pf.realized_pnl(USD) == Money("30", USD)


def test_strategies_keep_separate_netting_positions_and_closed_trades_build_once():
    pf = make(CashAccount(AccountId("XNAS-1"), [Money("100000", USD)]))
    other = StrategyId("S-2")
    pf.update_fill(_fill(1, OrderSide.BUY, 10, "100.00"))
    pf.update_fill(_fill(2, OrderSide.SELL, 3, "99.00", strategy=other))
    pf.update_fill(_fill(3, OrderSide.SELL, 10, "101.00"))
    first = pf.closed_trades()
    assert [t.strategy_id for t in first] == [SID] and first[0].realized_pnl == Money("10", USD)
    pf.update_fill(_fill(4, OrderSide.BUY, 3, "98.00", strategy=other))
    second = pf.closed_trades()
    assert second[0] is first[0]  # built once, not again on every read
    assert second[1].strategy_id == other and second[1].realized_pnl == Money("3", USD)
    assert second[1].side is OrderSide.SELL and second[1].ts_exit_ns == 4
    assert pf.net_position_raw(AAPL.id, SID) == 0 and pf.net_position_raw(AAPL.id, other) == 0


def test_closed_trades_since_reads_only_the_new_round_trips():
    pf = make(CashAccount(AccountId("XNAS-1"), [Money("100000", USD)]))
    assert pf.closed_trade_count == 0 and pf.closed_trades_since(0) == []
    pf.update_fill(_fill(1, OrderSide.BUY, 10, "100.00"))
    pf.update_fill(_fill(2, OrderSide.SELL, 10, "101.00"))
    (first,) = pf.closed_trades_since(0)
    assert pf.closed_trade_count == 1 and first.realized_pnl == Money("10", USD)
    pf.update_fill(_fill(3, OrderSide.BUY, 5, "100.00"))
    pf.update_fill(_fill(4, OrderSide.SELL, 5, "99.00"))
    pf.update_fill(_fill(5, OrderSide.BUY, 2, "100.00"))
    pf.update_fill(_fill(6, OrderSide.SELL, 2, "102.00"))
    new = pf.closed_trades_since(1)
    assert pf.closed_trade_count == 3
    assert [t.realized_pnl for t in new] == [Money("-5", USD), Money("4", USD)]
    assert pf.closed_trades() == [first, *new] and pf.closed_trades()[0] is first  # the same objects, built once
    assert pf.closed_trades_since(3) == []
