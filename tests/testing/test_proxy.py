"""Tests of each fault kind of ``FaultProxy``, against a real moto server, with plain boto3 clients.

Every client makes exactly one attempt per call unless a test says otherwise, so the proxy's
counters are the attempt counts.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    IncompleteReadError,
    ResponseStreamingError,
)

from resilient_s3.testing import Fault, FaultKind, FaultProxy, S3Server

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MiB = 1024 * 1024


def _client(proxy: FaultProxy, attempts: int = 1) -> S3Client:
    """A boto3 client through ``proxy`` making at most ``attempts`` attempts per call."""
    config = Config(retries={"total_max_attempts": attempts, "mode": "standard"})
    return boto3.client("s3", config=config, **proxy.client_kwargs())


def _error_code(call: Callable[[], object]) -> tuple[str, int]:
    """Run ``call``, which must raise ClientError; return its error code and HTTP status."""
    with pytest.raises(ClientError) as info:
        call()
    response: Any = info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def _exists(s3: S3Client, bucket: str, key: str) -> bool:
    """Whether the server holds ``key`` (asked directly, not through the proxy)."""
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "404":
            return False
        raise
    return True


def _nonzero(proxy: FaultProxy) -> dict[str, int]:
    """The proxy's counters that are not zero."""
    return {key: value for key, value in proxy.counters.items() if value}


def test_reset_before_does_not_forward(
    fault_proxy: FaultProxy,
    fault_proxy_client: S3Client,
    s3_server_client: S3Client,
    s3_bucket: str,
) -> None:
    """reset_before: the client sees a closed connection and the server never got the write."""
    fault_proxy.set_faults([Fault(FaultKind.RESET_BEFORE, limit=1)])
    with pytest.raises(ConnectionClosedError):
        fault_proxy_client.put_object(Bucket=s3_bucket, Key="k", Body=b"data")
    assert not _exists(s3_server_client, s3_bucket, "k")
    assert _nonzero(fault_proxy) == {"requests": 1, "reset_before": 1, "op:PutObject": 1}
    fault_proxy_client.put_object(Bucket=s3_bucket, Key="k", Body=b"data")  # pool recovers
    assert fault_proxy.counters["forwarded"] == 1


def test_reset_after_applies_the_write(
    fault_proxy: FaultProxy,
    fault_proxy_client: S3Client,
    s3_server_client: S3Client,
    s3_bucket: str,
) -> None:
    """reset_after: the client sees a closed connection although the server stored the object."""
    fault_proxy.set_faults([Fault(FaultKind.RESET_AFTER)])
    with pytest.raises(ConnectionClosedError):
        fault_proxy_client.put_object(Bucket=s3_bucket, Key="k", Body=b"data")
    assert s3_server_client.get_object(Bucket=s3_bucket, Key="k")["Body"].read() == b"data"
    assert _nonzero(fault_proxy) == {
        "requests": 1,
        "forwarded": 1,
        "forwarded_bytes": 4,  # the body, b"data"
        "reset_after": 1,
        "op:PutObject": 1,
    }


def test_slowdown_limit_two_then_success(
    fault_proxy: FaultProxy, fault_proxy_client: S3Client, s3_bucket: str
) -> None:
    """slowdown with limit=2: two 503 SlowDown answers, then the request goes through."""
    fault_proxy.set_faults([Fault(FaultKind.SLOWDOWN, limit=2)])

    def put() -> object:
        return fault_proxy_client.put_object(Bucket=s3_bucket, Key="k", Body=b"x")

    assert _error_code(put) == ("SlowDown", 503)
    assert _error_code(put) == ("SlowDown", 503)
    put()
    assert _nonzero(fault_proxy) == {
        "requests": 3,
        "forwarded": 1,
        "forwarded_bytes": 1,  # only the forwarded request's body, b"x"
        "slowdown": 2,
        "op:PutObject": 3,
    }


def test_slowdown_answer_format(fault_proxy: FaultProxy, s3_bucket: str) -> None:
    """The fabricated answer is an S3 XML error; Retry-After only when set; HEAD has no body."""
    conn = http.client.HTTPConnection("127.0.0.1", fault_proxy.port, timeout=5)
    fault_proxy.set_faults([Fault(FaultKind.SLOWDOWN)])
    conn.request("GET", f"/{s3_bucket}/k")
    response = conn.getresponse()
    assert response.status == 503
    assert response.getheader("Retry-After") is None
    assert response.getheader("Content-Type") == "application/xml"
    assert response.getheader("x-resilient-s3-fault") == "slowdown"
    assert b"<Code>SlowDown</Code>" in response.read()
    fault_proxy.set_faults([Fault(FaultKind.SLOWDOWN, retry_after=1.5)])
    conn.request("HEAD", f"/{s3_bucket}/k")  # same keep-alive connection
    response = conn.getresponse()
    assert (response.status, response.getheader("Retry-After")) == (503, "1.5")
    assert response.read() == b""
    conn.close()


def test_internal_error(fault_proxy: FaultProxy, fault_proxy_client: S3Client) -> None:
    """internal_error answers 500 InternalError, on bucket-level requests too."""
    fault_proxy.set_faults([Fault(FaultKind.INTERNAL_ERROR)])
    assert _error_code(fault_proxy_client.list_buckets) == ("InternalError", 500)
    assert _nonzero(fault_proxy) == {"requests": 1, "internal_error": 1, "op:ListBuckets": 1}


def test_access_denied_is_tried_once(fault_proxy: FaultProxy, s3_bucket: str) -> None:
    """access_denied answers 403; even a retrying client makes exactly one attempt."""
    fault_proxy.set_faults([Fault(FaultKind.ACCESS_DENIED)])
    s3 = _client(fault_proxy, attempts=5)
    assert _error_code(lambda: s3.get_object(Bucket=s3_bucket, Key="k")) == ("AccessDenied", 403)
    assert fault_proxy.counters["op:GetObject"] == fault_proxy.counters["access_denied"] == 1


def test_lost_write_acknowledges_but_does_not_store(
    fault_proxy: FaultProxy,
    fault_proxy_client: S3Client,
    s3_server_client: S3Client,
    s3_bucket: str,
) -> None:
    """lost_write: a 200 with the right ETag and checksum, and no object on the server."""
    fault_proxy.set_faults([Fault(FaultKind.LOST_WRITE)])
    body = os.urandom(3000)
    response = fault_proxy_client.put_object(Bucket=s3_bucket, Key="k", Body=body)
    assert response["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert response.get("ChecksumCRC32")  # the request's checksum header echoed back
    assert not _exists(s3_server_client, s3_bucket, "k")
    assert _nonzero(fault_proxy) == {"requests": 1, "lost_write": 1, "op:PutObject": 1}


def test_stale_read_after_put(
    fault_proxy: FaultProxy,
    fault_proxy_client: S3Client,
    s3_server_client: S3Client,
    s3_bucket: str,
) -> None:
    """stale_read: GET/HEAD of a key PUT through the proxy within the window answer 404."""
    s3 = fault_proxy_client
    fault_proxy.set_faults([Fault(FaultKind.STALE_READ, window=0.5)])
    s3_server_client.put_object(Bucket=s3_bucket, Key="direct", Body=b"d")
    s3.put_object(Bucket=s3_bucket, Key="k", Body=b"data")
    assert _error_code(lambda: s3.get_object(Bucket=s3_bucket, Key="k")) == ("NoSuchKey", 404)
    assert _error_code(lambda: s3.head_object(Bucket=s3_bucket, Key="k")) == ("404", 404)
    assert s3_server_client.get_object(Bucket=s3_bucket, Key="k")["Body"].read() == b"data"
    assert s3.get_object(Bucket=s3_bucket, Key="direct")["Body"].read() == b"d"  # not PUT via proxy
    time.sleep(0.5)
    assert s3.get_object(Bucket=s3_bucket, Key="k")["Body"].read() == b"data"
    counters = fault_proxy.counters
    assert (counters["stale_read"], counters["forwarded"], counters["requests"]) == (2, 3, 5)


def test_truncate_body(
    fault_proxy: FaultProxy,
    fault_proxy_client: S3Client,
    s3_server_client: S3Client,
    s3_bucket: str,
) -> None:
    """truncate_body: the full Content-Length is announced, part of the body sent, then EOF."""
    s3_server_client.put_object(Bucket=s3_bucket, Key="k", Body=b"x" * 1000)
    s3_server_client.put_object(Bucket=s3_bucket, Key="empty", Body=b"")
    fault_proxy.set_faults([Fault(FaultKind.TRUNCATE_BODY)])
    response = fault_proxy_client.get_object(Bucket=s3_bucket, Key="k")
    assert response["ContentLength"] == 1000
    with pytest.raises((ResponseStreamingError, IncompleteReadError)):
        response["Body"].read()
    # Nothing to truncate in an empty body or a HEAD: relayed as is, not counted.
    assert fault_proxy_client.get_object(Bucket=s3_bucket, Key="empty")["Body"].read() == b""
    assert fault_proxy_client.head_object(Bucket=s3_bucket, Key="k")["ContentLength"] == 1000
    counters = fault_proxy.counters
    assert (counters["truncate_body"], counters["forwarded"], counters["requests"]) == (1, 3, 3)


def test_latency(fault_proxy: FaultProxy, fault_proxy_client: S3Client, s3_bucket: str) -> None:
    """latency delays each request it hits, and combines with an exclusive fault."""
    fault_proxy_client.head_bucket(Bucket=s3_bucket)  # connect first
    fault_proxy.set_faults([Fault(FaultKind.LATENCY, seconds=0.3)])
    start = time.monotonic()
    fault_proxy_client.head_bucket(Bucket=s3_bucket)
    assert 0.3 <= time.monotonic() - start < 1.5
    fault_proxy.set_faults(
        [Fault(FaultKind.LATENCY, seconds=0.2), Fault(FaultKind.INTERNAL_ERROR, limit=1)]
    )
    start = time.monotonic()
    assert _error_code(lambda: fault_proxy_client.head_bucket(Bucket=s3_bucket))[1] == 500
    assert time.monotonic() - start >= 0.2
    counters = fault_proxy.counters
    assert (counters["latency"], counters["internal_error"], counters["forwarded"]) == (2, 1, 2)


def test_filters(fault_proxy: FaultProxy, fault_proxy_client: S3Client, s3_bucket: str) -> None:
    """key_prefix, methods and operations restrict which requests a fault can hit."""
    s3 = fault_proxy_client
    fault_proxy.set_faults([Fault(FaultKind.INTERNAL_ERROR, key_prefix="flaky/")])
    assert _error_code(lambda: s3.put_object(Bucket=s3_bucket, Key="flaky/a", Body=b"1"))[1] == 500
    s3.put_object(Bucket=s3_bucket, Key="ok/a", Body=b"1")
    s3.list_objects_v2(Bucket=s3_bucket)  # bucket-level: key "" does not match the prefix

    fault_proxy.set_faults([Fault(FaultKind.INTERNAL_ERROR, methods=frozenset({"get"}))])
    s3.put_object(Bucket=s3_bucket, Key="m", Body=b"1")
    assert _error_code(lambda: s3.get_object(Bucket=s3_bucket, Key="m"))[1] == 500

    fault_proxy.set_faults([Fault(FaultKind.INTERNAL_ERROR, operations=frozenset({"HeadObject"}))])
    s3.get_object(Bucket=s3_bucket, Key="m")
    assert _error_code(lambda: s3.head_object(Bucket=s3_bucket, Key="m"))[1] == 500
    assert fault_proxy.counters["internal_error"] == 3


def test_lost_write_spares_multipart_uploads(
    fault_proxy: FaultProxy,
    fault_proxy_client: S3Client,
    s3_server_client: S3Client,
    s3_bucket: str,
) -> None:
    """lost_write applies to PutObject only: parts and their completion are forwarded."""
    fault_proxy.set_faults([Fault(FaultKind.LOST_WRITE)])
    s3 = fault_proxy_client
    upload_id = s3.create_multipart_upload(Bucket=s3_bucket, Key="mp")["UploadId"]
    part = s3.upload_part(Bucket=s3_bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=b"p")
    s3.complete_multipart_upload(
        Bucket=s3_bucket,
        Key="mp",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    assert s3_server_client.get_object(Bucket=s3_bucket, Key="mp")["Body"].read() == b"p"
    counters = _nonzero(fault_proxy)
    assert counters.pop("forwarded_bytes") > 1  # the part's byte and the Complete's XML
    assert counters == {
        "requests": 3,
        "forwarded": 3,
        "op:CreateMultipartUpload": 1,
        "op:UploadPart": 1,
        "op:CompleteMultipartUpload": 1,
    }


def _outcomes(server: S3Server, bucket: str, seed: int) -> tuple[list[int], dict[str, int]]:
    """The statuses of 40 sequential HeadBucket calls through a new proxy with ``seed``."""
    faults = [Fault(FaultKind.INTERNAL_ERROR, rate=0.3), Fault(FaultKind.SLOWDOWN, rate=0.3)]
    with FaultProxy(server.endpoint_url, faults, seed=seed) as proxy:
        s3 = _client(proxy)
        statuses = []
        for _ in range(40):
            try:
                statuses.append(s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"])
            except ClientError as exc:
                statuses.append(exc.response["ResponseMetadata"]["HTTPStatusCode"])
        return statuses, proxy.counters


def test_seed_reproduces_a_run(s3_server: S3Server, s3_bucket: str) -> None:
    """The same seed and request order inject the same faults into the same requests."""
    first, counters = _outcomes(s3_server, s3_bucket, seed=42)
    assert _outcomes(s3_server, s3_bucket, seed=42) == (first, counters)
    assert counters["internal_error"] == first.count(500) > 0
    assert counters["slowdown"] == first.count(503) > 0
    assert counters["forwarded"] == first.count(200) > 0


def test_counters_exact_under_concurrency(
    fault_proxy: FaultProxy, fault_proxy_client: S3Client, s3_bucket: str
) -> None:
    """With 8 client threads, the counters match what the clients saw, request for request."""
    fault_proxy.set_faults([Fault(FaultKind.INTERNAL_ERROR, rate=0.3)])
    failures = []

    def worker() -> None:
        for _ in range(25):
            try:
                fault_proxy_client.head_bucket(Bucket=s3_bucket)
            except ClientError:
                failures.append(1)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counters = fault_proxy.counters
    assert counters["requests"] == counters["op:HeadBucket"] == 200
    assert counters["internal_error"] == len(failures)
    assert counters["forwarded"] == 200 - len(failures)


def test_set_faults_and_reset_counters(
    fault_proxy: FaultProxy, fault_proxy_client: S3Client
) -> None:
    """Faults can be replaced at run time; reset_counters zeroes every counter."""
    fault_proxy.set_faults([Fault(FaultKind.INTERNAL_ERROR)])
    assert fault_proxy.faults == (Fault(FaultKind.INTERNAL_ERROR),)
    assert _error_code(fault_proxy_client.list_buckets)[1] == 500
    fault_proxy.set_faults([])
    fault_proxy_client.list_buckets()
    assert fault_proxy.counters["requests"] == 2
    fault_proxy.reset_counters()
    assert set(fault_proxy.counters.values()) == {0}
