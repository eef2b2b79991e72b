"""Differential test: the sync door and the asyncio door answer one table of calls alike.

One script of calls (puts with metadata, empty and odd keys, heads, gets whole and ranged,
copy, listing pages and a paginator, the multipart steps, deletes, presigning, and errors:
NoSuchKey, a 404 HEAD, NoSuchBucket, AccessDenied from the fault proxy) runs through
``resilient_s3.client`` on one bucket and ``resilient_s3.aio.client`` on another, through the
same fault proxy in front of moto. Every answer and error is compared field by field, minus
what differs between any two runs (request ids, dates, upload ids, signatures) and the bucket's
name.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from botocore.exceptions import ClientError

import resilient_s3
import resilient_s3.aio
from resilient_s3 import RetryPolicy
from resilient_s3.testing import Fault, FaultKind

Call = Callable[..., Awaitable[Any]]
_PART = 5 * 1024 * 1024
#: Fields that differ between any two runs of the same call.
_VOLATILE_HEADERS = frozenset(
    {"date", "x-amz-request-id", "x-amz-id-2", "x-amzn-requestid", "last-modified",
     # moto echoes the PUT's payload hash: over plain http botocore signs the payload, the
     # native transport (the asyncio door's object operations) sends UNSIGNED-PAYLOAD
     "x-amz-content-sha256"}
)  # fmt: skip
_VOLATILE_FIELDS = frozenset({"RequestId", "HostId", "LastModified", "UploadId", "Initiated"})
_VOLATILE_QUERY = frozenset({"Signature", "Expires", "X-Amz-Date", "X-Amz-Signature"})


async def script(call: Call, bucket: str, proxy: Any) -> list[tuple[Any, ...]]:
    """The table of calls, each answer or error recorded."""
    out: list[tuple[Any, ...]] = []

    async def step(name: str, **params: Any) -> Any:
        try:
            answer = await call(name, **params)
        except ClientError as error:
            out.append((name, "error", type(error).__name__, str(error), error.response))
            return None
        out.append((name, "ok", answer))
        return answer

    await step("put_object", Bucket=bucket, Key="a.txt", Body=b"hello world",
               ContentType="text/plain", Metadata={"m": "1"}, Tagging="t=1")  # fmt: skip
    await step("put_object", Bucket=bucket, Key="empty", Body=b"")
    await step("put_object", Bucket=bucket, Key="odd key/ü ?&=+%", Body=b"odd")
    await step("head_object", Bucket=bucket, Key="a.txt")
    await step("get_object", Bucket=bucket, Key="a.txt")
    await step("get_object", Bucket=bucket, Key="a.txt", Range="bytes=1-3")
    await step("get_object", Bucket=bucket, Key="empty")
    await step("get_object", Bucket=bucket, Key="odd key/ü ?&=+%")
    await step("get_object_tagging", Bucket=bucket, Key="a.txt")
    await step("copy_object", Bucket=bucket, Key="b.txt",
               CopySource={"Bucket": bucket, "Key": "a.txt"})  # fmt: skip
    await step("list_objects_v2", Bucket=bucket, MaxKeys=2)
    await step("pages", Operation="list_objects_v2", Bucket=bucket,
               PaginationConfig={"PageSize": 2})  # fmt: skip
    created = await step("create_multipart_upload", Bucket=bucket, Key="mp")
    upload = created["UploadId"]
    parts = []
    for number, data in ((1, b"x" * _PART), (2, b"tail")):
        answer = await step("upload_part", Bucket=bucket, Key="mp", UploadId=upload,
                            PartNumber=number, Body=data)  # fmt: skip
        parts.append({"ETag": answer["ETag"], "PartNumber": number})
    await step("list_parts", Bucket=bucket, Key="mp", UploadId=upload)
    await step("complete_multipart_upload", Bucket=bucket, Key="mp", UploadId=upload,
               MultipartUpload={"Parts": parts})  # fmt: skip
    await step("head_object", Bucket=bucket, Key="mp")
    await step("generate_presigned_url", ClientMethod="get_object",
               Params={"Bucket": bucket, "Key": "a.txt"})  # fmt: skip
    await step("get_object", Bucket=bucket, Key="never-written")
    await step("head_object", Bucket=bucket, Key="never-written")
    await step("put_object", Bucket=bucket + "-absent", Key="k", Body=b"x")
    proxy.set_faults([Fault(FaultKind.ACCESS_DENIED, rate=1.0, limit=1,
                            operations=frozenset({"GetObject"}))])  # fmt: skip
    await step("get_object", Bucket=bucket, Key="a.txt")
    await step("delete_object", Bucket=bucket, Key="b.txt")
    objects = [{"Key": "a.txt"}, {"Key": "empty"}, {"Key": "nope"}]
    await step("delete_objects", Bucket=bucket, Delete={"Objects": objects})
    await step("list_objects_v2", Bucket=bucket)
    return out


def sync_call(s3: Any) -> Call:
    async def call(name: str, **params: Any) -> Any:
        if name == "pages":
            paginator = s3.get_paginator(params.pop("Operation"))
            return list(paginator.paginate(**params))
        answer = getattr(s3, name)(**params)
        if isinstance(answer, dict) and "Body" in answer:
            answer["Body"] = answer["Body"].read()
        return answer

    return call


def aio_call(s3: Any) -> Call:
    async def call(name: str, **params: Any) -> Any:
        if name == "pages":
            paginator = s3.get_paginator(params.pop("Operation"))
            return [page async for page in paginator.paginate(**params)]
        answer = await getattr(s3, name)(**params)
        if isinstance(answer, dict) and "Body" in answer:
            answer["Body"] = await answer["Body"].read()
        return answer

    return call


def normal(value: Any, bucket: str) -> Any:
    """``value`` with the bucket's name replaced and what differs between runs dropped (an
    answer that holds an upload id, whose length varies, loses its content-length too)."""
    if isinstance(value, dict):
        volatile = _VOLATILE_HEADERS | ({"content-length"} if "UploadId" in value else set())
        return {
            key: normal(item, bucket) if key != "ResponseMetadata" else _metadata(item, volatile)
            for key, item in value.items()
            if key not in _VOLATILE_FIELDS and str(key).lower() not in _VOLATILE_HEADERS
        }
    if isinstance(value, (list, tuple)):
        return [normal(item, bucket) for item in value]
    if isinstance(value, str):
        if value.startswith("http"):
            parts = urlsplit(value)
            query = sorted((k, v) for k, v in parse_qsl(parts.query) if k not in _VOLATILE_QUERY)
            value = f"{parts.path} {query}"
        value = re.sub(r"[0-9a-zA-Z_-]{20,}==?\b", "<id>", value)  # upload ids in messages
        return value.replace(bucket, "<bucket>")
    return value


def test_both_doors_answer_the_table_alike(
    fault_proxy: Any, s3_server_client: Any, quick_policy: RetryPolicy
) -> None:
    buckets = ("diff-bucket-sync", "diff-bucket-asio")  # one length: one content-length
    for bucket in buckets:
        s3_server_client.create_bucket(Bucket=bucket)
    kwargs = {"retry": quick_policy, **fault_proxy.client_kwargs()}
    with resilient_s3.client("s3", **kwargs) as sync:
        sync_out = asyncio.run(script(sync_call(sync), buckets[0], fault_proxy))

    async def aio_run() -> list[tuple[Any, ...]]:
        async with resilient_s3.aio.client("s3", **kwargs) as s3:
            return await script(aio_call(s3), buckets[1], fault_proxy)

    aio_out = asyncio.run(aio_run())
    assert len(sync_out) == len(aio_out) == 26
    kinds = [entry[1] for entry in sync_out]
    assert kinds.count("error") == 4  # NoSuchKey, a 404 HEAD, NoSuchBucket, AccessDenied
    for ours, theirs in zip(sync_out, aio_out, strict=True):
        left, right = normal(ours, buckets[0]), normal(theirs, buckets[1])
        assert differences(left, right) == [], ours[0]


def _metadata(metadata: dict[str, Any], volatile: set[str] | frozenset[str]) -> Any:
    headers = {k: v for k, v in metadata.get("HTTPHeaders", {}).items() if k not in volatile}
    kept = {k: v for k, v in metadata.items() if k not in _VOLATILE_FIELDS}
    return {**kept, "HTTPHeaders": headers}


def differences(left: Any, right: Any, path: str = "") -> list[str]:
    """The paths of the fields where ``left`` and ``right`` differ, with both values."""
    if isinstance(left, dict) and isinstance(right, dict):
        found = []
        for key in sorted(set(left) | set(right), key=str):
            found += differences(
                left.get(key, "<absent>"), right.get(key, "<absent>"), f"{path}.{key}"
            )
        return found
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        return [
            d
            for i, (a, b) in enumerate(zip(left, right, strict=True))
            for d in differences(a, b, f"{path}[{i}]")
        ]
    return [] if left == right else [f"{path}: {left!r} != {right!r}"]


def test_the_comparison_can_fail() -> None:
    """The normalization keeps what matters: another body, status or code is a difference."""
    answer = {"Body": b"a", "ResponseMetadata": {"HTTPStatusCode": 200, "RequestId": "x"}}
    other = {"Body": b"b", "ResponseMetadata": {"HTTPStatusCode": 200, "RequestId": "y"}}
    assert differences(normal(answer, "b1"), normal(other, "b2")) == [".Body: b'a' != b'b'"]
    assert differences(normal({**answer, "Body": b"b"}, "b1"), normal(other, "b2")) == []
