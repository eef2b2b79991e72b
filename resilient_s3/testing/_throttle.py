"""The token bucket behind :attr:`FaultKind.THROTTLE <resilient_s3.testing.FaultKind.THROTTLE>`.

A server that throttles a client *because it is too fast* needs state over time, which the random
faults do not have. One :class:`TokenBucket` per THROTTLE fault holds it; the
:class:`~resilient_s3.testing._injector.FaultInjector` owns the buckets, guards them with its lock
and gives them its (injectable) clock's readings.
"""

from __future__ import annotations

__all__ = ["TokenBucket"]

#: Slack when comparing a token count with 1: refills summed from float clock readings may fall
#: short of a whole token by a rounding error.
_EPSILON = 1e-9


class TokenBucket:
    """Fills at ``per_second`` tokens a second up to ``burst`` tokens; starts full.

    A request that finds a whole token takes it and passes; one that does not is throttled and
    takes none, so a client that keeps sending too fast gets exactly ``per_second`` requests a
    second through. Not thread-safe by itself: the injector's lock guards every call.

    Args:
        per_second: Tokens added a second (``> 0``).
        burst: The bucket's size (``>= 1``).
        now: The clock reading at creation.
    """

    __slots__ = ("_burst", "_last", "_per_second", "_tokens")

    def __init__(self, per_second: float, burst: float, now: float) -> None:
        self._per_second = per_second
        self._burst = burst
        self._tokens = burst
        self._last = now

    @property
    def tokens(self) -> float:
        """The tokens in the bucket at the last :meth:`has_token` (or creation)."""
        return self._tokens

    def has_token(self, now: float) -> bool:
        """Add the tokens earned since the last call (a clock that goes back earns none), then
        tell whether a whole token is there."""
        if now > self._last:
            earned = (now - self._last) * self._per_second
            self._tokens = min(self._burst, self._tokens + earned)
            self._last = now
        return self._tokens >= 1 - _EPSILON

    def take(self) -> None:
        """Take one token, if a whole one is there (see :meth:`has_token`)."""
        if self._tokens >= 1 - _EPSILON:
            self._tokens = max(0.0, self._tokens - 1)
