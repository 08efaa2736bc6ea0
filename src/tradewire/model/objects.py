"""Exact value types: `Price`, `Quantity`, `Money` and `Currency`.

All three store a fixed-point integer ``raw`` scaled by ``FIXED_SCALAR`` (10**9), plus a display
``precision`` (number of decimals). Arithmetic on ``raw`` is integer arithmetic, so sums of prices,
quantities and cash never drift. Values with more than 9 decimals are rejected rather than rounded
silently. Binary floats are refused by the constructors: parse from ``str``, ``int`` or ``Decimal``.

Products (price x quantity) are computed on raws and rounded once, half-to-even, back to the
fixed scale (see :func:`mul_raw`).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import ClassVar, Final

FIXED_PRECISION = 9
FIXED_SCALAR = 10**FIXED_PRECISION
_HALF: Final = FIXED_SCALAR // 2

# Built by mypyc (see setup.py), the value classes are native types that only their constructor can
# create (a direct constructor call is also the fastest there: ``from_raw`` is a static method per class,
# not a classmethod calling ``cls``); interpreted, ``from_raw`` skips the constructor's parsing with
# ``object.__new__``.
_NATIVE: Final = not __file__.endswith(".py")
_new: Final = object.__new__


def _pow10(n: int) -> int:
    return 10 ** (FIXED_PRECISION - n)


def parse_raw(value: str | int | Decimal, max_precision: int = FIXED_PRECISION) -> int:
    """Parse a decimal number into a raw fixed-point integer (scale 10**9).

    Parameters
    ----------
    value : str | int | Decimal
        A decimal literal such as ``"60123.45"``, ``"-0.001"``, ``"1e-05"``, an int or a Decimal.
    max_precision : int
        Maximum number of decimals accepted (<= 9).

    Returns
    -------
    int
        ``value * 10**9`` exactly.

    Raises
    ------
    TypeError
        If ``value`` is a float (binary floats are not exact).
    ValueError
        If the text is not a number or has more decimals than ``max_precision``.
    """
    if isinstance(value, bool):
        raise TypeError("bool is not a number")
    if isinstance(value, int):
        return value * FIXED_SCALAR
    if isinstance(value, float):
        raise TypeError(f"binary float {value!r} is not exact: pass a str or Decimal")
    if isinstance(value, str):
        s = value.strip()
        if s and "e" not in s and "E" not in s:
            neg = s[0] == "-"
            body = s[1:] if s[0] in "+-" else s
            whole, dot, frac = body.partition(".")
            if (whole.isdigit() or (whole == "" and frac)) and (not frac or frac.isdigit()):
                if len(frac) > max_precision:
                    stripped = frac.rstrip("0")
                    if len(stripped) > max_precision:
                        raise ValueError(f"{value!r} has more than {max_precision} decimals")
                    frac = stripped
                raw = int(whole or "0") * FIXED_SCALAR + (int(frac) * _pow10(len(frac)) if frac else 0)
                return -raw if neg else raw
        try:
            value = Decimal(s)
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        scaled = value.scaleb(FIXED_PRECISION)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value!r} has more than {FIXED_PRECISION} decimals")
        exp = value.normalize().as_tuple().exponent
        if isinstance(exp, int) and -exp > max_precision:
            raise ValueError(f"{value!r} has more than {max_precision} decimals")
        return int(scaled)
    raise TypeError(f"cannot parse {type(value).__name__} as a decimal number")


def mul_raw(a: int, b: int) -> int:
    """Multiply two raw fixed-point values and round half-to-even back to scale 10**9."""
    q, r = divmod(a * b, FIXED_SCALAR)
    if r > _HALF or (r == _HALF and q & 1):
        q += 1
    return q


def div_round(num: int, den: int) -> int:
    """Integer division rounded half-to-even (den != 0)."""
    if den < 0:
        num, den = -num, -den
    q, r = divmod(num, den)
    twice = 2 * r
    if twice > den or (twice == den and q & 1):
        q += 1
    return q


def raw_to_decimal(raw: int, precision: int = FIXED_PRECISION) -> Decimal:
    """Return the exact Decimal of a raw value, quantized to ``precision`` decimals (half-even)."""
    d = Decimal(raw).scaleb(-FIXED_PRECISION)
    return d.quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_EVEN)


def raw_to_str(raw: int, precision: int) -> str:
    """Format a raw value with exactly ``precision`` decimals (rounded half-even)."""
    if precision < FIXED_PRECISION:
        raw = div_round(raw, _pow10(precision)) * _pow10(precision)
    neg = raw < 0
    whole, frac = divmod(abs(raw), FIXED_SCALAR)
    text = str(whole)
    if precision > 0:
        text += "." + str(frac).rjust(FIXED_PRECISION, "0")[:precision]
    return "-" + text if neg and (whole or frac) else text


class _Fixed:
    """Common behaviour of fixed-point values (comparison, hashing, formatting)."""

    __slots__ = ("precision", "raw")
    _kind: ClassVar[str] = "value"

    raw: int
    precision: int

    def __init__(self, value: str | int | Decimal, precision: int) -> None:
        if not 0 <= precision <= FIXED_PRECISION:
            raise ValueError(f"precision must be 0..{FIXED_PRECISION}, was {precision}")
        self.raw = parse_raw(value, precision)
        self.precision = precision

    @classmethod
    def from_str(cls, value: str):
        """Parse text; the precision is the number of decimals written."""
        s = value.strip()
        if "e" in s or "E" in s:
            exp = Decimal(s).normalize().as_tuple().exponent
            precision = max(0, -exp) if isinstance(exp, int) else 0
        else:
            _, _, frac = s.partition(".")
            precision = len(frac)
        return cls(s, min(precision, FIXED_PRECISION))

    def as_decimal(self) -> Decimal:
        """Exact Decimal with ``precision`` decimals."""
        return raw_to_decimal(self.raw, self.precision)

    def as_double(self) -> float:
        """Float for display and analytics only (never for accounting)."""
        return self.raw / FIXED_SCALAR

    def __float__(self) -> float:
        return self.raw / FIXED_SCALAR

    def __str__(self) -> str:
        return raw_to_str(self.raw, self.precision)

    def __repr__(self) -> str:
        return f"{type(self).__name__}('{self}')"

    def __hash__(self) -> int:
        return hash(self.raw)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _Fixed):
            return self.raw == other.raw
        if isinstance(other, (int, Decimal)):
            return Decimal(self.raw).scaleb(-FIXED_PRECISION) == other
        return NotImplemented

    def __lt__(self, other: _Fixed) -> bool:
        return self.raw < other.raw

    def __le__(self, other: _Fixed) -> bool:
        return self.raw <= other.raw

    def __gt__(self, other: _Fixed) -> bool:
        return self.raw > other.raw

    def __ge__(self, other: _Fixed) -> bool:
        return self.raw >= other.raw

    def __bool__(self) -> bool:
        return self.raw != 0

    def __reduce__(self):
        return (type(self).from_raw, (self.raw, self.precision))


class Price(_Fixed):
    """An exact price (may be negative, e.g. spreads or some futures).

    ``Price("60123.45", 2)`` or ``Price.from_str("60123.45")``. Adding or subtracting two prices
    keeps the larger precision.
    """

    __slots__ = ()

    @staticmethod
    def from_raw(raw: int, precision: int) -> Price:
        """Build from a raw fixed-point integer (scale 10**9) without checks."""
        obj = Price(0, precision) if _NATIVE else _new(Price)  # see _NATIVE
        obj.raw = raw
        obj.precision = precision
        return obj

    def __add__(self, other: Price) -> Price:
        return Price.from_raw(self.raw + other.raw, max(self.precision, other.precision))

    def __sub__(self, other: Price) -> Price:
        return Price.from_raw(self.raw - other.raw, max(self.precision, other.precision))

    def __neg__(self) -> Price:
        return Price.from_raw(-self.raw, self.precision)


class Quantity(_Fixed):
    """An exact, non-negative quantity (units, contracts or lots).

    Raises
    ------
    ValueError
        If the value is negative.
    """

    __slots__ = ()

    def __init__(self, value: str | int | Decimal, precision: int) -> None:
        super().__init__(value, precision)
        if self.raw < 0:
            raise ValueError(f"Quantity cannot be negative: {value!r}")

    @staticmethod
    def from_raw(raw: int, precision: int) -> Quantity:
        """Build from a raw fixed-point integer (scale 10**9) without checks."""
        obj = Quantity(0, precision) if _NATIVE else _new(Quantity)  # see _NATIVE
        obj.raw = raw
        obj.precision = precision
        return obj

    def __add__(self, other: Quantity) -> Quantity:
        return Quantity.from_raw(self.raw + other.raw, max(self.precision, other.precision))

    def __sub__(self, other: Quantity) -> Quantity:
        raw = self.raw - other.raw
        if raw < 0:
            raise ValueError(f"Quantity cannot be negative: {self} - {other}")
        return Quantity.from_raw(raw, max(self.precision, other.precision))

    @staticmethod
    def zero(precision: int = 0) -> Quantity:
        """A zero quantity."""
        return Quantity.from_raw(0, precision)


class Currency:
    """A currency or asset code with its display precision (e.g. USD/2, BTC/8, USDT/8)."""

    __slots__ = ("code", "precision")
    _registry: ClassVar[dict[str, Currency]] = {}

    def __init__(self, code: str, precision: int) -> None:
        if not code or not code.isalnum():
            raise ValueError(f"invalid currency code {code!r}")
        self.code = code.upper()
        self.precision = precision

    @classmethod
    def from_str(cls, code: str) -> Currency:
        """Return a registered currency, or a new one with 8 decimals for unknown crypto assets."""
        code = code.upper()
        cur = cls._registry.get(code)
        if cur is None:
            cur = cls(code, 8)
            cls._registry[code] = cur
        return cur

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Currency) and other.code == self.code

    def __hash__(self) -> int:
        return hash(self.code)

    def __str__(self) -> str:
        return self.code

    def __repr__(self) -> str:
        return f"Currency({self.code!r}, {self.precision})"

    def __reduce__(self):
        return (Currency, (self.code, self.precision))


for _code, _prec in (
    ("USD", 2), ("EUR", 2), ("GBP", 2), ("JPY", 0), ("CHF", 2), ("AUD", 2), ("CAD", 2),
    ("USDT", 8), ("USDC", 8), ("BTC", 8), ("ETH", 8), ("XRP", 6), ("ADA", 6),
):  # fmt: skip
    Currency._registry[_code] = Currency(_code, _prec)

USD = Currency._registry["USD"]
USDT = Currency._registry["USDT"]
BTC = Currency._registry["BTC"]
EUR = Currency._registry["EUR"]


class Money:
    """An exact amount of a currency (raw fixed-point at scale 10**9).

    Internally amounts keep 9 decimals so that fees and P&L accumulate without rounding; ``str()``
    shows the currency's precision. Adding two amounts of different currencies raises ``ValueError``.
    """

    __slots__ = ("currency", "raw")

    def __init__(self, value: str | int | Decimal, currency: Currency) -> None:
        self.raw = parse_raw(value)
        self.currency = currency

    @staticmethod
    def from_raw(raw: int, currency: Currency) -> Money:
        """Build from a raw fixed-point integer (scale 10**9)."""
        obj = Money(0, currency) if _NATIVE else _new(Money)  # see _NATIVE
        obj.raw = raw
        obj.currency = currency
        return obj

    @staticmethod
    def zero(currency: Currency) -> Money:
        """Zero of ``currency``."""
        return Money.from_raw(0, currency)

    def _check(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"currency mismatch: {self.currency} vs {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money.from_raw(self.raw + other.raw, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money.from_raw(self.raw - other.raw, self.currency)

    def __neg__(self) -> Money:
        return Money.from_raw(-self.raw, self.currency)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Money):
            return self.raw == other.raw and self.currency == other.currency
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.raw, self.currency.code))

    def __lt__(self, other: Money) -> bool:
        self._check(other)
        return self.raw < other.raw

    def __le__(self, other: Money) -> bool:
        self._check(other)
        return self.raw <= other.raw

    def __gt__(self, other: Money) -> bool:
        self._check(other)
        return self.raw > other.raw

    def __ge__(self, other: Money) -> bool:
        self._check(other)
        return self.raw >= other.raw

    def as_decimal(self) -> Decimal:
        """Exact Decimal with all 9 internal decimals (trailing zeros removed, never in exponent form)."""
        d = Decimal(self.raw).scaleb(-FIXED_PRECISION)
        return d.quantize(Decimal(1)) if d == d.to_integral_value() else d.normalize()

    def as_double(self) -> float:
        """Float for display only."""
        return self.raw / FIXED_SCALAR

    def __str__(self) -> str:
        return f"{raw_to_str(self.raw, self.currency.precision)} {self.currency.code}"

    def __repr__(self) -> str:
        return f"Money('{self.as_decimal()}', {self.currency.code})"

    def __reduce__(self):
        return (Money.from_raw, (self.raw, self.currency))
