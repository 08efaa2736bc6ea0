"""`WebhookService`: one alert request in, one HTTP result out, order intents to the engine thread.

Checks, in this order (each failure returns its status and a JSON reason and places no order):

1. known source (404), body size (413, also enforced while reading the stream by the router);
2. client address against the allowlist (403), ``X-Forwarded-For`` only from trusted proxies;
3. per-source token bucket (429 with ``Retry-After``);
4. HMAC body signature when the source has an ``hmac_key`` (401);
5. decode JSON (``application/json``, or a body starting with ``{``) or the text format (422);
6. a ``secret`` present in the body is checked before the schema (401), then the schema (422,
   unknown fields named), the secret again if it was missing (401);
7. freshness of ``time`` (422), ticker mapping and instrument precision checks (422);
8. idempotency claim, durable: one upsert (one commit) claims the key and stores the 202 response and
   the serialized :class:`AlertIntent` (:meth:`SqlIdempotencyStore.claim_accept`); a duplicate returns
   the stored response (same status and order ids);
9. the intent is queued for the engine thread and 202 is returned with the reserved client order ids.
   The engine loop calls :meth:`WebhookService.drain`, which plans orders against the current position,
   sends the commands to ``RiskEngine.execute`` and marks the intents handled in the store (one
   statement per drained batch, or per ``mark_interval_s`` with a placed check, see below).

Crash safety and the engine side (recovery after a restart, batched handled marks): see
:mod:`tradewire.signals.dispatch`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import queue
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from tradewire.core.bus import MessageBus
from tradewire.core.clock import Clock
from tradewire.model.enums import TimeInForce
from tradewire.model.identifiers import InstrumentId, OrderListId, StrategyId
from tradewire.signals.auth import (
    SIGNATURE_HEADER,
    check_freshness,
    check_ip_allowed,
    check_secret,
    check_signature,
    resolve_client_ip,
)
from tradewire.signals.config import SourceConfig, WebhookSettings
from tradewire.signals.dispatch import IntentDispatch, intent_to_json
from tradewire.signals.idempotency import IdempotencyStore, SqlIdempotencyStore, StoredResult
from tradewire.signals.intents import (
    AccountView,
    AlertIntent,
    IntentPlanner,
    MarketView,
    PlanningError,
    reserve_order_ids,
    to_price,
    to_quantity,
)
from tradewire.signals.mapping import SymbolMapper
from tradewire.signals.marks import DispatchMarks
from tradewire.signals.ratelimit import TokenBucket
from tradewire.signals.records import AlertLog, AlertRecord
from tradewire.signals.schema import (
    ENTRY_ACTIONS,
    TARGET_ACTIONS,
    Action,
    AlertError,
    AlertTimeInForce,
    QuantityType,
    TradingViewAlert,
    parse_json_body,
    validate_alert,
)
from tradewire.signals.text_format import parse_text_body

log = logging.getLogger("tradewire.signals")

_NS = 1_000_000_000
_DAY_NS = 86_400 * _NS
_ADDRESS_CACHE = 4096
_TIME_IN_FORCE = {tif: TimeInForce(tif.value) for tif in AlertTimeInForce}

StageHook = Callable[[str, str, int], None]
"""``hook(alert_key, stage, time_ns)``: per-stage timestamps of an accepted alert (see :class:`WebhookService`)."""


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """HTTP answer: status, JSON body, extra headers. ``pending_key`` is set when an identical alert is
    still being processed by another worker: poll :meth:`WebhookService.lookup` for its result."""

    status_code: int
    body: dict
    headers: dict[str, str] = field(default_factory=dict)
    pending_key: str | None = None


@dataclass(frozen=True, slots=True)
class _Claim:
    """An alert that passed every check: the ``claim_accept`` arguments, its intent and the 202 body."""

    args: tuple
    intent: AlertIntent
    body: dict


@dataclass(slots=True)
class _Source:
    name: str
    config: SourceConfig
    bucket: TokenBucket
    mapper: SymbolMapper
    allowed: tuple
    proxies: tuple
    addresses: dict = field(default_factory=dict)  # (peer, X-Forwarded-For) -> (client ip, allowed)
    strategy_id: StrategyId | None = None  # StrategyId(config.strategy_id), built once (validated identifier)
    checked: dict = field(default_factory=dict)  # order fields that passed the instrument checks -> instrument

    def client_address(self, peer: str | None, forwarded_for: str | None) -> tuple[str | None, bool]:
        """The request's client address and whether the allowlist admits it, remembered per ``(peer,
        forwarded_for)`` (both are a pure function of them and this source's fixed networks: parsing the
        addresses took ~10 us a request; an alert sender keeps its address). At most
        :data:`_ADDRESS_CACHE` pairs are kept; the table starts over when full."""
        key = (peer, forwarded_for)
        hit = self.addresses.get(key)
        if hit is None:
            ip = resolve_client_ip(peer, forwarded_for, self.proxies)
            try:
                check_ip_allowed(ip, self.allowed)
                hit = (ip, True)
            except AlertError:
                hit = (ip, False)
            if len(self.addresses) >= _ADDRESS_CACHE:
                self.addresses.clear()
            self.addresses[key] = hit
        return hit


class WebhookService(IntentDispatch):
    """Receive alerts for several sources and feed order intents to the engine.

    Parameters
    ----------
    sources : Mapping[str, SourceConfig]
        Source name (URL path segment) -> config.
    store : IdempotencyStore
        Durable idempotency keys (:class:`SqlIdempotencyStore`).
    clock : Clock
        Time for freshness, rate limits and records.
    bus : MessageBus | None
        Where :meth:`drain` sends commands (endpoint ``RiskEngine.execute``).
    market : MarketView | None
        Instruments and marks (the ``Cache``); when given, unknown instruments are refused with 422.
    account : AccountView | None
        Positions and equity (the ``Portfolio``), needed by :meth:`drain`.
    queue_size : int
        Capacity of the hand-off queue; when full, alerts get 503 and are not claimed.
    wakeup : Callable[[], None] | None
        Called after each enqueue (e.g. to wake the engine loop from another thread).
    recover_max_age_s : float
        Intents left undispatched by a previous process are queued again if younger than this (seconds
        since they were accepted), else dropped and recorded as ``expired``.
    stage_hook : StageHook | None
        Called with ``(alert_key, stage, time.time_ns())`` as an accepted alert passes each stage, for
        latency breakdowns: ``received`` (the request reached :meth:`handle_async`/:meth:`handle`; the time
        is taken at entry, reported once the key is known), ``durable`` (its claim committed), ``queued``
        (handed to the engine queue), ``dequeued`` (taken by :meth:`drain` on the engine thread),
        ``dispatched`` (its commands returned from ``RiskEngine.execute``). Called on the thread of the stage;
        it must be cheap and thread-safe. ``received`` and ``durable`` are reported for every alert that
        reaches the claim (a duplicate too), the later stages only for accepted alerts. Settable as the
        attribute ``stage_hook``. None (default) costs one comparison per stage.
    durability_barrier : Callable[[], None] | None
        Called by :meth:`drain` (engine thread) after dispatching and before marking intents handled in the
        idempotency store, so whatever dispatching recorded is durable first (e.g.
        :meth:`tradewire.persistence.EventRecorder.barrier`). Settable as the attribute.
    placed_check : Callable[[tuple[str, ...]], bool] | None
        ``check(client_order_ids)``: True if any of these orders was already recorded (e.g. in the event
        store). Consulted for intents recovered after a restart (see the module docstring); when set, handled
        intents are marked in batches every ``mark_interval_s``. Settable as the attribute (the node sets it
        once its event store is open). None (default): recovered intents are sent again, marks per drain.
    mark_interval_s : float
        Longest deferral of the handled marks when ``placed_check`` is set (seconds, default 0.05).

    Raises
    ------
    ValueError
        If no source is configured, or the store holds an intent that cannot be read back.
    """

    def __init__(
        self, sources: Mapping[str, SourceConfig], store: IdempotencyStore, clock: Clock,
        bus: MessageBus | None = None, market: MarketView | None = None, account: AccountView | None = None,
        queue_size: int = 10_000, max_records: int = 10_000, wakeup: Callable[[], None] | None = None,
        recover_max_age_s: float = 60.0, stage_hook: StageHook | None = None,
        durability_barrier: Callable[[], None] | None = None,
        placed_check: Callable[[tuple[str, ...]], bool] | None = None, mark_interval_s: float = 0.05,
    ) -> None:  # fmt: skip
        if not sources:
            raise ValueError("at least one webhook source must be configured")
        self._clock = clock
        self._store = store
        self._bus = bus
        self._market = market
        self._planner = IntentPlanner(market, account) if market is not None and account is not None else None
        self._sources = {
            name: _Source(
                name, cfg, TokenBucket(cfg.rate_per_s, cfg.burst, clock.timestamp_ns), SymbolMapper(cfg),
                cfg.allowed_networks(), cfg.proxy_networks(), strategy_id=StrategyId(cfg.strategy_id),
            )
            for name, cfg in sources.items()
        }  # fmt: skip
        self._queue: queue.Queue[AlertIntent] = queue.Queue(maxsize=queue_size)
        self._log = AlertLog(max_records)
        self._wakeup = wakeup
        self._claims = 0
        self._batches: dict[asyncio.AbstractEventLoop, list] = {}  # group commit, per event loop
        self._day: int | None = None  # UTC day number of _today (see _utc_date)
        self._today: date | None = None
        self.stage_hook = stage_hook
        self.durability_barrier = durability_barrier
        self.placed_check = placed_check
        self._marks = DispatchMarks(store, mark_interval_s)
        self._recovered: set[str] = set()  # keys of recovered intents not yet drained
        self.recovered = self._recover(recover_max_age_s)

    @classmethod
    def from_settings(
        cls, settings: WebhookSettings, clock: Clock, bus: MessageBus | None = None,
        market: MarketView | None = None, account: AccountView | None = None,
        wakeup: Callable[[], None] | None = None,
    ) -> WebhookService:  # fmt: skip
        """Build from environment settings with the SQLite store in ``settings.data_dir``."""
        store = SqlIdempotencyStore(settings.data_dir / "webhook.sqlite")
        return cls(settings.source_configs(), store, clock, bus=bus, market=market, account=account, wakeup=wakeup)

    # -- queries ---------------------------------------------------------------------------------
    def max_body_bytes(self, source: str) -> int:
        """Body size limit of ``source`` (the smallest configured limit for unknown sources)."""
        src = self._sources.get(source)
        if src is not None:
            return src.config.max_body_bytes
        return min(s.config.max_body_bytes for s in self._sources.values())

    def recent_alerts(self, limit: int = 100, source: str | None = None) -> list[AlertRecord]:
        """The newest alert records (newest first)."""
        return self._log.recent(limit, source)

    # -- HTTP side ---------------------------------------------------------------------------------
    def reject(self, source: str, status: int, reason: str, client_ip: str | None = None) -> WebhookResult:
        """Record and answer a rejection decided outside :meth:`handle` (e.g. 413 while streaming)."""
        self._log.add(AlertRecord(self._clock.timestamp_ns(), source, status, "rejected", reason, client_ip))
        log.info("webhook %s rejected %s: %s", source, status, reason)
        return WebhookResult(status, {"status": "rejected", "reason": reason})

    def handle(
        self, source: str, body: bytes, content_type: str | None, peer: str | None, headers: Mapping[str, str]
    ) -> WebhookResult:
        """Process one request (thread-safe). See the module docstring for the order of checks.

        Parameters
        ----------
        source : str
            URL source segment.
        body : bytes
            Raw request body.
        content_type : str | None
            ``Content-Type`` header.
        peer : str | None
            TCP peer address.
        headers : Mapping[str, str]
            Request headers with lower-case names.

        Returns
        -------
        WebhookResult
        """
        now = self._clock.timestamp_ns()
        t_in = time.time_ns() if self.stage_hook is not None else 0
        rec = AlertRecord(now, source, 0, "rejected")
        try:
            claim = self._prepare(source, body, content_type, peer, headers, now, rec)
            existing = self._store.claim_accept(*claim.args)
            if self.stage_hook is not None:
                self.stage_hook(claim.args[0], "received", t_in)
                self.stage_hook(claim.args[0], "durable", time.time_ns())
            result = self._complete(claim, existing, rec)
        except Exception as exc:
            result = self._failure(source, rec, exc)
        return self._record(rec, result)

    async def handle_async(
        self, source: str, body: bytes, content_type: str | None, peer: str | None, headers: Mapping[str, str]
    ) -> WebhookResult:
        """:meth:`handle` for an asyncio event loop, with group commit.

        The checks run at once; the claims of all requests that reach this point in the same event-loop
        iteration are written in one transaction (:meth:`SqlIdempotencyStore.claim_accept_many`), and
        each request is answered after that commit, so a 202 still means "stored durably". Under load this
        amortizes the commit (most of the cost of a claim) over the batch; a lone request pays what
        :meth:`handle` pays.
        """
        now = self._clock.timestamp_ns()
        t_in = time.time_ns() if self.stage_hook is not None else 0
        rec = AlertRecord(now, source, 0, "rejected")
        try:
            claim = self._prepare(source, body, content_type, peer, headers, now, rec)
            if self.stage_hook is not None:
                self.stage_hook(claim.args[0], "received", t_in)
            existing = await self._group_claim(claim.args)
            result = self._complete(claim, existing, rec)
        except Exception as exc:
            result = self._failure(source, rec, exc)
        return self._record(rec, result)

    def _group_claim(self, args: tuple) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        batch = self._batches.get(loop)
        if batch is None:
            batch = self._batches[loop] = []
            loop.call_soon(self._flush_claims, loop)
        batch.append((args, fut))
        return fut

    def _flush_claims(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = self._batches.pop(loop, [])
        if not batch:
            return
        try:
            many = getattr(self._store, "claim_accept_many", None)
            if many is not None:
                results = many([args for args, _ in batch])
            else:
                results = [self._store.claim_accept(*args) for args, _ in batch]
        except Exception as exc:
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        if self.stage_hook is not None:
            t = time.time_ns()
            for args, _ in batch:
                self.stage_hook(args[0], "durable", t)
        for (_, fut), res in zip(batch, results, strict=True):
            if not fut.done():
                fut.set_result(res)

    def _failure(self, source: str, rec: AlertRecord, exc: Exception) -> WebhookResult:
        if isinstance(exc, AlertError):
            rec.reason = exc.reason
            log.info("webhook %s rejected %s: %s", source, exc.status, exc.reason)
            return WebhookResult(exc.status, {"status": "rejected", "reason": exc.reason}, exc.headers)
        log.error("webhook %s: internal error", source, exc_info=exc)
        rec.outcome, rec.reason = "failed", "internal error"
        return WebhookResult(500, {"status": "error", "reason": "internal error"})

    def _record(self, rec: AlertRecord, result: WebhookResult) -> WebhookResult:
        if result.pending_key is None:
            rec.status_code = result.status_code
            self._log.add(rec)
        return result

    def _prepare(self, source, body, content_type, peer, headers, now, rec) -> _Claim:
        src = self._sources.get(source)
        if src is None:
            raise AlertError(404, "unknown webhook source")
        cfg = src.config
        if len(body) > cfg.max_body_bytes:
            raise AlertError(413, f"body larger than {cfg.max_body_bytes} bytes")
        client_ip, allowed = src.client_address(peer, headers.get("x-forwarded-for"))
        rec.client_ip = client_ip
        if not allowed:
            check_ip_allowed(client_ip, src.allowed)  # raises 403 with its reason
        ok, retry_after = src.bucket.try_acquire()
        if not ok:
            raise AlertError(429, "rate limit exceeded", {"Retry-After": str(retry_after)})
        if cfg.hmac_key is not None:
            check_signature(cfg.hmac_key, body, headers.get(SIGNATURE_HEADER))
        ctype = (content_type or "").split(";", 1)[0].strip().lower()
        if ctype == "application/json" or ctype.endswith("+json") or body.lstrip()[:1] == b"{":
            data = parse_json_body(body)
        else:
            data = parse_text_body(body)
        given = data.get("secret")
        if isinstance(given, str):
            check_secret(cfg.secret, given)
        alert = validate_alert(data)
        rec.ticker, rec.action, rec.alert_id = alert.ticker, alert.action.value, alert.alert_id
        if not (isinstance(given, str) and alert.secret.get_secret_value() == given):  # else compared above
            check_secret(cfg.secret, alert.secret)
        check_freshness(alert.time_ns, now, cfg.max_age_s, cfg.max_future_s, cfg.require_time)
        instrument_id = src.mapper.resolve(alert.ticker, self._utc_date(now))
        rec.instrument_id = str(instrument_id)
        quantity, qtype = self._sizing(alert, cfg)
        self._prevalidate(alert, instrument_id, quantity, qtype, src.checked)
        key, expires = self._key(source, alert, cfg, now)
        rec.alert_key = key
        if self._queue.full():  # checked before the claim, so a refused alert leaves no trace in the store
            raise AlertError(503, "engine queue full; alert not accepted")
        prefix = "TV" + hashlib.sha256(f"{key}:{now}".encode()).hexdigest()[:16].upper()
        ids = reserve_order_ids(prefix, alert.action, alert.stop_loss, alert.take_profit)
        intent = AlertIntent(
            alert_key=key, source=source, strategy_id=src.strategy_id, instrument_id=instrument_id,
            action=alert.action, quantity=quantity, quantity_type=qtype, order_type=alert.order_type,
            price=alert.price, stop_loss=alert.stop_loss, take_profit=alert.take_profit,
            time_in_force=_TIME_IN_FORCE[alert.time_in_force], client_order_ids=ids,
            order_list_id=OrderListId(f"{prefix}-L") if len(ids) > 1 else None, ts_init=now,
        )  # fmt: skip
        body_out = {
            "status": "accepted", "alert_key": key, "instrument_id": rec.instrument_id,
            "action": rec.action, "client_order_ids": list(map(str, ids)),
        }  # fmt: skip
        return _Claim((key, source, now, expires, 202, body_out, intent_to_json(intent)), intent, body_out)

    def _complete(self, claim: _Claim, existing: StoredResult | None, rec: AlertRecord) -> WebhookResult:
        if existing is not None:
            return self._replay(existing, rec)
        key, now, intent = claim.args[0], claim.args[2], claim.intent
        self._claims += 1
        if self._claims % 1000 == 0:
            self._store.purge(now)
        try:
            self._queue.put_nowait(intent)
        except queue.Full:  # another thread filled the queue since the check above
            self._store.release(key, accepted=True)
            raise AlertError(503, "engine queue full; alert not accepted") from None
        rec.client_order_ids = tuple(map(str, intent.client_order_ids))
        rec.outcome = "accepted"
        if self._wakeup is not None:
            self._wakeup()
        if self.stage_hook is not None:
            self.stage_hook(key, "queued", time.time_ns())
        return WebhookResult(202, claim.body)

    def _utc_date(self, now: int) -> date:
        """The UTC date of ``now`` (ns), recomputed only when the day changes."""
        day = now // _DAY_NS
        if day != self._day:
            self._day, self._today = day, datetime.fromtimestamp(day * 86_400, tz=UTC).date()
        return self._today

    def _sizing(self, alert: TradingViewAlert, cfg: SourceConfig) -> tuple[Decimal | None, QuantityType]:
        quantity = alert.quantity
        qtype = alert.quantity_type
        if quantity is None and (alert.action in ENTRY_ACTIONS or alert.action in (Action.LONG, Action.SHORT)):
            if cfg.default_quantity is None:
                raise AlertError(422, f"quantity: required for {alert.action.value} (no default_quantity configured)")
            quantity = cfg.default_quantity
            qtype = qtype or QuantityType(cfg.default_quantity_type)
        qtype = qtype or QuantityType.UNITS
        if qtype is QuantityType.PERCENT_EQUITY and quantity is not None and quantity > cfg.max_percent_equity:
            raise AlertError(422, f"quantity: {quantity} percent of equity exceeds the limit {cfg.max_percent_equity}")
        if qtype is QuantityType.RISK and quantity is not None and quantity > 100:
            raise AlertError(422, "quantity: risk percent must be at most 100")
        if qtype is QuantityType.RISK and alert.stop_loss is None:
            raise AlertError(422, "quantity_type risk needs a stop_loss")
        if alert.action in TARGET_ACTIONS and alert.action is not Action.FLAT and quantity is None:
            raise AlertError(422, f"quantity: required for target position {alert.action.value}")
        return quantity, qtype

    def _prevalidate(
        self,
        alert: TradingViewAlert,
        instrument_id: InstrumentId,
        quantity: Decimal | None,
        qtype: QuantityType,
        checked: dict | None = None,
    ) -> None:
        """Refuse (422) an unknown instrument, or a quantity or price the instrument cannot represent.

        ``checked`` remembers the order fields that passed, keyed by their exact text (``str`` of a Decimal keeps
        its exponent: ``0.0010`` and ``0.001`` are different keys) and mapped to the instrument object they
        passed for: a repeated alert skips the checks only while the cache holds that same instrument object (an
        instrument replaced in the cache is checked again). At most :data:`_ADDRESS_CACHE` entries; the table
        starts over when full. The checks are pure functions of those fields and the instrument.
        """
        if self._market is None:
            return
        inst = self._market.instruments.get(instrument_id)
        if inst is None:
            raise AlertError(422, f"ticker: unknown instrument {instrument_id} (from {alert.ticker!r})")
        memo = None
        if checked is not None:
            price, sl, tp = alert.price, alert.stop_loss, alert.take_profit
            memo = (
                instrument_id, qtype, alert.order_type, None if quantity is None else str(quantity),
                None if price is None else str(price), None if sl is None else str(sl), None if tp is None else str(tp),
            )  # fmt: skip
            if checked.get(memo) is inst:
                return
        try:
            if quantity is not None and qtype in (QuantityType.UNITS, QuantityType.CONTRACTS):
                to_quantity(inst, quantity)
            if alert.price is not None and alert.order_type.value != "market":
                to_price(inst, alert.price, "price")
            if alert.stop_loss is not None:
                to_price(inst, alert.stop_loss, "stop_loss")
            if alert.take_profit is not None:
                to_price(inst, alert.take_profit, "take_profit")
        except PlanningError as exc:
            raise AlertError(422, str(exc)) from None
        if memo is not None:
            if len(checked) >= _ADDRESS_CACHE:
                checked.clear()
            checked[memo] = inst

    @staticmethod
    def _key(source: str, alert: TradingViewAlert, cfg: SourceConfig, now: int) -> tuple[str, int]:
        """Idempotency key and expiry: ``alert_id`` if given, else sha256 of the normalized alert (which
        includes ``time``); without either, the body alone dedups for ``dedup_window_s`` only."""
        if alert.alert_id is not None:
            material, ttl = f"id\0{alert.alert_id}", cfg.key_retention_s
        else:
            canon = json.dumps(alert.normalized(), sort_keys=True, separators=(",", ":"))
            ttl = cfg.key_retention_s if alert.time is not None else cfg.dedup_window_s
            material = f"body\0{canon}"
        key = hashlib.sha256(f"{source}\0{material}".encode()).hexdigest()
        return key, now + ttl * _NS

    def _replay(self, existing: StoredResult, rec: AlertRecord) -> WebhookResult:
        if existing.pending:
            return WebhookResult(409, {"status": "pending", "reason": "identical alert in progress"}, {},
                                 pending_key=existing.key)  # fmt: skip
        body = dict(existing.response or {})
        rec.outcome, rec.reason = "duplicate", "idempotent replay"
        rec.client_order_ids = tuple(body.get("client_order_ids", ()))
        return WebhookResult(existing.status_code or 200, body, {"Idempotent-Replay": "true"})

    def lookup(self, key: str, source: str = "") -> WebhookResult | None:
        """The stored result for a pending key, or None while still pending."""
        existing = self._store.get(key)
        if existing is None:  # the claimant released it: the caller may retry
            return WebhookResult(409, {"status": "retry", "reason": "identical alert failed; retry"})
        if existing.pending:
            return None
        rec = AlertRecord(self._clock.timestamp_ns(), source or existing.source, 0, "duplicate", alert_key=key)
        result = self._replay(existing, rec)
        rec.status_code = result.status_code
        self._log.add(rec)
        return result

    def handle_blocking(
        self, source: str, body: bytes, content_type: str | None, peer: str | None, headers: Mapping[str, str],
        timeout_s: float = 2.0, poll_s: float = 0.002,
    ) -> WebhookResult:  # fmt: skip
        """:meth:`handle`, waiting (sleeping in this thread) while an identical alert is pending."""
        result = self.handle(source, body, content_type, peer, headers)
        deadline = time.monotonic() + timeout_s
        while result.pending_key is not None:
            if time.monotonic() > deadline:
                return WebhookResult(409, {"status": "pending", "reason": "identical alert in progress"})
            time.sleep(poll_s)
            found = self.lookup(result.pending_key, source)
            if found is not None:
                return found
        return result
