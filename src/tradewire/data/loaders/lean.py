"""QuantConnect LEAN data zips: trade/quote bars (daily, hour, minute, second) and tick zips.

Layout (LEAN ``Data/<security_type>/<market>/<resolution>/<symbol>/...``):

- minute/second/hour zip ``YYYYMMDD_trade.zip`` holding ``YYYYMMDD_<sym>_<res>_<trade|quote>[_<contract>].csv``,
  rows ``ms since midnight, o, h, l, c, volume`` (trade) or
  ``ms, bid o, h, l, c, last bid size, ask o, h, l, c, last ask size`` (quote; a side can be empty).
- daily zip ``<sym>.zip`` (equity) or ``<sym>_trade.zip`` (futures: one CSV per contract
  ``<sym>_trade_<YYYYMM>.csv``), rows ``yyyyMMdd HH:mm, o, h, l, c, volume``.
- tick zip ``YYYYMMDD_trade.zip`` holding ``YYYYMMDD_<sym>_Trade_Tick.csv`` with rows
  ``ms, price, size, exchange, sale condition, suspicious``, or forex ``YYYYMMDD_<sym>_tick_quote.csv`` with
  rows ``ms, bid, ask``.

Security type and market come from the path (LEAN's directory names, or a file name such as
``equity_usa_daily_spy.zip``) or from the ``security_type``/``market`` arguments.

Units and time zones (LEAN's data conventions): equity (and option) prices are integers in 1/10000 of
a dollar; other types are plain decimals. Equity times are America/New_York wall-clock times
(converted to UTC here, DST-aware); crypto, forex and futures times are UTC. Bar times are the bar
**open**; tradewire stamps ``ts_event`` at the close (open + the resolution; a daily bar's period is
the local calendar day). A futures zip with several contracts yields every contract, merged in time
order, each as its own instrument ``<ROOT><month code><year digit>`` (``ESZ3`` for 201312).

Quote bars become two `Bar` series, ``...-BID`` and ``...-ASK``; their volume is LEAN's *last*
bid/ask size of the minute (LEAN stores no quote volume). An empty side yields no bar for that side.
"""

from __future__ import annotations

import heapq
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from tradewire.model.data import Bar, BarSpecification, BarType, QuoteTick, TradeTick
from tradewire.model.enums import AggressorSide, BarAggregation, PriceType
from tradewire.model.identifiers import InstrumentId, TradeId
from tradewire.model.objects import FIXED_PRECISION, Price, Quantity

from ._common import NEW_YORK, NS_PER_MS, UTC, local_day_offsets_ns, local_ms_to_utc_ns, text_decimals, text_raw
from .errors import DataFormatError

SECURITY_TYPES = ("equity", "option", "crypto", "future", "forex", "cfd")
_SCALED = {"equity", "option"}  # LEAN stores these prices as integers x 10000
_VENUES = {"usa": "SIM", "cme": "XCME", "coinbase": "COINBASE", "oanda": "OANDA", "fxcm": "FXCM", "binance": "BINANCE"}
_MONTH_CODES = "FGHJKMNQUVXZ"
_RES_NS = {"second": 1_000_000_000, "minute": 60_000_000_000, "hour": 3_600_000_000_000}
_RES_AGG = {"second": BarAggregation.SECOND, "minute": BarAggregation.MINUTE, "hour": BarAggregation.HOUR}

_INTRADAY = re.compile(r"^(\d{8})_([a-z0-9]+)_(second|minute|hour)_(trade|quote)(?:_(\d{6}))?\.csv$")
_TICK = re.compile(r"^(\d{8})_([a-z0-9]+)_(?:(trade|quote)_tick|tick_(trade|quote))(?:_(\d{6}))?\.csv$")
_DAILY = re.compile(r"^([a-z0-9]+?)(?:_(trade|quote))?(?:_(\d{6}))?\.csv$")


def _context(path: Path, security_type: str | None, market: str | None) -> tuple[str, str, str]:
    """(security_type, market, resolution) from the path, LEAN directory names or a fixture-style name."""
    tokens = [p.lower() for p in path.parts[:-1]] + path.stem.lower().split("_")
    st = security_type
    mk = market
    if st is None:
        for i, t in enumerate(tokens):
            if t in SECURITY_TYPES:
                st = t
                if mk is None and i + 1 < len(tokens):
                    mk = tokens[i + 1]
                break
    if st is None or st not in SECURITY_TYPES:
        raise DataFormatError(path, f"cannot tell the LEAN security type from the path: pass security_type= one of "
                                    f"{SECURITY_TYPES}")  # fmt: skip
    res = next((t for t in tokens if t in ("daily", "hour", "minute", "second", "tick")), "daily")
    return st, (mk or "usa"), res


def _contract_symbol(root: str, contract: str | None) -> str:
    if not contract:
        return root.upper()
    year, month = int(contract[:4]), int(contract[4:6])
    return f"{root.upper()}{_MONTH_CODES[month - 1]}{year % 10}"


class _Member:
    __slots__ = ("contract", "day", "kind", "name", "resolution", "symbol", "tick")

    def __init__(self, name: str, path: Path, default_res: str) -> None:
        low = name.lower()
        self.name = name
        self.tick = False
        self.day: date | None = None
        if m := _INTRADAY.match(low):
            d, self.symbol, self.resolution, self.kind, self.contract = m.groups()
            self.day = date(int(d[:4]), int(d[4:6]), int(d[6:]))
        elif m := _TICK.match(low):
            d, self.symbol, k1, k2, self.contract = m.groups()
            self.kind = k1 or k2
            self.resolution = "tick"
            self.tick = True
            self.day = date(int(d[:4]), int(d[4:6]), int(d[6:]))
        elif m := _DAILY.match(low):
            self.symbol, kind, self.contract = m.groups()
            self.kind = kind or "trade"
            self.resolution = default_res if default_res in ("daily", "hour") else "daily"
        else:
            raise DataFormatError(f"{path}!{name}", "not a LEAN data file name")


def _open(path: Path, security_type: str | None, market: str | None):
    st, mk, res = _context(path, security_type, market)
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise DataFormatError(path, f"not a readable zip archive ({exc})") from None
    members = [_Member(n, path, res) for n in zf.namelist() if not n.endswith("/")]
    return zf, members, st, mk


def _lines(zf: zipfile.ZipFile, path: Path, member: _Member) -> Iterator[tuple[int, list[str]]]:
    where = f"{path}!{member.name}"
    n = 0
    try:
        with zf.open(member.name) as raw:
            for n, line in enumerate(io.TextIOWrapper(raw, encoding="utf-8", newline=""), 1):
                line = line.rstrip("\r\n")
                if line:
                    yield n, line.split(",")
    except (zipfile.BadZipFile, EOFError, OSError, UnicodeDecodeError) as exc:
        raise DataFormatError(where, f"cannot read past this line: {exc}", line=n + 1) from None


def _value(text: str, scaled: bool) -> str:
    """Decimal text of a LEAN price field (undo the x10000 integer scaling for equities)."""
    if not scaled or not text:
        return text
    if text.isdigit():
        q, r = divmod(int(text), 10_000)
        if not r:
            return str(q)
        return f"{q}.{r:04d}".rstrip("0")
    neg = text.startswith("-")
    digits = text.lstrip("-").rjust(5, "0")
    out = (digits[:-4] + "." + digits[-4:]).rstrip("0").rstrip(".")
    return "-" + out if neg else out


class _Clock:
    """ms-since-midnight of a given day -> UTC ns, for the security type's data time zone."""

    def __init__(self, tz) -> None:
        self.tz = tz
        self._day: date | None = None
        self._start = 0
        self._fixed = True

    def set_day(self, day: date) -> None:
        self._day = day
        start, end = local_day_offsets_ns(day, self.tz)
        self._start = start
        self._fixed = end - start == 86_400_000_000_000

    def ts(self, ms: int) -> int:
        if self._fixed:
            return self._start + ms * NS_PER_MS
        return local_ms_to_utc_ns(self._day, ms, self.tz)  # DST change day

    def day_start(self, day: date) -> int:
        self.set_day(day)
        return self._start


def _instrument_id(member: _Member, market: str) -> InstrumentId:
    venue = _VENUES.get(market, market.upper())
    return InstrumentId.from_parts(_contract_symbol(member.symbol, member.contract), venue)


def _bar_types(member: _Member, market: str) -> list[BarType]:
    iid = _instrument_id(member, market)
    if member.resolution == "daily":
        step, agg = 1, BarAggregation.DAY
    else:
        step, agg = 1, _RES_AGG[member.resolution]
    if member.kind == "quote":
        return [BarType(iid, BarSpecification(step, agg, pt)) for pt in (PriceType.BID, PriceType.ASK)]
    return [BarType(iid, BarSpecification(step, agg, PriceType.LAST))]


def lean_bar_types(path: str | Path, *, security_type: str | None = None, market: str | None = None) -> list[BarType]:
    """The bar types a LEAN bar zip holds (one per contract and side), in member order."""
    path = Path(path)
    zf, members, _, mk = _open(path, security_type, market)
    zf.close()
    out: list[BarType] = []
    for m in members:
        if m.tick:
            raise DataFormatError(path, f"{m.name} holds ticks, not bars")
        out.extend(_bar_types(m, mk))
    return out


def _bar_rows(zf, path: Path, member: _Member, st: str, clock: _Clock):
    """Yield (where, line, ts_event, side_index, o, h, l, c, v) texts for one member."""
    scaled = st in _SCALED
    where = f"{path}!{member.name}"
    quote = member.kind == "quote"
    want = 11 if quote else 6
    if member.resolution == "daily":
        interval = None
    else:
        interval = _RES_NS[member.resolution]
        clock.set_day(member.day)
    for no, f in _lines(zf, path, member):
        if len(f) != want:
            raise DataFormatError(where, f"expected {want} fields, got {len(f)}", line=no)
        t = f[0]
        if interval is None:
            if len(t) < 8 or not t[:8].isdigit():
                raise DataFormatError(where, f"bad date {t!r}", line=no)
            try:
                d = date(int(t[:8][:4]), int(t[4:6]), int(t[6:8]))
            except ValueError:
                raise DataFormatError(where, f"bad date {t!r}", line=no) from None
            start = clock.day_start(d)
            end = start + 86_400_000_000_000 if clock._fixed else local_day_offsets_ns(d, clock.tz)[1]
            ts = end
        else:
            if not t.isdigit():
                raise DataFormatError(where, f"bad ms-since-midnight {t!r}", line=no)
            ts = clock.ts(int(t)) + interval
        sides = ((f[1:5], f[5]), (f[6:10], f[10])) if quote else ((f[1:5], f[5]),)
        for side, (ohlc, vol) in enumerate(sides):
            if quote and all(x == "" for x in ohlc):
                continue  # empty side
            yield where, no, ts, side, *(_value(x, scaled) for x in ohlc), vol


def iter_lean_bars(
    path: str | Path, *, bar_type: BarType | None = None, price_precision: int | None = None,
    size_precision: int | None = None, security_type: str | None = None, market: str | None = None,
) -> Iterator[Bar]:  # fmt: skip
    """Stream the bars of a LEAN trade/quote bar zip, all members merged in ``ts_event`` order.

    Parameters
    ----------
    path : str | Path
        The zip.
    bar_type : BarType | None
        Override the bar type; only allowed when the zip holds a single series.
    price_precision, size_precision : int | None
        Decimals; inferred from the data when None (significant decimals of the scaled equity
        integers, written decimals otherwise; float artefacts such as ``0.24126704999999998`` are
        rounded half-even to the inferred precision).
    security_type, market : str | None
        Override what the path says (``equity``/``usa``, ``future``/``cme``, ``crypto``/``coinbase``...).

    Raises
    ------
    DataFormatError
        Naming ``zip!member`` and the 1-based line, for a row with the wrong field count, a bad
        number or an inconsistent OHLC.
    """
    path = Path(path)
    zf, members, st, mk = _open(path, security_type, market)
    tz = NEW_YORK if st in _SCALED else UTC
    with zf:
        per_member = []
        for m in members:
            if m.tick:
                raise DataFormatError(
                    path, f"{m.name} holds ticks: use load(..., format='lean-zip') or iter_lean_ticks"
                )
            types = _bar_types(m, mk)
            if bar_type is not None:
                if len(types) != 1 or len(members) != 1:
                    raise ValueError(f"{path} holds several bar series; bar_type cannot be overridden")
                types = [bar_type]
            per_member.append((m, types))
        if price_precision is None or size_precision is None:
            p = s = 0
            for m, _ in per_member:
                for row in _bar_rows(zf, path, m, st, _Clock(tz)):
                    p = max(p, *(text_decimals(x) for x in row[4:8]))
                    s = max(s, text_decimals(row[8]))
            price_precision = min(p, FIXED_PRECISION) if price_precision is None else price_precision
            size_precision = min(s, FIXED_PRECISION) if size_precision is None else size_precision
        streams = [_member_bars(zf, path, m, types, st, tz, price_precision, size_precision) for m, types in per_member]
        yield from heapq.merge(*streams, key=lambda b: b.ts_event)


def _member_bars(zf, path, member, types, st, tz, pp, sp) -> Iterator[Bar]:
    for where, no, ts, side, o, h, lo, c, v in _bar_rows(zf, path, member, st, _Clock(tz)):
        ro, rh, rl, rc = (
            text_raw(x, pp, where, no, n) for x, n in ((o, "open"), (h, "high"), (lo, "low"), (c, "close"))
        )
        if rh < rl or rh < max(ro, rc) or rl > min(ro, rc):
            raise DataFormatError(where, f"inconsistent OHLC o={o} h={h} l={lo} c={c}", line=no)
        vraw = text_raw(v, sp, where, no, "volume")
        if vraw < 0:
            raise DataFormatError(where, f"negative volume {v}", line=no)
        yield Bar(
            types[side], Price.from_raw(ro, pp), Price.from_raw(rh, pp), Price.from_raw(rl, pp),
            Price.from_raw(rc, pp), Quantity.from_raw(vraw, sp), ts, ts,
        )  # fmt: skip


def _tick_rows(zf, path: Path, member: _Member, st: str, clock: _Clock):
    scaled = st in _SCALED
    where = f"{path}!{member.name}"
    clock.set_day(member.day)
    for no, f in _lines(zf, path, member):
        t = f[0]
        if not t.isdigit():
            raise DataFormatError(where, f"bad ms-since-midnight {t!r}", line=no)
        ts = clock.ts(int(t))
        if member.kind == "trade":
            if len(f) not in (3, 6):
                raise DataFormatError(where, f"trade tick needs 3 or 6 fields, got {len(f)}", line=no)
            suspicious = len(f) == 6 and f[5] == "1"
            yield where, no, ts, (_value(f[1], scaled), f[2]), suspicious
        else:
            if len(f) == 3:  # forex/cfd: ms, bid, ask (no sizes)
                yield where, no, ts, (_value(f[1], False), "0", _value(f[2], False), "0"), False
            elif len(f) in (5, 8):  # ms, bid, bid size, ask, ask size[, exchange, condition, suspicious]
                suspicious = len(f) == 8 and f[7] == "1"
                yield where, no, ts, (_value(f[1], scaled), f[2], _value(f[3], scaled), f[4]), suspicious
            else:
                raise DataFormatError(where, f"quote tick needs 3, 5 or 8 fields, got {len(f)}", line=no)


def iter_lean_ticks(
    path: str | Path, *, instrument_id: InstrumentId | None = None, price_precision: int | None = None,
    size_precision: int | None = None, drop_suspicious: bool = False, security_type: str | None = None,
    market: str | None = None,
) -> Iterator[TradeTick | QuoteTick]:  # fmt: skip
    """Stream the ticks of a LEAN tick zip (trades -> `TradeTick`, quotes -> `QuoteTick`).

    Trade ticks have no aggressor side on the US equity tape (``NO_AGGRESSOR``) and no trade id:
    the id is ``<yyyymmdd>-<line number>``. Forex quote ticks have no sizes (0). Rows flagged
    suspicious (last field ``1``) are kept unless ``drop_suspicious``. Times as in the module notes.

    Raises
    ------
    DataFormatError
        Naming ``zip!member`` and the line for a malformed row.
    """
    path = Path(path)
    zf, members, st, mk = _open(path, security_type, market)
    tz = NEW_YORK if st in _SCALED else UTC
    with zf:
        for m in members:
            if not m.tick:
                raise DataFormatError(path, f"{m.name} holds bars, not ticks")
        # one pass over the (one-day) members; precisions are inferred from the collected texts
        per_member = [(m, list(_tick_rows(zf, path, m, st, _Clock(tz)))) for m in members]
    if price_precision is None or size_precision is None:
        p = s = 0
        for _, rows in per_member:
            for _, _, _, vals, _ in rows:
                if len(vals) == 2:
                    p, s = max(p, text_decimals(vals[0])), max(s, text_decimals(vals[1]))
                else:
                    p = max(p, text_decimals(vals[0]), text_decimals(vals[2]))
                    s = max(s, text_decimals(vals[1]), text_decimals(vals[3]))
        price_precision = min(p, FIXED_PRECISION) if price_precision is None else price_precision
        size_precision = min(s, FIXED_PRECISION) if size_precision is None else size_precision
    pp, sp = price_precision, size_precision
    from_raw_p, from_raw_q = Price.from_raw, Quantity.from_raw
    no_aggressor = AggressorSide.NO_AGGRESSOR
    for m, rows in per_member:
        iid = instrument_id or _instrument_id(m, mk)
        day = m.day.strftime("%Y%m%d")
        for where, no, ts, vals, suspicious in rows:
            if suspicious and drop_suspicious:
                continue
            if len(vals) == 2:
                yield TradeTick(
                    iid, from_raw_p(text_raw(vals[0], pp, where, no, "price"), pp),
                    from_raw_q(text_raw(vals[1], sp, where, no, "size"), sp), no_aggressor,
                    TradeId(f"{day}-{no}"), ts, ts,
                )  # fmt: skip
            else:
                yield QuoteTick(
                    iid, from_raw_p(text_raw(vals[0], pp, where, no, "bid"), pp),
                    from_raw_p(text_raw(vals[2], pp, where, no, "ask"), pp),
                    from_raw_q(text_raw(vals[1], sp, where, no, "bid size"), sp),
                    from_raw_q(text_raw(vals[3], sp, where, no, "ask size"), sp), ts, ts,
                )  # fmt: skip


def is_tick_zip(path: str | Path) -> bool:
    """True if a LEAN zip holds tick files (``*_Trade_Tick.csv``, ``*_tick_quote.csv``)."""
    with zipfile.ZipFile(path) as zf:
        return any(_TICK.match(n.lower()) for n in zf.namelist())


def iter_lean(path: str | Path, **kw) -> Iterator[Bar | TradeTick | QuoteTick]:
    """Stream a LEAN zip: bars for bar zips (`iter_lean_bars`), ticks for tick zips (`iter_lean_ticks`)."""
    if is_tick_zip(path):
        return iter_lean_ticks(path, **kw)
    return iter_lean_bars(path, **kw)
