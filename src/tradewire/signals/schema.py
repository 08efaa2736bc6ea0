"""The alert schema (pydantic v2) and the exact JSON parser for alert bodies.

An alert is a small, closed set of fields (unknown fields are rejected with their name)::

    {"secret": "...", "ticker": "BINANCE:BTCUSDT", "action": "buy", "quantity": 0.01,
     "quantity_type": "units", "order_type": "market", "price": null, "stop_loss": null,
     "take_profit": null, "time_in_force": "gtc", "alert_id": "...", "time": "2024-08-08T23:55:00Z"}

Only ``secret``, ``ticker`` and ``action`` are required. Numbers are parsed as ``Decimal`` straight
from the JSON text (``json.loads(parse_float=Decimal)``), never through binary floats; numeric
strings (``"420.69"``) are accepted too. See ``docs/tradingview.md`` for the semantics.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)


class AlertError(Exception):
    """An alert was refused. ``status`` is the HTTP status, ``reason`` a message safe to return.

    Parameters
    ----------
    status : int
        401, 403, 413, 422, 429 or 503.
    reason : str
        Human-readable reason. Never contains the secret.
    headers : dict[str, str] | None
        Extra response headers (``Retry-After`` for 429).
    """

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers or {}


class Action(str, Enum):
    """What the alert asks for.

    ``buy``/``sell`` open or add (``{{strategy.order.action}}`` renders to these); ``close`` reduces the
    current position (fully, or by ``quantity``); ``flatten`` cancels the instrument's working orders
    and closes the position; ``reverse`` flips the position (to ``quantity`` on the other side, or to the
    same size); ``long``/``short``/``flat`` (what ``{{strategy.market_position}}`` renders) set a
    target position: long ``quantity``, short ``quantity``, or zero.
    """

    BUY = "buy"
    SELL = "sell"
    CLOSE = "close"
    FLATTEN = "flatten"
    REVERSE = "reverse"
    LONG = "long"
    SHORT = "short"
    FLAT = "flat"


TARGET_ACTIONS = frozenset({Action.LONG, Action.SHORT, Action.FLAT})
ENTRY_ACTIONS = frozenset({Action.BUY, Action.SELL})


class QuantityType(str, Enum):
    """How ``quantity`` is read: units/contracts of the instrument, percent of equity as notional,
    or percent of equity put at risk between entry and ``stop_loss``."""

    UNITS = "units"
    CONTRACTS = "contracts"
    PERCENT_EQUITY = "percent_equity"
    RISK = "risk"


class AlertOrderType(str, Enum):
    """Order type of the entry: market, limit (at ``price``) or stop (stop-market triggered at ``price``)."""

    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"


class AlertTimeInForce(str, Enum):
    """Time in force of the entry order."""

    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    DAY = "day"


PositiveDecimal = Annotated[Decimal, Field(gt=0, allow_inf_nan=False, max_digits=30)]
Ticker = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:!/&-]+$")]
AlertId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]


def _placeholder_check(v: Any) -> Any:
    if isinstance(v, str) and "{{" in v:
        raise ValueError("contains an unrendered TradingView placeholder '{{...}}'")
    return v


class TradingViewAlert(BaseModel):
    """One validated alert. Field semantics: module docstring and ``docs/tradingview.md``.

    Raises
    ------
    pydantic.ValidationError
        On unknown fields, wrong types, non-positive or non-finite numbers, inconsistent
        combinations (limit without price, bracket on a non-entry action, ...).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    secret: SecretStr = Field(max_length=256)
    ticker: Ticker
    action: Action
    quantity: Annotated[Decimal, Field(ge=0, allow_inf_nan=False, max_digits=30)] | None = None
    quantity_type: QuantityType | None = None
    order_type: AlertOrderType = AlertOrderType.MARKET
    price: PositiveDecimal | None = None
    stop_loss: PositiveDecimal | None = None
    take_profit: PositiveDecimal | None = None
    time_in_force: AlertTimeInForce = AlertTimeInForce.GTC
    alert_id: AlertId | None = None
    time: AwareDatetime | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _no_placeholders(cls, v: Any) -> Any:
        return _placeholder_check(v)

    @field_validator("action", "quantity_type", "order_type", "time_in_force", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("quantity", "price", "stop_loss", "take_profit", mode="before")
    @classmethod
    def _no_float(cls, v: Any) -> Any:
        if isinstance(v, float):
            raise ValueError("binary floats are not accepted; parse the body with parse_float=Decimal")
        if isinstance(v, bool):
            raise ValueError("a boolean is not a number")
        return v

    @model_validator(mode="after")
    def _check_combination(self) -> TradingViewAlert:
        if self.quantity is not None and self.quantity == 0 and self.action is not Action.FLAT:
            raise ValueError("quantity must be greater than 0 (0 is only meaningful with action flat)")
        if self.order_type is not AlertOrderType.MARKET and self.price is None:
            raise ValueError(f"order_type {self.order_type.value} needs a price")
        bracket = self.stop_loss is not None or self.take_profit is not None
        if bracket and self.action not in ENTRY_ACTIONS:
            raise ValueError(f"stop_loss/take_profit are only allowed with buy or sell, not {self.action.value}")
        if self.quantity_type is QuantityType.RISK and self.stop_loss is None:
            raise ValueError("quantity_type risk needs a stop_loss (the risk is the distance to it)")
        if self.stop_loss is not None and self.take_profit is not None:
            buy = self.action is Action.BUY
            if (buy and self.stop_loss >= self.take_profit) or (not buy and self.stop_loss <= self.take_profit):
                side = "below" if buy else "above"
                raise ValueError(f"for a {self.action.value}, stop_loss must be {side} take_profit")
        ref = self.price
        if ref is not None and self.action in ENTRY_ACTIONS:
            buy = self.action is Action.BUY
            if self.stop_loss is not None and ((buy and self.stop_loss >= ref) or (not buy and self.stop_loss <= ref)):
                raise ValueError(
                    f"stop_loss {self.stop_loss} is on the wrong side of price {ref} for a {self.action.value}"
                )
            if self.take_profit is not None and (
                (buy and self.take_profit <= ref) or (not buy and self.take_profit >= ref)
            ):
                raise ValueError(
                    f"take_profit {self.take_profit} is on the wrong side of price {ref} for a {self.action.value}"
                )
        if self.action is Action.FLATTEN and self.order_type is not AlertOrderType.MARKET:
            raise ValueError("flatten always uses a market order")
        return self

    @property
    def time_ns(self) -> int | None:
        """Alert time as UTC ns, or None."""
        if self.time is None:
            return None
        return _datetime_ns(self.time)

    def normalized(self) -> dict[str, Any]:
        """Canonical dict without the secret (Decimals as normalized strings; for hashing and logs)."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            if name == "secret":
                continue
            v = getattr(self, name)
            if v is None:
                continue
            if isinstance(v, Decimal):
                v = _dec_str(v)
            elif isinstance(v, Enum):
                v = v.value
            elif isinstance(v, datetime):
                v = str(_datetime_ns(v))
            out[name] = v
        return out


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _dec_str(d: Decimal) -> str:
    n = d.normalize()
    return format(n, "f")


def _datetime_ns(dt: datetime) -> int:
    delta = dt - _EPOCH  # exact: timedelta holds days, seconds, microseconds as ints
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys)
"""Built once: ``json.loads`` with these hooks builds a new decoder per call (~4 us of the ~5 us it took)."""


def format_validation_error(exc: ValidationError) -> str:
    """Summarize a pydantic error as ``field: message; ...`` without echoing input values."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = ".".join(str(x) for x in err["loc"]) or "body"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field (not part of the alert schema)"
        elif err["type"] == "missing":
            msg = "field required"
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


def parse_json_body(body: bytes) -> dict[str, Any]:
    """Decode a JSON alert body exactly.

    Parameters
    ----------
    body : bytes
        Raw request body, UTF-8.

    Returns
    -------
    dict
        The top-level object; numbers with a fraction or exponent as ``Decimal``, integers as ``int``.

    Raises
    ------
    AlertError
        422 when the body is not UTF-8, not JSON (with line, column and byte offset), contains
        NaN/Infinity or duplicate keys, or is not an object.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AlertError(422, f"body is not UTF-8 (byte offset {exc.start})") from None
    try:
        if text.startswith("\ufeff"):  # what json.loads refuses before decoding
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        data = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise AlertError(
            422, f"invalid JSON at line {exc.lineno} column {exc.colno} (char offset {exc.pos}): {exc.msg}"
        ) from None
    except ValueError as exc:
        raise AlertError(422, f"invalid JSON: {exc}") from None
    except RecursionError:
        raise AlertError(422, "invalid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise AlertError(422, f"alert must be a JSON object, got {type(data).__name__}")
    return data


_VALIDATE = TradingViewAlert.__pydantic_validator__.validate_python


def validate_alert(data: dict[str, Any]) -> TradingViewAlert:
    """Validate a decoded alert dict.

    Raises
    ------
    AlertError
        422 with ``field: message`` for every problem (unknown fields named).
    """
    try:
        return _VALIDATE(data)  # TradingViewAlert.model_validate without its Python-level wrapper
    except ValidationError as exc:
        raise AlertError(422, format_validation_error(exc)) from None
    except (TypeError, ValueError, ArithmeticError) as exc:  # defensive: a validator raising outside pydantic
        raise AlertError(422, f"invalid alert: {type(exc).__name__}") from None
