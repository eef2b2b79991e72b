"""How a GetObject body is reopened at an offset: a Range request pinned to the original ETag.

The resumed request repeats the caller's parameters (SSE-C keys, VersionId, response
overrides, ChecksumMode) with ``Range`` set to the bytes not yet delivered and ``IfMatch`` set
to the first response's ETag, so a changed object answers 412 instead of splicing two objects
together. ``PartNumber`` is replaced by the equivalent byte range, and the conditions already
met by the first response (``IfNoneMatch``, ``IfModifiedSince``) are dropped. A body without
an ETag or a length cannot be pinned and is returned unchanged (not resumable). The blocking
reopen (:func:`make_reopen`) and the awaited one (:func:`make_areopen`) share the pin.
"""

from __future__ import annotations

import io
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from .._errors import ObjectChangedError, ResilientS3Error, describe
from .._fields import http_status
from .._transports.base import AsyncBody

__all__ = ["body_span", "make_areopen", "make_reopen"]

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_DROPPED = frozenset({"Range", "PartNumber", "IfMatch", "IfNoneMatch", "IfModifiedSince"})


def body_span(response: Mapping[str, Any]) -> tuple[int, int] | None:
    """``(first, last)`` byte offsets of the object the body holds, or ``None`` if unknown."""
    content_range = response.get("ContentRange")
    if content_range:
        match = _CONTENT_RANGE.fullmatch(content_range.strip())
        return (int(match.group(1)), int(match.group(2))) if match else None
    length = response.get("ContentLength")
    return (0, length - 1) if isinstance(length, int) else None


class _Pin:
    """What a reopened body must be: the request that continues it, and the checks of its
    answer (shared by the blocking and the awaited reopen)."""

    def __init__(self, params: Mapping[str, Any], etag: str, span: tuple[int, int]) -> None:
        self.first, self.last = span
        self.etag = etag
        self.bucket, self.key = params.get("Bucket"), params.get("Key")
        self.base = {name: value for name, value in params.items() if name not in _DROPPED}

    def query(self, delivered: int) -> dict[str, Any] | None:
        """The GetObject parameters for the bytes from ``delivered`` on (``None``: none left)."""
        start = self.first + delivered
        if start > self.last:
            return None
        return {**self.base, "Range": f"bytes={start}-{self.last}", "IfMatch": self.etag}

    def refused(self, error: ClientError) -> ObjectChangedError | None:
        """The error a refused reopen raises instead of ``error``: the object changed (412)."""
        if http_status(error) == 412:
            return ObjectChangedError(self.bucket, self.key, self.etag, None)
        return None

    def check(self, response: Mapping[str, Any], delivered: int) -> None:
        """Raise (after closing its body) if ``response`` is not the pinned object's bytes
        from ``delivered`` on."""
        start = self.first + delivered
        found = response.get("ETag")
        error: ResilientS3Error | None = None
        if found != self.etag:
            error = ObjectChangedError(self.bucket, self.key, self.etag, found)
        elif body_span(response) != (start, self.last):
            error = ResilientS3Error(
                f"resuming GetObject {describe(self.bucket, self.key)}: the server did not "
                f"honour Range bytes={start}-{self.last} (answered "
                f"{response.get('ContentRange')!r})"
            )
        if error is not None:
            response["Body"].close()
            raise error


def make_reopen(
    get_object: Callable[..., Mapping[str, Any]],
    params: Mapping[str, Any],
    etag: str,
    span: tuple[int, int],
) -> Callable[[int], StreamingBody]:
    """A function that returns the object's body from ``delivered`` bytes into ``span``."""
    pin = _Pin(params, etag, span)

    def reopen(delivered: int) -> StreamingBody:
        query = pin.query(delivered)
        if query is None:
            return StreamingBody(io.BytesIO(b""), 0)
        try:
            response = get_object(**query)
        except ClientError as exc:
            changed = pin.refused(exc)
            if changed is not None:
                raise changed from exc
            raise
        pin.check(response, delivered)
        body: StreamingBody = response["Body"]
        return body

    return reopen


def make_areopen(
    get_object: Callable[..., Awaitable[Mapping[str, Any]]],
    params: Mapping[str, Any],
    etag: str,
    span: tuple[int, int],
) -> Callable[[int], Awaitable[AsyncBody]]:
    """:func:`make_reopen`, awaited: ``get_object`` is an awaited transport's (its answer's
    ``Body`` an :class:`~resilient_s3._transports.base.AsyncBody`)."""
    pin = _Pin(params, etag, span)

    async def reopen(delivered: int) -> AsyncBody:
        query = pin.query(delivered)
        if query is None:
            return _EMPTY
        try:
            response = await get_object(**query)
        except ClientError as exc:
            changed = pin.refused(exc)
            if changed is not None:
                raise changed from exc
            raise
        pin.check(response, delivered)
        body: AsyncBody = response["Body"]
        return body

    return reopen


class _Empty:
    """The body after the last byte."""

    async def read(self, amt: int | None = None) -> bytes:
        return b""

    def close(self) -> None:
        return None


_EMPTY = _Empty()
