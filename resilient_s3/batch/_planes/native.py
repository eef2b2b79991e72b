"""The native plane of one batch: items as coroutines on the batch's loop over the native
transport (``resilient_s3/_transports/crt/``), and the choice between the planes.

``data_plane=None`` (the default) runs the native plane when awscrt imports and the batch asks
for nothing it cannot serve; otherwise the threaded plane runs and one INFO line per client and
reason says why. ``data_plane="crt"`` insists (a ``ValueError`` naming the reason, before any
request); ``data_plane="botocore"`` runs the threaded plane.

What the native plane cannot serve (so the threaded plane runs):

- ``verify_writes="object"`` (or a ``VerifyPolicy``) on put/copy: per-object verification is the
  facade's own step after each write; list verification (the default) runs on either plane;
- a boto3 client that goes through an HTTP proxy (``Config(proxies)`` or ``HTTP(S)_PROXY``),
  presents a TLS client certificate, or signs with anything but SigV4 (``s3client.unsupported``);
- telemetry with ``batch_item_spans=True`` (a span per botocore call; the runner asks);
- a client whose botocore lacks the endpoint-rules resolver the request builder asks (never
  with the supported botocore floor).

Each item is one call of the client's :class:`~resilient_s3._retry.retrier.Retrier` (policy,
deadline, budget, stats and ``on_retry`` events as the facade's), each attempt one
:meth:`CrtTransport.send <resilient_s3._transports.crt.transport.CrtTransport.send>`. Puts
record the key as freshly written (read-your-writes for the facade and later gets); gets and
heads of a fresh key wait out a 404 as the facade does; a GetObject broken mid-body resumes
(``_transports/crt/download.py``). Results are the threaded plane's :class:`ItemResult`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..._bodies.request import body_size, prepare_body
from ..._internals import can_resolve_endpoints
from ..._retry.retrier import Retrier
from ..._transports.crt import crt_unavailable
from .._engine.state import ClientState
from .._inputs.items import CopyItem, PutItem
from .._pacing.context import RequestContext
from .._pacing.pacer import BatchCancelled, Pacer
from .._report.report import ItemResult
from .base import Multipart
from .threaded import put_one

if TYPE_CHECKING:
    from ..._client import ResilientS3Client
    from ..._shared import SharedParts
    from ..._transports.crt.transport import CrtTransport

__all__ = ["NativePlane", "native_plane", "wants_native"]

logger = logging.getLogger("resilient_s3")
#: Seconds between two looks at the batch's cancellation during a multipart upload.
_CANCEL_POLL = 0.05


class NativePlane:
    """Items as coroutines on the batch's loop, through one CRT S3 client per facade."""

    name = "crt"
    awaited = True

    def __init__(
        self,
        s3: ResilientS3Client,
        shared: SharedParts,
        transport: CrtTransport,
        context: RequestContext,
        in_worker: Callable[[Callable[[], Any]], Awaitable[Any]],
    ) -> None:
        self._s3 = s3
        self._recent = shared.recent
        self._stats = shared.stats
        self._retrier = Retrier(s3.retry_policy, shared.stats, shared.budget)
        self._transport = transport
        self._pacer = context.pacer
        #: Runs a blocking call in one of the batch's worker threads.
        self._in_worker = in_worker

    def put(
        self, bucket: str, item: PutItem, position: int | None, multipart: Multipart
    ) -> Callable[[], Awaitable[ItemResult]]:
        size = body_size(item.body, position)
        if (
            size is not None
            and size >= multipart.threshold
            and not _multipart_serves(item.extra_args)
        ):  # a whole-object checksum value: botocore's multipart steps, in a worker thread
            call = functools.partial(put_one, self._s3, bucket, item, position, multipart)
            return functools.partial(self._in_worker, call)
        return functools.partial(self._put, bucket, item, position, size, multipart)

    def get(
        self, bucket: str, key: str, target: Path | None
    ) -> Callable[[], Awaitable[ItemResult]]:
        return functools.partial(self._get, bucket, key, target)

    def head(self, bucket: str, key: str) -> Callable[[], Awaitable[ItemResult]]:
        return functools.partial(self._head, bucket, key)

    def copy(self, item: CopyItem) -> Callable[[], Awaitable[ItemResult]]:
        return functools.partial(self._copy, item)

    def list_page(self, params: dict[str, Any]) -> Callable[[], Awaitable[dict[str, Any]]]:
        return functools.partial(self._list_page, params)

    def call(
        self, operation: str, params: dict[str, Any]
    ) -> Callable[[], Awaitable[dict[str, Any]]]:
        send = functools.partial(self._transport.send, operation, params)
        key = params.get("Key")
        return functools.partial(
            self._retrier.acall, operation, str(params["Bucket"]), key, send
        )

    # -- one item ------------------------------------------------------------------------------

    async def _put(
        self,
        bucket: str,
        item: PutItem,
        position: int | None,
        size: int | None,
        multipart: Multipart,
    ) -> ItemResult:
        body: Any = item.body
        params = {**item.extra_args, "Bucket": bucket, "Key": item.key, "Body": body}
        if position is not None:
            body.seek(position)
        prepared = prepare_body("PutObject", params, self._s3.retry_policy.body_spool_limit)
        if size is None:
            size = prepared.length
        parts = (multipart.threshold, multipart.part_size)
        send = self._transport.send

        async def attempt() -> dict[str, Any]:
            sent = send("PutObject", params, multipart=parts)
            if size is not None and size >= multipart.threshold:
                return await _unless_cancelled(sent, self._pacer)
            return await sent

        response = await self._retrier.acall("PutObject", bucket, item.key, attempt)
        self._recent.wrote(bucket, item.key)
        return ItemResult.of(bucket, item.key, size, response)

    async def _get(self, bucket: str, key: str, target: Path | None) -> ItemResult:
        from ..._transports.crt.download import Download

        settings = self._transport.settings
        download = Download(
            bucket, key, target, self._stats, settings.read_timeout, settings.checksum_mode
        )
        try:
            await self._retrier.acall(
                "GetObject", bucket, key,
                functools.partial(download.attempt, self._transport.request),
                fresh_until=self._fresh(bucket, key),
            )  # fmt: skip
            response = self._transport.fields("GetObject", *download.headers())
            await self._pacer.acquire(0, download.received)
            if target is None:
                return ItemResult.of(bucket, key, download.received, response, data=download.data())
            download.finish()
        except BaseException:
            download.discard()
            raise
        return ItemResult.of(bucket, key, download.received, response)

    async def _head(self, bucket: str, key: str) -> ItemResult:
        params = {"Bucket": bucket, "Key": key}
        response = await self._retrier.acall(
            "HeadObject", bucket, key,
            functools.partial(self._transport.send, "HeadObject", params),
            fresh_until=self._fresh(bucket, key),
        )  # fmt: skip
        return ItemResult.of(bucket, key, response.get("ContentLength"), response)

    async def _copy(self, item: CopyItem) -> ItemResult:
        """CopyObject (objects up to 5 GiB)."""
        params = {
            **item.extra_args,
            "Bucket": item.dst_bucket,
            "Key": item.dst_key,
            "CopySource": {"Bucket": item.src_bucket, "Key": item.src_key},
        }
        response = await self._retrier.acall(
            "CopyObject", item.dst_bucket, item.dst_key,
            functools.partial(self._transport.send, "CopyObject", params),
        )  # fmt: skip
        self._recent.wrote(item.dst_bucket, item.dst_key)
        etag = response.get("CopyObjectResult", {}).get("ETag")
        return ItemResult.of(item.dst_bucket, item.dst_key, None, response, etag=etag)

    async def _list_page(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return await self._retrier.acall(
            "ListObjectsV2", str(params["Bucket"]), None,
            functools.partial(self._transport.list_page, params),
        )  # fmt: skip

    def _fresh(self, bucket: str, key: str) -> float | None:
        window = self._s3.verify_policy.read_your_writes
        return self._recent.fresh_until(bucket, key, window)


def wants_native(
    asked: str | None, refusal: str | None, s3: ResilientS3Client, state: ClientState
) -> bool:
    """Whether a batch runs on the native plane: ``asked`` is the ``data_plane`` option
    (``None``: native when it can), ``refusal`` the batch's own reason why it cannot."""
    if asked == "botocore":
        return False
    reason = refusal or crt_unavailable()
    if reason is None and not can_resolve_endpoints(s3.inner):
        reason = "this botocore has no endpoint-rules resolver to build requests with"
    if reason is None:
        from ..._transports.crt.s3client import unsupported

        reason = unsupported(s3.inner)
    if reason is None:  # a caller's handlers must run, as in boto3 (botocore runs them)
        from ..._transports.routing import handlers_refusal

        reason = handlers_refusal(s3.inner)
    if reason is None:
        return True
    if asked == "crt":
        raise ValueError(f"data_plane='crt' cannot run this batch: {reason}")
    if state.first_warning(f"plane:{reason}"):
        logger.info("s3.batch: the botocore data plane runs: %s", reason)
    return False


def native_plane(
    s3: ResilientS3Client,
    shared: SharedParts,
    context: RequestContext,
    concurrency: int,
    in_worker: Callable[[Callable[[], Any]], Awaitable[Any]],
) -> NativePlane:
    """The native plane of one batch through ``s3`` (the client's CRT client, built once)."""
    from ..._transports.crt.s3client import build_crt_client, settings_of
    from ..._transports.crt.transport import CrtTransport

    settings = settings_of(s3.inner).with_connections(concurrency)
    crt = shared.batch_state().crt_client(settings, lambda: build_crt_client(s3.inner, settings))
    transport = CrtTransport(s3.inner, crt, settings, context)  # per batch: holds the boto3 client
    return NativePlane(s3, shared, transport, context, in_worker)


def _multipart_serves(params: Mapping[str, Any]) -> bool:
    from ..._transports.crt.transport import multipart_serves  # awscrt: with the plane

    return multipart_serves(params)


async def _unless_cancelled(send: Awaitable[dict[str, Any]], pacer: Pacer) -> dict[str, Any]:
    """Await ``send`` (a multipart upload), cancelled as soon as the batch is (the CRT then
    aborts the upload): an upload is many requests, which a cancelled batch does not wait for
    (the threaded plane stops between two parts); raises ``BatchCancelled`` then."""
    task = asyncio.ensure_future(send)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=_CANCEL_POLL)
            if done:
                return task.result()
            if pacer.cancelled.is_set():
                raise BatchCancelled
    finally:
        task.cancel()  # done: no effect; else the bridge cancels the CRT request
