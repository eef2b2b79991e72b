"""``SharedLimiter``: one request rate (and byte rate) for every process using the same Redis
``url`` and ``name``, lowered for all of them when any one is throttled (docs/distributed.md).

Each grant is one round trip to Redis running :data:`~resilient_s3._fleet.bucket.SCRIPT`;
with ``block=k`` a process reserves k request slots per round trip and hands them out locally,
one every ``1 / rate`` seconds. When Redis does not answer within ``timeout`` the limiter never
hangs and never lets a request through unpaced: it logs one WARNING and paces this process
alone (``fallback_per_second``, by default the last shared rate divided by the holders seen,
lowered on throttling by the same AIMD), tries Redis again every ``retry_interval`` seconds, and
logs once more at INFO when Redis answers again.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .bucket import SCRIPT, Grant, script_args
from .local import BURST_SECONDS, Fallback

if TYPE_CHECKING:
    from .._adaptive import AdaptivePolicy

__all__ = ["SharedLimiter"]

logger = logging.getLogger("resilient_s3")

_PREFIX = "resilient_s3:limiter:"
_TTL_MS = 3_600_000
_lock = threading.Lock()
_instances: dict[tuple[Any, ...], SharedLimiter] = {}


class SharedLimiter:
    """A request rate shared through Redis by every process using the same ``url`` and ``name``.

    Give it as ``rate_limit=`` to :func:`resilient_s3.client` (every HTTP request of that client
    takes a token) or to a batch method. It pickles as its settings (the ``url``, password
    included, travels with it); unpickled in a process that has one with the same settings, it
    is that one.

    Args:
        url: a redis-py URL, ``redis://[:password@]host:port/db``.
        name: the budget's name; holders of the same name share it.
        per_second: requests per second for all holders together (the ceiling of the adaptive
            rate).
        bytes_per_second: request body bytes per second for all holders; ``None``: no limit.
        adaptive: lower the shared rate when answers are throttled and raise it back on success:
            ``True`` (the :class:`~resilient_s3.batch.AdaptivePolicy` defaults), ``False``, or a
            policy.
        block: request slots reserved per round trip to Redis (``1``: one each).
        timeout: seconds a Redis connect or command may take before the fallback is used.
        fallback_per_second: this process's rate while Redis is unreachable; ``None``: the last
            shared rate divided by the holders seen in the last 10 s (``per_second`` if Redis
            never answered).
        retry_interval: seconds between attempts to reach Redis again.
        clock, sleep: injected ``time.monotonic`` and ``time.sleep``.
    """

    def __init__(
        self,
        url: str,
        name: str,
        *,
        per_second: float,
        bytes_per_second: float | None = None,
        adaptive: bool | AdaptivePolicy = True,
        block: int = 1,
        timeout: float = 0.5,
        fallback_per_second: float | None = None,
        retry_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        # the batch's AIMD policy; imported here: `import resilient_s3` loads no batch module
        from .._adaptive import AdaptivePolicy

        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty str, got {name!r}")
        for label, value in (
            ("per_second", per_second),
            ("timeout", timeout),
            ("retry_interval", retry_interval),
        ):
            if not value > 0:
                raise ValueError(f"{label} must be > 0, got {value!r}")
        for label, optional in (
            ("bytes_per_second", bytes_per_second),
            ("fallback_per_second", fallback_per_second),
        ):
            if optional is not None and not optional > 0:
                raise ValueError(f"{label} must be > 0 or None, got {optional!r}")
        if isinstance(block, bool) or not isinstance(block, int) or block < 1:
            raise ValueError(f"block must be an int >= 1, got {block!r}")
        if not isinstance(adaptive, (bool, AdaptivePolicy)):
            raise TypeError(f"adaptive must be a bool or an AdaptivePolicy, got {adaptive!r}")
        self.url, self.name = url, name
        self.per_second, self.bytes_per_second = float(per_second), bytes_per_second
        self.policy = AdaptivePolicy() if adaptive is True else (adaptive or None)
        self.block, self.timeout = block, timeout
        self.fallback_per_second, self.retry_interval = fallback_per_second, retry_interval
        self._clock, self._sleep = clock, sleep
        self._holder = uuid.uuid4().hex
        self._keys = [f"{_PREFIX}{name}", f"{_PREFIX}{name}:holders"]
        self._lock = threading.Lock()  # the slots of a block
        self._counts_lock = threading.Lock()  # answers to report, and the figures below
        self._state_lock = threading.Lock()  # up/down transitions, the connection
        self._probe = threading.Lock()  # while Redis is down: one thread tries it at a time
        self._answered = self._throttled = 0
        self._slots: deque[float] = deque()
        self._script: Any = None
        self._down_until: float | None = None  # while set: Redis unreachable, next try then
        self._fallback = Fallback(
            self.per_second, bytes_per_second, fallback_per_second, self.policy, clock
        )
        #: Round trips to Redis made, grants made, grants made locally while Redis was down.
        self.round_trips = self.grants = self.fallback_grants = 0

    # public -------------------------------------------------------------------------------------

    @property
    def rate(self) -> float | None:
        """The shared rate in force at the last round trip (requests/s); ``None`` before any."""
        return self._fallback.shared_rate

    @property
    def redis_reachable(self) -> bool:
        """Whether the last attempt to reach Redis succeeded (``True`` before any)."""
        return self._down_until is None

    def acquire(
        self, requests: int = 1, nbytes: int = 0, cancelled: threading.Event | None = None
    ) -> bool:
        """Block until ``requests`` requests carrying ``nbytes`` body bytes may be sent.

        Returns ``False`` (at once) if ``cancelled`` is set while waiting, else ``True``. The
        wait is the reserved slot's: it is bounded by the demand queued ahead at the rate.
        """
        wait = self._reserve(requests, nbytes)
        if wait <= 0:
            return not (cancelled is not None and cancelled.is_set())
        if cancelled is None:
            self._sleep(wait)
            return True
        return not cancelled.wait(wait)

    def reserve(self, requests: int = 1, nbytes: int = 0) -> float:
        """Reserve the slot of ``requests`` requests carrying ``nbytes`` and return the seconds
        to wait for it, without waiting (for an event loop, which sleeps itself)."""
        return self._reserve(requests, nbytes)

    def observe(self, throttled: bool) -> None:
        """Count one answer (throttled or not): sent to Redis with the next grant."""
        with self._counts_lock:
            self._answered += 1
            self._throttled += int(throttled)
        if self._down_until is not None:
            self._fallback.answered(throttled)

    def __repr__(self) -> str:
        return (
            f"SharedLimiter({_safe_url(self.url)!r}, {self.name!r}, "
            f"per_second={self.per_second:g}, rate={self.rate!r})"
        )

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return _limiter, (self._settings(),)

    # grants -------------------------------------------------------------------------------------

    def _reserve(self, requests: int, nbytes: int) -> float:
        if not (self.block > 1 and requests == 1 and not nbytes):
            # one round trip per grant, threads in parallel (redis-py's pool: one connection each)
            return self._grant(requests, nbytes, self._clock()).wait
        with self._lock:  # a block: one round trip for `block` slots, handed out here
            now = self._clock()
            while self._slots and self._slots[0] < now - BURST_SECONDS:
                self._slots.popleft()  # reserved but unused in time: never sent in a burst
            if self._slots:
                return max(0.0, self._slots.popleft() - now)
            grant = self._grant(self.block, 0, now)
            start, interval = now + grant.wait, 1 / grant.rate
            self._slots.extend(start + i * interval for i in range(1, self.block))
            return grant.wait

    def _grant(self, requests: int, nbytes: int, now: float) -> Grant:
        if self._down_until is None:
            return self._remote(requests, nbytes, now)
        if now < self._down_until or not self._probe.acquire(blocking=False):
            return self._local(requests, nbytes)
        try:
            return self._remote(requests, nbytes, now)
        finally:
            self._probe.release()

    def _remote(self, requests: int, nbytes: int, now: float) -> Grant:
        """A grant from Redis (one round trip), or a local one if Redis does not answer."""
        with self._counts_lock:
            answered, throttled = self._answered, self._throttled
            self._answered = self._throttled = 0
        args = script_args(
            ceiling=self.per_second,
            requests=requests,
            nbytes=nbytes,
            bytes_per_second=self.bytes_per_second,
            answered=answered,
            throttled=throttled,
            adaptive=self.policy,
            burst_seconds=BURST_SECONDS,
            holder=self._holder,
            ttl_ms=_TTL_MS,
        )
        import redis

        try:
            grant = Grant.of(self._redis_script()(keys=self._keys, args=args))
        except redis.RedisError as error:
            self._went_down(error, now)
            return self._local(requests, nbytes)
        with self._counts_lock:
            self.round_trips += 1
            self.grants += 1
        if self._down_until is not None:
            with self._state_lock:
                back, self._down_until = self._down_until is not None, None
            if back:
                logger.info("SharedLimiter %r: Redis answers again; shared rate on", self.name)
        self._fallback.shared_rate, self._fallback.holders = grant.rate, max(1, grant.holders)
        return grant

    def _local(self, requests: int, nbytes: int) -> Grant:
        """A grant of this process alone (Redis unreachable)."""
        wait, rate = self._fallback.reserve(requests, nbytes)
        with self._counts_lock:
            self.fallback_grants += 1
            self.grants += 1
        return Grant(wait, rate, self._fallback.holders)

    def _went_down(self, error: BaseException, now: float) -> None:
        with self._state_lock:
            first = self._down_until is None
            self._down_until = now + self.retry_interval
        self._slots.clear()
        if first:
            logger.warning(
                "SharedLimiter %r: Redis at %s unreachable (%s); pacing this process alone at "
                "%.3g requests/s, trying Redis again every %g s",
                self.name,
                _safe_url(self.url),
                type(error).__name__,
                self._fallback.rate(),
                self.retry_interval,
            )

    def _redis_script(self) -> Any:
        with self._state_lock:
            if self._script is None:
                self._script = self._connect()
            return self._script

    def _connect(self) -> Any:
        """redis-py's client (no retries of its own: a failure means the fallback) and the
        registered script (EVALSHA, loaded again if Redis lost it)."""
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        connection = redis.Redis.from_url(
            self.url,
            socket_timeout=self.timeout,
            socket_connect_timeout=self.timeout,
            retry=Retry(NoBackoff(), 0),
            retry_on_timeout=False,
        )
        return connection.register_script(SCRIPT)

    def _settings(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "name": self.name,
            "per_second": self.per_second,
            "bytes_per_second": self.bytes_per_second,
            "adaptive": self.policy or False,
            "block": self.block,
            "timeout": self.timeout,
            "fallback_per_second": self.fallback_per_second,
            "retry_interval": self.retry_interval,
            "clock": self._clock,
            "sleep": self._sleep,
        }


def _limiter(settings: dict[str, Any]) -> SharedLimiter:
    """Unpickle: this process's limiter with these settings, made on first use."""
    key = tuple(sorted(settings.items()))
    with _lock:
        limiter = _instances.get(key)
        if limiter is None:
            limiter = _instances[key] = SharedLimiter(**settings)
        return limiter


def _safe_url(url: str) -> str:
    """``url`` without its user and password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
