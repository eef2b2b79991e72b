"""The native transport: one attempt of an S3 operation through awscrt's S3 client, awaited.

:meth:`CrtTransport.send` answers the transport protocol (``_transports/base.py``): one attempt
of ``operation`` with boto3's parameters, ``Body`` included, answered in botocore's shape (the
fields of a header-only answer read by ``headers.py``, an XML answer parsed by botocore), a
failure raised as the botocore exception the same failure raises on botocore (``outcome.py``).
It never retries: the caller's :class:`~resilient_s3._retry.retrier.Retrier` does. Each attempt
builds its request anew (a fresh body stream from the body's start), tells the caller's
:class:`RequestHooks` about it (its tokens, its count, its answer) and is sent by the CRT with
its retries off.

Bodies: bytes, a path (read by the CRT itself, ``send_filepath``) or a seekable file object at
its start (the caller makes a body replayable: ``_bodies/request.py``). The request checksum is
botocore's (``checksums.py``). s3transfer's parts (``ReadFileChunk``, of ``upload_file`` and
``upload_fileobj``) count what is read from them as progress (``Callback=``) only while
transferring: as its ``request-created`` handlers do around botocore's signing, the count is
off while the body is measured and its checksum read, and on for the CRT's reads, so each byte
sent counts once (a retry's rewind takes back what the failed attempt read, as on botocore).

A PutObject body of ``multipart.threshold`` bytes or more (the batch's) goes up as the CRT's
own multipart upload (``PUT_OBJECT`` with that ``part_size``): the CRT creates
the upload, sends the parts in parallel and completes it; with its retries off, a part that
fails fails the whole attempt and the CRT aborts the upload itself (checked against moto and
SeaweedFS, as on cancellation), so the next attempt sends the whole object again: the multipart
steps are not idempotent one by one, the whole is. Extra arguments go where botocore's multipart
steps take them: the CRT copies the PutObject request's headers (``ContentType``, ``Metadata``,
SSE, ``Tagging``, ``ACL``...) to CreateMultipartUpload, the SSE-C headers to each part,
``IfNoneMatch`` to the Complete. Part checksums: CRC32 (or the ``ChecksumAlgorithm`` asked) in
a header, computed by the CRT; none with ``request_checksum_calculation="when_required"``. A
body given with a whole-object checksum value cannot go this way (:func:`multipart_serves`).
Every step counts as a request: the tokens of the parts and of the Create and Complete are taken
before the upload (the CRT sends them on its own); its Abort is not counted. The answer's fields
are the PutObject fields of the CRT's final headers (``ETag``, ``VersionId``, SSE); the
Complete's XML body (its composite checksum) is not handed over.

:meth:`CrtTransport.request` is one raw request (a download's, ``download.py``; a listing
page's, ``listpage.py``).
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Mapping, Sequence
from typing import IO, Any, NoReturn, Protocol

from awscrt import s3 as crt_s3
from awscrt.auth import AwsSigningConfig
from awscrt.http import HttpRequest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from ..._bodies.request import body_size
from .blocking import send_blocking
from .bridge import Answer, Failed, Flights
from .checksums import WHOLE_BODY_VALUES, checksum_headers
from .headers import fields_of
from .listpage import parse_list_page
from .outcome import botocore_answer, translate
from .requests import RequestBuilder
from .s3client import CrtSettings, NativeClient

__all__ = ["CrtTransport", "RequestHooks", "multipart_serves"]

#: Uploads from this size count their progress against the read timeout.
_PROGRESS_FROM = 1024 * 1024
#: Operations whose answer is all in headers (read by ``headers.py``, ~20x faster than botocore).
_HEADER_ANSWERS = frozenset({"PutObject", "HeadObject", "GetObject", "DeleteObject", "UploadPart"})
#: Operations whose body's progress s3transfer counts (its ``request-created`` handlers, which
#: botocore runs around signing, turn the counting off and on again; ``_signal``).
_SIGNALLED = frozenset({"PutObject", "UploadPart"})
_ALGORITHMS = {
    name: crt_s3.S3ChecksumAlgorithm[name]
    for name in ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
}


class RequestHooks(Protocol):
    """What the transport tells its caller about every request (the batch's pacing context)."""

    async def before_request_async(self, operation: str, nbytes: int) -> None:
        """A request of ``operation`` carrying ``nbytes`` is about to be sent: wait for its
        tokens (or raise to refuse it)."""

    def answered(self, status: int, code: str) -> None:
        """An answer came: its HTTP status and S3 error code (``""`` for a success)."""


def multipart_serves(params: Mapping[str, Any]) -> bool:
    """Whether the CRT's multipart upload can send a PutObject with ``params`` (a whole-object
    checksum value or ``ContentMD5``, or an algorithm the CRT lacks, needs botocore's multipart
    steps)."""
    algorithm = params.get("ChecksumAlgorithm")
    known = algorithm is None or str(algorithm).upper() in _ALGORITHMS
    return known and not WHOLE_BODY_VALUES & params.keys()


class CrtTransport:
    """The requests of one awscrt S3 client on the running event loop (see the module
    docstring); ``inner`` is the boto3 client whose settings, endpoint rules, serializer and
    parsers the requests follow."""

    name = "crt"

    def __init__(
        self,
        inner: BaseClient,
        crt: NativeClient,
        settings: CrtSettings,
        hooks: RequestHooks,
    ) -> None:
        self.settings = settings
        self._inner = inner
        self._crt = crt
        self._hooks = hooks
        self._builder = RequestBuilder(inner)  # holds the boto3 client: per transport
        self._server = _server_of(str(inner.meta.endpoint_url or ""))
        self._loop_flights: Flights | None = None  # made on the first awaited request
        config = inner.meta.config
        self._checksums = getattr(config, "request_checksum_calculation", None) != "when_required"

    async def send(
        self,
        operation: str,
        params: Mapping[str, Any],
        *,
        multipart: tuple[int, int] | None = None,
    ) -> dict[str, Any]:
        """One attempt of ``operation``, answered as botocore answers it (see the module
        docstring). ``multipart``: ``(threshold, part_size)`` of a PutObject that may go up as
        the CRT's multipart upload."""
        params = dict(params)
        body = params.pop("Body", None)
        context: dict[str, Any] = {}  # the call's, for botocore's handlers (``requests.py``)
        if body is None:
            answer = await self.request(operation, params, None, 0, context=context)
        else:
            answer = await self._send_body(operation, params, body, multipart)
        return self.parse(operation, answer, context)

    def send_blocking(
        self,
        operation: str,
        params: Mapping[str, Any],
        until: float | None,
        headers: Sequence[tuple[str, str]] = (),
        context: dict[str, Any] | None = None,
    ) -> Answer:
        """One attempt of ``operation`` waited for in the calling thread, no event loop
        (``blocking.py``; the sync door's single calls, never a multipart upload), extra
        ``headers`` added, cut at ``until`` (``time.monotonic()``); the raw answer (read it
        with :meth:`parse`, passing the same ``context``)."""
        params = dict(params)
        body = params.pop("Body", None)
        stream, length, checksums, extra = self._body_of(operation, params, body)
        request = self._built(
            operation, params, stream, length, [*checksums, *headers], extra, context
        )
        try:
            return send_blocking(
                self._crt, request, operation, self.settings.read_timeout, until, self._server,
                progress=length >= _PROGRESS_FROM, **extra,
            )  # fmt: skip
        except Failed as failed:
            _reraise(self._translated(failed, operation), failed)

    def call_blocking(
        self, operation: str, params: Mapping[str, Any], until: float | None
    ) -> dict[str, Any]:
        """:meth:`send_blocking` read by :meth:`parse`: botocore's answer."""
        context: dict[str, Any] = {}
        answer = self.send_blocking(operation, params, until, (), context)
        return self.parse(operation, answer, context)

    def parse(
        self, operation: str, answer: Answer, context: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """``answer`` read as botocore reads an answer of ``operation``; ``context``: the call's,
        given to the request when it was built (an XML error in a 200 answer is raised:
        ``outcome.botocore_answer``)."""
        if operation in _HEADER_ANSWERS:
            return self.fields(operation, answer.status, answer.headers)
        return botocore_answer(self._inner, operation, answer, context)

    async def list_page(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """One ListObjectsV2 page read for list verification: its keys' sizes and ETags only
        (``listpage.py``)."""
        answer = await self.request("ListObjectsV2", params, None, 0)
        return parse_list_page(answer.body)

    def fields(
        self, operation: str, status: int, headers: Sequence[tuple[str, str]]
    ) -> dict[str, Any]:
        """The fields of a header-only answer of ``operation``, as botocore's parser gives them."""
        return fields_of(self._inner, operation).parse(status, headers)

    async def request(
        self,
        operation: str,
        params: Mapping[str, Any],
        body: IO[bytes] | None,
        length: int,
        headers: Sequence[tuple[str, str]] = (),
        context: dict[str, Any] | None = None,
        **options: Any,
    ) -> Answer:
        """One request of ``operation`` (``params`` without ``Body``: pass ``body`` and its
        ``length``), extra ``headers`` added, ``context`` given to botocore's handlers;
        ``options`` go to the CRT's ``make_request`` (``bridge.Flights.send``). Raises the
        botocore exception of a failure."""
        request = self._built(operation, params, body, length, headers, options, context)
        await self._hooks.before_request_async(operation, length)
        try:
            answer = await self._flights().send(
                self._crt, request, operation, progress=length >= _PROGRESS_FROM, **options
            )
        except Failed as failed:
            _reraise(self._translated(failed, operation), failed)
        self._hooks.answered(answer.status, "")
        return answer

    def _flights(self) -> Flights:
        """The requests in flight on the running loop (the transport's first loop: a transport
        belongs to one loop)."""
        if self._loop_flights is None:
            loop = asyncio.get_running_loop()
            self._loop_flights = Flights(loop, self.settings.read_timeout, self._server)
        return self._loop_flights

    def _built(
        self,
        operation: str,
        params: Mapping[str, Any],
        body: IO[bytes] | None,
        length: int,
        headers: Sequence[tuple[str, str]],
        options: dict[str, Any],
        context: dict[str, Any] | None = None,
    ) -> HttpRequest:
        """The request, ``headers`` added; a signing region other than the client's goes into
        ``options``."""
        request, endpoint = self._builder.build(operation, params, body, length, context)
        for name, value in headers:
            request.headers.add(name, value)
        if endpoint.region is not None and endpoint.region != self.settings.region:
            options["signing_config"] = AwsSigningConfig(region=endpoint.region)
        return request

    def _translated(self, failed: Failed, operation: str) -> BaseException:
        """The exception to raise for ``failed`` (botocore's; told to the hooks): never the
        private ``Failed`` wrapper."""
        error = failed.error
        translated = translate(
            error, self._inner, operation, self._server, failed.status, failed.headers
        )
        if isinstance(translated, ClientError):
            meta = translated.response.get("ResponseMetadata", {})
            code = str(translated.response.get("Error", {}).get("Code", ""))
            self._hooks.answered(int(meta.get("HTTPStatusCode", 0)), code)
        return translated

    def _body_of(
        self, operation: str, params: Mapping[str, Any], body: Any
    ) -> tuple[IO[bytes] | None, int, list[tuple[str, str]], dict[str, Any]]:
        """``(stream, length, checksum headers, make_request options)`` of one attempt's body
        (none: ``(None, 0, [], {})``)."""
        if body is None:
            return None, 0, [], {}
        if isinstance(body, str):
            body = body.encode()
        signalled = operation in _SIGNALLED
        if signalled:
            _signal(body, "signal_not_transferring")
        stream, length, path = _open_body(body)
        extra: dict[str, Any] = {"send_filepath": path} if path is not None else {}
        checksums: list[tuple[str, str]] = []
        if operation in ("PutObject", "UploadPart"):
            checksums = checksum_headers(params, body, self._checksums)
            if stream is not None:
                stream.seek(0)
        if signalled:
            _signal(body, "signal_transferring")  # what the CRT reads from here on is sent
        return stream, length, checksums, extra

    async def _send_body(
        self,
        operation: str,
        params: dict[str, Any],
        body: Any,
        multipart: tuple[int, int] | None,
    ) -> Answer:
        if multipart is not None and operation == "PutObject" and multipart_serves(params):
            stream, length, path = _open_body(body.encode() if isinstance(body, str) else body)
            if length >= multipart[0]:
                extra: dict[str, Any] = {"send_filepath": path} if path is not None else {}
                return await self._multipart(params, stream, length, multipart, extra)
        stream, length, checksums, options = self._body_of(operation, params, body)
        return await self.request(operation, params, stream, length, checksums, **options)

    async def _multipart(
        self,
        params: dict[str, Any],
        stream: IO[bytes] | None,
        length: int,
        multipart: tuple[int, int],
        extra: dict[str, Any],
    ) -> Answer:
        """A PutObject as the CRT's own multipart upload (see the module docstring)."""
        threshold, part_size = multipart
        algorithm = params.pop("ChecksumAlgorithm", None)  # the CRT's checksum_config says it
        checksum = None
        if algorithm is not None or self._checksums:
            checksum = crt_s3.S3ChecksumConfig(
                algorithm=_ALGORITHMS[str(algorithm or "CRC32").upper()],
                location=crt_s3.S3ChecksumLocation.HEADER,
            )
        steps = -(-length // part_size) + 1 if length > threshold else 0
        for _ in range(steps):  # the parts and the Create; request() takes the Complete's
            await self._hooks.before_request_async("UploadPart", 0)
        answer = await self.request(
            "PutObject", params, stream, length,
            request_type=crt_s3.S3RequestType.PUT_OBJECT, checksum_config=checksum,
            part_size=part_size, multipart_upload_threshold=threshold, **extra,
        )  # fmt: skip
        for _ in range(steps):
            self._hooks.answered(answer.status, "")
        return answer


def _signal(body: Any, name: str) -> None:
    """Call ``body.<name>()`` if it has it: s3transfer's ``ReadFileChunk`` counts its reads as
    progress only between ``signal_transferring()`` and ``signal_not_transferring()``."""
    method = getattr(body, name, None)
    if callable(method):
        method()


def _reraise(translated: BaseException, failed: Failed) -> NoReturn:
    """Raise ``translated``, caused by the CRT's error unless it is that error (unknown, or
    raised by our own callback: as it is, never the private ``Failed`` wrapper)."""
    if translated is failed.error:
        raise translated from None
    raise translated from failed.error


def _open_body(body: Any) -> tuple[IO[bytes] | None, int, str | None]:
    """``(stream, length, send_filepath)`` for one attempt, from the body's start."""
    if isinstance(body, os.PathLike):
        path = os.fspath(body)
        return None, os.path.getsize(path), str(path)
    if isinstance(body, (bytes, bytearray, memoryview)):
        return io.BytesIO(body), memoryview(body).nbytes, None
    body.seek(0)
    return body, body_size(body) or 0, None


def _server_of(url: str) -> str:
    """Scheme, host and port of ``url`` (for error messages: no path, no query)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url
