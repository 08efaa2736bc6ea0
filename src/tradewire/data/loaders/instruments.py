"""Default `Instrument` definitions for the instruments found in recorded files.

Files rarely describe their contract. `instrument_for` builds a sensible one from the instrument id
(a table of known futures roots and crypto quote assets) and the precisions seen in the data; pass
explicit values, or build the `Instrument` yourself, when they matter (fees, margins, lot sizes).
"""

from __future__ import annotations

from pathlib import Path

from tradewire.model.data import BarType
from tradewire.model.enums import AssetClass, InstrumentClass
from tradewire.model.identifiers import InstrumentId
from tradewire.model.instruments import Instrument, crypto_spot, equity, future
from tradewire.model.objects import FIXED_SCALAR, Currency, Price, Quantity

#: Futures roots: tick size, multiplier (quote currency per point), currency, asset class.
#: Sources: CME contract specifications (6E: 12.5 USD per 0.0001 = 125,000 EUR; ES: 50 USD x index;
#: NQ: 20 USD x index; CL: 1,000 barrels; GC: 100 troy ounces).
FUTURES_ROOTS: dict[str, tuple[str, str, str, AssetClass]] = {
    "6E": ("0.00005", "125000", "USD", AssetClass.FX),
    "6B": ("0.0001", "62500", "USD", AssetClass.FX),
    "6J": ("0.0000005", "12500000", "USD", AssetClass.FX),
    "ES": ("0.25", "50", "USD", AssetClass.INDEX),
    "MES": ("0.25", "5", "USD", AssetClass.INDEX),
    "NQ": ("0.25", "20", "USD", AssetClass.INDEX),
    "MNQ": ("0.25", "2", "USD", AssetClass.INDEX),
    "YM": ("1", "5", "USD", AssetClass.INDEX),
    "RTY": ("0.1", "50", "USD", AssetClass.INDEX),
    "CL": ("0.01", "1000", "USD", AssetClass.COMMODITY),
    "GC": ("0.1", "100", "USD", AssetClass.COMMODITY),
}
_MONTHS = "FGHJKMNQUVXZ"
_CRYPTO_QUOTES = ("USDT", "USDC", "BUSD", "USD", "EUR", "GBP", "BTC", "ETH", "BNB")
_CRYPTO_VENUES = {"BINANCE", "BYBIT", "KRAKEN", "COINBASE", "BITMEX", "DERIBIT", "OKX", "FTX", "HYPERLIQUID"}
_FX = {"EUR", "USD", "JPY", "GBP", "CHF", "AUD", "NZD", "CAD", "SEK", "NOK"}
#: Known BTC-PERP tick: the file's USD-notional volume and $1 price grid match FTX BTC-PERP.
_PERP_TICKS = {"BTC-PERP": "1"}


def _futures_root(symbol: str) -> str | None:
    """Root of a futures symbol ``<root><month code><year digit(s)>`` (``6EH4`` -> ``6E``), else None."""
    for n in (1, 2):
        if len(symbol) > n + 1 and symbol[-n:].isdigit() and symbol[-n - 1] in _MONTHS:
            root = symbol[: -n - 1]
            if root in FUTURES_ROOTS:
                return root
    return None


def _split_pair(symbol: str) -> tuple[str, str] | None:
    s = symbol.replace("/", "").replace("-", "").replace("_", "")
    for q in _CRYPTO_QUOTES:
        if s.endswith(q) and len(s) > len(q):
            return s[: -len(q)], q
    return None


def instrument_for(
    source: BarType | InstrumentId | str | Path, *, price_precision: int | None = None,
    size_precision: int | None = None,
) -> Instrument:  # fmt: skip
    """Build a default `Instrument` for a bar type, an instrument id or a data file.

    Parameters
    ----------
    source : BarType | InstrumentId | str | Path
        A bar type or instrument id, or the path of a bar file (its default bar type is used and,
        unless given, its price/size precisions are inferred by loading it).
    price_precision, size_precision : int | None
        Decimals of prices/quantities (defaults: futures tick's decimals; 2 for equities and FX-free
        spot; 0 quantity decimals for equities and futures, 8 for crypto).

    Returns
    -------
    Instrument
        - futures (``6EH4.XCME``, ``ESZ3.XCME``, ...; root in :data:`FUTURES_ROOTS`): tick size,
          multiplier and currency from the table (6E: tick 0.00005, multiplier 125,000, USD);
        - ``*-PERP``: a crypto perpetual (linear, quote = settlement currency; BTC-PERP tick 1);
        - a crypto pair on a crypto venue, or ending in a known quote asset (``ADABTC``, ``XBTUSDT``,
          ``BTCUSD.COINBASE``): `crypto_spot` with zero fees;
        - a 6-letter FX pair (``EURUSD``): FX spot, lot 1;
        - anything else: a USD equity with lot size 1.

    Raises
    ------
    ValueError
        If ``source`` is a string that is neither an existing file nor an instrument id.
    """
    if isinstance(source, Path) or (isinstance(source, str) and not isinstance(source, InstrumentId)):
        p = Path(source)
        if p.exists():
            from .bars import default_bar_type, iter_bars

            bar_type = default_bar_type(p)
            if price_precision is None or size_precision is None:
                first = next(iter_bars(p, bar_type=bar_type), None)
                if first is not None:
                    price_precision = first.open.precision if price_precision is None else price_precision
                    size_precision = first.volume.precision if size_precision is None else size_precision
            iid = bar_type.instrument_id
        else:
            iid = InstrumentId(str(source))
    elif isinstance(source, BarType):
        iid = source.instrument_id
    else:
        iid = source
    sym, venue = str(iid.symbol), str(iid.venue)

    root = _futures_root(sym)
    if root is not None:
        tick, mult, ccy, asset = FUTURES_ROOTS[root]
        inst = future(sym, venue, tick, mult, currency=ccy, asset_class=asset)
        if price_precision is not None and price_precision > inst.price_precision:
            inst = _with_precision(inst, price_precision, inst.tick_size)
        return inst
    if sym.endswith("-PERP"):
        base = sym[: -len("-PERP")]
        pair = _split_pair(base)
        base, quote = pair if pair else (base, "USD")
        pp = 2 if price_precision is None else price_precision
        sp = 8 if size_precision is None else size_precision
        q = Currency.from_str(quote)
        tick = Price(_PERP_TICKS[sym], pp) if sym in _PERP_TICKS and pp >= 0 else _unit_price(pp)
        return Instrument(
            id=iid, asset_class=AssetClass.CRYPTO, instrument_class=InstrumentClass.PERPETUAL,
            base_currency=Currency.from_str(base), quote_currency=q, settlement_currency=q, price_precision=pp,
            tick_size=tick, size_precision=sp, lot_size=_unit_qty(sp),
        )  # fmt: skip
    pair = _split_pair(sym)
    if len(sym) == 6 and sym[:3] in _FX and sym[3:] in _FX and venue not in _CRYPTO_VENUES:
        pp = 5 if price_precision is None else price_precision
        sp = 0 if size_precision is None else size_precision
        q = Currency.from_str(sym[3:])
        return Instrument(
            id=iid, asset_class=AssetClass.FX, instrument_class=InstrumentClass.SPOT,
            base_currency=Currency.from_str(sym[:3]), quote_currency=q, settlement_currency=q, price_precision=pp,
            tick_size=_unit_price(pp), size_precision=sp, lot_size=_unit_qty(sp),
        )  # fmt: skip
    if pair is not None and (venue in _CRYPTO_VENUES or pair[1] in ("USDT", "USDC", "BUSD", "BTC", "ETH", "BNB")):
        pp = 2 if price_precision is None else price_precision
        sp = 8 if size_precision is None else size_precision
        return crypto_spot(sym, venue, pair[0], pair[1], pp, sp, maker_fee="0", taker_fee="0")
    return equity(sym, venue, "USD", 2 if price_precision is None else price_precision)


def _unit_price(precision: int) -> Price:
    return Price.from_raw(FIXED_SCALAR // 10**precision, precision)


def _unit_qty(precision: int) -> Quantity:
    return Quantity.from_raw(FIXED_SCALAR // 10**precision, precision)


def _with_precision(inst: Instrument, precision: int, tick: Price) -> Instrument:
    from dataclasses import replace

    return replace(inst, price_precision=precision, tick_size=Price.from_raw(tick.raw, precision))


__all__ = ["FUTURES_ROOTS", "instrument_for"]
