"""Large bodies on the CRT plane: the CRT's own multipart upload, retried whole by our retrier.

A body of ``multipart_threshold`` bytes or more is sent as one ``PUT_OBJECT`` meta request with
the batch's ``part_size`` and ``multipart_upload_threshold``: the CRT creates the upload, sends
the parts in parallel (a file by path read natively, ``send_filepath``) and completes it. Its
retries are off, so a part that fails fails the whole request, and the CRT then aborts the
upload itself (AbortMultipartUpload; checked against moto and SeaweedFS, as on cancellation:
a cancelled task cancels the CRT request, which aborts). Our retrier then sends the whole object
again, as a new upload: the multipart steps are not idempotent one by one, the whole is.

A lost CompleteMultipartUpload answer (the object stored, the answer never came) is a network
failure after send: the object is uploaded again in full (the same parts give the same
``"<md5>-N"`` ETag), and list verification compares the size and the ETag of the last answer,
the multipart ETag the listing shows too.

Extra arguments go where botocore's multipart steps take them: the CRT copies the
PutObject request's headers (``ContentType``, ``Metadata``, SSE, ``Tagging``, ``ACL``...) to
CreateMultipartUpload, the SSE-C headers to each part, ``IfNoneMatch`` to the Complete (a 412
aborts the upload). Checksums: each part's CRC32 (or the ``ChecksumAlgorithm`` asked) in a header
(never ``aws-chunked``, see ``checksums.py``), computed by the CRT; none when the client says
``request_checksum_calculation="when_required"``. A body given with a whole-object checksum value
(``ChecksumCRC32=...``) goes through the botocore plane (:func:`crt_serves`).

Every step counts as a request, as on the botocore plane: the tokens of the parts and of the
Create and Complete are taken before the upload (the CRT sends them on its own); its Abort is
not counted. The answer's fields are the PutObject fields of the CRT's final headers (``ETag``,
``VersionId``, SSE); the Complete's XML body (its composite checksum) is not handed over.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from awscrt import s3 as crt_s3

from ...batch._inputs.items import PutItem
from ...batch._pacing.pacer import BatchCancelled, Pacer
from ...batch._planes.base import Multipart
from ...batch._report.report import ItemResult
from .checksums import CHECKSUM_VALUES
from .headers import fields_of

if TYPE_CHECKING:
    from .bridge import Answer
    from .transport import CrtOps

__all__ = ["crt_serves", "put_multipart"]

_ALGORITHMS = {
    name: crt_s3.S3ChecksumAlgorithm[name]
    for name in ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
}
#: Seconds between two looks at the batch's cancellation during an upload.
_CANCEL_POLL = 0.05


def crt_serves(item: PutItem) -> bool:
    """Whether the CRT's multipart upload can send ``item`` (else the botocore plane's does)."""
    algorithm = item.extra_args.get("ChecksumAlgorithm")
    known = algorithm is None or str(algorithm).upper() in _ALGORITHMS
    return known and not CHECKSUM_VALUES & item.extra_args.keys()


async def put_multipart(
    ops: CrtOps, bucket: str, item: PutItem, position: int | None, multipart: Multipart
) -> ItemResult:
    """Upload ``item`` (at least ``multipart.threshold`` bytes) as a CRT multipart upload."""
    from .transport import _open_body

    params = {**item.extra_args, "Bucket": bucket, "Key": item.key}
    algorithm = params.pop("ChecksumAlgorithm", None)  # the CRT's checksum_config says it
    checksum = None
    if algorithm is not None or ops._checksums:
        checksum = crt_s3.S3ChecksumConfig(
            algorithm=_ALGORITHMS[str(algorithm or "CRC32").upper()],
            location=crt_s3.S3ChecksumLocation.HEADER,
        )
    body: Any = item.body.encode() if isinstance(item.body, str) else item.body
    size: int | None = None

    async def attempt() -> dict[str, Any]:
        nonlocal size
        stream, length, path = _open_body(body, position)
        size = length
        extra = {"send_filepath": path} if path is not None else {}
        steps = -(-length // multipart.part_size) + 1 if length > multipart.threshold else 0
        for _ in range(steps):  # the parts and the Create; _send takes the Complete's
            await ops.context.before_request_async("UploadPart", 0)
        send = ops._send(
            "PutObject", params, stream, length, None,
            request_type=crt_s3.S3RequestType.PUT_OBJECT, checksum_config=checksum,
            part_size=multipart.part_size, multipart_upload_threshold=multipart.threshold,
            **extra,
        )  # fmt: skip
        answer = await _unless_cancelled(send, ops.context.pacer)
        for _ in range(steps):
            ops.context.answered(answer.status, "")
        return fields_of(ops._inner, "PutObject").parse(answer.status, answer.headers)

    response = await ops.retrier.acall("PutObject", bucket, item.key, attempt)
    ops._recent.wrote(bucket, item.key)
    return ItemResult.of(bucket, item.key, size, response)


async def _unless_cancelled(send: Awaitable[Answer], pacer: Pacer) -> Answer:
    """Await ``send``, cancelled as soon as the batch is (the CRT then aborts the upload): an
    upload is many requests, which a cancelled batch does not wait for (the botocore plane
    stops between two parts); raises ``BatchCancelled`` then."""
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
