"""A GetObject body that survives a connection failing mid-body.

:class:`ResumableBody` is a botocore ``StreamingBody`` (so ``isinstance`` checks, ``read``,
``read(n)``, ``iter_chunks``, ``iter_lines``, iteration, ``close`` and ``with`` keep working).
When a read fails with a network error, it asks its ``reopen`` function for a new stream that
starts at the first byte not yet delivered, under the client's retry policy (backoff, attempt
limit, budget; a 404 is retried for ``stale_for`` seconds). ``reopen`` pins the object (see
``reopen.py``), so the bytes that follow are the same object's. The total delivered is checked
against the expected length: short data is never returned silently.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from botocore import exceptions as bce
from botocore.response import StreamingBody
from urllib3 import exceptions as u3e

from .._retry.retrier import Retrier

__all__ = ["ResumableBody"]

#: What a failing body read raises: botocore's wrappers, and what slips past them.
STREAM_ERRORS: tuple[type[Exception], ...] = (
    bce.HTTPClientError,
    bce.IncompleteReadError,
    u3e.HTTPError,
    OSError,
)
_READ_ALL_CHUNK = 1024 * 1024


class ResumableBody(StreamingBody):
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
        traced: Callable[[int], AbstractContextManager[object]] | None = None,
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
        #: ``traced(offset)``: the telemetry scope of a resumed read (its span), if any.
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
                if chunk or amt == 0 or self._delivered >= self._length:
                    return chunk
                failure = self._short()
        return self._resume_and_read(amt, failure)

    def _short(self) -> bce.IncompleteReadError:
        return bce.IncompleteReadError(actual_bytes=self._delivered, expected_bytes=self._length)

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
            if not chunk and amt > 0 and self._delivered < self._length:
                self._drop_body()
                raise self._short()
            return chunk

        # A 404 while resuming an object that answered a moment ago is a stale read: retried
        # for ``stale_for`` seconds.
        fresh_until = self._retrier.policy.clock() + self._stale_for if self._stale_for else None
        with self._traced(self._delivered) if self._traced is not None else nullcontext():
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
