"""Portfolio accounting: cash and margin accounts, multipliers, hedging ids, conversion, closed trades."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

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
    QuoteTick,
    StrategyId,
    TradeId,
    VenueOrderId,
    crypto_spot,
    equity,
    future,
)
from tradewire.model.instruments import Instrument
from tradewire.model.objects import EUR, USD, USDT, Currency
from tradewire.portfolio import CashAccount, ConversionRateError, MarginAccount, Portfolio
from tradewire.portfolio.events import PositionChanged, PositionClosed, PositionOpened

SID = StrategyId("S-1")
_ids = itertools.count(1)


def fill(inst: Instrument, side: OrderSide, qty: str, px: str, fee: str = "0", fee_ccy: Currency | None = None,
         coid: str | None = None, ts: int = 0, strategy: StrategyId = SID) -> OrderFilled:  # fmt: skip
    n = next(_ids)
    return OrderFilled(
        ClientOrderId(coid or f"O-{n}"), strategy, inst.id, ts or n, ts or n, VenueOrderId(f"V-{n}"), TradeId(f"T-{n}"),
        side, OrderType.MARKET, Quantity(qty, inst.size_precision), Price(px, inst.price_precision),
        Money(fee, fee_ccy or inst.settlement_currency),
    )  # fmt: skip


def make(*instruments: Instrument, account=None):
    cache, bus, clock = Cache(), MessageBus(), TestClock(0)
    for i in instruments:
        cache.add_instrument(i)
    pf = Portfolio(cache, bus, clock, base_currency=USD)
    if account is not None:
        pf.register_account(account)
    return pf, bus, cache


def test_es_future_in_margin_account_multiplier_and_margin():
    es = future("ESZ5", "CME", "0.25", "50", margin_init="0.05", margin_maint="0.04")
    acct = MarginAccount(AccountId("CME-1"), [Money("100000", USD)])
    pf, bus, _ = make(es, account=acct)
    pf.update_fill(fill(es, OrderSide.BUY, "2", "4000.00", fee="2.50"))
    # no notional changes hands: only the fee
    assert pf.balance_total(USD) == Money("99997.50", USD)
    # initial margin: 2 x 4000 x 50 x 5 % = 20,000; maintenance 4 % = 16,000
    assert pf.margin_used(USD) == Money("20000", USD) and pf.margin_maint(USD) == Money("16000", USD)
    assert pf.balance_free(USD) == Money("79997.50", USD)
    pf.update_mark(es.id, Price("4010.25", 2).raw)
    assert pf.unrealized_pnl(USD) == Money("1025", USD)  # 10.25 points x 2 x 50
    assert pf.margin_used(USD) == Money("20051.25", USD)
    assert pf.exposure(es.id) == Money("401025", USD)
    assert pf.equity(USD) == Money("101022.50", USD)
    pf.update_fill(fill(es, OrderSide.SELL, "2", "4010.25", fee="2.50"))
    assert pf.realized_pnl(USD) == Money("1025", USD)
    assert pf.balance_total(USD) == Money("101020", USD)
    assert pf.margin_used(USD).raw == 0 and pf.net_position_raw(es.id) == 0
    (t,) = pf.closed_trades()
    assert t.side is OrderSide.BUY and t.quantity == Quantity(2, 0)
    assert t.avg_px_entry == Decimal("4000") and t.avg_px_exit == Decimal("4010.25")
    assert t.realized_pnl == Money("1025", USD) and t.commissions == Money("5", USD)
    assert t.net_pnl == Money("1020", USD)


def test_leverage_sets_initial_margin_rate():
    perp = future("BTCUSDT-PERP", "BINANCE", "0.1", "1", currency="USDT", margin_init="0.05", margin_maint="0.004")
    acct = MarginAccount(AccountId("BINANCE-1"), [Money("10000", USDT)], leverages={perp.id: Decimal(20)})
    pf, _, _ = make(perp, account=acct)
    pf.update_fill(fill(perp, OrderSide.SELL, "1", "60000.0"))
    assert pf.margin_used(USDT) == Money("3000", USDT)  # 60,000 / 20
    assert pf.margin_maint(USDT) == Money("240", USDT)


def test_crypto_spot_cash_balances_in_both_currencies_and_fee_in_base():
    btc = crypto_spot("BTCUSDT", "BINANCE", "BTC", "USDT", 2, 5)
    acct = CashAccount(AccountId("BINANCE-1"), [Money("10000", USDT)])
    pf, _, cache = make(btc, account=acct)
    pf.update_fill(fill(btc, OrderSide.BUY, "0.10000", "60000.00", fee="0.0001", fee_ccy=btc.base_currency))
    assert pf.balance_total(USDT) == Money("4000", USDT)
    assert pf.balance_total(btc.base_currency) == Money("0.0999", btc.base_currency)
    cache.quotes[btc.id] = QuoteTick(btc.id, Price("61000.00", 2), Price("61000.02", 2), Quantity(1, 5),
                                     Quantity(1, 5), 5, 5)  # fmt: skip
    # equity in USDT: 4000 + 0.0999 x mid 61000.01
    assert pf.equity(USDT) == Money("10093.9009990", USDT)


def test_equity_conversion_with_latest_quote_and_missing_rate_is_an_error():
    aapl = equity("SAP", "XETR", currency="EUR")
    acct = CashAccount(AccountId("XETR-1"), [Money("1000", EUR)], base_currency=USD)
    pf, _, cache = make(aapl, account=acct)
    with pytest.raises(ConversionRateError, match="EUR"):
        pf.equity(USD)
    eurusd = crypto_spot("EURUSD", "FX", "EUR", "USD", 5, 2)  # any instrument pairing the currencies
    cache.add_instrument(eurusd)
    cache.quotes[eurusd.id] = QuoteTick(eurusd.id, Price("1.08000", 5), Price("1.08002", 5), Quantity(1, 0),
                                        Quantity(1, 0), 1, 1)  # fmt: skip
    assert pf.equity(USD) == Money("1080.01", USD)
    pf.update_fill(fill(aapl, OrderSide.BUY, "3", "200.00"))
    pf.update_mark(aapl.id, Price("210.00", 2).raw)
    # cash 400 EUR + 3 x 210 EUR market value = 1030 EUR at 1.08001
    assert pf.equity(EUR) == Money("1030", EUR)
    assert pf.equity(USD) == Money("1112.4103", USD)
    # USD -> EUR uses the same pair inverted: 1080.01 USD / 1.08001 = 1000 EUR
    assert pf.convert_raw(Money("1080.01", USD).raw, USD, EUR) == Money("1000", EUR).raw


def test_netting_vs_hedging_position_ids_and_events():
    inst = equity("AAPL", "XNAS")
    for oms, expect in ((OmsType.NETTING, 1), (OmsType.HEDGING, 2)):
        pf, bus, _ = make(inst, account=CashAccount(AccountId("XNAS-1"), [Money("100000", USD)], oms_type=oms))
        got = []
        bus.subscribe("events.position.S-1", got.append)
        pf.update_fill(fill(inst, OrderSide.BUY, "10", "100.00", coid="A"))
        pf.update_fill(fill(inst, OrderSide.SELL, "4", "101.00", coid="B"))
        assert len(pf.positions()) == expect
        assert pf.net_position_raw(inst.id, SID) == 6 * 10**9
        if oms is OmsType.NETTING:
            assert [type(e) for e in got] == [PositionOpened, PositionChanged]
            assert got[-1].signed_qty == Decimal(6) and got[-1].avg_px_open == Decimal(100)
            assert got[-1].realized_pnl == Money("4", USD)
        else:
            assert [type(e) for e in got] == [PositionOpened, PositionOpened]
            assert got[-1].signed_qty == Decimal(-4)


def test_hedging_bracket_children_close_their_entrys_position():
    from tradewire.execution.factory import OrderFactory

    inst = equity("AAPL", "XNAS")
    pf, _, cache = make(inst, account=CashAccount(AccountId("XNAS-1"), [Money("100000", USD)],
                                                  oms_type=OmsType.HEDGING))  # fmt: skip
    fac = OrderFactory(SID, TestClock(0))
    entry, sl, tp = fac.bracket(inst.id, OrderSide.BUY, Quantity(5, 0), Price("90.00", 2), Price("110.00", 2))
    for o in (entry, sl, tp):
        cache.orders[o.client_order_id] = o
    pf.update_fill(fill(inst, OrderSide.BUY, "5", "100.00", coid=entry.client_order_id))
    pf.update_fill(fill(inst, OrderSide.SELL, "5", "110.00", coid=tp.client_order_id))
    (pos,) = pf.positions()
    assert pos.is_flat and pos.position_id == f"{inst.id}-{entry.client_order_id}"
    assert pf.realized_pnl(USD) == Money("50", USD)


def test_closed_trades_with_scale_in_out_and_flip():
    inst = equity("MSFT", "XNAS")
    pf, bus, _ = make(inst, account=CashAccount(AccountId("XNAS-1"), [Money("100000", USD)]))
    got = []
    bus.subscribe("events.position.*", got.append)
    pf.update_fill(fill(inst, OrderSide.BUY, "10", "100.00", fee="1.00"))
    pf.update_fill(fill(inst, OrderSide.SELL, "4", "102.00", fee="1.00"))
    pf.update_fill(fill(inst, OrderSide.BUY, "2", "101.00", fee="1.00"))
    pf.update_fill(fill(inst, OrderSide.SELL, "10", "103.00", fee="3.00"))  # closes 8, opens 2 short
    assert isinstance(got[-1], PositionChanged) and got[-1].signed_qty == Decimal(-2)
    (t1,) = pf.closed_trades()
    # entries 10 @ 100 + 2 @ 101; exits 4 @ 102 + 8 @ 103 -> gross = 408 + 824 - 1000 - 202 = 30
    assert t1.quantity == Quantity(12, 0) and t1.realized_pnl == Money("30", USD)
    assert t1.avg_px_entry == Decimal(1202) / 12 and t1.avg_px_exit == Decimal(1232) / 12
    # fees: 1 + 1 + 1 + 3 x 8/10
    assert t1.commissions == Money("5.4", USD)
    pf.update_fill(fill(inst, OrderSide.BUY, "2", "99.00", fee="1.00"))
    assert isinstance(got[-1], PositionClosed)
    t2 = pf.closed_trades()[1]
    assert t2.side is OrderSide.SELL and t2.realized_pnl == Money("8", USD) and t2.commissions == Money("1.6", USD)
    assert pf.realized_pnl(USD) == Money("38", USD)
    # cash = start - buys + sells - fees
    assert pf.balance_total(USD) == Money(100000 - 1000 + 408 - 202 + 1030 - 198 - 7, USD)


def test_unknown_instrument_or_account_raise():
    inst = equity("AAPL", "XNAS")
    pf, _, _ = make(inst)
    with pytest.raises(KeyError, match="XNAS"):
        pf.update_fill(fill(inst, OrderSide.BUY, "1", "1.00"))
    other = equity("IBM", "XNYS")
    with pytest.raises(KeyError, match=str(other.id)):
        pf.update_fill(fill(other, OrderSide.BUY, "1", "1.00"))
    with pytest.raises(ValueError, match="given twice"):
        CashAccount(AccountId("X-1"), [Money("1", USD), Money("2", USD)])


def test_margin_account_order_lock_and_reported_account_state():
    from tradewire.execution.reports import AccountState
    from tradewire.model import OrderInitialized, OrderSubmitted
    from tradewire.model.orders import Order

    es = future("ESZ5", "CME", "0.25", "50", margin_init="0.05", margin_maint="0.04")
    acct = MarginAccount(AccountId("CME-1"), [Money("100000", USD)])
    pf, bus, _ = make(es, account=acct)
    init = OrderInitialized(ClientOrderId("L-1"), SID, es.id, 1, 1, OrderSide.BUY, OrderType.LIMIT, Quantity(2, 0),
                            price=Price("4000.00", 2))  # fmt: skip
    o = Order.from_init(init)
    pf.update_order(o)
    assert pf.balance_locked(USD).raw == 0  # not yet working
    o.apply(OrderSubmitted(o.client_order_id, SID, es.id, 2, 2))
    pf.update_order(o)
    assert pf.balance_locked(USD) == Money("20000", USD)  # 5 % of 2 x 4000 x 50, no taker fee set
    got = []
    bus.subscribe("events.account.*", got.append)
    state = AccountState(acct.id, {"USD": (Money("90000", USD), Money("0", USD), Money("90000", USD))}, 5, 5)
    pf.update_account(state)
    assert pf.balance_total(USD) == Money("90000", USD) and got == [state]
    own = pf.account_state(acct.id)
    assert own.balances["USD"] == (Money("90000", USD), Money("20000", USD), Money("70000", USD))
    assert own.reported is False
