"""Quote and trade tick loaders: TrueFX and HistData FX CSVs, Kraken REST trades, freqtrade trade
dumps (CSV, JSON/JSON.gz) and Binance spot trade/quote Parquet files. Tardis CSVs are in `tardis`,
LEAN tick zips in `lean`, the Coinbase WS capture in `coinbase`.

Aggressor side conventions (venue docs):

- Binance ``m``/``buyer_maker`` ("is the buyer the market maker?"): true -> the seller was the
  aggressor (``SELLER``); Binance Spot API docs, "Aggregate Trade Streams" / "Trade Streams".
- ccxt/freqtrade ``side``: the taker's side (ccxt manual, "Trade structure").
- Kraken ``/0/public/Trades``: ``b``/``s`` is the taker's side (Kraken REST API, "Get Recent Trades").

Times: HistData ASCII ticks are in EST **without** daylight saving all year (HistData FAQ), so
UTC = EST + 5 h on every date. TrueFX timestamps carry their offset. FX quotes have no sizes
(0). Binary floats (Parquet doubles, JSON numbers) are read through their shortest decimal text
(JSON is parsed with ``Decimal`` numbers, so no float is involved at all there).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from tradewire.model.data import QuoteTick, TradeTick
from tradewire.model.enums import AggressorSide
from tradewire.model.identifiers import InstrumentId, TradeId

from ._common import NS_PER_MS, NS_PER_S, column_indexes, csv_fields, float_text, iter_lines, parse_iso_ns, read_bytes
from ._rows import Maker, precisions
from .errors import DataFormatError

_FX = {"EUR", "USD", "JPY", "GBP", "CHF", "AUD", "NZD", "CAD", "SEK", "NOK", "XAU", "XAG"}
_CRYPTO_QUOTES = ("usdt", "busd", "usdc", "fdusd", "btc", "eth", "bnb")
EST_OFFSET_NS = 5 * 3600 * NS_PER_S


def fx_pair_from_name(path: Path) -> str | None:
    """A 6-letter FX pair token in a file name (``histdata_eurusd_...`` -> ``EURUSD``), else None."""
    for token in re.split(r"[_.\-]", path.name.upper()):
        if len(token) == 6 and token[:3] in _FX and token[3:] in _FX:
            return token
    return None


def crypto_symbol_from_name(path: Path) -> str | None:
    """A crypto pair token in a file name (``binance_spot_btcusdt-trades`` -> ``BTCUSDT``), else None."""
    for token in re.split(r"[_.\-]", path.name.lower()):
        if (
            token.isalpha() and token not in _CRYPTO_QUOTES and token.endswith(_CRYPTO_QUOTES) and len(token) > 4
            and token not in ("binance", "trades", "quotes")
        ):  # fmt: skip
            return token.upper()
    return None


def _iid(given: InstrumentId | str | None, derived: str | None, path: Path) -> InstrumentId:
    if given is not None:
        return InstrumentId(str(given))
    if derived is None:
        raise ValueError(f"cannot tell the instrument from {path.name}: pass instrument_id=")
    return InstrumentId(derived)


# --- FX quote CSVs -----------------------------------------------------------------------------------


def _truefx_rows(path: Path) -> Iterator[tuple]:
    lines = iter_lines(path)
    _, header = next(lines, (1, ""))
    cols = [c.strip() for c in header.split(",")]
    if cols != ["timestamp", "bid", "ask"]:
        bad = [c for c in cols if c not in ("timestamp", "bid", "ask")]
        raise DataFormatError(path, f"unknown column {bad[0]!r}" if bad else "expected timestamp,bid,ask", line=1)
    for no, line in lines:
        if not line:
            continue
        f = line.split(",")
        if len(f) != 3:
            raise DataFormatError(path, f"expected 3 fields, got {len(f)}", line=no)
        ts, _ = parse_iso_ns(f[0], path, no)
        yield no, ts, f[1], f[2]


def iter_truefx(
    path: str | Path, *, instrument_id: InstrumentId | str | None = None, price_precision: int | None = None,
) -> Iterator[QuoteTick]:  # fmt: skip
    """Stream a TrueFX-style ``timestamp,bid,ask`` CSV as `QuoteTick` (sizes 0).

    The instrument defaults to ``<PAIR>.SIM`` from a pair in the file name (``usdjpy`` -> ``USDJPY.SIM``).

    Raises
    ------
    DataFormatError
        Wrong header or field count, bad timestamp or price, bid above ask (file and line named).
    """
    path = Path(path)
    iid = _iid(instrument_id, (p := fx_pair_from_name(path)) and f"{p}.SIM", path)
    pp, _ = precisions(lambda: _truefx_rows(path), (2, 3), (), price_precision, 0)
    yield from _fx_quotes(path, _truefx_rows(path), iid, Maker(path, pp, 0))


def _fx_quotes(path: Path, rows: Iterator[tuple], iid: InstrumentId, mk: Maker) -> Iterator[QuoteTick]:
    zero = mk.size("0", None)
    for no, ts, bid, ask in rows:
        b, a = mk.price(bid, no, "bid"), mk.price(ask, no, "ask")
        if b.raw > a.raw:
            raise DataFormatError(path, f"bid {bid} above ask {ask}", line=no)
        yield QuoteTick(iid, b, a, zero, zero, ts, ts)


_HISTDATA_ROW = re.compile(r"^(\d{8}) (\d{2})(\d{2})(\d{2})(\d{3})$")


def _histdata_rows(path: Path) -> Iterator[tuple]:
    from ._common import date_ns

    for no, line in iter_lines(path):
        if not line:
            continue
        f = line.split(",")
        if len(f) != 4:
            raise DataFormatError(
                path, f"HistData tick row needs 4 fields (time,bid,ask,volume), got {len(f)}", line=no
            )
        m = _HISTDATA_ROW.match(f[0])
        if m is None:
            raise DataFormatError(path, f"bad time {f[0]!r} (expected 'YYYYMMDD HHMMSSfff')", line=no)
        d, hh, mm, ss, ms = m.groups()
        try:
            day = date_ns(d)
        except ValueError:
            raise DataFormatError(path, f"bad date {d!r}", line=no) from None
        if int(hh) > 23 or int(mm) > 59 or int(ss) > 59:
            raise DataFormatError(path, f"bad time {f[0]!r}", line=no)
        est = day + (int(hh) * 3600 + int(mm) * 60 + int(ss)) * NS_PER_S + int(ms) * NS_PER_MS
        yield no, est + EST_OFFSET_NS, f[1], f[2]


def iter_histdata(
    path: str | Path, *, instrument_id: InstrumentId | str | None = None, price_precision: int | None = None,
) -> Iterator[QuoteTick]:  # fmt: skip
    """Stream a HistData.com ASCII tick CSV (no header: ``YYYYMMDD HHMMSSfff,bid,ask,volume``).

    Times are EST without DST: UTC = EST + 5 h on every date (HistData FAQ, "What time zone are
    your data in?"). The volume column is always 0 and is ignored; sizes are 0. The instrument
    defaults to ``<PAIR>.SIM`` from the file name.

    Raises
    ------
    DataFormatError
        Bad field count, time, price, or bid above ask (file and line named).
    """
    path = Path(path)
    iid = _iid(instrument_id, (p := fx_pair_from_name(path)) and f"{p}.SIM", path)
    pp, _ = precisions(lambda: _histdata_rows(path), (2, 3), (), price_precision, 0)
    yield from _fx_quotes(path, _histdata_rows(path), iid, Maker(path, pp, 0))


# --- Kraken ----------------------------------------------------------------------------------------

_KRAKEN_SIDES = {"b": AggressorSide.BUYER, "s": AggressorSide.SELLER}


def _decimal_ns(value: Decimal) -> int:
    return int(value.scaleb(9).to_integral_value(rounding="ROUND_FLOOR"))


def iter_kraken_trades(
    path: str | Path, *, instrument_id: InstrumentId | str | None = None, price_precision: int | None = None,
    size_precision: int | None = None,
) -> Iterator[TradeTick]:  # fmt: skip
    """Stream a Kraken REST ``/0/public/Trades`` response as `TradeTick`.

    Entries ``[price, volume, time, side, ordertype, misc, trade_id]``: ``time`` is seconds with a
    fraction, read as an exact decimal and floored to ns; ``side`` ``b``/``s`` = taker side.
    The instrument defaults to ``<pair>.KRAKEN``.

    Raises
    ------
    DataFormatError
        Invalid JSON, an error response, or a malformed entry (its record index named).
    """
    path = Path(path)
    try:
        doc = json.loads(read_bytes(path), parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise DataFormatError(path, f"invalid JSON: {exc.msg}", line=exc.lineno) from None
    if doc.get("error"):
        raise DataFormatError(path, f"Kraken error response {doc['error']}")
    pairs = [k for k in doc.get("result", {}) if k != "last"]
    if len(pairs) != 1:
        raise DataFormatError(path, f"expected one pair in 'result', found {pairs}")
    rows = doc["result"][pairs[0]]
    iid = _iid(instrument_id, f"{pairs[0]}.KRAKEN", path)
    for i, r in enumerate(rows):
        if not (isinstance(r, list) and len(r) == 7 and isinstance(r[0], str) and isinstance(r[1], str)):
            raise DataFormatError(
                path, f"trade entry must be [price,volume,time,side,type,misc,id], got {r!r}", record=i
            )
    pp, sp = precisions(
        lambda: ((i, r[0], r[1]) for i, r in enumerate(rows)), (1,), (2,), price_precision, size_precision
    )
    mk = Maker(path, pp, sp)
    for i, (px, vol, t, side, _otype, _misc, tid) in enumerate(rows):
        agg = _KRAKEN_SIDES.get(side)
        if agg is None or not isinstance(t, (int, Decimal)):
            raise DataFormatError(path, f"bad side {side!r} or time {t!r}", record=i)
        ts = _decimal_ns(Decimal(t))
        yield TradeTick(
            iid, mk.price(px, None, record=i), mk.size(vol, None, "volume", record=i), agg, TradeId(str(tid)), ts, ts
        )


# --- freqtrade -------------------------------------------------------------------------------------

_CCXT_SIDES = {"buy": AggressorSide.BUYER, "sell": AggressorSide.SELLER}
_FT_COLUMNS = ["", "timestamp", "id", "type", "side", "price", "amount", "cost", "date"]


def _ft_csv_rows(path: Path) -> Iterator[tuple]:
    lines = iter_lines(path)
    _, header = next(lines, (1, ""))
    cols = header.split(",")
    known = set(_FT_COLUMNS)
    for c in cols:
        if c not in known:
            raise DataFormatError(path, f"unknown column {c!r}", line=1)
    i_t, i_id, i_s, i_p, i_a = column_indexes(path, cols, ("timestamp", "id", "side", "price", "amount"))
    n = len(cols)
    for no, f in csv_fields(path, lines, n):
        if not f[i_t].isdigit():
            raise DataFormatError(path, f"bad timestamp {f[i_t]!r} (epoch ms)", line=no)
        yield no, int(f[i_t]) * NS_PER_MS, f[i_id], f[i_s], f[i_p], f[i_a]


def iter_freqtrade_trades_csv(
    path: str | Path, *, instrument_id: InstrumentId | str | None = None, price_precision: int | None = None,
    size_precision: int | None = None,
) -> Iterator[TradeTick]:  # fmt: skip
    """Stream a freqtrade trades CSV (``,timestamp,id,type,side,price,amount,cost,date``) as `TradeTick`.

    ``side`` is the taker side (ccxt). These files do not name the pair: pass ``instrument_id``
    unless the file name contains one.

    Raises
    ------
    DataFormatError
        Unknown/missing column, bad field count, number or side (file and line named).
    ValueError
        If no instrument can be determined.
    """
    path = Path(path)
    iid = _iid(instrument_id, (s := crypto_symbol_from_name(path)) and f"{s}.SIM", path)
    pp, sp = precisions(lambda: _ft_csv_rows(path), (4,), (5,), price_precision, size_precision)
    mk = Maker(path, pp, sp)
    for no, ts, tid, side, px, amt in _ft_csv_rows(path):
        agg = _CCXT_SIDES.get(side)
        if agg is None:
            raise DataFormatError(path, f"unknown side {side!r}", line=no)
        yield TradeTick(iid, mk.price(px, no), mk.size(amt, no, "amount"), agg, TradeId(tid), ts, ts)


def _dec_text(v: object) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return float_text(v)
    raise TypeError(f"not a number: {v!r}")


def iter_freqtrade_trades_json(
    path: str | Path, *, instrument_id: InstrumentId | str | None = None, price_precision: int | None = None,
    size_precision: int | None = None,
) -> Iterator[TradeTick]:  # fmt: skip
    """Stream a freqtrade/ccxt trade list (``.json`` or ``.json.gz``) as `TradeTick`.

    When an item keeps the raw Binance aggTrade in ``info`` (``a, p, q, T, m``) those exact fields
    are used: price ``p``, quantity ``q``, time ``T`` (ms), id ``a``, and ``m`` (buyer is maker) ->
    aggressor ``SELLER``; the instrument then defaults to ``<BASE><QUOTE>.BINANCE`` from ``symbol``.
    Otherwise the ccxt fields ``price, amount, timestamp, side, id`` are used (``<BASE><QUOTE>.SIM``).

    Raises
    ------
    DataFormatError
        Invalid JSON or a malformed item (record index named).
    """
    path = Path(path)
    try:
        doc = json.loads(read_bytes(path), parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise DataFormatError(path, f"invalid JSON: {exc.msg}", line=exc.lineno) from None
    if not isinstance(doc, list):
        raise DataFormatError(path, "expected a JSON list of trades")
    rows = []
    for i, t in enumerate(doc):
        try:
            info = t.get("info") if isinstance(t.get("info"), dict) else None
            if info is not None and {"a", "p", "q", "T", "m"} <= set(info):
                agg = AggressorSide.SELLER if info["m"] else AggressorSide.BUYER
                rows.append(
                    (i, int(info["T"]) * NS_PER_MS, str(info["a"]), agg, info["p"], info["q"], t.get("symbol"), True)
                )
            else:
                agg = _CCXT_SIDES[t["side"]]
                rows.append((i, int(t["timestamp"]) * NS_PER_MS, str(t["id"]), agg, _dec_text(t["price"]),
                             _dec_text(t["amount"]), t.get("symbol"), False))  # fmt: skip
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataFormatError(path, f"malformed trade item ({exc!r})", record=i) from None
    pp, sp = precisions(lambda: iter(rows), (4,), (5,), price_precision, size_precision)
    mk = Maker(path, pp, sp)
    ids: dict[tuple[str | None, bool], InstrumentId] = {}
    for i, ts, tid, agg, px, qty, symbol, binance in rows:
        key = (symbol, binance)
        iid = ids.get(key)
        if iid is None:
            derived = f"{symbol.split(':')[0].replace('/', '')}.{'BINANCE' if binance else 'SIM'}" if symbol else None
            iid = ids[key] = _iid(instrument_id, derived, path)
        yield TradeTick(
            iid, mk.price(px, None, record=i), mk.size(qty, None, "amount", record=i), agg, TradeId(tid), ts, ts
        )


# --- Binance Parquet -------------------------------------------------------------------------------


def _parquet(path: Path, required: set[str]):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise DataFormatError(path, f"not a readable Parquet file ({exc})") from None
    names = set(table.column_names)
    if not required <= names:
        raise DataFormatError(path, f"missing columns {sorted(required - names)}")
    extra = names - required
    if extra:
        raise DataFormatError(path, f"unknown column {sorted(extra)[0]!r}")
    ts = table.column("timestamp").cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64()).to_pylist()
    return table, ts


def _float_col(table, name: str, path: Path) -> list[str]:
    out = []
    for i, v in enumerate(table.column(name).to_pylist()):
        if v is None:
            raise DataFormatError(path, f"null {name}", record=i)
        out.append(float_text(v) if isinstance(v, float) else str(v))
    return out


def iter_binance_trades_parquet(
    path: str | Path, *, instrument_id: InstrumentId | str | None = None, price_precision: int | None = None,
    size_precision: int | None = None,
) -> Iterator[TradeTick]:  # fmt: skip
    """Stream a Binance trades Parquet (``timestamp, trade_id, price, quantity, buyer_maker``).

    ``buyer_maker`` ``"True"`` -> aggressor ``SELLER``. Double columns go through their shortest text.
    The instrument defaults to ``<SYMBOL>.BINANCE`` from the file name.

    Raises
    ------
    DataFormatError
        Unreadable file, missing/unknown columns, nulls, or a bad ``buyer_maker`` (record index named).
    """
    path = Path(path)
    iid = _iid(instrument_id, (s := crypto_symbol_from_name(path)) and f"{s}.BINANCE", path)
    table, ts = _parquet(path, {"timestamp", "trade_id", "price", "quantity", "buyer_maker"})
    px, qty = _float_col(table, "price", path), _float_col(table, "quantity", path)
    ids, bm = table.column("trade_id").to_pylist(), table.column("buyer_maker").to_pylist()
    rows = list(zip(range(len(ts)), px, qty, strict=True))
    pp, sp = precisions(lambda: iter(rows), (1,), (2,), price_precision, size_precision)
    mk = Maker(path, pp, sp)
    for i, t in enumerate(ts):
        flag = str(bm[i])
        if flag not in ("True", "False", "true", "false"):
            raise DataFormatError(path, f"buyer_maker must be True/False, got {bm[i]!r}", record=i)
        agg = AggressorSide.SELLER if flag in ("True", "true") else AggressorSide.BUYER
        yield TradeTick(iid, mk.price(px[i], None, record=i), mk.size(qty[i], None, "quantity", record=i), agg,
                        TradeId(str(ids[i])), t, t)  # fmt: skip


def iter_binance_quotes_parquet(
    path: str | Path, *, instrument_id: InstrumentId | str | None = None, price_precision: int | None = None,
    size_precision: int | None = None,
) -> Iterator[QuoteTick]:  # fmt: skip
    """Stream a Binance top-of-book Parquet (``timestamp, symbol, ask_size, ask, bid_size, bid``).

    The instrument defaults to ``<BASE><QUOTE>.BINANCE`` from the ``symbol`` column (``BTC/USDT``).

    Raises
    ------
    DataFormatError
        Unreadable file, missing/unknown columns, nulls (record index named).
    """
    path = Path(path)
    table, ts = _parquet(path, {"timestamp", "symbol", "ask_size", "ask", "bid_size", "bid"})
    cols = {c: _float_col(table, c, path) for c in ("bid", "ask", "bid_size", "ask_size")}
    syms = table.column("symbol").to_pylist()
    rows = list(zip(range(len(ts)), cols["bid"], cols["ask"], cols["bid_size"], cols["ask_size"], strict=True))
    pp, sp = precisions(lambda: iter(rows), (1, 2), (3, 4), price_precision, size_precision)
    mk = Maker(path, pp, sp)
    cache: dict[str, InstrumentId] = {}
    for i, bid, ask, bsz, asz in rows:
        sym = syms[i]
        iid = cache.get(sym)
        if iid is None:
            iid = cache[sym] = _iid(instrument_id, f"{str(sym).replace('/', '')}.BINANCE" if sym else None, path)
        b, a = mk.price(bid, None, "bid", i), mk.price(ask, None, "ask", i)
        yield QuoteTick(iid, b, a, mk.size(bsz, None, "bid_size", i), mk.size(asz, None, "ask_size", i), ts[i], ts[i])
