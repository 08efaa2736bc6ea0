"""Dukascopy ``.bi5`` files: hourly tick files and BID/ASK candle files.

A ``.bi5`` file is an LZMA ("alone" format) stream of big-endian fixed-size records. The layout
follows Dukascopy's datafeed URL scheme ``<SYMBOL>/<YYYY>/<MM>/<DD>/<HH>h_ticks.bi5`` where **months
are 0-based** (``2019/01/04`` is 4 February 2019) and times are UTC:

- ticks, 20 bytes ``>IIIff``: ms offset from the hour, ask and bid as integers in points, ask and bid
  volume (float32, millions of units as Dukascopy publishes them).
- candles, 24 bytes ``>IIIIIf``: seconds offset from the file's period start, **open, close, low,
  high** in points (note the order), volume (float32). ``<SIDE>_candles_min_1.bi5`` sits in a day
  folder (period = that day), ``_hour_1`` in a month folder (that month), ``_day_1`` in a year folder
  (that year).

A 0-byte file is an hour without ticks and yields nothing. The point (price of one integer unit) comes
from :data:`POINT_VALUES` (JPY pairs 0.001, metals 0.001, other FX 0.00001) or the ``point``
argument; it also sets the price precision. float32 volumes are read through their shortest float32
text (``numpy.format_float_positional``), so ``1.12`` stays ``1.12``.

Reference: the record layouts are those decoded by the dukascopy-node project (MIT) and by
Dukascopy's JForex "historical data" export; verified here against the day's candles.
"""

from __future__ import annotations

import lzma
import re
import struct
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np

from tradewire.model.data import Bar, BarSpecification, BarType, QuoteTick
from tradewire.model.enums import BarAggregation, PriceType
from tradewire.model.identifiers import InstrumentId
from tradewire.model.objects import FIXED_PRECISION, FIXED_SCALAR, Price, Quantity

from ._common import NS_PER_MS, NS_PER_S, decimals, parse_raw
from .errors import DataFormatError

TICK = struct.Struct(">IIIff")
CANDLE = struct.Struct(">IIIIIf")
#: Price of one integer unit per symbol; anything else defaults to 0.00001 (JPY crosses: 0.001).
POINT_VALUES: dict[str, str] = {
    "XAUUSD": "0.001", "XAGUSD": "0.001", "USDRUB": "0.001", "BTCUSD": "0.1", "ETHUSD": "0.1",
}  # fmt: skip
_TICK_PATH = re.compile(r"(?:^|/)([A-Z0-9]+)/(\d{4})/(\d{2})/(\d{2})/(\d{2})h_ticks\.bi5$", re.IGNORECASE)
_CANDLE_NAME = re.compile(r"^(BID|ASK)_candles_(min|hour|day)_1\.bi5$", re.IGNORECASE)
_UNIT_NS = {"min": 60 * NS_PER_S, "hour": 3600 * NS_PER_S, "day": 86_400 * NS_PER_S}
_UNIT_AGG = {"min": BarAggregation.MINUTE, "hour": BarAggregation.HOUR, "day": BarAggregation.DAY}


def point_value(symbol: str) -> str:
    """The point of a Dukascopy symbol as decimal text (see :data:`POINT_VALUES`)."""
    s = symbol.upper()
    if s in POINT_VALUES:
        return POINT_VALUES[s]
    if len(s) == 6 and "JPY" in s:
        return "0.001"
    return "0.00001"


def decompress(path: str | Path) -> bytes:
    """LZMA-decompress a ``.bi5`` file (b"" for a 0-byte file).

    Raises
    ------
    DataFormatError
        If the stream is corrupt or truncated: names the file, the compressed byte offset where it
        ended and how much had been decoded.
    """
    path = Path(path)
    data = path.read_bytes()
    if not data:
        return b""
    dec = lzma.LZMADecompressor(format=lzma.FORMAT_AUTO)
    try:
        out = dec.decompress(data)
    except lzma.LZMAError as exc:
        raise DataFormatError(path, f"corrupt LZMA stream ({exc})", offset=0) from None
    if not dec.eof:
        raise DataFormatError(
            path, f"LZMA stream truncated: input ends before the end-of-stream marker ({len(out)} bytes decoded)",
            offset=len(data),
        )  # fmt: skip
    return out


def _records(path: Path, payload: bytes, rec: struct.Struct) -> Iterator[tuple]:
    size = rec.size
    whole = len(payload) - len(payload) % size
    if whole != len(payload):
        raise DataFormatError(
            path, f"decoded payload of {len(payload)} bytes is not a whole number of {size}-byte records "
            f"(partial record in the decompressed data)", offset=whole,
        )  # fmt: skip
    return rec.iter_unpack(payload)


def _f32_text(v: float) -> str:
    return np.format_float_positional(np.float32(v), trim="-")


def _tick_context(path: Path) -> tuple[str, int]:
    m = _TICK_PATH.search(path.as_posix())
    if m is None:
        raise DataFormatError(path, "tick file path must end with <SYMBOL>/<YYYY>/<MM 0-based>/<DD>/<HH>h_ticks.bi5")
    sym, y, mo, d, h = m.groups()
    try:
        day = date(int(y), int(mo) + 1, int(d))
    except ValueError:
        raise DataFormatError(path, f"invalid date in path: {y}/{mo} (0-based)/{d}") from None
    if int(h) > 23:
        raise DataFormatError(path, f"invalid hour {h} in path")
    start = ((day - date(1970, 1, 1)).days * 86_400 + int(h) * 3600) * NS_PER_S
    return sym.upper(), start


def iter_ticks(
    path: str | Path, *, instrument_id: InstrumentId | str | None = None, point: str | None = None,
    size_precision: int | None = None,
) -> Iterator[QuoteTick]:  # fmt: skip
    """Stream the ticks of an hourly ``.bi5`` tick file as `QuoteTick` (UTC).

    Parameters
    ----------
    path : str | Path
        ``.../<SYMBOL>/<YYYY>/<MM>/<DD>/<HH>h_ticks.bi5`` (month 0-based); the hour comes from the path.
    instrument_id : InstrumentId | str | None
        Default ``<SYMBOL>.DUKASCOPY``.
    point : str | None
        Price of one integer unit (default from :func:`point_value`); sets the price precision.
    size_precision : int | None
        Decimals of the volumes (default: the most decimals among the file's float32 volumes).

    Raises
    ------
    DataFormatError
        Bad path, corrupt/truncated LZMA (compressed byte offset), partial record (decompressed
        offset), a time offset outside the hour or going backwards (record's decompressed offset).
    """
    path = Path(path)
    sym, start = _tick_context(path)
    payload = decompress(path)
    if not payload:
        return
    iid = InstrumentId(str(instrument_id)) if instrument_id else InstrumentId.from_parts(sym, "DUKASCOPY")
    pt = point or point_value(sym)
    pp = decimals(pt)
    pt_raw = parse_raw(pt)
    recs = list(_records(path, payload, TICK))
    vols = [(_f32_text(av), _f32_text(bv)) for _, _, _, av, bv in recs]
    if size_precision is None:
        size_precision = min(max((max(decimals(a), decimals(b)) for a, b in vols), default=0), FIXED_PRECISION)
    sp = size_precision
    prev = -1
    for i, (ms, ask, bid, _, _) in enumerate(recs):
        if ms >= 3_600_000 or ms < prev:
            why = "outside the hour" if ms >= 3_600_000 else f"before the previous tick ({prev} ms)"
            raise DataFormatError(path, f"tick time offset {ms} ms {why}", offset=i * TICK.size)
        prev = ms
        ts = start + ms * NS_PER_MS
        av, bv = vols[i]
        yield QuoteTick(
            iid, Price.from_raw(bid * pt_raw, pp), Price.from_raw(ask * pt_raw, pp),
            _qty(bv, sp, path, i * TICK.size), _qty(av, sp, path, i * TICK.size), ts, ts,
        )  # fmt: skip


def _qty(text: str, sp: int, path: Path, offset: int) -> Quantity:
    from decimal import ROUND_HALF_EVEN, Decimal

    d = Decimal(text)
    if d < 0:
        raise DataFormatError(path, f"negative volume {text}", offset=offset)
    q = d.quantize(Decimal(1).scaleb(-sp), rounding=ROUND_HALF_EVEN)
    return Quantity.from_raw(int(q.scaleb(FIXED_PRECISION)), sp)


def _candle_context(path: Path) -> tuple[str, PriceType, str, int]:
    m = _CANDLE_NAME.match(path.name)
    if m is None:
        raise DataFormatError(path, "candle file must be named <BID|ASK>_candles_<min|hour|day>_1.bi5")
    side, unit = m.group(1).upper(), m.group(2).lower()
    parts = path.parent.parts
    need = {"min": 4, "hour": 3, "day": 2}[unit]  # symbol + y [+ m [+ d]]
    if len(parts) < need:
        raise DataFormatError(path, "path too short to hold the symbol and the period")
    tail = parts[-need:]
    sym = tail[0].upper()
    try:
        y = int(tail[1])
        mo = int(tail[2]) + 1 if unit in ("min", "hour") else 1
        d = int(tail[3]) if unit == "min" else 1
        start_day = date(y, mo, d)
    except (ValueError, IndexError):
        raise DataFormatError(path, f"cannot read the period from {'/'.join(tail)} (months are 0-based)") from None
    start = (start_day - date(1970, 1, 1)).days * 86_400 * NS_PER_S
    return sym, PriceType.BID if side == "BID" else PriceType.ASK, unit, start


def candle_bar_type(path: str | Path, instrument_id: InstrumentId | str | None = None) -> BarType:
    """``<SYMBOL>.DUKASCOPY-1-<MINUTE|HOUR|DAY>-<BID|ASK>`` for a candle file."""
    sym, side, unit, _ = _candle_context(Path(path))
    iid = InstrumentId(str(instrument_id)) if instrument_id else InstrumentId.from_parts(sym, "DUKASCOPY")
    return BarType(iid, BarSpecification(1, _UNIT_AGG[unit], side))


def iter_candles(
    path: str | Path, *, bar_type: BarType | None = None, point: str | None = None,
    price_precision: int | None = None, size_precision: int | None = None,
) -> Iterator[Bar]:  # fmt: skip
    """Stream a ``<BID|ASK>_candles_<min|hour|day>_1.bi5`` file as `Bar` (``ts_event`` = candle close).

    Records are (seconds offset, open, close, low, high, volume); the offset counts from the period
    start given by the folder (day / 0-based month / year).

    Raises
    ------
    DataFormatError
        Bad name/path, corrupt/truncated LZMA, partial record, inconsistent OHLC (offset named).
    """
    path = Path(path)
    sym, side, unit, start = _candle_context(path)
    bar_type = bar_type or candle_bar_type(path)
    payload = decompress(path)
    pt = point or point_value(sym)
    pp = decimals(pt) if price_precision is None else price_precision
    pt_raw = parse_raw(pt)
    recs = list(_records(path, payload, CANDLE))
    vols = [_f32_text(r[5]) for r in recs]
    if size_precision is None:
        size_precision = min(max((decimals(v) for v in vols), default=0), FIXED_PRECISION)
    interval = _UNIT_NS[unit]
    for i, (secs, o, c, lo, hi, _) in enumerate(recs):
        off = i * CANDLE.size
        if not (lo <= min(o, c) and hi >= max(o, c)):
            raise DataFormatError(path, f"inconsistent candle o={o} c={c} l={lo} h={hi} (points)", offset=off)
        raws = [x * pt_raw for x in (o, hi, lo, c)]
        if any(r % (FIXED_SCALAR // 10**pp) for r in raws):
            raise DataFormatError(path, f"price has more decimals than precision {pp}", offset=off)
        ts = start + secs * NS_PER_S + interval
        po, ph, pl, pc = (Price.from_raw(r, pp) for r in raws)
        yield Bar(bar_type, po, ph, pl, pc, _qty(vols[i], size_precision, path, off), ts, ts)


def iter_bi5(path: str | Path, **kw) -> Iterator[QuoteTick | Bar]:
    """Dispatch a ``.bi5`` file: candles by name (``*_candles_*``), else hourly ticks."""
    if _CANDLE_NAME.match(Path(path).name):
        return iter_candles(path, **kw)
    if Path(path).stat().st_size == 0:
        return iter(())
    return iter_ticks(path, **kw)
