"""Adaptive request rate: AIMD on THROTTLED answers, shared by the batches of one client.

The server tells a client it is too fast by throttling (SlowDown, 503, 429). botocore's
"adaptive" retry mode reacts to every throttled answer (CUBIC); here the reaction is AIMD, and
only to throttling that is frequent, not to an isolated SlowDown among healthy answers (a
transient fault mix of a few percent must not halve the throughput of a batch):

- every request sent is counted, every answer is counted as throttled or not, in a sliding
  window of ``window`` seconds;
- **multiplicative decrease**: when a throttled answer arrives and the throttled share of the
  window's answers is at least ``threshold`` (with at least 10 answers in the denominator, so
  one throttle among 3 answers is 10 %, not 33 %), the rate becomes ``decrease`` times the
  lower of the current rate and the rate actually sent in the window; at most once per window;
- **additive increase**: every answer that is not throttled adds ``increase`` times the rate
  before the last decrease, per second elapsed; once the rate is back to that level it stops
  limiting (``rate`` is ``None``).

The batch's own ``rate_limit`` is a separate limiter, so the effective rate is never above it.
Thread-safe: worker threads report sends and answers; the event loop reads :attr:`rate`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["AdaptivePolicy", "AdaptiveRate"]

_SLOTS = 10  # sub-windows of the sliding window
_MIN_ANSWERS = 10  # smallest denominator of the throttled share


@dataclass(frozen=True)
class AdaptivePolicy:
    """How the adaptive rate reacts (``adaptive=`` of every batch method; ``True`` means this).

    Attributes:
        decrease: factor applied to the rate on frequent throttling (0 < decrease < 1).
        increase: fraction of the rate before the last decrease added per second without
            throttling (``0.1``: back to that rate 3 s after a 0.7 decrease).
        threshold: throttled share of the window's answers that triggers a decrease
            (``0``: every throttled answer does, as botocore's adaptive mode).
        window: seconds of the sliding window, and the least time between two decreases.
        min_rate: requests per second the rate never goes below.
    """

    decrease: float = 0.7
    increase: float = 0.1
    threshold: float = 0.1
    window: float = 1.0
    min_rate: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.decrease < 1:
            raise ValueError(f"decrease must be between 0 and 1, got {self.decrease}")
        if self.increase <= 0 or self.window <= 0 or self.min_rate <= 0:
            raise ValueError("increase, window and min_rate must be > 0")
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
        self._release_at = 0.0  # the rate before the last decrease: above it, stop limiting
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
                self._rate += self.policy.increase * self._release_at * (now - self._last_increase)
                self._last_increase = now
                if self._rate >= self._release_at:
                    self._rate = None

    def _maybe_decrease(self, now: float) -> None:
        policy = self.policy
        if now - self._last_decrease < policy.window:
            return
        sent, answered, throttled = (sum(c[i] for c in self._counts) for i in range(3))
        if throttled / max(answered, _MIN_ANSWERS) < policy.threshold:
            return
        measured = sent / policy.window
        current = measured if self._rate is None else min(self._rate, measured or self._rate)
        current = max(current, policy.min_rate)
        self._release_at = current
        self._rate = max(policy.min_rate, policy.decrease * current)
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
