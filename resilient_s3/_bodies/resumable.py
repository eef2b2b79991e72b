"""A GetObject body that survives a connection failing mid-body, blocking or awaited.

:class:`ResumableBody` is a botocore ``StreamingBody`` (so ``isinstance`` checks, ``read``,
``read(n)``, ``iter_chunks``, ``iter_lines``, iteration, ``close`` and ``with`` keep working).
When a read fails with a network error, it asks its ``reopen`` function for a new stream that
starts at the first byte not yet delivered, under the client's retry policy (backoff, attempt
limit, budget; a 404 is retried for ``stale_for`` seconds). ``reopen`` pins the object (see
``reopen.py``), so the bytes that follow are the same object's. The total delivered is checked
against the expected length: short data is never returned silently.

:class:`AsyncResumableBody` is its awaited twin, the asyncio door's GetObject ``Body``, with
aiobotocore's habits: ``await body.read()``, ``await body.read(n)``, ``async for chunk in body``
(1 KiB chunks), ``body.iter_chunks(n)`` and ``body.iter_lines()`` (async iterators), ``close()``
and ``async with body``. It reads an awaited transport's body (``_transports/base.AsyncBody``)
and resumes the same way, under ``Retrier.acall``; both halves share the pin of ``reopen.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from botocore import exceptions as bce
from botocore.response import StreamingBody
from urllib3 import exceptions as u3e

from .._retry.retrier import Retrier
from .._transports.base import AsyncBody

__all__ = ["AsyncResumableBody", "ResumableBody"]

#: What a failing body read raises: botocore's wrappers, and what slips past them.
STREAM_ERRORS: tuple[type[Exception], ...] = (
    bce.HTTPClientError,
    bce.IncompleteReadError,
    u3e.HTTPError,
    OSError,
)
_READ_ALL_CHUNK = 1024 * 1024
#: ``traced(offset)``: the telemetry scope of a resumed read (its span), if any.
Traced = Callable[[int], AbstractContextManager[object]]


class _Resuming:
    """What the blocking and the awaited body share: the counts and checks around a resume."""

    _length: int | None  # None: not known (a body that cannot be resumed)
    _delivered: int
    _retrier: Retrier
    _stale_for: float
    _traced: Traced | None

    def _short(self) -> bce.IncompleteReadError:
        return bce.IncompleteReadError(
            actual_bytes=self._delivered, expected_bytes=self._length or 0
        )

    def _ended_early(self, chunk: bytes, amt: int) -> bool:
        """An empty read before the expected length: the stream ended early."""
        length = self._length
        return not chunk and amt > 0 and length is not None and self._delivered < length

    def _resume_window(self) -> tuple[AbstractContextManager[object], float | None]:
        """The resumed read's telemetry scope, and until when a 404 is a stale read: an object
        that answered a moment ago may be missing from a stale replica for ``stale_for``."""
        clock = self._retrier.policy.clock
        fresh_until = clock() + self._stale_for if self._stale_for else None
        traced = self._traced
        return (traced(self._delivered) if traced is not None else nullcontext()), fresh_until


class ResumableBody(_Resuming, StreamingBody):
    """A streaming body that resumes after a network failure; see the module docstring."""

    def __init__(
        self,
        body: StreamingBody,
        length: int,
        reopen: Callable[[int], StreamingBody],
        retrier: Retrier,
        bucket: str | None,
        key: str | None,
        stale_for: float = 0.0,
        traced: Traced | None = None,
    ) -> None:
        super().__init__(body, length)  # type: ignore[arg-type]
        self._stale_for = stale_for
        self._length = length
        self._body: StreamingBody | None = body
        self._reopen = reopen
        self._retrier = retrier
        self._bucket = bucket
        self._key = key
        self._delivered = 0
        self._traced = traced

    def read(self, amt: int | None = None) -> bytes:
        """Read at most ``amt`` bytes (all that is left if ``amt`` is ``None`` or negative)."""
        if amt is None or amt < 0:
            chunks = []
            while chunk := self.read(_READ_ALL_CHUNK):
                chunks.append(chunk)
            return b"".join(chunks)
        chunk = self._read_some(amt)
        self._delivered += len(chunk)
        return chunk

    def _read_some(self, amt: int) -> bytes:
        failure: Exception | None = None
        if self._body is not None:
            try:
                chunk = self._body.read(amt)
            except STREAM_ERRORS as exc:
                failure = exc
            else:
                if not self._ended_early(chunk, amt):
                    return chunk
                failure = self._short()
        return self._resume_and_read(amt, failure)

    def _resume_and_read(self, amt: int, failure: Exception | None) -> bytes:
        """Retry the read under the policy; ``failure`` counts as its first failed attempt."""
        pending = [failure] if failure is not None else []

        def attempt() -> bytes:
            if pending:
                self._drop_body()
                raise pending.pop()
            if self._body is None:
                self._retrier.stats.add("resumes")
                self._body = self._reopen(self._delivered)
            try:
                chunk = self._body.read(amt)
            except STREAM_ERRORS:
                self._drop_body()
                raise
            if self._ended_early(chunk, amt):
                self._drop_body()
                raise self._short()
            return chunk

        scope, fresh_until = self._resume_window()
        with scope:
            return self._retrier.call(
                "GetObject", self._bucket, self._key, attempt, counted=False,
                fresh_until=fresh_until,
            )  # fmt: skip

    def _drop_body(self) -> None:
        body, self._body = self._body, None
        if body is not None:
            body.close()

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def readlines(self) -> list[bytes]:  # type: ignore[override]
        return self.read().splitlines(True)

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._delivered

    def set_socket_timeout(self, timeout: float) -> None:
        if self._body is not None:
            self._body.set_socket_timeout(timeout)

    def close(self) -> None:
        self._drop_body()

    def __enter__(self) -> ResumableBody:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncResumableBody(_Resuming):
    """The asyncio door's GetObject body: awaited reads that resume after a network failure
    (see the module docstring). ``reopen`` is ``None`` for a body that cannot be pinned (no
    ETag or length): it reads the same, and a failure is raised."""

    _DEFAULT_CHUNK_SIZE = 1024

    def __init__(
        self,
        body: AsyncBody,
        length: int | None,
        reopen: Callable[[int], Awaitable[AsyncBody]] | None,
        retrier: Retrier,
        bucket: str | None,
        key: str | None,
        stale_for: float = 0.0,
        traced: Traced | None = None,
    ) -> None:
        self._body: AsyncBody | None = body
        self._length = length
        self._reopen = reopen
        self._retrier = retrier
        self._bucket = bucket
        self._key = key
        self._stale_for = stale_for
        self._traced = traced
        self._delivered = 0

    async def read(self, amt: int | None = None) -> bytes:
        """At most ``amt`` bytes (all that is left if ``amt`` is ``None`` or negative)."""
        if amt is None or amt < 0:
            chunks = []
            while chunk := await self.read(min(_READ_ALL_CHUNK, max(self._left(), 1))):
                chunks.append(chunk)
            return b"".join(chunks)
        if amt > 0 and self._left() == 0:
            return b""  # every byte delivered: no read (a thread each, on botocore) to see it
        chunk = await self._read_some(amt)
        self._delivered += len(chunk)
        return chunk

    def _left(self) -> int:
        if self._length is None:
            return _READ_ALL_CHUNK
        return max(self._length - self._delivered, 0)

    async def _read_some(self, amt: int) -> bytes:
        failure: Exception | None = None
        if self._body is not None:
            try:
                chunk = await self._body.read(amt)
            except STREAM_ERRORS as exc:
                failure = exc
            else:
                if not self._ended_early(chunk, amt):
                    return chunk
                failure = self._short()
        if self._reopen is None:
            self._drop_body()
            raise failure or self._short()
        return await self._resume_and_read(amt, failure, self._reopen)

    async def _resume_and_read(
        self,
        amt: int,
        failure: Exception | None,
        reopen: Callable[[int], Awaitable[AsyncBody]],
    ) -> bytes:
        """Retry the read under the policy; ``failure`` counts as its first failed attempt."""
        pending = [failure] if failure is not None else []

        async def attempt() -> bytes:
            if pending:
                self._drop_body()
                raise pending.pop()
            if self._body is None:
                self._retrier.stats.add("resumes")
                self._body = await reopen(self._delivered)
            try:
                chunk = await self._body.read(amt)
            except STREAM_ERRORS:
                self._drop_body()
                raise
            if self._ended_early(chunk, amt):
                self._drop_body()
                raise self._short()
            return chunk

        scope, fresh_until = self._resume_window()
        with scope:
            return await self._retrier.acall(
                "GetObject", self._bucket, self._key, attempt, fresh_until, counted=False
            )

    async def readlines(self) -> list[bytes]:
        """Every line left, ends kept."""
        return (await self.read()).splitlines(True)

    def __aiter__(self) -> AsyncResumableBody:
        return self

    async def __anext__(self) -> bytes:
        """The next chunk of 1 KiB (aiobotocore's size)."""
        chunk = await self.read(self._DEFAULT_CHUNK_SIZE)
        if not chunk:
            raise StopAsyncIteration
        return chunk

    async def iter_chunks(self, chunk_size: int = _DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        """Chunks of ``chunk_size`` bytes (the last one shorter)."""
        while chunk := await self.read(chunk_size):
            yield chunk

    async def iter_lines(
        self, chunk_size: int = _DEFAULT_CHUNK_SIZE, keepends: bool = False
    ) -> AsyncIterator[bytes]:
        """Lines, as botocore's ``StreamingBody.iter_lines`` gives them."""
        pending = b""
        async for chunk in self.iter_chunks(chunk_size):
            lines = (pending + chunk).splitlines(True)
            for line in lines[:-1]:
                yield line.splitlines(keepends)[0]
            pending = lines[-1]
        if pending:
            yield pending.splitlines(keepends)[0]

    def tell(self) -> int:
        """Bytes delivered so far."""
        return self._delivered

    def _drop_body(self) -> None:
        body, self._body = self._body, None
        if body is not None:
            body.close()

    def close(self) -> None:
        """Release the connection; a later read reopens the object where this one stopped."""
        self._drop_body()

    async def __aenter__(self) -> AsyncResumableBody:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()
