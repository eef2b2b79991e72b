"""Spans and metrics of facade calls, with the real OpenTelemetry SDK, through the fault proxy
in front of a real (moto) server."""

from __future__ import annotations

import os
from typing import Any

import pytest
from opentelemetry.trace import SpanKind, StatusCode

import resilient_s3
from resilient_s3 import RetryPolicy
from resilient_s3.testing import Fault, FaultKind

from ..conftest import FakeTime
from .conftest import Otel


def only(kind: FaultKind, operation: str, limit: int | None = None) -> Fault:
    return Fault(kind, rate=1.0, limit=limit, operations=frozenset({operation}))


@pytest.fixture
def stepped(fake_time: FakeTime) -> RetryPolicy:
    """Full-size jitter on a fake clock: the waits are real numbers, never slept."""
    return RetryPolicy(sleep=fake_time.sleep, clock=fake_time.clock, random=lambda: 1.0)


def make(otel: Otel, proxy: Any, retry: RetryPolicy, **options: Any) -> Any:
    return resilient_s3.client(
        "s3", retry=retry, telemetry=otel.policy(**options), **proxy.client_kwargs()
    )


def test_a_put_that_meets_two_slowdowns_is_one_span_with_two_retry_events(
    otel: Otel, fault_proxy: Any, s3_bucket: str, stepped: RetryPolicy, fake_time: FakeTime
) -> None:
    s3 = make(otel, fault_proxy, stepped)
    fault_proxy.set_faults([only(FaultKind.SLOWDOWN, "PutObject", limit=2)])
    s3.put_object(Bucket=s3_bucket, Key="two-slowdowns", Body=b"x" * 100)

    [put] = otel.spans("S3.PutObject")
    assert fault_proxy.counters["op:PutObject"] == 3
    assert put.kind is SpanKind.CLIENT
    attributes = dict(put.attributes or {})
    assert attributes["rpc.system"] == "aws-api"
    assert attributes["rpc.service"] == "S3"
    assert attributes["rpc.method"] == "PutObject"
    assert attributes["aws.s3.bucket"] == s3_bucket
    assert "aws.s3.key" not in attributes  # keys only when asked for
    assert attributes["resilient_s3.attempts"] == 3
    assert attributes["resilient_s3.verified"] is True
    assert put.status.status_code is StatusCode.UNSET
    retries = [e for e in put.events if e.name == "resilient_s3.retry"]
    assert [dict(e.attributes or {}) for e in retries] == [
        {
            "resilient_s3.attempt": n,
            "resilient_s3.error.kind": "throttled",
            "error.type": "SlowDown",
            "resilient_s3.retry.delay": round(delay, 6),
        }
        for n, delay in zip((1, 2), fake_time.sleeps, strict=True)
    ]
    # the verification read-back is a child span of the put
    [head] = otel.spans("S3.HeadObject")
    assert head.parent is not None
    assert head.parent.span_id == put.context.span_id
    assert dict(head.attributes or {})["resilient_s3.read_back"] is True
    assert otel.total("resilient_s3.attempts", **{"rpc.method": "PutObject"}) == 3
    assert otel.total("resilient_s3.retries", **{"resilient_s3.error.kind": "throttled"}) == 2


def test_keys_are_recorded_only_when_asked(
    otel: Otel, fault_proxy: Any, s3_bucket: str, stepped: RetryPolicy
) -> None:
    make(otel, fault_proxy, stepped).put_object(Bucket=s3_bucket, Key="not-recorded", Body=b"x")
    s3 = make(otel, fault_proxy, stepped, record_keys=True)
    s3.put_object(Bucket=s3_bucket, Key="recorded", Body=b"x")
    s3.copy_object(Bucket=s3_bucket, Key="copied", CopySource=f"{s3_bucket}/recorded")
    keys = [dict(s.attributes or {}).get("aws.s3.key") for s in otel.spans("S3.PutObject")]
    assert keys == [None, "recorded"]
    [copy] = otel.spans("S3.CopyObject")
    assert dict(copy.attributes or {})["aws.s3.copy_source"] == f"{s3_bucket}/recorded"
    assert all("aws.s3.key" not in dict(attrs) for m in otel.metrics().values() for attrs in m)


def test_botocore_instrumentation_spans_nest_under_ours(
    otel: Otel, botocore_spans: None, fault_proxy: Any, s3_bucket: str, stepped: RetryPolicy
) -> None:
    s3 = make(otel, fault_proxy, stepped)
    fault_proxy.set_faults([only(FaultKind.SLOWDOWN, "PutObject", limit=2)])
    app = otel.tracer_provider.get_tracer("app")
    with app.start_as_current_span("handler") as handler:
        s3.put_object(Bucket=s3_bucket, Key="nested", Body=b"x")

    ours = {s.context.span_id: s for s in otel.ours()}
    [put] = [s for s in ours.values() if s.name == "S3.PutObject"]
    assert put.parent is not None
    assert put.parent.span_id == handler.get_span_context().span_id
    attempts = [
        s for s in otel.spans("S3.PutObject") if s.context.span_id not in ours
    ]  # one botocore span per attempt
    assert len(attempts) == 3
    assert all(s.parent is not None and s.parent.span_id == put.context.span_id for s in attempts)
    [head] = [s for s in ours.values() if s.name == "S3.HeadObject"]
    [head_attempt] = [s for s in otel.spans("S3.HeadObject") if s.context.span_id not in ours]
    assert head_attempt.parent is not None
    assert head_attempt.parent.span_id == head.context.span_id
    trace_id = handler.get_span_context().trace_id
    assert all(s.context.trace_id == trace_id for s in [*attempts, head, head_attempt])


def test_a_lost_write_shows_its_reupload(
    otel: Otel, fault_proxy: Any, s3_bucket: str, stepped: RetryPolicy
) -> None:
    s3 = make(otel, fault_proxy, stepped)
    fault_proxy.set_faults([only(FaultKind.LOST_WRITE, "PutObject", limit=1)])
    s3.put_object(Bucket=s3_bucket, Key="lost", Body=os.urandom(500))

    [put] = otel.spans("S3.PutObject")
    attributes = dict(put.attributes or {})
    assert [e.name for e in put.events].count("resilient_s3.reupload") == 1
    assert attributes["resilient_s3.attempts"] == 2  # the lost write and its re-upload
    assert attributes["resilient_s3.verified"] is True
    heads = otel.spans("S3.HeadObject")
    # the first read-back's answer alone (when it came tells a lost write from a delete), the
    # read-back until the write was declared lost, then once more after the re-upload
    assert len(heads) == 3
    assert all(h.parent is not None and h.parent.span_id == put.context.span_id for h in heads)
    missing = [h for h in heads if dict(h.attributes or {}).get("error.type")]
    assert len(missing) == 2
    assert missing[0].status.status_code is StatusCode.ERROR
    assert s3.stats.reuploads == 1 == otel.total("resilient_s3.reuploads")


def test_a_write_that_may_not_be_read_back_is_marked_unverified(
    otel: Otel, fault_proxy: Any, s3_bucket: str, stepped: RetryPolicy
) -> None:
    s3 = make(otel, fault_proxy, stepped)
    denied = frozenset({"HeadObject", "ListObjectsV2"})
    fault_proxy.set_faults([Fault(FaultKind.ACCESS_DENIED, operations=denied)])
    s3.put_object(Bucket=s3_bucket, Key="unread", Body=b"x")

    [put] = otel.spans("S3.PutObject")
    attributes = dict(put.attributes or {})
    assert attributes["resilient_s3.unverified"] is True
    assert "resilient_s3.verified" not in attributes
    assert otel.total("resilient_s3.unverified") == s3.stats.unverified == 1
    [head], [listing] = otel.spans("S3.HeadObject"), otel.spans("S3.ListObjectsV2")
    assert head.parent is not None
    assert listing.parent is not None
    assert head.parent.span_id == listing.parent.span_id == put.context.span_id


@pytest.mark.parametrize(
    ("fault", "code", "kind", "gave_up"),
    [
        (FaultKind.ACCESS_DENIED, "AccessDenied", "permanent", False),
        (FaultKind.SLOWDOWN, "SlowDown", "throttled", True),
    ],
)
def test_the_final_error_is_recorded_with_status_error(
    otel: Otel,
    fault_proxy: Any,
    s3_bucket: str,
    stepped: RetryPolicy,
    fault: FaultKind,
    code: str,
    kind: str,
    gave_up: bool,
) -> None:
    s3 = make(otel, fault_proxy, stepped)
    fault_proxy.set_faults([only(fault, "PutObject")])
    with pytest.raises(s3.exceptions.ClientError) as raised:
        s3.put_object(Bucket=s3_bucket, Key="fails", Body=b"x")

    [put] = otel.spans("S3.PutObject")
    attributes = dict(put.attributes or {})
    assert put.status.status_code is StatusCode.ERROR
    assert put.status.description == code
    assert attributes["error.type"] == code
    assert attributes["resilient_s3.error.kind"] == kind
    assert attributes["resilient_s3.attempts"] == raised.value.resilient_s3_attempts
    assert attributes["resilient_s3.attempts"] == fault_proxy.counters["op:PutObject"]
    assert attributes.get("resilient_s3.gave_up", False) is gave_up
    [exception] = [e for e in put.events if e.name == "exception"]
    assert "exception.message" not in (exception.attributes or {})  # messages can hold URLs
    assert otel.total("resilient_s3.call.duration", **{"error.type": code}) == 1
    assert otel.total("resilient_s3.give_ups") == (1 if gave_up else 0) == s3.stats.give_ups


def test_a_resumed_download_is_a_span_linked_to_its_get(
    otel: Otel, fault_proxy: Any, s3_bucket: str, s3_server_client: Any, stepped: RetryPolicy
) -> None:
    data = os.urandom(200_000)
    s3_server_client.put_object(Bucket=s3_bucket, Key="big", Body=data)
    s3 = make(otel, fault_proxy, stepped)
    s3.meta.events.register("before-send.s3", _keep_on_botocore)  # a body that streams
    fault_proxy.set_faults([only(FaultKind.TRUNCATE_BODY, "GetObject", limit=1)])
    assert s3.get_object(Bucket=s3_bucket, Key="big")["Body"].read() == data

    first, resumed = otel.spans("S3.GetObject")
    attributes = dict(resumed.attributes or {})
    offset = attributes["resilient_s3.resume.offset"]
    assert isinstance(offset, int)
    assert 0 < offset < len(data)
    assert [link.context.span_id for link in resumed.links] == [first.context.span_id]
    assert "resilient_s3.resume" in [e.name for e in resumed.events]
    assert s3.stats.resumes == 1 == otel.total("resilient_s3.resumes")


def test_metrics_match_stats(
    otel: Otel, fault_proxy: Any, s3_bucket: str, stepped: RetryPolicy
) -> None:
    # 10% lost writes: with the proxy's seed, one key is lost 4 times in a row (its re-uploads
    # too), more than the default 3 re-uploads; this test is about metrics, not that limit
    s3 = resilient_s3.client(
        "s3",
        retry=stepped,
        verify_writes=resilient_s3.VerifyPolicy(max_reuploads=6),
        telemetry=otel.policy(),
        **fault_proxy.client_kwargs(),
    )
    s3.meta.events.register("before-send.s3", _keep_on_botocore)  # resumed bodies counted too
    fault_proxy.set_faults(
        [
            Fault(FaultKind.SLOWDOWN, rate=0.15),
            Fault(FaultKind.INTERNAL_ERROR, rate=0.1),
            Fault(FaultKind.RESET_BEFORE, rate=0.1),
            Fault(FaultKind.LOST_WRITE, rate=0.1),
            Fault(FaultKind.TRUNCATE_BODY, rate=0.1),
        ]
    )
    for i in range(30):
        s3.put_object(Bucket=s3_bucket, Key=f"m/{i}", Body=os.urandom(2000))
        s3.get_object(Bucket=s3_bucket, Key=f"m/{i}")["Body"].read()
    stats = s3.stats
    assert stats.retries
    assert stats.reuploads
    assert stats.resumes
    for field in (
        "calls", "attempts", "give_ups", "budget_exhausted", "resumes", "verified",
        "verified_by_listing", "reuploads", "conflicts", "unverified",
    ):  # fmt: skip
        assert otel.total(f"resilient_s3.{field}") == getattr(stats, field), field
    for kind, count in stats.retries.items():
        assert otel.total("resilient_s3.retries", **{"resilient_s3.error.kind": kind}) == count
    assert otel.total("resilient_s3.retries") == sum(stats.retries.values())
    assert otel.total("resilient_s3.verify.time") == pytest.approx(stats.verify_seconds)
    # stats.calls counts a re-upload as a call of its own; the histogram times facade calls
    assert otel.total("resilient_s3.call.duration") == stats.calls - stats.reuploads


def test_the_requests_of_a_managed_transfer_are_children_of_the_callers_span(
    otel: Otel, traced: Any, s3_bucket: str, tmp_path: Any
) -> None:
    from boto3.s3.transfer import TransferConfig

    path = tmp_path / "six-mib"
    path.write_bytes(os.urandom(6 * 1024 * 1024))
    config = TransferConfig(
        multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024
    )
    app = otel.tracer_provider.get_tracer("app")
    with app.start_as_current_span("upload") as upload:
        traced.upload_file(str(path), s3_bucket, "six-mib", Config=config)

    names = sorted(
        s.name for s in otel.ours() if not dict(s.attributes or {}).get("resilient_s3.read_back")
    )
    assert names == [
        "S3.CompleteMultipartUpload", "S3.CreateMultipartUpload", "S3.UploadPart", "S3.UploadPart",
    ]  # fmt: skip
    parent = upload.get_span_context().span_id
    calls = [s for s in otel.ours() if not dict(s.attributes or {}).get("resilient_s3.read_back")]
    assert all(s.parent is not None and s.parent.span_id == parent for s in calls)


def test_wrap_and_with_options_share_the_clients_telemetry(
    otel: Otel, fault_proxy: Any, s3_bucket: str, stepped: RetryPolicy
) -> None:
    import boto3

    plain = boto3.client("s3", **fault_proxy.client_kwargs())
    s3 = resilient_s3.wrap(plain, retry=stepped, telemetry=otel.policy())
    assert s3.telemetry_policy is not None
    s3.with_options(verify_writes=False).put_object(Bucket=s3_bucket, Key="derived", Body=b"x")
    paginator = s3.get_paginator("list_objects_v2")
    pages = list(paginator.paginate(Bucket=s3_bucket, PaginationConfig={"PageSize": 1}))
    assert [s.name for s in otel.ours()] == ["S3.PutObject"] + ["S3.ListObjectsV2"] * len(pages)
    assert otel.total("resilient_s3.calls") == s3.stats.calls == 1 + len(pages)


def test_telemetry_false_reports_nothing(
    otel: Otel, fault_proxy: Any, s3_bucket: str, stepped: RetryPolicy
) -> None:
    s3 = resilient_s3.client("s3", retry=stepped, telemetry=False, **fault_proxy.client_kwargs())
    s3.put_object(Bucket=s3_bucket, Key="quiet", Body=b"x")
    assert s3.telemetry_policy is None
    assert s3.stats.calls == 2
    assert otel.spans() == []
    assert otel.metrics() == {}


def _keep_on_botocore(**_: Any) -> None:
    """A caller's event handler: it keeps every call on botocore (whose bodies resume)."""
