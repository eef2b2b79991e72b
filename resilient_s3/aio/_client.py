"""The asyncio front door: every S3 operation awaitable, over the awaited half of the core.

:class:`AsyncResilientS3Client` is to :class:`~resilient_s3.ResilientS3Client` what httpx's
``AsyncClient`` is to its ``Client``: the same surface, awaited, over the same core
(``_core.AsyncCore``: prepare -> send -> after-steps, verification, read-your-writes, resumable
bodies, stats and spans), with aiobotocore's habits (``async with``, ``await s3.put_object``,
``async for`` pages and body chunks, ``await waiter.wait``, ``await generate_presigned_url``).

Each operation is sent on the transport the core's route names for it
(``_transports/routing.py``): the object operations awscrt serves as botocore would go to the
native transport (``_transports/crt/door.py``: awaited on the loop, no thread), everything else
(and every call a caller's event handler or an unsupported ``Config`` keeps on botocore) to
:class:`~resilient_s3._transports.botocore.AsyncBotocoreTransport`: the inner boto3 client's
method in one of ``max_pool_connections`` worker threads (daemon threads, one pool per client
and pool size, made on first use), so the loop never blocks.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from botocore import xform_name
from botocore.client import BaseClient

from .._bodies.transfer import TRANSFER_METHODS
from .._client import DoorState, ResilientS3Client, door_parts
from .._config import pool_size
from .._core import AsyncCore
from .._internals import async_paginator
from .._retry.policy import RetryPolicy
from .._shared import Rebuild, SharedParts
from .._telemetry import TelemetryPolicy
from .._transports.base import AsyncTransport
from .._transports.botocore import AsyncBotocoreTransport
from .._transports.routing import Routing, door_refusal
from .._verify.policy import VerifyPolicy
from ._waiter import AsyncWaiter

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client as AsyncS3Client

    from ..batch._client import BatchClient

    # Editors and type checkers see every S3 method awaitable, with aiobotocore's signatures.
    _Base = AsyncS3Client
else:
    _Base = object

__all__ = ["AsyncResilientS3Client"]

#: Local work that may still block (credentials refreshed for a signature): run in a thread.
_PRESIGN = frozenset({"generate_presigned_url", "generate_presigned_post"})
_NO_PICKLE = (
    "an asyncio resilient_s3 client cannot be pickled: it belongs to its process (worker "
    "threads, connections). Ship resilient_s3.client(...)'s arguments, or a "
    "resilient_s3.client(...), which pickles as its arguments."
)


class AsyncResilientS3Client(DoorState, _Base):
    """An asyncio S3 client whose calls are retried by kind, whose writes are verified and
    whose reads resume. Build one with :func:`resilient_s3.aio.client`.

    Use it as aiobotocore's client: ``async with resilient_s3.aio.client("s3", ...) as s3:``,
    ``await s3.put_object(...)``, ``body = (await s3.get_object(...))["Body"]`` then
    ``await body.read()``. The additions are those of the sync client: ``stats``,
    ``retry_policy``, ``verify_policy``, ``telemetry_policy``, ``with_options``, ``batch``
    (its ``*_async`` methods run on the caller's loop) and ``inner``.
    """

    def __init__(
        self,
        inner: BaseClient,
        retry: RetryPolicy | None = None,
        verify_writes: VerifyPolicy | bool | None = None,
        *,
        telemetry: TelemetryPolicy | bool | None = None,
        _rebuild: Rebuild | None = None,
        _recipe: Any = None,
        _shared: SharedParts | None = None,
    ) -> None:
        policy, verify_policy, shared = door_parts(
            inner, retry, verify_writes, telemetry, _rebuild, _recipe, _shared
        )
        self._inner = inner
        self._shared = shared
        self._operations: Mapping[str, str] = inner.meta.method_to_api_mapping
        self._botocore = AsyncBotocoreTransport(inner, shared.workers(pool_size(inner)))
        self._routing: Routing[AsyncTransport] = Routing(
            inner,
            shared.stats,
            self._botocore,
            functools.partial(_native_transport, inner, shared, self._botocore),
            door_refusal(inner, self.rate_limit is not None),
            "resilient_s3.aio",
            shared.sizes,
        )
        self._core: AsyncCore = AsyncCore(
            self._routing.route, shared, policy, verify_policy, self._botocore.run
        )

    @functools.cached_property
    def _blocking(self) -> ResilientS3Client:
        """The sync door over the same boto3 client and shared parts (for the batch and the
        managed transfers)."""
        return ResilientS3Client(
            self._inner, self.retry_policy, self.verify_policy, _shared=self._shared
        )

    @property
    def batch(self) -> BatchClient:
        """Concurrent, rate-limited, verified operations over many objects (docs/batch.md):
        ``await s3.batch.put_async(...)`` runs on the caller's loop."""
        return self._blocking.batch

    def with_options(
        self,
        *,
        retry: RetryPolicy | None = None,
        verify_writes: VerifyPolicy | bool | None = None,
        max_pool_connections: int | None = None,
    ) -> AsyncResilientS3Client:
        """A client sharing this one's stats, retry budget, recent writes, telemetry and worker
        threads, with another retry or verify-after-put policy; as
        :meth:`resilient_s3.ResilientS3Client.with_options` (a larger ``max_pool_connections``
        also gives that many worker threads)."""
        inner = self._inner
        if max_pool_connections is not None and max_pool_connections > pool_size(inner):
            inner = self._shared.pooled(max_pool_connections)
        return AsyncResilientS3Client(
            inner,
            retry if retry is not None else self.retry_policy,
            verify_writes if verify_writes is not None else self.verify_policy,
            _shared=self._shared,
        )

    def __getattr__(self, name: str) -> Any:
        operation = self._operations.get(name)
        if operation is not None:
            method = self._awaited_operation(name, operation)
        elif name in TRANSFER_METHODS or name in _PRESIGN:
            method = self._in_a_thread(name)
        else:
            return getattr(self._inner, name)
        self.__dict__[name] = method  # later lookups skip __getattr__
        return method

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(dir(self._inner)))

    def __repr__(self) -> str:
        meta = self._inner.meta
        return (
            f"<AsyncResilientS3Client endpoint={meta.endpoint_url!r} region={meta.region_name!r}>"
        )

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        raise TypeError(_NO_PICKLE)

    def _awaited_operation(self, name: str, operation: str) -> Callable[..., Awaitable[Any]]:
        core = self._core

        @functools.wraps(getattr(self._inner, name))
        async def call(*args: Any, **params: Any) -> Any:
            if args:
                raise TypeError(f"{name}() only accepts keyword arguments.")
            return await core.call(operation, params)

        return call

    def _in_a_thread(self, name: str) -> Callable[..., Awaitable[Any]]:
        """The sync door's ``name`` (a presign, a managed transfer) awaited in a worker thread:
        it holds that thread while it runs (a transfer's parts go through s3transfer's own)."""
        method = getattr(self._blocking, name)
        run = self._botocore.run

        @functools.wraps(method)
        async def call(*args: Any, **kwargs: Any) -> Any:
            return await run(functools.partial(method, *args, **kwargs))

        return call

    def _get_paginator(self, operation_name: str) -> Any:
        paginator = self._inner.get_paginator(operation_name)
        return async_paginator(paginator, lambda name: getattr(self, xform_name(name)))

    def _get_waiter(self, waiter_name: str) -> AsyncWaiter:
        waiter: Any = self._inner.get_waiter(waiter_name)
        return AsyncWaiter(waiter, getattr(self, xform_name(waiter.config.operation)))

    async def _close(self) -> None:
        """Close the boto3 client and its bigger-pool copies, let the worker threads go, stop
        the batches' loop. Requests still running in threads end there, their answers
        dropped."""
        self._inner.close()
        self._shared.close()

    if not TYPE_CHECKING:  # typed through aiobotocore's S3Client for callers
        get_paginator = _get_paginator
        get_waiter = _get_waiter
        close = _close

    async def __aenter__(self) -> AsyncResilientS3Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._close()


def _native_transport(
    inner: BaseClient, shared: SharedParts, botocore: AsyncTransport
) -> AsyncTransport:
    """The native transport of a client over ``inner`` (awscrt: imported on first use);
    ``botocore`` reads the GetObjects it turns away."""
    from .._transports.crt.door import AsyncNative, native_calls

    return AsyncNative(native_calls(inner, shared), botocore)
