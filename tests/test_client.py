"""The facade over HTTP: a real moto server process, faults from the project's proxy, attempt
counts read from the proxy's counters."""

from __future__ import annotations

import io
import os
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import exceptions as bce

import resilient_s3
from resilient_s3 import Backoff, ErrorKind, RetryPolicy, UnreplayableBodyError
from resilient_s3._bodies.resumable import ResumableBody
from resilient_s3.testing import Fault, FaultKind, mixed_faults

from .bodies.test_request import Pipe
from .conftest import FakeTime

#: The fault suite runs on both transports of the front doors (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("door_transport")


def only(kind: FaultKind, operation: str, limit: int | None = None, **kw: Any) -> Fault:
    return Fault(kind, rate=1.0, limit=limit, operations=frozenset({operation}), **kw)


@pytest.mark.parametrize(
    ("kind", "expected_kind"),
    [
        (FaultKind.RESET_BEFORE, ErrorKind.NETWORK_AFTER_SEND),  # sent, then reset: ambiguous
        (FaultKind.RESET_AFTER, ErrorKind.NETWORK_AFTER_SEND),
        (FaultKind.SLOWDOWN, ErrorKind.THROTTLED),
        (FaultKind.INTERNAL_ERROR, ErrorKind.SERVER),
    ],
)
def test_each_transient_fault_is_retried_until_success(
    rs3: Any,
    fault_proxy: Any,
    s3_bucket: str,
    s3_server_client: Any,
    kind: FaultKind,
    expected_kind: ErrorKind,
) -> None:
    fault_proxy.set_faults([only(kind, "PutObject", limit=2)])
    rs3.put_object(Bucket=s3_bucket, Key="k", Body=b"payload")
    counters = fault_proxy.counters
    assert counters[kind.value] == 2
    assert counters["op:PutObject"] == 3  # two faults, then the attempt that landed
    assert rs3.stats.retries == {expected_kind.value: 2}
    assert s3_server_client.get_object(Bucket=s3_bucket, Key="k")["Body"].read() == b"payload"


def test_a_persistent_fault_stops_at_the_kind_limit(
    fault_proxy: Any, s3_bucket: str, fake_time: FakeTime
) -> None:
    policy = RetryPolicy(
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        random=lambda: 1.0,
        throttled=Backoff(max_attempts=4, base=0.5, cap=10.0),
    )
    s3 = resilient_s3.client("s3", retry=policy, **fault_proxy.client_kwargs())
    fault_proxy.set_faults([only(FaultKind.SLOWDOWN, "PutObject")])
    with pytest.raises(bce.ClientError) as caught:
        s3.put_object(Bucket=s3_bucket, Key="k", Body=b"x")
    assert caught.value.response["Error"]["Code"] == "SlowDown"
    assert fault_proxy.counters["op:PutObject"] == 4
    assert fake_time.sleeps == [0.5, 1.0, 2.0]
    assert caught.value.resilient_s3_kinds == (ErrorKind.THROTTLED,) * 4  # type: ignore[attr-defined]
    assert s3.stats.give_ups == 1


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        (only(FaultKind.ACCESS_DENIED, "PutObject"), "AccessDenied"),
        (None, "NoSuchBucket"),
    ],
)
def test_permanent_errors_are_tried_exactly_once(
    rs3: Any, fault_proxy: Any, s3_bucket: str, fake_time: FakeTime, fault: Fault | None, code: str
) -> None:
    bucket = s3_bucket
    if fault is None:
        bucket = "no-such-bucket-here"
    else:
        fault_proxy.set_faults([fault])
    with pytest.raises(bce.ClientError) as caught:
        rs3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert caught.value.response["Error"]["Code"] == code
    assert fault_proxy.counters["op:PutObject"] == 1
    assert fake_time.sleeps == []


def test_a_404_on_a_key_this_client_did_not_write_is_raised_at_once(
    rs3: Any, fault_proxy: Any, s3_bucket: str, fault_proxy_client: Any, fake_time: FakeTime
) -> None:
    fault_proxy_client.put_object(Bucket=s3_bucket, Key="theirs", Body=b"x")  # fresh, not ours
    fault_proxy.set_faults([Fault(FaultKind.STALE_READ, rate=1.0, limit=1)])
    with pytest.raises(rs3.exceptions.NoSuchKey):
        rs3.get_object(Bucket=s3_bucket, Key="theirs")
    with pytest.raises(bce.ClientError):  # a real miss: one attempt, no delay
        rs3.head_object(Bucket=s3_bucket, Key="never-written")
    assert fault_proxy.counters["op:GetObject"] == 1
    assert fault_proxy.counters["op:HeadObject"] == 1
    assert fake_time.sleeps == []


def test_deadline_with_real_time(fault_proxy: Any, s3_bucket: str) -> None:
    """No retry sleeps past the deadline; the call ends about when it does (the last attempt
    may run a little over on a loaded machine: attempts are bounded by the read timeout)."""
    import time

    sleeps_end: list[float] = []
    policy = RetryPolicy(
        deadline=1.0,
        throttled=Backoff(max_attempts=100, base=0.05, cap=0.2),
        on_retry=lambda event: sleeps_end.append(time.monotonic() + event.delay),
    )
    s3 = resilient_s3.client("s3", retry=policy, **fault_proxy.client_kwargs())
    fault_proxy.set_faults([only(FaultKind.SLOWDOWN, "PutObject")])
    started = time.monotonic()
    with pytest.raises(bce.ClientError):
        s3.put_object(Bucket=s3_bucket, Key="k", Body=b"x")
    assert len(sleeps_end) > 3
    assert max(sleeps_end) < started + 1.0
    assert time.monotonic() - started < 1.5


def test_budget_exhaustion_against_a_dead_endpoint(fake_time: FakeTime) -> None:
    from resilient_s3 import BudgetPolicy
    from resilient_s3.testing._server import _free_port

    policy = RetryPolicy(
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        random=lambda: 0.0,
        budget=BudgetPolicy(capacity=100, network_cost=10),
    )
    s3 = resilient_s3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{_free_port()}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        retry=policy,
    )
    for _ in range(5):
        with pytest.raises(bce.EndpointConnectionError):
            s3.head_bucket(Bucket="anything")
    stats = s3.stats
    assert stats.retries == {"network_before_send": 10}  # 100 tokens / 10 per retry
    assert stats.attempts == 15  # 6 + 6 (the budget is now empty) + 1 + 1 + 1
    assert stats.budget_exhausted == 3


def test_rewind_to_a_nonzero_start_position(
    rs3: Any, fault_proxy: Any, s3_bucket: str, s3_server_client: Any
) -> None:
    data = os.urandom(100_000)
    f = io.BytesIO(data)
    f.seek(1234)
    fault_proxy.set_faults([only(FaultKind.RESET_BEFORE, "PutObject", limit=2)])
    rs3.put_object(Bucket=s3_bucket, Key="from-the-middle", Body=f)
    assert fault_proxy.counters["op:PutObject"] == 3
    stored = s3_server_client.get_object(Bucket=s3_bucket, Key="from-the-middle")["Body"].read()
    assert stored == data[1234:]


def test_non_seekable_body_is_refused_before_sending(fault_proxy: Any, s3_bucket: str) -> None:
    s3 = resilient_s3.client(
        "s3", retry=RetryPolicy(body_spool_limit=10), **fault_proxy.client_kwargs()
    )
    with pytest.raises(UnreplayableBodyError, match="no request was sent"):
        s3.put_object(Bucket=s3_bucket, Key="k", Body=Pipe(b"x" * 11))  # type: ignore[arg-type]
    assert fault_proxy.counters["requests"] == 0


def test_resumed_download_under_truncation_is_byte_identical(
    rs3: Any, fault_proxy: Any, s3_bucket: str, s3_server_client: Any, door_transport: str
) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    s3_server_client.put_object(Bucket=s3_bucket, Key="big", Body=data)
    fault_proxy.set_faults([only(FaultKind.TRUNCATE_BODY, "GetObject", limit=3)])
    body = rs3.get_object(Bucket=s3_bucket, Key="big")["Body"]
    assert isinstance(body, ResumableBody)
    assert body.read() == data
    assert fault_proxy.counters["truncate_body"] == 3
    assert fault_proxy.counters["op:GetObject"] == 4
    stats = rs3.stats
    if door_transport == "crt":  # the CRT hands a body over whole: a cut one fails its attempt
        assert (stats.resumes, dict(stats.retries)) == (0, {"network_after_send": 3})
    else:  # botocore streams it: resumed where it was cut
        assert (stats.resumes, stats.paths) == (3, {"botocore": 4})


def test_plain_boto3_does_not_survive_the_same_truncation(
    fault_proxy: Any, s3_bucket: str, s3_server_client: Any
) -> None:
    """The control: the same fault breaks plain boto3, so the test above can fail."""
    s3_server_client.put_object(Bucket=s3_bucket, Key="big", Body=os.urandom(1024 * 1024))
    fault_proxy.set_faults([only(FaultKind.TRUNCATE_BODY, "GetObject", limit=1)])
    plain = boto3.client("s3", **fault_proxy.client_kwargs())
    with pytest.raises((bce.ResponseStreamingError, bce.IncompleteReadError)):
        plain.get_object(Bucket=s3_bucket, Key="big")["Body"].read()


def test_resume_refuses_an_object_that_changed(
    rs3: Any, fault_proxy: Any, s3_bucket: str, s3_server_client: Any
) -> None:
    s3_server_client.put_object(Bucket=s3_bucket, Key="k", Body=b"a" * 1_000_000)
    body = rs3.get_object(Bucket=s3_bucket, Key="k")["Body"]
    first = body.read(1000)
    s3_server_client.put_object(Bucket=s3_bucket, Key="k", Body=b"b" * 1_000_000)
    fault_proxy.set_faults([only(FaultKind.TRUNCATE_BODY, "GetObject")])
    body.close()  # the connection is gone: the next read must reopen, pinned to the old ETag
    with pytest.raises(resilient_s3.ObjectChangedError):
        body.read()
    assert first == b"a" * 1000


def test_paginator_pages_are_each_retried(rs3: Any, fault_proxy: Any, s3_bucket: str) -> None:
    for i in range(7):
        rs3.put_object(Bucket=s3_bucket, Key=f"p/{i}", Body=b"x")
    fault_proxy.set_faults([only(FaultKind.INTERNAL_ERROR, "ListObjectsV2", limit=3)])
    paginator = rs3.get_paginator("list_objects_v2")
    pages = list(paginator.paginate(Bucket=s3_bucket, PaginationConfig={"PageSize": 2}))
    assert sum(page["KeyCount"] for page in pages) == 7
    assert fault_proxy.counters["op:ListObjectsV2"] == 4 + 3
    assert rs3.can_paginate("list_objects_v2")


def test_waiter_polls_through_the_retrier(rs3: Any, fault_proxy: Any, s3_bucket: str) -> None:
    rs3.put_object(Bucket=s3_bucket, Key="w", Body=b"x")
    fault_proxy.reset_counters()
    fault_proxy.set_faults([only(FaultKind.SLOWDOWN, "HeadObject", limit=2)])
    rs3.get_waiter("object_exists").wait(Bucket=s3_bucket, Key="w")
    assert fault_proxy.counters["op:HeadObject"] == 3
    rs3.get_waiter("object_not_exists").wait(Bucket=s3_bucket, Key="absent")


def test_presigned_urls_are_local_and_work(rs3: Any, fault_proxy: Any, s3_bucket: str) -> None:
    rs3.put_object(Bucket=s3_bucket, Key="p", Body=b"presigned")
    before = fault_proxy.counters["requests"]
    calls = rs3.stats.calls
    url = rs3.generate_presigned_url("get_object", Params={"Bucket": s3_bucket, "Key": "p"})
    post = rs3.generate_presigned_post(s3_bucket, "upload")
    assert fault_proxy.counters["requests"] == before  # signing sends nothing
    assert post["url"].startswith(fault_proxy.endpoint_url)
    with urllib.request.urlopen(url) as answer:
        assert answer.read() == b"presigned"
    assert rs3.stats.calls == calls


def test_exceptions_and_meta_are_the_inner_clients(rs3: Any, s3_bucket: str) -> None:
    with pytest.raises(rs3.exceptions.NoSuchKey) as caught:
        rs3.get_object(Bucket=s3_bucket, Key="missing")
    assert isinstance(caught.value, bce.ClientError)
    assert rs3.exceptions is rs3.inner.exceptions
    assert rs3.meta is rs3.inner.meta
    assert rs3.meta.config.retries["total_max_attempts"] == 1
    assert "AKIA" not in repr(rs3)
    assert "testing" not in repr(rs3)


def test_upload_and_download_file_20_mib_under_faults(
    rs3: Any, fault_proxy: Any, s3_bucket: str, tmp_path: Path
) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(20 * 1024 * 1024))
    fault_proxy.set_faults(mixed_faults(0.15))
    rs3.upload_file(str(source), s3_bucket, "big.bin")
    target = tmp_path / "target.bin"
    rs3.download_file(s3_bucket, "big.bin", str(target))
    assert target.read_bytes() == source.read_bytes()
    counters = fault_proxy.counters
    assert counters["op:UploadPart"] >= 3  # multipart: 20 MiB in 8 MiB parts
    assert counters["op:CompleteMultipartUpload"] >= 1
    buffer = io.BytesIO()
    rs3.download_fileobj(s3_bucket, "big.bin", buffer)
    assert buffer.getvalue() == source.read_bytes()


def test_field_scenario_under_mixed_faults_loses_nothing(
    fault_proxy: Any, s3_bucket: str, s3_server_client: Any, quick_policy: RetryPolicy
) -> None:
    """The core's "done when": 400 put+get on 64 threads sharing one client, ~10% faults."""
    from resilient_s3._cli._scenario import run_field_scenario

    fault_proxy.set_faults(mixed_faults(0.10))
    s3 = resilient_s3.client("s3", retry=quick_policy, **fault_proxy.client_kwargs())
    result = run_field_scenario(s3, s3_server_client, s3_bucket, label="resilient_s3", seed=3)
    assert result.errors == {}
    assert result.lost_nothing
    assert result.readable == 400
    injected = sum(fault_proxy.counters[k.value] for k in FaultKind)
    assert injected > 40  # the faults really happened
    assert sum(s3.stats.retries.values()) + s3.stats.resumes >= injected


def test_no_secrets_in_logs_stats_reprs_or_errors(
    fault_proxy: Any, s3_bucket: str, quick_policy: RetryPolicy, caplog: pytest.LogCaptureFixture
) -> None:
    secret_key = "SECRETKEYdoNotLeak0123456789"
    kwargs = fault_proxy.client_kwargs()
    kwargs["aws_secret_access_key"] = secret_key
    kwargs["aws_access_key_id"] = "AKIAIDNOTLEAKING"
    caplog.set_level("DEBUG", logger="resilient_s3")
    s3 = resilient_s3.client("s3", retry=quick_policy, **kwargs)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": s3_bucket, "Key": "k"})
    signature = url.split("Signature=")[1].split("&")[0]
    fault_proxy.set_faults([only(FaultKind.INTERNAL_ERROR, "PutObject")])
    with pytest.raises(bce.ClientError) as caught:
        s3.put_object(Bucket=s3_bucket, Key="k", Body=b"x")
    texts = [
        *(r.getMessage() for r in caplog.records),
        repr(s3),
        str(s3.stats.as_dict()),
        repr(s3.retry_policy),
        *getattr(caught.value, "__notes__", []),
    ]
    assert any("giving up PutObject" in t for t in texts)
    for text in texts:
        for secret in (secret_key, "AKIAIDNOTLEAKING", signature):
            assert secret not in text
