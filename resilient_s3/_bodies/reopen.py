"""How a GetObject body is reopened at an offset: a Range request pinned to the original ETag.

The resumed request repeats the caller's parameters (SSE-C keys, VersionId, response
overrides, ChecksumMode) with ``Range`` set to the bytes not yet delivered and ``IfMatch`` set
to the first response's ETag, so a changed object answers 412 instead of splicing two objects
together. ``PartNumber`` is replaced by the equivalent byte range, and the conditions already
met by the first response (``IfNoneMatch``, ``IfModifiedSince``) are dropped. A body without
an ETag or a length cannot be pinned and is returned unchanged (not resumable).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from .._errors import ObjectChangedError, ResilientS3Error, describe
from .._fields import http_status

__all__ = ["body_span", "make_reopen"]

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


def make_reopen(
    get_object: Callable[..., Mapping[str, Any]],
    params: Mapping[str, Any],
    etag: str,
    span: tuple[int, int],
) -> Callable[[int], StreamingBody]:
    """A function that returns the object's body from ``delivered`` bytes into ``span``."""
    first, last = span
    base = {name: value for name, value in params.items() if name not in _DROPPED}
    target = describe(params.get("Bucket"), params.get("Key"))

    def reopen(delivered: int) -> StreamingBody:
        start = first + delivered
        if start > last:
            return StreamingBody(io.BytesIO(b""), 0)
        try:
            response = get_object(**base, Range=f"bytes={start}-{last}", IfMatch=etag)
        except ClientError as exc:
            if http_status(exc) == 412:
                bucket, key = params.get("Bucket"), params.get("Key")
                raise ObjectChangedError(bucket, key, etag, None) from exc
            raise
        body: StreamingBody = response["Body"]
        found = response.get("ETag")
        if found != etag:
            body.close()
            raise ObjectChangedError(params.get("Bucket"), params.get("Key"), etag, found)
        if body_span(response) != (start, last):
            body.close()
            raise ResilientS3Error(
                f"resuming GetObject {target}: the server did not honour Range "
                f"bytes={start}-{last} (answered {response.get('ContentRange')!r})"
            )
        return body

    return reopen
