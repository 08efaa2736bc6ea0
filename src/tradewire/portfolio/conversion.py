"""Currency conversion of the `Portfolio`: rates from the latest quote mid (else mark) of a pair.

An amount in currency A is converted to B with the first instrument in the cache pairing the two
(either direction, e.g. ``EURUSD`` for EUR -> USD or USD -> EUR) that has a quote, at its mid
``(bid + ask) / 2``, or else a mark (:meth:`Portfolio.update_mark`). The product is rounded once,
half-to-even. With neither, :class:`ConversionRateError` is raised: there is no implicit 1:1 rate, not
even between stablecoins.

The pair instruments per (from, to) are looked up once and kept while the cache's instrument dict
keeps its identity and size (and each pair instrument its identity); a conversion is reused while its
amount, quote object and mark are unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mypy_extensions import mypyc_attr, trait

from tradewire.model.identifiers import InstrumentId
from tradewire.model.instruments import Instrument
from tradewire.model.objects import FIXED_SCALAR, Currency, div_round

if TYPE_CHECKING:
    from tradewire.core.cache import Cache


@mypyc_attr(native_class=False)  # a native class cannot derive from LookupError
class ConversionRateError(LookupError):
    """No market price is known to convert between two currencies."""


@trait  # under mypyc (tradewire._native) a mixin of a native class must be a trait
class CurrencyConversion:
    """Mixin of `Portfolio`: conversion between currencies (reads ``cache`` and ``_marks``)."""

    cache: Cache
    _marks: dict[InstrumentId, int]
    # set by _init_conversion (a trait has no __init__)
    _conv_dict: object
    _conv_len: int
    _conv_routes: dict[str, dict[str, list[tuple[InstrumentId, Instrument, bool]]]]
    _conv_memo: dict[str, dict[str, list]]

    def _init_conversion(self) -> None:
        # candidate pair instruments per from code, per to code; valid while the cache keeps the same
        # instruments dict with the same size (each entry is checked for identity when used)
        self._conv_dict = None
        self._conv_len = -1
        self._conv_routes = {}
        # last conversion per from code, per to code: [amount, quote object, mark, result, pair instrument id]
        self._conv_memo = {}

    def _routes_for(self, from_code: str, to_code: str) -> list[tuple[InstrumentId, Instrument, bool]]:
        """Instruments pairing the two currencies, in the cache's order, with True = direct (from/to)."""
        instruments = self.cache.instruments
        if instruments is not self._conv_dict or len(instruments) != self._conv_len:
            self._conv_routes.clear()
            self._conv_memo.clear()
            self._conv_dict = instruments
            self._conv_len = len(instruments)
        by_to = self._conv_routes.get(from_code)
        if by_to is None:
            by_to = self._conv_routes[from_code] = {}
        routes = by_to.get(to_code)
        if routes is None:
            routes = by_to[to_code] = []
            for iid, inst in instruments.items():
                base = inst.base_currency
                if base is None:
                    continue
                quote = inst.quote_currency.code
                if base.code == from_code and quote == to_code:
                    routes.append((iid, inst, True))
                elif base.code == to_code and quote == from_code:
                    routes.append((iid, inst, False))
        return routes

    def _convert_amount(self, raw: int, from_code: str, to_currency: Currency) -> int:
        """:meth:`convert_raw` of ``raw`` from ``from_code``; allocates nothing when the last conversion of the
        pair had the same amount, quote object and mark."""
        to_code = to_currency.code
        routes = self._routes_for(from_code, to_code)
        quotes = self.cache.quotes
        marks = self._marks
        instruments = self.cache.instruments
        i = 0
        n = len(routes)
        while i < n:  # indexed: a for loop would allocate an iterator
            iid, inst, direct = routes[i]
            i += 1
            if instruments.get(iid) is not inst:  # replaced under the same id: look the pairs up again
                self._conv_dict = None
                return self._convert_amount(raw, from_code, to_currency)
            q = quotes.get(iid)
            if q is not None:
                num = q.bid_price.raw + q.ask_price.raw
                mark = None
            else:
                mark = marks.get(iid)
                if mark is None:
                    continue
                num = mark
            if num <= 0:
                continue
            by_to = self._conv_memo.get(from_code)
            if by_to is None:
                by_to = self._conv_memo[from_code] = {}
            memo = by_to.get(to_code)
            if memo is None:
                memo = by_to[to_code] = [None, None, None, 0, None]
            elif memo[0] == raw and memo[1] is q and memo[2] == mark and memo[4] == iid:
                return memo[3]
            den = 2 * FIXED_SCALAR if q is not None else FIXED_SCALAR
            out = div_round(raw * num, den) if direct else div_round(raw * den, num)
            memo[0] = raw
            memo[1] = q
            memo[2] = mark
            memo[3] = out
            memo[4] = iid
            return out
        raise ConversionRateError(
            f"no quote to convert {from_code} to {to_code}: add a {from_code}"
            f"{to_code} or {to_code}{from_code} instrument and its quotes"
        )

    def convert_raw(self, raw: int, from_currency: Currency, to_currency: Currency) -> int:
        """Convert a raw amount with the latest quote mid (else mark) of a pair; rounded half-even once.

        The first instrument in the cache pairing the two currencies (either direction) that has a
        quote (mid ``(bid + ask) / 2``) or else a mark gives the rate.

        Raises
        ------
        ConversionRateError
            If no instrument or quote pairs the two currencies.
        """
        if from_currency == to_currency:
            return raw
        return self._convert_amount(raw, from_currency.code, to_currency)

    def _recompute_convert_raw(self, raw: int, from_currency: Currency, to_currency: Currency) -> int:
        """:meth:`convert_raw` by a scan of every instrument (checks the looked-up pairs)."""
        if from_currency == to_currency:
            return raw
        for iid, inst in self.cache.instruments.items():
            if inst.base_currency is None:
                continue
            direct = inst.base_currency == from_currency and inst.quote_currency == to_currency
            inverse = inst.base_currency == to_currency and inst.quote_currency == from_currency
            if not (direct or inverse):
                continue
            q = self.cache.quotes.get(iid)
            if q is not None:
                num, den = q.bid_price.raw + q.ask_price.raw, 2 * FIXED_SCALAR
            elif iid in self._marks:
                num, den = self._marks[iid], FIXED_SCALAR
            else:
                continue
            if num <= 0:
                continue
            return div_round(raw * num, den) if direct else div_round(raw * den, num)
        raise ConversionRateError(
            f"no quote to convert {from_currency.code} to {to_currency.code}: add a {from_currency.code}"
            f"{to_currency.code} or {to_currency.code}{from_currency.code} instrument and its quotes"
        )


__all__ = ["ConversionRateError", "CurrencyConversion"]
