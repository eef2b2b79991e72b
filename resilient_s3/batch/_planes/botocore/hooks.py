"""Per-request hooks: every HTTP request of a batch's worker threads is paced and counted.

Two botocore event handlers are registered once on a client (``before-send.s3`` and
``response-received.s3``, each with a fixed ``unique_id``, so registering again is a no-op).
They act only in the worker threads of a running batch, which carry a :class:`WorkerContext`
in a thread-local; in any other thread they return at once, so the client's other users are
unaffected (one thread-local lookup per request).

This is where ``rate_limit`` counts *every* request (first attempts, the facade's retries, the
verifier's read-backs, list pages, multipart steps), where a cancelled batch refuses to send
another request, and where THROTTLED answers reach the adaptive rate, as botocore's own adaptive
mode hooks the same two events.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from botocore.client import BaseClient

from ...._fields import error_code
from ...._retry.classify import ErrorKind, ErrorTables, classify_code
from ...._retry.policy import RetryEvent
from ..._pacing.limiter import Pacer

__all__ = ["WorkerContext", "current_context", "install_hooks", "set_context"]

_local = threading.local()
#: Sent even by a cancelled batch, never held back: it cleans up after one.
_ALWAYS_SENT = frozenset({"AbortMultipartUpload"})


class WorkerContext:
    """What the worker threads of one batch share: the pacer, counters, open uploads."""

    def __init__(self, pacer: Pacer, tables: ErrorTables) -> None:
        self.pacer = pacer
        self.tables = tables
        self._lock = threading.Lock()
        self.requests = 0
        self.throttled = 0
        self.list_requests = 0
        self.retries: Counter[str] = Counter()
        self._uploads: dict[str, tuple[str, str]] = {}

    def before_request(self, operation: str, nbytes: int) -> None:
        """Count a request about to be sent and wait for its tokens (worker thread)."""
        if operation not in _ALWAYS_SENT:
            self.pacer.wait(1, nbytes)  # raises BatchCancelled once the batch is cancelled
            if self.pacer.adaptive is not None:
                self.pacer.adaptive.sent()
        self.count(operation)

    async def before_request_async(self, operation: str, nbytes: int) -> None:
        """:meth:`before_request` for a task on the batch's loop (the CRT plane)."""
        if operation not in _ALWAYS_SENT:
            await self.pacer.acquire(1, nbytes)  # raises BatchCancelled once cancelled
            if self.pacer.adaptive is not None:
                self.pacer.adaptive.sent()
        self.count(operation)

    def count(self, operation: str) -> None:
        """Count one request of ``operation`` sent."""
        with self._lock:
            self.requests += 1
            if operation == "ListObjectsV2":
                self.list_requests += 1

    def answered(self, status: int, code: str) -> None:
        """Count an answer; tell the adaptive rate whether it was throttled (worker thread)."""
        throttled = status >= 400 and classify_code(code, status, self.tables) is (
            ErrorKind.THROTTLED
        )
        if throttled:
            with self._lock:
                self.throttled += 1
        if self.pacer.adaptive is not None:
            self.pacer.adaptive.answered(throttled)
        if self.pacer.shared is not None:
            self.pacer.shared.observe(throttled)

    def on_retry(self, event: RetryEvent) -> None:
        """The facade's ``on_retry`` hook: count the retry by kind."""
        with self._lock:
            self.retries[event.kind.value] += 1

    def pace_bytes(self, nbytes: int) -> None:
        """Wait for ``nbytes`` of ``bytes_per_second`` (a download, before reading its body)."""
        self.pacer.wait(0, nbytes)

    def upload_started(self, bucket: str, key: str, upload_id: str) -> None:
        """Record a multipart upload this batch must abort if it is cancelled."""
        with self._lock:
            self._uploads[upload_id] = (bucket, key)

    def upload_ended(self, upload_id: str) -> None:
        """The upload was completed or aborted."""
        with self._lock:
            self._uploads.pop(upload_id, None)

    def open_uploads(self) -> list[tuple[str, str, str]]:
        """``(bucket, key, upload_id)`` of the uploads neither completed nor aborted."""
        with self._lock:
            return [(b, k, upload_id) for upload_id, (b, k) in self._uploads.items()]


def set_context(context: WorkerContext | None) -> None:
    """Make ``context`` the calling thread's (a worker pool's initializer)."""
    _local.context = context


def current_context() -> WorkerContext | None:
    """The calling thread's batch context, or ``None`` outside a batch's workers."""
    context: WorkerContext | None = getattr(_local, "context", None)
    return context


def install_hooks(client: BaseClient) -> None:
    """Register the two handlers on ``client`` (idempotent)."""
    events = client.meta.events
    events.register("before-send.s3", _before_send, unique_id="resilient-s3-batch-send")
    events.register(
        "response-received.s3", _response_received, unique_id="resilient-s3-batch-answer"
    )


def _before_send(request: Any, event_name: str = "", **_: Any) -> None:
    context = current_context()
    if context is not None:
        length = request.headers.get("Content-Length") if request is not None else None
        nbytes = int(length) if length and str(length).isdigit() else 0
        context.before_request(event_name.rpartition(".")[2], nbytes)


def _response_received(
    response_dict: dict[str, Any] | None = None,
    parsed_response: dict[str, Any] | None = None,
    **_: Any,
) -> None:
    context = current_context()
    if context is None or response_dict is None:
        return  # not a batch worker, or no answer at all (a network error)
    code = error_code(parsed_response)
    context.answered(int(response_dict.get("status_code", 0)), code)
