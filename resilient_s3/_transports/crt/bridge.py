"""CRT requests awaited on an asyncio loop.

The CRT calls back on its own event-loop threads. Finished requests are queued and handed to
the loop in batches: the first completion schedules one wake-up (``call_soon_threadsafe``, a
write to the loop's self-pipe) and every completion that comes before the loop drains the queue
rides along, so a busy batch pays neither a pipe write nor an extra GIL hand-over per request.
Nothing else crosses threads. While requests run (:class:`Flights`, one per batch):

- a **read timeout** (the boto3 client's ``read_timeout``) is kept here, as the CRT S3 client
  has none: a request that has received nothing (headers, body bytes, upload progress) for that
  long is cancelled and fails with botocore's ``ReadTimeoutError``. One sweep every eighth of
  the timeout checks every request in flight (a timer per request cost ~30 us each), so a
  silent request fails between ``read_timeout`` and ``1.125 * read_timeout`` after its last
  news;
- **cancelling** the awaiting task cancels the CRT request at once (its late completion is
  ignored), so a cancelled batch leaves nothing running;
- the **certificate** of an https endpoint is checked before its first request (``tls.py``,
  once per endpoint and process): one that does not verify fails the requests to it at once
  with botocore's ``SSLError``, none sent (the CRT would report it only after s2n's blinding
  delay).

Every request is the CRT's ``DEFAULT`` meta request, one plain HTTP request (but a multipart
upload's ``PUT_OBJECT``), whose answer the CRT hands over only once it has arrived whole,
headers and body together: a body that keeps flowing is news only when complete. Downloads
size their requests for that (``download.py``), and a request may be given its own allowance
of silence (``silence``; ``None``: none, the caller bounds it).

The body of an answer goes to ``sink`` (a callable run on the CRT thread), or is collected.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from awscrt import s3 as crt_s3
from awscrt.http import HttpRequest
from botocore.exceptions import ReadTimeoutError

from .s3client import NativeClient

__all__ = ["Answer", "Collector", "Failed", "Flights"]


class _Default:
    """The type of :data:`_DEFAULT`: "the batch's ``read_timeout``" (``None`` means none)."""


_DEFAULT = _Default()


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


class Collector:
    """The callbacks that fill one request's :class:`Answer`, on CRT threads: its headers, its
    body (to ``sink``, or kept), and when it last heard anything (``last``)."""

    __slots__ = ("answer", "last", "sink")

    def __init__(
        self, answer: Answer | None = None, sink: Callable[[bytes, int], None] | None = None
    ) -> None:
        self.answer = Answer() if answer is None else answer
        self.sink = sink
        self.last = time.monotonic()

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

    def finished(self, status_code: Any) -> None:
        """The CRT's final status, where no headers gave one."""
        if status_code and not self.answer.status:
            self.answer.status = int(status_code)


class _Exchange(Collector):
    """The callbacks of one request on a loop."""

    __slots__ = ("allowance", "flights", "future", "settled")

    def __init__(
        self,
        flights: Flights,
        future: asyncio.Future[Answer],
        sink: Callable[[bytes, int], None] | None,
        answer: Answer | None,
        allowance: float | None,
    ) -> None:
        super().__init__(answer, sink)
        self.flights = flights
        self.future: asyncio.Future[Answer] | None = future
        self.allowance = allowance  # seconds of silence before it times out (None: never)
        self.settled = False  # the CRT has finished with the request

    def on_done(
        self, error: BaseException | None = None, status_code: Any = None, **_: Any
    ) -> None:
        self.finished(status_code)
        self.flights.post(self, error)

    def detach(self) -> None:
        """Forget the future: the CRT may keep these callbacks after the request is over, and
        the future's error holds frames (the batch's client) through its traceback."""
        self.future = None

    def settle(self, error: BaseException | None) -> None:
        """The request finished (on the loop)."""
        self.settled = True
        future = self.future
        if future is None or future.done():
            return
        if error is not None:
            future.set_exception(Failed(error, self.answer.status, self.answer.headers))
        else:
            future.set_result(self.answer)


class Flights:
    """The CRT requests of one batch in flight on ``loop`` (see the module docstring);
    ``endpoint`` names the server in timeout errors (scheme, host and port only)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, read_timeout: float, endpoint: str) -> None:
        self._loop = loop
        self._timeout = read_timeout
        self._endpoint = endpoint
        self._finished: collections.deque[tuple[_Exchange, BaseException | None]]
        self._finished = collections.deque()
        self._woken = False  # a drain is scheduled on the loop
        self._open: dict[_Exchange, Any] = {}  # exchange -> its CRT request
        self._sweeper: asyncio.TimerHandle | None = None

    async def send(
        self,
        client: NativeClient,
        request: HttpRequest,
        operation: str,
        *,
        sink: Callable[[bytes, int], None] | None = None,
        answer: Answer | None = None,
        progress: bool = False,
        request_type: crt_s3.S3RequestType | None = None,
        silence: float | _Default | None = _DEFAULT,
        **options: Any,
    ) -> Answer:
        """Send ``request`` and wait for its answer; raises :class:`Failed` (translate it with
        ``outcome.translate``), or ``ReadTimeoutError`` after ``read_timeout`` s of silence.
        ``progress``: count upload progress as news (a large body; each callback costs the
        GIL). ``answer``: the :class:`Answer` to fill (the caller keeps what came, headers
        included, even when the request fails). ``request_type``: the CRT's meta request type,
        when not ``DEFAULT``, one plain request (``PUT_OBJECT``: a multipart upload).
        ``silence``: this request's allowance instead of ``read_timeout`` (``None``: never
        timed out here)."""
        checked = client.guard(str(request.headers.get("Host") or ""))
        if checked is not None:
            await checked  # a certificate that does not verify: SSLError, nothing sent
        future: asyncio.Future[Answer] = self._loop.create_future()
        allowance = self._timeout if isinstance(silence, _Default) else silence
        exchange = _Exchange(self, future, sink, answer, allowance)
        crt_request = client.make_request(
            type=crt_s3.S3RequestType.DEFAULT if request_type is None else request_type,
            request=request,
            operation_name=operation,
            on_headers=exchange.on_headers,
            on_body=exchange.on_body,
            on_done=exchange.on_done,
            on_progress=exchange.on_progress if progress else None,
            **options,
        )
        self._open[exchange] = crt_request
        if self._sweeper is None:
            self._sweeper = self._loop.call_later(self._timeout / 8, self._sweep)
        try:
            return await future
        except BaseException:
            if not future.done():
                future.cancel()
            if not exchange.settled:
                crt_request.cancel()  # a cancelled task: the CRT request stops too
            raise
        finally:
            del self._open[exchange]
            exchange.detach()

    def post(self, exchange: _Exchange, error: BaseException | None) -> None:
        """A request finished (on a CRT thread): queue it, wake the loop if it is not already."""
        self._finished.append((exchange, error))
        if not self._woken:
            self._woken = True
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                self._loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        self._woken = False  # before draining: a completion queued from now on wakes again
        finished = self._finished
        while finished:
            exchange, error = finished.popleft()
            exchange.settle(error)

    def _sweep(self) -> None:
        """Fail the requests silent for ``read_timeout`` with ``ReadTimeoutError``."""
        now = time.monotonic()
        for exchange, crt_request in list(self._open.items()):
            future, allowance = exchange.future, exchange.allowance
            if (
                future is None
                or future.done()
                or allowance is None
                or now - exchange.last < allowance
            ):
                continue
            crt_request.cancel()
            error = ReadTimeoutError(endpoint_url=self._endpoint, error="no data for read_timeout")
            future.set_exception(error)
        self._sweeper = None
        if self._open:
            self._sweeper = self._loop.call_later(self._timeout / 8, self._sweep)
