"""A GetObject on the native transport: checked end to end, pinned to one object, resumable.

**Every request of a download is ours**, one plain request each (the CRT's ``DEFAULT`` meta
request): counted, paced and checked here. The CRT's ``GET_OBJECT`` is not used: it asks for
its first part with a ``Range`` (so S3 sends no checksum of the object, and an empty object
answers ``416``), compares no part's ETag with the first (its parts ask ``If-Match``, which a
server or a cache may ignore), hands a part over only once it has arrived whole (a part
flowing slower than ``read_timeout`` allows never arrives) and counts as one request.

**The plan of an attempt.**

- *Into memory, first attempt*: one GetObject without ``Range``, asking for the object's
  checksum (``x-amz-checksum-mode: ENABLED``, as botocore does): the answer is the whole object
  with its full-object checksum, checked. One request for the common small object. The CRT
  hands this answer over whole, so an answer that has not come within ``read_timeout`` (a large
  object on a slow link, or a silent server) is abandoned for the plan below, in the same
  attempt: the bytes keep coming in parts small enough to arrive within it. After it failed
  (a break), the next attempts take the plan below, which resumes.
- *Into a file* (the object may be larger than memory), *or after that*: a HeadObject (with the
  checksum mode), then the bytes in ranged parts, each pinned to the HEAD's ETag and checked
  (``_bodies/pinned.py``, shared with the facade's resumable body): ``If-Match`` asked, then the
  answer's ETag, ``Content-Range`` and length compared with what was asked. So a server that
  ignores ``If-Match`` cannot mix two objects' bytes. Up to :data:`GET_PARTS_IN_FLIGHT` parts at
  once, each written at its offset into the download's ``.part`` file
  (``_bodies/partfile.py``) or kept in memory; the whole is then checked against the
  full-object checksum the HEAD reported.

**Part sizes follow the flow.** The first part is alone and small enough to arrive within
``read_timeout`` at :data:`FIRST_PART_RATE` (4 MiB at the default 60 s); the next ones are
sized from the rate measured so that each arrives within a quarter of ``read_timeout``, from
:data:`SMALLEST_PART` to :data:`GET_PART_SIZE`. After a part timed out, the next attempt starts
again from the smallest. A download thus keeps going as long as :data:`SMALLEST_PART` bytes
arrive within ``read_timeout`` (273 bytes/s at the default 60 s; boto3's limit is one read).

**A changed object** (a ``412`` to a pinned request, or a part reporting another ETag): nothing
of it was handed over yet, so the download starts again from the object's start, once, in the
same attempt (a batch returns the object as it is now, whole); a second change fails the item
with :class:`~resilient_s3.ObjectChangedError` naming it.

**A break** fails the attempt; the parts that arrived whole are kept, and the next attempt of
the same retried call (policy, deadline, budget) fetches only the missing ones, pinned to the
same ETag; it counts in the client's ``stats.resumes``, as the facade's resumed bodies do.

**Checksums**: an object stored with a full-object checksum is checked against it (a mismatch
is botocore's ``FlexibleChecksumError``, and nothing of the bytes is kept), as botocore checks
it; an object without one (stored without a checksum, or with a composite multipart checksum)
is pinned to its ETag but not checked: the same as botocore. The result's fields describe the
whole object (the whole answer's, or the HEAD's).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, IncompleteReadError, ReadTimeoutError

from ..._bodies.partfile import PartFile
from ..._bodies.pinned import Pin, parse_content_range
from ..._errors import ObjectChangedError, ResilientS3Error, describe
from ..._stats import Stats
from .bridge import Answer
from .checksums import WholeChecksum

__all__ = ["FIRST_PART_RATE", "GET_PARTS_IN_FLIGHT", "GET_PART_SIZE", "SMALLEST_PART", "Download"]

#: The largest part. Measured on SeaweedFS here (20 objects at once, MiB/s): 8 MiB objects
#: 216-348 with 1 MiB parts, 352-428 with 2, 518-589 with 4, 435-542 with 8.
GET_PART_SIZE = 4 * 1024 * 1024
#: The smallest part (a slow flow).
SMALLEST_PART = 16 * 1024
#: Bytes a second the first part must flow at to arrive within ``read_timeout``.
FIRST_PART_RATE = 64 * 1024
#: Parts of one object in flight at once (after the first).
GET_PARTS_IN_FLIGHT = 4
#: Objects up to this size are checked on the loop; larger ones in a worker thread.
_CHECK_INLINE = 1024 * 1024

#: ``CrtTransport.request``: (operation, params, body, length, headers, **options) -> Answer.
Request = Callable[..., Awaitable[Answer]]


@dataclass(frozen=True)
class _Object:
    """What the answer that describes the whole object said."""

    status: int
    headers: list[tuple[str, str]]
    etag: str | None
    size: int
    checksum: WholeChecksum | None


class _PartSink:
    """Writes one part's body at its offset into the ``.part`` file, on a CRT thread; never
    past the part's end (an answer longer than asked spoils no other part), and nothing once
    the part's request is over (a late callback of a cancelled request). The body comes in
    order (the CRT's ``offset`` of a ranged request counts from the object's start, not the
    answer's): the bytes so far say where the next ones go."""

    __slots__ = ("file", "first", "length", "lock", "open", "written")

    def __init__(self, file: PartFile, first: int, length: int) -> None:
        self.file, self.first, self.length = file, first, length
        self.lock = threading.Lock()
        self.open = True
        self.written = 0

    def __call__(self, data: bytes, offset: int) -> None:
        with self.lock:
            room = self.length - self.written
            if self.open and room > 0:
                self.file.write_at(memoryview(data)[:room], self.first + self.written)
            self.written += len(data)

    def close(self) -> None:
        with self.lock:
            self.open = False


class Download:
    """One object's download across attempts (see the module docstring); ``target``: the file
    it goes to (``None``: into memory)."""

    def __init__(
        self,
        bucket: str,
        key: str,
        target: Path | None,
        stats: Stats,
        read_timeout: float,
        checksum_mode: bool = True,
    ) -> None:
        self.bucket, self.key, self.target = bucket, key, target
        self._params = {"Bucket": bucket, "Key": key}
        self._ask = [("x-amz-checksum-mode", "ENABLED")] if checksum_mode else []
        self._stats = stats
        self._timeout = read_timeout
        self._object: _Object | None = None
        self._spans: dict[int, int] = {}  # first byte -> length of each part kept
        self._chunks: dict[int, bytes] = {}  # into memory: first byte -> the part's bytes
        self._file: PartFile | None = None
        self._whole_tried = False  # the first attempt into memory asked for the whole object
        self._slow = False  # an answer did not arrive within read_timeout: small parts
        self._rate: float | None = None  # bytes a second, all parts in flight together
        self._changed = 0

    # -- attempts (on the loop) ----------------------------------------------------------------

    async def attempt(self, request: Request) -> None:
        """One attempt: fetch what is still missing, then check the whole."""
        if self.target is not None and self._file is None:
            self._file = PartFile(self.target)
        while True:
            try:
                await self._attempt(request)
                return
            except ObjectChangedError:
                self._changed += 1
                if self._changed > 1:
                    raise
                self._start_again()  # nothing was handed over: read the object as it is now

    async def _attempt(self, request: Request) -> None:
        if self._object is None:
            if self.target is None and not self._whole_tried:
                self._whole_tried = True  # after a failure of it, the resumable plan
                if await self._whole(request):
                    return
                self._slow = True  # it did not come within read_timeout: in parts
            await self._head(request)
        elif self._spans:
            self._stats.add("resumes")
        await self._parts(request)
        await self._check()

    async def _whole(self, request: Request) -> bool:
        """The whole object in one answer, checked; ``False`` if it did not come within
        ``read_timeout`` (abandoned)."""
        answer = Answer()
        whole = request(
            "GetObject", self._params, None, 0, self._ask,
            answer=answer, silence=None,
        )  # fmt: skip
        sent = asyncio.ensure_future(whole)
        try:
            done, _ = await asyncio.wait({sent}, timeout=self._timeout)
        finally:
            if not sent.done():
                sent.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await sent
        if not done:
            return False
        sent.result()  # its error, if it failed
        lowered = _lowered(answer.headers)
        body = answer.body
        length = lowered.get("content-length")
        if length is not None and length.isdigit() and int(length) != len(body):
            raise IncompleteReadError(actual_bytes=len(body), expected_bytes=int(length))
        found = _Object(
            answer.status, answer.headers, lowered.get("etag"), len(body),
            WholeChecksum.of(lowered),
        )  # fmt: skip
        self._object, self._spans, self._chunks = found, {0: len(body)}, {0: body}
        await self._check()
        return True

    async def _head(self, request: Request) -> None:
        """Learn the object's length, ETag and checksum (a HeadObject)."""
        answer = await request("HeadObject", self._params, None, 0, self._ask)
        lowered = _lowered(answer.headers)
        length = lowered.get("content-length", "")
        if not length.isdigit():
            raise ResilientS3Error(
                f"GetObject {describe(self.bucket, self.key)}: HeadObject answered no length"
            )
        self._object = _Object(
            answer.status or 200, answer.headers, lowered.get("etag"), int(length),
            WholeChecksum.of(lowered),
        )  # fmt: skip

    async def _parts(self, request: Request) -> None:
        """Fetch the parts still missing, the first alone, then up to GET_PARTS_IN_FLIGHT."""
        assert self._object is not None
        pin = Pin(self.bucket, self.key, self._object.etag)
        gaps = deque(self._gaps(self._object.size))
        running: set[asyncio.Task[None]] = set()
        try:
            while gaps or running:
                room = 1 if self._rate is None else GET_PARTS_IN_FLIGHT
                while gaps and len(running) < room:
                    first, last = gaps.popleft()
                    end = min(last, first + self._part_size() - 1)
                    if end < last:
                        gaps.appendleft((end + 1, last))
                    part = self._part(request, pin, first, end, len(running) + 1)
                    running.add(asyncio.ensure_future(part))
                done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()  # the first failure fails the attempt
        except ReadTimeoutError:
            self._slow, self._rate = True, None  # the next attempt starts with small parts
            raise
        finally:
            for task in running:
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)

    async def _part(self, request: Request, pin: Pin, first: int, last: int, sharing: int) -> None:
        """Fetch bytes ``first..last``, pinned; keep them if the answer is the one asked."""
        length = last - first + 1
        answer = Answer()
        sink = None if self._file is None else _PartSink(self._file, first, length)
        began = time.monotonic()
        try:
            await request(
                "GetObject", self._params, None, 0, pin.headers(first, last),
                answer=answer, sink=sink,
            )  # fmt: skip
        except ClientError as error:
            changed = pin.changed(error)
            if changed is not None:
                raise changed from error
            raise
        finally:
            if sink is not None:
                sink.close()
        lowered = _lowered(answer.headers)
        found = parse_content_range(lowered.get("content-range"))
        span = found[:2] if found else (0, answer.received - 1) if answer.status == 200 else None
        pin.check(lowered.get("etag"), span, first, last)
        if answer.received != length:  # a body longer or shorter than the range it says
            raise IncompleteReadError(actual_bytes=answer.received, expected_bytes=length)
        if sink is None:
            self._chunks[first] = answer.body
        self._spans[first] = length
        self._rate = length * sharing / max(time.monotonic() - began, 1e-3)

    async def _check(self) -> None:
        """Check the whole object against its full-object checksum, if it has one; a mismatch
        keeps nothing."""
        assert self._object is not None
        checksum = self._object.checksum
        if checksum is None:
            return
        chunks: Iterable[bytes]
        if self._file is not None:
            chunks = self._file.chunks()
        else:
            chunks = [self._chunks[first] for first in sorted(self._chunks)]
        try:
            if self._object.size <= _CHECK_INLINE:
                checksum.check(chunks)
            else:
                await asyncio.to_thread(checksum.check, chunks)
        except BaseException:
            self._start_again()
            raise

    # -- what is kept --------------------------------------------------------------------------

    def _part_size(self) -> int:
        if self._rate is not None:
            wanted = self._rate * self._timeout / (4 * GET_PARTS_IN_FLIGHT)
        else:
            wanted = SMALLEST_PART if self._slow else self._timeout * FIRST_PART_RATE
        return int(min(GET_PART_SIZE, max(SMALLEST_PART, wanted)))

    def _gaps(self, size: int) -> list[tuple[int, int]]:
        """The byte ranges not kept yet, in order."""
        gaps, at = [], 0
        for first in sorted(self._spans):
            if first > at:
                gaps.append((at, first - 1))
            at = max(at, first + self._spans[first])
        if at < size:
            gaps.append((at, size - 1))
        return gaps

    def _start_again(self) -> None:
        self._object, self._rate = None, None
        self._spans.clear()
        self._chunks.clear()
        if self._file is not None:
            self._file.truncate()

    # -- the end -------------------------------------------------------------------------------

    @property
    def received(self) -> int:
        """The object's length (a download that succeeded)."""
        return self._object.size if self._object is not None else 0

    def data(self) -> bytes:
        """The object's bytes (a download into memory)."""
        return b"".join(self._chunks[first] for first in sorted(self._chunks))

    def headers(self) -> tuple[int, list[tuple[str, str]]]:
        """Status and headers of the answer that describes the whole object."""
        assert self._object is not None, "a download that succeeded has started"
        return self._object.status, self._object.headers

    def finish(self) -> None:
        """Move the ``.part`` file onto the target (a download into a file)."""
        if self._file is not None:
            self._file.commit()

    def discard(self) -> None:
        """Forget what was received (the download failed or was cancelled)."""
        self._chunks.clear()
        if self._file is not None:
            self._file.discard()


def _lowered(headers: Iterable[tuple[str, str]]) -> dict[str, Any]:
    return {name.lower(): value for name, value in headers}
