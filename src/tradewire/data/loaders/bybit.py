"""Bybit public order book archives (``YYYY-MM-DD_<SYMBOL>_ob<depth>.data``, usually zipped).

One JSON message per line, as on the WebSocket topic ``orderbook.<depth>.<symbol>`` (Bybit V5 API
docs, "WebSocket Stream > Public > Orderbook"): ``{"topic", "type": "snapshot"|"delta", "ts",
"data": {"s", "b": [[price, size]], "a": [[price, size]], "u", "seq"}, "cts"}``.

- ``snapshot`` -> CLEAR + one ADD per level, flagged ``F_SNAPSHOT``.
- ``delta`` -> UPDATE per level with the new total size; size ``"0"`` -> DELETE.
- The last delta of each message has ``F_LAST``; every delta's ``sequence`` is the message's ``u``
  (update id; Bybit: a ``u`` of 1 means the service restarted and a snapshot follows).
- ``ts_event`` = ``cts`` (matching-engine time) when present, else ``ts``; ``ts_init`` = ``ts``
  (when Bybit's system generated the message). Both ms -> ns.

Instruments are ``<symbol>.BYBIT``. A zip may hold several ``.data`` members; they are read in name
order (one file per day).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

from tradewire.model.data import OrderBookDelta
from tradewire.model.enums import BookAction, BookSide
from tradewire.model.identifiers import InstrumentId
from tradewire.model.objects import FIXED_PRECISION, Price, Quantity

from ._common import NS_PER_MS, text_decimals
from ._rows import Maker
from .errors import DataFormatError


def _sources(path: Path) -> list[tuple[str, callable]]:
    if zipfile.is_zipfile(path):
        zf = zipfile.ZipFile(path)
        names = sorted(n for n in zf.namelist() if not n.endswith("/"))

        def opener(name: str):
            return lambda: io.TextIOWrapper(zf.open(name), encoding="utf-8")

        return [(f"{path}!{n}", opener(n)) for n in names]
    return [(str(path), lambda: path.open(encoding="utf-8"))]


def _messages(path: Path) -> Iterator[tuple[str, int, dict]]:
    for where, open_ in _sources(path):
        no = 0
        try:
            with open_() as fh:
                for no, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    try:
                        msg = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise DataFormatError(
                            where, f"invalid JSON at column {exc.colno}: {exc.msg}", line=no
                        ) from None
                    if not isinstance(msg, dict) or msg.get("type") not in ("snapshot", "delta"):
                        raise DataFormatError(
                            where, f"expected a snapshot/delta message, got type {msg.get('type')!r}", line=no
                        )
                    data = msg.get("data")
                    if not isinstance(data, dict) or "s" not in data or "u" not in data:
                        raise DataFormatError(where, "message 'data' must hold 's', 'u', 'b', 'a'", line=no)
                    yield where, no, msg
        except (zipfile.BadZipFile, EOFError, OSError, UnicodeDecodeError) as exc:
            raise DataFormatError(where, f"cannot read past this line: {exc}", line=no + 1) from None


def iter_bybit_orderbook(
    path: str | Path, *, instrument_id: InstrumentId | str | None = None, price_precision: int | None = None,
    size_precision: int | None = None,
) -> Iterator[OrderBookDelta]:  # fmt: skip
    """Stream a Bybit order book archive (``.data`` or ``.zip``) as `OrderBookDelta` batches.

    Raises
    ------
    DataFormatError
        Naming ``file[!member]`` and the line: invalid JSON, unknown message type, a level that is
        not ``[price, size]``, a bad number.
    """
    path = Path(path)
    if price_precision is None or size_precision is None:
        p = s = 0
        for _, _, msg in _messages(path):
            for key in ("b", "a"):
                for level in msg["data"].get(key, []):
                    if isinstance(level, list) and len(level) == 2:
                        p, s = max(p, text_decimals(level[0])), max(s, text_decimals(level[1]))
        price_precision = min(p, FIXED_PRECISION) if price_precision is None else price_precision
        size_precision = min(s, FIXED_PRECISION) if size_precision is None else size_precision
    mk = Maker(path, price_precision, size_precision)
    zp, zs = Price.from_raw(0, price_precision), Quantity.from_raw(0, size_precision)
    fixed = InstrumentId(str(instrument_id)) if instrument_id is not None else None
    for where, no, msg in _messages(path):
        data = msg["data"]
        iid = fixed or InstrumentId.from_parts(data["s"], "BYBIT")
        try:
            ts_init = int(msg["ts"]) * NS_PER_MS
            ts = int(msg.get("cts", msg["ts"])) * NS_PER_MS
            seq = int(data["u"])
        except (KeyError, TypeError, ValueError):
            raise DataFormatError(where, "bad or missing ts/cts/u", line=no) from None
        snapshot = msg["type"] == "snapshot"
        base = OrderBookDelta.F_SNAPSHOT if snapshot else 0
        out = []
        if snapshot:
            out.append(OrderBookDelta(iid, BookAction.CLEAR, BookSide.BID, zp, zs, base, seq, ts, ts_init))
        for key, side in (("b", BookSide.BID), ("a", BookSide.ASK)):
            for level in data.get(key, []):
                if not (isinstance(level, list) and len(level) == 2):
                    raise DataFormatError(where, f"level must be [price, size], got {level!r}", line=no)
                mk.path = where
                price, size = mk.price(level[0], no), mk.size(level[1], no)
                if snapshot:
                    action = BookAction.ADD
                else:
                    action = BookAction.UPDATE if size.raw else BookAction.DELETE
                out.append(OrderBookDelta(iid, action, side, price, size, base, seq, ts, ts_init))
        if not out:
            continue
        out[-1].flags |= OrderBookDelta.F_LAST
        yield from out
