"""Paper venue: simulated matching (L2 book, L1 quotes, trades, bars), fee/slippage/latency/queue models,
trading sessions, and a `PaperExecutionClient` that keeps its own orders, fills and positions."""

from tradewire.venues.paper.config import (
    BarFillMode,
    BookLevel,
    ClosedSessionPolicy,
    PaperVenueConfig,
    RemainderPolicy,
)
from tradewire.venues.paper.execution import PaperExecutionClient
from tradewire.venues.paper.matching import MatchingEngine
from tradewire.venues.paper.models import (
    DisplayedSizeQueue,
    FeeModel,
    FixedRateFeeModel,
    FixedTickSlippage,
    FrontOfQueue,
    InstrumentFeeModel,
    LatencyModel,
    NoSlippage,
    QueuePositionModel,
    SlippageModel,
    SpreadFractionSlippage,
)
from tradewire.venues.paper.sessions import AlwaysOpen, CalendarSessions, SessionState, TradingSessions

__all__ = [
    "AlwaysOpen", "BarFillMode", "BookLevel", "CalendarSessions", "ClosedSessionPolicy", "DisplayedSizeQueue",
    "FeeModel", "FixedRateFeeModel", "FixedTickSlippage", "FrontOfQueue", "InstrumentFeeModel", "LatencyModel",
    "MatchingEngine", "NoSlippage", "PaperExecutionClient", "PaperVenueConfig", "QueuePositionModel",
    "RemainderPolicy", "SessionState", "SlippageModel", "SpreadFractionSlippage", "TradingSessions",
]  # fmt: skip
