"""`ParquetDataCatalog`: a directory of Parquet files holding quotes, trades, bars and book deltas.

Layout (one file per partition)::

    <root>/<data_type>/<key>/<YYYY-MM-DD>.parquet

``data_type`` is ``quotes``, ``trades``, ``bars`` or ``deltas``; ``key`` is the instrument id (the bar
type for bars, e.g. ``BTCUSDT.BINANCE-1-MINUTE-LAST``), percent-encoded if it holds ``/``; the date is the
UTC day of ``ts_event``. Rows in a file are sorted by ``(ts_event, ts_init)``, stably, so book deltas of
one venue message keep their order. Files are zstd-compressed with row groups of ``row_group_size``
rows and column statistics, which queries use to skip row groups outside the requested time range.
Column schemas: :mod:`tradewire.data.catalog.schema`.

Writing is idempotent: rows written to a partition that already holds data are merged with multiset
semantics (each distinct row is kept ``max(count already there, count written)`` times), so appending
the same data twice leaves the catalog unchanged, while genuinely repeated rows (two identical quotes in
one millisecond) survive. Files are replaced atomically (write to a temporary file, then ``os.replace``).
"""

from __future__ import annotations

import contextlib
import heapq
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from tradewire.data.catalog.schema import DATA_TYPES, SCHEMAS, objects_from_batches, partition_key, to_table
from tradewire.model.data import BarType
from tradewire.model.identifiers import InstrumentId

DAY_NS = 86_400_000_000_000
_OCC = "__occurrence"


def _day_str(day: int) -> str:
    return datetime.fromtimestamp(day * 86_400, tz=UTC).date().isoformat()


def _day_of_str(s: str) -> int:
    return (date.fromisoformat(s) - date(1970, 1, 1)).days


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """What one (data type, key) holds.

    Attributes
    ----------
    data_type : str
        ``quotes``, ``trades``, ``bars`` or ``deltas``.
    key : str
        Instrument id, or bar type for bars.
    first_ts, last_ts : int
        Smallest and largest ``ts_event`` (UTC ns).
    rows : int
    partitions : int
        Number of daily files.
    bytes : int
        Size on disk.
    """

    data_type: str
    key: str
    first_ts: int
    last_ts: int
    rows: int
    partitions: int
    bytes: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (adds ISO-8601 UTC times)."""
        d = asdict(self)
        for k in ("first_ts", "last_ts"):
            ns = d[k]
            d[k.replace("_ts", "_utc")] = (
                datetime.fromtimestamp(ns // 10**9, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ns % 10**9:09d}Z"
            )
        return d


class ParquetDataCatalog:
    """Read and write market data as partitioned Parquet under ``root``.

    Parameters
    ----------
    root : str or Path
        Catalog directory (created on first write).
    row_group_size : int
        Rows per Parquet row group (the unit a time-range query can skip).
    batch_size : int
        Rows per record batch when streaming (bounds replay memory: one batch per open stream).

    Examples
    --------
    >>> cat = ParquetDataCatalog("./tradewire-data/catalog")      # doctest: +SKIP
    >>> cat.write(trades)                                          # doctest: +SKIP
    >>> for obj in cat.replay(instrument_ids=["BTCUSDT.BINANCE"]):  # doctest: +SKIP
    ...     engine.process(obj)
    """

    def __init__(self, root: str | Path, row_group_size: int = 100_000, batch_size: int = 8_192) -> None:
        self.root = Path(root)
        self.row_group_size = row_group_size
        self.batch_size = batch_size

    # ------------------------------------------------------------------ paths
    def _key_dir(self, data_type: str, key: str) -> Path:
        return self.root / data_type / quote(key, safe="")

    def partitions(self, data_type: str, key: str) -> list[Path]:
        """Daily files of one (data type, key), oldest first."""
        d = self._key_dir(data_type, key)
        return sorted(d.glob("*.parquet")) if d.is_dir() else []

    def keys(self, data_type: str) -> list[str]:
        """Partition keys present for ``data_type`` (instrument ids or bar types), sorted."""
        if data_type not in SCHEMAS:
            raise ValueError(f"unknown data type {data_type!r}; expected one of {sorted(SCHEMAS)}")
        d = self.root / data_type
        if not d.is_dir():
            return []
        return sorted(unquote(p.name) for p in d.iterdir() if p.is_dir() and any(p.glob("*.parquet")))

    # ------------------------------------------------------------------ write
    def write(self, data: Iterable[Any], chunk_rows: int = 1_000_000) -> int:
        """Write model objects (any mix of quotes, trades, bars and deltas, any order).

        Objects are grouped by (type, key, UTC day). Buffers are staged to temporary Parquet pieces every
        ``chunk_rows`` objects, so a long iterator is written with bounded memory; each touched partition
        is then merged once with what it held before (see the module docstring for the dedupe rule).

        Parameters
        ----------
        data : Iterable
            ``QuoteTick``, ``TradeTick``, ``Bar`` or ``OrderBookDelta`` objects.
        chunk_rows : int
            Objects buffered in memory before staging.

        Returns
        -------
        int
            Number of objects received.

        Raises
        ------
        TypeError
            If an object is not one of the four data types (nothing is written in that case for the
            current chunk; earlier chunks are only staged, so the catalog is left unchanged).
        OverflowError
            If a value does not fit the int64 raw columns.
        """
        staging = self.root / ".staging" / uuid.uuid4().hex
        pieces: dict[tuple[str, str, int], list[Path]] = {}
        buf: dict[tuple[str, str, int], list] = {}
        n = buffered = 0
        types = DATA_TYPES
        try:
            for obj in data:
                dt = types.get(type(obj))
                if dt is None:
                    raise TypeError(f"object #{n} is a {type(obj).__name__}, not market data: {obj!r}")
                k = (dt, partition_key(obj), obj.ts_event // DAY_NS)
                lst = buf.get(k)
                if lst is None:
                    lst = buf[k] = []
                lst.append(obj)
                n += 1
                buffered += 1
                if buffered >= chunk_rows:
                    self._stage(buf, pieces, staging)
                    buf = {}
                    buffered = 0
            if buffered:
                self._stage(buf, pieces, staging)
            for (dt, key, day), paths in sorted(pieces.items()):
                new = pa.concat_tables([pq.read_table(p) for p in paths])
                self._merge_partition(dt, key, day, new)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            with contextlib.suppress(OSError):  # other writers may still be staging
                (self.root / ".staging").rmdir()
        return n

    def _stage(self, buf: dict, pieces: dict, staging: Path) -> None:
        staging.mkdir(parents=True, exist_ok=True)
        for k, objs in buf.items():
            table = to_table(k[0], objs)
            path = staging / f"{len(pieces)}-{uuid.uuid4().hex}.parquet"
            pq.write_table(table, path, compression="zstd")
            pieces.setdefault(k, []).append(path)

    def _merge_partition(self, data_type: str, key: str, day: int, new: pa.Table) -> None:
        target_dir = self._key_dir(data_type, key)
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / f"{_day_str(day)}.parquet"
        if target.exists():
            old = pq.read_table(target, schema=SCHEMAS[data_type])
            cols = old.column_names
            occ = pl.int_range(pl.len()).over(cols).alias(_OCC)
            merged = (
                pl.concat([pl.from_arrow(old).with_columns(occ), pl.from_arrow(new).with_columns(occ)])
                .unique(subset=[*cols, _OCC], keep="first", maintain_order=True)
                .drop(_OCC)
                .to_arrow()
                .cast(SCHEMAS[data_type])
            )
            if merged.num_rows == old.num_rows:
                return  # nothing new: leave the file untouched
            table = merged
        else:
            table = new
        idx = pc.sort_indices(table, sort_keys=[("ts_event", "ascending"), ("ts_init", "ascending")])
        table = table.take(idx)  # pyarrow's sort_indices is stable
        fd, tmp = tempfile.mkstemp(dir=target_dir, suffix=".tmp")
        os.close(fd)
        try:
            pq.write_table(table, tmp, compression="zstd", row_group_size=self.row_group_size, write_statistics=True)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    # ------------------------------------------------------------------ inspect
    def list(self) -> list[CatalogEntry]:
        """What the catalog holds, per (data type, key), from Parquet footers only (no data read).

        Raises
        ------
        ValueError
            If a file is not readable Parquet (the message names the file).
        """
        out = []
        for dt in SCHEMAS:
            for key in self.keys(dt):
                rows = size = 0
                first = last = None
                parts = self.partitions(dt, key)
                for p in parts:
                    lo, hi, nrows = self._ts_range(p)
                    rows += nrows
                    size += p.stat().st_size
                    if nrows:
                        first = lo if first is None else min(first, lo)
                        last = hi if last is None else max(last, hi)
                if rows:
                    out.append(CatalogEntry(dt, key, first, last, rows, len(parts), size))
        return out

    def _ts_range(self, path: Path) -> tuple[int | None, int | None, int]:
        try:
            md = pq.read_metadata(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise ValueError(f"{path}: not a readable Parquet file: {exc}") from None
        idx = md.schema.names.index("ts_event")
        lo = hi = None
        for i in range(md.num_row_groups):
            st = md.row_group(i).column(idx).statistics
            if st is None or not st.has_min_max:
                raise ValueError(f"{path}: row group {i} has no ts_event statistics")
            lo = st.min if lo is None else min(lo, st.min)
            hi = st.max if hi is None else max(hi, st.max)
        return lo, hi, md.num_rows

    # ------------------------------------------------------------------ read
    def _open_partition(self, path: Path) -> pq.ParquetFile:
        """Open one daily file (a seam: tests count calls to prove replay streams lazily)."""
        return pq.ParquetFile(path)

    def _select(self, data_type: str, keys: Iterable[str] | None) -> list[str]:
        have = self.keys(data_type)
        if keys is None:
            return have
        wanted = [str(k) for k in keys]
        return [k for k in wanted if k in set(have)]

    def _files_in_range(self, data_type: str, key: str, start: int | None, end: int | None) -> list[Path]:
        lo = None if start is None else start // DAY_NS
        hi = None if end is None else (end - 1) // DAY_NS
        out = []
        for p in self.partitions(data_type, key):
            day = _day_of_str(p.stem)
            if (lo is None or day >= lo) and (hi is None or day <= hi):
                out.append(p)
        return out

    def _batches(self, data_type: str, key: str, start: int | None, end: int | None) -> Iterator[pa.RecordBatch]:
        """Record batches of one key in [start, end), skipping row groups by their ts_event statistics."""
        for path in self._files_in_range(data_type, key, start, end):
            pf = self._open_partition(path)
            md = pf.metadata
            idx = md.schema.names.index("ts_event")
            groups = []
            for i in range(md.num_row_groups):
                st = md.row_group(i).column(idx).statistics
                if (
                    st is not None
                    and st.has_min_max
                    and ((start is not None and st.max < start) or (end is not None and st.min >= end))
                ):
                    continue
                groups.append(i)
            if not groups:
                continue
            for batch in pf.iter_batches(batch_size=self.batch_size, row_groups=groups):
                if start is not None or end is not None:
                    ts = batch.column(0)
                    mask = None
                    if start is not None:
                        mask = pc.greater_equal(ts, start)
                    if end is not None:
                        m2 = pc.less(ts, end)
                        mask = m2 if mask is None else pc.and_(mask, m2)
                    batch = batch.filter(mask)
                if batch.num_rows:
                    yield batch

    def _stream(self, data_type: str, key: str, start: int | None, end: int | None) -> Iterator[Any]:
        return objects_from_batches(data_type, key, self._batches(data_type, key, start, end))

    def query(
        self,
        data_type: str,
        keys: Iterable[str | InstrumentId | BarType] | None = None,
        start: int | None = None,
        end: int | None = None,
    ) -> list[Any]:
        """Model objects of one type, for the given keys, with ``start <= ts_event < end``, in ts order.

        Parameters
        ----------
        data_type : str
            ``quotes``, ``trades``, ``bars`` or ``deltas``.
        keys : iterable or None
            Instrument ids (bar types for ``bars``); None means all.
        start, end : int or None
            UTC ns; half-open range, None for unbounded.

        Raises
        ------
        ValueError
            If ``data_type`` is unknown.
        """
        return list(self.replay([data_type], keys, start, end))

    def quote_ticks(self, instrument_ids=None, start=None, end=None) -> list[Any]:
        """Quote ticks; see :meth:`query`."""
        return self.query("quotes", instrument_ids, start, end)

    def trade_ticks(self, instrument_ids=None, start=None, end=None) -> list[Any]:
        """Trade ticks; see :meth:`query`."""
        return self.query("trades", instrument_ids, start, end)

    def bars(self, bar_types=None, start=None, end=None) -> list[Any]:
        """Bars; see :meth:`query` (keys are bar types)."""
        return self.query("bars", bar_types, start, end)

    def order_book_deltas(self, instrument_ids=None, start=None, end=None) -> list[Any]:
        """Order book deltas; see :meth:`query`."""
        return self.query("deltas", instrument_ids, start, end)

    def query_table(
        self, data_type: str, keys: Iterable[str] | None = None, start: int | None = None, end: int | None = None
    ) -> pa.Table:
        """Columns (raw ints) of one type as an Arrow table with a ``key`` column, via a pyarrow dataset filter.

        Useful for analytics (``polars.from_arrow``); rows are in (key, day, ts) order.
        """
        tables = []
        for key in self._select(data_type, keys):
            files = [str(p) for p in self._files_in_range(data_type, key, start, end)]
            if not files:
                continue
            dset = ds.dataset(files, format="parquet", schema=SCHEMAS[data_type])
            flt = None
            if start is not None:
                flt = ds.field("ts_event") >= start
            if end is not None:
                f2 = ds.field("ts_event") < end
                flt = f2 if flt is None else flt & f2
            t = dset.to_table(filter=flt)
            tables.append(t.append_column("key", pa.array([key] * t.num_rows, pa.string())))
        if not tables:
            return SCHEMAS[data_type].empty_table().append_column("key", pa.array([], pa.string()))
        return pa.concat_tables(tables)

    def replay(
        self,
        data_types: Sequence[str] | None = None,
        keys: Iterable[str | InstrumentId | BarType] | None = None,
        start: int | None = None,
        end: int | None = None,
    ) -> Iterator[Any]:
        """Stream several types and keys merged in ``(ts_event, ts_init)`` order with bounded memory.

        Each (type, key) is a lazy stream over its daily files, one record batch at a time; the streams are
        heap-merged (ties keep the order quotes, trades, bars, deltas, then key order, and within a stream
        the file order). Memory is about one record batch per stream, whatever the catalog's size.

        Parameters
        ----------
        data_types : sequence of str or None
            Subset of ``quotes``, ``trades``, ``bars``, ``deltas``; None means all.
        keys : iterable or None
            Instrument ids and/or bar types (bars of an instrument id are selected by their bar type only).
        start, end : int or None
            Half-open ``ts_event`` range in UTC ns.

        Raises
        ------
        ValueError
            If a data type is unknown.
        """
        types = list(SCHEMAS) if data_types is None else list(data_types)
        for dt in types:
            if dt not in SCHEMAS:
                raise ValueError(f"unknown data type {dt!r}; expected one of {sorted(SCHEMAS)}")
        key_list = None if keys is None else [str(k) for k in keys]
        streams = [self._stream(dt, k, start, end) for dt in types for k in self._select(dt, key_list)]
        if len(streams) == 1:
            return streams[0]
        return heapq.merge(*streams, key=_ts_key)


def _ts_key(obj: Any) -> tuple[int, int]:
    return (obj.ts_event, obj.ts_init)
