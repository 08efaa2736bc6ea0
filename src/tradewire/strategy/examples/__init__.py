"""Example strategies, registered by name for the CLI (``--strategy sma_cross``)."""

from __future__ import annotations

from tradewire.strategy.examples.orderflow_imbalance import OrderFlowImbalance
from tradewire.strategy.examples.sma_cross import SmaCross

STRATEGIES: dict[str, type] = {"sma_cross": SmaCross, "orderflow_imbalance": OrderFlowImbalance}

__all__ = ["STRATEGIES", "OrderFlowImbalance", "SmaCross"]
