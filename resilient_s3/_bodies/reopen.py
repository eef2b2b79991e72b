"""How a GetObject body is reopened at an offset: a Range request pinned to the original ETag.

The resumed request repeats the caller's parameters (SSE-C keys, VersionId, response
overrides, ChecksumMode) with the range not yet delivered and ``IfMatch`` set to the first
response's ETag (``pinned.py``, shared with the native transport's downloads), so a changed
object answers 412 instead of splicing two objects together. ``PartNumber`` is replaced by the
equivalent byte range, and the conditions already met by the first response (``IfNoneMatch``,
``IfModifiedSince``) are dropped. A body without an ETag or a length cannot be pinned and is
returned unchanged (not resumable). The blocking reopen (:func:`make_reopen`) and the awaited
one (:func:`make_areopen`) ask and check through the same :class:`~.pinned.Pin`.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from .._transports.base import AsyncBody
from .pinned import Pin, parse_content_range

__all__ = ["body_span", "make_areopen", "make_reopen"]

_DROPPED = frozenset({"Range", "PartNumber", "IfMatch", "IfNoneMatch", "IfModifiedSince"})


def body_span(response: Mapping[str, Any]) -> tuple[int, int] | None:
    """``(first, last)`` byte offsets of the object the body holds, or ``None`` if unknown."""
    content_range = response.get("ContentRange")
    if content_range:
        parsed = parse_content_range(content_range)
        return (parsed[0], parsed[1]) if parsed else None
    length = response.get("ContentLength")
    return (0, length - 1) if isinstance(length, int) else None


class _Reopening:
    """What the blocking and the awaited reopen share: the caller's parameters and the pin,
    the request for the bytes from ``delivered`` on, and the checks of its answer."""

    def __init__(self, params: Mapping[str, Any], etag: str, span: tuple[int, int]) -> None:
        self.first, self.last = span
        self.base = {name: value for name, value in params.items() if name not in _DROPPED}
        self.pin = Pin(params.get("Bucket"), params.get("Key"), etag)

    def query(self, delivered: int) -> dict[str, Any] | None:
        """The GetObject parameters for the bytes from ``delivered`` on (``None``: none left)."""
        start = self.first + delivered
        if start > self.last:
            return None
        return {**self.base, **self.pin.params(start, self.last)}

    def refused(self, error: ClientError) -> None:
        """Raise what a refused reopen raises instead of ``error`` if the object changed (a
        412 to the pinned request)."""
        changed = self.pin.changed(error)
        if changed is not None:
            raise changed from error

    def check(self, response: Mapping[str, Any], delivered: int) -> None:
        """Raise (after closing its body) if ``response`` is not the pinned object's bytes
        from ``delivered`` on."""
        try:
            start = self.first + delivered
            self.pin.check(response.get("ETag"), body_span(response), start, self.last)
        except BaseException:
            response["Body"].close()
            raise


def make_reopen(
    get_object: Callable[..., Mapping[str, Any]],
    params: Mapping[str, Any],
    etag: str,
    span: tuple[int, int],
) -> Callable[[int], StreamingBody]:
    """A function that returns the object's body from ``delivered`` bytes into ``span``."""
    reopening = _Reopening(params, etag, span)

    def reopen(delivered: int) -> StreamingBody:
        query = reopening.query(delivered)
        if query is None:
            return StreamingBody(io.BytesIO(b""), 0)
        try:
            response = get_object(**query)
        except ClientError as exc:
            reopening.refused(exc)
            raise
        reopening.check(response, delivered)
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
    reopening = _Reopening(params, etag, span)

    async def reopen(delivered: int) -> AsyncBody:
        query = reopening.query(delivered)
        if query is None:
            return _EMPTY
        try:
            response = await get_object(**query)
        except ClientError as exc:
            reopening.refused(exc)
            raise
        reopening.check(response, delivered)
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
