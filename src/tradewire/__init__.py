"""tradewire: event-driven trading platform (backtest, paper, live)."""

__version__ = "0.1.0"
