"""Authentication checks for webhook requests.

- shared secret in the alert, compared in constant time (:func:`hmac.compare_digest`);
- optional HMAC-SHA256 signature of the raw body (RFC 2104) in ``X-Tradewire-Signature: sha256=<hex>``;
- optional IP allowlist; ``X-Forwarded-For`` is honored only when the TCP peer is a trusted proxy,
  and is walked right to left (the rightmost address not belonging to a trusted proxy is the client,
  since proxies append and anything to its left can be forged);
- a freshness window on the alert time.

Every check raises :class:`~tradewire.signals.schema.AlertError` with the HTTP status to return.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Sequence

from pydantic import SecretStr

from tradewire.signals.schema import AlertError

SIGNATURE_HEADER = "x-tradewire-signature"
_Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def _in(addr, networks: Sequence[_Net]) -> bool:
    return any(addr in net for net in networks)


def resolve_client_ip(peer: str | None, forwarded_for: str | None, trusted_proxies: Sequence[_Net]) -> str | None:
    """Return the client address of a request.

    Parameters
    ----------
    peer : str | None
        TCP peer address.
    forwarded_for : str | None
        ``X-Forwarded-For`` header value (comma-separated, client first, appended by each proxy).
    trusted_proxies : sequence of networks
        Proxies whose header is believed.

    Returns
    -------
    str | None
        The peer itself unless it is a trusted proxy; then the rightmost untrusted address of the
        header (or the leftmost one if every hop is trusted). None if the peer is unknown or unparsable.
    """
    addr = _parse_ip(peer) if peer else None
    if addr is None:
        return None
    if not forwarded_for or not trusted_proxies or not _in(addr, trusted_proxies):
        return str(addr)
    hops = [_parse_ip(h) for h in forwarded_for.split(",")]
    if any(h is None for h in hops):
        return None  # a malformed header from a trusted proxy: do not guess
    for hop in reversed(hops):
        if not _in(hop, trusted_proxies):
            return str(hop)
    return str(hops[0])


def check_ip_allowed(client_ip: str | None, allowed: Sequence[_Net]) -> None:
    """Raise 403 unless the allowlist is empty or contains ``client_ip``."""
    if not allowed:
        return
    addr = _parse_ip(client_ip) if client_ip else None
    if addr is None or not _in(addr, allowed):
        raise AlertError(403, "source address not allowed")


def check_secret(expected: SecretStr, given: SecretStr | str | None) -> None:
    """Raise 401 unless ``given`` equals ``expected`` (constant-time comparison of UTF-8 bytes)."""
    if given is None:
        raise AlertError(401, "missing secret")
    g = given.get_secret_value() if isinstance(given, SecretStr) else given
    if not hmac.compare_digest(expected.get_secret_value().encode("utf-8"), g.encode("utf-8")):
        raise AlertError(401, "invalid secret")


def sign_body(key: str | bytes, body: bytes) -> str:
    """Return the header value ``sha256=<hex>`` for ``body`` (HMAC-SHA256, RFC 2104)."""
    k = key.encode("utf-8") if isinstance(key, str) else key
    return "sha256=" + hmac.new(k, body, hashlib.sha256).hexdigest()


def check_signature(key: SecretStr, body: bytes, header: str | None) -> None:
    """Raise 401 unless ``header`` is the HMAC-SHA256 of ``body`` under ``key`` (constant time)."""
    if not header:
        raise AlertError(401, f"missing {SIGNATURE_HEADER} header")
    expected = sign_body(key.get_secret_value(), body)
    if not hmac.compare_digest(expected.encode("ascii"), header.strip().lower().encode("utf-8", "replace")):
        raise AlertError(401, "invalid signature")


def check_freshness(alert_ns: int | None, now_ns: int, max_age_s: int, max_future_s: int, required: bool) -> None:
    """Raise 422 if the alert time is missing (when required), older than ``max_age_s`` or ahead by more
    than ``max_future_s``. Replays of captured alerts fail this once the window has passed."""
    if alert_ns is None:
        if required:
            raise AlertError(422, "time: field required by this source")
        return
    age_ns = now_ns - alert_ns
    if age_ns > max_age_s * 1_000_000_000:
        raise AlertError(422, f"time: alert is stale ({age_ns // 1_000_000_000} s old, limit {max_age_s} s)")
    if -age_ns > max_future_s * 1_000_000_000:
        raise AlertError(422, f"time: alert is {-age_ns // 1_000_000_000} s in the future (limit {max_future_s} s)")
