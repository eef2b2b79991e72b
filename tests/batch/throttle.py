"""A fault proxy that throttles above a rate: the server side of the adaptive-rate tests.

``resilient_s3.testing`` injects faults at random rates; a server that throttles a client
*because it is too fast* needs state over time. :class:`RateThrottle` is a
:class:`~resilient_s3.testing._injector.FaultInjector` with a token bucket (``rate`` tokens per
second, a burst of ``burst`` seconds' worth): a request that finds no token is answered
``503 SlowDown`` (throttled requests take no token), else decided as usual. It is installed
into a :class:`~resilient_s3.testing.FaultProxy` before the proxy starts (the proxy has no
public hook for an injector: see the batch report).
"""

from __future__ import annotations

import threading
import time

from resilient_s3.testing import Fault, FaultKind, FaultProxy
from resilient_s3.testing._injector import Decision, FaultInjector
from resilient_s3.testing._operations import RequestTarget

__all__ = ["RateThrottle", "throttling_proxy"]

_SLOWDOWN = Fault(FaultKind.SLOWDOWN)


class RateThrottle(FaultInjector):
    """Answers SlowDown to requests beyond ``rate`` per second (a token bucket)."""

    def __init__(self, rate: float, burst: float = 0.25) -> None:
        super().__init__(seed=0)
        self.rate = rate
        self.capacity = max(1.0, rate * burst)
        self.throttled = 0
        self.passed = 0
        self._tokens = self.capacity
        self._last = time.monotonic()
        self._throttle_lock = threading.Lock()

    def decide(self, method: str, target: RequestTarget) -> Decision:
        """Throttle if no token is left, else decide as usual."""
        decision = super().decide(method, target)
        with self._throttle_lock:
            now = time.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens < 1:
                self.throttled += 1
                return Decision(fault=_SLOWDOWN, generation=decision.generation)
            self._tokens -= 1
            self.passed += 1
        return decision


def throttling_proxy(upstream_url: str, rate: float, burst: float = 0.25) -> FaultProxy:
    """An unstarted FaultProxy in front of ``upstream_url`` whose injector is a RateThrottle."""
    proxy = FaultProxy(upstream_url, seed=0)
    proxy._injector = RateThrottle(rate, burst)  # before start(): the server takes it from here
    return proxy
