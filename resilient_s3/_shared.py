"""What a facade and the facades derived from it with ``with_options`` share.

Counters, retry budget, recent writes, what was learnt of the server's conditional writes, and
telemetry; the recipe of the inner boto3 client and its bigger-pool copies; the asyncio door's
worker threads (one pool per size, made on first use); the front doors' native client; and the
state of the client's batches, made on first use (the batch package is imported then, not
before).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.client import BaseClient
from botocore.config import Config

from ._retry.budget import RetryBudget
from ._retry.policy import RetryPolicy
from ._stats import Stats
from ._transports.sizes import KnownSizes
from ._verify.policy import VerifyPolicy
from ._verify.recent import RecentWrites
from ._verify.reupload import ConditionalWrites
from ._verify.unverified import Unverified
from ._workers import DaemonThreadPool

if TYPE_CHECKING:
    from ._telemetry.telemetry import Telemetry
    from .batch._engine.state import ClientState

__all__ = ["Rebuild", "SharedParts"]


#: ``build(overrides)``: a new boto3 client made as the inner one was, its ``Config`` merged with
#: ``overrides`` (kept by :func:`~resilient_s3.client`; a closure, so that no repr shows the
#: credentials it was given).
Rebuild = Callable[[Config], BaseClient]


class SharedParts:
    """What a client and the clients derived from it with ``with_options`` share: counters,
    retry budget, recent writes, conditional writes, unverified writes, telemetry, the recipe
    of the inner client and its bigger-pool copies, and the batches' state (built on first
    use). The facade passes it to its batches, which pass what they need on to the planes."""

    def __init__(
        self,
        policy: RetryPolicy,
        verify: VerifyPolicy,
        rebuild: Rebuild | None,
        telemetry: Telemetry | None,
        recipe: Any = None,
    ) -> None:
        self.telemetry = telemetry  # None: off, or opentelemetry-api not installed
        self.stats = Stats(telemetry)
        self.budget = RetryBudget(policy.budget)
        self.recent = RecentWrites(verify.recent_keys, policy.clock)
        #: Objects' sizes seen: which GetObject answers may arrive whole (``_transports/sizes.py``).
        self.sizes = KnownSizes()
        self.writes = ConditionalWrites()
        self.unverified = Unverified(self.stats)
        self.rebuild = rebuild
        #: What pickling ships (``_fleet/recipe.py``); ``None`` for a client from wrap().
        self.recipe = recipe
        self._pools: dict[int, BaseClient] = {}
        self._workers: dict[int, DaemonThreadPool] = {}
        self._batch_state: ClientState | None = None
        self._natives: dict[object, Any] = {}
        self._lock = threading.Lock()

    def pooled(self, size: int) -> BaseClient:
        """The inner client rebuilt with ``max_pool_connections=size``, once per size."""
        if self.rebuild is None:
            raise ValueError(
                "this client was given to resilient_s3.wrap(), so it cannot be rebuilt with "
                f"another pool size: build it with Config(max_pool_connections={size})"
            )
        with self._lock:
            inner = self._pools.get(size)
            if inner is None:
                inner = self._pools[size] = self.rebuild(Config(max_pool_connections=size))
            return inner

    def workers(self, size: int) -> DaemonThreadPool:
        """The worker threads (at most ``size``) where the asyncio door runs botocore, once per
        size; daemon threads, so nothing waits for them at exit (``_workers.py``)."""
        with self._lock:
            pool = self._workers.get(size)
            if pool is None:
                pool = self._workers[size] = DaemonThreadPool(size, "resilient-s3-aio")
            return pool

    def native_client(self, settings: object, build: Callable[[], Any]) -> Any:
        """The front doors' native (awscrt) client for ``settings`` (hashable), built by
        ``build`` once; released by :meth:`close` (``NativeClient.close``)."""
        with self._lock:
            found = self._natives.get(settings)
            if found is None:
                found = self._natives[settings] = build()
                weakref.finalize(self, found.close)
            return found

    def batch_state(self) -> ClientState:
        """The state the batches of these clients share, made on first use."""
        with self._lock:
            if self._batch_state is None:
                from .batch._engine.state import ClientState  # asyncio, aiolimiter: on first use

                self._batch_state = ClientState(self.telemetry)
                weakref.finalize(self, self._batch_state.close)
            return self._batch_state

    def close(self) -> None:
        """Close the bigger-pool copies, let the worker threads go (each ends after the work it
        has in hand) and stop the batches' background loop."""
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
            workers, self._workers = list(self._workers.values()), {}
            state = self._batch_state
            natives, self._natives = list(self._natives.values()), {}
        for native in natives:
            native.close()
        for inner in pools:
            inner.close()
        for worker in workers:
            worker.shutdown(wait=False, cancel_futures=True)
        if state is not None:
            state.close()
