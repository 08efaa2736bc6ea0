"""The plain-text alert format (for ``text/plain`` bodies).

TradingView sends the alert message as ``text/plain`` when it is not valid JSON. Two layouts are
accepted, both mapping onto the same fields as the JSON schema (:class:`TradingViewAlert`):

**key=value lines** - one field per line, ``key=value``; blank lines and lines starting with ``#``
are ignored; whitespace around key and value is stripped; a key may appear once::

    secret=my-long-webhook-secret
    ticker=BINANCE:BTCUSDT
    action=buy
    quantity=0.01
    stop_loss=58000

**one-liner** - ``<action> <ticker> [<quantity>] [key=value ...]`` on a single line::

    buy BINANCE:BTCUSDT 0.01 secret=my-long-webhook-secret stop_loss=58000 take_profit=62000
    close BINANCE:BTCUSDT secret=my-long-webhook-secret

The layout is chosen by the first significant line: if its first whitespace-separated token contains
``=``, the body is key=value lines; otherwise it is a one-liner and must be the only significant
line. Values are strings validated by the same schema (numbers stay exact). Errors name the line.
"""

from __future__ import annotations

import re
from typing import Any

from tradewire.signals.schema import AlertError

_KEY = re.compile(r"^[a-z_]{1,32}$")


def _err(line_no: int, msg: str) -> AlertError:
    return AlertError(422, f"text body line {line_no}: {msg}")


def _split_pair(token: str, line_no: int) -> tuple[str, str]:
    key, eq, value = token.partition("=")
    key, value = key.strip(), value.strip()
    if not eq:
        raise _err(line_no, "expected key=value")
    if not _KEY.match(key):
        raise _err(line_no, "key must be 1-32 lowercase letters or underscores")
    if not value:
        raise _err(line_no, f"empty value for {key!r} (leave the line out instead)")
    return key, value


def parse_text_body(body: bytes) -> dict[str, Any]:
    """Parse a text/plain alert into a field dict (values as ``str``) for schema validation.

    Parameters
    ----------
    body : bytes
        Raw body, UTF-8 (a BOM is ignored).

    Returns
    -------
    dict[str, str]
        Field name -> raw text value.

    Raises
    ------
    AlertError
        422 naming the line for a malformed line, a repeated key, a second line after a one-liner,
        non-UTF-8 bytes (with byte offset) or an empty body.
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AlertError(422, f"text body is not UTF-8 (byte offset {exc.start})") from None
    lines = [
        (i, ln.strip())
        for i, ln in enumerate(text.split("\n"), start=1)
        if ln.strip() and not ln.lstrip().startswith("#")
    ]
    if not lines:
        raise AlertError(422, "empty alert body")
    first_no, first = lines[0]
    out: dict[str, Any] = {}

    def put(key: str, value: str, line_no: int) -> None:
        if key in out:
            raise _err(line_no, f"duplicate key {key!r}")
        out[key] = value

    if "=" in first.split()[0]:
        for line_no, line in lines:
            key, value = _split_pair(line, line_no)
            put(key, value, line_no)
        return out
    if len(lines) > 1:
        raise _err(lines[1][0], "a one-liner alert must be the only line (use key=value lines for more)")
    tokens = first.split()
    if len(tokens) < 2 or "=" in tokens[1]:
        raise _err(first_no, "one-liner must start with '<action> <ticker>'")
    put("action", tokens[0], first_no)
    put("ticker", tokens[1], first_no)
    rest = tokens[2:]
    if rest and "=" not in rest[0]:
        put("quantity", rest[0], first_no)
        rest = rest[1:]
    for tok in rest:
        key, value = _split_pair(tok, first_no)
        put(key, value, first_no)
    return out
