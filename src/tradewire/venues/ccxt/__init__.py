"""Crypto exchanges through ccxt: instruments, market data (ccxt.pro streams) and execution.

One folder, the same files as every venue: ``config.py`` (pydantic connection settings, credentials from
the environment), ``factories.py`` (ccxt client and :class:`CcxtConnection`), ``providers.py``
(instruments from ``load_markets``), ``parsing.py`` (wire <-> model), ``data.py`` (DataClient),
``execution.py`` (ExecutionClient), plus ``errors.py`` (temporary vs permanent), ``retry.py`` (backoff with
jitter), ``ratelimit.py`` (request-weight budget shared per connection) and ``runtime.py`` (event-loop
thread and the inbox to the engine thread). ccxt names never leave this package.
"""
