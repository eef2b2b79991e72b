"""The facade's fault suite on the asyncio door: a real moto server, faults from the project's
proxy, attempts read from the proxy's counters, retry waits recorded by an injected sleep."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import exceptions as bce

import resilient_s3
from resilient_s3 import (
    Backoff,
    ErrorKind,
    RetryPolicy,
    UnreplayableBodyError,
    VerificationError,
    VerifyPolicy,
)
from resilient_s3._bodies.resumable import AsyncResumableBody
from resilient_s3.testing import Fault, FaultKind

from ..bodies.test_request import Pipe
from ..conftest import FakeTime
from .conftest import aio_client, run

#: The fault suite runs on both transports of the front doors (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("door_transport")


def only(kind: FaultKind, operation: str, limit: int | None = None) -> Fault:
    return Fault(kind, rate=1.0, limit=limit, operations=frozenset({operation}))


@pytest.fixture
def stepped_policy(fake_time: FakeTime) -> RetryPolicy:
    """Full-size jitter on a fake clock: waits are real numbers, never slept."""
    return RetryPolicy(sleep=fake_time.sleep, clock=fake_time.clock, random=lambda: 1.0)


@pytest.mark.parametrize(
    ("kind", "expected_kind"),
    [
        (FaultKind.RESET_BEFORE, ErrorKind.NETWORK_AFTER_SEND),
        (FaultKind.RESET_AFTER, ErrorKind.NETWORK_AFTER_SEND),
        (FaultKind.SLOWDOWN, ErrorKind.THROTTLED),
        (FaultKind.INTERNAL_ERROR, ErrorKind.SERVER),
    ],
)
def test_each_transient_fault_is_retried_until_success(
    fault_proxy: Any,
    s3_bucket: str,
    s3_server_client: Any,
    quick_policy: RetryPolicy,
    kind: FaultKind,
    expected_kind: ErrorKind,
) -> None:
    fault_proxy.set_faults([only(kind, "PutObject", limit=2)])

    async def main(s3: Any) -> Any:
        await s3.put_object(Bucket=s3_bucket, Key="k", Body=b"payload")
        return s3.stats

    stats = run(aio_client(fault_proxy, quick_policy), main)
    assert fault_proxy.counters[kind.value] == 2
    assert fault_proxy.counters["op:PutObject"] == 3
    assert stats.retries == {expected_kind.value: 2}
    assert s3_server_client.get_object(Bucket=s3_bucket, Key="k")["Body"].read() == b"payload"


def test_throttling_stops_at_the_kind_limit_with_the_waits_of_the_policy(
    fault_proxy: Any, s3_bucket: str, fake_time: FakeTime
) -> None:
    policy = RetryPolicy(
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        random=lambda: 1.0,
        throttled=Backoff(max_attempts=4, base=0.5, cap=10.0),
    )
    fault_proxy.set_faults([only(FaultKind.SLOWDOWN, "PutObject")])

    async def main(s3: Any) -> Any:
        with pytest.raises(bce.ClientError) as caught:
            await s3.put_object(Bucket=s3_bucket, Key="k", Body=b"x")
        return caught.value, s3.stats

    error, stats = run(aio_client(fault_proxy, policy), main)
    assert error.response["Error"]["Code"] == "SlowDown"
    assert fault_proxy.counters["op:PutObject"] == 4
    assert fake_time.sleeps == [0.5, 1.0, 2.0]  # injected: nothing slept for real
    assert error.resilient_s3_kinds == (ErrorKind.THROTTLED,) * 4
    assert f"s3://{s3_bucket}/k" in " ".join(getattr(error, "__notes__", []))
    assert stats.give_ups == 1


@pytest.mark.parametrize(
    ("fault", "code"),
    [(only(FaultKind.ACCESS_DENIED, "PutObject"), "AccessDenied"), (None, "NoSuchBucket")],
)
def test_permanent_errors_are_tried_exactly_once_and_name_the_object(
    fault_proxy: Any,
    s3_bucket: str,
    quick_policy: RetryPolicy,
    fake_time: FakeTime,
    fault: Fault | None,
    code: str,
) -> None:
    bucket = s3_bucket if fault is not None else "no-such-bucket-here"
    if fault is not None:
        fault_proxy.set_faults([fault])

    async def main(s3: Any) -> bce.ClientError:
        with pytest.raises(bce.ClientError) as caught:
            await s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        return caught.value

    error = run(aio_client(fault_proxy, quick_policy), main)
    assert error.response["Error"]["Code"] == code
    assert f"s3://{bucket}/k" in " ".join(getattr(error, "__notes__", []))
    assert fault_proxy.counters["op:PutObject"] == 1
    assert fake_time.sleeps == []


def test_a_404_on_a_key_this_client_did_not_write_is_raised_at_once(
    fault_proxy: Any, s3_bucket: str, fault_proxy_client: Any, quick_policy: RetryPolicy
) -> None:
    fault_proxy_client.put_object(Bucket=s3_bucket, Key="theirs", Body=b"x")
    fault_proxy.set_faults([Fault(FaultKind.STALE_READ, rate=1.0, limit=1)])

    async def main(s3: Any) -> None:
        with pytest.raises(s3.exceptions.NoSuchKey):
            await s3.get_object(Bucket=s3_bucket, Key="theirs")

    run(aio_client(fault_proxy, quick_policy), main)
    assert fault_proxy.counters["op:GetObject"] == 1


def test_a_lost_write_is_detected_and_uploaded_again(
    fault_proxy: Any, s3_bucket: str, s3_server_client: Any, stepped_policy: RetryPolicy
) -> None:
    fault_proxy.set_faults([only(FaultKind.LOST_WRITE, "PutObject", limit=1)])
    data = os.urandom(5000)

    async def main(s3: Any) -> Any:
        await s3.put_object(Bucket=s3_bucket, Key="lost", Body=data)
        return s3.stats

    stats = run(aio_client(fault_proxy, stepped_policy), main)
    assert s3_server_client.get_object(Bucket=s3_bucket, Key="lost")["Body"].read() == data
    assert fault_proxy.counters["op:PutObject"] == 2  # the lost one, the conditional re-upload
    assert fault_proxy.counters["op:HeadObject"] == 1 + 9 + 1  # as on the sync door
    assert (stats.reuploads, stats.verified, stats.conflicts) == (1, 1, 0)


def test_a_write_lost_every_time_raises_naming_the_object(
    fault_proxy: Any, s3_bucket: str, stepped_policy: RetryPolicy
) -> None:
    fault_proxy.set_faults([only(FaultKind.LOST_WRITE, "PutObject")])
    verify = VerifyPolicy(max_reuploads=2, visibility_timeout=0.5)

    async def main(s3: Any) -> VerificationError:
        with pytest.raises(VerificationError) as caught:
            await s3.put_object(Bucket=s3_bucket, Key="gone", Body=b"abc")
        return caught.value

    error = run(aio_client(fault_proxy, stepped_policy, verify_writes=verify), main)
    assert (error.bucket, error.key, error.reason) == (s3_bucket, "gone", "lost")
    assert fault_proxy.counters["op:PutObject"] == 3


def test_another_writers_object_is_never_overwritten(
    fault_proxy: Any, s3_bucket: str, s3_server_client: Any, stepped_policy: RetryPolicy
) -> None:
    s3_server_client.put_object(Bucket=s3_bucket, Key="race", Body=b"newer write")
    fault_proxy.set_faults(
        [
            only(FaultKind.LOST_WRITE, "PutObject", limit=1),
            only(FaultKind.STALE_READ, "HeadObject", limit=1),
        ]
    )
    verify = VerifyPolicy(visibility_timeout=0)

    async def main(s3: Any) -> VerificationError:
        with pytest.raises(VerificationError) as caught:
            await s3.put_object(Bucket=s3_bucket, Key="race", Body=b"our older write")
        return caught.value

    error = run(aio_client(fault_proxy, stepped_policy, verify_writes=verify), main)
    assert error.reason == "conflict"
    stored = s3_server_client.get_object(Bucket=s3_bucket, Key="race")["Body"].read()
    assert stored == b"newer write"


@pytest.mark.parametrize(
    ("mode", "fault"),
    [("read", FaultKind.CORRUPT_WRITE), ("head", FaultKind.CHUNKED_FRAMING)],  # as seen by each
)
def test_bytes_stored_wrong_are_repaired_in_both_modes(
    fault_proxy: Any,
    s3_bucket: str,
    s3_server_client: Any,
    quick_policy: RetryPolicy,
    mode: str,
    fault: FaultKind,
) -> None:
    fault_proxy.set_faults([only(fault, "PutObject", limit=1)])
    data = os.urandom(4096)
    body = io.BytesIO(data)  # a file: read mode hashes it in a worker thread

    async def main(s3: Any) -> Any:
        await s3.put_object(Bucket=s3_bucket, Key="c", Body=body)
        return s3.stats

    stats = run(aio_client(fault_proxy, quick_policy, verify_writes=VerifyPolicy(mode=mode)), main)
    assert s3_server_client.get_object(Bucket=s3_bucket, Key="c")["Body"].read() == data
    assert (stats.reuploads, stats.verified) == (1, 1)


def test_stale_404s_are_absorbed_within_the_read_your_writes_window(
    fault_proxy: Any, s3_bucket: str, stepped_policy: RetryPolicy, fake_time: FakeTime
) -> None:
    async def main(s3: Any) -> None:
        await s3.put_object(Bucket=s3_bucket, Key="fresh", Body=b"v1")
        fault_proxy.reset_counters()
        fault_proxy.set_faults([only(FaultKind.STALE_READ, "GetObject", limit=3)])
        assert await (await s3.get_object(Bucket=s3_bucket, Key="fresh"))["Body"].read() == b"v1"
        assert fault_proxy.counters["op:GetObject"] == 4
        fake_time.advance(VerifyPolicy().read_your_writes + 1)  # no longer fresh
        fault_proxy.set_faults([only(FaultKind.STALE_READ, "GetObject", limit=1)])
        with pytest.raises(s3.exceptions.NoSuchKey):
            await s3.get_object(Bucket=s3_bucket, Key="fresh")

    run(aio_client(fault_proxy, stepped_policy), main)


@pytest.mark.parametrize("reader", ["read", "iter_chunks", "async_for", "read_n"])
def test_a_truncated_body_resumes_byte_identical(
    fault_proxy: Any,
    s3_bucket: str,
    s3_server_client: Any,
    quick_policy: RetryPolicy,
    reader: str,
    door_transport: str,
) -> None:
    """botocore streams a body and resumes it where it was cut; the CRT hands a body over
    whole, so a cut one fails its attempt and is fetched again."""
    data = os.urandom(3 * 1024 * 1024 + 17)
    s3_server_client.put_object(Bucket=s3_bucket, Key="big", Body=data)
    fault_proxy.set_faults([only(FaultKind.TRUNCATE_BODY, "GetObject", limit=3)])

    async def main(s3: Any) -> tuple[bytes, Any]:
        body = (await s3.get_object(Bucket=s3_bucket, Key="big"))["Body"]
        assert isinstance(body, AsyncResumableBody)
        async with body:
            if reader == "read":
                got = await body.read()
            elif reader == "iter_chunks":
                got = b"".join([chunk async for chunk in body.iter_chunks(100_000)])
            elif reader == "async_for":
                got = b"".join([chunk async for chunk in body])
            else:
                got = b""
                while chunk := await body.read(777_777):
                    got += chunk
        return got, s3.stats

    got, stats = run(aio_client(fault_proxy, quick_policy), main)
    assert got == data
    assert fault_proxy.counters["truncate_body"] == 3
    assert fault_proxy.counters["op:GetObject"] == 4
    if door_transport == "crt":
        assert (stats.resumes, dict(stats.retries)) == (0, {"network_after_send": 3})
    else:
        assert (stats.resumes, stats.paths) == (3, {"botocore": 4})


def test_resume_refuses_an_object_that_changed(
    fault_proxy: Any, s3_bucket: str, s3_server_client: Any, quick_policy: RetryPolicy
) -> None:
    s3_server_client.put_object(Bucket=s3_bucket, Key="k", Body=b"a" * 1_000_000)

    async def main(s3: Any) -> bytes:
        body = (await s3.get_object(Bucket=s3_bucket, Key="k"))["Body"]
        first: bytes = await body.read(1000)
        s3_server_client.put_object(Bucket=s3_bucket, Key="k", Body=b"b" * 1_000_000)
        body.close()  # the next read must reopen, pinned to the old ETag
        with pytest.raises(resilient_s3.ObjectChangedError):
            await body.read()
        return first

    assert run(aio_client(fault_proxy, quick_policy), main) == b"a" * 1000


def test_a_file_body_is_rewound_to_its_start_position(
    fault_proxy: Any, s3_bucket: str, s3_server_client: Any, quick_policy: RetryPolicy
) -> None:
    data = os.urandom(100_000)
    f = io.BytesIO(data)
    f.seek(1234)
    fault_proxy.set_faults([only(FaultKind.RESET_BEFORE, "PutObject", limit=2)])

    async def main(s3: Any) -> None:
        await s3.put_object(Bucket=s3_bucket, Key="mid", Body=f)

    run(aio_client(fault_proxy, quick_policy), main)
    assert fault_proxy.counters["op:PutObject"] == 3
    assert s3_server_client.get_object(Bucket=s3_bucket, Key="mid")["Body"].read() == data[1234:]


def test_bad_input_is_refused_naming_the_object_before_any_request(
    fault_proxy: Any, s3_bucket: str
) -> None:
    closed = io.BytesIO(b"data")
    closed.close()

    async def main(s3: Any) -> None:
        with pytest.raises(ValueError, match=f"s3://{s3_bucket}/k.*closed"):
            await s3.put_object(Bucket=s3_bucket, Key="k", Body=closed)
        with pytest.raises(UnreplayableBodyError, match=f"s3://{s3_bucket}/p.*no request"):
            await s3.put_object(Bucket=s3_bucket, Key="p", Body=Pipe(b"x" * 11))
        with pytest.raises(bce.ParamValidationError) as caught:
            await s3.put_object(Bucket=s3_bucket, Key="k", Body=b"x", ContentLength="many")
        assert caught.value.resilient_s3_attempts == 0  # type: ignore[attr-defined]
        with pytest.raises(TypeError, match="only accepts keyword arguments"):
            await s3.put_object(s3_bucket)

    run(aio_client(fault_proxy, RetryPolicy(body_spool_limit=10)), main)
    assert fault_proxy.counters["requests"] == 0


def test_delete_objects_partial_failures_are_retried(
    fault_proxy: Any, s3_bucket: str, s3_server_client: Any, quick_policy: RetryPolicy
) -> None:
    keys = [f"del/{i}" for i in range(6)]
    for key in keys:
        s3_server_client.put_object(Bucket=s3_bucket, Key=key, Body=b"x")
    fault_proxy.set_faults([only(FaultKind.DELETE_ERRORS, "DeleteObjects", limit=1)])
    request: Any = {"Objects": [{"Key": k} for k in keys]}

    async def main(s3: Any) -> Any:
        return await s3.delete_objects(Bucket=s3_bucket, Delete=request)

    answer = run(aio_client(fault_proxy, quick_policy), main)
    assert "Errors" not in answer
    assert sorted(d["Key"] for d in answer["Deleted"]) == keys
    assert fault_proxy.counters["op:DeleteObjects"] == 2


def test_paginator_pages_are_each_retried(
    fault_proxy: Any, s3_bucket: str, quick_policy: RetryPolicy
) -> None:
    async def main(s3: Any) -> tuple[list[Any], dict[str, Any], list[str]]:
        for i in range(7):
            await s3.put_object(Bucket=s3_bucket, Key=f"p/{i}", Body=b"x")
        fault_proxy.reset_counters()
        fault_proxy.set_faults([only(FaultKind.INTERNAL_ERROR, "ListObjectsV2", limit=3)])
        paginator = s3.get_paginator("list_objects_v2")
        config = {"PageSize": 2}
        pages = [p async for p in paginator.paginate(Bucket=s3_bucket, PaginationConfig=config)]
        limited = {"PageSize": 2, "MaxItems": 3}
        full = await paginator.paginate(
            Bucket=s3_bucket, PaginationConfig=limited
        ).build_full_result()
        keys = [k async for k in paginator.paginate(Bucket=s3_bucket).search("Contents[].Key")]
        with pytest.raises(TypeError, match="async for"):
            list(paginator.paginate(Bucket=s3_bucket))
        return pages, full, keys

    pages, full, keys = run(aio_client(fault_proxy, quick_policy), main)
    assert sum(page["KeyCount"] for page in pages) == 7
    assert fault_proxy.counters["op:ListObjectsV2"] >= 4 + 3
    assert [c["Key"] for c in full["Contents"]] == ["p/0", "p/1", "p/2"]
    assert "NextToken" in full
    assert keys == [f"p/{i}" for i in range(7)]


def test_waiters_presigning_exceptions_and_meta(
    fault_proxy: Any, s3_bucket: str, quick_policy: RetryPolicy
) -> None:
    import urllib.request

    async def main(s3: Any) -> str:
        await s3.put_object(Bucket=s3_bucket, Key="w", Body=b"presigned")
        fault_proxy.reset_counters()
        fault_proxy.set_faults([only(FaultKind.SLOWDOWN, "HeadObject", limit=2)])
        await s3.get_waiter("object_exists").wait(Bucket=s3_bucket, Key="w")
        assert fault_proxy.counters["op:HeadObject"] == 3
        await s3.get_waiter("object_not_exists").wait(Bucket=s3_bucket, Key="absent")
        with pytest.raises(bce.WaiterError):
            await s3.get_waiter("object_exists").wait(
                Bucket=s3_bucket, Key="absent", WaiterConfig={"Delay": 0, "MaxAttempts": 2}
            )
        before = fault_proxy.counters["requests"]
        url: str = await s3.generate_presigned_url(
            "get_object", Params={"Bucket": s3_bucket, "Key": "w"}
        )
        post = await s3.generate_presigned_post(s3_bucket, "upload")
        assert post["url"].startswith(fault_proxy.endpoint_url)
        assert fault_proxy.counters["requests"] == before  # signing sends nothing
        assert s3.exceptions is s3.inner.exceptions
        assert s3.meta is s3.inner.meta
        assert s3.meta.config.retries["total_max_attempts"] == 1
        assert s3.can_paginate("list_objects_v2")
        return url

    url = run(aio_client(fault_proxy, quick_policy), main)
    with urllib.request.urlopen(url) as answer:
        assert answer.read() == b"presigned"


def test_plain_boto3_does_not_survive_the_same_truncation(
    fault_proxy: Any, s3_bucket: str, s3_server_client: Any
) -> None:
    """The control: the truncation above breaks plain boto3, so the resume tests can fail."""
    s3_server_client.put_object(Bucket=s3_bucket, Key="big", Body=os.urandom(1024 * 1024))
    fault_proxy.set_faults([only(FaultKind.TRUNCATE_BODY, "GetObject", limit=1)])
    plain = boto3.client("s3", **fault_proxy.client_kwargs())
    with pytest.raises((bce.ResponseStreamingError, bce.IncompleteReadError)):
        plain.get_object(Bucket=s3_bucket, Key="big")["Body"].read()


def test_managed_transfers_under_faults(
    fault_proxy: Any, s3_bucket: str, quick_policy: RetryPolicy, tmp_path: Path
) -> None:
    """aioboto3's awaited transfers: the sync door's, in a worker thread, retried inside."""
    from boto3.s3.transfer import TransferConfig

    from resilient_s3.testing import mixed_faults

    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(12 * 1024 * 1024))
    config = TransferConfig(
        multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024
    )
    fault_proxy.set_faults(mixed_faults(0.15))

    async def main(s3: Any) -> bytes:
        await s3.upload_file(str(source), s3_bucket, "big.bin", Config=config)
        target = tmp_path / "target.bin"
        await s3.download_file(s3_bucket, "big.bin", str(target), Config=config)
        buffer = io.BytesIO()
        await s3.download_fileobj(s3_bucket, "big.bin", buffer)
        assert buffer.getvalue() == target.read_bytes()
        return target.read_bytes()

    assert run(aio_client(fault_proxy, quick_policy), main) == source.read_bytes()
    assert fault_proxy.counters["op:UploadPart"] >= 3


@pytest.mark.parametrize("coalesce", [VerifyPolicy().coalesce, 0])
def test_concurrent_writes_share_listings_for_their_read_backs(
    fault_proxy: Any, s3_bucket: str, s3_server_client: Any, coalesce: int
) -> None:
    """64 tasks: the read-backs overlap (HeadObject slowed by 50 ms so they surely do), and
    shared ListObjectsV2 pages confirm most writes with fewer requests than writes; with
    ``coalesce=0`` every write is read back with its own HeadObject."""
    fault_proxy.set_faults(
        [Fault(FaultKind.LATENCY, seconds=0.05, operations=frozenset({"HeadObject"}))]
    )
    slots = asyncio.Semaphore(64)

    async def main(s3: Any) -> Any:
        async def put(i: int) -> None:
            async with slots:
                await s3.put_object(Bucket=s3_bucket, Key=f"c/{i}", Body=b"%d" % i)

        await asyncio.gather(*(put(i) for i in range(320)))
        return s3.stats

    verify = VerifyPolicy(coalesce=coalesce)
    stats = run(aio_client(fault_proxy, verify_writes=verify), main)
    counters = fault_proxy.counters
    assert stats.verified == 320
    if coalesce:
        assert stats.verified_by_listing > 160
        assert counters["op:ListObjectsV2"] > 0
        assert counters["op:HeadObject"] + counters["op:ListObjectsV2"] < 320 / 2
    else:
        assert (stats.verified_by_listing, counters["op:HeadObject"]) == (0, 320)
    for i in range(0, 320, 7):
        got = s3_server_client.get_object(Bucket=s3_bucket, Key=f"c/{i}")["Body"].read()
        assert got == b"%d" % i
