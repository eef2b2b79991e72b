"""How a GetObject body is reopened at an offset: a Range request pinned to the original ETag.

The resumed request repeats the caller's parameters (SSE-C keys, VersionId, response
overrides, ChecksumMode) with the range not yet delivered and ``IfMatch`` set to the first
response's ETag (``pinned.py``, shared with the native transport's downloads), so a changed
object answers 412 instead of splicing two objects together. ``PartNumber`` is replaced by the
equivalent byte range, and the conditions already met by the first response (``IfNoneMatch``,
``IfModifiedSince``) are dropped. A body without an ETag or a length cannot be pinned and is
returned unchanged (not resumable).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from .pinned import Pin, parse_content_range

__all__ = ["body_span", "make_reopen"]

_DROPPED = frozenset({"Range", "PartNumber", "IfMatch", "IfNoneMatch", "IfModifiedSince"})


def body_span(response: Mapping[str, Any]) -> tuple[int, int] | None:
    """``(first, last)`` byte offsets of the object the body holds, or ``None`` if unknown."""
    content_range = response.get("ContentRange")
    if content_range:
        parsed = parse_content_range(content_range)
        return (parsed[0], parsed[1]) if parsed else None
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
    pin = Pin(params.get("Bucket"), params.get("Key"), etag)

    def reopen(delivered: int) -> StreamingBody:
        start = first + delivered
        if start > last:
            return StreamingBody(io.BytesIO(b""), 0)
        try:
            response = get_object(**base, **pin.params(start, last))
        except ClientError as exc:
            changed = pin.changed(exc)
            if changed is not None:
                raise changed from exc
            raise
        body: StreamingBody = response["Body"]
        try:
            pin.check(response.get("ETag"), body_span(response), start, last)
        except BaseException:
            body.close()
            raise
        return body

    return reopen
