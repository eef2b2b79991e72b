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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore import xform_name
from botocore.client import BaseClient
from botocore.waiter import NormalizedOperationMethod

from ._bodies.reopen import body_span, make_reopen
from ._bodies.request import prepare_body
from ._bodies.resumable import ResumableBody
from ._bodies.transfer import TRANSFER_METHODS, transfer_method
from ._retry.budget import RetryBudget
from ._retry.deletes import delete_objects
from ._retry.policy import RetryPolicy
from ._retry.retrier import Retrier
from ._stats import Stats, StatsSnapshot
from ._verify.policy import VerifyPolicy
from ._verify.recent import RecentWrites
from ._verify.verifier import VERIFIED_OPERATIONS, Verifier

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from .batch import BatchClient

    # Editors and type checkers see every S3 method with boto3's exact signature.
    _Base = S3Client
else:
    _Base = object

__all__ = ["ResilientS3Client"]

_READS = frozenset({"GetObject", "HeadObject"})


@dataclass(frozen=True)
class _Shared:
    """What a client and the clients derived from it with ``with_options`` share."""

    stats: Stats
    budget: RetryBudget
    recent: RecentWrites


class ResilientS3Client(_Base):
    """A boto3 S3 client whose calls are retried by kind, whose writes are verified and whose
    reads resume.

    Build one with :func:`client` or :func:`wrap`. Use it exactly like the boto3 client; the
    additions are ``stats``, ``retry_policy``, ``verify_policy``, ``with_options`` and
    ``inner``. A ``with`` block closes the inner client.
    """

    def __init__(
        self,
        inner: BaseClient,
        retry: RetryPolicy | None = None,
        verify: VerifyPolicy | bool | None = None,
        *,
        _shared: _Shared | None = None,
    ) -> None:
        if inner.meta.service_model.service_name != "s3":
            raise ValueError(
                f"resilient_s3 wraps S3 clients only, got {inner.meta.service_model.service_name!r}"
            )
        policy = retry if retry is not None else RetryPolicy()
        verify_policy = VerifyPolicy.coerce(verify)
        if _shared is None:
            recent = RecentWrites(verify_policy.recent_keys, policy.clock)
            _shared = _Shared(Stats(), RetryBudget(policy.budget), recent)
        self._inner = inner
        self._shared = _shared
        self._operations: Mapping[str, str] = inner.meta.method_to_api_mapping
        self._retrier = Retrier(policy, _shared.stats, _shared.budget)
        self._verify_policy = verify_policy
        self._verifier = (
            Verifier(verify_policy, policy, _shared.stats, self._invoke)
            if verify_policy.enabled
            else None
        )

    @property
    def stats(self) -> StatsSnapshot:
        """A snapshot of the counters: attempts, retries by kind, give-ups, verifications..."""
        return self._shared.stats.snapshot()

    @property
    def retry_policy(self) -> RetryPolicy:
        """The :class:`~resilient_s3.RetryPolicy` this client applies."""
        return self._retrier.policy

    @property
    def verify_policy(self) -> VerifyPolicy:
        """The :class:`~resilient_s3.VerifyPolicy` this client applies."""
        return self._verify_policy

    @property
    def batch(self) -> BatchClient:
        """Concurrent, rate-limited, verified operations over many objects (docs/batch.md)."""
        from .batch import BatchClient  # imported on first use: asyncio and aiolimiter

        return BatchClient(self)

    @property
    def inner(self) -> BaseClient:
        """The wrapped boto3 client (calls made on it directly are not retried)."""
        return self._inner

    def with_options(
        self, *, retry: RetryPolicy | None = None, verify: VerifyPolicy | bool | None = None
    ) -> ResilientS3Client:
        """A client over the same boto3 client, stats, retry budget and recent writes, with
        another retry or verify policy: ``s3.with_options(verify=False).put_object(...)``."""
        return ResilientS3Client(
            self._inner,
            retry if retry is not None else self._retrier.policy,
            verify if verify is not None else self._verify_policy,
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

    def _retried_operation(self, name: str, operation: str) -> Callable[..., Any]:
        inner_method = getattr(self._inner, name)

        @functools.wraps(inner_method)
        def call(*args: Any, **params: Any) -> Any:
            if args:
                raise TypeError(f"{name}() only accepts keyword arguments.")
            return self._call(inner_method, operation, params)

        return call

    def _invoke(
        self, name: str, params: dict[str, Any], fresh_until: float | None
    ) -> dict[str, Any]:
        """A retried call without verification (the verifier's read-backs)."""
        method = getattr(self._inner, name)
        result: dict[str, Any] = self._call(
            method, self._operations[name], dict(params), fresh_until, verify=False
        )
        return result

    def _call(
        self,
        inner_method: Callable[..., Any],
        operation: str,
        params: dict[str, Any],
        fresh_until: float | None = None,
        verify: bool = True,
    ) -> Any:
        retrier, recent = self._retrier, self._shared.recent
        bucket, key = params.get("Bucket"), params.get("Key")
        body = prepare_body(operation, params, retrier.policy.body_spool_limit)
        if fresh_until is None and operation in _READS:
            fresh_until = recent.fresh_until(bucket, key, self._verify_policy.read_your_writes)

        def send(**extra: Any) -> Any:
            call = functools.partial(inner_method, **params, **extra)
            return retrier.call(
                operation, bucket, key, call, rewind=body.rewind, fresh_until=fresh_until
            )

        if operation == "DeleteObjects":

            def one_round(round_params: dict[str, Any]) -> Any:
                call = functools.partial(inner_method, **round_params)
                return retrier.call(operation, bucket, None, call)

            response = delete_objects(one_round, params, retrier.policy)
            recent.forget(bucket or "", (d.get("Key", "") for d in response.get("Deleted", [])))
            return response
        response = send()
        if operation in VERIFIED_OPERATIONS:
            recent.wrote(bucket or "", key or "")
            if verify and self._verifier is not None:

                def write(extra: dict[str, Any]) -> Any:
                    body.rewind()
                    return send(**extra)

                response = self._verifier.verify(operation, params, response, write, body.length)
        elif operation == "DeleteObject":
            recent.forget(bucket or "", [key or ""])
        elif operation == "GetObject":
            self._make_resumable(inner_method, params, response)
        return response

    def _make_resumable(
        self, get_object: Callable[..., Any], params: dict[str, Any], response: dict[str, Any]
    ) -> None:
        etag, span, body = response.get("ETag"), body_span(response), response.get("Body")
        if not etag or span is None or body is None:
            return  # nothing to pin a resumed read to: the body stays botocore's
        response["Body"] = ResumableBody(
            body,
            span[1] - span[0] + 1,
            make_reopen(get_object, params, etag, span),
            self._retrier,
            params.get("Bucket"),
            params.get("Key"),
            self._verify_policy.visibility_timeout,
        )

    def _get_paginator(self, operation_name: str) -> Any:
        paginator: Any = self._inner.get_paginator(operation_name)
        paginator._method = getattr(self, xform_name(paginator._model.name))
        return paginator

    def _get_waiter(self, waiter_name: str) -> Any:
        waiter: Any = self._inner.get_waiter(waiter_name)
        method = getattr(self, xform_name(waiter.config.operation))
        waiter._operation_method = NormalizedOperationMethod(method)
        return waiter

    def _close(self) -> None:
        self._inner.close()

    if not TYPE_CHECKING:  # typed through S3Client for callers; implemented above
        get_paginator = _get_paginator
        get_waiter = _get_waiter
        close = _close

    def __enter__(self) -> ResilientS3Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._inner.close()
