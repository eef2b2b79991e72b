"""The core under the front doors: one call through its steps, prepare -> send -> after-steps.

- **prepare**: the request body made replayable (``_bodies/request.py``: rewound, spooled, or
  refused before anything is sent), the key's read-your-writes window looked up;
- **send** (:meth:`Core.send`): one request of the operation on the transport, retried by kind
  (``_retry/retrier.py``); a GetObject's body comes back resumable (``_bodies/resumable.py``).
  The verifier's read-backs and re-uploads come straight here, as httpx's redirects go through
  its ``_send_single_request``;
- **after-steps**: a write noted as recent (read-your-writes) and verified
  (``_verify/verifier.py``), a delete forgotten.

With telemetry, a call and each of the verifier's read-backs is a span (docs/observability.md).
The sync facade (``_client.py``) is a thin door over a :class:`Core`, the asyncio door (``aio/``)
over an :class:`AsyncCore`, the same steps awaited; each sends an operation on the transport its
route names for it (``_transports/routing.py``: the native one for the object operations it
serves, botocore for the rest).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ._bodies.reopen import body_span, make_areopen, make_reopen
from ._bodies.request import PreparedBody, prepare_body
from ._bodies.resumable import AsyncResumableBody, ResumableBody
from ._retry.deletes import adelete_objects, delete_objects
from ._retry.policy import RetryPolicy
from ._retry.retrier import Retrier
from ._shared import SharedParts
from ._transports.base import AsyncTransport, Transport
from ._verify.policy import VerifyPolicy
from ._verify.verifier import VERIFIED_OPERATIONS, AsyncVerifier, Verifier

__all__ = ["AsyncCore", "BlockingRoute", "Core", "CoreBase", "Offload", "Route"]

_READS = frozenset({"GetObject", "HeadObject"})
_BYTES = (bytes, bytearray, memoryview, str)
#: ``route(operation, params)``: the awaited transport that sends this operation.
Route = Callable[[str, Mapping[str, Any]], AsyncTransport]
#: ``route(operation, params)``: the blocking transport that sends this operation.
BlockingRoute = Callable[[str, Mapping[str, Any]], Transport]
#: ``await offload(fn, *args)``: blocking work (a file body read) run off the event loop.
Offload = Callable[..., Awaitable[Any]]


class CoreBase:
    """What both halves of the core share: policies, shared parts, and the bookkeeping around
    a call that does no I/O."""

    def __init__(self, shared: SharedParts, retry: RetryPolicy, verify: VerifyPolicy) -> None:
        self.shared = shared
        self.retrier = Retrier(retry, shared.stats, shared.budget)
        self.verify_policy = verify

    def _fresh_until(self, operation: str, params: Mapping[str, Any]) -> float | None:
        """Until when a 404 on a read is retried (the key was written moments ago)."""
        if operation not in _READS:
            return None
        window = self.verify_policy.read_your_writes
        return self.shared.recent.fresh_until(params.get("Bucket"), params.get("Key"), window)

    def _deleted(self, bucket: str | None, response: Mapping[str, Any]) -> None:
        deleted = [d.get("Key", "") for d in response.get("Deleted", [])]
        self.shared.recent.forget(bucket or "", deleted)
        self.shared.sizes.forget(bucket or "", deleted)

    def _resume_options(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The resumable body's keywords: who it is, how long a 404 is stale, its spans."""
        telemetry = self.shared.telemetry
        return {
            "bucket": params.get("Bucket"),
            "key": params.get("Key"),
            "stale_for": self.verify_policy.visibility_timeout,
            "traced": telemetry.resumer(params) if telemetry is not None else None,
        }


class Core(CoreBase):
    """The calls of one front door: the route to its transports, its policies, the parts it
    shares with the doors ``with_options`` derives (stats, budget, recent writes, telemetry)."""

    def __init__(
        self, route: BlockingRoute, shared: SharedParts, retry: RetryPolicy, verify: VerifyPolicy
    ) -> None:
        super().__init__(shared, retry, verify)
        self.route = route
        self.verifier = (
            Verifier(verify, retry, shared.stats, shared.writes, self._read_back, shared.unverified)
            if verify.enabled
            else None
        )

    def call(self, operation: str, params: dict[str, Any]) -> Any:
        """One call, traced when the client reports to OpenTelemetry."""
        return self._traced(operation, params, False, lambda: self.steps(operation, params))

    def _read_back(self, operation: str, params: dict[str, Any], fresh_until: float | None) -> Any:
        """The verifier's send step (read-backs, listing pages), traced as a call of its own."""
        return self._traced(
            operation, params, True, lambda: self.send(operation, params, fresh_until)
        )

    def _traced(
        self, operation: str, params: dict[str, Any], read_back: bool, run: Callable[[], Any]
    ) -> Any:
        telemetry = self.shared.telemetry
        if telemetry is None:
            return run()
        with telemetry.call(operation, params, read_back) as scope:
            response = run()
            scope.answered(response)
            return response

    def steps(self, operation: str, params: dict[str, Any]) -> Any:
        """prepare -> send -> after-steps (see the module docstring)."""
        bucket, key = params.get("Bucket"), params.get("Key")
        body = prepare_body(operation, params, self.retrier.policy.body_spool_limit)
        if operation == "DeleteObjects":
            response = delete_objects(
                lambda round_params: self.send(operation, round_params),
                params,
                self.retrier.policy,
            )
            self._deleted(bucket, response)
            return response
        fresh_until = self._fresh_until(operation, params)
        response = self.send(operation, params, fresh_until, rewind=body.rewind)
        if operation in VERIFIED_OPERATIONS:
            self.shared.recent.wrote(bucket or "", key or "")
            if self.verifier is not None:

                def write(extra: Mapping[str, Any]) -> Any:
                    body.rewind()
                    return self.send(operation, {**params, **extra}, rewind=body.rewind)

                response = self.verifier.verify(operation, params, response, write, body.length)
        elif operation == "DeleteObject":
            self.shared.recent.forget(bucket or "", [key or ""])
        return response

    def send(
        self,
        operation: str,
        params: dict[str, Any],
        fresh_until: float | None = None,
        *,
        rewind: Callable[[], None] | None = None,
    ) -> Any:
        """The send step: one request of ``operation`` (an API name, ``"PutObject"``), retried
        by kind; a 404 is retried until ``fresh_until``. A GetObject's body comes back
        resumable. The verifier's read-backs and re-uploads come straight here."""
        call = functools.partial(self.route(operation, params).send, operation, params)
        bucket, key = params.get("Bucket"), params.get("Key")
        response = self.retrier.call(
            operation, bucket, key, call, rewind=rewind, fresh_until=fresh_until
        )
        self.shared.sizes.saw(operation, params, response)
        if operation == "GetObject":
            self._make_resumable(params, response)
        return response

    def _make_resumable(self, params: dict[str, Any], response: dict[str, Any]) -> None:
        etag, span, body = response.get("ETag"), body_span(response), response.get("Body")
        if not etag or span is None or body is None:
            return  # nothing to pin a resumed read to: the body stays botocore's
        response["Body"] = ResumableBody(
            body,
            span[1] - span[0] + 1,
            make_reopen(self._get_object, params, etag, span),
            self.retrier,
            **self._resume_options(params),
        )

    def _get_object(self, **params: Any) -> dict[str, Any]:
        return self.route("GetObject", params).send("GetObject", params)


class AsyncCore(CoreBase):
    """:class:`Core`, awaited: the same steps, each operation sent on the awaited transport
    ``route`` names for it. ``offload`` runs the blocking work of preparing a file body off the
    event loop."""

    def __init__(
        self,
        route: Route,
        shared: SharedParts,
        retry: RetryPolicy,
        verify: VerifyPolicy,
        offload: Offload,
    ) -> None:
        super().__init__(shared, retry, verify)
        self.route = route
        self.offload = offload
        self.verifier = (
            AsyncVerifier(
                verify,
                retry,
                shared.stats,
                shared.writes,
                self._read_back,
                shared.unverified,
                offload,
            )
            if verify.enabled
            else None
        )

    async def call(self, operation: str, params: dict[str, Any]) -> Any:
        """One call, traced when the client reports to OpenTelemetry."""
        return await self._traced(operation, params, False, lambda: self.steps(operation, params))

    async def _read_back(
        self, operation: str, params: dict[str, Any], fresh_until: float | None
    ) -> Any:
        """The verifier's send step (read-backs), traced as a call of its own."""
        return await self._traced(
            operation, params, True, lambda: self.send(operation, params, fresh_until)
        )

    async def _traced(
        self,
        operation: str,
        params: dict[str, Any],
        read_back: bool,
        run: Callable[[], Awaitable[Any]],
    ) -> Any:
        telemetry = self.shared.telemetry
        if telemetry is None:
            return await run()
        with telemetry.call(operation, params, read_back) as scope:
            response = await run()
            scope.answered(response)
            return response

    async def steps(self, operation: str, params: dict[str, Any]) -> Any:
        """prepare -> send -> after-steps, awaited."""
        bucket, key = params.get("Bucket"), params.get("Key")
        body = await self._prepare(operation, params)
        if operation == "DeleteObjects":
            response = await adelete_objects(
                lambda round_params: self.send(operation, round_params),
                params,
                self.retrier.policy,
            )
            self._deleted(bucket, response)
            return response
        fresh_until = self._fresh_until(operation, params)
        response = await self.send(operation, params, fresh_until, rewind=body.rewind)
        if operation in VERIFIED_OPERATIONS:
            self.shared.recent.wrote(bucket or "", key or "")
            if self.verifier is not None:

                async def write(extra: Mapping[str, Any]) -> Any:
                    body.rewind()
                    return await self.send(operation, {**params, **extra}, rewind=body.rewind)

                response = await self.verifier.verify(
                    operation, params, response, write, body.length
                )
        elif operation == "DeleteObject":
            self.shared.recent.forget(bucket or "", [key or ""])
        return response

    async def _prepare(self, operation: str, params: dict[str, Any]) -> PreparedBody:
        """:func:`prepare_body`; a file or stream body is looked at (and a small stream
        spooled) in a worker thread, never on the loop."""
        limit = self.retrier.policy.body_spool_limit
        if isinstance(params.get("Body"), (type(None), *_BYTES)):
            return prepare_body(operation, params, limit)
        prepared: PreparedBody = await self.offload(prepare_body, operation, params, limit)
        return prepared

    async def send(
        self,
        operation: str,
        params: dict[str, Any],
        fresh_until: float | None = None,
        *,
        rewind: Callable[[], None] | None = None,
    ) -> Any:
        """:meth:`Core.send`, awaited, on the transport routed to ``operation``."""
        transport = self.route(operation, params)
        bucket, key = params.get("Bucket"), params.get("Key")
        response = await self.retrier.acall(
            operation,
            bucket,
            key,
            lambda: transport.send(operation, params),
            fresh_until,
            rewind=rewind,
        )
        self.shared.sizes.saw(operation, params, response)
        if operation == "GetObject":
            self._make_resumable(params, response)
        return response

    def _make_resumable(self, params: dict[str, Any], response: dict[str, Any]) -> None:
        body = response.get("Body")
        if body is None:
            return
        etag, span = response.get("ETag"), body_span(response)
        reopen = None  # nothing to pin a resumed read to: read as is, a failure raised
        if etag and span is not None:
            reopen = make_areopen(self._get_object, params, etag, span)
        response["Body"] = AsyncResumableBody(
            body,
            span[1] - span[0] + 1 if span is not None else None,
            reopen,
            self.retrier,
            **self._resume_options(params),
        )

    async def _get_object(self, **params: Any) -> dict[str, Any]:
        return await self.route("GetObject", params).send("GetObject", params)
