"""A GetObject on the CRT plane that continues after a break from the first byte it lacks.

The CRT sends a ``GET_OBJECT`` as ranged parts of :data:`GET_PART_SIZE` bytes and hands each
part's body over in order (``on_body(chunk, offset)``) once the part has arrived whole; with
its retries off, a part that breaks fails the whole request. What was handed over is kept (in
memory, or written at its offset into the download's ``.part`` file), and the next attempt asks
for the rest, pinned to the object the bytes came from: ``Range: bytes=N-`` and
``If-Match: <ETag of the first answer>``. A ``412`` then means the object was replaced: the item
fails with :class:`~resilient_s3.ObjectChangedError` naming it, as the facade's resumable body
does. A resumed attempt is one attempt of the same retried call (policy, deadline, budget), and
counts in the client's ``stats.resumes`` as the facade's resumed bodies do.

The result describes the whole object: its fields come from the answer that started the bytes
kept (the CRT gives a plain GetObject's answer the whole object's length, never a
``Content-Range``), checked against the ETag of every resumed answer and the total received.

Checksums: the CRT checks each answer against the checksum that answer reports
(``REQUEST_ONLY``). A ranged answer reports none for the whole object (S3 sends checksums only
with whole-object answers), so the bytes after a resume are not checked against the object's
checksum, as the CRT's own parts of an object larger than one part never are; ``If-Match``
keeps them the same object's bytes.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from awscrt import s3 as crt_s3
from botocore.exceptions import ClientError, IncompleteReadError

from ..._errors import ObjectChangedError, ResilientS3Error, describe
from ..._fields import http_status
from ..._stats import Stats
from .bridge import Answer

__all__ = ["GET_PART_SIZE", "Download"]

#: The CRT's part size for downloads: a break loses at most the parts in flight, so an object
#: larger than one part resumes. Measured on SeaweedFS here (20 objects at once, MiB/s): 8 MiB
#: objects 216-348 with 1 MiB parts, 352-428 with 2, 518-589 with 4, 435-542 with 8 (the CRT's
#: own default); below 4 MiB each part's request costs more than it saves.
GET_PART_SIZE = 4 * 1024 * 1024
#: Each answer checked against the checksum it reports (see the module docstring).
_VALIDATE = crt_s3.S3ChecksumConfig(
    validate_response=True,
    response_validation_mode=crt_s3.S3ChecksumValidationMode.REQUEST_ONLY,
)

#: ``CrtOps._send``: (operation, params, body, length, headers, **options) -> Answer.
Send = Callable[..., Awaitable[Answer]]


class _Sink:
    """Where one attempt's body goes; closed when the attempt is over (a late callback of a
    cancelled request then writes nothing)."""

    __slots__ = ("download", "open")

    def __init__(self, download: Download) -> None:
        self.download = download
        self.open = True

    def __call__(self, data: bytes, offset: int) -> None:  # on a CRT thread
        self.download._write(self, data, offset)


class Download:
    """One object's download across attempts: the bytes received, and what pins them."""

    def __init__(self, bucket: str, key: str, target: Path | None, stats: Stats) -> None:
        self.bucket, self.key, self.target = bucket, key, target
        self.received = 0
        #: The answer the bytes kept started with (whole-object headers), and its ETag.
        self.first: Answer | None = None
        self.etag: str | None = None
        self.total: int | None = None
        self.chunks: list[bytes] = []
        self.partial: Path | None = None
        self._fd: int | None = None
        self._stats = stats
        self._lock = threading.Lock()

    # -- one attempt (on the loop) ---------------------------------------------------------

    async def attempt(self, send: Send) -> Answer:
        """Send one GetObject for the bytes still missing; returns its answer."""
        params = {"Bucket": self.bucket, "Key": self.key}
        headers: list[tuple[str, str]] = []
        if self.received and self.etag is not None:
            headers = [("Range", f"bytes={self.received}-"), ("If-Match", self.etag)]
            self._stats.add("resumes")
        elif self.received:  # bytes without an ETag to pin the rest to: start again
            self._restart()
        self._open_file()
        sink, answer = _Sink(self), Answer()
        try:
            await send(
                "GetObject", params, None, 0, headers, sink=sink, answer=answer,
                checksum_config=_VALIDATE, part_size=GET_PART_SIZE,
            )  # fmt: skip
        except ClientError as error:
            if headers and http_status(error) == 412:
                raise ObjectChangedError(self.bucket, self.key, str(self.etag), None) from error
            raise
        finally:
            with self._lock:
                sink.open = False
            if not headers and 200 <= answer.status < 300:
                self._started(answer)
        if headers:
            self._check_resumed(answer)
        if self.total is not None and self.received != self.total:
            raise IncompleteReadError(actual_bytes=self.received, expected_bytes=self.total)
        return answer

    def _started(self, answer: Answer) -> None:
        """A plain GetObject answered: its headers describe the object the bytes come from."""
        self.first = answer
        lowered = {name.lower(): value for name, value in answer.headers}
        self.etag = lowered.get("etag")
        self.total = _total(lowered)

    def _check_resumed(self, answer: Answer) -> None:
        found = {name.lower(): value for name, value in answer.headers}.get("etag")
        if found is not None and found != self.etag:
            raise ObjectChangedError(self.bucket, self.key, str(self.etag), found)

    # -- the bytes received (CRT threads write, the loop reads between attempts) ------------

    def _write(self, sink: _Sink, data: bytes, offset: int) -> None:
        with self._lock:
            if not sink.open:
                return
            if offset != self.received:
                raise ResilientS3Error(
                    f"GetObject {describe(self.bucket, self.key)}: the CRT handed over bytes "
                    f"from offset {offset}, the download had {self.received}"
                )
            if self._fd is None:
                self.chunks.append(data)
            else:
                view = memoryview(data)
                while view:
                    written = os.pwrite(self._fd, view, offset)
                    view, offset = view[written:], offset + written
            self.received += len(data)

    def _open_file(self) -> None:
        if self.target is None or self._fd is not None:
            return
        self.target.parent.mkdir(parents=True, exist_ok=True)
        name = f".{self.target.name}.{uuid.uuid4().hex[:8]}.part"
        self.partial = self.target.with_name(name)
        self._fd = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)

    def _restart(self) -> None:
        with self._lock:
            self.received, self.first, self.etag, self.total = 0, None, None, None
            self.chunks.clear()
            if self._fd is not None:
                os.ftruncate(self._fd, 0)

    # -- the end -----------------------------------------------------------------------------

    def data(self) -> bytes:
        """The object's bytes (a download into memory)."""
        return b"".join(self.chunks)

    def headers(self) -> tuple[int, list[tuple[str, str]]]:
        """Status and headers of the answer that describes the whole object."""
        assert self.first is not None, "a download that succeeded has started"
        return self.first.status, self.first.headers

    def finish(self) -> None:
        """Move the ``.part`` file onto the target (a download into a file)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
        if self.partial is not None and self.target is not None:
            os.replace(self.partial, self.target)

    def discard(self) -> None:
        """Forget what was received (the download failed or was cancelled)."""
        with self._lock:
            fd, self._fd = self._fd, None
            self.chunks.clear()
        if fd is not None:
            os.close(fd)
        if self.partial is not None:
            self.partial.unlink(missing_ok=True)


def _total(headers: dict[str, Any]) -> int | None:
    """The object's length from an answer's headers (``Content-Range``'s total first)."""
    content_range = headers.get("content-range")
    if content_range and "/" in content_range:
        total = content_range.rpartition("/")[2].strip()
        return int(total) if total.isdigit() else None
    length = headers.get("content-length")
    return int(length) if length is not None and length.isdigit() else None
