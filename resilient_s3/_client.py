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
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore import xform_name
from botocore.client import BaseClient
from botocore.config import Config
from botocore.waiter import NormalizedOperationMethod

from ._body import prepare_body
from ._budget import RetryBudget
from ._config import disable_botocore_retries, resilient_config
from ._deletes import delete_objects
from ._endpoint import install_endpoint_memo
from ._policy import RetryPolicy, VerifyPolicy
from ._recent import RecentWrites
from ._resume import body_span, make_reopen
from ._retrier import Retrier
from ._stats import Stats, StatsSnapshot
from ._stream import ResumableBody
from ._transfer import TRANSFER_METHODS, transfer_method
from ._verify import VERIFIED_OPERATIONS, Verifier

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from .batch import BatchClient

    # Editors and type checkers see every S3 method with boto3's exact signature.
    _Base = S3Client
else:
    _Base = object

__all__ = ["ResilientS3Client", "client", "wrap"]

logger = logging.getLogger("resilient_s3")
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
            install_endpoint_memo(inner)  # a no-op on botocore >= 1.43.106, which does it itself
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


def client(
    service_name: str = "s3",
    region_name: str | None = None,
    api_version: str | None = None,
    use_ssl: bool | None = None,
    verify: VerifyPolicy | bool | str | None = None,
    endpoint_url: str | None = None,
    aws_access_key_id: str | None = None,
    aws_secret_access_key: str | None = None,
    aws_session_token: str | None = None,
    config: Config | None = None,
    aws_account_id: str | None = None,
    *,
    session: boto3.Session | None = None,
    retry: RetryPolicy | None = None,
    max_pool_connections: int | None = None,
    tls_verify: bool | str | None = None,
) -> ResilientS3Client:
    """Create a resilient S3 client; takes every keyword ``boto3.client`` takes.

    Keyword-only extras: ``session`` (a ``boto3.Session``; default: boto3's default session),
    ``retry`` (a :class:`~resilient_s3.RetryPolicy`; default ``RetryPolicy()``),
    ``max_pool_connections`` (default 64, or what ``config`` sets) and ``tls_verify``.
    botocore's own retries are switched off; see docs/configuration.md.

    ``verify`` is verify-after-put: a :class:`~resilient_s3.VerifyPolicy`, ``True``/``None``
    (the default policy: on) or ``False`` (off). TLS certificate verification, which boto3
    calls ``verify``, is ``tls_verify`` here (on by default); a ``str`` passed as ``verify``
    is a CA bundle path, as in boto3, and goes to TLS.
    """
    if isinstance(verify, str):
        if tls_verify is not None:
            raise ValueError("pass the CA bundle as tls_verify= or verify=, not both")
        tls_verify, verify = verify, None
    elif verify is False:
        logger.warning(
            "verify=False turns off verify-after-put; TLS certificate verification stays on "
            "(pass tls_verify=False to turn that off, as boto3's verify=False does)"
        )
    if service_name != "s3":
        raise ValueError(f"resilient_s3.client() makes S3 clients only, got {service_name!r}")
    if session is None:
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        session = boto3.DEFAULT_SESSION
    assert session is not None
    recipe: dict[str, Any] = dict(
        region_name=region_name,
        api_version=api_version,
        use_ssl=use_ssl,
        verify=tls_verify,
        endpoint_url=endpoint_url,
        aws_access_key_id=aws_access_key_id,
        aws_secret_access_key=aws_secret_access_key,
        aws_session_token=aws_session_token,
        config=resilient_config(config, max_pool_connections),
        aws_account_id=aws_account_id,
    )
    inner = session.client("s3", **recipe)

    def rebuild(overrides: Config) -> BaseClient:
        """A new boto3 client built as ``inner`` was, its ``Config`` merged with ``overrides``.

        Kept on ``inner`` for resilient_s3/batch/_pool.py (a bigger connection pool). A closure,
        so that no repr, str or log line can show its arguments (the credentials).
        """
        rebuilt: BaseClient = session.client(
            "s3", **{**recipe, "config": recipe["config"].merge(overrides)}
        )
        return rebuilt

    inner.__dict__["_resilient_s3_rebuild"] = rebuild  # our attribute, not botocore's
    return ResilientS3Client(inner, retry, verify)


def wrap(
    inner: BaseClient,
    *,
    retry: RetryPolicy | None = None,
    verify: VerifyPolicy | bool | None = None,
) -> ResilientS3Client:
    """Wrap an existing boto3 S3 client. Its own botocore retries are switched off (they would
    stack with ours), so keep using it through the returned facade."""
    facade = ResilientS3Client(inner, retry, verify)  # checks that it is an S3 client
    disable_botocore_retries(inner)
    return facade
