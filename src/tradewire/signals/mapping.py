"""TradingView ticker -> tradewire :class:`InstrumentId`.

Resolution order for a ticker such as ``BINANCE:BTCUSDT``, ``BTCUSDT`` or ``CME_MINI:ES1!``:

1. the source's explicit ``symbols`` table (exact, case-insensitive);
2. a continuous future ``<root><n>!`` whose root has a :class:`FuturesRollConfig`: the n-th contract
   from the front by the roll rule below (``ES1!`` = front month, ``ES2!`` = the next);
3. ``EXCHANGE:SYMBOL`` -> ``SYMBOL.<venue>`` with ``venue = venue_aliases[EXCHANGE]`` (or
   ``venue_aliases["*"]``, or ``EXCHANGE`` itself); a bare ``SYMBOL`` uses ``default_venue``.

Roll rule: the contract months are the configured month codes (``HMUZ``); a contract's expiry is
the third Friday of its month (CME equity index futures) or the month's last business day, unless
``expiries`` names the date; the front contract is the first whose expiry lies more than
``roll_business_days`` business days (Mon-Fri, minus ``holidays``) after today. On the roll day
itself the next contract is already the front.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from tradewire.model.identifiers import InstrumentId
from tradewire.signals.config import FuturesRollConfig, SourceConfig
from tradewire.signals.schema import AlertError

MONTH_CODES = "FGHJKMNQUVXZ"
"""CME month codes, January to December."""

_CONTINUOUS = re.compile(r"^([A-Z0-9]+?)([1-9])!$")
_FIXED_CACHE = 4096


def third_friday(year: int, month: int) -> date:
    """The third Friday of a month."""
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


def _is_business_day(d: date, holidays: frozenset[date]) -> bool:
    return d.weekday() < 5 and d not in holidays


def last_business_day(year: int, month: int, holidays: frozenset[date] = frozenset()) -> date:
    """The last Monday-Friday of a month that is not a holiday."""
    d = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    while not _is_business_day(d, holidays):
        d -= timedelta(days=1)
    return d


def subtract_business_days(d: date, n: int, holidays: frozenset[date] = frozenset()) -> date:
    """``d`` moved back by ``n`` business days (Mon-Fri, not in ``holidays``)."""
    while n > 0:
        d -= timedelta(days=1)
        if _is_business_day(d, holidays):
            n -= 1
    return d


def contract_symbol(root: str, year: int, month: int, year_digits: int = 1) -> str:
    """Dated symbol such as ``ESZ4`` (``year_digits=1``) or ``ESZ24`` (2)."""
    return f"{root}{MONTH_CODES[month - 1]}{year % (10**year_digits):0{year_digits}d}"


def contract_expiry(cfg: FuturesRollConfig, root: str, year: int, month: int) -> date:
    """Expiry of one contract: an explicit ``expiries`` entry, else the configured rule."""
    holidays = frozenset(date.fromisoformat(h) for h in cfg.holidays)
    explicit = cfg.expiries.get(contract_symbol(root, year, month, cfg.year_digits))
    if explicit is not None:
        return date.fromisoformat(explicit)
    if cfg.expiry == "third_friday":
        return third_friday(year, month)
    return last_business_day(year, month, holidays)


def front_contract(cfg: FuturesRollConfig, root: str, today: date, nth: int = 1) -> tuple[str, date]:
    """The ``nth`` contract from the front on ``today`` by the roll rule (module docstring).

    Returns
    -------
    (str, date)
        Dated symbol (with ``cfg.symbol_root`` or ``root``) and its expiry.
    """
    sym_root = cfg.symbol_root or root
    holidays = frozenset(date.fromisoformat(h) for h in cfg.holidays)
    months = [MONTH_CODES.index(c) + 1 for c in cfg.months]
    year = today.year
    found = 0
    for _ in range(200):  # walk forward contract by contract
        for m in months:
            if (year, m) < (today.year, today.month):
                continue
            expiry = contract_expiry(cfg, sym_root, year, m)
            roll = subtract_business_days(expiry, cfg.roll_business_days, holidays)
            if today < roll:
                found += 1
                if found == nth:
                    return contract_symbol(sym_root, year, m, cfg.year_digits), expiry
        year += 1
    raise AlertError(422, f"no contract found for {root}")  # unreachable with a non-empty month list


class SymbolMapper:
    """Map TradingView tickers to instrument ids for one source.

    Parameters
    ----------
    config : SourceConfig
        Provides ``symbols``, ``futures``, ``venue_aliases`` and ``default_venue``.
    """

    def __init__(self, config: SourceConfig) -> None:
        self._symbols = {k.upper(): InstrumentId(v) for k, v in config.symbols.items()}
        self._futures = {k.upper(): v for k, v in config.futures.items()}
        self._aliases = {k.upper(): v for k, v in config.venue_aliases.items()}
        self._default_venue = config.default_venue
        self._fixed: dict[str, InstrumentId] = {}  # ticker as sent -> its id, for tickers that are not continuous

    def resolve(self, ticker: str, today: date) -> InstrumentId:
        """Resolve ``ticker`` on ``today`` (UTC date, for continuous futures).

        A ticker that is not a continuous future maps to the same id on every date: its id is remembered (at
        most :data:`_FIXED_CACHE` tickers; the table starts over when full), and only continuous futures are
        resolved again on each call.

        Raises
        ------
        AlertError
            422 when a bare ticker has no default venue, or a continuous future has no roll rule.
        """
        hit = self._fixed.get(ticker)
        if hit is not None:
            return hit
        t = ticker.strip().upper()
        hit = self._symbols.get(t)
        if hit is not None:
            return hit
        exchange, colon, sym = t.rpartition(":")
        if not colon:
            exchange = ""
        m = _CONTINUOUS.match(sym)
        if m is not None:
            root, nth = m.group(1), int(m.group(2))
            cfg = self._futures.get(root)
            if cfg is None:
                raise AlertError(422, f"ticker: no roll rule configured for continuous future root {root!r}")
            symbol, _ = front_contract(cfg, root, today, nth)
            return InstrumentId.from_parts(symbol, cfg.venue)
        if "!" in sym:
            raise AlertError(422, f"ticker: {ticker!r} is not a valid symbol")
        if exchange:
            venue = self._aliases.get(exchange) or self._aliases.get("*") or exchange
        elif self._default_venue:
            venue = self._default_venue
        else:
            raise AlertError(422, f"ticker: {ticker!r} has no exchange prefix and the source has no default_venue")
        iid = InstrumentId.from_parts(sym, venue)
        if len(self._fixed) >= _FIXED_CACHE:
            self._fixed.clear()
        self._fixed[ticker] = iid
        return iid
