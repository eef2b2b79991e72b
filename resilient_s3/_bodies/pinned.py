"""What a later request for an object's bytes asks for, and how its answer is checked.

One piece for both transports: the facade's resumable body (``reopen.py``) and the native
transport's downloads (``_transports/crt/download.py``) read an object in more than one request
(a resume after a break, or parts), and every request after the first is pinned to the object
the first answer described:

- it asks for ``Range: bytes=FIRST-LAST`` and ``If-Match: <the first answer's ETag>``, so a
  replaced object answers ``412`` (:meth:`Pin.changed`) instead of splicing two objects;
- its answer is checked (:meth:`Pin.check`): the ETag it reports must be the pinned one (a
  server or a cache that ignores ``If-Match`` sends the new object's bytes with its new ETag:
  :class:`~resilient_s3.ObjectChangedError`), and its ``Content-Range`` must be the range asked
  (a server that ignores ``Range`` answers the whole object: not resumable, an error that names
  the object).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .._errors import ObjectChangedError, ResilientS3Error, describe
from .._fields import http_status

__all__ = ["Pin", "parse_content_range"]

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


def parse_content_range(value: str | None) -> tuple[int, int, int | None] | None:
    """``(first, last, total)`` of a ``Content-Range`` value (``total`` ``None`` for ``*``), or
    ``None`` when absent or malformed."""
    if not value:
        return None
    match = _CONTENT_RANGE.fullmatch(value.strip())
    if match is None:
        return None
    total = match.group(3)
    return int(match.group(1)), int(match.group(2)), None if total == "*" else int(total)


@dataclass(frozen=True)
class Pin:
    """The object a read is pinned to: its bucket, key and ETag (``None``: the server gave
    none, so only the range is asked and checked)."""

    bucket: str | None
    key: str | None
    etag: str | None

    def params(self, first: int, last: int) -> dict[str, Any]:
        """The GetObject parameters asking for bytes ``first..last`` of the pinned object."""
        params: dict[str, Any] = {"Range": f"bytes={first}-{last}"}
        if self.etag is not None:
            params["IfMatch"] = self.etag
        return params

    def headers(self, first: int, last: int) -> list[tuple[str, str]]:
        """The same request as HTTP headers (a request built without botocore's serializer)."""
        headers = [("Range", f"bytes={first}-{last}")]
        if self.etag is not None:
            headers.append(("If-Match", self.etag))
        return headers

    def changed(self, error: ClientError) -> ObjectChangedError | None:
        """The error to raise for ``error`` if it says the object changed (a ``412`` to the
        pinned request), or ``None``."""
        if http_status(error) != 412 or self.etag is None:
            return None
        return ObjectChangedError(self.bucket, self.key, self.etag, None)

    def check(self, etag: str | None, span: tuple[int, int] | None, first: int, last: int) -> None:
        """Check the answer to a request for ``first..last``: the ETag it reports (``None``
        when it reported none: not the pinned object either) and the span its
        ``Content-Range`` gives."""
        if self.etag is not None and etag != self.etag:
            raise ObjectChangedError(self.bucket, self.key, self.etag, etag)
        if span != (first, last):
            shown = "none" if span is None else f"bytes {span[0]}-{span[1]}"
            raise ResilientS3Error(
                f"resuming GetObject {describe(self.bucket, self.key)}: the server did not "
                f"honour Range bytes={first}-{last} (answered {shown})"
            )
