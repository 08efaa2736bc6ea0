"""Order-flow analytics: book and trade metrics, footprint bars, signals, and the `OrderFlowEngine`.

Modules: :mod:`.book_metrics` (spread, mid, weighted mid, imbalances, OFI, liquidity added/removed),
:mod:`.trades` (aggressor classification, CVD, VWAP bands, volume profile), :mod:`.footprint`
(footprint bars, diagonal and stacked imbalances), :mod:`.detectors` (large order, absorption,
exhaustion, imbalance, iceberg), :mod:`.regime` (volatility/trend regime, rolling correlation),
:mod:`.microprice` (Stoikov's micro-price estimator), :mod:`.engine` (per-instrument state and the
bus-driven engine), :mod:`.sessions` (recorded sessions).
"""

from tradewire.orderflow.engine import InstrumentOrderFlow, OrderFlowConfig, OrderFlowEngine
from tradewire.orderflow.microprice import MicropriceModel, fit_microprice
from tradewire.orderflow.signals import OrderFlowSignal, SignalKind

__all__ = [
    "InstrumentOrderFlow",
    "MicropriceModel",
    "OrderFlowConfig",
    "OrderFlowEngine",
    "OrderFlowSignal",
    "SignalKind",
    "fit_microprice",
]
