"""Upload integrity headers the caller gives are sent on both planes: a ``ContentMD5`` reaches
the server (SeaweedFS checks it: a wrong one is ``BadDigest``), and a body large enough for a
multipart upload, whose parts cannot carry the whole body's MD5, is checked against it before
the upload completes."""

from __future__ import annotations

import base64
import hashlib
import random
from typing import Any, Literal

import pytest
from botocore.exceptions import ClientError

from resilient_s3 import ErrorKind, RetryPolicy
from resilient_s3.testing import FaultProxy

from .conftest import Place, stored

PLANES: list[Literal["botocore", "crt"]] = ["botocore", "crt"]
WRONG = base64.b64encode(hashlib.md5(b"another body", usedforsecurity=False).digest()).decode()
MiB = 1024 * 1024


def _md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()


@pytest.mark.parametrize("plane", PLANES)
def test_a_content_md5_is_sent(
    rs3: Any, fault_proxy: FaultProxy, s3_bucket: str, plane: Literal["botocore", "crt"]
) -> None:
    fault_proxy.record_requests(("Content-MD5",))

    put = rs3.batch.put(
        s3_bucket, [("k", b"hello", {"ContentMD5": _md5(b"hello")})], data_plane=plane
    )

    assert put.ok, put.summary()
    (sent,) = [r for r in fault_proxy.requests if r.operation == "PutObject"]
    assert sent.headers == {"content-md5": _md5(b"hello")}  # was dropped on the native plane


@pytest.mark.parametrize("plane", PLANES)
@pytest.mark.parametrize("size", [5, 6 * MiB], ids=["one request", "multipart"])
def test_a_wrong_content_md5_is_bad_digest(
    place: Place, quick_policy: RetryPolicy, plane: Literal["botocore", "crt"], size: int,
    request: pytest.FixtureRequest,
) -> None:  # fmt: skip
    if size == 5 and "moto" in request.node.callspec.id:
        pytest.skip("moto does not check a Content-MD5")
    body = random.Random(size).randbytes(size)
    s3 = place.client(quick_policy)

    put = s3.batch.put(
        place.bucket, [("k", body, {"ContentMD5": WRONG})], data_plane=plane,
        multipart_threshold=5 * MiB, part_size=5 * MiB,
    )  # fmt: skip
    right = s3.batch.put(
        place.bucket, [("r", body, {"ContentMD5": _md5(body)})], data_plane=plane,
        multipart_threshold=5 * MiB, part_size=5 * MiB,
    )  # fmt: skip

    (failure,) = put.failed
    assert isinstance(failure.error, ClientError)
    assert failure.error.response["Error"]["Code"] == "BadDigest"
    assert failure.kind is ErrorKind.PERMANENT
    assert right.ok, right.summary()
    assert stored(place.direct, place.bucket) == {"r": size}  # nothing stored under k
    uploads = place.direct.list_multipart_uploads(Bucket=place.bucket).get("Uploads", [])
    assert uploads == []  # the multipart upload was aborted
