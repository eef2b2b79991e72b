"""Request fidelity: PutObject/CopyObject extra args reach the server as botocore sends them, on
a real server (moto, and SeaweedFS / LocalStack when installed). The same item is put through
each data plane and what the server then holds is compared field by field."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

import resilient_s3
from resilient_s3.batch import PutItem

if TYPE_CHECKING:
    from resilient_s3.testing._process import ManagedServer

#: extra_args -> what HeadObject / GetObjectTagging answer for them (fields compared).
CASES: list[tuple[str, dict[str, Any]]] = [
    ("content-type", {"ContentType": "text/csv; charset=utf-8"}),
    ("metadata", {"Metadata": {"owner": "team-a", "run": "42"}}),
    ("cache-and-disposition", {"CacheControl": "max-age=60", "ContentDisposition": "inline"}),
    ("content-encoding-language", {"ContentEncoding": "identity", "ContentLanguage": "en"}),
    ("sse-s3", {"ServerSideEncryption": "AES256"}),
    ("tagging", {"Tagging": "project=x&stage=test"}),
    ("checksum-sha256", {"ChecksumAlgorithm": "SHA256"}),
    ("checksum-crc32c", {"ChecksumAlgorithm": "CRC32C"}),
    ("acl", {"ACL": "private"}),
    ("storage-class", {"StorageClass": "STANDARD"}),
]
_HEAD_FIELDS = (
    "ContentType", "Metadata", "CacheControl", "ContentDisposition", "ContentEncoding",
    "ContentLanguage", "ServerSideEncryption", "ContentLength", "ETag",
)  # fmt: skip


def _held(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    held = {f: head.get(f) for f in _HEAD_FIELDS}
    held.update({k: v for k, v in head.items() if k.startswith("Checksum") and k != "ChecksumType"})
    try:
        tags = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
        held["Tags"] = sorted((t["Key"], t["Value"]) for t in tags)
    except s3.exceptions.ClientError:
        held["Tags"] = "unsupported"
    return held


def _compare(s3: Any, bucket: str, name: str, extra: dict[str, Any]) -> None:
    body = b"fidelity " * 100
    reports = {}
    for plane in ("crt", "botocore"):
        item = PutItem(f"{plane}/{name}", body, extra)
        reports[plane] = s3.batch.put(bucket, [item], data_plane=plane)
    for plane, report in reports.items():
        assert report.ok, (plane, report.summary())
        assert report.stats.plane == plane
    crt, boto = (_held(s3, bucket, f"{plane}/{name}") for plane in ("crt", "botocore"))
    assert crt == boto


@pytest.mark.native
@pytest.mark.parametrize(("name", "extra"), CASES, ids=[c[0] for c in CASES])
def test_extra_args_reach_moto_as_botocore_sends_them(
    rs3: Any, s3_bucket: str, name: str, extra: dict[str, Any]
) -> None:
    _compare(rs3, s3_bucket, name, extra)


@pytest.mark.native
def test_extra_args_reach_a_real_server_as_botocore_sends_them(
    real_s3_server: ManagedServer, real_s3_bucket: str
) -> None:
    with resilient_s3.client("s3", **real_s3_server.client_kwargs()) as s3:
        for name, extra in CASES:
            _compare(s3, real_s3_bucket, name, extra)


@pytest.mark.native
def test_copy_extra_args_reach_the_server_as_botocore_sends_them(rs3: Any, s3_bucket: str) -> None:
    assert rs3.batch.put(s3_bucket, {"src": b"source"}).ok
    extra = {"MetadataDirective": "REPLACE", "Metadata": {"copied": "yes"},
             "ContentType": "application/x-copy"}  # fmt: skip
    for plane in ("crt", "botocore"):
        copy = rs3.batch.copy(
            [(s3_bucket, "src", s3_bucket, f"copy-{plane}", extra)], data_plane=plane
        )
        assert copy.ok, copy.summary()
    crt, boto = (_held(rs3, s3_bucket, f"copy-{plane}") for plane in ("crt", "botocore"))
    assert crt == boto
    assert crt["Metadata"] == {"copied": "yes"}
