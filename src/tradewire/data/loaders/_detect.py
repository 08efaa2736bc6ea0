"""Format detection from a file's name, extension and first bytes/line."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from ._common import read_bytes
from .errors import DataFormatError

_HISTDATA = re.compile(r"^\d{8} \d{9},")
_CRYPTOFEED = re.compile(r"^\d+(\.\d+)?: \{")
_BINANCE_WS = re.compile(rb"^\d{16,20} \{")


def _first_line(head: bytes) -> str:
    for raw in head.splitlines():
        line = raw.decode("utf-8", "replace").strip()
        if line:
            return line.lstrip("\ufeff")
    return ""


def _zip_format(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except zipfile.BadZipFile as exc:
        raise DataFormatError(path, f"not a readable zip archive ({exc})") from None
    if any(n.endswith(".data") and "_ob" in n for n in names):
        return "bybit-orderbook"
    if names and all(n.lower().endswith(".csv") for n in names):
        return "lean-zip"
    raise DataFormatError(path, f"zip archive with unrecognised members {names[:5]}")


def _text_format(path: Path, line: str, name: str) -> str:
    low = line.lower()
    cols = [c.strip().lower() for c in line.split(",")]
    if line.startswith("wss://") or _CRYPTOFEED.match(line):
        return "coinbase-ws"
    if cols[:5] == ["date", "open", "high", "low", "close"]:
        return "yahoo-csv"
    if cols[:4] == ["exchange", "symbol", "timestamp", "local_timestamp"]:
        rest = set(cols[4:])
        if {"id", "side", "price", "amount"} <= rest:
            return "tardis-trades"
        if {"ask_amount", "ask_price", "bid_price", "bid_amount"} <= rest:
            return "tardis-quotes"
        if "is_snapshot" in rest:
            return "tardis-incremental-l2"
        if "asks[0].price" in rest:
            return "tardis-book-snapshot"
        raise DataFormatError(path, f"Tardis CSV with unknown columns {cols[4:]}", line=1)
    if cols[:3] == ["symbol", "timestamp", "first_update_id"]:
        return "binance-depth-csv"
    if cols == ["timestamp", "bid", "ask"]:
        return "truefx-csv"
    if {"timestamp", "id", "side", "price", "amount"} <= set(cols) and cols[0] == "":
        return "freqtrade-trades-csv"
    if {"open", "high", "low", "close"} <= set(cols):
        return "ohlcv-csv"
    if _HISTDATA.match(line):
        return "histdata-csv"
    parts = line.split(",")
    if len(parts) == 12 and all(p.replace(".", "", 1).isdigit() for p in parts):
        return "binance-kline-csv"
    raise DataFormatError(path, f"unrecognised text format (first line {low[:80]!r}) for {name}", line=1)


def detect_format(path: str | Path) -> str:
    """Name the format of a data file from its name, extension and first bytes.

    Parameters
    ----------
    path : str | Path
        The file to inspect. Only its head is read (JSON files are parsed whole; they are small
        REST responses).

    Returns
    -------
    str
        A key of :data:`tradewire.data.loaders.FORMATS`.

    Raises
    ------
    DataFormatError
        If the content matches no supported format.
    FileNotFoundError
        If the file does not exist.
    """
    path = Path(path)
    name = path.name
    low = name.lower()
    if low.endswith(".data") and "_ob" in low:
        return "bybit-orderbook"
    if low.endswith(".bi5"):
        return "dukascopy-bi5"
    if low.endswith((".dbn", ".dbn.zst")):
        return "databento-dbn"
    if low.endswith(".zip"):
        return _zip_format(path)
    if low.endswith(".feather"):
        return "freqtrade-feather"
    if low.endswith(".parquet"):
        import pyarrow.parquet as pq

        names = set(pq.read_schema(path).names)
        if {"trade_id", "price", "quantity", "buyer_maker"} <= names:
            return "binance-trades-parquet"
        if {"bid", "ask", "bid_size", "ask_size"} <= names:
            return "binance-quotes-parquet"
        raise DataFormatError(path, f"Parquet file with unknown columns {sorted(names)}")
    with path.open("rb") as fh:
        head = fh.read(4096)
    if head[:2] == b"\x1f\x8b":
        import gzip

        with gzip.open(path, "rb") as gz:
            try:
                head = gz.read(4096)
            except (EOFError, OSError) as exc:
                raise DataFormatError(path, f"corrupt or truncated gzip stream ({exc})") from None
        if _BINANCE_WS.match(head):
            if b'"stream"' in head or b'"lastUpdateId"' in head or b'"e":"' in head:
                return "binance-ws-gz"
            raise DataFormatError(path, "a '<ns> <json>' WS capture, but not of Binance streams")
    stripped = head.lstrip()
    if stripped[:1] in (b"{", b"["):
        return _json_format(path)
    return _text_format(path, _first_line(head), name)


def _json_format(path: Path) -> str:
    try:
        doc = json.loads(read_bytes(path))
    except json.JSONDecodeError as exc:
        raise DataFormatError(path, f"invalid JSON: {exc.msg}", line=exc.lineno) from None
    if isinstance(doc, dict) and isinstance(doc.get("result"), dict):
        for key, rows in doc["result"].items():
            if key != "last" and isinstance(rows, list) and rows:
                first = rows[0]
                if isinstance(first, list) and len(first) == 8 and isinstance(first[0], int):
                    return "kraken-ohlc-json"
                if isinstance(first, list) and len(first) >= 6 and isinstance(first[0], str):
                    return "kraken-trades-json"
    if isinstance(doc, list) and doc and isinstance(doc[0], dict) and {"timestamp", "price", "amount"} <= set(doc[0]):
        return "freqtrade-trades-json"
    raise DataFormatError(path, "JSON document of an unknown layout")
