"""Authentication for the API, the WebSocket and the dashboard login.

Configuration (environment):

- ``TRADEWIRE_API_TOKEN``: a bearer token. API clients send ``Authorization: Bearer <token>``; the
  dashboard's login form accepts the same token.
- ``TRADEWIRE_API_PASSWORD_HASH``: an argon2 hash (``pwdlib``, e.g. ``tradewire`` docs:
  ``python -c "from pwdlib import PasswordHash; print(PasswordHash.recommended().hash('pw'))"``) of the
  dashboard password.

With either set, every ``/api/*`` route (except ``GET /api/auth`` and ``POST /api/login``), ``/metrics``
and ``/ws`` need a valid bearer token: the API token itself or a session token returned by
``POST /api/login`` (valid ``session_ttl_s``, kept in memory: a restart logs everyone out). The
WebSocket takes the token in the ``Authorization`` header or, since browsers cannot set headers on a
WebSocket, in the ``access_token`` query parameter; a refused upgrade is answered with HTTP 401.

With neither set the API is open. ``tradewire run`` then refuses any address but loopback: the
single-user local default. Secrets are never returned by the API nor logged.
"""

from __future__ import annotations

import hmac
import os
import secrets
import time
from dataclasses import dataclass, field

from fastapi import HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

TOKEN_ENV = "TRADEWIRE_API_TOKEN"
PASSWORD_HASH_ENV = "TRADEWIRE_API_PASSWORD_HASH"

bearer_scheme = HTTPBearer(auto_error=False, description="API token or a session token from POST /api/login")


@dataclass
class ApiAuth:
    """Token / password authentication state.

    Parameters
    ----------
    token : str | None
        The API bearer token (``TRADEWIRE_API_TOKEN``).
    password_hash : str | None
        Argon2 hash of the dashboard password (``TRADEWIRE_API_PASSWORD_HASH``).
    session_ttl_s : int
        Lifetime of a session token from :meth:`login`.

    Raises
    ------
    ValueError
        If ``token`` is shorter than 16 characters, or ``password_hash`` is not a hash ``pwdlib`` knows.
    """

    token: str | None = None
    password_hash: str | None = None
    session_ttl_s: int = 12 * 3600
    _sessions: dict[str, float] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.token is not None and len(self.token) < 16:
            raise ValueError(f"{TOKEN_ENV} must be at least 16 characters")
        self._hasher = None
        if self.password_hash is not None:
            from pwdlib import PasswordHash

            self._hasher = PasswordHash.recommended()
            try:
                self._hasher.verify("", self.password_hash)
            except Exception as exc:  # pwdlib raises UnknownHashError for a malformed value
                raise ValueError(f"{PASSWORD_HASH_ENV} is not an argon2 hash ({type(exc).__name__})") from None

    def __repr__(self) -> str:  # never print secrets
        return f"ApiAuth(token={'set' if self.token else None}, password={'set' if self.password_hash else None})"

    @classmethod
    def from_env(cls) -> ApiAuth:
        """Read ``TRADEWIRE_API_TOKEN`` and ``TRADEWIRE_API_PASSWORD_HASH`` (empty = unset)."""
        return cls(os.environ.get(TOKEN_ENV) or None, os.environ.get(PASSWORD_HASH_ENV) or None)

    @property
    def enabled(self) -> bool:
        """True when a token or a password is configured."""
        return self.token is not None or self.password_hash is not None

    @property
    def method(self) -> str | None:
        """``"password"``, ``"token"`` or None."""
        return "password" if self.password_hash else ("token" if self.token else None)

    def login(self, secret: str) -> str | None:
        """Exchange the password (or the API token) for a new session token; None if wrong."""
        ok = False
        if self.token is not None and hmac.compare_digest(secret.encode(), self.token.encode()):
            ok = True
        elif self._hasher is not None and self.password_hash is not None:
            ok = self._hasher.verify(secret, self.password_hash)
        if not ok:
            return None
        now = time.monotonic()
        self._sessions = {k: v for k, v in self._sessions.items() if v > now}
        session = secrets.token_urlsafe(32)
        self._sessions[session] = now + self.session_ttl_s
        return session

    def check(self, presented: str | None) -> bool:
        """True if auth is off, or ``presented`` is the API token or a live session token."""
        if not self.enabled:
            return True
        if not presented:
            return False
        if self.token is not None and hmac.compare_digest(presented.encode(), self.token.encode()):
            return True
        exp = self._sessions.get(presented)
        return exp is not None and exp > time.monotonic()

    def logout(self, presented: str) -> None:
        """Forget a session token."""
        self._sessions.pop(presented, None)


def bearer_from_header(value: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value."""
    if not value:
        return None
    scheme, _, tok = value.partition(" ")
    return tok.strip() if scheme.lower() == "bearer" and tok.strip() else None


def make_dependency(auth: ApiAuth):
    """FastAPI dependency that raises 401 unless the request carries a valid bearer token."""

    async def require(request: Request, creds: HTTPAuthorizationCredentials | None = None) -> str:
        if not auth.enabled:
            return "local"
        tok = bearer_from_header(request.headers.get("authorization"))
        if not auth.check(tok):
            raise HTTPException(401, "authentication required", headers={"WWW-Authenticate": "Bearer"})
        return "token" if auth.token is not None and tok == auth.token else "session"

    from fastapi import Depends

    async def dependency(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(bearer_scheme)):
        return await require(request, creds)

    return dependency
