"""Coinbase Exchange WebSocket captures as written by cryptofeed's raw data recorder.

Each data line is ``<receive time, epoch seconds with fraction>: <json message>``; lines starting
with ``wss://`` record the connection and the subscribe requests and are skipped, as are blank lines.
Message types (Coinbase Exchange WebSocket feed docs, channels ``level2``, ``matches``, ``ticker``):

- ``snapshot`` (level2): full book per product -> CLEAR + one ADD per level, flagged ``F_SNAPSHOT``,
  the last with ``F_LAST``. It has no venue time: ``ts_event`` = receive time.
- ``l2update``: ``changes`` ``[side, price, size]`` with ``size`` the new level total; ``"0"`` removes
  the level -> UPDATE/DELETE deltas, the last of the message with ``F_LAST``; ``ts_event`` = ``time``.
- ``match``: a trade. Coinbase's ``side`` is the **maker** order's side, so the aggressor is the
  opposite (``side == "sell"`` -> ``BUYER``). ``last_match`` (the last trade before subscribing,
  repeated once per product) is skipped unless ``include_last_match``.
- ``ticker``: best bid/ask -> `QuoteTick`. Captures from 2021 carry no best sizes: sizes are 0 then.
- ``subscriptions``/``heartbeat``: skipped. Any other type raises `DataFormatError`.

Coinbase has no ``sequence`` on level2 messages, so delta ``sequence`` is 0; trades keep their
``trade_id``. Instruments are ``<product_id>.COINBASE`` (e.g. ``SKL-USD.COINBASE``) and each product
gets its own precisions (inferred from the decimals written for that product unless given).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from tradewire.model.data import OrderBookDelta, QuoteTick, TradeTick
from tradewire.model.enums import AggressorSide, BookAction, BookSide
from tradewire.model.identifiers import InstrumentId, TradeId
from tradewire.model.objects import FIXED_PRECISION, Price, Quantity

from ._common import iter_lines, parse_iso_ns, text_decimals
from ._rows import Maker
from .errors import DataFormatError

_SKIP = {"subscriptions", "heartbeat"}
_BOOK_SIDE = {"buy": BookSide.BID, "sell": BookSide.ASK}
_TAKER = {"sell": AggressorSide.BUYER, "buy": AggressorSide.SELLER}  # maker side -> aggressor


def _messages(path: Path) -> Iterator[tuple[int, int, dict]]:
    for no, line in iter_lines(path):
        if not line.strip() or line.startswith("wss://"):
            continue
        stamp, sep, body = line.partition(": ")
        if not sep:
            raise DataFormatError(path, "expected '<epoch seconds>: <json>'", line=no)
        try:
            recv = int(Decimal(stamp).scaleb(9))
        except ArithmeticError:
            raise DataFormatError(path, f"bad receive time {stamp!r}", line=no) from None
        try:
            msg = json.loads(body)
        except json.JSONDecodeError as exc:
            raise DataFormatError(
                path, f"invalid JSON at column {exc.colno + len(stamp) + 2}: {exc.msg}", line=no
            ) from None
        if not isinstance(msg, dict) or "type" not in msg:
            raise DataFormatError(path, "message without 'type'", line=no)
        yield no, recv, msg


def _values(msg: dict) -> Iterator[tuple[str, str]]:
    """(price text, size text) pairs of a message, for precision inference."""
    t = msg["type"]
    if t == "snapshot":
        for p, s in msg.get("bids", []) + msg.get("asks", []):
            yield p, s
    elif t == "l2update":
        for _, p, s in msg.get("changes", []):
            yield p, s
    elif t in ("match", "last_match"):
        yield msg.get("price", ""), msg.get("size", "")
    elif t == "ticker":
        yield msg.get("best_bid", ""), msg.get("best_bid_size", "")
        yield msg.get("best_ask", ""), msg.get("best_ask_size", "")


def iter_coinbase_ws(
    path: str | Path, *, price_precision: int | None = None, size_precision: int | None = None,
    include_last_match: bool = False,
) -> Iterator[OrderBookDelta | TradeTick | QuoteTick]:  # fmt: skip
    """Stream a cryptofeed Coinbase capture as deltas, trades and quotes in file order.

    Parameters
    ----------
    path : str | Path
        The capture (plain or gzip text).
    price_precision, size_precision : int | None
        Force precisions for every product; inferred per product when None.
    include_last_match : bool
        Also yield ``last_match`` messages as trades.

    Raises
    ------
    DataFormatError
        Naming the file and line: a line that is not ``<time>: <json>``, invalid JSON, an unknown
        message type, a bad number or side.
    """
    path = Path(path)
    prec: dict[str, list[int]] = {}
    for _, _, msg in _messages(path):
        pid = msg.get("product_id")
        if pid is None:
            continue
        pr = prec.setdefault(pid, [0, 0])
        for p, s in _values(msg):
            if p:
                pr[0] = max(pr[0], text_decimals(p))
            if s:
                pr[1] = max(pr[1], text_decimals(s))
    makers: dict[str, tuple[InstrumentId, Maker]] = {}
    for pid, (p, s) in prec.items():
        pp = min(p, FIXED_PRECISION) if price_precision is None else price_precision
        sp = min(s, FIXED_PRECISION) if size_precision is None else size_precision
        makers[pid] = (InstrumentId.from_parts(pid, "COINBASE"), Maker(path, pp, sp))

    for no, recv, msg in _messages(path):
        t = msg["type"]
        if t in _SKIP or (t == "last_match" and not include_last_match):
            continue
        pid = msg.get("product_id")
        if pid not in makers:
            raise DataFormatError(path, f"{t} message without a product_id", line=no)
        iid, mk = makers[pid]
        if t == "snapshot":
            zp, zs = Price.from_raw(0, mk.pp), Quantity.from_raw(0, mk.sp)
            out = [
                OrderBookDelta(iid, BookAction.CLEAR, BookSide.BID, zp, zs, OrderBookDelta.F_SNAPSHOT, 0, recv, recv)
            ]
            for side, key in ((BookSide.BID, "bids"), (BookSide.ASK, "asks")):
                for level in msg.get(key, []):
                    if len(level) != 2:
                        raise DataFormatError(path, f"snapshot level must be [price, size], got {level!r}", line=no)
                    price, size = mk.price(level[0], no), mk.size(level[1], no)
                    out.append(
                        OrderBookDelta(iid, BookAction.ADD, side, price, size, OrderBookDelta.F_SNAPSHOT, 0, recv, recv)
                    )
            out[-1].flags |= OrderBookDelta.F_LAST
            yield from out
        elif t == "l2update":
            ts = parse_iso_ns(msg["time"], path, no)[0] if "time" in msg else recv
            changes = msg.get("changes") or []
            if not changes:
                raise DataFormatError(path, "l2update without changes", line=no)
            for k, ch in enumerate(changes):
                if len(ch) != 3 or ch[0] not in _BOOK_SIDE:
                    raise DataFormatError(path, f"change must be [buy|sell, price, size], got {ch!r}", line=no)
                size = mk.size(ch[2], no)
                action = BookAction.UPDATE if size.raw else BookAction.DELETE
                flags = OrderBookDelta.F_LAST if k == len(changes) - 1 else 0
                yield OrderBookDelta(iid, action, _BOOK_SIDE[ch[0]], mk.price(ch[1], no), size, flags, 0, ts, recv)
        elif t in ("match", "last_match"):
            agg = _TAKER.get(msg.get("side"))
            if agg is None:
                raise DataFormatError(path, f"match side must be buy/sell, got {msg.get('side')!r}", line=no)
            ts = parse_iso_ns(msg["time"], path, no)[0]
            yield TradeTick(
                iid, mk.price(msg["price"], no), mk.size(msg["size"], no), agg, TradeId(str(msg["trade_id"])), ts, recv
            )
        elif t == "ticker":
            if not msg.get("best_bid") or not msg.get("best_ask"):
                raise DataFormatError(path, "ticker without best_bid/best_ask", line=no)
            ts = parse_iso_ns(msg["time"], path, no)[0] if "time" in msg else recv
            yield QuoteTick(
                iid, mk.price(msg["best_bid"], no, "best_bid"), mk.price(msg["best_ask"], no, "best_ask"),
                mk.size(msg.get("best_bid_size", "0"), no, "best_bid_size"),
                mk.size(msg.get("best_ask_size", "0"), no, "best_ask_size"), ts, recv,
            )  # fmt: skip
        else:
            raise DataFormatError(path, f"unknown message type {t!r}", line=no)
