"""Adaptive request rate: AIMD on THROTTLED answers, shared by the batches of one client.

The server tells a client it is too fast by throttling (SlowDown, 503, 429). botocore's
"adaptive" retry mode reacts to every throttled answer (CUBIC); here the reaction is AIMD, and
only to throttling that is frequent, not to an isolated SlowDown among healthy answers (a
transient fault mix of a few percent must not halve the throughput of a batch):

- every request sent is counted, every answer is counted as throttled or not, in a sliding
  window of ``window`` seconds;
- **multiplicative decrease**: when a throttled answer arrives, the window holds at least two
  throttled answers and their share of the window's answers is above ``threshold`` (with at
  least 20 answers in the denominator: two throttles among 5 answers are 10 %, not 40 %), the
  rate becomes ``decrease`` times the lower of the current rate and the rate the server
  *accepted* (answers not throttled, per second) in the window; at most once per window;
- **additive increase**: every answer that is not throttled adds ``increase`` times the
  highest rate sent before the throttling began, per second elapsed (``0.1``: back to it in at
  most 10 s); once the rate is back there, it stops limiting (``rate`` is ``None``).

The batch's own ``rate_limit`` is a separate limiter, so the effective rate is never above it.
Thread-safe: worker threads report sends and answers; the event loop reads :attr:`rate`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ._checks import check_seconds

__all__ = ["AdaptivePolicy", "AdaptiveRate"]

_SLOTS = 10  # sub-windows of the sliding window
_MIN_ANSWERS = 20  # smallest denominator of the throttled share


@dataclass(frozen=True)
class AdaptivePolicy:
    """How the adaptive rate reacts (``adaptive=`` of every batch method; ``True`` means this).

    Attributes:
        decrease: factor applied to the rate on frequent throttling (0 < decrease < 1).
        increase: fraction of the highest rate sent before the throttling added per second
            without throttling (``0.1``: back to it within 10 s).
        threshold: throttled share of the window's answers above which a decrease is made
            (``0``: any two throttled answers in a window do).
        window: seconds of the sliding window, and the least time between two decreases.
        min_rate: requests per second the rate never goes below.
    """

    decrease: float = 0.7
    increase: float = 0.1
    threshold: float = 0.1
    window: float = 0.5
    min_rate: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.decrease < 1:
            raise ValueError(f"decrease must be between 0 and 1, got {self.decrease}")
        for name in ("increase", "window", "min_rate"):
            check_seconds(name, getattr(self, name), positive=True)
        if not 0 <= self.threshold <= 1:
            raise ValueError(f"threshold must be between 0 and 1, got {self.threshold}")


class AdaptiveRate:
    """The current adaptive rate of one client (see the module docstring)."""

    def __init__(
        self, policy: AdaptivePolicy | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.policy = policy or AdaptivePolicy()
        self._clock = clock
        self._lock = threading.Lock()
        self._slot_seconds = self.policy.window / _SLOTS
        self._slot = int(clock() / self._slot_seconds)
        # per sub-window: [sent, answered, throttled]
        self._counts = [[0, 0, 0] for _ in range(_SLOTS)]
        self._rate: float | None = None
        self._release_at = 0.0  # the highest rate sent before the throttling: above it, release
        self._step = 0.0  # additive increase, requests/s per second
        self._first = clock()
        self._last_decrease = float("-inf")
        self._last_increase = 0.0
        self.decreases = 0

    @property
    def rate(self) -> float | None:
        """Requests per second allowed now; ``None``: not limiting."""
        return self._rate

    def sent(self) -> None:
        """Count one request sent."""
        with self._lock:
            self._current(self._clock())[0] += 1

    def answered(self, throttled: bool) -> None:
        """Count one answer and adjust the rate."""
        now = self._clock()
        with self._lock:
            counts = self._current(now)
            counts[1] += 1
            if throttled:
                counts[2] += 1
                self._maybe_decrease(now)
            elif self._rate is not None:
                self._rate += self._step * (now - self._last_increase)
                self._last_increase = now
                if self._rate >= self._release_at:
                    self._rate = None

    def _maybe_decrease(self, now: float) -> None:
        policy = self.policy
        if now - self._last_decrease < policy.window:
            return
        sent, answered, throttled = (sum(c[i] for c in self._counts) for i in range(3))
        if throttled < 2 or throttled / max(answered, _MIN_ANSWERS) <= policy.threshold:
            return
        span = min(policy.window, max(now - self._first, policy.window / _SLOTS))
        accepted = max((answered - throttled) / span, policy.min_rate)
        base = accepted if self._rate is None else min(self._rate, accepted)
        self._release_at = max(self._release_at if self._rate is not None else 0.0, sent / span)
        self._rate = max(policy.min_rate, policy.decrease * base)
        self._step = policy.increase * self._release_at
        self._last_decrease = self._last_increase = now
        self.decreases += 1

    def _current(self, now: float) -> list[int]:
        """The counts of the sub-window holding ``now``; older sub-windows cleared (lock held)."""
        slot = int(now / self._slot_seconds)
        if slot != self._slot:
            for passed in range(min(slot - self._slot, _SLOTS)):
                self._counts[(self._slot + 1 + passed) % _SLOTS] = [0, 0, 0]
            self._slot = slot
        return self._counts[slot % _SLOTS]
