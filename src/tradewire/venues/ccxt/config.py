"""Connection configuration (pydantic): which exchange, which market type, where the credentials live.

Credentials are never part of the configuration: a connection names the *environment variables* that
hold them (or, when the optional ``keyring`` package is installed, a keyring service). A config that
carries a key or secret itself is refused. Live trading is off unless ``live_trading = true`` is set
*and* the operator confirms at start-up.

File format (TOML, default ``./tradewire-data/connections.toml`` or ``$TRADEWIRE_CONNECTIONS``)::

    [connections.binance-main]
    exchange = "binance"
    market_type = "spot"            # spot | margin | linear | inverse
    api_key_env = "BINANCE_API_KEY"
    api_secret_env = "BINANCE_API_SECRET"
    sandbox = false
    live_trading = false
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tradewire.venues.ccxt.errors import CredentialsError

DEFAULT_CONNECTIONS_FILE = Path("./tradewire-data/connections.toml")
_SECRET_KEYS = {"apikey", "api_key", "secret", "api_secret", "password", "passphrase", "private_key", "token"}


class ConnectionConfig(BaseModel):
    """One named connection to a ccxt exchange.

    Parameters
    ----------
    name : str
        Connection name used on the command line (``tradewire connections test NAME``).
    exchange : str
        ccxt exchange id (``binance``, ``bybit``, ``okx`` ...).
    venue : str | None
        tradewire venue code for instrument ids (default: ``exchange`` upper-cased, e.g. ``BINANCE``).
    market_type : {"spot", "margin", "linear", "inverse"}
        Which markets to load and trade.
    api_key_env, api_secret_env, password_env : str | None
        Names of environment variables holding the credentials (None for a public-data-only connection).
    keyring_service : str | None
        Look credentials up in the OS keyring under this service (needs the ``keyring`` package).
    sandbox : bool
        Use the venue's testnet (ccxt ``set_sandbox_mode``).
    live_trading : bool
        Must be True for orders to reach a real (non-sandbox) account; a confirmation is still required.
    margin_mode : {"cross", "isolated"} | None
    position_mode : {"one_way", "hedge"} | None
        Derivatives position mode, applied at connect. In ``hedge`` mode the venue keeps a LONG and a SHORT
        position per symbol: a reduce-only order closes the side opposite to its own, any other order opens
        or adds to the side of its own direction (buy: LONG, sell: SHORT).
    leverage : int | None
        Applied per traded symbol at connect (derivatives).
    url_rewrites : dict[str, str]
        Prefix rewrites applied to every URL ccxt knows for the exchange (e.g. point Binance at a local test
        server: ``{"https://api.binance.com": "http://127.0.0.1:8080"}``).
    options : dict
        Extra ccxt options merged into ``exchange.options``.
    weight_limit_per_minute : int
        Request weight budget of the shared rate limiter.
    weight_per_cost : float
        Venue weight per unit of ccxt endpoint cost (Binance ``/api/v3``: 1 cost unit = 5 weight at
        ccxt's ``rateLimit`` of 50 ms against 6000 weight per minute).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    exchange: str = Field(min_length=1)
    venue: str | None = None
    market_type: Literal["spot", "margin", "linear", "inverse"] = "spot"
    api_key_env: str | None = None
    api_secret_env: str | None = None
    password_env: str | None = None
    keyring_service: str | None = None
    sandbox: bool = False
    live_trading: bool = False
    margin_mode: Literal["cross", "isolated"] | None = None
    position_mode: Literal["one_way", "hedge"] | None = None
    leverage: int | None = Field(default=None, ge=1, le=125)
    url_rewrites: dict[str, str] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
    weight_limit_per_minute: int = Field(default=6000, gt=0)
    weight_per_cost: float = Field(default=5.0, gt=0)
    timeout_ms: int = Field(default=10_000, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _no_inline_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict):
            bad = sorted(k for k in data if k.lower() in _SECRET_KEYS)
            bad += sorted(f"options.{k}" for k in (data.get("options") or {}) if k.lower() in _SECRET_KEYS)
            if bad:
                raise ValueError(
                    f"credentials must not be written in the connection config ({', '.join(bad)}): name the "
                    "environment variables with api_key_env / api_secret_env instead"
                )
        return data

    @field_validator("exchange")
    @classmethod
    def _known_exchange(cls, v: str) -> str:
        import ccxt

        if v not in ccxt.exchanges:
            raise ValueError(f"unknown ccxt exchange id {v!r}")
        return v

    @property
    def venue_code(self) -> str:
        """Venue code used in instrument ids."""
        return (self.venue or self.exchange).upper()

    @property
    def targets_real_account(self) -> bool:
        """True unless the connection uses the venue's sandbox or every URL rewrite points at loopback."""
        if self.sandbox:
            return False
        if not self.url_rewrites:
            return True
        from urllib.parse import urlparse

        hosts = {urlparse(v).hostname for v in self.url_rewrites.values()}
        return not hosts <= {"127.0.0.1", "localhost", "::1"}

    @property
    def needs_credentials(self) -> bool:
        """True if the connection names any credential source."""
        return bool(self.api_key_env or self.api_secret_env or self.keyring_service)


class Credentials:
    """API credentials resolved at run time. ``repr`` and ``str`` never show the values."""

    __slots__ = ("api_key", "password", "secret", "source")

    def __init__(self, api_key: str, secret: str, password: str | None = None, source: str = "") -> None:
        self.api_key, self.secret, self.password, self.source = api_key, secret, password, source

    def __repr__(self) -> str:
        masked = self.api_key[:3] + "***" if len(self.api_key) > 6 else "***"
        return f"Credentials(api_key={masked}, source={self.source})"

    __str__ = __repr__


class LiveTradingNotEnabled(RuntimeError):
    """Orders would reach a real account without ``live_trading = true`` and an explicit confirmation."""


def check_live_trading(cfg: ConnectionConfig, confirmed: bool) -> None:
    """Refuse to trade a real account unless the config enables it *and* the operator confirmed.

    Raises
    ------
    LiveTradingNotEnabled
        Naming what is missing (the flag, or the confirmation).
    """
    if not cfg.targets_real_account:
        return
    if not cfg.live_trading:
        raise LiveTradingNotEnabled(
            f"connection {cfg.name!r} would trade a real {cfg.exchange} account but live_trading is false; "
            "set live_trading = true in the connection (or use sandbox = true)"
        )
    if not confirmed:
        raise LiveTradingNotEnabled(f"connection {cfg.name!r}: live trading needs an explicit confirmation")


def resolve_credentials(cfg: ConnectionConfig, env: dict[str, str] | None = None) -> Credentials | None:
    """Read a connection's credentials from the environment (or the OS keyring).

    Returns
    -------
    Credentials | None
        None for a connection that names no credential source (public data only).

    Raises
    ------
    CredentialsError
        If a named variable is unset or empty, or the keyring has no entry (the message names which).
    """
    env = dict(os.environ) if env is None else env
    if cfg.keyring_service:
        try:
            import keyring  # optional
        except ImportError:
            raise CredentialsError(
                f"connection {cfg.name!r}: keyring_service is set but the 'keyring' package is not installed"
            ) from None
        key = keyring.get_password(cfg.keyring_service, "api_key")
        secret = keyring.get_password(cfg.keyring_service, "api_secret")
        if not key or not secret:
            raise CredentialsError(
                f"connection {cfg.name!r}: keyring service {cfg.keyring_service!r} has no api_key/api_secret entries"
            )
        return Credentials(key, secret, keyring.get_password(cfg.keyring_service, "password"), "keyring")
    if not cfg.needs_credentials:
        return None
    missing = [n for n in (cfg.api_key_env, cfg.api_secret_env, cfg.password_env) if n and not env.get(n)]
    if not cfg.api_key_env or not cfg.api_secret_env:
        raise CredentialsError(f"connection {cfg.name!r}: both api_key_env and api_secret_env must be named")
    if missing:
        raise CredentialsError(
            f"connection {cfg.name!r}: environment variable(s) {', '.join(missing)} not set; "
            "export them (values are never read from the config file)"
        )
    pw = env.get(cfg.password_env) if cfg.password_env else None
    return Credentials(env[cfg.api_key_env], env[cfg.api_secret_env], pw, "env")


def connections_file(path: Path | None = None) -> Path:
    """The connections file in use: ``path``, else ``$TRADEWIRE_CONNECTIONS``, else the default."""
    if path is not None:
        return Path(path)
    env = os.environ.get("TRADEWIRE_CONNECTIONS")
    return Path(env) if env else DEFAULT_CONNECTIONS_FILE


def load_connections(path: Path | None = None) -> dict[str, ConnectionConfig]:
    """Read every ``[connections.NAME]`` table of a TOML file.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        On TOML syntax errors or an invalid connection (the file and connection are named).
    """
    p = connections_file(path)
    try:
        doc = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{p}: {exc}") from None
    out: dict[str, ConnectionConfig] = {}
    for name, table in (doc.get("connections") or {}).items():
        if not isinstance(table, dict):
            raise ValueError(f"{p}: [connections.{name}] must be a table")
        try:
            out[name] = ConnectionConfig(name=name, **table)
        except ValidationError as exc:
            raise ValueError(f"{p}: [connections.{name}]: {exc}") from None
    return out


__all__ = [
    "ConnectionConfig",
    "Credentials",
    "LiveTradingNotEnabled",
    "check_live_trading",
    "connections_file",
    "load_connections",
    "resolve_credentials",
]
