"""The botocore transport: one attempt through the boto3 client's own method.

botocore's retries are off in every client resilient_s3 makes or wraps (``_config.py``), so a
call of the client's method is one HTTP request: serialization, endpoint rules, signing,
checksums, event handlers the caller registered, parsing and errors are all botocore's.

- :class:`BotocoreTransport` calls it in the caller's thread (the sync front door);
- :class:`AsyncBotocoreTransport` awaits it run in a bounded pool of worker threads (the asyncio
  front door), so the event loop never blocks: the request, and every read of a GetObject's
  body (:class:`ThreadedBody`). Each call runs in a copy of the caller's ``contextvars``
  context (the attempt's deadline, the caller's OpenTelemetry span). A cancelled caller stops
  waiting at once; a request already running finishes in its thread and its answer is dropped
  (a body in it is closed); one still queued is never sent. A body read cancelled mid-way
  leaves its body unusable (the thread read bytes nobody got): the next read raises
  ``ResponseStreamingError``, and the resumable body on top reopens the object where its caller
  stopped, so no byte is skipped.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

from botocore import xform_name
from botocore.client import BaseClient
from botocore.exceptions import ResponseStreamingError
from botocore.response import StreamingBody

__all__ = ["READ_AHEAD", "AsyncBotocoreTransport", "BotocoreTransport", "ThreadedBody"]

T = TypeVar("T")
#: Bytes a worker thread reads from a body at once (at least): small reads (``async for``'s
#: 1 KiB chunks) are served from what was read ahead instead of a thread each.
READ_AHEAD = 64 * 1024


class BotocoreTransport:
    """Requests through ``inner``, a boto3 S3 client (thread-safe, as the client is)."""

    name = "botocore"

    def __init__(self, inner: BaseClient) -> None:
        self.inner = inner
        self._methods: dict[str, Callable[..., Any]] = {}

    def send(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """One attempt of ``operation`` (an API name, ``"PutObject"``) with ``params``."""
        method = self._methods.get(operation)
        if method is None:
            method = self._methods[operation] = getattr(self.inner, xform_name(operation))
        response: dict[str, Any] = method(**params)
        return response


class AsyncBotocoreTransport:
    """:class:`BotocoreTransport` awaited: each request runs in one of ``pool``'s threads (see
    the module docstring); a GetObject's ``Body`` comes back as a :class:`ThreadedBody`."""

    name = "botocore"

    def __init__(self, inner: BaseClient, pool: Executor) -> None:
        self.inner = inner
        self._blocking = BotocoreTransport(inner)
        self._pool = pool

    async def send(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """One attempt of ``operation`` with ``params``, run in a worker thread."""
        response = await self.run(self._blocking.send, operation, params)
        body = response.get("Body")
        if isinstance(body, StreamingBody):
            response["Body"] = ThreadedBody(body, self.run)
        return response

    async def run(
        self,
        fn: Callable[..., T],
        *args: Any,
        dropped: Callable[[Future[Any]], object] | None = None,
    ) -> T:
        """``fn(*args)`` in a worker thread, in a copy of the caller's context, awaited. If the
        caller is cancelled while it runs, ``dropped(future)`` runs once it is done (default:
        close the body of an answer nobody will read)."""
        future = self._pool.submit(contextvars.copy_context().run, fn, *args)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:  # the thread goes on; nobody gets what it returns
            future.add_done_callback(dropped or _close_dropped_body)
            raise


class ThreadedBody:
    """A botocore ``StreamingBody`` whose blocking reads run in worker threads (``run``),
    reading at least :data:`READ_AHEAD` bytes at a time. The asyncio door's resumable body
    (``_bodies/resumable.py``) reads it."""

    def __init__(self, body: StreamingBody, run: Callable[..., Any]) -> None:
        self._body = body
        self._run = run
        self._ahead = b""
        self._reading = False  # a thread is reading: only it may close the body then
        self._lost = False  # a cancelled read's bytes went to nobody

    async def read(self, amt: int | None = None) -> bytes:
        """At most ``amt`` bytes (all that is left when ``None`` or negative)."""
        ahead = self._ahead
        if amt is None or amt < 0:
            self._ahead = b""
            return ahead + await self._fetch()
        if len(ahead) < amt:
            ahead += await self._fetch(max(amt - len(ahead), READ_AHEAD))
        self._ahead = ahead[amt:]
        return ahead[:amt]

    async def _fetch(self, *amt: int) -> bytes:
        if self._lost:
            raise ResponseStreamingError(error="an earlier read of this body was cancelled")
        self._reading = True
        try:
            data: bytes = await self._run(self._body.read, *amt, dropped=self._read_dropped)
        except asyncio.CancelledError:
            self._ahead, self._lost = b"", True
            raise
        except BaseException:
            self._reading = False
            raise
        self._reading = False
        return data

    def _read_dropped(self, future: Future[Any]) -> None:
        """A cancelled read's thread is done (in that thread): now the body can be closed."""
        self._reading = False
        self._body.close()

    def close(self) -> None:
        self._ahead = b""
        if not self._reading:
            self._body.close()


def _close_dropped_body(future: Future[Any]) -> None:
    """A cancelled caller's answer, once its thread is done: close the body nobody will read."""
    if future.cancelled() or future.exception() is not None:
        return
    answer = future.result()
    body = answer.get("Body") if isinstance(answer, dict) else None
    if isinstance(body, StreamingBody):
        body.close()
