"""Cap each attempt's connect and read timeouts by the time its call has left.

The deadline (``RetryPolicy.deadline``) stops retries; without this an attempt already running
could still wait a whole read timeout (60 s) on a server that accepted the connection and
went silent. botocore takes its timeouts from the client's ``Config`` once, for every request,
and has no per-call timeout. So the retrier sets, around each attempt, a context variable
holding the attempt's end (``attempt_time_left``), and the client's urllib3 connection pools
(installed by :func:`cap_attempt_timeouts`) read it when they resolve a request's timeout: the
connect timeout and the socket read timeout become ``min(configured, time left)``. Context
variables are per thread, so concurrent calls sharing one client each get their own cap.

Why this way: a client per remaining-time bucket multiplies connection pools; a ``before-send``
handler sees the request, not the socket; botocore passes no ``timeout`` to urllib3's
``urlopen``. The pool's ``_get_timeout`` is the one place where a request's timeout is
resolved, in urllib3 1.26 and 2.x alike; botocore keeps the pool classes it uses on its HTTP
session (applied to proxy managers too), so subclasses of botocore's own pool classes go in
there (``_internals.install_pool_classes``). A read timeout bounds each wait for a byte, not the
sum: a server that trickles one byte at a time can still hold an attempt past the deadline.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from botocore.client import BaseClient
from urllib3.util.timeout import Timeout

from .._internals import install_pool_classes

__all__ = ["attempt_time_left", "attempt_until", "cap_attempt_timeouts"]

#: ``time.monotonic()`` at which the running attempt's call reaches its deadline.
_UNTIL: ContextVar[float | None] = ContextVar("resilient_s3_attempt_until", default=None)
_MIN_SECONDS = 0.01  # a timeout of 0 would make sockets non-blocking
_CAPPED: dict[type, type] = {}


@contextlib.contextmanager
def attempt_time_left(seconds: float | None) -> Iterator[None]:
    """Within the block, this thread's requests time out after at most ``seconds``."""
    if seconds is None:
        yield
        return
    token = _UNTIL.set(time.monotonic() + max(seconds, _MIN_SECONDS))
    try:
        yield
    finally:
        _UNTIL.reset(token)


def attempt_until() -> float | None:
    """When the running attempt's call reaches its deadline (``time.monotonic()``), or ``None``
    (for a transport that bounds its attempts itself: the native one)."""
    return _UNTIL.get()


class _CappedPool:
    """Mixed into botocore's connection pool classes: the resolved timeout, capped."""

    def _get_timeout(self, timeout: Any) -> Timeout:
        resolved: Timeout = super()._get_timeout(timeout)  # type: ignore[misc]
        until = _UNTIL.get()
        if until is None:
            return resolved
        left = max(until - time.monotonic(), _MIN_SECONDS)
        return Timeout(
            connect=_capped(resolved.connect_timeout, left),
            read=_capped(resolved.read_timeout, left),
        )


def _capped(configured: Any, left: float) -> float:
    return min(configured, left) if isinstance(configured, (int, float)) else left


def cap_attempt_timeouts(inner: BaseClient) -> None:
    """Make ``inner``'s connection pools honour :func:`attempt_time_left` (idempotent; nothing
    if the client's HTTP session is not botocore's urllib3 one)."""
    install_pool_classes(inner, _capped_class)


def _capped_class(pool: type) -> type:
    if issubclass(pool, _CappedPool):
        return pool
    if pool not in _CAPPED:
        _CAPPED[pool] = type(f"Capped{pool.__name__}", (_CappedPool, pool), {})
    return _CAPPED[pool]
