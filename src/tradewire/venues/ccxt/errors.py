"""One exception hierarchy for ccxt venues: temporary (retry) versus permanent (never retry).

Every exception ccxt raises is mapped once, by :func:`classify`, to one of these classes; the rest of
the adapter only looks at the tradewire class. The mapping (ccxt 4.x exception tree, plus Binance error
codes where ccxt's own mapping is too coarse, see Binance Spot API docs "Error codes"):

=====================================================  ====================================================
ccxt exception / venue answer                          tradewire class, outcome
=====================================================  ====================================================
``RateLimitExceeded``, ``DDoSProtection``, HTTP 429,   :class:`RateLimited` (temporary): wait ``Retry-After``
HTTP 418 (IP ban), Binance -1003                       (or backoff), then retry
``InvalidNonce``, Binance -1021 (timestamp outside     :class:`ClockSkew` (temporary): resync the time
recvWindow)                                            difference (``load_time_difference``), then retry
``RequestTimeout``, ``NetworkError``,                  :class:`VenueUnavailable` (temporary): backoff and
``ExchangeNotAvailable``, ``OnMaintenance``            retry; for an order submit the outcome is *unknown*
``InsufficientFunds``, Binance -2010 balance           :class:`OrderRejectedByVenue` (permanent) with the
``InvalidOrder`` (and its subclasses except            venue's reason -> ``OrderRejected``
``OrderNotFound``), ``BadSymbol``, filter failures
``OrderNotFound``, Binance -2011 / -2013               :class:`OrderNotFoundAtVenue` (permanent)
``AuthenticationError``, ``PermissionDenied``          :class:`AuthenticationFailed` (permanent)
``NotSupported``                                       :class:`NotSupportedByVenue` (permanent)
anything else from ccxt                                :class:`PermanentVenueError`
=====================================================  ====================================================
"""

from __future__ import annotations

import re

import ccxt

_CODE = re.compile(r'"code"\s*:\s*(-?\d+)')


class VenueError(Exception):
    """Base of all ccxt-venue errors.

    Attributes
    ----------
    reason : str
        Human-readable reason (the venue's message where it gave one).
    code : int | None
        The venue's numeric error code when the answer carried one.
    retry_after : float | None
        Seconds the venue asked to wait (``Retry-After``), if any.
    """

    temporary = False

    def __init__(self, reason: str, code: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.retry_after = retry_after


class TemporaryVenueError(VenueError):
    """A failure that may pass: retry with backoff."""

    temporary = True


class VenueUnavailable(TemporaryVenueError):
    """Network error, timeout, or the venue is down or in maintenance."""


class RateLimited(TemporaryVenueError):
    """The venue refused the request for exceeding its rate limits (HTTP 429/418, Binance -1003)."""


class ClockSkew(TemporaryVenueError):
    """The request timestamp was outside the venue's receive window (Binance -1021): resync the clock."""


class PermanentVenueError(VenueError):
    """A failure that retrying will not fix."""


class OrderRejectedByVenue(PermanentVenueError):
    """The venue refused an order (insufficient funds, invalid price/quantity, filter failure ...)."""


class OrderNotFoundAtVenue(PermanentVenueError):
    """The venue does not know the order (Binance -2011/-2013)."""


class AuthenticationFailed(PermanentVenueError):
    """Missing, wrong or under-privileged API credentials."""


class NotSupportedByVenue(PermanentVenueError):
    """The venue (or its ccxt implementation) lacks the requested feature."""


class CredentialsError(AuthenticationFailed):
    """Credentials required by a connection are not available (environment variable or keyring entry)."""


def venue_code(exc: BaseException) -> int | None:
    """The venue's numeric error code embedded in a ccxt error message (``binance {"code":-2010,...}``)."""
    m = _CODE.search(str(exc))
    return int(m.group(1)) if m else None


def classify(exc: BaseException, retry_after: float | None = None) -> VenueError:
    """Map any exception raised by a ccxt call to the tradewire hierarchy (table in the module docstring).

    Parameters
    ----------
    exc : BaseException
        What ccxt (or the transport under it) raised.
    retry_after : float | None
        Seconds from the answer's ``Retry-After`` header, if the caller saw one.

    Returns
    -------
    VenueError
        A new exception (``__cause__`` is left to the caller's ``raise ... from exc``).
    """
    if isinstance(exc, VenueError):
        return exc
    code = venue_code(exc)
    text = str(exc)
    if isinstance(exc, (ccxt.RateLimitExceeded, ccxt.DDoSProtection)) or code == -1003:
        return RateLimited(text, code, retry_after)
    if isinstance(exc, ccxt.InvalidNonce) or code == -1021:
        return ClockSkew(text, code)
    if isinstance(exc, ccxt.OrderNotFound) or code in (-2011, -2013):
        return OrderNotFoundAtVenue(text, code)
    if isinstance(exc, (ccxt.InsufficientFunds, ccxt.InvalidOrder, ccxt.BadSymbol)) or code in (-2010, -1013):
        return OrderRejectedByVenue(text, code)
    if isinstance(exc, (ccxt.AuthenticationError, ccxt.PermissionDenied, ccxt.AccountSuspended)) or code in (
        -2014, -2015, -1022
    ):  # fmt: skip
        return AuthenticationFailed(text, code)
    if isinstance(exc, ccxt.NotSupported):
        return NotSupportedByVenue(text, code)
    if isinstance(exc, (ccxt.NetworkError, ccxt.ExchangeNotAvailable, ccxt.RequestTimeout)):
        return VenueUnavailable(text, code, retry_after)
    if isinstance(exc, (OSError, TimeoutError)):
        return VenueUnavailable(f"{type(exc).__name__}: {exc}", code)
    return PermanentVenueError(text, code)


__all__ = [
    "AuthenticationFailed", "ClockSkew", "CredentialsError", "NotSupportedByVenue", "OrderNotFoundAtVenue",
    "OrderRejectedByVenue", "PermanentVenueError", "RateLimited", "TemporaryVenueError", "VenueError",
    "VenueUnavailable", "classify", "venue_code",
]  # fmt: skip
