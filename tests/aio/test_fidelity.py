"""Fidelity: the native transport answers as botocore does, through both front doors.

One table of calls (every parameter family: SSE, SSE-C, checksums, conditional headers,
metadata, tagging, ranges, versions, odd keys, empty bodies, and the body's semantics:
``read(n)``, ``iter_chunks``, ``async for``, ``close``; listings of odd keys by every
ListObjectsV2 parameter, and a paginator's pages) runs through two asyncio clients of the
same settings (asyncio, then sync) on two buckets of one name length: one whose object
operations go native, one
kept on botocore by a handler registered on ``s3.meta.events`` (as a caller's handler keeps it,
checked by the paths counted). Answers are compared field by field (``ResponseMetadata``
included, minus request ids, dates and version ids); errors by type, ``Error.Code``, HTTP
status and message. Against moto, and SeaweedFS and LocalStack where they start.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import hashlib
import io
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError

import resilient_s3.aio
from resilient_s3 import RetryPolicy

from ..conftest import every_get_native
from .test_differential import differences

pytest.importorskip("awscrt")
#: Needs the native transport itself (an awscrt it can run on: not the floor job's 0.23).
pytestmark = pytest.mark.native

Call = Callable[..., Awaitable[Any]]
_KEY = b"k" * 32
_SSE_C = {
    "SSECustomerAlgorithm": "AES256",
    "SSECustomerKey": _KEY,
}
_ODD = "odd key/ü ?&=+%~!'()*,;@$[]"
#: Keys a listing answers url-encoded (botocore asks ``encoding-type=url`` and decodes them).
#: Pages of two under ``dir/`` end on ASCII keys: LocalStack answers a continuation token of a
#: non-ASCII key with a 500 (both paths alike, but the CRT hands over no body of a 500 answer,
#: so the messages would differ: docs/asyncio.md).
_LISTED = ("dir/a b", "dir/ctl\x01\x1f\t end", "dir/pct%41", "dir/plus+sign", "dir/sub/x",
           "dir/sub/ü+%20", "dir/zz", "top%2Fslash")  # fmt: skip
_BODY = bytes(range(256)) * 5
#: A multipart upload's first part: the smallest S3 takes before the last.
_PART = bytes(range(256)) * 20480
#: What differs between any two runs of the same call.
_VOLATILE_HEADERS = frozenset(
    {"date", "x-amz-request-id", "x-amz-id-2", "x-amzn-requestid", "last-modified",
     "x-amz-version-id", "x-amz-copy-source-version-id", "seaweed-x-amz-version-id",
     "seaweed-x-amz-noncurrent-since-ns",
     # moto echoes the PUT's payload hash: over plain http botocore signs the payload, the
     # native transport sends UNSIGNED-PAYLOAD as botocore does over https (docs/asyncio.md)
     "x-amz-content-sha256"}
)  # fmt: skip
_VOLATILE_FIELDS = frozenset(
    {"RequestId", "HostId", "LastModified", "VersionId", "CopySourceVersionId", "UploadId",
     "Initiated"}
)  # fmt: skip


def keep_on_botocore(**_: Any) -> None:
    """A caller's handler: it keeps every call on botocore."""


async def script(call: Call, bucket: str, versioned: bool) -> list[tuple[Any, ...]]:
    """The table; each answer or error recorded."""
    out: list[tuple[Any, ...]] = []

    async def step(name: str, **params: Any) -> Any:
        try:
            answer = await call(name, **params)
        except ClientError as error:
            meta = error.response.get("ResponseMetadata", {})
            out.append((name, "error", type(error).__name__, error.response.get("Error", {}),
                        meta.get("HTTPStatusCode"), str(error)))  # fmt: skip
            return None
        except (BotoCoreError, ValueError) as error:  # refused before sending
            out.append((name, "refused", type(error).__name__, str(error)))
            return None
        out.append((name, "ok", answer))
        return answer

    put = await step("put_object", Bucket=bucket, Key="a.txt", Body=_BODY,
                     ContentType="text/plain", Metadata={"m": "1", "Other": "Two"},
                     Tagging="t=1&u=2", CacheControl="no-cache",
                     ContentDisposition="attachment", ContentLanguage="en")  # fmt: skip
    etag = put["ETag"]
    await step("put_object", Bucket=bucket, Key="meta", Body=b"m", Metadata={"m": "ü"})
    await step("put_object", Bucket=bucket, Key="empty", Body=b"")
    await step("put_object", Bucket=bucket, Key=_ODD, Body="odd text")
    await step("put_object", Bucket=bucket, Key="sha", Body=b"sha", ChecksumAlgorithm="SHA256")
    md5 = base64.b64encode(hashlib.md5(b"md5").digest()).decode()
    await step("put_object", Bucket=bucket, Key="md5", Body=b"md5", ContentMD5=md5)
    await step("put_object", Bucket=bucket, Key="md5", Body=b"other", ContentMD5=md5)
    await step("put_object", Bucket=bucket, Key="sse", Body=b"sse", ServerSideEncryption="AES256")
    await step("put_object", Bucket=bucket, Key="ssec", Body=b"secret", **_SSE_C)
    await step("put_object", Bucket=bucket, Key="a.txt", Body=b"x", IfNoneMatch="*")
    await step("head_object", Bucket=bucket, Key="a.txt")
    await step("head_object", Bucket=bucket, Key="sha", ChecksumMode="ENABLED")
    await step("head_object", Bucket=bucket, Key="ssec", **_SSE_C)
    await step("head_object", Bucket=bucket, Key="ssec")
    await step("head_object", Bucket=bucket, Key="a.txt", IfNoneMatch=etag)
    await step("head_object", Bucket=bucket, Key="never-written")
    await step("get_object", Bucket=bucket, Key="a.txt")
    await step("get_object", Bucket=bucket, Key="a.txt", Range="bytes=1-3")
    await step("get_object", Bucket=bucket, Key="a.txt", Range="bytes=-3")
    await step("get_object", Bucket=bucket, Key="a.txt", Range="bytes=5000-")
    await step("get_object", Bucket=bucket, Key="empty")
    await step("get_object", Bucket=bucket, Key=_ODD)
    await step("get_object", Bucket=bucket, Key="sha", ChecksumMode="ENABLED")
    await step("get_object", Bucket=bucket, Key="sse")
    await step("get_object", Bucket=bucket, Key="ssec", **_SSE_C)
    await step("get_object", Bucket=bucket, Key="ssec")
    await step("get_object", Bucket=bucket, Key="a.txt", ResponseContentType="x/y",
               ResponseCacheControl="max-age=1")  # fmt: skip
    await step("get_object", Bucket=bucket, Key="a.txt", IfMatch=etag)
    await step("get_object", Bucket=bucket, Key="a.txt", IfMatch='"0000"')
    await step("get_object", Bucket=bucket, Key="a.txt", IfNoneMatch=etag)
    future = datetime.datetime(2100, 1, 1, tzinfo=datetime.timezone.utc)
    await step("get_object", Bucket=bucket, Key="a.txt", IfModifiedSince=future)
    await step("get_object", Bucket=bucket, Key="never-written")
    await step("body", Bucket=bucket, Key="a.txt")
    await step("get_object_tagging", Bucket=bucket, Key="a.txt")
    await step("copy_object", Bucket=bucket, Key="b.txt",
               CopySource={"Bucket": bucket, "Key": "a.txt"})  # fmt: skip
    await step("copy_object", Bucket=bucket, Key="c.txt", MetadataDirective="REPLACE",
               Metadata={"n": "2"}, CopySource={"Bucket": bucket, "Key": _ODD})  # fmt: skip
    await step("copy_object", Bucket=bucket, Key="d.txt",
               CopySource={"Bucket": bucket, "Key": "never-written"})  # fmt: skip
    await step("delete_object", Bucket=bucket, Key="b.txt")
    await step("delete_object", Bucket=bucket, Key="never-written")
    await step("put_object", Bucket=bucket + "-x", Key="k", Body=b"x")
    await step("get_object", Bucket=bucket + "-x", Key="k")
    if versioned:
        first = await step("put_object", Bucket=bucket, Key="v", Body=b"one")
        await step("put_object", Bucket=bucket, Key="v", Body=b"two")
        await step("get_object", Bucket=bucket, Key="v", VersionId=first["VersionId"])
        await step("head_object", Bucket=bucket, Key="v", VersionId=first["VersionId"])
        await step("delete_object", Bucket=bucket, Key="v", VersionId=first["VersionId"])
        await step("delete_object", Bucket=bucket, Key="v")
        await step("get_object", Bucket=bucket, Key="v")
    await listings(step, bucket)
    await multipart(step, bucket)
    return out


async def multipart(step: Callable[..., Awaitable[Any]], bucket: str) -> None:
    """The multipart steps: Create (content headers, metadata, SSE, SSE-C, checksum algorithm),
    UploadPart (bytes and a file, checksums, a bad Content-MD5), ListParts (paged, of a missing
    upload), Complete (a wrong part, then right, with the parts' checksums), Abort (and of a
    missing upload)."""
    target = {"Bucket": bucket, "Key": "mp"}
    created = await step("create_multipart_upload", **target, ContentType="text/plain",
                         Metadata={"m": "1"}, ChecksumAlgorithm="CRC32")  # fmt: skip
    # Not an UploadPart of a missing upload: moto answers it with a bare 500, whose body the CRT
    # hands over to nobody (a known difference: docs/asyncio.md).
    await step("abort_multipart_upload", **target, UploadId="no-such-upload")
    await step("list_parts", **target, UploadId="no-such-upload")
    if created is None:
        return
    upload = {**target, "UploadId": created["UploadId"]}
    first = await step("upload_part", **upload, PartNumber=1, Body=_PART, ChecksumAlgorithm="CRC32")
    md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    await step("upload_part", **upload, PartNumber=2, Body=b"tail", ContentMD5=md5)
    last = await step("upload_part", **upload, PartNumber=2, Body=io.BytesIO(b"tail"),
                      ChecksumAlgorithm="CRC32")  # fmt: skip
    await step("list_parts", **upload)
    await step("list_parts", **upload, MaxParts=1)
    parts = [{"PartNumber": number, "ETag": answer["ETag"],
              **{k: v for k, v in answer.items() if k == "ChecksumCRC32"}}
             for number, answer in ((1, first), (2, last)) if answer]  # fmt: skip
    wrong = [{**parts[0], "ETag": '"0000"'}, *parts[1:]]
    await step("complete_multipart_upload", **upload, MultipartUpload={"Parts": wrong})
    await step("complete_multipart_upload", **upload, MultipartUpload={"Parts": parts})
    await step("head_object", **target)
    await step("get_object", **target)
    secret = await step("create_multipart_upload", Bucket=bucket, Key="mp-ssec", **_SSE_C)
    if secret is not None:
        upload = {"Bucket": bucket, "Key": "mp-ssec", "UploadId": secret["UploadId"]}
        part = await step("upload_part", **upload, PartNumber=1, Body=b"secret", **_SSE_C)
        if part is not None:
            done = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
            await step("complete_multipart_upload", **upload, **_SSE_C, MultipartUpload=done)
    dropped = await step("create_multipart_upload", Bucket=bucket, Key="mp-dropped",
                         ServerSideEncryption="AES256")  # fmt: skip
    if dropped is not None:
        upload = {"Bucket": bucket, "Key": "mp-dropped", "UploadId": dropped["UploadId"]}
        await step("upload_part", **upload, PartNumber=1, Body=b"gone")
        await step("abort_multipart_upload", **upload)
        await step("list_parts", **upload)


async def listings(step: Callable[..., Awaitable[Any]], bucket: str) -> None:
    """The ListObjectsV2 rows: odd keys (spaces, unicode, control characters, ``+``, ``%``)
    under every parameter family, a paginator's pages, an empty bucket, a missing one."""
    for key in _LISTED:
        await step("put_object", Bucket=bucket, Key=key, Body=b"l")
    await step("list_objects_v2", Bucket=bucket)
    await step("list_objects_v2", Bucket=bucket, Prefix="dir/")
    await step("list_objects_v2", Bucket=bucket, Delimiter="/")
    await step("list_objects_v2", Bucket=bucket, Prefix="dir/", Delimiter="/")
    await step("list_objects_v2", Bucket=bucket, StartAfter="dir/a b")
    await step("list_objects_v2", Bucket=bucket, StartAfter=_ODD, Prefix="o")
    await step("list_objects_v2", Bucket=bucket, FetchOwner=True, Prefix="dir/")
    await step("list_objects_v2", Bucket=bucket, EncodingType="url", Prefix="dir/")
    await step("list_objects_v2", Bucket=bucket, EncodingType="url", Delimiter="/")
    first = await step("list_objects_v2", Bucket=bucket, MaxKeys=2, Prefix="dir/")
    if first and first.get("NextContinuationToken"):
        await step("list_objects_v2", Bucket=bucket, MaxKeys=2, Prefix="dir/",
                   ContinuationToken=first["NextContinuationToken"])  # fmt: skip
    await step("list_objects_v2", Bucket=bucket, Prefix="nothing-here/")
    await step("list_objects_v2", Bucket=bucket + "-e")
    await step("list_objects_v2", Bucket=bucket + "-x")
    await step("pages", Bucket=bucket, Prefix="dir/", PaginationConfig={"PageSize": 2})
    await step("pages", Bucket=bucket, Prefix="dir/", Delimiter="/",
               PaginationConfig={"PageSize": 2})  # fmt: skip
    await step("pages", Bucket=bucket, Prefix="dir/", PaginationConfig={"MaxItems": 3})


def door_call(s3: Any) -> Call:
    """``s3.NAME(**params)`` awaited, a body read whole; ``body``: a GetObject whose body is
    read by ``read(n)``, ``iter_chunks``, ``async for`` and ``close``."""

    async def call(name: str, **params: Any) -> Any:
        if name == "body":
            return await body_semantics(s3, params)
        if name == "pages":
            paginator = s3.get_paginator("list_objects_v2")
            return [page async for page in paginator.paginate(**params)]
        answer = await getattr(s3, name)(**params)
        if "Body" in answer:
            answer["Body"] = await answer["Body"].read()
        return answer

    return call


async def body_semantics(s3: Any, params: dict[str, Any]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    body = (await s3.get_object(**params))["Body"]
    seen["read(n)"] = [await body.read(100), await body.read(1000), await body.read(5000)]
    seen["after end"] = await body.read(10)
    body.close()
    body = (await s3.get_object(**params))["Body"]
    seen["iter_chunks"] = [len(chunk) async for chunk in body.iter_chunks(300)]
    body = (await s3.get_object(**params))["Body"]
    seen["async for"] = len(b"".join([chunk async for chunk in body]))
    async with (await s3.get_object(**params))["Body"] as body:
        seen["read(7)"] = await body.read(7)
    seen["tell"] = body.tell()
    return seen


def normal(value: Any, bucket: str) -> Any:
    """``value`` without what differs between runs, the bucket's name replaced (a copy's XML
    answer holds a time whose digits vary on SeaweedFS, a multipart step's an upload id of no
    set length: their content-length is dropped)."""
    if isinstance(value, dict) and "ResponseMetadata" in value and (
        "CopyObjectResult" in value or "UploadId" in value
    ):
        metadata = value["ResponseMetadata"]
        headers = {k: v for k, v in metadata["HTTPHeaders"].items() if k != "content-length"}
        value = {**value, "ResponseMetadata": {**metadata, "HTTPHeaders": headers}}
    if isinstance(value, dict):
        return {
            key: normal(item, bucket)
            for key, item in value.items()
            if key not in _VOLATILE_FIELDS and str(key).lower() not in _VOLATILE_HEADERS
        }
    if isinstance(value, (list, tuple)):
        return [normal(item, bucket) for item in value]
    if isinstance(value, str):
        value = re.sub(r"<RequestId>.*?</RequestId>", "", value)
        return value.replace(bucket, "<bucket>")
    return value


def sync_door_call(s3: Any) -> Call:
    """:func:`door_call` for the sync door: ``body`` reads by ``read(n)``, ``iter_chunks``,
    iteration (lines) and ``close``."""

    async def call(name: str, **params: Any) -> Any:
        if name == "body":
            return sync_body_semantics(s3, params)
        if name == "pages":
            return list(s3.get_paginator("list_objects_v2").paginate(**params))
        answer = getattr(s3, name)(**params)
        if "Body" in answer:
            answer["Body"] = answer["Body"].read()
        return answer

    return call


def sync_body_semantics(s3: Any, params: dict[str, Any]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    body = s3.get_object(**params)["Body"]
    seen["read(n)"] = [body.read(100), body.read(1000), body.read(5000)]
    seen["after end"] = body.read(10)
    body.close()
    body = s3.get_object(**params)["Body"]
    seen["iter_chunks"] = [len(chunk) for chunk in body.iter_chunks(300)]
    body = s3.get_object(**params)["Body"]
    seen["iter_lines"] = len(list(body.iter_lines()))
    with s3.get_object(**params)["Body"] as body:
        seen["read(7)"] = body.read(7)
    seen["tell"] = body.tell()
    return seen


@pytest.fixture(autouse=True)
def every_get_small(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every GetObject of the table is small: each goes native."""
    every_get_native(monkeypatch)


async def both(
    kwargs: dict[str, Any], buckets: tuple[str, str], versioned: bool, door: str = "aio"
) -> Any:
    """The table through a native client and a botocore one of ``door`` (``"aio"`` or
    ``"sync"``): their records and paths."""
    records, paths = [], []
    for bucket, native in zip(buckets, (True, False), strict=True):
        if door == "sync":
            with resilient_s3.client("s3", **kwargs) as s3:
                if not native:
                    s3.meta.events.register("before-send.s3", keep_on_botocore)
                records.append(await script(sync_door_call(s3), bucket, versioned))
                paths.append(s3.stats.paths)
            continue
        async with resilient_s3.aio.client("s3", **kwargs) as as3:
            if not native:
                as3.meta.events.register("before-send.s3", keep_on_botocore)
            records.append(await script(door_call(as3), bucket, versioned))
            paths.append(as3.stats.paths)
    return records[0], records[1], paths[0], paths[1]


def compare(ours: list[Any], theirs: list[Any], buckets: tuple[str, str]) -> list[str]:
    assert len(ours) == len(theirs)
    found = []
    for left, right in zip(ours, theirs, strict=True):
        found += [f"{left[0]}: {d}" for d in
                  differences(normal(left, buckets[0]), normal(right, buckets[1]))]  # fmt: skip
    return found


def check_table(server: Any, admin: Any, policy: RetryPolicy, door: str, suffix: str) -> None:
    """The table on two versioned buckets of ``server`` (made by ``admin``), compared."""
    buckets = (f"fid-native-{suffix}", f"fid-botoco-{suffix}")
    for bucket in buckets:
        admin.create_bucket(Bucket=bucket + "-e")  # stays empty
        admin.create_bucket(Bucket=bucket)
        admin.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    kwargs = {"retry": policy, "verify_writes": False, **server.client_kwargs()}
    ours, theirs, native_paths, plain_paths = asyncio.run(both(kwargs, buckets, True, door))
    assert plain_paths.get("crt", 0) == 0
    assert native_paths["crt"] >= 50, native_paths
    found = compare(ours, theirs, buckets)
    pages = next(record for record in ours if record[0] == "pages")
    assert pages[1] == "ok", pages
    assert len(pages[2]) >= 3, pages  # a listing of several pages
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("door", ["aio", "sync"])
def test_native_answers_as_botocore_on_moto(
    s3_server: Any, s3_server_client: Any, quick_policy: RetryPolicy, door: str
) -> None:
    check_table(s3_server, s3_server_client, quick_policy, door, door)


@pytest.mark.parametrize("door", ["aio", "sync"])
def test_native_answers_as_botocore_on_real_servers(
    real_s3_server: Any, real_s3_server_client: Any, quick_policy: RetryPolicy, door: str
) -> None:
    suffix = uuid.uuid4().hex[:8]
    check_table(real_s3_server, real_s3_server_client, quick_policy, door, suffix)
