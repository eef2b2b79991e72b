"""What a batch hands back: a :class:`BatchReport` with counts, per-item failures and stats.

Successes are counted, not kept (unless ``keep_results=True``), so a report's size depends on
the number of failures, not on the number of items. Failures are always kept, each with the
item's key, its :class:`~resilient_s3.ErrorKind`, the final error (botocore's, unchanged, or
resilient_s3's own) and the attempts the last call made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import FlexibleChecksumError

from ..._errors import ObjectChangedError, ResilientS3Error, VerificationError, describe
from ..._fields import error_label
from ..._retry.classify import ErrorKind, classify

__all__ = [
    "KEPT_TRACEBACKS",
    "BatchError",
    "BatchReport",
    "BatchStats",
    "ItemFailure",
    "ItemResult",
    "Summarized",
    "attach_report",
]

#: Failures after this many lose their traceback: a traceback keeps its frames, and the frames
#: keep their locals (request bodies among them), so 100,000 failures would keep 100,000 bodies.
KEPT_TRACEBACKS = 1000


#: Errors about what a request found, raised outside a retried call (reading its body, checking
#: it): the request was made.
_FOUND_BY_A_REQUEST = (VerificationError, ObjectChangedError, FlexibleChecksumError)


@dataclass(frozen=True)
class ItemFailure:
    """One item that did not complete.

    Attributes:
        key: the object key (for ``copy``, the destination key).
        kind: the :class:`~resilient_s3.ErrorKind` of the final error (``PERMANENT`` for
            resilient_s3's own errors, e.g. :class:`~resilient_s3.VerificationError`, and for a
            bad item such as a missing local file).
        error: the final error, as raised (botocore's type kept).
        attempts: HTTP attempts the last call made (``resilient_s3_attempts``); ``0`` when the
            item failed before any request.
        bucket: the bucket (for ``copy``, the destination bucket).
        operation: the batch operation (``"put"``, ``"get"``...).
    """

    key: str
    kind: ErrorKind
    error: BaseException
    attempts: int
    bucket: str | None = None
    operation: str = ""

    @classmethod
    def of(cls, operation: str, bucket: str | None, key: str, error: BaseException) -> ItemFailure:
        """The failure of ``key`` with ``error``, classified, attempts read from the error."""
        attempts = getattr(error, "resilient_s3_attempts", None)
        if attempts is None:  # not from a retried call: a local error, unless it is an error
            # about what a request found (VerificationError..., a body's checksum mismatch)
            attempts = 1 if isinstance(error, _FOUND_BY_A_REQUEST) else 0
        return cls(key, classify(error), error, int(attempts), bucket, operation)

    def __str__(self) -> str:
        return f"{describe(self.bucket, self.key)}: {self.kind.value}: {_error_name(self.error)}"


@dataclass(frozen=True)
class ItemResult:
    """One item that completed (kept only with ``keep_results=True``).

    Attributes:
        key, bucket: the object (for ``copy``, the destination).
        size: bytes written or read (``None`` when unknown, e.g. for a copy).
        etag: the object's ETag as the server gave it (``None`` for delete).
        response: the operation's answer without ``ResponseMetadata`` and ``Body`` (for ``head``:
            the metadata). Empty for delete.
    """

    key: str
    bucket: str
    size: int | None = None
    etag: str | None = None
    response: Mapping[str, Any] = field(default_factory=dict, repr=False)
    data: bytes | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(
        cls,
        bucket: str,
        key: str,
        size: int | None,
        response: Mapping[str, Any],
        *,
        etag: str | None = None,
        data: bytes | None = None,
    ) -> ItemResult:
        """The result of an item from the operation's answer (either data plane)."""
        kept = {k: v for k, v in response.items() if k not in ("ResponseMetadata", "Body")}
        return cls(key, bucket, size, etag or response.get("ETag"), kept, data)


@dataclass(frozen=True)
class BatchStats:
    """What a batch did.

    Attributes:
        items: items settled (succeeded + failed).
        succeeded, failed: items that completed / did not.
        bytes: bytes of the items that completed (sent for put, received for get).
        seconds: wall time of the batch.
        requests: HTTP requests the batch's workers sent: retries, verification reads, list
            pages, multipart steps included.
        retries: retries by :class:`~resilient_s3.ErrorKind` value.
        throttled: THROTTLED answers received (SlowDown, 503, 429).
        verified: items confirmed by verification (list-based or per object).
        reuploads: items written again by list-based verification (missing or mismatched).
        unverified: items written but not verified because the server refused every read-back
            (listing and HeadObject: ``VerifyPolicy.unreadable``); they succeeded unverified,
            or failed with ``VerificationError`` reason ``"unreadable"``.
        list_requests: ListObjectsV2 pages read by list-based verification.
        adaptive_rate: the adaptive rate (requests/s) when the batch ended; ``None``: it was not
            limiting.
        plane: the data plane that sent the items' requests: ``"crt"`` or ``"botocore"``.
    """

    items: int = 0
    succeeded: int = 0
    failed: int = 0
    bytes: int = 0
    seconds: float = 0.0
    requests: int = 0
    retries: Mapping[str, int] = field(default_factory=dict)
    throttled: int = 0
    verified: int = 0
    reuploads: int = 0
    unverified: int = 0
    list_requests: int = 0
    adaptive_rate: float | None = None
    plane: str = "botocore"

    @property
    def items_per_second(self) -> float:
        """Settled items per second of wall time."""
        return self.items / self.seconds if self.seconds > 0 else 0.0

    @property
    def bytes_per_second(self) -> float:
        """Bytes of completed items per second of wall time."""
        return self.bytes / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """A plain, JSON-ready ``dict``."""
        return {
            "items": self.items,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 6),
            "requests": self.requests,
            "retries": dict(self.retries),
            "throttled": self.throttled,
            "verified": self.verified,
            "reuploads": self.reuploads,
            "unverified": self.unverified,
            "list_requests": self.list_requests,
            "adaptive_rate": self.adaptive_rate,
        }


@dataclass(frozen=True)
class BatchReport:
    """The outcome of one batch.

    Attributes:
        operation: ``"put"``, ``"get"``, ``"delete"``, ``"copy"`` or ``"head"``.
        succeeded: how many items completed.
        failed: the items that did not, in the order they failed.
        stats: :class:`BatchStats`.
        results: per-item results, only with ``keep_results=True`` (else empty).
        data: for ``get(..., dest=None)``: key -> the object's bytes.
        stopped: ``None`` when every item was attempted; when the batch stopped early,
            ``"cancelled"`` (Ctrl-C or task cancellation), ``"fail_fast"``, or ``"error"`` (an
            exception from the input iterator or a progress callback, which propagates).
        incomplete: keys started but not settled when the batch stopped early (in flight, or
            written but not yet verified); items never started are not listed.
    """

    operation: str
    succeeded: int
    failed: tuple[ItemFailure, ...]
    stats: BatchStats
    results: tuple[ItemResult, ...] = ()
    data: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    stopped: str | None = None
    incomplete: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every item completed and the batch was not stopped early."""
        return not self.failed and self.stopped is None

    def raise_for_failures(self) -> None:
        """Raise :class:`BatchError` unless :attr:`ok`."""
        if not self.ok:
            first = self.failed[0].error if self.failed else None
            raise BatchError(self) from first

    def failures_by_kind(self) -> dict[str, int]:
        """How many items failed, by :class:`~resilient_s3.ErrorKind` value."""
        return dict(Counter(failure.kind.value for failure in self.failed))

    def summary(self) -> str:
        """One line: what completed, what failed (by kind), whether it stopped early."""
        text = f"{self.operation}: {self.succeeded} succeeded, {len(self.failed)} failed"
        if self.failed:
            kinds = ", ".join(f"{k}: {n}" for k, n in sorted(self.failures_by_kind().items()))
            text += f" ({kinds}); first: {self.failed[0]}"
        if self.stopped:
            text += f"; stopped early ({self.stopped}), {len(self.incomplete)} incomplete"
        return text


class BatchError(ResilientS3Error):
    """A batch did not complete every item: :meth:`BatchReport.raise_for_failures`.

    Attributes: ``report`` (the :class:`BatchReport`), ``failures`` (its ``failed``). Raised
    ``from`` the first failure's error.
    """

    def __init__(self, report: BatchReport) -> None:
        super().__init__(report.summary())
        self.report = report
        self.failures = report.failed


class Summarized(Protocol):
    """A report: a :class:`BatchReport`, or a sync's report."""

    def summary(self) -> str:
        """One line."""
        ...


def attach_report(error: BaseException, report: Summarized) -> None:
    """Give ``error`` (a cancellation, Ctrl-C, or a bug) the report, and a note saying so (a
    report attached before is replaced: a sync attaches its own over its batch's)."""
    try:
        error.resilient_s3_report = report  # type: ignore[attr-defined]
    except AttributeError:
        return
    note = f"resilient_s3 batch stopped: {report.summary()} (see .resilient_s3_report)"
    if hasattr(error, "add_note"):
        error.add_note(note)


def _error_name(error: BaseException) -> str:
    """Class and S3 error code; never the message (it can hold a URL)."""
    if isinstance(error, (ResilientS3Error, OSError, ValueError, TypeError)):
        return f"{type(error).__name__}: {str(error)[:300]}"  # local errors: no URL inside
    return error_label(error)
