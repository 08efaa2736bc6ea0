"""The asyncio edge of a ccxt connection: an event-loop thread and the inbox that feeds the engine thread.

The engine is synchronous and single-threaded. A ccxt connection runs its async client on its own event
loop in a background thread (:class:`LoopThread`); everything that must reach the engine (market data,
order events, account states) is put on an :class:`EngineInbox`, a thread-safe FIFO that the engine
thread drains (:meth:`EngineInbox.drain`) between its own work. Engine-side commands go the other way
as coroutines scheduled with :meth:`LoopThread.submit`, which never blocks the engine.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """An asyncio event loop running in a daemon thread.

    Parameters
    ----------
    name : str
        Thread name (shows in stack dumps).
    """

    def __init__(self, name: str = "tradewire-ccxt") -> None:
        self.name = name
        self.loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None

    def start(self) -> LoopThread:
        """Start the thread (idempotent); returns self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    @property
    def running(self) -> bool:
        """True while the loop thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the loop from any thread; returns a concurrent future."""
        if not self.running:
            coro.close()
            raise RuntimeError(f"{self.name}: event loop thread is not running")
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = 30.0) -> T:
        """Run ``coro`` on the loop and wait for its result (not from the loop thread itself).

        Raises
        ------
        TimeoutError
            If it does not finish within ``timeout`` seconds (the coroutine is cancelled).
        """
        fut = self.submit(coro)
        try:
            return fut.result(timeout)
        except concurrent.futures.TimeoutError:
            fut.cancel()
            raise TimeoutError(f"{self.name}: call did not finish within {timeout} s") from None

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel pending tasks, stop the loop and join the thread."""
        if not self.running:
            return

        async def _cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(TimeoutError):
            self.run(_cancel_all(), timeout)
        self.loop.call_soon_threadsafe(self.loop.stop)
        assert self._thread is not None
        self._thread.join(timeout)
        self._thread = None


class EngineInbox:
    """Thread-safe FIFO of ``(handler, item)`` pairs, drained by the engine thread.

    Producers (event-loop thread) call :meth:`put`; the engine thread calls :meth:`drain`, which runs each
    ``handler(item)`` in arrival order. ``items_put`` and ``items_drained`` count the traffic.
    """

    def __init__(self) -> None:
        self._q: queue.SimpleQueue[tuple[Callable[[Any], None], Any]] = queue.SimpleQueue()
        self.items_put = 0
        self.items_drained = 0
        self._wake = threading.Event()

    def put(self, handler: Callable[[Any], None], item: Any) -> None:
        """Queue ``handler(item)`` for the engine thread."""
        self._q.put((handler, item))
        self.items_put += 1
        self._wake.set()

    def drain(self, limit: int | None = None) -> int:
        """Run queued handlers in order (at most ``limit``); returns how many ran."""
        n = 0
        q = self._q
        while limit is None or n < limit:
            try:
                handler, item = q.get_nowait()
            except queue.Empty:
                break
            handler(item)
            n += 1
        self.items_drained += n
        if q.empty():
            self._wake.clear()
        return n

    def wait(self, timeout: float) -> bool:
        """Block until something is queued or ``timeout`` seconds pass; True if something is queued."""
        return self._wake.wait(timeout) or not self._q.empty()

    def pump_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Drain repeatedly until ``predicate()`` holds or ``timeout`` passes (engine-thread helper).

        Returns
        -------
        bool
            Whether the predicate became true.
        """
        deadline = time.monotonic() + timeout
        while True:
            self.drain()
            if predicate():
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.wait(min(left, 0.05))


__all__ = ["EngineInbox", "LoopThread"]
