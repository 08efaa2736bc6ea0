"""`Instrument`: the static description of a tradable contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from tradewire.model.enums import AssetClass, InstrumentClass
from tradewire.model.identifiers import InstrumentId
from tradewire.model.objects import FIXED_SCALAR, Currency, Money, Price, Quantity, mul_raw


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable instrument.

    Parameters
    ----------
    id : InstrumentId
        ``<symbol>.<venue>``.
    asset_class, instrument_class : AssetClass, InstrumentClass
        E.g. CRYPTO/SPOT, EQUITY/SPOT, INDEX/FUTURE.
    base_currency : Currency | None
        Asset bought (``BTC`` for BTCUSDT); None for futures and equities.
    quote_currency : Currency
        Currency prices are quoted in.
    settlement_currency : Currency
        Currency P&L and fees settle in (``USDT`` for a linear perpetual).
    price_precision, tick_size : int, Price
        Decimals of a price and the minimum price increment.
    size_precision, lot_size : int, Quantity
        Decimals of a quantity and the minimum quantity increment.
    multiplier : Quantity
        Contract multiplier (ES = 50 USD per index point; 1 for spot).
    min_quantity, max_quantity, min_notional : optional limits
    maker_fee, taker_fee : Decimal
        Fee rates as fractions of notional (0.001 = 10 bps); negative = rebate.
    margin_init, margin_maint : Decimal
        Initial and maintenance margin as fractions of notional (0 for cash spot).
    """

    id: InstrumentId
    asset_class: AssetClass
    instrument_class: InstrumentClass
    quote_currency: Currency
    settlement_currency: Currency
    price_precision: int
    tick_size: Price
    size_precision: int
    lot_size: Quantity
    base_currency: Currency | None = None
    multiplier: Quantity = field(default_factory=lambda: Quantity(1, 0))
    min_quantity: Quantity | None = None
    max_quantity: Quantity | None = None
    min_notional: Money | None = None
    maker_fee: Decimal = Decimal(0)
    taker_fee: Decimal = Decimal(0)
    margin_init: Decimal = Decimal(0)
    margin_maint: Decimal = Decimal(0)
    fee_per_contract: Money | None = None

    def make_price(self, value: str | int | Decimal) -> Price:
        """A price at this instrument's precision (raises ValueError if more decimals)."""
        return Price(value, self.price_precision)

    def make_qty(self, value: str | int | Decimal) -> Quantity:
        """A quantity at this instrument's size precision (raises ValueError if more decimals)."""
        return Quantity(value, self.size_precision)

    def is_on_tick(self, price: Price) -> bool:
        """True if ``price`` is a multiple of the tick size."""
        return price.raw % self.tick_size.raw == 0

    def is_on_lot(self, qty: Quantity) -> bool:
        """True if ``qty`` is a multiple of the lot size."""
        return qty.raw % self.lot_size.raw == 0

    def notional_raw(self, qty_raw: int, price_raw: int) -> int:
        """Notional value ``qty * price * multiplier`` as a raw Money amount (settlement currency)."""
        n = mul_raw(qty_raw, price_raw)
        m = self.multiplier.raw
        return n if m == FIXED_SCALAR else mul_raw(n, m)

    def notional(self, qty: Quantity, price: Price) -> Money:
        """Notional as Money in the settlement currency."""
        return Money.from_raw(self.notional_raw(qty.raw, price.raw), self.settlement_currency)


def _p(v: str) -> Price:
    return Price.from_str(v)


def crypto_spot(
    symbol: str, venue: str, base: str, quote: str, price_precision: int, size_precision: int,
    maker_fee: str = "0.001", taker_fee: str = "0.001", min_notional: str | None = None,
) -> Instrument:  # fmt: skip
    """Build a crypto spot pair (e.g. ``crypto_spot("BTCUSDT", "BINANCE", "BTC", "USDT", 2, 5)``)."""
    q = Currency.from_str(quote)
    return Instrument(
        id=InstrumentId.from_parts(symbol, venue),
        asset_class=AssetClass.CRYPTO,
        instrument_class=InstrumentClass.SPOT,
        base_currency=Currency.from_str(base),
        quote_currency=q,
        settlement_currency=q,
        price_precision=price_precision,
        tick_size=Price.from_raw(FIXED_SCALAR // 10**price_precision, price_precision),
        size_precision=size_precision,
        lot_size=Quantity.from_raw(FIXED_SCALAR // 10**size_precision, size_precision),
        min_notional=Money(min_notional, q) if min_notional else None,
        maker_fee=Decimal(maker_fee),
        taker_fee=Decimal(taker_fee),
    )


def equity(symbol: str, venue: str, currency: str = "USD", price_precision: int = 2) -> Instrument:
    """Build a cash equity with lot size 1 and no fees."""
    c = Currency.from_str(currency)
    return Instrument(
        id=InstrumentId.from_parts(symbol, venue),
        asset_class=AssetClass.EQUITY,
        instrument_class=InstrumentClass.SPOT,
        quote_currency=c,
        settlement_currency=c,
        price_precision=price_precision,
        tick_size=Price.from_raw(FIXED_SCALAR // 10**price_precision, price_precision),
        size_precision=0,
        lot_size=Quantity(1, 0),
    )


def future(
    symbol: str, venue: str, tick_size: str, multiplier: str, currency: str = "USD",
    asset_class: AssetClass = AssetClass.INDEX, margin_init: str = "0.05", margin_maint: str = "0.04",
    fee_per_contract: str | None = None,
) -> Instrument:  # fmt: skip
    """Build a futures contract (e.g. ES: tick 0.25, multiplier 50 USD per point)."""
    c = Currency.from_str(currency)
    tick = _p(tick_size)
    return Instrument(
        id=InstrumentId.from_parts(symbol, venue),
        asset_class=asset_class,
        instrument_class=InstrumentClass.FUTURE,
        quote_currency=c,
        settlement_currency=c,
        price_precision=tick.precision,
        tick_size=tick,
        size_precision=0,
        lot_size=Quantity(1, 0),
        multiplier=Quantity(multiplier, 0 if "." not in multiplier else len(multiplier.split(".")[1])),
        margin_init=Decimal(margin_init),
        margin_maint=Decimal(margin_maint),
        fee_per_contract=Money(fee_per_contract, c) if fee_per_contract else None,
    )
