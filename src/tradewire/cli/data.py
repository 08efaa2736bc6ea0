"""``tradewire data``: import recorded files into the Parquet catalog, list it, verify recordings.

Commands
--------
``tradewire data import FILE... [--catalog DIR] [--format F] [--instrument ID]``
    Load each file with the loader registry (:func:`tradewire.data.loaders.load`) and write the model
    objects to the catalog. Binance raw stream captures are turned into quotes, trades and order book
    deltas under the venue's sequence rules (see :func:`binance_model_objects`).
``tradewire data ls [--catalog DIR] [--json]``
    What the catalog holds: data type, instrument (bar type), first/last ``ts_event``, rows.
``tradewire data verify FILE [--format F] [--instrument ID] [--json]``
    Replay a recorded file and report counts, time span, deltas applied, sequence gaps, out-of-order
    updates, crossed-book events and, where a depth stream was recorded with its top-of-book stream,
    how often the rebuilt book's best bid/ask matches the recorded top of book.
"""

from __future__ import annotations

import itertools
import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from tradewire.data.book import OrderBook
from tradewire.data.catalog import ParquetDataCatalog
from tradewire.model.data import Bar, OrderBookDelta, QuoteTick, TradeTick
from tradewire.model.enums import BookAction, BookSide
from tradewire.model.identifiers import InstrumentId
from tradewire.model.objects import Price, Quantity

DEFAULT_CATALOG = Path("./tradewire-data/catalog")

data_app = typer.Typer(help="Market data: import files into the Parquet catalog, list it, verify recordings.")

_F_LAST = OrderBookDelta.F_LAST
#: Loader formats that yield Binance depth/bookTicker records rather than model objects.
BINANCE_RECORD_FORMATS = frozenset({"binance-ws-gz", "binance-depth-csv"})
_F_SNAP = OrderBookDelta.F_SNAPSHOT


def register(app: typer.Typer) -> None:
    """Add the ``data`` command group to the main ``tradewire`` app."""
    app.add_typer(data_app, name="data")


def _iso(ns: int | None) -> str | None:
    if ns is None:
        return None
    return datetime.fromtimestamp(ns // 10**9, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ns % 10**9:09d}Z"


def _records(path: Path, fmt: str | None, instrument: str | None) -> tuple[Iterator[Any], str]:
    """Open ``path`` with the loader registry; returns (iterator, format name)."""
    from tradewire.data import loaders

    name = fmt or loaders.detect_format(path)
    kw = {"instrument_id": instrument} if instrument else {}
    return loaders.load(path, format=name, **kw), name


# ---------------------------------------------------------------------- Binance records -> model objects
def _snapshot_batch(book: OrderBook, sequence: int, ts_event: int, ts_init: int) -> list[OrderBookDelta]:
    """The whole book as one snapshot batch: CLEAR, then an ADD per level; the last delta has F_LAST."""
    iid, pp, sp = book.instrument_id, book.price_precision, book.size_precision
    out = [OrderBookDelta(iid, BookAction.CLEAR, BookSide.BID, Price.from_raw(0, pp), Quantity.from_raw(0, sp),
                          _F_SNAP, sequence, ts_event, ts_init)]  # fmt: skip
    for side, levels in ((BookSide.BID, book.bids_raw()), (BookSide.ASK, book.asks_raw())):
        for px, sz in levels:
            out.append(OrderBookDelta(iid, BookAction.ADD, side, Price.from_raw(px, pp), Quantity.from_raw(sz, sp),
                                      _F_SNAP, sequence, ts_event, ts_init))  # fmt: skip
    last = out[-1]
    last.flags |= _F_LAST
    return out


def binance_model_objects(records: Iterable[Any], stats: Counter | None = None) -> Iterator[Any]:
    """Turn Binance stream records into model objects that replay to the venue's book.

    Depth diffs go through the Binance synchronizer (spot or USD-M futures rules, chosen by the presence
    of ``pu``); diffs the rules drop or buffer are not emitted. A REST snapshot is emitted as one snapshot
    batch holding the book *after* the snapshot and the buffered diffs it releases, stamped with the
    snapshot's timestamps and the last applied update id, so a replay sorted by ``ts_event`` rebuilds the
    same book. ``bookTicker`` records become their ``QuoteTick``; trades pass through.

    Parameters
    ----------
    records : iterable
        Output of :func:`tradewire.data.loaders.binance.iter_binance_stream` (or ``load`` of such a file).
    stats : Counter or None
        Filled with ``diffs_applied``, ``diffs_dropped``, ``gaps``, ``snapshots``.
    """
    from tradewire.data.loaders.binance import BinanceBookTicker, BinanceDepthDiff, BinanceDepthSnapshot
    from tradewire.data.sync import BinanceFuturesSynchronizer, BinanceSpotSynchronizer

    stats = Counter() if stats is None else stats
    sync = None
    futures: bool | None = None
    for rec in records:
        if isinstance(rec, BinanceDepthDiff):
            if futures is None:
                futures = rec.prev_final_update_id is not None
            if sync is None:
                iid = rec.deltas[0].instrument_id if rec.deltas else None
                sync = (BinanceFuturesSynchronizer if futures else BinanceSpotSynchronizer)(iid)
            n_gaps = len(sync.gaps)
            out = sync.on_update(rec.first_update_id, rec.final_update_id, rec.prev_final_update_id, rec.deltas,
                                 rec.ts_event, rec.ts_init)  # fmt: skip
            stats["gaps"] += sum(g.kind == "gap" for g in sync.gaps[n_gaps:])
            if out:
                stats["diffs_applied"] += 1
                for batch in out:
                    yield from batch
        elif isinstance(rec, BinanceDepthSnapshot):
            stats["snapshots"] += 1
            first = next((d for d in rec.deltas if d.action is BookAction.ADD), None)
            if first is None:
                continue
            iid = first.instrument_id
            if sync is None:
                sync = (BinanceFuturesSynchronizer if futures else BinanceSpotSynchronizer)(iid)
            book = OrderBook(iid, first.price.precision, first.size.precision)
            book.apply_deltas(rec.deltas)
            released = sync.on_snapshot(rec.last_update_id, rec.ts_event, rec.ts_init)
            for batch in released:
                book.apply_deltas(batch)
            stats["diffs_applied"] += len(released)
            yield from _snapshot_batch(book, sync.last_update_id, rec.ts_event, rec.ts_init)
        elif isinstance(rec, BinanceBookTicker):
            yield rec.quote
        else:
            yield rec
    if sync is not None:
        stats["diffs_dropped"] += sync.dropped


def _model_objects(path: Path, fmt: str | None, instrument: str | None, stats: Counter) -> Iterator[Any]:
    it, name = _records(path, fmt, instrument)
    if name in BINANCE_RECORD_FORMATS:
        return binance_model_objects(it, stats)
    return it


# ---------------------------------------------------------------------- import
@data_app.command("import")
def import_(
    files: Annotated[list[Path], typer.Argument(help="Data files to import.", exists=True, dir_okay=False)],
    catalog: Annotated[Path, typer.Option("--catalog", help="Catalog directory.")] = DEFAULT_CATALOG,
    format: Annotated[str | None, typer.Option("--format", help="Loader format (default: detected).")] = None,
    instrument: Annotated[str | None, typer.Option("--instrument", help="Instrument id, e.g. BTCUSDT.BINANCE")] = None,
) -> None:
    """Import recorded data files into the Parquet catalog (re-importing a file adds nothing)."""
    cat = ParquetDataCatalog(catalog)
    console = Console(stderr=True)
    total = 0
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,} objects"),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=False) as progress:
        for path in files:
            task = progress.add_task(path.name, total=None)
            stats: Counter = Counter()

            def counted(objs: Iterable[Any], task=task) -> Iterator[Any]:
                n = 0
                for o in objs:
                    n += 1
                    if n % 10_000 == 0:
                        progress.update(task, completed=n)
                    yield o
                progress.update(task, completed=n)

            try:
                n = cat.write(counted(_model_objects(path, format, instrument, stats)))
            except (ValueError, TypeError, OverflowError) as exc:
                console.print(f"[red]error[/red] {path}: {exc}")
                raise typer.Exit(1) from None
            total += n
            if stats["gaps"]:
                console.print(f"[yellow]warning[/yellow] {path}: {stats['gaps']} sequence gap(s) in the depth stream")
    console.print(f"imported {total:,} objects from {len(files)} file(s) into {catalog}")


# ---------------------------------------------------------------------- ls
@data_app.command("ls")
def ls(
    catalog: Annotated[Path, typer.Option("--catalog", help="Catalog directory.")] = DEFAULT_CATALOG,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List what the catalog holds."""
    try:
        entries = ParquetDataCatalog(catalog).list()
    except ValueError as exc:
        Console(stderr=True).print(f"[red]error[/red] {exc}")
        raise typer.Exit(1) from None
    if as_json:
        sys.stdout.write(json.dumps([e.to_dict() for e in entries], indent=2) + "\n")
        return
    table = Table(title=f"catalog {catalog}")
    for col in ("type", "instrument / bar type", "first (UTC)", "last (UTC)", "rows", "days"):
        table.add_column(col, overflow="fold")
    for e in entries:
        d = e.to_dict()
        table.add_row(e.data_type, e.key, d["first_utc"], d["last_utc"], f"{e.rows:,}", str(e.partitions))
    Console().print(table)


# ---------------------------------------------------------------------- verify
class _Verifier:
    """Accumulate the verification figures for one recorded file."""

    def __init__(self) -> None:
        self.messages: Counter = Counter()
        self.ticks: Counter = Counter()
        self.first_ts: int | None = None
        self.last_ts: int | None = None
        self.out_of_order_ts: Counter = Counter()
        self._last_ts_by: dict[str, int] = {}
        self.deltas_applied = 0
        self.crossed_updates = 0
        self.crossed_events = 0
        self._crossed = False
        self.tob = Counter()

    def seen(self, kind: str, ts_event: int) -> None:
        self.messages[kind] += 1
        if self.first_ts is None or ts_event < self.first_ts:
            self.first_ts = ts_event
        if self.last_ts is None or ts_event > self.last_ts:
            self.last_ts = ts_event
        prev = self._last_ts_by.get(kind)
        if prev is not None and ts_event < prev:
            self.out_of_order_ts[kind] += 1
        else:
            self._last_ts_by[kind] = ts_event

    def check_cross(self, book: OrderBook) -> None:
        crossed = book.is_crossed()
        if crossed:
            self.crossed_updates += 1
            if not self._crossed:
                self.crossed_events += 1
        self._crossed = crossed

    def compare_top(self, book: OrderBook, q: QuoteTick, aligned: bool) -> None:
        b, a = book.best_bid_raw(), book.best_ask_raw()
        self.tob["compared"] += 1
        px = b == q.bid_price.raw and a == q.ask_price.raw
        full = px and book.best_bid_size_raw() == q.bid_size.raw and book.best_ask_size_raw() == q.ask_size.raw
        self.tob["price_match"] += px
        self.tob["price_size_match"] += full
        if aligned:
            self.tob["aligned_compared"] += 1
            self.tob["aligned_price_size_match"] += full


def _verify_binance(records: Iterable[Any], v: _Verifier) -> dict[str, Any]:
    from tradewire.data.loaders.binance import (
        BinanceBookTicker,
        BinanceDepthDiff,
        BinanceDepthSnapshot,
        replay_depth,
    )
    from tradewire.data.sync import BinanceFuturesSynchronizer, BinanceSpotSynchronizer

    stream = iter(records)
    head: list[Any] = []  # records up to the first depth record, which tells spot from futures
    first_depth = None
    for r in stream:
        head.append(r)
        if isinstance(r, (BinanceDepthDiff, BinanceDepthSnapshot)) and r.deltas:
            first_depth = r
            break
    book: OrderBook | None = None
    sync = None
    if first_depth is not None:
        d = next((x for x in first_depth.deltas if x.action is not BookAction.CLEAR), first_depth.deltas[0])
        book = OrderBook(d.instrument_id, d.price.precision, d.size.precision)
        fut = isinstance(first_depth, BinanceDepthDiff) and first_depth.prev_final_update_id is not None
        sync = (BinanceFuturesSynchronizer if fut else BinanceSpotSynchronizer)(d.instrument_id)
        replay = replay_depth(itertools.chain(head, stream), book, sync)
    else:
        replay = ((r, False) for r in head)
    for rec, applied in replay:
        if isinstance(rec, BinanceDepthDiff):
            v.seen("depth_diff", rec.ts_event)
            v.ticks["deltas"] += len(rec.deltas)
            if applied:
                v.deltas_applied += len(rec.deltas)
                v.check_cross(book)
        elif isinstance(rec, BinanceDepthSnapshot):
            v.seen("depth_snapshot", rec.ts_event)
            v.deltas_applied += len(rec.deltas)
            v.check_cross(book)
        elif isinstance(rec, BinanceBookTicker):
            v.seen("book_ticker", rec.quote.ts_event)
            v.ticks["quotes"] += 1
            if book is not None and sync is not None and not sync.stale:
                v.compare_top(book, rec.quote, aligned=rec.update_id == book.sequence)
        elif isinstance(rec, TradeTick):
            v.seen("trade", rec.ts_event)
            v.ticks["trades"] += 1
    gaps = list(sync.gaps) if sync is not None else []
    return {
        "diffs_applied": sync.applied if sync is not None else 0,
        "diffs_dropped": sync.dropped if sync is not None else 0,
        "gaps": sum(g.kind == "gap" for g in gaps),
        "out_of_order_updates": sum(g.kind == "out_of_order" for g in gaps),
        "book_stale_at_end": sync.stale if sync is not None else None,
    }


def _verify_model(objs: Iterable[Any], v: _Verifier) -> dict[str, Any]:
    books: dict[InstrumentId, OrderBook] = {}
    pending: dict[InstrumentId, list[OrderBookDelta]] = {}
    last_seq: dict[InstrumentId, int] = {}
    seq_back = 0
    for o in objs:
        t = type(o)
        if t is OrderBookDelta:
            v.ticks["deltas"] += 1
            batch = pending.setdefault(o.instrument_id, [])
            batch.append(o)
            if o.flags & _F_LAST:
                v.seen("book_batch", o.ts_event)
                iid = o.instrument_id
                book = books.get(iid)
                if book is None:
                    book = books[iid] = OrderBook(iid, o.price.precision, o.size.precision)
                prev = last_seq.get(iid)
                if prev is not None and o.sequence and o.sequence < prev:
                    seq_back += 1
                last_seq[iid] = o.sequence
                book.apply_deltas(batch)
                v.deltas_applied += len(batch)
                pending[iid] = []
                v.check_cross(book)
        elif t is QuoteTick:
            v.seen("quote", o.ts_event)
            v.ticks["quotes"] += 1
            book = books.get(o.instrument_id)
            if book is not None:
                v.compare_top(book, o, aligned=False)
        elif t is TradeTick:
            v.seen("trade", o.ts_event)
            v.ticks["trades"] += 1
        elif t is Bar:
            v.seen("bar", o.ts_event)
            v.ticks["bars"] += 1
        else:
            v.seen(t.__name__, getattr(o, "ts_event", 0))
    return {
        "gaps": None,
        "out_of_order_updates": seq_back,
        "unterminated_deltas": sum(len(b) for b in pending.values()),
    }


def verify_file(path: Path, fmt: str | None = None, instrument: str | None = None) -> dict[str, Any]:
    """Replay a recorded file and return the verification report (see the module docstring).

    Raises
    ------
    DataFormatError, ValueError
        If the file cannot be parsed (the loader names the file and line or byte offset).
    """
    records, name = _records(path, fmt, instrument)
    v = _Verifier()
    extra = _verify_binance(records, v) if name in BINANCE_RECORD_FORMATS else _verify_model(records, v)
    tob = dict(v.tob)
    compared = tob.get("compared", 0)
    aligned = tob.get("aligned_compared", 0)
    return {
        "file": str(path),
        "format": name,
        "messages": dict(v.messages),
        "ticks": dict(v.ticks),
        "first_ts_event": v.first_ts,
        "last_ts_event": v.last_ts,
        "first_utc": _iso(v.first_ts),
        "last_utc": _iso(v.last_ts),
        "span_s": None if v.first_ts is None else (v.last_ts - v.first_ts) / 1e9,
        "deltas_applied": v.deltas_applied,
        "out_of_order_ts": dict(v.out_of_order_ts),
        "crossed_book_events": v.crossed_events,
        "crossed_book_updates": v.crossed_updates,
        "top_of_book": {
            **tob,
            "price_match_rate": tob.get("price_match", 0) / compared if compared else None,
            "price_size_match_rate": tob.get("price_size_match", 0) / compared if compared else None,
            "aligned_match_rate": tob.get("aligned_price_size_match", 0) / aligned if aligned else None,
        },
        **extra,
    }


@data_app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="Recorded data file.", exists=True, dir_okay=False)],
    format: Annotated[str | None, typer.Option("--format", help="Loader format (default: detected).")] = None,
    instrument: Annotated[str | None, typer.Option("--instrument", help="Instrument id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Replay a recorded file and report counts, gaps, crossed books and top-of-book agreement."""
    try:
        report = verify_file(file, format, instrument)
    except (ValueError, TypeError) as exc:
        Console(stderr=True).print(f"[red]error[/red] {file}: {exc}")
        raise typer.Exit(1) from None
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return
    table = Table(title=f"verify {file.name} ({report['format']})", show_header=False)
    table.add_column("what")
    table.add_column("value", overflow="fold")
    for k, val in report.items():
        if k in ("file", "format", "first_ts_event", "last_ts_event"):
            continue
        table.add_row(k, json.dumps(val) if isinstance(val, dict) else str(val))
    Console().print(table)
