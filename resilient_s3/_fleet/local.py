"""What a :class:`~resilient_s3.SharedLimiter` paces with while Redis is unreachable: this
process alone, through thread-safe GCRA gates, at its share of the last shared rate, lowered on
throttling by the batch's AIMD (:class:`~resilient_s3.batch.AdaptivePolicy`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._adaptive import AdaptivePolicy

__all__ = ["BURST_SECONDS", "Fallback", "LocalGate"]

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


class Fallback:
    """This process's pacing while Redis is unreachable.

    Args:
        per_second, bytes_per_second: the limiter's ceilings (for all holders together).
        fixed: the ``fallback_per_second`` the caller set, or ``None``: the last shared rate
            divided by the holders seen (``per_second`` if Redis never answered).
        policy: the adaptive policy, or ``None`` (no lowering on throttling).
        clock: the limiter's clock.
    """

    def __init__(
        self,
        per_second: float,
        bytes_per_second: float | None,
        fixed: float | None,
        policy: AdaptivePolicy | None,
        clock: Callable[[], float],
    ) -> None:
        self._per_second, self._bytes_per_second = per_second, bytes_per_second
        self._fixed, self._policy = fixed, policy
        from .._adaptive import AdaptivePolicy, AdaptiveRate

        self._requests, self._bytes = LocalGate(clock), LocalGate(clock)
        self._adaptive = AdaptiveRate(policy or AdaptivePolicy(), clock)
        #: What Redis said last: the shared rate (``None``: never answered) and the holders.
        self.shared_rate: float | None = None
        self.holders = 1

    def rate(self) -> float:
        """Requests per second for this process now."""
        if self._fixed is not None:
            rate = self._fixed
        else:
            shared = self.shared_rate if self.shared_rate is not None else self._per_second
            rate = max(shared / self.holders, self._policy.min_rate if self._policy else 0.1)
        lowered = self._adaptive.rate if self._policy is not None else None
        return min(rate, lowered) if lowered is not None else rate

    def reserve(self, requests: int, nbytes: int) -> tuple[float, float]:
        """``(seconds to wait, the rate used)`` for ``requests`` carrying ``nbytes``."""
        rate = self.rate()
        wait = self._requests.reserve(requests, rate) if requests else 0.0
        if self._bytes_per_second is not None and nbytes:
            share = self._bytes_per_second / self.holders
            wait = max(wait, self._bytes.reserve(nbytes, share))
        for _ in range(requests):
            self._adaptive.sent()
        return wait, rate

    def answered(self, throttled: bool) -> None:
        """An answer seen while Redis is unreachable."""
        if self._policy is not None:
            self._adaptive.answered(throttled)
