"""A fault proxy that throttles above a rate: the server side of the adaptive-rate tests.

``resilient_s3.testing`` injects faults at random rates; a server that throttles a client
*because it is too fast* needs state over time. :class:`RateThrottle` is a
:class:`~resilient_s3.testing._injector.FaultInjector` that, before the usual draw, answers
``503 SlowDown`` to any request beyond ``rate`` requests forwarded in the last ``window``
seconds (throttled requests do not count, as with S3's per-prefix request rate). It is installed
into a :class:`~resilient_s3.testing.FaultProxy` before the proxy starts (the proxy has no
public hook for an injector: see the batch report).
"""

from __future__ import annotations

import threading
import time
from collections import deque

from resilient_s3.testing import Fault, FaultKind, FaultProxy
from resilient_s3.testing._injector import Decision, FaultInjector
from resilient_s3.testing._operations import RequestTarget

__all__ = ["RateThrottle", "throttling_proxy"]

_SLOWDOWN = Fault(FaultKind.SLOWDOWN)


class RateThrottle(FaultInjector):
    """Answers SlowDown above ``rate`` forwarded requests per ``window`` seconds."""

    def __init__(self, rate: float, window: float = 1.0) -> None:
        super().__init__(seed=0)
        self.rate = rate
        self.window = window
        self.throttled = 0
        self.passed = 0
        self._times: deque[float] = deque()
        self._throttle_lock = threading.Lock()

    def decide(self, method: str, target: RequestTarget) -> Decision:
        """Throttle if the window is full, else decide as usual."""
        decision = super().decide(method, target)
        now = time.monotonic()
        with self._throttle_lock:
            while self._times and now - self._times[0] >= self.window:
                self._times.popleft()
            if len(self._times) >= self.rate * self.window:
                self.throttled += 1
                return Decision(fault=_SLOWDOWN, generation=decision.generation)
            self._times.append(now)
            self.passed += 1
        return decision


def throttling_proxy(upstream_url: str, rate: float, window: float = 1.0) -> FaultProxy:
    """An unstarted FaultProxy in front of ``upstream_url`` whose injector is a RateThrottle."""
    proxy = FaultProxy(upstream_url, seed=0)
    proxy._injector = RateThrottle(rate, window)  # before start(): the server takes it from here
    return proxy
