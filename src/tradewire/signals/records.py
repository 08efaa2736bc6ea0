"""`AlertRecord`: what happened to every alert, accepted or rejected (for the API and dashboard)."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(slots=True)
class AlertRecord:
    """One received alert and its outcome.

    ``outcome`` is ``accepted`` (handed to the engine), ``duplicate`` (idempotent replay),
    ``rejected`` (HTTP 4xx, or refused by the planner on the engine thread), ``submitted`` (commands
    sent to ``RiskEngine.execute``), ``no_op`` (nothing to do, e.g. close while flat) or ``failed``.
    ``status_code`` is the HTTP status returned. The secret is never part of a record.
    """

    received_ns: int
    source: str
    status_code: int
    outcome: str
    reason: str = ""
    client_ip: str | None = None
    alert_key: str | None = None
    alert_id: str | None = None
    ticker: str | None = None
    action: str | None = None
    instrument_id: str | None = None
    client_order_ids: tuple[str, ...] = field(default_factory=tuple)
    processed_ns: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        return {
            "received_ns": self.received_ns, "source": self.source, "status_code": self.status_code,
            "outcome": self.outcome, "reason": self.reason, "client_ip": self.client_ip,
            "alert_key": self.alert_key, "alert_id": self.alert_id, "ticker": self.ticker, "action": self.action,
            "instrument_id": self.instrument_id, "client_order_ids": list(self.client_order_ids),
            "processed_ns": self.processed_ns,
        }  # fmt: skip


class AlertLog:
    """A bounded, thread-safe, in-memory log of :class:`AlertRecord` (newest last).

    Parameters
    ----------
    maxlen : int
        Records kept; the oldest are dropped first.
    """

    def __init__(self, maxlen: int = 10_000) -> None:
        self._records: deque[AlertRecord] = deque(maxlen=maxlen)
        self._by_key: dict[str, AlertRecord] = {}
        self._early: dict[str, tuple[str, str, tuple[str, ...], int]] = {}  # outcome seen before the record
        self._lock = threading.Lock()

    def add(self, record: AlertRecord) -> None:
        """Append a record (an accepted one becomes updatable by its ``alert_key``)."""
        with self._lock:
            if len(self._records) == self._records.maxlen:
                old = self._records[0]
                if old.alert_key is not None and self._by_key.get(old.alert_key) is old:
                    del self._by_key[old.alert_key]
            self._records.append(record)
            if record.alert_key is not None and record.outcome == "accepted":
                early = self._early.pop(record.alert_key, None)
                if early is None:
                    self._by_key[record.alert_key] = record
                else:
                    record.outcome, record.reason, record.client_order_ids, record.processed_ns = early

    def update(
        self, alert_key: str, outcome: str, reason: str, client_order_ids: tuple[str, ...], processed_ns: int
    ) -> None:
        """Set the engine-side outcome of the accepted record with ``alert_key``.

        If the engine thread gets there before the HTTP side has added the record, the outcome is kept
        and applied when the record arrives.
        """
        with self._lock:
            rec = self._by_key.pop(alert_key, None)
            if rec is None:
                if len(self._early) < 10_000:
                    self._early[alert_key] = (outcome, reason, client_order_ids, processed_ns)
            else:
                rec.outcome = outcome
                rec.reason = reason
                rec.client_order_ids = client_order_ids
                rec.processed_ns = processed_ns

    def recent(self, limit: int = 100, source: str | None = None) -> list[AlertRecord]:
        """Up to ``limit`` newest records (newest first), copies."""
        with self._lock:
            out = []
            for rec in reversed(self._records):
                if source is None or rec.source == source:
                    out.append(replace(rec))
                    if len(out) >= limit:
                        break
            return out

    def __len__(self) -> int:
        return len(self._records)
