"""tradewire: event-driven trading platform (backtest, paper, live)."""

from tradewire import _native

__version__ = "0.1.0"

_native.activate()  # before any compiled module is imported: native build if current, else the source
