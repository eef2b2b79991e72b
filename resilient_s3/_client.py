"""The facade: one inner boto3 S3 client, every operation called through the retrier.

Operations (``put_object``, ``list_objects_v2``, ...) are found through the inner client's own
``meta.method_to_api_mapping`` and wrapped on first use; everything else (``meta``,
``exceptions``, ``generate_presigned_url``, ``generate_presigned_post``, ``can_paginate``,
``waiter_names``...) is the inner client's, unchanged and never retried. Paginators and waiters
are the inner client's with their request method swapped for the retried one, so each page or
poll request is retried on its own.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from botocore import xform_name
from botocore.client import BaseClient

from ._bodies.transfer import TRANSFER_METHODS, transfer_method
from ._checks import check_policy
from ._config import pool_size
from ._core import Core, CoreBase
from ._internals import retarget_paginator, retarget_waiter
from ._retry.policy import RetryPolicy
from ._retry.timeouts import cap_attempt_timeouts
from ._shared import Rebuild, SharedParts
from ._stats import StatsSnapshot
from ._telemetry import TelemetryPolicy, start
from ._tls import check_ca_bundle
from ._transports.base import Transport
from ._transports.botocore import BotocoreTransport
from ._transports.routing import Routing, door_refusal
from ._verify.policy import VerifyPolicy

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from .batch._client import BatchClient

    # Editors and type checkers see every S3 method with boto3's exact signature.
    _Base = S3Client
else:
    _Base = object

__all__ = ["DoorState", "ResilientS3Client", "door_parts"]

_NO_RECIPE = (
    "a resilient_s3 client made by wrap() cannot be pickled: its boto3 client holds "
    "connections and credentials that cannot cross processes, and wrap() keeps no recipe to "
    "build it again. Make it with resilient_s3.client(...) (it pickles as its arguments), or "
    "ship the arguments and call resilient_s3.wrap(boto3.client('s3', **arguments)) in the "
    "worker."
)


def door_parts(
    inner: BaseClient,
    retry: RetryPolicy | None,
    verify_writes: VerifyPolicy | bool | None,
    telemetry: TelemetryPolicy | bool | None,
    rebuild: Rebuild | None,
    recipe: Any,
    shared: SharedParts | None,
) -> tuple[RetryPolicy, VerifyPolicy, SharedParts]:
    """What a front door over ``inner`` (sync or asyncio) starts from: its policies, checked,
    and the parts it shares (``shared``, or new ones with the client's telemetry); ``inner``'s
    CA bundle checked and its attempts' timeouts capped by the deadline."""
    if inner.meta.service_model.service_name != "s3":
        raise ValueError(
            f"resilient_s3 wraps S3 clients only, got {inner.meta.service_model.service_name!r}"
        )
    policy = check_policy("retry", retry, RetryPolicy) if retry is not None else RetryPolicy()
    verify_policy = VerifyPolicy.coerce(verify_writes)
    if shared is None:
        meta = inner.meta
        reporter = start(TelemetryPolicy.coerce(telemetry), meta.region_name, meta.endpoint_url)
        shared = SharedParts(policy, verify_policy, rebuild, reporter, recipe)
    check_ca_bundle(inner)
    cap_attempt_timeouts(inner)
    return policy, verify_policy, shared


class DoorState:
    """What both front doors (this sync one, and ``aio``'s) show of their state; each sets
    ``_inner``, ``_shared`` and ``_core``."""

    _inner: BaseClient
    _shared: SharedParts
    _core: CoreBase

    @property
    def stats(self) -> StatsSnapshot:
        """A snapshot of the counters: attempts, retries by kind, give-ups, verifications..."""
        return self._shared.stats.snapshot()

    @property
    def retry_policy(self) -> RetryPolicy:
        """The :class:`~resilient_s3.RetryPolicy` this client applies."""
        return self._core.retrier.policy

    @property
    def verify_policy(self) -> VerifyPolicy:
        """The :class:`~resilient_s3.VerifyPolicy` this client applies."""
        return self._core.verify_policy

    @property
    def telemetry_policy(self) -> TelemetryPolicy | None:
        """The :class:`~resilient_s3.TelemetryPolicy` this client reports under; ``None`` when
        it reports nothing (``telemetry=False``, or opentelemetry-api not installed)."""
        telemetry = self._shared.telemetry
        return telemetry.policy if telemetry is not None else None

    @property
    def rate_limit(self) -> Any:
        """The :class:`~resilient_s3.SharedLimiter` given to :func:`~resilient_s3.client` as
        ``rate_limit`` (every HTTP request takes a token), or ``None``."""
        recipe = self._shared.recipe
        return recipe.options.get("rate_limit") if recipe is not None else None

    @property
    def inner(self) -> BaseClient:
        """The wrapped boto3 client (blocking; calls made on it directly are not retried)."""
        return self._inner


class ResilientS3Client(DoorState, _Base):
    """A boto3 S3 client whose calls are retried by kind, whose writes are verified and whose
    reads resume.

    Build one with :func:`client` or :func:`wrap`. Use it exactly like the boto3 client; the
    additions are ``stats``, ``retry_policy``, ``verify_policy``, ``telemetry_policy``,
    ``with_options``, ``batch`` and ``inner``. A ``with`` block closes the inner client.

    A front door over the core (``_core.py``), where each call goes through its steps (prepare,
    send, after-steps) on the transport its route names: the object operations on awscrt's
    native client (each request waited for in the calling thread),
    the rest on botocore (``_transports/routing.py``).
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
        policy, verify_policy, _shared = door_parts(
            inner, retry, verify_writes, telemetry, _rebuild, _recipe, _shared
        )
        self._inner = inner
        self._shared = _shared
        self._operations: Mapping[str, str] = inner.meta.method_to_api_mapping
        botocore = BotocoreTransport(inner)
        self._routing: Routing[Transport] = Routing(
            inner,
            _shared.stats,
            botocore,
            functools.partial(_native_transport, inner, _shared, botocore),
            door_refusal(inner, self.rate_limit is not None),
            "resilient_s3",
            _shared.sizes,
            _in_batch_worker,
        )
        self._core: Core = Core(self._routing.route, _shared, policy, verify_policy)

    @functools.cached_property
    def batch(self) -> BatchClient:
        """Concurrent, rate-limited, verified operations over many objects (docs/batch.md)."""
        from .batch._client import BatchClient  # imported on first use: asyncio and aiolimiter

        return BatchClient(self, self._shared)

    def with_options(
        self,
        *,
        retry: RetryPolicy | None = None,
        verify_writes: VerifyPolicy | bool | None = None,
        max_pool_connections: int | None = None,
    ) -> ResilientS3Client:
        """A client sharing this one's stats, retry budget, recent writes and telemetry, with
        another retry or verify-after-put policy: ``s3.with_options(verify_writes=False)...``.

        ``max_pool_connections`` larger than this client's pool gives a client over a copy of
        the boto3 client with that pool size (built once per size, closed with this client);
        the copy is made as :func:`~resilient_s3.client` made this one (same session, endpoint,
        region and ``Config``), so a client given to :func:`~resilient_s3.wrap` raises
        ``ValueError``. Handlers registered on this client's ``meta.events`` are not copied.
        """
        inner = self._inner
        if max_pool_connections is not None and max_pool_connections > pool_size(inner):
            inner = self._shared.pooled(max_pool_connections)
        return ResilientS3Client(
            inner,
            retry if retry is not None else self.retry_policy,
            verify_writes if verify_writes is not None else self.verify_policy,
            _shared=self._shared,
        )

    def __getattr__(self, name: str) -> Any:
        operation = self._operations.get(name)
        if operation is not None:
            method = self._retried_operation(name, operation)
        elif name in TRANSFER_METHODS:
            method = transfer_method(self, name)
        else:
            return getattr(self._inner, name)
        self.__dict__[name] = method  # later lookups skip __getattr__
        return method

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(dir(self._inner)))

    def __repr__(self) -> str:
        meta = self._inner.meta
        return f"<ResilientS3Client endpoint={meta.endpoint_url!r} region={meta.region_name!r}>"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickles as the recipe :func:`~resilient_s3.client` kept, rebuilt where it is unpickled
        with this client's policies (docs/distributed.md)."""
        recipe = self._shared.recipe
        if recipe is None:
            raise TypeError(_NO_RECIPE)
        reduced: tuple[Any, tuple[Any, ...]] = recipe.reduce(self.retry_policy, self.verify_policy)
        return reduced

    def _retried_operation(self, name: str, operation: str) -> Callable[..., Any]:
        @functools.wraps(getattr(self._inner, name))
        def call(*args: Any, **params: Any) -> Any:
            if args:
                raise TypeError(f"{name}() only accepts keyword arguments.")
            return self._core.call(operation, params)

        return call

    def _get_paginator(self, operation_name: str) -> Any:
        paginator = self._inner.get_paginator(operation_name)
        return retarget_paginator(paginator, lambda name: getattr(self, xform_name(name)))

    def _get_waiter(self, waiter_name: str) -> Any:
        waiter: Any = self._inner.get_waiter(waiter_name)
        return retarget_waiter(waiter, getattr(self, xform_name(waiter.config.operation)))

    def _close(self) -> None:
        self._inner.close()
        self._shared.close()

    if not TYPE_CHECKING:  # typed through S3Client for callers; implemented above
        get_paginator = _get_paginator
        get_waiter = _get_waiter
        close = _close

    def __enter__(self) -> ResilientS3Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._close()


def _native_transport(inner: BaseClient, shared: SharedParts, botocore: Transport) -> Transport:
    """The native transport of a sync client over ``inner`` (awscrt: imported on first use);
    ``botocore`` reads the GetObjects it turns away."""
    from ._transports.crt.door import BlockingNative, native_calls

    return BlockingNative(native_calls(inner, shared), botocore)


def _in_batch_worker() -> str | None:
    """Why a call must stay on botocore in this thread: a batch's worker thread (its requests
    are paced in botocore's ``before-send``: ``batch/_pacing/worker_hooks.py``), or ``None``."""
    hooks = sys.modules.get("resilient_s3.batch._pacing.worker_hooks")
    if hooks is not None and hooks.current_context() is not None:
        return "a batch's worker thread (its requests are paced in botocore's before-send)"
    return None
