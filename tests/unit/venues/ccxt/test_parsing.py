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
