"""Request bodies made safe to resend: rewind a seekable file, spool a small stream, or refuse.

- ``bytes``, ``bytearray``, ``memoryview`` and ``str`` are resent as they are.
- A seekable file object is rewound before each retry to the position it had when the call
  started (not to 0: a caller may upload from the middle of a file). One that does not start at
  0 is sent through a :class:`_Window` whose position 0 is that start, because botocore's CRT
  signer (used whenever awscrt is installed) seeks a body to 0 and would send the bytes before
  it too: plain boto3 does, with awscrt installed.
- A non-seekable stream (a pipe, a socket, a generator-backed reader) is read into memory if it
  holds at most ``RetryPolicy.body_spool_limit`` bytes, so every attempt sends the same bytes;
  a larger one raises :class:`~resilient_s3.UnreplayableBodyError` before any request is sent.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._errors import UnreplayableBodyError, describe

__all__ = ["PreparedBody", "body_size", "check_stream", "prepare_body", "start_position"]

_REPLAYABLE = (bytes, bytearray, memoryview)


@dataclass(frozen=True)
class PreparedBody:
    """How to resend a request's body: ``rewind()`` before each retry; ``length`` in bytes
    (``None`` if unknown or there is no body)."""

    rewind: Callable[[], None]
    length: int | None


def prepare_body(operation: str, params: dict[str, Any], spool_limit: int) -> PreparedBody:
    """Make ``params["Body"]`` replayable (it may replace it with the spooled bytes)."""
    body = params.get("Body")
    if body is None:
        return PreparedBody(_nothing, 0 if operation == "PutObject" else None)
    if isinstance(body, (str, *_REPLAYABLE)):
        return PreparedBody(_nothing, body_size(body))
    check_stream(body, f"{operation} {describe(params.get('Bucket'), params.get('Key'))}")
    start = start_position(body)
    if start:
        body = params["Body"] = _Window(body, start)
        start = 0
    if start is not None:
        seek = body.seek

        def rewind() -> None:
            seek(start)

        return PreparedBody(rewind, body_size(body))
    target = describe(params.get("Bucket"), params.get("Key"))
    if not hasattr(body, "read"):
        return PreparedBody(_nothing, None)  # not a stream: botocore rejects it itself
    data = body.read(spool_limit + 1) if spool_limit else None
    if data is None or len(data) > spool_limit:
        raise UnreplayableBodyError(
            f"{operation} {target}: Body is a non-seekable stream larger than "
            f"body_spool_limit ({spool_limit} bytes), so it could not be resent on retry; no "
            "request was sent. Pass bytes, a seekable file, or use upload_fileobj (which "
            "buffers parts), or raise RetryPolicy.body_spool_limit."
        )
    params["Body"] = data
    return PreparedBody(_nothing, len(data.encode() if isinstance(data, str) else data))


def body_size(body: Any, start: int | None = None) -> int | None:
    """The bytes ``body`` sends from ``start`` (a file object's current position when ``None``),
    if known without reading it: ``bytes``-likes and ``str`` (UTF-8), a path, a seekable file
    (left where it was). ``None`` for anything else."""
    if isinstance(body, str):
        return len(body.encode())
    if isinstance(body, _REPLAYABLE):
        return memoryview(body).nbytes
    if isinstance(body, os.PathLike):
        return os.path.getsize(os.fspath(body))
    here = start_position(body)
    if here is None:
        return None
    body.seek(0, io.SEEK_END)
    end = body.tell()  # not seek()'s value: some file-likes' seek() returns None
    body.seek(here)
    return int(end) - (here if start is None else start)


def check_stream(body: Any, target: str) -> None:
    """Raise, naming ``target``, if ``body`` is a closed file or a text-mode file (whose reads
    give ``str``: botocore's checksum loop would never end). Reads nothing."""
    if getattr(body, "closed", False) is True:
        raise ValueError(f"{target}: Body is a closed file; no request was sent")
    if isinstance(body, io.TextIOBase):
        raise TypeError(
            f"{target}: Body is a text-mode file; open it in binary mode ('rb'); no request "
            "was sent"
        )


def start_position(body: Any) -> int | None:
    """The body's current position if it can seek back to it, else ``None``."""
    seekable = getattr(body, "seekable", None)
    if seekable is not None:
        try:
            if not seekable():
                return None
        except (OSError, ValueError):
            return None
    try:
        position = body.tell()
    except (AttributeError, OSError, ValueError):
        return None
    return position if isinstance(position, int) and hasattr(body, "seek") else None


def _nothing() -> None:
    return None


class _Window:
    """A seekable binary file seen from ``start`` on: position 0 is ``start`` of the file."""

    def __init__(self, raw: Any, start: int) -> None:
        self._raw = raw
        self._start = start

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._raw.read(size)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        # The position is asked of tell(), as botocore does: some file-likes' seek() returns
        # None (the standard says the new position).
        if whence == 0:
            self._raw.seek(self._start + max(0, offset))
        else:
            self._raw.seek(offset, whence)
        position: int = self._raw.tell()
        if position < self._start:
            self._raw.seek(self._start)
            position = self._start
        return position - self._start

    def tell(self) -> int:
        position: int = self._raw.tell()
        return position - self._start

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True
