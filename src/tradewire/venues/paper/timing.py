"""Latency queue and time-in-force expiry of the paper `MatchingEngine`.

Commands (acknowledge, activate, modify, cancel) wait in a heap ordered by due time and sequence
number (`LatencyModel`); DAY and GTD orders expire at their ``expire_ns``. :meth:`LatencyAndExpiry._advance`
runs what is due, in time order, whenever simulated time moves.
"""

from __future__ import annotations

import heapq
from typing import Any, Final

from mypy_extensions import trait

from tradewire.model.enums import OrderStatus
from tradewire.model.events import OrderExpired
from tradewire.model.identifiers import ClientOrderId
from tradewire.venues.paper.engine_state import EngineState

# enum members as module constants: Enum class attribute access is a Python-level lookup in 3.11
_EXPIRED: Final = OrderStatus.EXPIRED

# kinds of pending actions in the latency queue
_ACK: Final = "ack"
_ACTIVATE: Final = "activate"
_MODIFY: Final = "modify"
_CANCEL: Final = "cancel"


@trait
class LatencyAndExpiry(EngineState):
    """Mixin of `MatchingEngine`: the pending-action heap and DAY/GTD expiries (uses the engine's state)."""

    # == time and latency ==========================================================================
    def _schedule(self, due: int, kind: str, coid: ClientOrderId, payload: Any) -> None:
        self._seq += 1
        heapq.heappush(self._pending, (due, self._seq, kind, coid, payload))

    def _advance(self, ts: int) -> None:
        pending = self._pending
        if not pending and self._next_expiry is None:  # nothing queued or expiring: only the clock moves
            if ts > self.ts:
                self.ts = ts
            return
        while True:
            due = pending[0][0] if pending else None
            exp = self._next_expiry
            if due is not None and due <= ts and (exp is None or due <= exp):
                _, _, kind, coid, payload = heapq.heappop(pending)
                if due > self.ts:
                    self.ts = due
                self._run_action(kind, coid, payload)
            elif exp is not None and exp <= ts:
                if exp > self.ts:
                    self.ts = exp
                self._expire(exp)
            else:
                break
        if ts > self.ts:
            self.ts = ts

    def _run_action(self, kind: str, coid: ClientOrderId, payload: Any) -> None:
        vo = self.orders.get(coid)
        if kind == _ACK:
            self._ack(vo)  # type: ignore[arg-type]
        elif kind == _ACTIVATE:
            if vo is not None and vo.is_open:
                self._activate(vo)
        elif kind == _MODIFY:
            self._apply_modify(self.orders[coid], *payload)
        elif kind == _CANCEL:
            self._apply_cancel(self.orders[coid])

    def _expire(self, upto: int) -> None:
        for vo in list(self.working.values()):
            if vo.expire_ns is not None and vo.expire_ns <= upto:
                self._close(vo, _EXPIRED)
                self._emit(OrderExpired(vo.client_order_id, vo.strategy_id, vo.instrument_id, self.ts, self.ts,
                                        vo.venue_order_id))  # fmt: skip
        self._recompute_expiry()

    def _recompute_expiry(self) -> None:
        exps = [vo.expire_ns for vo in self.working.values() if vo.expire_ns is not None]
        self._next_expiry = min(exps) if exps else None
