"""The threaded plane: one item's work, run in a worker thread through the facade (retried,
maybe verified).

Each function makes the calls for one item (one chunk of keys for delete) and returns what the
report needs. Errors are raised as the facade raised them. A body of ``multipart_threshold``
bytes or more is uploaded in parts; a multipart upload the batch started is aborted if any step
fails or the batch is cancelled between two parts. A ``ContentMD5`` given with such a body is
checked against the bytes sent before the upload completes (S3 takes no MD5 of a multipart
object's whole body).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError

from ..._bodies.partfile import PartFile
from ..._bodies.request import body_size
from .._inputs.items import CopyItem, PutItem
from .._pacing.pacer import BatchCancelled
from .._pacing.worker_hooks import current_context
from .._report.report import ItemResult
from .base import Multipart

if TYPE_CHECKING:
    from ..._client import ResilientS3Client

__all__ = [
    "BotocorePlane",
    "copy_one",
    "delete_chunk",
    "get_one",
    "head_one",
    "local_path",
    "multipart_params",
    "put_one",
]

logger = logging.getLogger("resilient_s3")
_CHUNK = 1024 * 1024
#: PutObject parameters CreateMultipartUpload does not take (values of the whole body).
_PUT_ONLY = frozenset({"ContentMD5", "ContentLength", "IfMatch", "IfNoneMatch"})
_COMPLETE_ONLY = frozenset({"IfMatch", "IfNoneMatch"})


def put_one(
    s3: Any, bucket: str, item: PutItem, position: int | None, multipart: Multipart
) -> ItemResult:
    """Upload ``item``; a file object body from ``position`` (where it was when it was queued)."""
    body, extra = item.body, dict(item.extra_args)
    if isinstance(body, os.PathLike):
        with open(os.fspath(body), "rb") as file:
            return _put_file(s3, bucket, item.key, file, 0, extra, multipart)
    if isinstance(body, str):
        body = body.encode()
    if isinstance(body, memoryview):  # botocore takes bytes and bytearray, not memoryview
        body = body.tobytes()
    if isinstance(body, (bytes, bytearray)):
        size = len(body)
        if size >= multipart.threshold:
            return _put_file(s3, bucket, item.key, io.BytesIO(body), 0, extra, multipart)
        response = s3.put_object(Bucket=bucket, Key=item.key, Body=body, **extra)
        return ItemResult.of(bucket, item.key, size, response)
    return _put_file(s3, bucket, item.key, body, position, extra, multipart)


def _put_file(
    s3: Any,
    bucket: str,
    key: str,
    file: IO[bytes],
    position: int | None,
    extra: dict[str, Any],
    multipart: Multipart,
) -> ItemResult:
    size = None  # a non-seekable stream (verification off): the facade spools or refuses
    if position is not None:
        file.seek(position)
        size = body_size(file)
    if size is not None and size >= multipart.threshold:
        assert position is not None
        response = _multipart(s3, bucket, key, file, position, size, extra, multipart)
    else:
        response = s3.put_object(Bucket=bucket, Key=key, Body=file, **extra)
    return ItemResult.of(bucket, key, size, response)


def _multipart(
    s3: Any,
    bucket: str,
    key: str,
    file: IO[bytes],
    start: int,
    size: int,
    extra: dict[str, Any],
    multipart: Multipart,
) -> dict[str, Any]:
    create, complete, part_extra = multipart_params(extra)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    context = current_context()
    if context is not None:
        context.upload_started(bucket, key, upload_id)
    md5 = hashlib.md5(usedforsecurity=False) if "ContentMD5" in extra else None
    try:
        parts = []
        for number, offset in enumerate(range(0, size, multipart.part_size), 1):
            if context is not None and context.pacer.cancelled.is_set():
                raise BatchCancelled
            file.seek(start + offset)
            data = file.read(min(multipart.part_size, size - offset))
            if md5 is not None:
                md5.update(data)
            answer = s3.upload_part(
                Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data,
                **part_extra,
            )  # fmt: skip
            part = {"ETag": answer["ETag"], "PartNumber": number}
            part.update({k: v for k, v in answer.items() if k.startswith("Checksum")})
            parts.append(part)
        if md5 is not None:
            _check_md5(md5, extra["ContentMD5"])
        response: dict[str, Any] = s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts},
            **complete,
        )  # fmt: skip
    except BaseException:
        _abort(s3, bucket, key, upload_id)
        raise
    finally:
        if context is not None:
            context.upload_ended(upload_id)
    return response


def _check_md5(md5: Any, given: str) -> None:
    """A multipart upload cannot send the caller's ``ContentMD5`` (S3 takes none for the whole
    object): the bytes sent are checked against it before the upload completes, and a mismatch
    is the ``BadDigest`` S3 answers a PutObject with."""
    if base64.b64encode(md5.digest()).decode() != given:
        message = "The Content-MD5 you specified did not match what was sent (checked locally)"
        response: Any = {
            "Error": {"Code": "BadDigest", "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        raise ClientError(response, "PutObject")


def multipart_params(
    extra: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A put's ``extra_args`` split for the multipart steps: CreateMultipartUpload's, the
    Complete's (``IfMatch``/``IfNoneMatch``), and each UploadPart's (SSE-C, checksum
    algorithm, requester pays)."""
    create = {k: v for k, v in extra.items() if k not in _PUT_ONLY}
    complete = {k: v for k, v in extra.items() if k in _COMPLETE_ONLY}
    part_extra = {k: v for k, v in extra.items() if k in ("ChecksumAlgorithm", "RequestPayer")}
    part_extra.update({k: v for k, v in extra.items() if k.startswith("SSECustomer")})
    return create, complete, part_extra


def _abort(s3: Any, bucket: str, key: str, upload_id: str) -> None:
    try:
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    except (ClientError, BotoCoreError) as exc:
        logger.warning("could not abort multipart upload of s3://%s/%s: %s", bucket, key, exc)


def get_one(s3: Any, bucket: str, key: str, target: Path | None) -> ItemResult:
    """Download ``key``: into ``target`` (via its ``.part`` file, renamed at the end), or into
    memory (``ItemResult.data``) when ``target`` is ``None``."""
    response = s3.get_object(Bucket=bucket, Key=key)
    body = response["Body"]
    try:
        size = int(response.get("ContentLength") or 0)
        context = current_context()
        if context is not None:
            context.pace_bytes(size)
        if target is None:
            return ItemResult.of(bucket, key, size, response, data=body.read())
        partial, offset = PartFile(target), 0
        try:
            for chunk in body.iter_chunks(_CHUNK):
                partial.write_at(chunk, offset)
                offset += len(chunk)
            partial.commit()
        except BaseException:
            partial.discard()
            raise
        return ItemResult.of(bucket, key, size, response)
    finally:
        body.close()


def local_path(root: Path, key: str, strip: str = "") -> Path:
    """Where ``key`` (minus the prefix ``strip``) is saved under ``root``; refuses a key that
    would land outside it or is not a file name (``..``, ``.``, a trailing ``/``)."""
    name = key[len(strip) :] if strip and key.startswith(strip) else key
    parts = [part for part in name.split("/") if part]
    if not parts or name.endswith("/") or any(part in (".", "..") for part in parts):
        raise ValueError(f"key {key!r} cannot be saved as a file under {str(root)!r}")
    return root.joinpath(*parts)


def head_one(s3: Any, bucket: str, key: str) -> ItemResult:
    """HeadObject ``key``."""
    response = s3.head_object(Bucket=bucket, Key=key)
    return ItemResult.of(bucket, key, response.get("ContentLength"), response)


def copy_one(s3: Any, item: CopyItem) -> ItemResult:
    """CopyObject (objects up to 5 GiB)."""
    response = s3.copy_object(
        Bucket=item.dst_bucket, Key=item.dst_key,
        CopySource={"Bucket": item.src_bucket, "Key": item.src_key}, **dict(item.extra_args),
    )  # fmt: skip
    etag = response.get("CopyObjectResult", {}).get("ETag")
    return ItemResult.of(item.dst_bucket, item.dst_key, None, response, etag=etag)


def delete_chunk(s3: Any, bucket: str, keys: Sequence[str]) -> list[tuple[str, ClientError | None]]:
    """DeleteObjects for up to 1,000 keys (the facade retries transient per-key errors):
    ``(key, None)`` for each key deleted, ``(key, error)`` for each key left."""
    response = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True}
    )
    errors: dict[str, ClientError] = {}
    for entry in response.get("Errors", []):
        code, message = entry.get("Code", "?"), entry.get("Message", "")
        error = ClientError({"Error": {"Code": code, "Message": message}}, "DeleteObjects")
        errors[entry.get("Key", "")] = error
    return [(key, errors.get(key)) for key in keys]


class BotocorePlane:
    """Every item through the facade in a worker thread (the functions above)."""

    name = "botocore"
    awaited = False

    def __init__(self, s3: ResilientS3Client) -> None:
        self.s3 = s3

    def put(
        self, bucket: str, item: PutItem, position: int | None, multipart: Multipart
    ) -> Callable[[], Any]:
        return functools.partial(put_one, self.s3, bucket, item, position, multipart)

    def get(self, bucket: str, key: str, target: Path | None) -> Callable[[], Any]:
        return functools.partial(get_one, self.s3, bucket, key, target)

    def head(self, bucket: str, key: str) -> Callable[[], Any]:
        return functools.partial(head_one, self.s3, bucket, key)

    def copy(self, item: CopyItem) -> Callable[[], Any]:
        return functools.partial(copy_one, self.s3, item)

    def list_page(self, params: dict[str, Any]) -> Callable[[], Any]:
        return functools.partial(self.s3.list_objects_v2, **params)

    def call(self, operation: str, params: dict[str, Any]) -> Callable[[], Any]:
        return functools.partial(getattr(self.s3, xform_name(operation)), **params)
