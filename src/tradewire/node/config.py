"""Configuration of a paper node (:class:`NodeConfig`), the bundled recording it replays by default, and the
connection to an exchange's public streams for paper trading on live data (:func:`open_live_source`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradewire.core.clock import LiveClock
from tradewire.model.instruments import Instrument, crypto_spot
from tradewire.model.objects import Currency, Money
from tradewire.strategy.base import Strategy

__all__ = ["SAMPLE_NAME", "NodeConfig", "bundled_sample", "open_live_source"]

SAMPLE_NAME = "binance_spot_btcusdt_20240808.gz"


def bundled_sample() -> Path:
    """Path of the bundled Binance BTCUSDT spot recording (2024-08-08 23:54-24:00 UTC).

    Raises
    ------
    FileNotFoundError
        If the package was installed without its samples.
    """
    from importlib import resources

    p = Path(str(resources.files("tradewire.samples").joinpath(SAMPLE_NAME)))
    if not p.exists():
        raise FileNotFoundError(f"bundled sample {SAMPLE_NAME} missing from the tradewire package")
    return p


@dataclass
class NodeConfig:
    """Configuration of a paper node.

    Parameters
    ----------
    data : Path | None
        Binance raw-stream capture to replay (default: the bundled BTCUSDT session).
    speed : float
        Replay speed factor (1 = real time).
    loops : int | None
        Number of times to play the session (None = until stopped).
    database_url : str | None
        Event store URL (default ``sqlite:///./tradewire-data/tradewire.db`` or ``TRADEWIRE_DATABASE_URL``).
    starting_balances : list[Money]
        Paper account balances.
    strategy : Strategy | None
        Default: ``sma_cross`` on 1-second trade bars, 0.01 BTC per trade.
    snapshot_ms : int
        Period of the read-model refresh (positions marks, stats, risk) in wall-clock ms.
    book_push_ms : int
        Minimum wall-clock ms between two pushed ``book:{instrument}`` ladders (0: every applied batch).
    book_levels : int
        Levels per side in the pushed ladder.
    webhook : bool | None
        Mount the TradingView webhook service (None: when ``TRADEWIRE_WEBHOOK_SECRET`` or
        ``TRADEWIRE_WEBHOOK_SOURCES`` is set).
    orderflow_ms : int
        Minimum wall-clock ms between two published ``orderflow:{instrument}`` snapshots.
    log_snapshot_ms : float
        The event store keeps at most one ``AccountState`` per account and one ``PositionChanged`` per position
        per this many ms, always the latest (see :class:`tradewire.persistence.EventRecorder`,
        ``snapshot_interval_ms``; 0: every one). Order events and fills are always recorded one by one.
    live_data : str | None
        ``ccxt:<exchange>:<symbol>`` (e.g. ``ccxt:binance:BTC/USDT``): feed the paper venue from the exchange's
        public streams instead of replaying ``data``; the instrument is the exchange's (``instrument`` is
        ignored).
    live_data_overrides : dict | None
        Extra :class:`tradewire.venues.ccxt.config.ConnectionConfig` fields for the public connection, e.g.
        ``{"url_rewrites": {...}}`` to point it at a local test exchange (``tradewire run`` takes them from
        ``TRADEWIRE_CCXT_URL_REWRITES``).
    """

    data: Path | None = None
    speed: float = 1.0
    loops: int | None = None
    database_url: str | None = None
    starting_balances: list[Money] = field(default_factory=lambda: [Money("100000", Currency.from_str("USDT"))])
    strategy: Strategy | None = None
    snapshot_ms: int = 250
    book_push_ms: int = 100
    book_levels: int = 20
    webhook: bool | None = None
    orderflow_ms: int = 500
    log_snapshot_ms: float = 250.0
    live_data: str | None = None
    live_data_overrides: dict[str, Any] | None = None
    instrument: Instrument = field(
        default_factory=lambda: crypto_spot("BTCUSDT", "BINANCE", "BTC", "USDT", 2, 5, "0.001", "0.001", "5")
    )


def open_live_source(spec: str, clock: LiveClock, overrides: dict[str, Any] | None = None) -> Any:
    """Connect to an exchange's public market-data streams for a paper node (no credentials).

    Parameters
    ----------
    spec : str
        ``ccxt:<exchange>:<symbol>``, symbol in ccxt's notation (``ccxt:binance:BTC/USDT``).
    clock : LiveClock
        ``ts_init`` source.
    overrides : dict | None
        Extra ``ConnectionConfig`` fields (``url_rewrites`` for a local test exchange).

    Returns
    -------
    tradewire.venues.ccxt.data.LiveDataSource
        Connected and subscribed to book deltas, trades and quotes.

    Raises
    ------
    ValueError
        Malformed spec, unknown exchange, or a symbol the exchange does not list.
    ConnectionError
        The exchange did not answer (network error, time-out, exchange unavailable).
    """
    from tradewire.venues.ccxt.data import LiveDataSource, parse_data_spec

    exchange, _ = parse_data_spec(spec)
    try:
        return LiveDataSource(spec, clock, config_overrides=overrides)
    except ValueError:
        raise
    except Exception as exc:
        import ccxt

        if isinstance(exc, ccxt.NetworkError | OSError | TimeoutError):
            raise ConnectionError(f"live data {spec!r}: cannot reach {exchange}: {type(exc).__name__}: {exc}") from exc
        if isinstance(exc, AttributeError | ccxt.ExchangeError) and not hasattr(ccxt, exchange):
            raise ValueError(f"live data {spec!r}: ccxt has no exchange {exchange!r}") from exc
        raise
