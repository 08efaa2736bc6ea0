"""Shared parsing helpers for the loaders: exact decimals, timestamps, compressed text.

Internal module: the public API is in the format modules and the package ``__init__``.
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from tradewire.model.objects import FIXED_PRECISION, FIXED_SCALAR, Price, Quantity, parse_raw

from .errors import DataFormatError

NS_PER_MS = 1_000_000
NS_PER_US = 1_000
NS_PER_S = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_S
EPOCH = date(1970, 1, 1)
UTC = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")


def read_bytes(path: str | Path) -> bytes:
    """Return the file's bytes, gunzipped when it starts with the gzip magic ``1f 8b``.

    Raises
    ------
    DataFormatError
        If the gzip stream is truncated or corrupt (the message gives the compressed size read).
    """
    data = Path(path).read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (EOFError, OSError, gzip.BadGzipFile) as exc:
            raise DataFormatError(path, f"corrupt or truncated gzip stream ({exc})", offset=len(data)) from None
    return data


def open_text(path: str | Path) -> io.TextIOBase:
    """Open a text file for reading, transparently gunzipping ``.gz`` content (detected by magic bytes).

    Decompression errors surface while iterating; use :func:`iter_lines` to get them as
    `DataFormatError` with the line number reached.
    """
    path = Path(path)
    with path.open("rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def iter_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` (1-based, without the line ending) of a text or gzip text file.

    Raises
    ------
    DataFormatError
        If the gzip stream is truncated/corrupt or the text is not UTF-8 (names the last line read).
    """
    n = 0
    try:
        with open_text(path) as fh:
            for n, line in enumerate(fh, 1):
                yield n, line.rstrip("\r\n")
    except (EOFError, OSError, UnicodeDecodeError) as exc:
        raise DataFormatError(path, f"cannot read past this line: {exc}", line=n + 1) from None


def csv_fields(path: str | Path, lines: Iterable[tuple[int, str]], n: int) -> Iterator[tuple[int, list[str]]]:
    """The non-empty lines of ``lines`` split on commas, as ``(line number, fields)``.

    Raises
    ------
    DataFormatError
        A line without exactly ``n`` fields (file and line named).
    """
    for no, line in lines:
        if not line:
            continue
        f = line.split(",")
        if len(f) != n:
            raise DataFormatError(path, f"expected {n} fields, got {len(f)}", line=no)
        yield no, f


def column_indexes(path: str | Path, cols: list[str], need: Iterable[str]) -> tuple[int, ...]:
    """Positions in the header ``cols`` of each column of ``need``, in that order.

    Raises
    ------
    DataFormatError
        A column of ``need`` missing from the header (line 1 of ``path``).
    """
    idx = {c: i for i, c in enumerate(cols)}
    out = []
    for c in need:
        if c not in idx:
            raise DataFormatError(path, f"missing column {c!r}", line=1)
        out.append(idx[c])
    return tuple(out)


def decimals(text: str) -> int:
    """Number of decimals written in a plain decimal literal (``"1.10785"`` -> 5, ``"46319"`` -> 0)."""
    dot = text.find(".")
    return 0 if dot < 0 else len(text) - dot - 1


def to_raw(text: str, path: str | Path, line: int | None, what: str, *, record: int | None = None) -> int:
    """Parse a decimal literal exactly into a raw fixed-point int (scale 1e9).

    Raises
    ------
    DataFormatError
        If the text is not a decimal number or has more than 9 decimals.
    """
    try:
        return parse_raw(text)
    except (ValueError, TypeError) as exc:
        raise DataFormatError(path, f"bad {what} {text!r}: {exc}", line=line, record=record) from None


def is_float_artefact(text: str) -> bool:
    """True for a literal with more than 9 decimals that is exactly the shortest text of a binary double.

    Files written from float columns carry values such as ``218102.59507500002``: the writer meant
    ``218102.595075``, and no fixed-point value with 9 decimals can hold the text anyway.
    """
    if decimals(text) <= FIXED_PRECISION:
        return False
    try:
        return Decimal(repr(float(text))) == Decimal(text.strip())
    except (ValueError, ArithmeticError):
        return False


_P10 = [10**k for k in range(FIXED_PRECISION + 1)]


def text_raw(
    text: str, precision: int, path: str | Path, line: int | None, what: str, *, record: int | None = None
) -> int:
    """Parse a decimal literal exactly and check it fits ``precision`` decimals.

    A float artefact (see `is_float_artefact`) is rounded half-even to ``precision`` instead.

    Raises
    ------
    DataFormatError
        If the text is not a number or has more decimals than ``precision``.
    """
    whole, _, frac = text.partition(".")
    n = len(frac)
    if n <= precision and whole.isdigit() and (n == 0 or frac.isdigit()):
        # fast path: plain unsigned literal within the precision
        return int(whole) * FIXED_SCALAR + (int(frac) * _P10[FIXED_PRECISION - n] if n else 0)
    if decimals(text) > FIXED_PRECISION and is_float_artefact(text):
        d = Decimal(text).quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_EVEN)
        return int(d.scaleb(FIXED_PRECISION))
    raw = to_raw(text, path, line, what, record=record)
    if raw % _P10[FIXED_PRECISION - precision]:
        raise DataFormatError(
            path, f"{what} {text.strip()} has more decimals than the precision {precision}", line=line, record=record
        )
    return raw


def text_decimals(text: str) -> int:
    """Decimals of a literal for precision inference; 0 for float artefacts (they are rounded)."""
    d = decimals(text)
    return 0 if d > FIXED_PRECISION and is_float_artefact(text) else d


def check_precision(
    raw: int, precision: int, path: str | Path, line: int | None, what: str, *, record: int | None = None
) -> None:
    """Raise `DataFormatError` if ``raw`` has more decimals than ``precision``."""
    if raw % (10 ** (FIXED_PRECISION - precision)):
        text = format(Decimal(raw).scaleb(-FIXED_PRECISION), "f")
        raise DataFormatError(
            path, f"{what} {text} has more decimals than the precision {precision}", line=line, record=record
        )


def price(raw: int, precision: int) -> Price:
    """A `Price` from a raw value already checked against ``precision``."""
    return Price.from_raw(raw, precision)


def quantity(
    raw: int, precision: int, path: str | Path, line: int | None, what: str = "size", *, record: int | None = None
) -> Quantity:
    """A `Quantity`; raises `DataFormatError` when negative."""
    if raw < 0:
        text = format(Decimal(raw).scaleb(-FIXED_PRECISION), "f")
        raise DataFormatError(path, f"negative {what} {text}", line=line, record=record)
    return Quantity.from_raw(raw, precision)


def float_text(value: float) -> str:
    """Shortest round-trip decimal text of a binary float (``repr``), never in exponent form.

    Used only where a source stores binary floats (Parquet/Feather columns, JSON numbers): the
    shortest text that reads back as the same double is the decimal the writer most likely meant.
    """
    text = repr(float(value))
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    if text.endswith(".0"):
        text = text[:-2]
    return text


def clean_decimals(value: float, max_decimals: int = FIXED_PRECISION) -> int | None:
    """Decimals of a float's shortest text, or None if it needs more than ``max_decimals``.

    Floats produced by arithmetic (``0.09946999000000001``) return None and are ignored when
    inferring a precision; they are then rounded half-even to the inferred precision.
    """
    d = decimals(float_text(value))
    return d if d <= max_decimals else None


def float_raw(value: float, precision: int) -> int:
    """Raw fixed-point value of a float, rounded half-even to ``precision`` decimals via its shortest text."""
    d = Decimal(float_text(value)).quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_EVEN)
    return int(d.scaleb(FIXED_PRECISION))


@lru_cache(maxsize=65536)
def date_ns(text: str) -> int:
    """UTC midnight of an ISO date ``YYYY-MM-DD`` (or ``YYYYMMDD``) in ns since the epoch.

    Raises
    ------
    ValueError
        If the text is not a valid date.
    """
    if len(text) == 8 and text.isdigit():
        d = date(int(text[:4]), int(text[4:6]), int(text[6:]))
    else:
        d = date.fromisoformat(text)
    return (d - EPOCH).days * NS_PER_DAY


_TIME = re.compile(r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$")


def parse_iso_ns(text: str, path: str | Path, line: int | None) -> tuple[int, bool]:
    """Parse an ISO-8601 timestamp into UTC ns exactly (no float, no microsecond truncation).

    Accepts ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM[:SS[.f{1,9}]]`` with ``T`` or space, and an optional
    ``Z`` or ``±HH:MM`` offset; a timestamp without offset is UTC.

    Returns
    -------
    tuple[int, bool]
        ``(ts_ns, date_only)``: ``date_only`` is True when the text had no time of day.

    Raises
    ------
    DataFormatError
        If the text is not such a timestamp.
    """
    s = text
    n = len(s)
    if (n == 19 or (n > 20 and s[19] == "." and n <= 29)) and s[10] in " T" and s[13] == ":" and s[16] == ":":
        # fast path: "YYYY-MM-DD HH:MM:SS[.f...]" without offset
        hh, mm, ss, frac = s[11:13], s[14:16], s[17:19], s[20:]
        if hh.isdigit() and mm.isdigit() and ss.isdigit() and (not frac or frac.isdigit()):
            try:
                day = date_ns(s[:10])
            except ValueError:
                raise DataFormatError(path, f"bad timestamp {text!r}", line=line) from None
            h, m, sec = int(hh), int(mm), int(ss)
            if h < 24 and m < 60 and sec < 60:
                ns = day + (h * 3600 + m * 60 + sec) * NS_PER_S
                return (ns + int(frac.ljust(9, "0")) if frac else ns), False
    s = text.strip()
    try:
        day = date_ns(s[:10])
    except ValueError:
        raise DataFormatError(path, f"bad timestamp {text!r}", line=line) from None
    if len(s) == 10:
        return day, True
    m = _TIME.match(s, 11) if s[10] in " T" else None
    if m is None:
        raise DataFormatError(path, f"bad timestamp {text!r}", line=line)
    hh, mm, ss, frac, tz = m.groups()
    if int(hh) > 23 or int(mm) > 59 or int(ss or 0) > 59:
        raise DataFormatError(path, f"bad timestamp {text!r}: time of day out of range", line=line)
    secs = int(hh) * 3600 + int(mm) * 60 + int(ss or 0)
    if tz and tz != "Z":
        sign = -1 if tz[0] == "-" else 1
        tz = tz[1:].replace(":", "")
        secs -= sign * (int(tz[:2]) * 3600 + int(tz[2:]) * 60)
    ns = day + secs * NS_PER_S
    if frac:
        ns += int(frac.ljust(9, "0"))
    return ns, False


def local_day_offsets_ns(day: date, tz: ZoneInfo) -> tuple[int, int]:
    """UTC ns of local midnight of ``day`` in ``tz`` and of the next local midnight."""
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    nxt = day + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
    return _dt_ns(start), _dt_ns(end)


def _dt_ns(dt: datetime) -> int:
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * NS_PER_US


def local_ms_to_utc_ns(day: date, ms: int, tz: ZoneInfo) -> int:
    """UTC ns of the local wall-clock time ``day 00:00 + ms`` in ``tz`` (DST-aware, first fold)."""
    local = datetime(day.year, day.month, day.day) + timedelta(milliseconds=ms)
    return _dt_ns(local.replace(tzinfo=tz))


_INTERVAL = re.compile(r"(?<![0-9A-Za-z])(\d+)(min|m|h|d|s)(?![A-Za-z0-9])", re.IGNORECASE)
_UNIT = {"s": "SECOND", "m": "MINUTE", "min": "MINUTE", "h": "HOUR", "d": "DAY"}


def interval_from_name(name: str) -> tuple[int, str] | None:
    """Find a bar interval token in a file name: ``_1m`` / ``-5m`` / ``_1min_`` / ``1h`` / ``1d``.

    Returns ``(step, aggregation_name)`` e.g. ``(5, "MINUTE")``, or None.
    """
    for m in _INTERVAL.finditer(name):
        step, unit = int(m.group(1)), m.group(2).lower()
        if step > 0:
            return step, _UNIT[unit]
    return None


def max_decimals(values: Iterable[str]) -> int:
    """Largest number of decimals written among ``values`` (0 if empty)."""
    return max((decimals(v) for v in values), default=0)
