"""Exact, generic JSON serialization of frozen dataclass events, with a registry by type name.

Every record stored in the event log is a frozen dataclass whose class is registered here under its
``__name__`` (:func:`register`). :func:`encode` turns an instance into a JSON-ready ``dict`` of its
fields; :func:`decode` rebuilds it from the type name and that dict, driven by the dataclass field
type hints, so the encoded form carries no per-value type tags except where a hint is ambiguous.

Encoding of values (exact, no binary floats anywhere):

============================  ==================================================================
value                         JSON
============================  ==================================================================
``Price`` / ``Quantity``      string with exactly ``precision`` decimals (``"60123.45"``); when
                              the raw value has more digits than its precision, the full value
                              then ``/precision`` (``"1.234567891/2"``) so nothing is rounded
``Money``                     ``{"amount": "<exact decimal>", "currency": "<code>"}``
``Currency``                  its code
``Decimal``                   its string (``str(Decimal)``)
identifiers (``str`` types)   the string; the field hint gives the type back
enums                         ``.value``
``tuple`` / ``list``          list of encoded items
``dict``                      object of encoded values (keys as strings)
nested dataclass              object of its encoded fields
``int`` / ``bool`` / ``str``  as is (ints are arbitrary precision in Python's ``json``)
ambiguous hint (``Any``,      ``{"$type": "<name>", "value": <encoded>}``
union of several types)
============================  ==================================================================

Binary floats are refused (``SerializationError``) wherever money, prices or quantities could be: a
float is accepted only in a field annotated ``float`` (or ``Any``, e.g. a details dict), which is how a
record declares a statistic such as a signal strength; JSON stores its shortest repr, which
round-trips exactly.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import types
import typing
from decimal import Decimal
from functools import cache
from typing import Any

from tradewire._native import type_hints
from tradewire.model.events import ORDER_EVENT_TYPES
from tradewire.model.identifiers import Identifier
from tradewire.model.instruments import Instrument
from tradewire.model.objects import Currency, Money, Price, Quantity, parse_raw, raw_to_str

_REGISTRY: dict[str, type] = {}
_REGISTERED: set[type] = set()  # the classes in _REGISTRY (membership test by identity)


class SerializationError(ValueError):
    """A record could not be encoded or decoded (names the type, field and offending value)."""


def register(cls: type) -> type:
    """Register a frozen dataclass under its class name (usable as a decorator).

    Parameters
    ----------
    cls : type
        A dataclass type. Registering the same class twice is a no-op.

    Returns
    -------
    type
        ``cls`` unchanged.

    Raises
    ------
    TypeError
        If ``cls`` is not a dataclass, or another class is already registered under that name.
    """
    if not dataclasses.is_dataclass(cls) or not isinstance(cls, type):
        raise TypeError(f"{cls!r} is not a dataclass type")
    name = cls.__name__
    prev = _REGISTRY.get(name)
    if prev is not None and prev is not cls:
        raise TypeError(f"type name {name!r} already registered for {prev.__module__}.{prev.__qualname__}")
    _REGISTRY[name] = cls
    _REGISTERED.add(cls)
    return cls


def registered_type(name: str) -> type:
    """Return the class registered as ``name``.

    Raises
    ------
    SerializationError
        If nothing is registered under ``name``.
    """
    _autoregister()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise SerializationError(f"unknown record type {name!r}: register it with persistence.serialization") from None


def is_registered(cls: type) -> bool:
    """True if ``cls`` itself is registered."""
    if cls in _REGISTERED:  # called for every stored record (append, encode): one set lookup
        return True
    _autoregister()
    return _REGISTRY.get(cls.__name__) is cls


def registered_names() -> list[str]:
    """Sorted names of all registered types."""
    _autoregister()
    return sorted(_REGISTRY)


_OPTIONAL_MODULES = (
    # Modules whose dataclasses other packages publish as events; every dataclass defined in them is
    # registered when the package is part of this build.
    "tradewire.execution.reports",
    "tradewire.model.account",
    "tradewire.portfolio.events",
    "tradewire.risk.events",
)
_auto_done = False


def _autoregister() -> None:
    global _auto_done
    if _auto_done:
        return
    _auto_done = True
    for cls in ORDER_EVENT_TYPES.values():
        register(cls)
    register(Instrument)
    import importlib

    for mod_name in _OPTIONAL_MODULES:
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name and mod_name.startswith(exc.name):
                continue
            raise
        for obj in vars(mod).values():
            if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == mod_name:
                register(obj)


# -- encoding ------------------------------------------------------------------------------------


_UNIT = tuple(10 ** (9 - p) for p in range(10))  # raw units of the last decimal at precision p


def _fixed_to_json(v: Price | Quantity) -> str:
    raw, precision = v.raw, v.precision
    if raw % _UNIT[precision]:  # raw has more digits than its precision: keep every digit
        return f"{raw_to_str(raw, 9)}/{precision}"
    whole, frac = divmod(-raw if raw < 0 else raw, _SCALE)  # exact at this precision: raw_to_str's text
    text = f"{whole}.{f'{frac:09d}'[:precision]}" if precision else str(whole)
    return "-" + text if raw < 0 else text


def _encode_value(v: Any, hint: Any, where: str) -> Any:
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, (Price, Quantity)):
        out: Any = _fixed_to_json(v)
    elif isinstance(v, Money):
        out = _money_to_json(v)
    elif isinstance(v, Currency):
        out = v.code
    elif isinstance(v, enum.Enum):
        out = v.value
    elif isinstance(v, Decimal):
        if not v.is_finite():
            raise SerializationError(f"{where}: non-finite Decimal {v!r}")
        out = str(v)
    elif isinstance(v, (int, str)):
        out = str(v) if isinstance(v, Identifier) else v
    elif isinstance(v, float):
        bare, _ = _strip_optional(hint)
        if (bare is float or bare is Any) and math.isfinite(v):
            return v  # a statistic declared as float (e.g. a signal strength); JSON round-trips it exactly
        raise SerializationError(f"{where}: binary float {v!r} is not exact (use Decimal, Price or Money)")
    elif dataclasses.is_dataclass(v):
        out = _encode_fields(v, where)
    elif isinstance(v, (tuple, list)):
        items = []
        for i, (x, h) in enumerate(zip(v, _item_hints(hint, len(v)), strict=True)):
            enc = _EXACT.get(type(x)) or _exact_for(type(x))
            if enc is _encode_value or _is_ambiguous(h):
                items.append(_encode_value(x, h, f"{where}[{i}]"))
            else:  # an exactly typed item (a Money in a balance tuple ...): its encoder, no cascade, no path text
                items.append(enc(x))
        return items
    elif isinstance(v, dict):
        _, vh = _dict_hints(hint)
        plain = not _is_ambiguous(vh)
        out = {}
        for k, x in v.items():
            enc = _EXACT.get(type(x)) or _exact_for(type(x))
            out[str(k)] = enc(x) if plain and enc is not _encode_value else _encode_value(x, vh, f"{where}[{k!r}]")
        return out
    else:
        raise SerializationError(f"{where}: cannot encode {type(v).__name__} value {v!r}")
    if _is_ambiguous(hint):
        return {"$type": type(v).__name__, "value": out}
    return out


@cache
def _encode_plan(cls: type) -> tuple[tuple[str, Any, bool], ...]:
    """Per field of ``cls``: name, type hint, and whether the hint is ambiguous (computed once per class)."""
    hints = _hints(cls)
    return tuple((f.name, hints.get(f.name, Any), _is_ambiguous(hints.get(f.name, Any))) for f in _fields(cls))


_SCALE = 10**9  # Money's raw scale


def _money_amount(raw: int) -> str:
    """``str(Money.as_decimal())`` for a raw amount, by integer arithmetic.

    Same text as the Decimal path (trailing zeros removed, integral values without a point); amounts below
    1e-6 in magnitude keep the Decimal path, whose ``str`` switches to exponent form there (``"1E-9"``).
    """
    if raw == 0:
        return "0"
    a = -raw if raw < 0 else raw
    if a < 1000:
        return str(Money.from_raw(raw, _USD).as_decimal())
    whole, frac = divmod(a, _SCALE)
    text = f"{whole}.{frac:09d}".rstrip("0").rstrip(".") if frac else str(whole)
    return "-" + text if raw < 0 else text


_USD = Currency.from_str("USD")


def _money_to_json(v: Money) -> dict[str, str]:
    return {"amount": _money_amount(v.raw), "currency": v.currency.code}


def _exact_encoder(t: type) -> Any:
    """What :func:`_encode_value` does for a value of type ``t`` under an unambiguous hint, when that is a
    fixed function of the value (None: take :func:`_encode_value`)."""
    if t is str or t is int or t is bool or t is type(None):
        return _identity
    if issubclass(t, bool):
        return None
    if issubclass(t, (Price, Quantity)):
        return _fixed_to_json
    if issubclass(t, Money):
        return _money_to_json
    if issubclass(t, Currency):
        return _currency_code
    if issubclass(t, enum.Enum):
        return _enum_value
    if issubclass(t, Identifier):
        return str
    return None


def _identity(v: Any) -> Any:
    return v


def _currency_code(v: Currency) -> str:
    return v.code


def _enum_value(v: enum.Enum) -> Any:
    return v.value


_EXACT: dict[type, Any] = {}  # value type -> its encoder (see _exact_encoder), filled as types are seen


def _exact_for(t: type) -> Any:
    """The encoder of values of type ``t`` under an unambiguous hint (``_encode_value`` when not fixed)."""
    enc = _EXACT.get(t)
    if enc is None:
        enc = _EXACT[t] = _exact_encoder(t) or _encode_value
    return enc


def _encode_fields(obj: Any, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    exact = _EXACT
    for name, hint, ambiguous in _encode_plan(type(obj)):
        v = getattr(obj, name)
        if v is None or v is True or v is False:
            out[name] = v
            continue
        if not ambiguous:  # the commonest values: one dict lookup instead of _encode_value's cascade
            t = type(v)
            enc = exact.get(t, _encode_value)
            if enc is _encode_value and t not in exact:
                enc = exact[t] = _exact_encoder(t) or _encode_value
            if enc is not _encode_value:
                out[name] = enc(v)
                continue
        out[name] = _encode_value(v, hint, f"{where}.{name}")
    return out


def encode(obj: Any) -> dict[str, Any]:
    """Encode a registered dataclass instance as a JSON-ready dict of its fields.

    Parameters
    ----------
    obj : dataclass instance
        Its class must be registered (:func:`register`).

    Returns
    -------
    dict
        Field name -> encoded value (see the module docstring).

    Raises
    ------
    SerializationError
        If the type is not registered or a value cannot be encoded exactly (e.g. a float).
    """
    cls = type(obj)
    if not is_registered(cls):
        raise SerializationError(
            f"{cls.__module__}.{cls.__qualname__} is not a registered record type "
            "(tradewire.persistence.serialization.register)"
        )
    return _encode_fields(obj, cls.__name__)


def dumps(obj: Any) -> str:
    """Encode ``obj`` (see :func:`encode`) to compact JSON text."""
    return json.dumps(encode(obj), separators=(",", ":"), ensure_ascii=False)


# -- decoding ------------------------------------------------------------------------------------


@cache
def _hints(cls: type) -> dict[str, Any]:
    return type_hints(cls)  # typing.get_type_hints, also for the classes of the compiled model


@cache
def _fields(cls: type) -> tuple[dataclasses.Field, ...]:
    return tuple(f for f in dataclasses.fields(cls) if f.init)


@cache
def _strip_optional(hint: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
        return hint, True
    return hint, False


@cache
def _is_ambiguous(hint: Any) -> bool:
    hint, _ = _strip_optional(hint)
    if hint is Any or hint is object:
        return True
    origin = typing.get_origin(hint)
    return origin is typing.Union or origin is types.UnionType


@cache
def _item_hints(hint: Any, n: int) -> tuple[Any, ...]:
    hint, _ = _strip_optional(hint)
    args = typing.get_args(hint)
    origin = typing.get_origin(hint)
    if origin in (tuple, list) and args:
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if len(args) != n:
                return (Any,) * n
            return tuple(args)
        return (args[0],) * n
    return (Any,) * n


@cache
def _dict_hints(hint: Any) -> tuple[Any, Any]:
    hint, _ = _strip_optional(hint)
    args = typing.get_args(hint)
    if typing.get_origin(hint) is dict and len(args) == 2:
        return args[0], args[1]
    return Any, Any


def _fixed_from_json(cls: type, text: Any, where: str) -> Any:
    if not isinstance(text, str):
        raise SerializationError(f"{where}: expected a decimal string, got {text!r}")
    value, slash, prec = text.partition("/")
    try:
        raw = parse_raw(value)
        precision = int(prec) if slash else len(value.partition(".")[2])
    except (ValueError, TypeError) as exc:
        raise SerializationError(f"{where}: bad {cls.__name__} {text!r}: {exc}") from None
    return cls.from_raw(raw, precision)


def _decode_value(data: Any, hint: Any, where: str) -> Any:
    if data is None:
        return None
    hint, _ = _strip_optional(hint)
    if _is_ambiguous(hint):
        if not (isinstance(data, dict) and "$type" in data):
            if isinstance(data, (bool, int, str, float)):
                return data
            raise SerializationError(f"{where}: untagged value {data!r} for ambiguous type")
        return _decode_value(data["value"], _tag_type(data["$type"], where), where)
    origin = typing.get_origin(hint)
    try:
        if hint in (Price, Quantity):
            return _fixed_from_json(hint, data, where)
        if hint is Money:
            return Money(data["amount"], Currency.from_str(data["currency"]))
        if hint is Currency:
            return Currency.from_str(data)
        if hint is Decimal:
            if not isinstance(data, str):
                raise SerializationError(f"{where}: expected a decimal string, got {data!r}")
            return Decimal(data)
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            return hint(data)
        if isinstance(hint, type) and issubclass(hint, Identifier):
            if not isinstance(data, str):
                raise SerializationError(f"{where}: expected a {hint.__name__} string, got {data!r}")
            return hint(data)
        if hint is float:
            if type(data) not in (int, float):
                raise SerializationError(f"{where}: expected a number, got {data!r}")
            return float(data)
        if hint is bool or hint is int or hint is str:
            if type(data) is not hint:
                raise SerializationError(f"{where}: expected {hint.__name__}, got {data!r}")
            return data
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            return _decode_fields(hint, data, where)
        if origin in (tuple, list):
            if not isinstance(data, list):
                raise SerializationError(f"{where}: expected a list, got {data!r}")
            items = [
                _decode_value(x, h, f"{where}[{i}]")
                for i, (x, h) in enumerate(zip(data, _item_hints(hint, len(data)), strict=True))
            ]
            return tuple(items) if origin is tuple else items
        if origin is dict:
            kh, vh = _dict_hints(hint)
            if not isinstance(data, dict):
                raise SerializationError(f"{where}: expected an object, got {data!r}")
            return {_decode_value(k, kh, where): _decode_value(v, vh, f"{where}[{k!r}]") for k, v in data.items()}
    except SerializationError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as exc:
        raise SerializationError(f"{where}: cannot decode {data!r} as {hint}: {exc}") from None
    raise SerializationError(f"{where}: unsupported field type {hint!r}")


_TAG_TYPES: dict[str, Any] = {
    "Price": Price, "Quantity": Quantity, "Money": Money, "Currency": Currency, "Decimal": Decimal,
    "int": int, "str": str, "bool": bool, "list": list[Any], "tuple": tuple[Any, ...], "dict": dict[str, Any],
}  # fmt: skip


def _tag_type(name: str, where: str) -> Any:
    t = _TAG_TYPES.get(name)
    if t is not None:
        return t
    import tradewire.model.enums as enums_mod
    import tradewire.model.identifiers as ids_mod

    for mod in (ids_mod, enums_mod):
        t = getattr(mod, name, None)
        if isinstance(t, type):
            return t
    if name in _REGISTRY:
        return _REGISTRY[name]
    raise SerializationError(f"{where}: unknown tagged type {name!r}")


def _decode_fields(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise SerializationError(f"{where}: expected an object for {cls.__name__}, got {data!r}")
    hints = _hints(cls)
    kwargs = {}
    for f in _fields(cls):
        if f.name in data:
            kwargs[f.name] = _decode_value(data[f.name], hints.get(f.name, Any), f"{where}.{f.name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise SerializationError(f"{where}: missing field {f.name!r}")
    unknown = set(data) - {f.name for f in _fields(cls)}
    if unknown:
        raise SerializationError(f"{where}: unknown fields {sorted(unknown)}")
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:
        raise SerializationError(f"{where}: {exc}") from None


def decode(type_name: str, data: dict[str, Any]) -> Any:
    """Rebuild a registered record from its type name and encoded fields.

    Raises
    ------
    SerializationError
        On an unknown type, a missing or unknown field, or a value of the wrong form.
    """
    return _decode_fields(registered_type(type_name), data, type_name)


def loads(type_name: str, text: str | bytes) -> Any:
    """Decode JSON ``text`` produced by :func:`dumps` for ``type_name``.

    Raises
    ------
    SerializationError
        If the text is not valid JSON (with the byte offset) or does not decode (see :func:`decode`).
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SerializationError(f"{type_name}: invalid JSON at offset {exc.pos}: {exc.msg}") from None
    return decode(type_name, data)


__all__ = [
    "SerializationError", "decode", "dumps", "encode", "is_registered", "loads", "register", "registered_names",
    "registered_type",
]  # fmt: skip
