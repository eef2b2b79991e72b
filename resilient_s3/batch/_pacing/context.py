"""What every request of one batch goes through, on either data plane: its tokens from the
batch's pacer, its count (requests, list pages, throttled answers, retries by kind), its answer
told to the adaptive rate, and the multipart uploads left open (aborted if the batch stops).

The threaded plane calls it from its worker threads (``worker_hooks.py``), the native
plane from the batch's loop.
"""

from __future__ import annotations

import threading
from collections import Counter

from ..._retry.classify import ErrorKind, ErrorTables, classify_code
from ..._retry.policy import RetryEvent
from .pacer import Pacer

__all__ = ["RequestContext"]

#: Sent even by a cancelled batch, never held back: it cleans up after one.
_ALWAYS_SENT = frozenset({"AbortMultipartUpload"})


class RequestContext:
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
        """Count a request about to be sent and wait for its tokens (a worker thread)."""
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
        """Count an answer; tell the adaptive rate whether it was throttled (any thread)."""
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
