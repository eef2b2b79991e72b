"""The verify-after-put policy: a frozen value, shared safely between threads and clients."""

from __future__ import annotations

from dataclasses import dataclass

from .._checks import check_count, check_policy, check_seconds

__all__ = ["UNREADABLE", "VERIFY_MODES", "VerifyPolicy"]

VERIFY_MODES = ("head", "read", "off")
#: What a write is when the server refuses every read-back (``VerifyPolicy.unreadable``).
UNREADABLE = ("accept", "raise")


@dataclass(frozen=True)
class VerifyPolicy:
    """How a client checks that a write it was told succeeded really did (docs/consistency.md).

    Attributes:
        mode: ``"head"`` (default): HeadObject until the object is visible, then compare its
            ETag, length and (when the write carried one) checksum with what the write
            returned; while many writes to a bucket are verified at once, a shared
            ListObjectsV2 page may confirm their key, size and ETag instead (``coalesce``).
            ``"read"``: GetObject and compare the bytes' digest with what was sent
            (catches servers that store other bytes). ``"off"``: no read-back.
        visibility_timeout: seconds a read-back keeps retrying 404 before the write is taken
            as lost. S3 is strongly consistent, so a 404 after a 200 PUT means a lost write;
            the timeout only absorbs stale reads of non-AWS servers and proxies.
        max_reuploads: re-uploads of a lost write before VerificationError. ``0``: never
            re-upload, report the loss.
        conditional_reupload: re-upload with ``IfNoneMatch="*"`` so a newer write by someone
            else is never clobbered; a server without conditional writes falls back to a plain
            PUT (logged once).
        read_your_writes: seconds after a write during which a GetObject/HeadObject 404 on that
            key is retried (stale read); ``0`` turns read-your-writes off.
        recent_keys: how many recently written keys a client remembers for read-your-writes
            (least recently written forgotten first; about 200 bytes each).
        coalesce: in ``"head"`` mode, once this many read-backs of one bucket are in flight at
            once, they share ListObjectsV2 pages (one page confirms every write finished while
            the previous page was read; a key a page does not show is read back with
            HeadObject as usual). ``0`` turns it off: a HeadObject per write, and checksums
            compared for every write. The default, 8, was chosen by measurement
            (docs/consistency.md).
        lost_write_window: seconds. A read-back that finds the key absent cannot tell a lost
            write from a write deleted (or replaced and deleted) by another client in between;
            the write is taken as lost, and uploaded again, only if the server answered that
            first 404 within this many seconds of acknowledging the write. Later, the key is
            reported absent (``VerificationError`` reason ``"absent"``) and not uploaded again,
            so verification never undoes a delete older than this window. ``0``: never upload
            an absent key again (docs/consistency.md).
        unreadable: what a write is when the server refuses to let it be read back: HeadObject
            or GetObject answered 403, 400, 405 or 501 (no ``s3:GetObject``, an SSE-C object
            read without its key...), and a ListObjectsV2 page of its key too (no
            ``s3:ListBucket``); a refusal says nothing about the write (``_verify/refusal.py``).
            ``"accept"`` (default): the write is returned as boto3 returned it, unverified:
            counted in ``stats.unverified``, one WARNING per client naming the refusal, the
            call's span marked ``resilient_s3.unverified``. ``"raise"``:
            :class:`~resilient_s3.VerificationError` (reason ``"unreadable"``, also counted),
            for callers who would rather hear of a write they could not check; it was
            acknowledged, and may well be stored.
    """

    mode: str = "head"
    visibility_timeout: float = 3.0
    max_reuploads: int = 3
    conditional_reupload: bool = True
    read_your_writes: float = 10.0
    recent_keys: int = 50_000
    coalesce: int = 8
    lost_write_window: float = 10.0
    unreadable: str = "accept"

    def __post_init__(self) -> None:
        if self.mode not in VERIFY_MODES:
            raise ValueError(f"mode must be one of {VERIFY_MODES}, got {self.mode!r}")
        if self.unreadable not in UNREADABLE:
            raise ValueError(f"unreadable must be one of {UNREADABLE}, got {self.unreadable!r}")
        for name in ("visibility_timeout", "read_your_writes", "lost_write_window"):
            check_seconds(name, getattr(self, name))
        for name in ("max_reuploads", "recent_keys", "coalesce"):
            check_count(name, getattr(self, name))

    @property
    def enabled(self) -> bool:
        """Whether writes are read back."""
        return self.mode != "off"

    @classmethod
    def coerce(cls, value: VerifyPolicy | bool | None) -> VerifyPolicy:
        """``None``/``True`` -> the default policy, ``False`` -> mode "off"."""
        if isinstance(value, VerifyPolicy):
            return value
        if value is None or value is True:
            return cls()
        if value is False:
            return cls(mode="off")
        if isinstance(value, dict):
            check_policy("verify_writes", value, VerifyPolicy)
        raise TypeError(f"verify_writes must be a VerifyPolicy, True, False or None, got {value!r}")
