"""What a :class:`~resilient_s3.SharedLimiter` paces with while Redis is unreachable: a
thread-safe GCRA gate of this process, at a rate the limiter gives each reservation."""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["BURST_SECONDS", "LocalGate"]

#: A burst of a tenth of a second's worth (at least one), as the batch's limiters allow.
BURST_SECONDS = 0.1


class LocalGate:
    """Reserves slots ``n / rate`` apart (a theoretical arrival time), with a burst of
    :data:`BURST_SECONDS` worth; thread-safe. ``reserve`` returns how long to wait."""

    __slots__ = ("_clock", "_lock", "_tat")

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tat = 0.0

    def reserve(self, amount: float, rate: float) -> float:
        """Reserve ``amount`` (requests or bytes) at ``rate`` per second; seconds to wait."""
        with self._lock:
            now = self._clock()
            tolerance = (max(1.0, rate * BURST_SECONDS) - 1) / rate
            due = max(self._tat, now)
            self._tat = due + amount / rate
            return max(0.0, due - tolerance - now)
