"""Configuration of webhook signal sources (pydantic-settings).

One :class:`SourceConfig` per sender (``tradingview`` by default). Secrets are ``SecretStr``: they
never appear in ``repr``, logs or responses. The default source's secret comes from the environment
variable ``TRADEWIRE_WEBHOOK_SECRET``; further sources may be given as JSON in
``TRADEWIRE_WEBHOOK_SOURCES`` or built in code.

Examples
--------
>>> cfg = SourceConfig(secret="0123456789abcdef-long-secret", default_venue="BINANCE")
>>> cfg.rate_per_s
Decimal('5')
"""

from __future__ import annotations

import ipaddress
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TRADINGVIEW_SENDER_IPS: tuple[str, ...] = ("52.89.214.238", "34.212.75.30", "54.218.53.128", "52.32.178.7")
"""Addresses TradingView sends webhooks from (TradingView help center, "About webhooks")."""

IP_PRESETS: dict[str, tuple[str, ...]] = {"tradingview": TRADINGVIEW_SENDER_IPS}
"""Named allowlist presets usable in ``allowed_ips``."""

MIN_SECRET_LENGTH = 16


def _expand_networks(entries: list[str], field: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    out: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for entry in entries:
        for item in IP_PRESETS.get(entry.lower(), (entry,)):
            try:
                out.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"{field}: {item!r} is neither an IP address, a CIDR network nor a preset") from None
    return tuple(out)


class FuturesRollConfig(BaseModel):
    """How a TradingView continuous future (``ES1!``) maps to a dated contract.

    Parameters
    ----------
    months : str
        Listed contract months as CME month codes in calendar order (``"HMUZ"`` = Mar/Jun/Sep/Dec).
    expiry : {"third_friday", "last_business_day"}
        Expiry day within the contract month. ``third_friday`` is the final settlement day of CME
        equity index futures (CME Rulebook chapters 358 (E-mini S&P 500), 359 (E-mini Nasdaq-100)).
    roll_business_days : int
        Switch to the next contract this many business days (Mon-Fri, minus ``holidays``) before
        expiry. CME's volume roll for equity index futures is about 8 days before expiry.
    venue : str
        Venue of the dated contracts (``CME``).
    symbol_root : str | None
        Root used in the dated symbol when it differs from TradingView's root.
    year_digits : {1, 2}
        ``ESZ4`` (1) or ``ESZ24`` (2).
    expiries : dict[str, str]
        Explicit expiry dates (``{"ESZ4": "2024-12-20"}``) overriding the rule.
    holidays : list[str]
        Non-business days (ISO dates) for the roll count.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    months: str = "HMUZ"
    expiry: Literal["third_friday", "last_business_day"] = "third_friday"
    roll_business_days: int = Field(default=8, ge=0, le=60)
    venue: str = "CME"
    symbol_root: str | None = None
    year_digits: Literal[1, 2] = 1
    expiries: dict[str, str] = Field(default_factory=dict)
    holidays: list[str] = Field(default_factory=list)

    @field_validator("months")
    @classmethod
    def _check_months(cls, v: str) -> str:
        codes = "FGHJKMNQUVXZ"
        if not v or any(c not in codes for c in v) or list(v) != sorted(set(v), key=codes.index):
            raise ValueError(f"months must be distinct CME month codes in calendar order (from {codes}), got {v!r}")
        return v


class SourceConfig(BaseModel):
    """Settings of one webhook source (``POST /webhook/{source}``).

    Parameters
    ----------
    secret : SecretStr
        Shared secret the alert must carry in its ``secret`` field (at least 16 characters).
    hmac_key : SecretStr | None
        When set, requests must carry ``X-Tradewire-Signature: sha256=<hex>``, the HMAC-SHA256 of
        the raw body under this key (RFC 2104). TradingView cannot sign; use it for other senders.
    allowed_ips : list[str]
        IPs, CIDR networks or presets (``"tradingview"``); empty = any address.
    trusted_proxies : list[str]
        Reverse proxies whose ``X-Forwarded-For`` is honored (IPs or CIDRs).
    max_age_s, max_future_s : int
        Freshness window for the alert ``time``: at most ``max_age_s`` old and ``max_future_s`` ahead.
    require_time : bool
        Reject alerts without ``time``.
    max_body_bytes : int
        Larger bodies get 413 before any parsing.
    rate_per_s, burst : Decimal, int
        Token bucket per source: sustained rate and bucket size.
    strategy_id : str
        Strategy id the orders carry (positions for close/flatten/reverse are this strategy's).
    default_venue : str | None
        Venue for bare tickers (``BTCUSDT``) and exchange prefixes without an alias.
    venue_aliases : dict[str, str]
        TradingView exchange prefix -> tradewire venue (``{"CME_MINI": "CME"}``).
    symbols : dict[str, str]
        Explicit TradingView ticker -> instrument id (``{"BINANCE:BTCUSDT": "BTCUSDT.BINANCE"}``), checked first.
    futures : dict[str, FuturesRollConfig]
        Continuous-future roots (``{"ES": {...}}``) for tickers like ``ES1!``.
    default_quantity : Decimal | None
        Quantity when an alert gives none (with ``default_quantity_type``).
    max_percent_equity : Decimal
        Upper bound on ``percent_equity`` sizing (100 = no leverage).
    dedup_window_s : int
        How long an alert with neither ``alert_id`` nor ``time`` is deduplicated by its body alone.
    key_retention_s : int
        How long idempotency keys from ``alert_id`` or ``time`` are kept.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    secret: SecretStr = Field(min_length=MIN_SECRET_LENGTH)
    hmac_key: SecretStr | None = None
    allowed_ips: list[str] = Field(default_factory=list)
    trusted_proxies: list[str] = Field(default_factory=list)
    max_age_s: int = Field(default=60, ge=1)
    max_future_s: int = Field(default=5, ge=0)
    require_time: bool = False
    max_body_bytes: int = Field(default=8192, ge=64, le=1_048_576)
    rate_per_s: Decimal = Field(default=Decimal(5), gt=0)
    burst: int = Field(default=20, ge=1)
    strategy_id: str = "tradingview"
    default_venue: str | None = None
    venue_aliases: dict[str, str] = Field(default_factory=dict)
    symbols: dict[str, str] = Field(default_factory=dict)
    futures: dict[str, FuturesRollConfig] = Field(default_factory=dict)
    default_quantity: Decimal | None = Field(default=None, gt=0)
    default_quantity_type: Literal["units", "contracts", "percent_equity", "risk"] = "units"
    max_percent_equity: Decimal = Field(default=Decimal(100), gt=0)
    dedup_window_s: int = Field(default=60, ge=1)
    key_retention_s: int = Field(default=7 * 86_400, ge=60)

    @field_validator("allowed_ips", "trusted_proxies")
    @classmethod
    def _check_ips(cls, v: list[str], info) -> list[str]:
        _expand_networks(v, info.field_name)
        return v

    def allowed_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The allowlist with presets expanded (empty = allow all)."""
        return _expand_networks(self.allowed_ips, "allowed_ips")

    def proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """Trusted proxy networks."""
        return _expand_networks(self.trusted_proxies, "trusted_proxies")


class WebhookSettings(BaseSettings):
    """Webhook settings from the environment (prefix ``TRADEWIRE_WEBHOOK_``).

    ``TRADEWIRE_WEBHOOK_SECRET`` sets the secret of the default source ``tradingview`` (unless
    ``sources`` defines it); ``TRADEWIRE_WEBHOOK_SOURCES`` is a JSON object of source name ->
    :class:`SourceConfig`; ``TRADEWIRE_WEBHOOK_DATA_DIR`` is where the idempotency database lives.
    """

    model_config = SettingsConfigDict(env_prefix="TRADEWIRE_WEBHOOK_", extra="forbid")

    secret: SecretStr | None = None
    default_venue: str | None = None
    data_dir: Path = Path("./tradewire-data")
    sources: dict[str, SourceConfig] = Field(default_factory=dict)

    def source_configs(self) -> dict[str, SourceConfig]:
        """All sources; adds ``tradingview`` from ``secret`` when not configured explicitly.

        Raises
        ------
        ValueError
            If no source has a secret (the webhook would accept nothing).
        """
        out = dict(self.sources)
        if "tradingview" not in out and self.secret is not None:
            out["tradingview"] = SourceConfig(secret=self.secret, default_venue=self.default_venue)
        if not out:
            raise ValueError("no webhook source configured: set TRADEWIRE_WEBHOOK_SECRET or TRADEWIRE_WEBHOOK_SOURCES")
        return out
