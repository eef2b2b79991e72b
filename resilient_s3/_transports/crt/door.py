"""The native transport for the front doors' single calls: one attempt of an object operation
on awscrt, answered as botocore answers it (``transport.py``), the body of a GetObject
included.

:class:`AsyncNative` is the asyncio door's (an ``AsyncTransport``: a
:class:`~.transport.CrtTransport` per event loop, its requests awaited there);
:class:`BlockingNative` the sync door's (a ``Transport``: each attempt waited for in the calling
thread, no event loop, no thread hop: ``blocking.py``). Both take the client's one native client
(``s3client.NativeClient``: per process, fork-safe, released by ``close()``), which any number of
threads and loops share.

What a single call adds to the batch's use of the transport:

- **GetObject**: the CRT hands an answer over whole (``bridge.py``), so the body arrives in memory
  and is handed to the caller as a body that reads it (the door makes it resumable on top, as
  botocore's). The door routes a GetObject here only when its answer is known to be small
  (``_transports/sizes.py``): pinned (``If-Match``) to the ETag of an object this client saw, or a
  small ``Range``. An object changed since (412 to the pin; or forgotten between the route and the
  send) is read through botocore (``fallback``) instead, its size forgotten, and counted in
  ``stats.paths`` as a botocore send too. As botocore does by default
  (``response_checksum_validation="when_supported"``), the request asks for the object's checksum
  (``x-amz-checksum-mode: ENABLED``) and a full-object checksum in the answer is checked against
  the bytes: a mismatch is botocore's ``FlexibleChecksumError``, raised by the attempt (so it is
  retried), where botocore raises it at the end of the body's read;
- **the deadline**: an attempt is cut when its call's deadline comes
  (``_retry/timeouts.attempt_until``), as botocore's capped socket timeouts cut it, with
  botocore's ``ReadTimeoutError``; the CRT request is cancelled then.
"""

from __future__ import annotations

import asyncio
import io
import time
import weakref
from collections.abc import Mapping
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.response import StreamingBody

from ..._retry.timeouts import attempt_until
from ..._shared import SharedParts
from ..base import AsyncTransport, Transport
from .bridge import Answer
from .checksums import WholeChecksum
from .s3client import CrtSettings, NativeClient, build_crt_client, settings_of
from .transport import CrtTransport

__all__ = ["AsyncNative", "BlockingNative", "MemoryBody", "NativeCalls", "native_calls"]

#: Connections of the native client at least (boto3's ``max_pool_connections`` is a pool of
#: kept connections, not a cap on requests in flight; the CRT's count is a cap).
MIN_CONNECTIONS = 64
#: Operations whose answer says which checksum mode the request asked (botocore's model:
#: ``requestValidationModeMember``).
_CHECKSUM_MODE = ("x-amz-checksum-mode", "ENABLED")


class _Unpaced:
    """The request hooks of a single call: nothing waits for tokens (no batch pacing)."""

    async def before_request_async(self, operation: str, nbytes: int) -> None:
        return None

    def answered(self, status: int, code: str) -> None:
        return None


_UNPACED = _Unpaced()


class NativeCalls:
    """One attempt of an object operation on the native client, per event loop (see the module
    docstring); ``answer`` gives the fields and, for a GetObject, the body's bytes."""

    def __init__(
        self, inner: BaseClient, native: NativeClient, settings: CrtSettings, shared: SharedParts
    ) -> None:
        self._inner = inner
        self._native = native
        self.settings = settings
        self._shared = shared
        self._transports: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CrtTransport]
        self._transports = weakref.WeakKeyDictionary()
        self._endpoint = str(inner.meta.endpoint_url or "")
        #: The sync door's: not bound to an event loop (its requests wait in the caller).
        self._blocking = CrtTransport(inner, native, settings, _UNPACED)

    def _transport(self) -> CrtTransport:
        loop = asyncio.get_running_loop()
        found = self._transports.get(loop)
        if found is None:
            found = CrtTransport(self._inner, self._native, self.settings, _UNPACED)
            self._transports[loop] = found
        return found

    async def answer(
        self, operation: str, params: Mapping[str, Any], until: float | None, pin: str = ""
    ) -> tuple[dict[str, Any], bytes | None]:
        """One attempt of ``operation``: botocore's fields, and a GetObject's body (pinned to
        the ETag ``pin`` when given: ``If-Match``, as botocore sends ``IfMatch``); cut at
        ``until`` (``time.monotonic()``; ``None``: no deadline)."""
        sent = self._send(operation, params, pin)
        if until is None:
            return await sent
        try:
            return await asyncio.wait_for(sent, max(until - time.monotonic(), 0.0))
        except asyncio.TimeoutError:
            raise ReadTimeoutError(
                endpoint_url=self._endpoint, error="the call's deadline came"
            ) from None

    async def _send(
        self, operation: str, params: Mapping[str, Any], pin: str
    ) -> tuple[dict[str, Any], bytes | None]:
        transport = self._transport()
        if operation != "GetObject":
            return await transport.send(operation, params), None
        headers = self._get_headers(params, pin)
        answer = await transport.request(operation, params, None, 0, headers)
        return self._got(transport, params, answer)

    def answer_blocking(
        self, operation: str, params: Mapping[str, Any], until: float | None, pin: str = ""
    ) -> tuple[dict[str, Any], bytes | None]:
        """:meth:`answer` waited for in the calling thread, no event loop (``blocking.py``)."""
        transport = self._blocking
        if operation != "GetObject":
            return transport.call_blocking(operation, params, until), None
        headers = self._get_headers(params, pin)
        answer = transport.send_blocking(operation, params, until, headers)
        return self._got(transport, params, answer)

    def pin(self, params: Mapping[str, Any]) -> str | None:
        """The ETag to pin a native GetObject to (``""``: none needed), or ``None``: its
        answer is no longer known to be small (see the module docstring)."""
        return self._shared.sizes.bound(params)

    def turned_away(self, error: ClientError | None, params: Mapping[str, Any]) -> bool:
        """Whether a pinned GetObject must be read through botocore instead (``error``: the
        native answer's; ``None``: it was not sent); its size is then forgotten."""
        if error is not None:  # a 412 to our pin (the caller's IfMatch is never replaced)
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status != 412:
                return False
        self._shared.sizes.forget(str(params.get("Bucket")), [str(params.get("Key"))])
        self._shared.stats.path("botocore")
        return True

    def _get_headers(self, params: Mapping[str, Any], pin: str) -> list[tuple[str, str]]:
        """A GetObject's headers added to botocore's serialization: the checksum mode
        botocore asks by default, and the pin (a header here: a request of ``Bucket`` and
        ``Key`` only keeps the builder's fast path)."""
        headers = [("If-Match", pin)] if pin else []
        if self.settings.checksum_mode and "ChecksumMode" not in params:
            headers.append(_CHECKSUM_MODE)
        return headers

    def _got(
        self, transport: CrtTransport, params: Mapping[str, Any], answer: Answer
    ) -> tuple[dict[str, Any], bytes]:
        """A GetObject's fields and body, its checksum checked."""
        fields = transport.fields("GetObject", answer.status, answer.headers)
        body = answer.body
        if self.settings.checksum_mode or params.get("ChecksumMode") == "ENABLED":
            metadata = fields["ResponseMetadata"]
            checksum = WholeChecksum.of(metadata["HTTPHeaders"])
            if checksum is not None:  # as botocore's StreamingChecksumBody checks it
                checksum.check([body])
                metadata["ChecksumAlgorithm"] = checksum.algorithm
        return fields, body


class MemoryBody:
    """A GetObject body that arrived whole: read without waiting (an ``AsyncBody``)."""

    __slots__ = ("_at", "_data")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    async def read(self, amt: int | None = None) -> bytes:
        """At most ``amt`` bytes (all that is left when ``None``); ``b""`` at the end."""
        start = self._at
        end = len(self._data) if amt is None or amt < 0 else min(start + amt, len(self._data))
        self._at = end
        return self._data[start:end] if start or end < len(self._data) else self._data

    def close(self) -> None:
        self._data, self._at = b"", 0


class AsyncNative:
    """The asyncio door's native transport (an ``AsyncTransport``); ``fallback`` reads a
    GetObject no longer known to be small."""

    name = "crt"

    def __init__(self, calls: NativeCalls, fallback: AsyncTransport) -> None:
        self._calls = calls
        self._fallback = fallback

    async def send(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """One attempt of ``operation`` on the running loop; a GetObject's ``Body`` is a
        :class:`MemoryBody`."""
        if operation != "GetObject":
            return (await self._calls.answer(operation, params, attempt_until()))[0]
        pinned = self._calls.pin(params)
        if pinned is None:
            self._calls.turned_away(None, params)
            return await self._fallback.send(operation, params)
        try:
            fields, body = await self._calls.answer(operation, params, attempt_until(), pinned)
        except ClientError as error:
            if not pinned or not self._calls.turned_away(error, params):
                raise
            return await self._fallback.send(operation, params)
        fields["Body"] = MemoryBody(body or b"")
        return fields


class BlockingNative:
    """The sync door's native transport (a ``Transport``): each attempt waited for in the
    calling thread, no event loop (``blocking.py``); a GetObject's ``Body`` is a botocore
    ``StreamingBody`` over the bytes."""

    name = "crt"

    def __init__(self, calls: NativeCalls, fallback: Transport) -> None:
        self._calls = calls
        self._fallback = fallback

    def send(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """One attempt of ``operation``; the calling thread waits for it."""
        if operation != "GetObject":
            return self._calls.answer_blocking(operation, params, attempt_until())[0]
        pinned = self._calls.pin(params)
        if pinned is None:
            self._calls.turned_away(None, params)
            return self._fallback.send(operation, params)
        try:
            fields, body = self._calls.answer_blocking(operation, params, attempt_until(), pinned)
        except ClientError as error:
            if not pinned or not self._calls.turned_away(error, params):
                raise
            return self._fallback.send(operation, params)
        body = body or b""
        fields["Body"] = StreamingBody(io.BytesIO(body), len(body))
        return fields


def native_calls(inner: BaseClient, shared: SharedParts) -> NativeCalls:
    """The native calls of a front door over ``inner`` (one native client per settings for the
    doors sharing ``shared``; batches keep their own, sized to their concurrency)."""
    settings = settings_of(inner)
    settings = settings.with_connections(max(settings.connections, MIN_CONNECTIONS))
    native = shared.native_client(settings, lambda: build_crt_client(inner, settings))
    return NativeCalls(inner, native, settings, shared)
