"""Accounts: per-currency balances for cash and margin accounts.

Balances are exact raw Money integers (scale 1e9) per currency code.

* ``total`` changes only with fills (traded notional for spot instruments, realized P&L for
  derivatives), fees, and venue-reported :class:`~tradewire.model.account.AccountState`.
* ``locked`` is what open orders (and, in a margin account, open positions) reserve.
* ``free = total - locked``.

Every change of a total or a reservation is also reported to the account's ledger (the
:class:`~tradewire.portfolio.Portfolio` it is registered in), which keeps per-currency sums across
accounts so that its balance and equity reads cost O(1).

How a fill moves balances (see :meth:`Account.apply_fill`):

* **Spot** instruments (``InstrumentClass.SPOT``) exchange the notional: a buy debits
  ``qty * px * multiplier`` of the settlement currency and, when the instrument has a
  ``base_currency`` (crypto, FX), credits ``qty`` of it; a sell does the opposite.
* **Derivatives** (futures, perpetuals, CFDs) settle only the realized P&L in the settlement
  currency; no notional changes hands.
* The commission is debited from its own currency (negative commission = rebate, credited).

A :class:`MarginAccount` additionally reserves margin: initial margin of open orders and of open
derivative positions at the latest mark, using the instrument's ``margin_init`` rate or, when a
leverage is set for the instrument (or account-wide), ``1 / leverage``. Maintenance margin uses
``margin_maint``. (Rates as fractions of notional, as in exchange margin docs, e.g. CME SPAN
outright rates or Binance USDⓈ-M "initial margin = notional / leverage".)
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final, Protocol

from tradewire.model.enums import InstrumentClass, OmsType, OrderSide
from tradewire.model.identifiers import AccountId, InstrumentId, Venue
from tradewire.model.instruments import Instrument
from tradewire.model.objects import FIXED_SCALAR, Currency, Money, div_round

# enum members as module constants: Enum class attribute access is a Python-level lookup in 3.11
_BUY: Final = OrderSide.BUY
_SELL: Final = OrderSide.SELL
_SPOT: Final = InstrumentClass.SPOT


class _Ledger(Protocol):
    """What an account reports its changes to (implemented by :class:`~tradewire.portfolio.Portfolio`)."""

    def _total_changed(self, currency: Currency, delta_raw: int) -> None: ...

    def _locked_changed(self, code: str, delta_raw: int) -> None: ...


def _rate_raw(rate: Decimal) -> int:
    """A fractional rate as raw (scale 1e9), rounded half-even."""
    return int((rate * FIXED_SCALAR).to_integral_value())


class Account:
    """Balances of one venue account (base of :class:`CashAccount` and :class:`MarginAccount`).

    Parameters
    ----------
    account_id : AccountId
        ``<venue>-<number>``; the venue part routes fills without an explicit account id.
    starting_balances : list[Money]
        Initial totals, one per currency.
    base_currency : Currency | None
        Reporting currency of the account (None for multi-currency crypto accounts).
    oms_type : OmsType
        NETTING (one position per instrument and strategy) or HEDGING (one per entry order).

    Raises
    ------
    ValueError
        If a currency appears twice in ``starting_balances``.
    """

    is_margin = False

    def __init__(self, account_id: AccountId, starting_balances: list[Money], base_currency: Currency | None = None,
                 oms_type: OmsType = OmsType.NETTING) -> None:  # fmt: skip
        self.id = account_id
        self.venue = Venue(account_id.split("-", 1)[0])
        self.base_currency = base_currency
        self.oms_type = oms_type
        self.currencies: dict[str, Currency] = {}
        self.total: dict[str, int] = {}
        self.order_locked: dict[str, int] = {}
        self._locks: dict[str, tuple[str, int]] = {}  # client order id -> (currency code, raw)
        # the Portfolio this account is registered in: told every change of a total / a reservation
        self._ledger: _Ledger | None = None
        for m in starting_balances:
            if m.currency.code in self.total:
                raise ValueError(f"account {account_id}: currency {m.currency.code} given twice")
            self.currencies[m.currency.code] = m.currency
            self.total[m.currency.code] = m.raw
        if base_currency is not None:
            self.currencies.setdefault(base_currency.code, base_currency)
            self.total.setdefault(base_currency.code, 0)

    # -- balances -----------------------------------------------------------------------------
    def _add(self, currency: Currency, raw: int) -> None:
        code = currency.code
        if code not in self.total:
            self.currencies[code] = currency
            self.total[code] = raw
        else:
            self.total[code] += raw
        if self._ledger is not None:
            self._ledger._total_changed(currency, raw)

    def locked_raw(self, code: str) -> int:
        """Raw amount reserved in currency ``code``."""
        return self.order_locked.get(code, 0)

    def balance_total(self, currency: Currency) -> Money:
        """Total balance in ``currency`` (zero if never held)."""
        return Money.from_raw(self.total.get(currency.code, 0), currency)

    def balance_locked(self, currency: Currency) -> Money:
        """Amount reserved in ``currency``."""
        return Money.from_raw(self.locked_raw(currency.code), currency)

    def balance_free(self, currency: Currency) -> Money:
        """``total - locked`` in ``currency``."""
        return Money.from_raw(self.total.get(currency.code, 0) - self.locked_raw(currency.code), currency)

    def set_balances(self, balances: dict[str, tuple[Money, Money, Money]]) -> None:
        """Replace totals with venue-reported ones (``(total, locked, free)`` per currency code)."""
        ledger = self._ledger
        for code, (total, _locked, _free) in balances.items():
            before = self.total.get(code, 0)
            self.currencies[code] = total.currency
            self.total[code] = total.raw
            if ledger is not None:
                ledger._total_changed(total.currency, total.raw - before)

    # -- fills ---------------------------------------------------------------------------------
    def apply_fill(self, instrument: Instrument, side: OrderSide, qty_raw: int, px_raw: int, realized_raw: int,
                   commission: Money) -> None:  # fmt: skip
        """Move balances for one fill (see the module docstring); ``realized_raw`` is raw Money."""
        settle = instrument.settlement_currency
        total = self.total
        ledger = self._ledger
        if instrument.instrument_class is _SPOT:
            notional = instrument.notional_raw(qty_raw, px_raw)
            if side is _BUY:
                notional = -notional
            else:
                qty_raw = -qty_raw
            if settle.code in total:  # the common case inline; _add registers a currency first seen
                total[settle.code] += notional
                if ledger is not None:
                    ledger._total_changed(settle, notional)
            else:
                self._add(settle, notional)
            base = instrument.base_currency
            if base is not None:
                if base.code in total:
                    total[base.code] += qty_raw
                    if ledger is not None:
                        ledger._total_changed(base, qty_raw)
                else:
                    self._add(base, qty_raw)
        elif realized_raw:
            self._add(settle, realized_raw)
        fee = commission.raw
        if fee:
            code = commission.currency.code
            if code in total:
                total[code] -= fee
                if ledger is not None:
                    ledger._total_changed(commission.currency, -fee)
            else:
                self._add(commission.currency, -fee)

    # -- order locks ---------------------------------------------------------------------------
    def order_lock(self, instrument: Instrument, side: OrderSide, leaves_raw: int, px_raw: int) -> tuple[str, int]:
        """Return ``(currency code, raw)`` an open order of ``leaves_raw`` at ``px_raw`` reserves (cash rules).

        A buy reserves its notional plus the taker fee in the quote (settlement) currency; a sell of
        an instrument with a base currency reserves the base quantity; other sells reserve nothing.
        """
        if side is _BUY or instrument.base_currency is None:
            if side is _SELL:
                return instrument.settlement_currency.code, 0
            notional = instrument.notional_raw(leaves_raw, px_raw)
            fee = div_round(notional * max(_rate_raw(instrument.taker_fee), 0), FIXED_SCALAR)
            return instrument.settlement_currency.code, notional + fee
        return instrument.base_currency.code, leaves_raw

    def update_order_lock(self, client_order_id: str, lock: tuple[str, int] | None) -> None:
        """Set (or with None, release) the reservation of one order."""
        prev = self._locks.pop(client_order_id, None)
        if prev is not None:
            self.order_locked[prev[0]] -= prev[1]
        if lock is not None and lock[1]:
            self._locks[client_order_id] = lock
            self.order_locked[lock[0]] = self.order_locked.get(lock[0], 0) + lock[1]
        else:
            lock = None
        ledger = self._ledger
        if ledger is not None:
            if prev is not None:
                if lock is not None and lock[0] == prev[0]:  # one change of the same currency
                    if lock[1] != prev[1]:
                        ledger._locked_changed(lock[0], lock[1] - prev[1])
                    return
                ledger._locked_changed(prev[0], -prev[1])
            if lock is not None:
                ledger._locked_changed(lock[0], lock[1])

    # -- reporting -----------------------------------------------------------------------------
    def balances(self) -> dict[str, tuple[Money, Money, Money]]:
        """``{code: (total, locked, free)}`` for every currency held."""
        out = {}
        for code, total in self.total.items():
            cur = self.currencies[code]
            locked = self.locked_raw(code)
            out[code] = (Money.from_raw(total, cur), Money.from_raw(locked, cur), Money.from_raw(total - locked, cur))
        return out

    def __repr__(self) -> str:
        bal = ", ".join(f"{Money.from_raw(v, self.currencies[c])}" for c, v in self.total.items())
        return f"{type(self).__name__}({self.id}, {bal})"


class CashAccount(Account):
    """A cash account: no leverage; buys reserve their notional, sells reserve the asset sold."""


class MarginAccount(Account):
    """A margin account: open orders and derivative positions reserve initial margin.

    Parameters
    ----------
    leverage : Decimal | None
        Account-wide default leverage (initial margin rate ``1 / leverage``); None uses the
        instrument's ``margin_init``.
    leverages : dict[InstrumentId, Decimal] | None
        Per-instrument leverage overriding ``leverage``.

    Raises
    ------
    ValueError
        If a leverage is not positive.
    """

    is_margin = True

    def __init__(self, account_id: AccountId, starting_balances: list[Money], base_currency: Currency | None = None,
                 oms_type: OmsType = OmsType.NETTING, leverage: Decimal | None = None,
                 leverages: dict[InstrumentId, Decimal] | None = None) -> None:  # fmt: skip
        super().__init__(account_id, starting_balances, base_currency, oms_type)
        for lev in [leverage, *(leverages or {}).values()]:
            if lev is not None and Decimal(lev) <= 0:
                raise ValueError(f"account {account_id}: leverage must be positive, was {lev}")
        self.leverage = Decimal(leverage) if leverage is not None else None
        self.leverages = {k: Decimal(v) for k, v in (leverages or {}).items()}
        self.position_margin: dict[InstrumentId, tuple[str, int, int]] = {}  # code, initial raw, maint raw
        self._position_locked: dict[str, int] = {}
        self._rates: dict[InstrumentId, tuple[int, int]] = {}

    def margin_rates_raw(self, instrument: Instrument) -> tuple[int, int]:
        """``(initial, maintenance)`` margin rates as raw fractions (scale 1e9) for ``instrument``."""
        r = self._rates.get(instrument.id)
        if r is None:
            lev = self.leverages.get(instrument.id, self.leverage)
            init = Decimal(1) / lev if lev is not None else instrument.margin_init
            r = (_rate_raw(init), _rate_raw(instrument.margin_maint))
            self._rates[instrument.id] = r
        return r

    def order_lock(self, instrument: Instrument, side: OrderSide, leaves_raw: int, px_raw: int) -> tuple[str, int]:
        """Initial margin (plus taker fee) of an open derivative order; cash rules for spot."""
        if instrument.instrument_class is _SPOT:
            return super().order_lock(instrument, side, leaves_raw, px_raw)
        notional = instrument.notional_raw(leaves_raw, px_raw)
        init, _ = self.margin_rates_raw(instrument)
        fee = max(_rate_raw(instrument.taker_fee), 0)
        return instrument.settlement_currency.code, div_round(notional * (init + fee), FIXED_SCALAR)

    def update_position_margin(self, instrument: Instrument, abs_notional_raw: int) -> None:
        """Recompute the margin held by the open derivative positions of ``instrument`` (0 = none)."""
        code = instrument.settlement_currency.code
        prev = self.position_margin.pop(instrument.id, None)
        ledger = self._ledger
        if prev is not None:
            self._position_locked[prev[0]] -= prev[1]
            if ledger is not None:
                ledger._locked_changed(prev[0], -prev[1])
        if abs_notional_raw:
            init, maint = self.margin_rates_raw(instrument)
            im = div_round(abs_notional_raw * init, FIXED_SCALAR)
            mm = div_round(abs_notional_raw * maint, FIXED_SCALAR)
            self.position_margin[instrument.id] = (code, im, mm)
            self._position_locked[code] = self._position_locked.get(code, 0) + im
            if ledger is not None:
                ledger._locked_changed(code, im)

    def locked_raw(self, code: str) -> int:
        """Order reservations plus initial margin of open positions in ``code``."""
        return self.order_locked.get(code, 0) + self._position_locked.get(code, 0)

    def margin_init(self, currency: Currency) -> Money:
        """Initial margin of open positions in ``currency``."""
        return Money.from_raw(self._position_locked.get(currency.code, 0), currency)

    def margin_maint(self, currency: Currency) -> Money:
        """Maintenance margin of open positions in ``currency``."""
        raw = sum(mm for code, _, mm in self.position_margin.values() if code == currency.code)
        return Money.from_raw(raw, currency)


__all__ = ["Account", "CashAccount", "MarginAccount"]
