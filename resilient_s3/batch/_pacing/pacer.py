"""Rate limits on the event loop (aiolimiter), waited for by the threaded plane's worker threads
and awaited by the native plane's requests.

Every HTTP request of a batch first takes a token (``context.py``; a worker thread's through
``worker_hooks.py``): one from
the batch's ``rate_limit`` limiter, one from the client's adaptive gate while the adaptive rate
is limiting, and, for a request body, its bytes from the ``bytes_per_second`` limiter. The fixed
limits are :class:`aiolimiter.AsyncLimiter` objects, which belong to one event loop: a worker
thread submits the wait to the batch's loop and blocks until it is granted. The adaptive rate
changes with every answer, which an AsyncLimiter cannot follow (its rate is fixed; a new limiter per
rate would let the waiters of the old ones through as well), so it has a :class:`VariableGate`
that reads the rate at each acquisition.

Limiters are kept per client and event loop (:class:`LoopLimiters`), keyed by their rate, so
concurrent batches of one client on one loop with the same ``rate_limit`` share one limiter and
stay under it together.

A limiter allows a burst of a tenth of a second's worth (at least one request), then the rate:
``AsyncLimiter(burst, burst / rate)``; aiolimiter's default period is a minute, never used here.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import TYPE_CHECKING

from aiolimiter import AsyncLimiter

from ..._adaptive import AdaptiveRate

if TYPE_CHECKING:
    from ..._fleet.limiter import SharedLimiter

__all__ = ["BatchCancelled", "LoopLimiters", "Pacer", "VariableGate", "make_limiter"]

_BURST_SECONDS = 0.1


class BatchCancelled(Exception):
    """Raised where a request waits for its tokens once its batch is cancelled: no new request is
    sent."""


def make_limiter(rate: float) -> AsyncLimiter:
    """A limiter of ``rate`` per second with a burst of a tenth of a second (at least 1)."""
    burst = max(1.0, rate * _BURST_SECONDS)
    return AsyncLimiter(burst, burst / rate)


class VariableGate:
    """Spaces acquisitions ``1 / rate`` apart at the rate given to each (GCRA: a theoretical
    arrival time), allowing a burst of a tenth of a second's worth (at least one). Loop only."""

    def __init__(self) -> None:
        self._tat = 0.0  # when the next acquisition is due at the current pace

    async def acquire(self, rate: float) -> None:
        """Wait for the next slot at ``rate`` per second."""
        now = asyncio.get_running_loop().time()
        tolerance = (max(1.0, rate * _BURST_SECONDS) - 1) / rate
        due = max(self._tat, now)
        self._tat = due + 1 / rate
        if due - tolerance > now:
            await asyncio.sleep(due - tolerance - now)


class LoopLimiters:
    """The limiters of one client on one event loop, by kind and rate (loop thread only)."""

    def __init__(self) -> None:
        self._limiters: dict[tuple[str, float], AsyncLimiter] = {}
        #: The client's adaptive rate on this loop: one gate, whatever the rate.
        self.adaptive = VariableGate()

    def get(self, kind: str, rate: float) -> AsyncLimiter:
        """The shared limiter of ``kind`` (``"requests"``, ``"bytes"``) at ``rate`` per second."""
        limiter = self._limiters.get((kind, rate))
        if limiter is None:
            limiter = self._limiters[(kind, rate)] = make_limiter(rate)
        return limiter


class Pacer:
    """One batch's limits, used from its worker threads, enforced on its event loop.

    Args:
        loop: the batch's event loop.
        limiters: the client's limiters on that loop.
        rate_limit: requests per second, or ``None``.
        bytes_per_second: request body bytes per second, or ``None``.
        adaptive: the client's :class:`AdaptiveRate`, or ``None`` when adaptive is off.
        shared: a :class:`~resilient_s3.SharedLimiter` (``rate_limit=`` given one), waited for
            in the worker thread itself, before the limits above; or ``None``.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        limiters: LoopLimiters,
        rate_limit: float | None,
        bytes_per_second: float | None,
        adaptive: AdaptiveRate | None,
        shared: SharedLimiter | None = None,
    ) -> None:
        self._loop = loop
        self.shared = shared
        self._limiters = limiters
        self.rate_limit = rate_limit
        self.bytes_per_second = bytes_per_second
        self.adaptive = adaptive
        self.cancelled = threading.Event()
        self._lock = threading.Lock()
        self._waiting: set[concurrent.futures.Future[None]] = set()
        self._tasks: set[asyncio.Future[None]] = set()

    def wait(self, requests: int, nbytes: int) -> None:
        """Block the calling (worker) thread until ``requests`` requests carrying ``nbytes``
        bytes may be sent. Raises :class:`BatchCancelled` once the batch is cancelled."""
        if self.cancelled.is_set():
            raise BatchCancelled
        if self.shared is not None and (requests or (self.shared.bytes_per_second and nbytes)):
            shared_bytes = nbytes if self.shared.bytes_per_second else 0
            if not self.shared.acquire(requests, shared_bytes, self.cancelled):
                raise BatchCancelled
        adaptive_rate = self.adaptive.rate if self.adaptive is not None else None
        idle = self.rate_limit is None and adaptive_rate is None
        if idle and (self.bytes_per_second is None or not nbytes):
            return
        future = asyncio.run_coroutine_threadsafe(self._acquire(requests, nbytes), self._loop)
        with self._lock:
            self._waiting.add(future)
        try:
            future.result()
        except concurrent.futures.CancelledError:
            raise BatchCancelled from None
        finally:
            with self._lock:
                self._waiting.discard(future)

    async def acquire(self, requests: int, nbytes: int) -> None:
        """:meth:`wait` for a task on the batch's loop (the CRT plane): the same limits, the
        same :class:`BatchCancelled` once the batch is cancelled (waiters are woken)."""
        if self.cancelled.is_set():
            raise BatchCancelled
        adaptive_rate = self.adaptive.rate if self.adaptive is not None else None
        idle = self.rate_limit is None and adaptive_rate is None and self.shared is None
        if idle and (self.bytes_per_second is None or not nbytes):
            return
        task = asyncio.ensure_future(self._shared_then_acquire(requests, nbytes))
        self._tasks.add(task)
        try:
            await task
        except asyncio.CancelledError:
            if self.cancelled.is_set() and task.cancelled():
                raise BatchCancelled from None
            raise
        finally:
            self._tasks.discard(task)

    def cancel(self) -> None:
        """Refuse every later request and wake the threads and tasks waiting for a token."""
        self.cancelled.set()
        with self._lock:
            waiting = list(self._waiting)
        for future in waiting:
            future.cancel()
        for task in list(self._tasks):  # cancel() runs on the loop: tasks are the loop's
            task.cancel()

    async def _shared_then_acquire(self, requests: int, nbytes: int) -> None:
        shared = self.shared
        if shared is not None and (requests or (shared.bytes_per_second and nbytes)):
            shared_bytes = nbytes if shared.bytes_per_second else 0
            # the round trip to Redis in a thread, the wait for the slot on the loop
            delay = await asyncio.to_thread(shared.reserve, requests, shared_bytes)
            if delay > 0:
                await asyncio.sleep(delay)
        await self._acquire(requests, nbytes)

    async def _acquire(self, requests: int, nbytes: int) -> None:
        if self.rate_limit is not None and requests:
            await self._limiters.get("requests", self.rate_limit).acquire(requests)
        adaptive_rate = self.adaptive.rate if self.adaptive is not None else None
        if adaptive_rate is not None and requests:
            for _ in range(requests):
                await self._limiters.adaptive.acquire(adaptive_rate)
        if self.bytes_per_second is not None and nbytes:
            limiter = self._limiters.get("bytes", self.bytes_per_second)
            while nbytes > 0:  # an amount above the limiter's burst is taken in pieces
                piece = min(float(nbytes), limiter.max_rate)
                await limiter.acquire(piece)
                nbytes -= max(1, int(piece))
