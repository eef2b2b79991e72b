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
The sync facade (``_client.py``) is a thin door over a :class:`Core` on the botocore transport.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from ._bodies.reopen import body_span, make_reopen
from ._bodies.request import prepare_body
from ._bodies.resumable import ResumableBody
from ._retry.deletes import delete_objects
from ._retry.policy import RetryPolicy
from ._retry.retrier import Retrier
from ._shared import SharedParts
from ._transports.base import Transport
from ._verify.policy import VerifyPolicy
from ._verify.verifier import VERIFIED_OPERATIONS, Verifier

__all__ = ["Core"]

_READS = frozenset({"GetObject", "HeadObject"})


class Core:
    """The calls of one front door: its transport, its policies, the parts it shares with the
    doors ``with_options`` derives (stats, budget, recent writes, telemetry)."""

    def __init__(
        self, transport: Transport, shared: SharedParts, retry: RetryPolicy, verify: VerifyPolicy
    ) -> None:
        self.transport = transport
        self.shared = shared
        self.retrier = Retrier(retry, shared.stats, shared.budget)
        self.verify_policy = verify
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
        recent = self.shared.recent
        bucket, key = params.get("Bucket"), params.get("Key")
        body = prepare_body(operation, params, self.retrier.policy.body_spool_limit)
        fresh_until = None
        if operation in _READS:
            fresh_until = recent.fresh_until(bucket, key, self.verify_policy.read_your_writes)
        if operation == "DeleteObjects":
            response = delete_objects(
                lambda round_params: self.send(operation, round_params),
                params,
                self.retrier.policy,
            )
            recent.forget(bucket or "", (d.get("Key", "") for d in response.get("Deleted", [])))
            return response
        response = self.send(operation, params, fresh_until, rewind=body.rewind)
        if operation in VERIFIED_OPERATIONS:
            recent.wrote(bucket or "", key or "")
            if self.verifier is not None:

                def write(extra: Mapping[str, Any]) -> Any:
                    body.rewind()
                    return self.send(operation, {**params, **extra}, rewind=body.rewind)

                response = self.verifier.verify(operation, params, response, write, body.length)
        elif operation == "DeleteObject":
            recent.forget(bucket or "", [key or ""])
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
        call = functools.partial(self.transport.send, operation, params)
        bucket, key = params.get("Bucket"), params.get("Key")
        response = self.retrier.call(
            operation, bucket, key, call, rewind=rewind, fresh_until=fresh_until
        )
        if operation == "GetObject":
            self._make_resumable(params, response)
        return response

    def _make_resumable(self, params: dict[str, Any], response: dict[str, Any]) -> None:
        etag, span, body = response.get("ETag"), body_span(response), response.get("Body")
        if not etag or span is None or body is None:
            return  # nothing to pin a resumed read to: the body stays botocore's
        telemetry = self.shared.telemetry
        response["Body"] = ResumableBody(
            body,
            span[1] - span[0] + 1,
            make_reopen(self._get_object, params, etag, span),
            self.retrier,
            params.get("Bucket"),
            params.get("Key"),
            self.verify_policy.visibility_timeout,
            telemetry.resumer(params) if telemetry is not None else None,
        )

    def _get_object(self, **params: Any) -> dict[str, Any]:
        return self.transport.send("GetObject", params)
