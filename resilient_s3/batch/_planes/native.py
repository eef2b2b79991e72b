"""The CRT plane of one batch, and the choice between planes.

``data_plane=None`` (the default) runs the CRT plane when awscrt imports and the batch asks for
nothing it cannot serve; otherwise the botocore plane runs and one INFO line per client and
reason says why. ``data_plane="crt"`` insists (a ``ValueError`` naming the reason, before any
request); ``data_plane="botocore"`` keeps today's engine.

What the CRT plane cannot serve (so the botocore plane runs):

- ``verify_writes="object"`` (or a ``VerifyPolicy``) on put/copy: per-object verification is the
  facade's own step after each write; list verification (the default) runs on either plane;
- a boto3 client that goes through an HTTP proxy (``Config(proxies)`` or ``HTTP(S)_PROXY``),
  presents a TLS client certificate, or signs with anything but SigV4 (``client.unsupported``);
- telemetry with ``batch_item_spans=True`` (a span per botocore call; the runner asks);
- a client whose botocore lacks the endpoint-rules resolver the request builder asks (never
  with the supported botocore floor).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._engine.state import ClientState
from .._inputs.items import CopyItem, PutItem
from .._pacing.context import RequestContext
from .._report.report import ItemResult
from .base import Multipart
from .threaded import put_one

if TYPE_CHECKING:
    from ..._client import ResilientS3Client

__all__ = ["CrtPlane", "crt_plane", "crt_unavailable", "wants_crt"]

logger = logging.getLogger("resilient_s3")


def crt_unavailable() -> str | None:
    """Why the CRT plane cannot run in this process (awscrt missing or too old), or ``None``."""
    try:
        import awscrt
        import awscrt.s3
    except ImportError as error:
        return f"awscrt is not importable ({error})"
    if not hasattr(awscrt.s3, "S3RetryMode"):  # its retries cannot be switched off before 0.38
        return f"awscrt {awscrt.__version__} cannot switch its own retries off (0.38 can)"
    return None


class CrtPlane:
    """Items as coroutines on the batch's loop, through one CRT S3 client per facade."""

    name = "crt"
    awaited = True

    def __init__(self, ops: Any, loop: asyncio.AbstractEventLoop, s3: ResilientS3Client) -> None:
        self.ops = ops
        self._loop = loop
        self._s3 = s3
        #: Runs a blocking call in one of the batch's worker threads (set by the runner).
        self.in_worker: Callable[[Callable[[], Any]], Awaitable[Any]] | None = None

    def put(
        self, bucket: str, item: PutItem, position: int | None, multipart: Multipart
    ) -> Callable[[], Any]:
        route = _route(item, position, multipart)
        if route == "botocore" and self.in_worker is not None:  # in a worker thread: each
            # part paced, open uploads aborted on cancellation
            call = functools.partial(put_one, self._s3, bucket, item, position, multipart)
            return functools.partial(self.in_worker, call)
        if route == "multipart":
            from ..._transports.crt.upload import put_multipart

            return functools.partial(put_multipart, self.ops, bucket, item, position, multipart)
        return functools.partial(self.ops.put, bucket, item, position, multipart)

    def get(self, bucket: str, key: str, target: Path | None) -> Callable[[], Any]:
        return functools.partial(self.ops.get, bucket, key, target)

    def head(self, bucket: str, key: str) -> Callable[[], Any]:
        return functools.partial(self.ops.head, bucket, key)

    def copy(self, item: CopyItem) -> Callable[[], Any]:
        return functools.partial(self.ops.copy, item)

    def list_page(self, params: dict[str, Any]) -> Callable[[], Any]:
        return functools.partial(self.ops.list_page, params)

    def put_now(
        self, bucket: str, item: PutItem, position: int | None, multipart: Multipart
    ) -> ItemResult:
        route = _route(item, position, multipart)
        if route == "botocore":
            return put_one(self._s3, bucket, item, position, multipart)  # already in a worker
        coroutine: Any
        if route == "multipart":
            from ..._transports.crt.upload import put_multipart

            coroutine = put_multipart(self.ops, bucket, item, position, multipart)
        else:
            coroutine = self.ops.put(bucket, item, position, multipart)
        result: ItemResult = asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()
        return result

    def copy_now(self, item: CopyItem) -> ItemResult:
        coroutine = self.ops.copy(item)
        result: ItemResult = asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()
        return result


def wants_crt(
    asked: str | None, refusal: str | None, s3: ResilientS3Client, state: ClientState
) -> bool:
    """Whether a batch runs on the CRT plane: ``asked`` is the ``data_plane`` option (``None``:
    the CRT when it can), ``refusal`` the batch's own reason why the CRT cannot serve it."""
    if asked == "botocore":
        return False
    reason = refusal or crt_unavailable()
    if reason is None and not hasattr(s3.inner, "_resolve_endpoint_ruleset"):
        reason = "this botocore has no endpoint-rules resolver to build requests with"
    if reason is None:
        from ..._transports.crt.s3client import unsupported

        reason = unsupported(s3.inner)
    if reason is None:
        return True
    if asked == "crt":
        raise ValueError(f"data_plane='crt' cannot run this batch: {reason}")
    if state.first_warning(f"plane:{reason}"):
        logger.info("s3.batch: the botocore data plane runs: %s", reason)
    return False


def crt_plane(
    s3: ResilientS3Client, state: ClientState, context: RequestContext, concurrency: int
) -> CrtPlane:
    """The CRT plane of one batch through ``s3`` (the client's CRT client, built once)."""
    from ..._transports.crt.requests import RequestBuilder
    from ..._transports.crt.s3client import build_client, settings_of
    from ..._transports.crt.transport import CrtOps

    settings = settings_of(s3.inner).with_connections(concurrency)
    crt = state.crt_client(settings, lambda: build_client(s3.inner, settings))
    builder = RequestBuilder(s3.inner)  # per batch: it holds the boto3 client, the state must not
    ops = CrtOps(s3, crt, settings, builder, context)
    return CrtPlane(ops, asyncio.get_running_loop(), s3)


def _route(item: PutItem, position: int | None, multipart: Multipart) -> str:
    """How ``item`` goes up: ``"crt"`` (one PutObject), ``"multipart"`` (the CRT's multipart
    upload, ``upload.py``), or ``"botocore"`` (a large body with a whole-object checksum value:
    the botocore plane's multipart upload)."""
    size = _size(item.body, position)
    if size is None or size < multipart.threshold:
        return "crt"
    from ..._transports.crt.upload import crt_serves

    return "multipart" if crt_serves(item) else "botocore"


def _size(body: Any, position: int | None) -> int | None:
    """The body's size in bytes, when it can be known without reading it."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return memoryview(body).nbytes
    if isinstance(body, str):
        return len(body.encode())
    if isinstance(body, os.PathLike):
        return os.path.getsize(os.fspath(body))
    if position is not None:
        return int(body.seek(0, os.SEEK_END)) - position
    return None
