"""resilient_s3's own exceptions, and the annotation it adds to botocore's.

When retries end, the caller gets the exception botocore raised (same type, same object),
with two attributes and a PEP 678 note added by :func:`annotate`:

- ``resilient_s3_attempts``: how many attempts the call made;
- ``resilient_s3_kinds``: the :class:`~resilient_s3.ErrorKind` of each failed attempt.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._retry.classify import ErrorKind

__all__ = [
    "ObjectChangedError",
    "ResilientS3Error",
    "UnreplayableBodyError",
    "VerificationError",
    "annotate",
    "describe",
]


class ResilientS3Error(Exception):
    """Base class of the errors resilient_s3 raises itself (it re-raises botocore's as they are)."""


class UnreplayableBodyError(ResilientS3Error, ValueError):
    """A request body cannot be resent on retry; raised before anything is sent."""


class ObjectChangedError(ResilientS3Error):
    """An object changed while its body was being read, so the read cannot be resumed.

    Attributes: ``bucket``, ``key``, ``expected_etag``, ``found_etag`` (``None`` if unknown).
    """

    def __init__(
        self, bucket: str | None, key: str | None, expected_etag: str, found_etag: str | None
    ) -> None:
        super().__init__(
            f"{describe(bucket, key)} changed while its body was being read: expected ETag "
            f"{expected_etag}, found {found_etag or 'a different object'}; the bytes already "
            "delivered belong to the old object"
        )
        self.bucket = bucket
        self.key = key
        self.expected_etag = expected_etag
        self.found_etag = found_etag


class VerificationError(ResilientS3Error):
    """A write was acknowledged but reading it back did not find it as written.

    Attributes:
        bucket, key: the object.
        reason: ``"lost"`` (still missing after the re-uploads), ``"absent"`` (missing when
            read back later than ``VerifyPolicy.lost_write_window`` after the write: lost, or
            deleted by another client since; not uploaded again), ``"conflict"`` (another
            writer's object is there), ``"mismatch"`` (other size, ETag, checksum or bytes: a
            conflict or corruption).
        expected, found: what the write returned (or sent) and what the read-back found, as
            dicts of the compared fields (``found`` is ``None`` when nothing was found).
    """

    def __init__(
        self,
        bucket: str | None,
        key: str | None,
        reason: str,
        expected: dict[str, object],
        found: dict[str, object] | None,
        detail: str,
    ) -> None:
        super().__init__(
            f"{describe(bucket, key)}: write not verified ({reason}): {detail}; "
            f"expected {expected}, found {found if found is not None else 'nothing'}"
        )
        self.bucket = bucket
        self.key = key
        self.reason = reason
        self.expected = expected
        self.found = found
        self.detail = detail

    def __reduce__(self) -> tuple[object, ...]:
        """Pickled with its arguments (a Dask worker's error crosses processes)."""
        fields = (self.bucket, self.key, self.reason, self.expected, self.found, self.detail)
        return (type(self), fields, self.__dict__)


def describe(bucket: str | None, key: str | None) -> str:
    """``s3://bucket/key`` (or as much of it as is known); never a URL with a signature."""
    if bucket is None:
        return "(no bucket)"
    return f"s3://{bucket}/{key}" if key is not None else f"s3://{bucket}"


def annotate(
    exc: BaseException,
    operation: str,
    target: str,
    kinds: Sequence[ErrorKind],
    reason: str,
    attempts: int | None = None,
) -> None:
    """Record the attempts on ``exc`` (attributes and a note) without changing its type.

    ``attempts``: the attempts that sent a request (default: one per kind); one that failed
    while its request was being prepared is not counted."""
    sent = len(kinds) if attempts is None else attempts
    try:
        exc.resilient_s3_attempts = sent  # type: ignore[attr-defined]
        exc.resilient_s3_kinds = tuple(kinds)  # type: ignore[attr-defined]
    except AttributeError:  # an exception type with __slots__: the note still tells
        pass
    attempts_text = "1 attempt" if sent == 1 else f"{sent} attempts"
    note = (
        f"resilient_s3: {operation} {target} failed after {attempts_text} "
        f"({', '.join(k.value for k in kinds)}); {reason}"
    )
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    else:  # Python 3.10: the same attribute PEP 678 defines
        notes = getattr(exc, "__notes__", None)
        if notes is None:
            notes = []
            exc.__notes__ = notes  # type: ignore[attr-defined]
        notes.append(note)
