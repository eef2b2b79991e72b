"""CRT requests waited for by the calling thread: the sync door's single calls, no event loop.

The request's callbacks (on the CRT's threads) collect its answer; the calling thread waits for
its end on a ``threading.Event``, in slices of an eighth of ``read_timeout``, so that, as
``bridge.Flights`` does on a loop:

- a request that has received nothing (headers, body bytes, upload progress) for
  ``read_timeout`` is cancelled and fails with botocore's ``ReadTimeoutError``; so does one
  still running when its call's deadline comes (``until``);
- an interrupted wait (``KeyboardInterrupt``) cancels the CRT request;
- the certificate of an https endpoint is checked before its first request (``tls.py``).

No thread hop: the CRT's completion wakes the calling thread directly (issue 19 measured a
synchronous ``make_request`` from 64 threads at ~0.4 ms of CPU a request).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from awscrt import s3 as crt_s3
from awscrt.http import HttpRequest
from botocore.exceptions import ReadTimeoutError

from .bridge import Answer, Collector, Failed
from .s3client import NativeClient

__all__ = ["send_blocking"]


class _Call(Collector):
    """The callbacks of one request waited for by its caller."""

    __slots__ = ("done", "error")

    def __init__(self) -> None:
        super().__init__()
        self.done = threading.Event()
        self.error: BaseException | None = None

    def on_done(
        self, error: BaseException | None = None, status_code: Any = None, **_: Any
    ) -> None:
        self.finished(status_code)
        self.error = error
        self.done.set()


def send_blocking(
    native: NativeClient,
    request: HttpRequest,
    operation: str,
    read_timeout: float,
    until: float | None,
    endpoint: str,
    *,
    progress: bool = False,
    **options: Any,
) -> Answer:
    """Send ``request`` and wait for its answer in the calling thread (see the module
    docstring); raises :class:`~.bridge.Failed` (translate it with ``outcome.translate``) or
    ``ReadTimeoutError``."""
    native.wait_guard(str(request.headers.get("Host") or ""))
    call = _Call()
    crt_request = native.make_request(
        type=crt_s3.S3RequestType.DEFAULT,
        request=request,
        operation_name=operation,
        on_headers=call.on_headers,
        on_body=call.on_body,
        on_done=call.on_done,
        on_progress=call.on_progress if progress else None,
        **options,
    )
    step = read_timeout / 8
    try:
        while not call.done.wait(step if until is None else min(step, until - time.monotonic())):
            now = time.monotonic()
            late = until is not None and now >= until
            if late or now - call.last >= read_timeout:
                crt_request.cancel()
                why = "the call's deadline came" if late else "no data for read_timeout"
                raise ReadTimeoutError(endpoint_url=endpoint, error=why)
    except BaseException:
        if not call.done.is_set():
            crt_request.cancel()  # an interrupted caller: the request stops too
        raise
    if call.error is not None:
        raise Failed(call.error, call.answer.status, call.answer.headers)
    return call.answer
