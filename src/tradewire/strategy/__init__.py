"""Strategy base class and examples."""

from tradewire.strategy.base import Strategy

__all__ = ["Strategy"]
