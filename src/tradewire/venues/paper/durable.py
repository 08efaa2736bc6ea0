"""Durable paper venue: the venue keeps its own state in an fsynced journal, as an exchange does.

A real exchange does not forget an order it acknowledged or a fill it reported because the trading
node crashed. :class:`DurablePaperVenue` gives a :class:`~tradewire.venues.paper.PaperExecutionClient`
the same property: every call into the venue (an order command, or market data that changed an order)
ends with one journal line appended to a file and fsynced, and only *then* are the order events of
that call handed on to the node (``event_handler``). So the node never sees an event that the venue
could forget, and anything the venue forgot in a crash was never reported to the node; an order the
venue received but did not persist counts as lost in transit (the node resubmits it with the same
client order id, see :func:`tradewire.node.recovery.recover_node`).

Events are delivered in the order the venue emitted them. A venue call made while events are being
delivered (a strategy that answers a fill with a new order) is journaled and its events delivered
after those already queued, as a venue's messages arrive in order; the call itself returns before its
answer, as over a network.

Journal format (UTF-8 JSON, one object per ``\\n``-terminated line)
-----------------------------------------------------------------
* ``{"k": "header", "format": 1, "venue", "account_id"}``: first line.
* ``{"k": "base", "snapshot": <PaperExecutionClient.snapshot()>, "new": [...], "dup": [...]}``: the
  whole venue state (written when the journal is compacted on open).
* ``{"k": "step", "venue_order_seq", "engines": {instrument_id: {"ts", "trade_seq", "seq", "working",
  "position", "pending"}}, "orders": {instrument_id: [VenueOrder.to_dict(), ...]}, "fills": [...],
  "new": [...], "dup": [...]}``: what one venue call changed. ``orders`` holds only the orders the
  call touched (named by a command or an emitted event); the per-instrument scalars are small. The
  encodings are those of :meth:`MatchingEngine.snapshot` / ``PaperExecutionClient.snapshot``, so the
  replayed journal loads with :meth:`PaperExecutionClient.restore`.
* ``new`` lists the client order ids the venue received as new orders, ``dup`` those it received
  again and refused as duplicates: the journal is the venue's proof of what it was sent.

Not journaled until the next line (lost in a crash, like a matching engine's transient state): what
market data alone changed, i.e. the venue clock and the queue position of a resting order (saved with
the next line), and never the book and last prices (rebuilt from the next market data). :meth:`close`
writes a last line, so after a clean stop the journal replays to the venue state exactly.

A last line without its ``\\n`` (a write cut by the crash) is dropped and the file truncated to the
last complete line: that call was never acknowledged. Any other bad line raises
:class:`VenueJournalError` naming the file, line and byte offset.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mypy_extensions import mypyc_attr

from tradewire.execution.reports import OrderStatusReport
from tradewire.model.identifiers import InstrumentId
from tradewire.model.objects import FIXED_PRECISION, Price, Quantity, div_round
from tradewire.venues.paper.execution import PaperExecutionClient, _fill_to_dict
from tradewire.venues.paper.matching import _MODIFY, MatchingEngine

FORMAT = 1


@mypyc_attr(native_class=False)
class VenueJournalError(ValueError):
    """A venue journal cannot be read: the message names the file, 1-based line and byte offset."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _engine_scalars(engine: MatchingEngine) -> dict[str, Any]:
    """Per-instrument venue state except the orders (same encoding as ``MatchingEngine.snapshot``)."""
    pending = []
    for due, seq, kind, coid, payload in sorted(engine._pending):
        p = None
        if kind == _MODIFY:
            p = [None if v is None else [str(v.raw), v.precision] for v in payload]
        pending.append([str(due), str(seq), kind, str(coid), p])
    return {
        "ts": str(engine.ts), "trade_seq": str(engine.trade_seq), "seq": str(engine._seq),
        "working": [str(c) for c in engine.working], "position": engine.position.to_dict(), "pending": pending,
    }  # fmt: skip


class _Replayed:
    """The venue state rebuilt from journal lines (orders keyed by client order id)."""

    def __init__(self, venue: str, account_id: str) -> None:
        self.venue = venue
        self.account_id = account_id
        self.venue_order_seq = "0"
        self.engines: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, dict[str, dict[str, Any]]] = {}
        self.fills: list[dict[str, Any]] = []
        self.new: list[str] = []
        self.dup: list[str] = []

    def apply(self, rec: dict[str, Any]) -> None:
        kind = rec["k"]
        if kind == "base":
            snap = rec["snapshot"]
            self.venue_order_seq = snap["venue_order_seq"]
            self.engines = {}
            self.orders = {}
            for iid, est in snap["engines"].items():
                self.engines[iid] = {k: v for k, v in est.items() if k not in ("orders", "instrument_id")}
                self.orders[iid] = {d["client_order_id"]: d for d in est["orders"]}
            self.fills = list(snap["fills"])
            self.new = list(rec["new"])
            self.dup = list(rec["dup"])
        elif kind == "step":
            self.venue_order_seq = rec["venue_order_seq"]
            for iid, est in rec["engines"].items():
                self.engines[iid] = est
            for iid, orders in rec["orders"].items():
                book = self.orders.setdefault(iid, {})
                for d in orders:
                    book[d["client_order_id"]] = d
            self.fills.extend(rec["fills"])
            self.new.extend(rec["new"])
            self.dup.extend(rec["dup"])
        else:
            raise ValueError(f"unknown record kind {kind!r}")

    def snapshot(self) -> dict[str, Any]:
        """In the shape of ``PaperExecutionClient.snapshot()`` (config/sessions omitted: not restored)."""
        return {
            "venue": self.venue, "account_id": self.account_id, "venue_order_seq": self.venue_order_seq,
            "engines": {iid: {"instrument_id": iid, **est, "orders": list(self.orders.get(iid, {}).values())}
                        for iid, est in self.engines.items()},
            "fills": list(self.fills),
        }  # fmt: skip


def read_journal(path: str | Path, *, repair: bool = False) -> tuple[dict[str, Any], dict[str, Any] | None, int]:
    """Read a venue journal.

    Parameters
    ----------
    path : str | Path
        Journal file.
    repair : bool
        Truncate the file to its last complete line when the last line is torn (else leave it).

    Returns
    -------
    (header, snapshot, lines) : tuple
        The header record; the venue state in the shape of ``PaperExecutionClient.snapshot()`` plus
        ``"new"`` and ``"dup"`` lists (None when the journal holds no state yet); number of complete
        lines.

    Raises
    ------
    VenueJournalError
        If the file is empty of a header, or a complete line is not valid JSON or not a known record;
        the message names the file, 1-based line and byte offset.
    """
    path = Path(path)
    header: dict[str, Any] | None = None
    replayed: _Replayed | None = None
    offset = 0
    n = 0
    with open(path, "rb") as fh:
        for n, line in enumerate(fh, 1):
            if not line.endswith(b"\n"):
                n -= 1
                if repair:
                    os.truncate(path, offset)
                break
            try:
                rec = json.loads(line)
                if n == 1:
                    if rec.get("k") != "header" or rec.get("format") != FORMAT:
                        raise ValueError(f"expected a format-{FORMAT} header record, got {str(rec)[:80]}")
                    header = rec
                    replayed = _Replayed(rec["venue"], rec["account_id"])
                else:
                    replayed.apply(rec)  # type: ignore[union-attr]
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise VenueJournalError(f"{path}: line {n} (byte offset {offset}): {exc}") from None
            offset += len(line)
    if header is None or replayed is None:
        raise VenueJournalError(f"{path}: line 1 (byte offset 0): no complete header line")
    if not replayed.engines:
        return header, None, n
    snap = replayed.snapshot()
    snap["new"] = replayed.new
    snap["dup"] = replayed.dup
    return header, snap, n


class DurablePaperVenue:
    """Journal a `PaperExecutionClient`'s state after every venue call, before its events go out.

    Parameters
    ----------
    client : PaperExecutionClient
        The venue, with its instruments added. Its current ``event_handler`` becomes the downstream
        handler; the client and its matching engines (also those added later) pass every call from
        outside through this object (their ``_gate``, see `VenueGate`) until :meth:`close`.
    path : str | Path
        Journal file. If it exists, the venue state in it is loaded into ``client`` first (a torn last
        line is dropped), then the journal is compacted when it has more than ``compact_lines`` lines.
    fsync : bool
        fsync every line (the point of the class; False only for tests that do not crash).
    compact_lines : int
        On open, rewrite a journal longer than this as one ``base`` line (atomic replace).

    Attributes
    ----------
    received : Counter[str]
        Client order ids received as new orders, with counts (from the whole journal).
    duplicates : list[str]
        Client order ids received again and refused.
    lines_written : int

    Raises
    ------
    VenueJournalError
        If the existing journal is unreadable or belongs to another venue/account.
    ValueError
        If the journal names an instrument not added to ``client``.
    """

    def __init__(self, client: PaperExecutionClient, path: str | Path, *, fsync: bool = True,
                 compact_lines: int = 2000) -> None:  # fmt: skip
        self.client = client
        self.path = Path(path)
        self.fsync = fsync
        self.received: Counter[str] = Counter()
        self.duplicates: list[str] = []
        self.lines_written = 0
        self.restored = False
        self._downstream: Callable[[object], None] = client.event_handler
        self._buffer: list[object] = []
        self._touched: dict[InstrumentId, set[str]] = {}
        self._new: list[str] = []
        self._dup: list[str] = []
        self._dirty = False
        self.depth = 0  # venue calls in progress (VenueGate)
        self._delivering = False
        self._fills_seen = 0
        self._load_or_create(compact_lines)
        self._fills_seen = len(client._fills)
        self._attach()

    # -- open -----------------------------------------------------------------------------------
    def _load_or_create(self, compact_lines: int) -> None:
        c = self.client
        if self.path.exists() and self.path.stat().st_size:
            header, snap, lines = read_journal(self.path, repair=True)
            if header["venue"] != str(c.venue) or header["account_id"] != str(c.account_id):
                raise VenueJournalError(
                    f"{self.path}: line 1 (byte offset 0): journal of {header['venue']}/{header['account_id']}, "
                    f"not {c.venue}/{c.account_id}"
                )
            if snap is not None:
                c.restore(snap)
                self.received.update(snap["new"])
                self.duplicates.extend(snap["dup"])
                self.restored = True
                if lines > compact_lines:
                    self._compact()
            self._fh = open(self.path, "ab", buffering=0)  # noqa: SIM115
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "wb", buffering=0)  # noqa: SIM115
        self._write({"k": "header", "format": FORMAT, "venue": str(c.venue), "account_id": str(c.account_id)})
        _fsync_dir(self.path)

    def _compact(self) -> None:
        c = self.client
        tmp = self.path.with_name(self.path.name + ".compact")
        header = {"k": "header", "format": FORMAT, "venue": str(c.venue), "account_id": str(c.account_id)}
        base = {"k": "base", "snapshot": c.snapshot(), "new": list(self.received.elements()), "dup": self.duplicates}
        with open(tmp, "wb") as fh:
            fh.write(json.dumps(header, separators=(",", ":")).encode() + b"\n")
            fh.write(json.dumps(base, separators=(",", ":")).encode() + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(self.path)

    # -- wiring ---------------------------------------------------------------------------------
    def _attach(self) -> None:
        c = self.client
        c.event_handler = self._on_event
        c._gate = self  # the client gives it to engines added later
        for engine in c._engines.values():
            self._attach_engine(engine)

    def _attach_engine(self, engine: MatchingEngine) -> None:
        engine._emit = self._on_event
        engine._gate = self

    # -- VenueGate ------------------------------------------------------------------------------
    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run one venue call; at its end (outside event delivery) journal the state, then deliver."""
        self.depth += 1
        try:
            return fn(*args)
        finally:
            self.depth -= 1
            if not self.depth and not self._delivering:
                self._commit_and_deliver()

    def on_submit(self, order: Any) -> None:
        """Note a new (or duplicate) order received by ``submit_order``."""
        coid = str(order.client_order_id)
        engine = self.client._engines.get(order.instrument_id)
        if engine is None:
            return  # refused outright (unknown instrument): no venue order is created
        (self._dup if order.client_order_id in engine.orders else self._new).append(coid)
        self._touch(order.instrument_id, coid)

    def on_command(self, order: Any) -> None:
        """Note the order named by ``modify_order`` / ``cancel_order``."""
        self._touch(order.instrument_id, str(order.client_order_id))

    def close(self) -> None:
        """Journal the current state, deliver anything pending, detach from the client and its engines
        and close the journal (idempotent). After a close the journal replays to the venue state exactly."""
        if self._fh.closed:
            return
        self._dirty = True
        if not self._delivering:
            self._commit_and_deliver()
        self.client.event_handler = self._downstream
        self.client._gate = None
        for engine in self.client._engines.values():
            engine._emit = self._downstream
            engine._gate = None
        self._fh.close()

    # -- hooks ----------------------------------------------------------------------------------
    def _touch(self, iid: InstrumentId, coid: str) -> None:
        s = self._touched.get(iid)
        if s is None:
            s = self._touched[iid] = set()
        s.add(coid)
        self._dirty = True

    def _on_event(self, event: object) -> None:
        coid = getattr(event, "client_order_id", None)
        iid = getattr(event, "instrument_id", None)
        if coid is not None and iid is not None:
            self._touch(iid, str(coid))
        self._buffer.append(event)
        self._dirty = True

    def _commit_and_deliver(self) -> None:
        self._delivering = True
        try:
            while self._dirty or self._buffer:
                if self._dirty:
                    self._write_step()
                events, self._buffer = self._buffer, []
                for i, ev in enumerate(events):
                    try:
                        self._downstream(ev)
                    except BaseException:
                        self._buffer[:0] = events[i + 1 :]
                        raise
        finally:
            self._delivering = False

    def _write_step(self) -> None:
        c = self.client
        orders: dict[str, list[dict[str, Any]]] = {}
        for iid, coids in self._touched.items():
            engine = c._engines.get(iid)
            if engine is None:
                continue
            # a ClientOrderId is a str: the equal str finds it
            ds = [engine.orders[x].to_dict() for x in sorted(coids) if x in engine.orders]  # type: ignore[index]
            if ds:
                orders[str(iid)] = ds
        fills = c._fills[self._fills_seen :]
        step = {
            "k": "step", "venue_order_seq": str(c._venue_order_seq),
            "engines": {str(iid): _engine_scalars(e) for iid, e in c._engines.items()},
            "orders": orders, "fills": [_fill_to_dict(f) for f in fills], "new": self._new, "dup": self._dup,
        }  # fmt: skip
        self._write(step)
        self._fills_seen += len(fills)
        self.received.update(self._new)
        self.duplicates.extend(self._dup)
        self._touched = {}
        self._new = []
        self._dup = []
        self._dirty = False

    def _write(self, rec: dict[str, Any]) -> None:
        data = json.dumps(rec, separators=(",", ":")).encode() + b"\n"
        view = memoryview(data)
        while view:
            n = os.write(self._fh.fileno(), view)
            view = view[n:]
        if self.fsync:
            os.fsync(self._fh.fileno())
        self.lines_written += 1

    # -- reports ------------------------------------------------------------------------------
    def order_status_reports(self) -> list[OrderStatusReport]:
        """Every order the venue knows, open *and* closed (what reconciliation needs after a restart).

        ``PaperExecutionClient.generate_order_status_reports`` lists open orders only; without the
        closed ones an order that the venue rejected or canceled without a fill would look never
        received and be sent again.
        """
        out = []
        c = self.client
        for engine in c._engines.values():
            for vo in engine.orders.values():
                avg = None
                if vo.filled_raw:
                    avg = Price.from_raw(div_round(vo.notional, vo.filled_raw), FIXED_PRECISION)
                out.append(OrderStatusReport(
                    c.account_id, vo.instrument_id, vo.client_order_id, vo.venue_order_id, vo.side, vo.order_type,
                    vo.time_in_force, vo.status, Quantity.from_raw(vo.quantity_raw, vo.size_precision),
                    Quantity.from_raw(vo.filled_raw, vo.size_precision), vo.ts_accepted, vo.ts_last, engine.ts,
                    None if vo.price_raw is None else Price.from_raw(vo.price_raw, vo.price_precision),
                    None if vo.trigger_raw is None else Price.from_raw(vo.trigger_raw, vo.price_precision),
                    avg, vo.reduce_only, vo.post_only,
                ))  # fmt: skip
        return out

    def flush(self) -> None:
        """Write and deliver anything pending (a no-op between venue calls)."""
        if not self._delivering:
            self._commit_and_deliver()


def open_durable_venue(client: PaperExecutionClient, path: str | Path, **kwargs: Any) -> DurablePaperVenue:
    """Load the venue state journaled at ``path`` into ``client`` (if any) and keep journaling it.

    See :class:`DurablePaperVenue` for the parameters and errors.
    """
    return DurablePaperVenue(client, path, **kwargs)


__all__ = ["FORMAT", "DurablePaperVenue", "VenueJournalError", "open_durable_venue", "read_journal"]
