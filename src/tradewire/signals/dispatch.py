"""The engine side of :class:`tradewire.signals.service.WebhookService`: draining intents, recovery, handled marks.

The HTTP side queues an :class:`AlertIntent` for every accepted alert; the engine loop calls
:meth:`IntentDispatch.drain`, which plans orders against the current position, sends the commands to
``RiskEngine.execute`` and marks the intents handled in the idempotency store.

Crash safety: an alert answered 202 is in the database before the answer is sent. When the service is
built on a store that holds intents not yet handled (the process died between the 202 and the drain),
they are queued again, oldest first, with the client order ids reserved the first time, so the OMS or the
venue refuses a duplicate if the first attempt did get through. An intent older than ``recover_max_age_s``
is not placed (a signal that old is stale): it is marked dropped and recorded as ``expired``.

With a *placed check* (``placed_check``: the node looks client order ids up in its event store, where an
order's first events are committed durably before the venue gets it), a recovered intent whose orders are
already recorded is not sent again: it is marked handled and recorded as ``submitted``, "placed before the
restart". That closes the window between sending an intent's orders and marking it handled, so with the check
the marks are deferred and written in batches (:class:`tradewire.signals.marks.DispatchMarks`, every
``mark_interval_s``); :meth:`WebhookService.flush_dispatched` writes them at once (the node calls it on stop).

The stored form of an intent is :func:`intent_to_json` / :func:`intent_from_json`.
"""

from __future__ import annotations

import json
import logging
import queue
import time
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson

from tradewire.model.enums import TimeInForce
from tradewire.model.identifiers import ClientOrderId, InstrumentId, OrderListId, StrategyId
from tradewire.signals.intents import AlertIntent, PlanningError
from tradewire.signals.records import AlertRecord
from tradewire.signals.schema import Action, AlertOrderType, QuantityType

if TYPE_CHECKING:
    from tradewire.core.bus import MessageBus
    from tradewire.core.clock import Clock
    from tradewire.signals.idempotency import IdempotencyStore
    from tradewire.signals.intents import IntentPlanner
    from tradewire.signals.marks import DispatchMarks
    from tradewire.signals.records import AlertLog

log = logging.getLogger("tradewire.signals")

RISK_ENDPOINT = "RiskEngine.execute"
_NS = 1_000_000_000


def intent_to_json(intent: AlertIntent) -> str:
    """Serialize an :class:`AlertIntent` (exact decimals as strings) for the idempotency store.

    Compact JSON written with orjson (a tenth of the standard library's cost with ``separators``, which builds
    a new encoder per call); :func:`intent_from_json` reads it, and what earlier versions wrote.
    """

    # orjson writes the identifiers (``str`` subclasses) as their text and the enums (``str`` values) as their
    # value, so they go in as they are (the text is byte-identical to converting them first); Decimals it
    # does not know, and they are written as strings.
    q, px, sl, tp = intent.quantity, intent.price, intent.stop_loss, intent.take_profit
    return orjson.dumps(
        {
            "alert_key": intent.alert_key, "source": intent.source, "strategy_id": intent.strategy_id,
            "instrument_id": intent.instrument_id, "action": intent.action,
            "quantity": None if q is None else str(q), "quantity_type": intent.quantity_type,
            "order_type": intent.order_type, "price": None if px is None else str(px),
            "stop_loss": None if sl is None else str(sl), "take_profit": None if tp is None else str(tp),
            "time_in_force": intent.time_in_force, "client_order_ids": intent.client_order_ids,
            "order_list_id": intent.order_list_id, "ts_init": intent.ts_init,
        }
    ).decode()  # fmt: skip


def intent_from_json(text: str) -> AlertIntent:
    """Inverse of :func:`intent_to_json`.

    Raises
    ------
    ValueError
        If ``text`` is not a serialized intent (bad JSON, missing field, unknown enum value).
    """
    try:
        d: dict[str, Any] = json.loads(text)

        def dec(v: str | None) -> Decimal | None:
            return None if v is None else Decimal(v)

        return AlertIntent(
            alert_key=d["alert_key"], source=d["source"], strategy_id=StrategyId(d["strategy_id"]),
            instrument_id=InstrumentId(d["instrument_id"]), action=Action(d["action"]),
            quantity=dec(d["quantity"]), quantity_type=QuantityType(d["quantity_type"]),
            order_type=AlertOrderType(d["order_type"]), price=dec(d["price"]), stop_loss=dec(d["stop_loss"]),
            take_profit=dec(d["take_profit"]), time_in_force=TimeInForce(d["time_in_force"]),
            client_order_ids=tuple(ClientOrderId(i) for i in d["client_order_ids"]),
            order_list_id=None if d["order_list_id"] is None else OrderListId(d["order_list_id"]),
            ts_init=int(d["ts_init"]),
        )  # fmt: skip
    except (KeyError, TypeError, ArithmeticError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a serialized alert intent: {type(exc).__name__}: {exc}") from None


class IntentDispatch:
    """Engine-side methods of :class:`~tradewire.signals.service.WebhookService` (a mixin: the service's
    constructor sets the attributes annotated here and calls :meth:`_recover`)."""

    _store: IdempotencyStore
    _clock: Clock
    _bus: MessageBus | None
    _planner: IntentPlanner | None
    _queue: queue.Queue[AlertIntent]
    _log: AlertLog
    _marks: DispatchMarks
    _recovered: set[str]
    stage_hook: Callable[[str, str, int], None] | None
    durability_barrier: Callable[[], None] | None
    placed_check: Callable[[tuple[str, ...]], bool] | None

    def _recover(self, max_age_s: float) -> int:
        """Queue the intents a previous process accepted but did not hand to the engine; return how many."""
        undispatched = getattr(self._store, "undispatched", None)
        if undispatched is None:
            return 0
        now = self._clock.timestamp_ns()
        stale: list[str] = []
        n = 0
        for key, source, claimed_ns, text in undispatched():
            intent = intent_from_json(text)
            ids = tuple(str(i) for i in intent.client_order_ids)
            if now - claimed_ns > max_age_s * _NS:
                stale.append(key)
                reason = f"accepted {(now - claimed_ns) / _NS:.0f} s before a restart; older than {max_age_s:g} s"
                self._log.add(AlertRecord(now, source, 202, "expired", reason, alert_key=key, client_order_ids=ids))
                log.warning("webhook alert %s not placed after restart: %s", key[:12], reason)
                continue
            self._log.add(AlertRecord(claimed_ns, source, 202, "accepted", "recovered after a restart",
                                      alert_key=key, client_order_ids=ids))  # fmt: skip
            self._queue.put_nowait(intent)
            self._recovered.add(key)
            n += 1
        self._store.mark_dispatched(stale, state=2)
        if n:
            log.warning("webhook: %d accepted alert(s) recovered after a restart, queued for the engine", n)
        return n

    @property
    def pending_intents(self) -> int:
        """Intents waiting for :meth:`drain`."""
        return self._queue.qsize()

    def drain(self, max_items: int | None = None) -> int:
        """Plan and send queued intents (call from the engine thread). Returns how many were processed.

        The handled intents are then marked in the store, after ``durability_barrier``: at once, or with a
        ``placed_check`` once :meth:`flush_dispatched` finds them due (this call checks that too).

        Raises
        ------
        RuntimeError
            If the service was built without ``bus``, ``market`` and ``account``.
        """
        if self._planner is None or self._bus is None:
            raise RuntimeError("WebhookService.drain needs bus, market and account")
        n = 0
        handled: list[str] = []
        try:
            while max_items is None or n < max_items:
                try:
                    intent = self._queue.get_nowait()
                except queue.Empty:
                    break
                n += 1
                if self._recovered and intent.alert_key in self._recovered:
                    self._recovered.discard(intent.alert_key)
                    placed = self._placed_before_restart(intent)
                    if placed is None:
                        continue  # not verifiable now: left unmarked for the next start
                    if placed:
                        handled.append(intent.alert_key)
                        continue
                handled.append(intent.alert_key)
                if self.stage_hook is not None:
                    self.stage_hook(intent.alert_key, "dequeued", time.time_ns())
                self._dispatch(intent)
                if self.stage_hook is not None:
                    self.stage_hook(intent.alert_key, "dispatched", time.time_ns())
        finally:
            self._marks.add(handled)
            if self.placed_check is None or self._marks.due():
                self._marks.flush(self.durability_barrier)  # raises if not durable: the intents stay unmarked
        return n

    def flush_dispatched(self, due_only: bool = False) -> int:
        """Mark the handled intents in the store now (engine thread), after ``durability_barrier``.

        ``due_only``: only if the oldest has waited ``mark_interval_s`` (the engine loop calls it so between
        alerts). Returns how many were marked; an exception from the barrier or the store propagates and the
        intents stay unmarked.
        """
        if due_only and not self._marks.due():
            return 0
        return self._marks.flush(self.durability_barrier)

    def _placed_before_restart(self, intent: AlertIntent) -> bool | None:
        """For a recovered intent: True if its orders were recorded before the restart (then recorded as
        submitted, not sent again), False if not or there is no check, None if the check failed."""
        check = self.placed_check
        if check is None:
            return False
        ids = tuple(map(str, intent.client_order_ids))
        try:
            placed = check(ids)
        except Exception:
            log.exception("webhook alert %s: could not check whether it was placed before the restart", ids)
            self._log.update(intent.alert_key, "failed", "recovered; could not check whether it was placed", ids,
                             self._clock.timestamp_ns())  # fmt: skip
            return None
        if placed:
            log.warning("webhook alert %s was placed before the restart (%s): not sent again",
                        intent.alert_key[:12], ", ".join(ids))  # fmt: skip
            self._log.update(intent.alert_key, "submitted", "placed before the restart; not sent again", ids,
                             self._clock.timestamp_ns())  # fmt: skip
        return bool(placed)

    def _dispatch(self, intent: AlertIntent) -> None:
        ts = self._clock.timestamp_ns()
        try:
            plan = self._planner.plan(intent)
        except PlanningError as exc:
            log.warning("webhook alert %s refused by planner: %s", intent.alert_key[:12], exc)
            self._log.update(intent.alert_key, "rejected", str(exc), (), ts)
            return
        except Exception as exc:
            log.exception("webhook alert %s: planning failed", intent.alert_key[:12])
            self._log.update(intent.alert_key, "failed", f"planning failed: {type(exc).__name__}", (), ts)
            return
        try:
            for cmd in plan.commands:
                self._bus.send(RISK_ENDPOINT, cmd)
        except Exception as exc:
            log.exception("webhook alert %s: sending to %s failed", intent.alert_key[:12], RISK_ENDPOINT)
            ids = tuple(str(i) for i in plan.client_order_ids)
            self._log.update(intent.alert_key, "failed", f"send failed: {type(exc).__name__}", ids, ts)
            return
        self._log.update(intent.alert_key, plan.outcome, plan.reason, tuple(map(str, plan.client_order_ids)), ts)
