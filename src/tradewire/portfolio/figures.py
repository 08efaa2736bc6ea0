"""P&L, balance, margin, exposure and equity figures of the `Portfolio` (a mixin; the state is the portfolio's).

Most figures are sums over positions or accounts when asked for. ``balance_free_raw`` and ``equity_raw`` read
the amounts per currency that the portfolio keeps up to date as fills, marks, reservations and account
updates arrive (O(1) in the common case); ``_recompute_*`` compute the same from scratch and exist to check
them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from mypy_extensions import trait

from tradewire.model.enums import InstrumentClass
from tradewire.model.identifiers import InstrumentId
from tradewire.model.objects import FIXED_SCALAR, Currency, Money, div_round
from tradewire.portfolio.accounts import Account, MarginAccount

if TYPE_CHECKING:
    from tradewire.core.cache import Cache
    from tradewire.model.identifiers import AccountId, PositionId
    from tradewire.model.position import Position

_S2: Final = FIXED_SCALAR * FIXED_SCALAR
_SPOT: Final = InstrumentClass.SPOT


@trait  # under mypyc (tradewire._native) a mixin of a native class must be a trait
class PortfolioFigures:
    """Mixin of `Portfolio`: P&L, balances, margin, exposure and equity (reads the portfolio's state)."""

    cache: Cache
    base_currency: Currency | None
    accounts: dict[AccountId, Account]
    _positions: dict[PositionId, Position]
    _by_instrument: dict[InstrumentId, list[Position]]
    _figs: dict[str, list[int]]
    _amt_nonzero: list[str]
    _kind: dict[InstrumentId, int]

    # provided by Portfolio and CurrencyConversion (which come first in Portfolio's bases, so theirs are used)
    def _mark_raw(self, instrument_id: InstrumentId, pos: Position | None = None) -> int:
        raise NotImplementedError

    def _convert_amount(self, raw: int, from_code: str, to_currency: Currency) -> int:
        raise NotImplementedError

    def _recompute_convert_raw(self, raw: int, from_currency: Currency, to_currency: Currency) -> int:
        raise NotImplementedError

    # -- P&L and balances -------------------------------------------------------------------------
    def realized_pnl(self, currency: Currency) -> Money:
        """Sum of realized P&L (gross of fees) of positions settling in ``currency`` (no conversion)."""
        raw = sum(div_round(p._realized, _S2) for p in self._positions.values() if p.currency == currency)
        return Money.from_raw(raw, currency)

    def unrealized_pnl(self, currency: Currency) -> Money:
        """Sum of unrealized P&L at the mark of open positions settling in ``currency`` (no conversion)."""
        raw = 0
        for p in self._positions.values():
            if p.signed_qty_raw and p.currency == currency:
                raw += p.unrealized_pnl_raw(self._mark_raw(p.instrument_id, p))
        return Money.from_raw(raw, currency)

    def commissions(self, currency: Currency) -> Money:
        """Total commissions paid in ``currency``."""
        return Money.from_raw(sum(p.commission_in(currency).raw for p in self._positions.values()), currency)

    def balance_total(self, currency: Currency) -> Money:
        """Sum of account totals in ``currency`` (no conversion)."""
        return Money.from_raw(sum(a.total.get(currency.code, 0) for a in self.accounts.values()), currency)

    def balance_free(self, currency: Currency) -> Money:
        """Sum of free balances (total - locked) in ``currency`` (no conversion)."""
        raw = sum(a.total.get(currency.code, 0) - a.locked_raw(currency.code) for a in self.accounts.values())
        return Money.from_raw(raw, currency)

    def balance_free_raw(self, currency: Currency) -> int:
        """:meth:`balance_free` as a raw amount (scale 1e9), without building a `Money`.

        O(1), allocates nothing: the sum is kept up to date as accounts change.
        """
        fig = self._figs.get(currency.code)
        return 0 if fig is None else fig[0]

    def _recompute_balance_free_raw(self, currency: Currency) -> int:
        """:meth:`balance_free_raw` computed from the accounts (O(accounts)); checks the kept figure."""
        code = currency.code
        raw = 0
        for a in self.accounts.values():
            raw += a.total.get(code, 0) - a.locked_raw(code)
        return raw

    def balance_locked(self, currency: Currency) -> Money:
        """Sum of reserved amounts in ``currency``."""
        return Money.from_raw(sum(a.locked_raw(currency.code) for a in self.accounts.values()), currency)

    def margin_used(self, currency: Currency) -> Money:
        """Everything margin accounts reserve in ``currency``: initial margin of open positions and orders."""
        raw = sum(a.locked_raw(currency.code) for a in self.accounts.values() if a.is_margin)
        return Money.from_raw(raw, currency)

    def margin_maint(self, currency: Currency) -> Money:
        """Maintenance margin of open positions in ``currency``."""
        raw = sum(a.margin_maint(currency).raw for a in self.accounts.values() if isinstance(a, MarginAccount))
        return Money.from_raw(raw, currency)

    def exposure(self, instrument_id: InstrumentId) -> Money:
        """Absolute net notional ``|qty| * mark * multiplier`` in the settlement currency."""
        inst = self.cache.instrument(instrument_id)
        raw = sum(p.notional_raw(self._mark_raw(instrument_id, p)) for p in self._by_instrument.get(instrument_id, ())
                  if p.signed_qty_raw)  # fmt: skip
        return Money.from_raw(abs(raw), inst.settlement_currency)

    def equity(self, currency: Currency | None = None) -> Money:
        """Balances plus the value of open positions not already in balances, converted to ``currency``.

        Derivative positions add their unrealized P&L; spot positions without a base currency
        (equities) add their market value (their cost left the cash balance); spot positions with a
        base currency are already the base balance.

        Raises
        ------
        ConversionRateError
            If an amount must be converted and no quote or mark of a matching pair is known.
        ValueError
            If ``currency`` is None and the portfolio has no base currency.
        """
        cur = currency or self.base_currency
        if cur is None:
            raise ValueError("equity() needs a currency (the portfolio has no base currency)")
        return Money.from_raw(self.equity_raw(cur), cur)

    def equity_view(self, currency: Currency) -> tuple[list[int], list[str]]:
        """Live figures that give :meth:`equity_raw` without a call, for loops that sample it per event.

        Returns ``(figures, held)``: ``figures[1]`` is the equity amount in ``currency`` before conversion and
        ``held`` the codes of currencies whose amount is not zero. Both lists are updated in place as the
        portfolio changes (never replaced). While ``held`` is empty or ``[currency.code]``,
        ``equity_raw(currency) == figures[1]``; otherwise call :meth:`equity_raw` (it converts the others).
        """
        code = currency.code
        fig = self._figs.get(code)
        if fig is None:
            fig = self._figs[code] = [0, 0]
        return fig, self._amt_nonzero

    def equity_raw(self, currency: Currency) -> int:
        """:meth:`equity` as a raw amount (scale 1e9), without building a `Money`.

        The amount per currency (account totals plus what open positions add at their marks) is kept
        up to date by fills, order reservations, marks and account updates. When every currency other
        than ``currency`` nets to zero the answer is that amount: O(1), no allocation. Otherwise each
        other currency's amount is converted as :meth:`convert_raw` does, with the pair instruments
        looked up once and a conversion reused while its amount, quote and mark are unchanged:
        O(currencies held).

        Raises
        ------
        ConversionRateError
            As :meth:`equity`, when a conversion is needed and no rate is known.
        """
        code = currency.code
        fig = self._figs.get(code)
        own = 0 if fig is None else fig[1]
        nonzero = self._amt_nonzero
        n = len(nonzero)
        if n == 0 or (n == 1 and own):
            return own
        total = own
        i = 0
        while i < n:  # indexed: a for loop would allocate an iterator
            c = nonzero[i]
            i += 1
            if c != code:
                total += self._convert_amount(self._figs[c][1], c, currency)
        return total

    def _recompute_equity_raw(self, currency: Currency) -> int:
        """:meth:`equity_raw` computed from accounts and positions (O(accounts + positions)); checks the
        kept figures.

        Raises
        ------
        ConversionRateError
            If an amount must be converted and no rate is known.
        """
        cur = currency
        amounts: dict[str, int] = {}
        currencies: dict[str, Currency] = {}
        for a in self.accounts.values():
            for code, raw in a.total.items():
                amounts[code] = amounts.get(code, 0) + raw
                currencies[code] = a.currencies[code]
        for p in self._positions.values():
            if not p.signed_qty_raw:
                continue
            inst = self.cache.instruments[p.instrument_id]
            mark = self._mark_raw(p.instrument_id, p)
            if inst.instrument_class is not _SPOT:
                v = p.unrealized_pnl_raw(mark)
            elif inst.base_currency is None:
                v = p.notional_raw(mark)
            else:
                continue
            amounts[p.currency.code] = amounts.get(p.currency.code, 0) + v
            currencies[p.currency.code] = p.currency
        total = 0
        for code, raw in amounts.items():
            total += raw if code == cur.code or raw == 0 else self._recompute_convert_raw(raw, currencies[code], cur)
        return total
