"""One CRT request awaited on an asyncio loop.

The CRT calls back on its own event-loop threads; the answer is handed to the loop with
``call_soon_threadsafe`` and nothing else crosses threads. While a request runs:

- a **read timeout** (the boto3 client's ``read_timeout``) is kept here, as the CRT S3 client
  has none: a request that has received nothing (headers, body bytes, upload progress) for that
  long is cancelled and fails with botocore's ``ReadTimeoutError``;
- **cancelling** the awaiting task cancels the CRT request at once (its late completion is
  ignored), so a cancelled batch leaves nothing running.

The body of an answer goes to ``sink`` (a callable run on the CRT thread), or is collected.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from awscrt import s3 as crt_s3
from awscrt.http import HttpRequest
from botocore.exceptions import ReadTimeoutError

__all__ = ["Answer", "Failed", "send"]


@dataclass
class Answer:
    """What came back: status, headers, and the body (when no sink took it)."""

    status: int = 0
    headers: list[tuple[str, str]] = field(default_factory=list)
    chunks: list[bytes] = field(default_factory=list)
    received: int = 0

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)


class Failed(Exception):
    """A CRT request that failed: the CRT's ``error``, and the status and headers of the answer
    that came (``0`` and ``[]`` when none did)."""

    def __init__(self, error: BaseException, status: int, headers: list[tuple[str, str]]) -> None:
        super().__init__(error)
        self.error, self.status, self.headers = error, status, headers


class _Exchange:
    """The callbacks of one request; they run on CRT threads."""

    __slots__ = ("answer", "future", "last", "loop", "settled", "sink")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, sink: Callable[[bytes, int], None] | None
    ) -> None:
        self.loop = loop
        self.future: asyncio.Future[Answer] | None = loop.create_future()
        self.answer = Answer()
        self.sink = sink
        self.last = time.monotonic()
        self.settled = False  # the CRT has finished with the request

    def on_headers(self, status_code: int, headers: list[tuple[str, str]], **_: Any) -> None:
        self.answer.status, self.answer.headers = status_code, headers
        self.last = time.monotonic()

    def on_body(self, chunk: Any, offset: int, **_: Any) -> None:
        data = bytes(chunk)
        if self.sink is not None:
            self.sink(data, offset)
        else:
            self.answer.chunks.append(data)
        self.answer.received += len(data)
        self.last = time.monotonic()

    def on_progress(self, progress: int, **_: Any) -> None:
        self.last = time.monotonic()

    def on_done(
        self, error: BaseException | None = None, status_code: Any = None, **_: Any
    ) -> None:
        if status_code and not self.answer.status:
            self.answer.status = int(status_code)
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            self.loop.call_soon_threadsafe(self._settle, error)

    def detach(self) -> None:
        """Forget the future: the CRT may keep these callbacks after the request is over, and
        the future's error holds frames (the batch's client) through its traceback."""
        self.future = None

    def _settle(self, error: BaseException | None) -> None:
        self.settled = True
        future = self.future
        if future is None or future.done():
            return
        if error is not None:
            future.set_exception(Failed(error, self.answer.status, self.answer.headers))
        else:
            future.set_result(self.answer)


async def send(
    client: crt_s3.S3Client,
    request: HttpRequest,
    operation: str,
    read_timeout: float,
    endpoint: str,
    *,
    sink: Callable[[bytes, int], None] | None = None,
    progress: bool = False,
    **options: Any,
) -> Answer:
    """Send ``request`` and wait for its answer; raises :class:`Failed` (translate it with
    ``outcome.translate``), or ``ReadTimeoutError`` after ``read_timeout`` s of silence.
    ``progress``: count upload progress as news (a large body; each callback costs the GIL)."""
    exchange = _Exchange(asyncio.get_running_loop(), sink)
    kind = _TYPES.get(operation, crt_s3.S3RequestType.DEFAULT)
    crt_request = client.make_request(
        type=kind,
        request=request,
        operation_name=operation,
        on_headers=exchange.on_headers,
        on_body=exchange.on_body,
        on_done=exchange.on_done,
        on_progress=exchange.on_progress if progress else None,
        **options,
    )
    future = exchange.future
    assert future is not None
    watchdog = _Watchdog(exchange, crt_request, read_timeout, endpoint)
    try:
        return await future
    except BaseException:
        if not future.done():
            future.cancel()
        if not exchange.settled:
            crt_request.cancel()  # a cancelled task: the CRT request stops too
        raise
    finally:
        watchdog.stop()
        exchange.detach()


class _Watchdog:
    """Fails the request with ``ReadTimeoutError`` after ``timeout`` s without news (loop only)."""

    __slots__ = ("_endpoint", "_exchange", "_handle", "_request", "_timeout")

    def __init__(self, exchange: _Exchange, request: Any, timeout: float, endpoint: str) -> None:
        self._exchange, self._request = exchange, request
        self._timeout, self._endpoint = timeout, endpoint
        self._handle = exchange.loop.call_later(timeout, self._check)

    def _check(self) -> None:
        exchange = self._exchange
        future = exchange.future
        if future is None or future.done():
            return
        quiet = time.monotonic() - exchange.last
        if quiet < self._timeout:
            self._handle = exchange.loop.call_later(self._timeout - quiet, self._check)
            return
        self._request.cancel()
        error = ReadTimeoutError(endpoint_url=self._endpoint, error="no data for read_timeout")
        future.set_exception(error)

    def stop(self) -> None:
        self._handle.cancel()


#: GetObject as the CRT's GET_OBJECT (ranged parts for a large object); PutObject stays a plain
#: request: bodies from the multipart threshold go up through the botocore plane (plane.py).
_TYPES = {"GetObject": crt_s3.S3RequestType.GET_OBJECT}
