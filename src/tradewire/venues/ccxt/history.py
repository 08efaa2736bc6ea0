"""Historical OHLCV from a ccxt exchange into the Parquet catalog: paged, resumable, exact.

:func:`download_ohlcv` asks the venue for candles page by page (``limit`` per request, ``since`` advancing
past the last candle received), keeps only *closed* candles inside ``[since, until)`` and writes each page to
the :class:`~tradewire.data.catalog.ParquetDataCatalog` before asking for the next, so an interrupted
download loses at most one page. A new run resumes after the last bar the catalog already holds for the bar
type (the catalog also deduplicates rows, so overlapping runs never double a bar).

Numbers: for Binance the raw ``GET /api/v3/klines`` rows are used (decimal text, exact); other venues go
through ccxt's ``fetch_ohlcv`` (floats converted by their shortest repr, see
:func:`tradewire.venues.ccxt.parsing.to_decimal`). A bar's ``ts_event`` is its close (open + interval).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tradewire.data.catalog import ParquetDataCatalog
from tradewire.model.data import Bar, BarSpecification, BarType
from tradewire.model.enums import BarAggregation, PriceType
from tradewire.model.identifiers import InstrumentId
from tradewire.venues.ccxt.factories import CcxtConnection
from tradewire.venues.ccxt.parsing import price, quantity
from tradewire.venues.ccxt.retry import RetryPolicy, retry_async

_UNITS = {"s": BarAggregation.SECOND, "m": BarAggregation.MINUTE, "h": BarAggregation.HOUR,
          "d": BarAggregation.DAY, "w": BarAggregation.WEEK}  # fmt: skip
_MS = 1_000_000


def bar_spec_of(timeframe: str) -> BarSpecification:
    """``1m`` -> ``1-MINUTE-LAST`` (raises ValueError for an unknown timeframe)."""
    unit = _UNITS.get(timeframe[-1:])
    try:
        step = int(timeframe[:-1])
    except ValueError:
        step = 0
    if unit is None or step < 1:
        raise ValueError(f"unknown timeframe {timeframe!r}; expected e.g. 1s, 1m, 5m, 1h, 1d, 1w")
    return BarSpecification(step, unit, PriceType.LAST)


@dataclass
class DownloadResult:
    """What one download run did."""

    bar_type: BarType
    requests: int = 0
    bars_written: int = 0
    first_ts: int | None = None
    last_ts: int | None = None
    resumed_from_ms: int | None = None


def catalog_last_bar_ns(catalog: ParquetDataCatalog, bar_type: BarType) -> int | None:
    """``ts_event`` (close) of the newest bar the catalog holds for ``bar_type``, None if none."""
    for e in catalog.list():
        if e.data_type == "bars" and e.key == str(bar_type):
            return e.last_ts
    return None


async def _page(conn: CcxtConnection, symbol: str, timeframe: str, since_ms: int, limit: int) -> list[list[Any]]:
    ex = conn.exchange
    if conn.config.exchange.startswith("binance") and conn.config.market_type in ("spot", "margin"):
        rows = await ex.publicGetKlines({"symbol": ex.market(symbol)["id"], "interval": timeframe,
                                         "startTime": since_ms, "limit": limit})  # fmt: skip
        return [[int(r[0]), r[1], r[2], r[3], r[4], r[5]] for r in rows]
    return await ex.fetch_ohlcv(symbol, timeframe, since_ms, limit)


async def download_ohlcv(
    conn: CcxtConnection,
    instrument_id: InstrumentId,
    timeframe: str,
    since_ms: int,
    until_ms: int,
    catalog: ParquetDataCatalog,
    limit: int = 1000,
    resume: bool = True,
    now_ms: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    retry: RetryPolicy = RetryPolicy(max_attempts=6, base_delay=0.5, max_delay=30.0),
) -> DownloadResult:
    """Download closed candles with open time in ``[since_ms, until_ms)`` into the catalog.

    Parameters
    ----------
    conn : CcxtConnection
        Instruments must be loaded.
    instrument_id : InstrumentId
        tradewire id (``BTCUSDT.BINANCE``).
    timeframe : str
        ccxt timeframe (``1m``, ``1h`` ...).
    since_ms, until_ms : int
        UTC milliseconds.
    catalog : ParquetDataCatalog
    limit : int
        Candles per request.
    resume : bool
        Start after the newest bar already in the catalog when that is later than ``since_ms``.
    now_ms : int | None
        Wall clock for "closed" (default: the exchange's clock); candles ending after it are skipped.
    progress : callable(done_ms, total_ms), optional
        Told after every page.

    Returns
    -------
    DownloadResult

    Raises
    ------
    ValueError
        If ``until_ms <= since_ms`` or the timeframe is unknown.
    VenueError
        If the venue keeps failing (after retries); bars of earlier pages are already written.
    """
    if until_ms <= since_ms:
        raise ValueError(f"--until ({until_ms}) must be after --since ({since_ms})")
    spec = bar_spec_of(timeframe)
    bar_type = BarType(instrument_id, spec)
    step_ms = spec.interval_ns // _MS
    inst = conn.instruments.get(instrument_id)
    symbol = conn.instruments.symbols.ccxt_symbol(instrument_id)
    result = DownloadResult(bar_type)
    cursor = since_ms
    if resume:
        last = catalog_last_bar_ns(catalog, bar_type)
        if last is not None and last // _MS > cursor:
            cursor = last // _MS  # the next bar opens where the last one closed
            result.resumed_from_ms = cursor
    now = now_ms if now_ms is not None else conn.exchange.milliseconds()
    pp, sp = inst.price_precision, inst.size_precision
    while cursor < until_ms:
        rows = await retry_async(lambda c=cursor: _page(conn, symbol, timeframe, c, limit), retry,
                                 what=f"{conn.venue} klines {symbol} {timeframe}")  # fmt: skip
        result.requests += 1
        bars = []
        for r in rows:
            t = int(r[0])
            if t < cursor or t >= until_ms or t + step_ms > now:
                continue
            close_ns = (t + step_ms) * _MS
            bars.append(Bar(bar_type, price(r[1], pp), price(r[2], pp), price(r[3], pp), price(r[4], pp),
                            quantity(r[5], sp), close_ns, close_ns))  # fmt: skip
        if bars:
            catalog.write(bars)
            result.bars_written += len(bars)
            result.first_ts = result.first_ts if result.first_ts is not None else bars[0].ts_event
            result.last_ts = bars[-1].ts_event
        if not rows:
            break
        nxt = max(int(r[0]) for r in rows) + step_ms
        if nxt <= cursor:
            break
        cursor = nxt
        if progress is not None:
            progress(min(cursor, until_ms) - since_ms, until_ms - since_ms)
    return result


__all__ = ["DownloadResult", "bar_spec_of", "catalog_last_bar_ns", "download_ohlcv"]
