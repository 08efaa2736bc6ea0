"""Wire <-> model conversions of the ccxt adapter (no network: markets parsed by ccxt from raw venue JSON)."""

from __future__ import annotations

from decimal import Decimal

import pytest

import ccxt
from tradewire.model.data import OrderBookDelta
from tradewire.model.enums import BookAction, BookSide, InstrumentClass
from tradewire.model.identifiers import AccountId, InstrumentId
from tradewire.venues.ccxt.history import bar_spec_of
from tradewire.venues.ccxt.parsing import (
    SymbolMap,
    account_state,
    depth_deltas,
    market_to_instrument,
    quantity,
    to_decimal,
    tradewire_symbol,
)

SPOT_RAW = {
    "symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "baseAssetPrecision": 8, "quoteAsset": "USDT",
    "quotePrecision": 8, "quoteAssetPrecision": 8, "orderTypes": ["LIMIT", "MARKET"], "isSpotTradingAllowed": True,
    "isMarginTradingAllowed": True, "permissions": [], "permissionSets": [["SPOT", "MARGIN"]],
    "filters": [
        {"filterType": "PRICE_FILTER", "minPrice": "0.01000000", "maxPrice": "1000000.0", "tickSize": "0.01000000"},
        {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000", "stepSize": "0.00001000"},
        {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": True},
    ],
}  # fmt: skip
PERP_RAW = {
    "symbol": "BTCUSDT", "pair": "BTCUSDT", "contractType": "PERPETUAL", "deliveryDate": 4133404800000,
    "onboardDate": 1569398400000, "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT", "marginAsset": "USDT",
    "pricePrecision": 2, "quantityPrecision": 3, "baseAssetPrecision": 8, "quotePrecision": 8, "underlyingType": "COIN",
    "filters": [
        {"filterType": "PRICE_FILTER", "minPrice": "556.80", "maxPrice": "4529764", "tickSize": "0.10"},
        {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "1000", "stepSize": "0.001"},
        {"filterType": "MIN_NOTIONAL", "notional": "100"},
    ],
    "orderTypes": ["LIMIT", "MARKET"], "timeInForce": ["GTC"],
}  # fmt: skip


@pytest.fixture(scope="module")
def markets():
    ex = ccxt.binance()
    ex.options.update({"crossMarginPairsData": [], "isolatedMarginPairsData": []})  # normally from margin endpoints
    return ex.parse_market(SPOT_RAW), ex.parse_market(PERP_RAW)


def test_to_decimal_is_exact_for_text_and_shortest_repr_for_floats():
    assert to_decimal("61837.63000000") == Decimal("61837.63")
    assert str(to_decimal(0.1)) == "0.1" and str(to_decimal(1e-05)) == "0.00001"
    assert to_decimal(None) is None
    with pytest.raises(ValueError):
        to_decimal(float("nan"))
    with pytest.raises(ValueError):
        to_decimal(True)


def test_symbols_map_both_ways(markets):
    spot, perp = markets
    assert tradewire_symbol(spot) == "BTCUSDT" and tradewire_symbol(perp) == "BTCUSDT-PERP"
    inverse = {"base": "BTC", "quote": "USD", "swap": True, "symbol": "BTC/USD:BTC"}
    dated = {"base": "BTC", "quote": "USDT", "future": True, "expiryDatetime": "2024-09-27T08:00:00.000Z"}
    assert tradewire_symbol(inverse) == "BTCUSD-PERP" and tradewire_symbol(dated) == "BTCUSDT-240927"
    m = SymbolMap("BINANCE")
    assert m.add(spot) == InstrumentId("BTCUSDT.BINANCE") and m.add(perp) == InstrumentId("BTCUSDT-PERP.BINANCE")
    assert m.ccxt_symbol("BTCUSDT-PERP.BINANCE") == "BTC/USDT:USDT" and m.instrument_id("BTC/USDT") == "BTCUSDT.BINANCE"
    with pytest.raises(KeyError, match="ETH/USDT"):
        m.instrument_id("ETH/USDT")
    with pytest.raises(ValueError, match="both map"):
        m.add(dict(spot, symbol="BTC/USDT:XYZ", spot=True))


def test_spot_instrument_uses_the_venue_filters(markets):
    inst = market_to_instrument(markets[0], "BINANCE")
    assert inst.id == "BTCUSDT.BINANCE" and inst.instrument_class is InstrumentClass.SPOT
    assert (str(inst.tick_size), inst.price_precision, str(inst.lot_size), inst.size_precision) == (
        "0.01",
        2,
        "0.00001",
        5,
    )
    assert str(inst.min_quantity) == "0.00001" and inst.min_notional.as_decimal() == Decimal(5)
    assert inst.base_currency.code == "BTC" and inst.settlement_currency.code == "USDT"
    assert inst.taker_fee == Decimal("0.001")


def test_linear_perpetual_instrument(markets):
    inst = market_to_instrument(markets[1], "BINANCE")
    assert inst.id == "BTCUSDT-PERP.BINANCE" and inst.instrument_class is InstrumentClass.PERPETUAL
    assert (str(inst.tick_size), str(inst.lot_size), str(inst.multiplier)) == ("0.1", "0.001", "1")
    assert inst.min_notional.as_decimal() == Decimal(100) and inst.settlement_currency.code == "USDT"
    assert (inst.maker_fee, inst.taker_fee) == (Decimal("0.0002"), Decimal("0.0005"))


def test_depth_deltas_snapshot_and_diff():
    iid = InstrumentId("BTCUSDT.BINANCE")
    snap = depth_deltas(iid, [["100.50", "1.5"]], [["100.60", "2"]], 2, 5, 7, 1, 2, snapshot=True)
    assert [d.action for d in snap] == [BookAction.CLEAR, BookAction.ADD, BookAction.ADD]
    assert all(d.flags & OrderBookDelta.F_SNAPSHOT for d in snap) and [d.is_last for d in snap] == [False, False, True]
    diff = depth_deltas(iid, [["100.50", "0.00000000"]], [["100.70", "25.42618900"]], 2, 5, 9, 1, 2)
    assert [(d.action, d.side) for d in diff] == [(BookAction.DELETE, BookSide.BID), (BookAction.UPDATE, BookSide.ASK)]
    assert diff[1].size.raw == 25_426_189_000 and str(diff[1].size) == "25.426189"  # kept exactly, never rounded
    assert depth_deltas(iid, [], [], 2, 5, 10, 1, 2) == []


def test_quantity_errors():
    with pytest.raises(ValueError, match="negative"):
        quantity("-1", 5)
    with pytest.raises(ValueError):
        quantity("0.0000000001", 5)  # 10 decimals: below the fixed-point resolution


def test_account_state_from_binance_balances():
    bal = {"info": {"balances": [{"asset": "BTC", "free": "0.50000000", "locked": "0.25000000"},
                                 {"asset": "ETH", "free": "0.00000000", "locked": "0.00000000"}]}}  # fmt: skip
    st = account_state(bal, AccountId("BINANCE-001"), 1, 2)
    total, locked, free = st.balances["BTC"]
    assert (total.as_decimal(), locked.as_decimal(), free.as_decimal()) == (
        Decimal("0.75"),
        Decimal("0.25"),
        Decimal("0.5"),
    )
    assert "ETH" not in st.balances


def test_bar_spec_of_timeframes():
    assert str(bar_spec_of("1m")) == "1-MINUTE-LAST" and str(bar_spec_of("4h")) == "4-HOUR-LAST"
    for bad in ("", "m", "0m", "1x"):
        with pytest.raises(ValueError):
            bar_spec_of(bad)


def _exchange_with(markets):
    ex = ccxt.binance()
    ex.options.update({"crossMarginPairsData": [], "isolatedMarginPairsData": []})
    spot, perp = markets
    ex.markets = {spot["symbol"]: spot, perp["symbol"]: perp}
    ex.markets_by_id = {"BTCUSDT": [spot, perp]}
    return ex


def test_reports_from_ccxt_parsed_binance_answers(markets):
    from tradewire.model.enums import LiquiditySide, OrderStatus, PositionSide
    from tradewire.model.identifiers import ClientOrderId
    from tradewire.venues.ccxt.parsing import fill_report, order_status_report, position_report

    ex = _exchange_with(markets)
    spot_inst, perp_inst = market_to_instrument(markets[0], "BINANCE"), market_to_instrument(markets[1], "BINANCE")
    acct = AccountId("BINANCE-001")
    order = ex.parse_order({
        "symbol": "BTCUSDT", "orderId": 1001, "orderListId": -1, "clientOrderId": "O-1", "price": "61000.00000000",
        "origQty": "0.01000000", "executedQty": "0.00400000", "cummulativeQuoteQty": "244.00000000",
        "status": "PARTIALLY_FILLED", "timeInForce": "GTC", "type": "LIMIT", "side": "BUY", "stopPrice": "0.00000000",
        "time": 1723161255208, "updateTime": 1723161256208, "isWorking": True, "workingTime": 1723161255208,
    }, markets[0])  # fmt: skip
    r = order_status_report(order, acct, spot_inst, 7)
    assert (r.client_order_id, str(r.venue_order_id), r.order_status) == (
        ClientOrderId("O-1"),
        "1001",
        OrderStatus.PARTIALLY_FILLED,
    )
    assert (str(r.quantity), str(r.filled_qty), str(r.price), r.trigger_price) == (
        "0.01000",
        "0.00400",
        "61000.00",
        None,
    )
    assert (r.ts_accepted, r.ts_last) == (1723161255208 * 10**6, 1723161256208 * 10**6)
    trade = ex.parse_trade({
        "symbol": "BTCUSDT", "id": 5000, "orderId": 1001, "orderListId": -1, "price": "61000.00000000",
        "qty": "0.00400000", "quoteQty": "244.00000000", "commission": "0.00000400", "commissionAsset": "BTC",
        "time": 1723161256208, "isBuyer": True, "isMaker": True, "isBestMatch": True,
    }, markets[0])  # fmt: skip
    f = fill_report(trade, acct, spot_inst, ClientOrderId("O-1"), 7)
    assert (str(f.trade_id), str(f.venue_order_id), f.liquidity_side) == ("5000", "1001", LiquiditySide.MAKER)
    assert (f.commission.as_decimal(), f.commission.currency.code) == (Decimal("0.000004"), "BTC")
    pos = ex.parse_position_risk({
        "symbol": "BTCUSDT", "positionSide": "BOTH", "positionAmt": "-0.250", "entryPrice": "61837.6",
        "markPrice": "61800.00000000", "unRealizedProfit": "9.40000000", "liquidationPrice": "0", "leverage": "10",
        "marginType": "cross", "isolatedMargin": "0", "notional": "-15450.0", "isolatedWallet": "0",
        "updateTime": 1723161255208,
    }, markets[1])  # fmt: skip
    pr = position_report(pos, acct, perp_inst, 7)
    assert (pr.instrument_id, pr.position_side, str(pr.quantity), str(pr.avg_px_open)) == (
        InstrumentId("BTCUSDT-PERP.BINANCE"),
        PositionSide.SHORT,
        "0.250",
        "61837.6",
    )
    assert pr.signed_qty_raw == -250_000_000
    flat = ex.parse_position_risk(dict(pos["info"], positionAmt="0.000"), markets[1])
    assert position_report(flat, acct, perp_inst, 7) is None
