"""Performance statistics and charts for backtest and live results."""
