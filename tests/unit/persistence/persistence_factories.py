"""Builders of realistic records for the persistence tests (one instance of every stored type)."""

from __future__ import annotations

from decimal import Decimal

from tradewire.execution.reports import AccountState, FillReport, MarginBalance, OrderStatusReport, PositionReport
from tradewire.model import (
    AccountId,
    ClientOrderId,
    ContingencyType,
    InstrumentId,
    LiquiditySide,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderListId,
    OrderModifyRejected,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderSide,
    OrderStatus,
    OrderSubmitted,
    OrderTriggered,
    OrderType,
    OrderUpdated,
    PositionId,
    PositionSide,
    Price,
    Quantity,
    StrategyId,
    TimeInForce,
    TradeId,
    VenueOrderId,
    crypto_spot,
    future,
)
from tradewire.model.objects import BTC, USDT, Currency, Money
from tradewire.persistence.records import Alert, OperatorAction, ReconciliationDiscrepancy

IID = InstrumentId("BTCUSDT.BINANCE")
SID = StrategyId("ema-001")
ACC = AccountId("BINANCE-001")
T0 = 1_731_000_000_000_000_000


def init(
    coid: str = "O-1", side: OrderSide = OrderSide.BUY, qty: str = "0.500", ts: int = T0, **kw
) -> OrderInitialized:
    """An OrderInitialized for a MARKET order on BTCUSDT.BINANCE unless overridden."""
    kw.setdefault("order_type", OrderType.MARKET)
    return OrderInitialized(ClientOrderId(coid), SID, IID, ts, ts, side=side, quantity=Quantity(qty, 3), **kw)


def fill(coid: str = "O-1", trade: str = "T-1", side: OrderSide = OrderSide.BUY, qty: str = "0.500",
         px: str = "60123.45", fee: str = "0.030061725", ts: int = T0 + 1, **kw) -> OrderFilled:  # fmt: skip
    """An OrderFilled of ``coid``."""
    return OrderFilled(
        ClientOrderId(coid),
        SID,
        IID,
        ts,
        ts,
        venue_order_id=VenueOrderId(f"V-{coid}"),
        trade_id=TradeId(trade),
        order_side=side,
        order_type=OrderType.MARKET,
        last_qty=Quantity(qty, 3),
        last_px=Price(px, 2),
        commission=Money(fee, USDT),
        **kw,
    )


def every_record() -> list[object]:
    """One instance of every record type the store must persist, with awkward values where possible."""
    c, v = ClientOrderId("O-1"), VenueOrderId("V-1")
    base = (c, SID, IID, T0, T0 + 5)
    records: list[object] = [
        init(
            order_type=OrderType.TRAILING_STOP_LIMIT,
            time_in_force=TimeInForce.GTD,
            price=Price("60000.10", 2),
            trigger_price=Price("59990.00", 2),
            expire_time_ns=T0 + 10**12,
            post_only=True,
            reduce_only=True,
            trailing_offset=Decimal("0.25"),
            trailing_offset_type="bps",
            limit_offset=Decimal("-1.5E-3"),
            order_list_id=OrderListId("OL-1"),
            parent_order_id=ClientOrderId("O-0"),
            linked_order_ids=(ClientOrderId("O-2"), ClientOrderId("O-3")),
            contingency_type=ContingencyType.OUO,
            tags="entry;üñí",
        ),
        OrderDenied(*base, reason="max notional exceeded: 1000000 > 50000"),
        OrderSubmitted(*base, account_id=ACC),
        OrderAccepted(*base, venue_order_id=v, account_id=ACC),
        OrderRejected(*base, reason="insufficient balance", account_id=ACC),
        OrderCanceled(*base, venue_order_id=v, reason="gone at venue"),
        OrderExpired(*base, venue_order_id=None),
        OrderTriggered(*base, venue_order_id=v),
        OrderPendingUpdate(*base, venue_order_id=v),
        OrderPendingCancel(*base),
        OrderModifyRejected(*base, reason="too late", venue_order_id=v),
        OrderCancelRejected(*base, reason="unknown order"),
        OrderUpdated(*base, quantity=Quantity("0.250", 3), price=None, trigger_price=Price("-1.5", 1)),
        fill(liquidity_side=LiquiditySide.MAKER, position_id=PositionId("P-1"), account_id=ACC, inferred=True),
        # a Money with all 9 internal decimals and a negative (rebate) value
        fill(trade="T-2", fee="-0.000000001"),
        # raw value with more digits than its precision: must survive unrounded
        OrderUpdated(*base, price=Price.from_raw(60_000_123_456_789, 2)),
        AccountState(
            ACC,
            {
                "USDT": (Money("1000.5", USDT), Money("0.5", USDT), Money("1000", USDT)),
                "BTC": (Money("0.00000001", BTC), Money(0, BTC), Money("0.00000001", BTC)),
            },
            T0,
            T0,
            margins=(MarginBalance(Money("10", USDT), Money("5", USDT), IID),),
            reported=False,
        ),
        OrderStatusReport(
            ACC,
            IID,
            None,
            v,
            OrderSide.SELL,
            OrderType.LIMIT,
            TimeInForce.IOC,
            OrderStatus.PARTIALLY_FILLED,
            Quantity("1.000", 3),
            Quantity("0.400", 3),
            T0,
            T0,
            T0,
            price=Price("1.23", 2),
            avg_px=Price("1.235", 3),
        ),
        FillReport(
            ACC,
            IID,
            v,
            TradeId("T-9"),
            OrderSide.BUY,
            Quantity("1", 0),
            Price("5", 0),
            Money("0", Currency.from_str("XRP")),
            LiquiditySide.TAKER,
            T0,
            T0,
            client_order_id=c,
        ),
        PositionReport(ACC, IID, PositionSide.SHORT, Quantity("2.5", 1), T0, T0, avg_px_open=Price("100.0", 1)),
        OperatorAction("admin", "halt_trading", T0, T0, {"reason": "manual", "scope": "all"}),
        Alert("orderflow", "warning", "absorption at 60000", T0, T0, instrument_id=IID),
        ReconciliationDiscrepancy("missing_fill", "applied", "T-9 0.4 @ 1.235", T0, T0, ACC, IID, c, v),
        crypto_spot("ETHUSDT", "BINANCE", "ETH", "USDT", 2, 4, maker_fee="-0.0001", min_notional="5"),
        future("ES", "CME", "0.25", "50", fee_per_contract="2.25"),
    ]
    return records
