"""File loaders for recorded market data: bars, quote/trade ticks and order book deltas.

Entry points
------------
- :func:`load` (``load(path, format=None, **kw)``): an iterator of model objects (`Bar`, `QuoteTick`,
  `TradeTick`, `OrderBookDelta`, ...) for any supported file; the format is detected from the file
  name, extension and first bytes (:func:`detect_format`) unless given.
- :data:`FORMATS`: format name -> one-line description (for ``--format`` help).
- :func:`load_bars` / :func:`iter_bars`: bars only, with bar type and precision control.
- :func:`instrument_for`: a default `Instrument` for a file or an instrument id.

Every loader parses prices and sizes exactly (fixed-point raws from the text), stamps UTC ns
``ts_event``/``ts_init`` and raises :class:`DataFormatError` (a ``ValueError``) naming the file and
the 1-based line or byte offset of the first bad input, never a silent partial result.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ._detect import detect_format
from .bars import iter_bars, load_bars
from .errors import DataFormatError
from .instruments import instrument_for

#: name -> (description, "module:function"); the function takes (path, **kw) and returns an iterator.
_REGISTRY: dict[str, tuple[str, str]] = {
    "yahoo-csv": ("Yahoo-style daily CSV: Date,Open,High,Low,Close,Adj Close,Volume -> Bar", "bars:iter_bars"),
    "ohlcv-csv": ("CSV with a timestamp column and open,high,low,close[,volume] (.gz ok) -> Bar", "bars:iter_bars"),
    "binance-kline-csv": ("Binance kline CSV (data.binance.vision, 12 columns, no header) -> Bar", "bars:iter_bars"),
    "freqtrade-feather": ("freqtrade OHLCV Feather (date, open, high, low, close, volume) -> Bar", "bars:iter_bars"),
    "kraken-ohlc-json": ("Kraken REST /0/public/OHLC response -> Bar", "bars:iter_bars"),
    "lean-zip": ("QuantConnect LEAN zip: trade/quote bars -> Bar, tick files -> TradeTick/QuoteTick", "lean:iter_lean"),
    "tardis-trades": ("Tardis.dev trades CSV -> TradeTick (aggressor side)", "tardis:iter_tardis_trades"),
    "tardis-quotes": ("Tardis.dev quotes CSV -> QuoteTick", "tardis:iter_tardis_quotes"),
    "tardis-incremental-l2": (
        "Tardis.dev incremental_book_L2 CSV -> OrderBookDelta",
        "tardis:iter_tardis_incremental_l2",
    ),
    "tardis-book-snapshot": (
        "Tardis.dev book_snapshot_25/_5 CSV -> OrderBookDelta snapshots",
        "tardis:iter_tardis_book_snapshot",
    ),
    "truefx-csv": ("TrueFX-style timestamp,bid,ask CSV -> QuoteTick", "ticks:iter_truefx"),
    "histdata-csv": ("HistData.com ASCII tick CSV (EST, no DST) -> QuoteTick", "ticks:iter_histdata"),
    "kraken-trades-json": ("Kraken REST /0/public/Trades response -> TradeTick", "ticks:iter_kraken_trades"),
    "freqtrade-trades-csv": (
        "freqtrade trades CSV -> TradeTick (pass instrument_id)",
        "ticks:iter_freqtrade_trades_csv",
    ),
    "freqtrade-trades-json": (
        "freqtrade/ccxt trade list .json[.gz] (Binance aggTrade info) -> TradeTick",
        "ticks:iter_freqtrade_trades_json",
    ),
    "binance-trades-parquet": ("Binance trades Parquet -> TradeTick", "ticks:iter_binance_trades_parquet"),
    "binance-quotes-parquet": ("Binance top-of-book Parquet -> QuoteTick", "ticks:iter_binance_quotes_parquet"),
    "coinbase-ws": (
        "Coinbase WS capture (cryptofeed) -> OrderBookDelta, TradeTick, QuoteTick",
        "coinbase:iter_coinbase_ws",
    ),
    "bybit-orderbook": ("Bybit order book archive (.data or .zip) -> OrderBookDelta", "bybit:iter_bybit_orderbook"),
    "dukascopy-bi5": ("Dukascopy .bi5 ticks -> QuoteTick, candles -> Bar", "dukascopy:iter_bi5"),
    "databento-dbn": ("Databento DBN (.dbn/.dbn.zst): mbo, mbp-1, trades, ohlcv, definition", "databento:iter_dbn"),
}
_OPTIONAL: dict[str, tuple[str, str]] = {
    "binance-ws-gz": (
        "Binance raw combined WS stream capture ('<recv_ns> <json>' lines, .gz ok) -> depth/bookTicker/trade records",
        "binance:iter_binance_stream",
    ),
    "binance-depth-csv": (
        "Binance depth snapshot/update CSV -> depth snapshot/diff records",
        "binance:iter_binance_depth_csv",
    ),
}


def _binance_available() -> bool:
    try:
        importlib.import_module(f"{__name__}.binance")
    except Exception:  # missing or broken module: the other formats must keep working
        return False
    return True


def _formats() -> dict[str, str]:
    out = {name: desc for name, (desc, _) in _REGISTRY.items()}
    for name, (desc, _) in _OPTIONAL.items():
        out[name] = desc if _binance_available() else desc + " (loader not installed)"
    return out


#: Format name -> description, for CLI help. Binance formats are provided by
#: ``tradewire.data.loaders.binance`` (imported lazily).
FORMATS: dict[str, str] = _formats()


def _resolve(fmt: str) -> Callable[..., Iterator[Any]]:
    entry = _REGISTRY.get(fmt) or _OPTIONAL.get(fmt)
    if entry is None:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(sorted(FORMATS))}")
    module, func = entry[1].split(":")
    try:
        mod = importlib.import_module(f"{__name__}.{module}")
    except ImportError as exc:
        raise ValueError(
            f"format {fmt!r} needs tradewire.data.loaders.{module}, which is not available ({exc})"
        ) from None
    fn = getattr(mod, func, None)
    if fn is None:
        raise ValueError(f"tradewire.data.loaders.{module} has no {func}() for format {fmt!r}")
    return fn


def load(path: str | Path, format: str | None = None, **kw: Any) -> Iterator[Any]:
    """Iterate the model objects recorded in a data file.

    Parameters
    ----------
    path : str | Path
        The file.
    format : str | None
        A key of :data:`FORMATS`; detected with :func:`detect_format` when None.
    **kw
        Passed to the format's loader (e.g. ``bar_type``, ``price_precision``, ``instrument_id``).

    Returns
    -------
    Iterator
        `Bar`, `QuoteTick`, `TradeTick` or `OrderBookDelta` objects (per format), in file order
        (merged by ``ts_event`` where one file holds several series).

    Raises
    ------
    DataFormatError
        If the file is malformed (names file and line/offset) or its format is not recognised.
    ValueError
        If ``format`` is unknown.
    """
    path = Path(path)
    fmt = format or detect_format(path)
    fn = _resolve(fmt)
    if fn.__name__ == "iter_bars":
        return fn(path, format=fmt, **kw)
    if fmt in _OPTIONAL and "instrument_id" not in kw:
        kw["instrument_id"] = _binance_instrument_id(path)
    return iter(fn(path, **kw))


_QUOTES = ("usdt", "busd", "usdc", "fdusd", "btc", "eth", "bnb")


def _binance_instrument_id(path: Path) -> str:
    """``BTCUSDT.BINANCE`` from a name such as ``hftbacktest_binance_spot_btcusdt_20240808.gz``."""
    for token in re.split(r"[_.\-]", path.name.lower()):
        if token.isalpha() and token not in _QUOTES and token.endswith(_QUOTES) and token != "binance":
            return f"{token.upper()}.BINANCE"
    raise ValueError(f"cannot tell the symbol from {path.name}: pass instrument_id=")


__all__ = ["FORMATS", "DataFormatError", "detect_format", "instrument_for", "iter_bars", "load", "load_bars"]
