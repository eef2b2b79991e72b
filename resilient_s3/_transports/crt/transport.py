"""One item's work on the CRT plane, awaited on the batch's loop.

Each attempt builds its request anew (a fresh body stream from the item's start), takes its
tokens from the batch's pacer (``rate_limit``, adaptive rate, ``bytes_per_second``: every CRT
request counted as every botocore request is), is sent by the CRT with its retries off, and its
outcome is translated into botocore's exception (``outcome.py``), which the facade's own retry
policy classifies and retries (``retry.py``). Answers count towards the adaptive rate.

Puts record the key as freshly written (read-your-writes for the facade and later gets); gets and
heads of a fresh key wait out a 404 as the facade does. Results are the botocore plane's
:class:`ItemResult` with the same fields.
"""

from __future__ import annotations

import asyncio
import functools
import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from awscrt import s3 as crt_s3
from awscrt.auth import AwsSigningConfig
from botocore.exceptions import ClientError

from ..._retry.retrier import Retrier
from ...batch._inputs.items import CopyItem, PutItem
from ...batch._pacing.context import RequestContext
from ...batch._planes.base import Multipart
from ...batch._report.report import ItemResult
from .bridge import Answer, Failed, Flights
from .checksums import checksum_headers
from .download import Download
from .headers import fields_of
from .listpage import parse_list_page
from .outcome import botocore_parse, translate
from .requests import RequestBuilder
from .s3client import CrtSettings

if TYPE_CHECKING:
    from ..._client import ResilientS3Client

__all__ = ["CrtOps"]

#: Uploads from this size count their progress against the read timeout.
_PROGRESS_FROM = 1024 * 1024


class CrtOps:
    """The CRT plane's per-item operations for one batch."""

    def __init__(
        self,
        s3: ResilientS3Client,
        crt: crt_s3.S3Client,
        settings: CrtSettings,
        builder: RequestBuilder,
        context: RequestContext,
    ) -> None:
        self.s3 = s3
        self.crt = crt
        self.settings = settings
        self.builder = builder
        self.context = context
        self.retrier = Retrier(s3.retry_policy, s3._shared.stats, s3._shared.budget)
        self._recent = s3._shared.recent
        self._inner = s3.inner
        self._server = _server_of(str(s3.inner.meta.endpoint_url or ""))
        self._flights = Flights(asyncio.get_running_loop(), settings.read_timeout, self._server)
        config = s3.inner.meta.config
        self._checksums = getattr(config, "request_checksum_calculation", None) != "when_required"

    # -- operations ------------------------------------------------------------------------

    async def put(
        self, bucket: str, item: PutItem, position: int | None, multipart: Multipart
    ) -> ItemResult:
        """PutObject ``item`` in one request (the plane sends larger bodies in parts)."""
        params = {**item.extra_args, "Bucket": bucket, "Key": item.key}
        body: Any = item.body
        size: int | None = None
        if position is None and hasattr(body, "read"):  # a non-seekable stream: read it once
            body = _spooled(body, self.s3.retry_policy.body_spool_limit, bucket, item.key)
        elif isinstance(body, str):
            body = body.encode()
        if position is not None:
            body.seek(position)
        checksums = checksum_headers(params, body, self._checksums)

        async def attempt() -> dict[str, Any]:
            nonlocal size
            stream, length, path = _open_body(body, position)
            size = length
            extra = {"send_filepath": path} if path is not None else {}
            answer = await self._send("PutObject", params, stream, length, checksums, **extra)
            return fields_of(self._inner, "PutObject").parse(answer.status, answer.headers)

        response = await self.retrier.acall("PutObject", bucket, item.key, attempt)
        self._recent.wrote(bucket, item.key)
        return ItemResult.of(bucket, item.key, size, response)

    async def get(self, bucket: str, key: str, target: Path | None) -> ItemResult:
        """GetObject ``key`` into ``target`` (a temporary file renamed at the end) or memory;
        a break mid-body resumes from the first byte missing (``download.py``)."""
        download = Download(bucket, key, target, self.retrier.stats)
        try:
            await self.retrier.acall(
                "GetObject", bucket, key, functools.partial(download.attempt, self._send),
                fresh_until=self._fresh(bucket, key),
            )  # fmt: skip
            response = fields_of(self._inner, "GetObject").parse(*download.headers())
            await self.context.pacer.acquire(0, download.received)
            if target is None:
                return ItemResult.of(bucket, key, download.received, response, data=download.data())
            download.finish()
        except BaseException:
            download.discard()
            raise
        return ItemResult.of(bucket, key, download.received, response)

    async def head(self, bucket: str, key: str) -> ItemResult:
        """HeadObject ``key``."""
        params = {"Bucket": bucket, "Key": key}

        async def attempt() -> dict[str, Any]:
            answer = await self._send("HeadObject", params, None, 0)
            return fields_of(self._inner, "HeadObject").parse(answer.status, answer.headers)

        response = await self.retrier.acall(
            "HeadObject", bucket, key, attempt, fresh_until=self._fresh(bucket, key)
        )
        return ItemResult.of(bucket, key, response.get("ContentLength"), response)

    async def copy(self, item: CopyItem) -> ItemResult:
        """CopyObject (objects up to 5 GiB); the answer's XML parsed by botocore."""
        params = {
            **item.extra_args,
            "Bucket": item.dst_bucket,
            "Key": item.dst_key,
            "CopySource": {"Bucket": item.src_bucket, "Key": item.src_key},
        }

        async def attempt() -> dict[str, Any]:
            answer = await self._send("CopyObject", params, None, 0)
            return botocore_parse(
                self._inner, "CopyObject", answer.status, answer.headers, answer.body
            )

        response = await self.retrier.acall("CopyObject", item.dst_bucket, item.dst_key, attempt)
        self._recent.wrote(item.dst_bucket, item.dst_key)
        etag = response.get("CopyObjectResult", {}).get("ETag")
        return ItemResult.of(item.dst_bucket, item.dst_key, None, response, etag=etag)

    async def list_page(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """One ListObjectsV2 page for list verification: its keys' sizes and ETags."""

        async def attempt() -> dict[str, Any]:
            answer = await self._send("ListObjectsV2", params, None, 0)
            return parse_list_page(answer.body)

        return await self.retrier.acall("ListObjectsV2", str(params["Bucket"]), None, attempt)

    # -- one attempt -----------------------------------------------------------------------

    async def _send(
        self,
        operation: str,
        params: Mapping[str, Any],
        body: IO[bytes] | None,
        length: int,
        headers: list[tuple[str, str]] | None = None,
        **options: Any,
    ) -> Answer:
        request, endpoint = self.builder.build(operation, params, body, length)
        for name, value in headers or ():
            request.headers.add(name, value)
        if endpoint.region is not None and endpoint.region != self.settings.region:
            options["signing_config"] = AwsSigningConfig(region=endpoint.region)
        await self.context.before_request_async(operation, length)
        try:
            answer = await self._flights.send(
                self.crt, request, operation, progress=length >= _PROGRESS_FROM, **options
            )
        except Failed as failed:
            error = failed.error
            translated = translate(
                error, self._inner, operation, self._server, failed.status, failed.headers
            )
            if isinstance(translated, ClientError):
                meta = translated.response.get("ResponseMetadata", {})
                code = str(translated.response.get("Error", {}).get("Code", ""))
                self.context.answered(int(meta.get("HTTPStatusCode", 0)), code)
            if translated is error:
                raise
            raise translated from error
        self.context.answered(answer.status, "")
        return answer

    def _fresh(self, bucket: str, key: str) -> float | None:
        window = self.s3.verify_policy.read_your_writes
        return self._recent.fresh_until(bucket, key, window)


def _spooled(body: IO[bytes], limit: int, bucket: str, key: str) -> bytes:
    """A non-seekable body read into memory (at most ``limit`` bytes), so it can be resent."""
    data = body.read(limit + 1)
    if len(data) > limit:
        raise ValueError(
            f"s3://{bucket}/{key}: a non-seekable body larger than body_spool_limit={limit} "
            "bytes cannot be resent on a retry; pass a seekable file or a path"
        )
    return bytes(data)


def _open_body(body: Any, position: int | None) -> tuple[IO[bytes] | None, int, str | None]:
    """``(stream, length, send_filepath)`` for one attempt, from the body's start."""
    if isinstance(body, os.PathLike):
        path = os.fspath(body)
        return None, os.path.getsize(path), str(path)
    if isinstance(body, str):
        body = body.encode()
    if isinstance(body, (bytes, bytearray, memoryview)):
        return io.BytesIO(body), memoryview(body).nbytes, None
    start = position or 0
    size = body.seek(0, io.SEEK_END) - start
    body.seek(start)
    return body, size, None


def _server_of(url: str) -> str:
    """Scheme, host and port of ``url`` (for error messages: no path, no query)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url
