"""The CRT plane's multipart uploads (the CRT's own PUT_OBJECT, retries ours), on moto and
SeaweedFS behind the fault proxy: parts with their checksums, a failed part aborted by the CRT
and the object sent again, a lost Complete sent again and verified by listing, a cancelled batch
leaving no open upload."""

from __future__ import annotations

import asyncio
import contextlib
import io
import random
import time
from pathlib import Path
from typing import Any

import pytest

from resilient_s3 import RetryPolicy
from resilient_s3.testing import Fault, FaultKind

from .conftest import Place

pytestmark = pytest.mark.native

MIB = 1024 * 1024
PARTS = {"multipart_threshold": 5 * MIB, "part_size": 5 * MIB}


def _open_uploads(place: Place, bound: float = 10.0) -> list[Any]:
    """The bucket's open multipart uploads once none is left, or after ``bound`` s."""
    ends = time.monotonic() + bound
    while True:
        uploads: list[Any] = place.direct.list_multipart_uploads(Bucket=place.bucket).get(
            "Uploads", []
        )
        if not uploads or time.monotonic() > ends:
            return uploads
        time.sleep(0.1)


def _operations(place: Place) -> list[str]:
    return [r.operation for r in place.proxy.requests]


def test_large_bodies_go_up_as_the_crts_multipart_upload_with_part_checksums(
    place: Place, quick_policy: RetryPolicy, tmp_path: Path
) -> None:
    rng = random.Random(1)
    data = {name: rng.randbytes(12 * MIB) for name in ("bytes", "path", "file")}
    (tmp_path / "body").write_bytes(data["path"])
    middle = io.BytesIO(b"skipped" + data["file"])
    middle.seek(7)
    typed = {"ContentType": "text/x-big"}
    items = [("bytes", data["bytes"], typed), ("path", tmp_path / "body", typed),
             ("file", middle, typed)]  # fmt: skip
    s3 = place.client(quick_policy)
    place.proxy.record_requests(("x-amz-checksum-crc32", "content-type"))

    put = s3.batch.put(place.bucket, items, keep_results=True, data_plane="crt", **PARTS)

    assert put.ok, put.summary()
    assert put.stats.verified == 3  # listed with the multipart ETag the Complete answered
    assert all(r.etag is not None and r.etag.endswith('-3"') for r in put.results)
    for key, body in data.items():
        stored = place.direct.get_object(Bucket=place.bucket, Key=key)
        assert stored["Body"].read() == body
        assert stored["ContentType"] == "text/x-big"
    parts = [r for r in place.proxy.requests if r.operation == "UploadPart"]
    assert len(parts) == 9
    assert all(r.headers.get("x-amz-checksum-crc32") for r in parts)  # in a header, per part
    assert _operations(place).count("CreateMultipartUpload") == 3
    assert _operations(place).count("CompleteMultipartUpload") == 3
    assert put.stats.requests == place.proxy.counters["requests"]  # every step counted


def test_a_failed_part_aborts_the_upload_and_the_object_is_sent_again(
    place: Place, quick_policy: RetryPolicy
) -> None:
    body = random.Random(2).randbytes(12 * MIB)
    s3 = place.client(quick_policy)
    place.proxy.set_faults(
        [Fault(FaultKind.RESET_BEFORE, after=1, limit=1, operations=frozenset({"UploadPart"}))]
    )
    place.proxy.record_requests(())

    put = s3.batch.put(place.bucket, {"big": body}, data_plane="crt", **PARTS)

    assert put.ok, put.summary()
    assert put.stats.retries == {"network_after_send": 1}
    operations = _operations(place)
    first_abort = operations.index("AbortMultipartUpload")  # the CRT aborted the broken upload
    assert "CreateMultipartUpload" in operations[first_abort:]  # then a new one, whole
    assert operations.count("CompleteMultipartUpload") == 1
    assert place.direct.get_object(Bucket=place.bucket, Key="big")["Body"].read() == body
    assert _open_uploads(place) == []


def test_a_lost_complete_is_sent_again_and_verified_by_listing(
    place: Place, quick_policy: RetryPolicy
) -> None:
    body = random.Random(3).randbytes(12 * MIB)
    s3 = place.client(quick_policy)
    lost = Fault(FaultKind.RESET_AFTER, limit=1, operations=frozenset({"CompleteMultipartUpload"}))
    place.proxy.set_faults([lost])
    place.proxy.record_requests(())

    put = s3.batch.put(place.bucket, {"big": body}, keep_results=True, data_plane="crt", **PARTS)

    assert put.ok, put.summary()
    assert put.stats.verified == 1
    assert put.stats.retries == {"network_after_send": 1}
    assert _operations(place).count("CompleteMultipartUpload") == 2
    (result,) = put.results
    listed = place.direct.list_objects_v2(Bucket=place.bucket)["Contents"]
    assert [(o["Key"], o["Size"], o["ETag"]) for o in listed] == [("big", len(body), result.etag)]
    assert _open_uploads(place) == []


def test_a_cancelled_batch_leaves_no_open_multipart_upload(
    place: Place, quick_policy: RetryPolicy
) -> None:
    body = random.Random(4).randbytes(20 * MIB)
    s3 = place.client(quick_policy)
    slow = Fault(FaultKind.LATENCY, seconds=2.0, operations=frozenset({"UploadPart"}))
    place.proxy.set_faults([slow])

    async def main() -> None:
        task = asyncio.create_task(
            s3.batch.put_async(place.bucket, {"big": body}, data_plane="crt", **PARTS)
        )
        ends = time.monotonic() + 10.0
        while place.proxy.counters["op:UploadPart"] == 0 and time.monotonic() < ends:
            await asyncio.sleep(0.02)  # the upload is under way
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())

    counters = place.proxy.counters
    assert counters["op:CreateMultipartUpload"] == 1
    assert counters["op:UploadPart"] > 0
    assert _open_uploads(place) == []  # the CRT aborted it
    assert counters["op:CompleteMultipartUpload"] == 0
    assert "Contents" not in place.direct.list_objects_v2(Bucket=place.bucket)
