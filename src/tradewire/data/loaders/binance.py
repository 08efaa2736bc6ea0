"""Binance market data recordings -> tradewire model objects (streaming).

Two formats:

* **Raw combined-stream captures** (the layout hftbacktest records): a gzip or plain text file, one
  message per line, ``<local_receive_ns> <json>``. The JSON is either a combined-stream envelope
  ``{"stream": ..., "data": {...}}`` holding a ``depthUpdate`` (spot ``depth@100ms`` with ``U``/``u``;
  USD-M futures ``depth@0ms`` with ``U``/``u``/``pu``), ``bookTicker``, ``trade`` or ``aggTrade``, or a
  bare REST ``GET /depth`` snapshot ``{"lastUpdateId": ..., "bids": ..., "asks": ...}``.
  Read with :func:`iter_binance_stream`.
* **Depth CSVs** (``symbol,timestamp,first_update_id,last_update_id,side,update_type,price,qty,pu``),
  rows of one message sharing their ids; ``update_type`` ``snap`` or ``set``. Read with
  :func:`iter_binance_depth_csv`.

Both yield records in file order, one message at a time (never the whole file):
:class:`BinanceDepthSnapshot`, :class:`BinanceDepthDiff`, :class:`BinanceBookTicker` and
:class:`~tradewire.model.data.TradeTick`. Feed the depth records to
:func:`replay_depth` / :class:`tradewire.data.sync.SyncedOrderBook` to build a book under the venue's
sequence rules.

Timestamps: ``ts_event`` is the venue time -- transaction time ``T`` when present, else event time
``E`` (ms -> ns); spot ``bookTicker`` messages and spot REST snapshots carry neither, so their
``ts_event`` is the local receive time. ``ts_init`` is the local receive time (ns) of the line; the
CSVs have no receive time, so there ``ts_init == ts_event``.

Field meanings follow the Binance Spot and USD-M Futures "Websocket Market Streams" docs
("Diff. Depth Stream", "Individual Symbol Book Ticker Streams", "Trade Streams", "Aggregate Trade
Streams"): ``m`` is "is the buyer the market maker?", so ``m == true`` means the seller was the
aggressor.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tradewire.data.book import OrderBook
from tradewire.data.sync import (
    BinanceFuturesSynchronizer,
    BinanceSpotSynchronizer,
    BookSynchronizer,
    SequenceGap,
    SyncedOrderBook,
)
from tradewire.model.data import OrderBookDelta, QuoteTick, TradeTick
from tradewire.model.enums import AggressorSide, BookAction, BookSide
from tradewire.model.identifiers import InstrumentId, TradeId
from tradewire.model.objects import FIXED_PRECISION, Price, Quantity, parse_raw

from .errors import DataFormatError

try:  # orjson parses these lines ~3x faster; the stdlib gives identical results
    from orjson import loads as _loads
except ImportError:  # pragma: no cover
    _loads = json.loads

_NS_PER_MS = 1_000_000
_F_LAST = OrderBookDelta.F_LAST
_F_SNAPSHOT = OrderBookDelta.F_SNAPSHOT


@dataclass(frozen=True, slots=True)
class BinanceDepthSnapshot:
    """A REST depth snapshot as deltas: CLEAR, then one ADD per level; all flagged ``F_SNAPSHOT``.

    The last delta also has ``F_LAST``; every delta's ``sequence`` is ``last_update_id``.
    ``line`` is the 1-based source line (first row for CSVs).
    """

    last_update_id: int
    deltas: tuple[OrderBookDelta, ...]
    ts_event: int
    ts_init: int
    line: int


@dataclass(frozen=True, slots=True)
class BinanceDepthDiff:
    """One diff-depth message (``depthUpdate``) as UPDATE/DELETE deltas (size 0 -> DELETE).

    Attributes
    ----------
    first_update_id, final_update_id : int
        Binance ``U`` and ``u``.
    prev_final_update_id : int | None
        Futures ``pu``; None on spot.
    deltas : tuple[OrderBookDelta, ...]
        Bids then asks in message order; the last has ``F_LAST``; ``sequence == u``. Empty if the
        message changed no level.
    """

    first_update_id: int
    final_update_id: int
    prev_final_update_id: int | None
    deltas: tuple[OrderBookDelta, ...]
    ts_event: int
    ts_init: int
    line: int


@dataclass(frozen=True, slots=True)
class BinanceBookTicker:
    """A ``bookTicker`` message: the quote plus its order book ``update_id`` (``u``)."""

    update_id: int
    quote: QuoteTick
    line: int


BinanceRecord = BinanceDepthSnapshot | BinanceDepthDiff | BinanceBookTicker | TradeTick


class _Parser:
    """Turns decoded JSON messages into records for one instrument."""

    def __init__(self, instrument_id: InstrumentId, price_precision: int | None, size_precision: int | None) -> None:
        self.instrument_id = instrument_id
        self.pp = price_precision
        self.sp = size_precision

    def _prec(self, text: str, fixed: int | None) -> int:
        if fixed is not None:
            return fixed
        return min(len(text) - text.index(".") - 1, FIXED_PRECISION) if "." in text else 0

    def price(self, text: str) -> Price:
        return Price.from_raw(parse_raw(text), self._prec(text, self.pp))

    def qty(self, text: str) -> Quantity:
        raw = parse_raw(text)
        if raw < 0:
            raise ValueError(f"negative quantity {text!r}")
        return Quantity.from_raw(raw, self._prec(text, self.sp))

    def levels(
        self, bids: list, asks: list, flags: int, seq: int, te: int, ti: int, snapshot: bool
    ) -> list[OrderBookDelta]:
        iid = self.instrument_id
        out: list[OrderBookDelta] = []
        for side, levels in ((BookSide.BID, bids), (BookSide.ASK, asks)):
            for p, q in levels:
                size = self.qty(q)
                if snapshot:
                    if not size.raw:
                        continue
                    action = BookAction.ADD
                else:
                    action = BookAction.UPDATE if size.raw else BookAction.DELETE
                out.append(OrderBookDelta(iid, action, side, self.price(p), size, flags, seq, te, ti))
        if out:
            last = out[-1]
            last.flags |= _F_LAST
        return out

    def snapshot(self, last_id: int, bids: list, asks: list, te: int, ti: int, line: int) -> BinanceDepthSnapshot:
        zero_p = Price.from_raw(0, self.pp or 0)
        zero_q = Quantity.from_raw(0, self.sp or 0)
        clear = OrderBookDelta(
            self.instrument_id, BookAction.CLEAR, BookSide.BID, zero_p, zero_q, _F_SNAPSHOT, last_id, te, ti
        )
        deltas = [clear, *self.levels(bids, asks, _F_SNAPSHOT, last_id, te, ti, snapshot=True)]
        if len(deltas) == 1:
            clear.flags |= _F_LAST
        return BinanceDepthSnapshot(last_id, tuple(deltas), te, ti, line)

    def message(self, msg: dict, ti: int, line: int) -> BinanceRecord | None:
        data = msg.get("data")
        if data is None:
            if "lastUpdateId" in msg:
                te = int(msg.get("T") or msg.get("E") or 0) * _NS_PER_MS or ti
                return self.snapshot(int(msg["lastUpdateId"]), msg["bids"], msg["asks"], te, ti, line)
            raise ValueError("neither a combined-stream message nor a depth snapshot")
        event = data.get("e")
        if event == "depthUpdate":
            te = int(data.get("T") or data["E"]) * _NS_PER_MS
            u = int(data["u"])
            pu = data.get("pu")
            deltas = self.levels(data["b"], data["a"], 0, u, te, ti, snapshot=False)
            return BinanceDepthDiff(int(data["U"]), u, None if pu is None else int(pu), tuple(deltas), te, ti, line)
        if event == "bookTicker" or (event is None and "b" in data and "A" in data):
            te = int(data.get("T") or data.get("E") or 0) * _NS_PER_MS or ti
            quote = QuoteTick(
                self.instrument_id,
                self.price(data["b"]),
                self.price(data["a"]),
                self.qty(data["B"]),
                self.qty(data["A"]),
                te,
                ti,
            )
            return BinanceBookTicker(int(data["u"]), quote, line)
        if event == "trade" or event == "aggTrade":
            te = int(data.get("T") or data["E"]) * _NS_PER_MS
            m = data["m"]
            if not isinstance(m, bool):
                raise ValueError(f"field 'm' must be true/false, got {m!r}")
            tid = data["t"] if event == "trade" else data["a"]
            return TradeTick(
                self.instrument_id,
                self.price(data["p"]),
                self.qty(data["q"]),
                AggressorSide.SELLER if m else AggressorSide.BUYER,
                TradeId(str(tid)),
                te,
                ti,
            )
        return None


def iter_binance_stream(
    path: str | Path,
    instrument_id: InstrumentId | str,
    price_precision: int | None = None,
    size_precision: int | None = None,
) -> Iterator[BinanceRecord]:
    """Stream a raw Binance combined-stream capture (``<local_recv_ns> <json>`` lines).

    Parameters
    ----------
    path : str | Path
        Gzip (detected by magic bytes) or plain text.
    instrument_id : InstrumentId | str
        Instrument the records are tagged with (the capture holds one symbol).
    price_precision, size_precision : int, optional
        Display precisions of the built ``Price``/``Quantity`` (raws are exact either way); by
        default the number of decimals written in each field (Binance spot writes 8).

    Yields
    ------
    BinanceDepthSnapshot | BinanceDepthDiff | BinanceBookTicker | TradeTick
        In file order. Messages of other event types are skipped; blank lines are skipped.

    Raises
    ------
    DataFormatError
        Naming the file and 1-based line for a malformed line (bad timestamp, bad JSON, missing or
        bad field), or the line reached when the gzip stream is truncated or corrupt.
    """
    parser = _Parser(InstrumentId(str(instrument_id)), price_precision, size_precision)
    path = Path(path)
    n = 0
    try:
        with _open_text(path) as fh:
            for n, text in enumerate(fh, 1):
                if not text.strip():
                    continue
                head, sep, body = text.partition(" ")
                try:
                    if not sep:
                        raise ValueError("expected '<local_recv_ns> <json>'")
                    ti = int(head)
                    msg = _loads(body)
                    if not isinstance(msg, dict):
                        raise ValueError("JSON value is not an object")
                    rec = parser.message(msg, ti, n)
                except (ValueError, KeyError, TypeError, IndexError) as exc:
                    what = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
                    raise DataFormatError(path, f"bad Binance stream line: {what}", line=n) from None
                if rec is not None:
                    yield rec
    except (EOFError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        raise DataFormatError(path, f"corrupt or truncated gzip stream after this line: {exc}", line=n + 1) from None


def _open_text(path: Path) -> io.TextIOBase:
    with path.open("rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


_CSV_COLUMNS = ["symbol", "timestamp", "first_update_id", "last_update_id", "side", "update_type", "price", "qty", "pu"]


def iter_binance_depth_csv(
    path: str | Path,
    instrument_id: InstrumentId | str,
    price_precision: int | None = None,
    size_precision: int | None = None,
) -> Iterator[BinanceDepthSnapshot | BinanceDepthDiff]:
    """Stream a Binance depth CSV (``update_type`` ``snap`` rows -> snapshot, ``set`` rows -> diffs).

    Consecutive rows with the same ``(update_type, first_update_id, last_update_id)`` form one
    message. ``timestamp`` is ms; ``pu`` of ``-1`` means none (spot, or snapshot rows).

    Raises
    ------
    DataFormatError
        On a wrong header, an unknown side/update type, or a bad number (file and line named).
    """
    parser = _Parser(InstrumentId(str(instrument_id)), price_precision, size_precision)
    path = Path(path)
    with _open_text(path) as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or [h.strip() for h in header] != _CSV_COLUMNS:
            raise DataFormatError(path, f"expected header {','.join(_CSV_COLUMNS)}, got {header}", line=1)
        key = None
        rows: list[tuple[str, str, str]] = []
        start = 0
        meta: tuple[int, int, int, int | None] = (0, 0, 0, None)
        for row in reader:
            line = reader.line_num
            if not row:
                continue
            try:
                if len(row) != 9:
                    raise ValueError(f"expected 9 columns, got {len(row)}")
                _, ts, first, last, side, kind, price, qty, pu = row
                if side not in ("b", "a"):
                    raise ValueError(f"side must be 'b' or 'a', got {side!r}")
                if kind not in ("snap", "set"):
                    raise ValueError(f"update_type must be 'snap' or 'set', got {kind!r}")
                k = (kind, first, last)
                if k != key:
                    if rows:
                        yield _csv_record(parser, key, rows, meta, start)
                    key, rows, start = k, [], line
                    pu_i = int(pu)
                    meta = (int(ts) * _NS_PER_MS, int(first), int(last), None if pu_i < 0 else pu_i)
                parse_raw(price), parse_raw(qty)  # validate here so the error names this line
                rows.append((side, price, qty))
            except ValueError as exc:
                raise DataFormatError(path, f"bad Binance depth CSV row: {exc}", line=line) from None
        if rows:
            yield _csv_record(parser, key, rows, meta, start)


def _csv_record(
    parser: _Parser, key, rows: list[tuple[str, str, str]], meta: tuple[int, int, int, int | None], line: int
) -> BinanceDepthSnapshot | BinanceDepthDiff:
    te, first, last, pu = meta
    bids = [(p, q) for s, p, q in rows if s == "b"]
    asks = [(p, q) for s, p, q in rows if s == "a"]
    if key[0] == "snap":
        return parser.snapshot(last, bids, asks, te, te, line)
    deltas = parser.levels(bids, asks, 0, last, te, te, snapshot=False)
    return BinanceDepthDiff(first, last, pu, tuple(deltas), te, te, line)


def replay_depth(
    records: Iterable[BinanceRecord],
    book: OrderBook,
    synchronizer: BookSynchronizer | None = None,
    futures: bool | None = None,
    on_gap: Callable[[SequenceGap], None] | None = None,
) -> Iterator[tuple[BinanceRecord, bool]]:
    """Drive ``book`` from depth records under Binance's sequence rules, yielding every record.

    Parameters
    ----------
    records : iterable
        Output of :func:`iter_binance_stream` or :func:`iter_binance_depth_csv`.
    book : OrderBook
        An L2 book; it is replaced on each snapshot.
    synchronizer : BookSynchronizer, optional
        Defaults to :class:`BinanceFuturesSynchronizer` when the first diff carries ``pu`` (or
        ``futures`` is True) else :class:`BinanceSpotSynchronizer`; a snapshot that comes before
        the first diff is applied to the book at once and registered with the synchronizer when
        the first diff decides which rule applies.
    futures : bool, optional
        Force the futures (True) or spot (False) rule when no ``synchronizer`` is given.
    on_gap : callable, optional
        Gap callback for a synchronizer created here (e.g. ``DataQualityMonitor.record_sequence_gap``).

    Yields
    ------
    (record, applied) : tuple
        ``applied`` is True when the record changed the book (a snapshot, or a diff that passed the
        rules, including buffered diffs released by a snapshot). Gaps go to ``on_gap`` and to
        ``synchronizer.gaps``.
    """
    synced: SyncedOrderBook | None = None if synchronizer is None else SyncedOrderBook(book, synchronizer)
    early_snapshot: BinanceDepthSnapshot | None = None  # a snapshot seen before the rule is known
    for rec in records:
        if isinstance(rec, BinanceDepthDiff):
            if synced is None:
                fut = futures if futures is not None else rec.prev_final_update_id is not None
                cls = BinanceFuturesSynchronizer if fut else BinanceSpotSynchronizer
                synced = SyncedOrderBook(book, cls(book.instrument_id, on_gap=on_gap))
                if early_snapshot is not None:
                    s = early_snapshot
                    synced.apply_snapshot(s.last_update_id, s.deltas, s.ts_event, s.ts_init)
            applied = synced.apply_diff(
                rec.first_update_id,
                rec.final_update_id,
                rec.prev_final_update_id,
                rec.deltas,
                rec.ts_event,
                rec.ts_init,
            )
            yield rec, applied
        elif isinstance(rec, BinanceDepthSnapshot):
            if synced is None and futures is None:
                # Spot or futures is only known from the first diff (``pu``): fill the book now, and
                # hand the snapshot's id to the synchronizer once it exists.
                early_snapshot = rec
                book.clear()
                book.apply_deltas(rec.deltas)
                book.sequence = rec.last_update_id
            else:
                if synced is None:
                    cls = BinanceFuturesSynchronizer if futures else BinanceSpotSynchronizer
                    synced = SyncedOrderBook(book, cls(book.instrument_id, on_gap=on_gap))
                synced.apply_snapshot(rec.last_update_id, rec.deltas, rec.ts_event, rec.ts_init)
            yield rec, True
        else:
            yield rec, False


__all__ = [
    "BinanceBookTicker",
    "BinanceDepthDiff",
    "BinanceDepthSnapshot",
    "BinanceRecord",
    "SequenceGap",
    "iter_binance_depth_csv",
    "iter_binance_stream",
    "replay_depth",
]
