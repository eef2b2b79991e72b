"""The span and metrics of a batch, with the real OpenTelemetry SDK, through the fault proxy."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from opentelemetry.trace import SpanKind, StatusCode

import resilient_s3
from resilient_s3._transports.crt import crt_unavailable
from resilient_s3.batch import AdaptivePolicy
from resilient_s3.testing import Fault, FaultKind

from .conftest import Otel

PUT = frozenset({"PutObject"})


def test_a_batch_of_200_with_failures_is_one_span_with_the_right_counts(
    otel: Otel, traced: Any, fault_proxy: Any, s3_bucket: str
) -> None:
    fault_proxy.set_faults(
        [
            Fault(FaultKind.ACCESS_DENIED, rate=0.05, operations=PUT),
            Fault(FaultKind.SLOWDOWN, rate=0.1, operations=PUT),
        ]
    )
    app = otel.tracer_provider.get_tracer("app")
    with app.start_as_current_span("job") as job:
        report = traced.batch.put(
            s3_bucket, {f"b/{i:04d}": b"x" * 64 for i in range(200)}, concurrency=8
        )

    counters = fault_proxy.counters
    assert report.stats.failed == counters["access_denied"] > 0
    assert report.stats.throttled == counters["slowdown"] > 0
    [batch] = otel.spans("resilient_s3.batch.put")
    assert batch.kind is SpanKind.INTERNAL
    assert batch.parent is not None
    assert batch.parent.span_id == job.get_span_context().span_id
    attributes = dict(batch.attributes or {})
    stats = report.stats
    assert attributes["aws.s3.bucket"] == s3_bucket
    assert attributes["resilient_s3.batch.operation"] == "put"
    plane = "crt" if crt_unavailable() is None else "botocore"  # the default plane, either install
    assert attributes["resilient_s3.batch.plane"] == report.stats.plane == plane
    for name in ("items", "succeeded", "failed", "throttled", "requests", "verified"):
        assert attributes[f"resilient_s3.batch.{name}"] == getattr(stats, name), name
    assert attributes["resilient_s3.batch.items"] == 200
    assert attributes["resilient_s3.batch.retries.throttled"] == stats.retries["throttled"]
    assert batch.status.status_code is StatusCode.ERROR
    assert otel.ours() == [batch]  # no span per item unless asked
    assert otel.total("resilient_s3.batch.items", outcome="succeeded") == stats.succeeded
    assert otel.total("resilient_s3.batch.items", outcome="failed") == stats.failed
    assert (
        otel.total(
            "resilient_s3.batch.items", outcome="failed", **{"resilient_s3.error.kind": "permanent"}
        )
        == stats.failed
    )
    # the batch's calls are counted all the same
    assert otel.total("resilient_s3.attempts") == traced.stats.attempts
    assert otel.total("resilient_s3.retries") == sum(traced.stats.retries.values())


def test_item_spans_when_asked_nest_under_the_batch_span(
    otel: Otel, fault_proxy: Any, s3_bucket: str, quick_policy: Any
) -> None:
    policy = otel.policy(batch_item_spans=True)
    with resilient_s3.client(
        "s3", retry=quick_policy, telemetry=policy, **fault_proxy.client_kwargs()
    ) as s3:
        items = {f"i/{i}": b"x" for i in range(20)}
        report = asyncio.run(s3.batch.put_async(s3_bucket, items))
    assert report.ok
    [batch] = otel.spans("resilient_s3.batch.put")
    puts = otel.spans("S3.PutObject")
    assert len(puts) == 20
    assert all(p.parent is not None and p.parent.span_id == batch.context.span_id for p in puts)
    assert batch.status.status_code is StatusCode.UNSET


def test_the_adaptive_rate_is_a_gauge(
    otel: Otel, traced: Any, fault_proxy: Any, s3_bucket: str
) -> None:
    fault_proxy.set_faults([Fault(FaultKind.SLOWDOWN, rate=0.5, operations=PUT)])
    adaptive = AdaptivePolicy(threshold=0.0, increase=0.001, min_rate=25.0)
    report = traced.batch.put(
        s3_bucket, {f"a/{i}": b"x" for i in range(60)}, concurrency=8, adaptive=adaptive,
        verify_writes="off",
    )  # fmt: skip
    rate = report.stats.adaptive_rate
    assert rate is not None  # throttled half the time: the rate came down
    [(attributes, value)] = otel.metrics()["resilient_s3.batch.adaptive_rate"].items()
    assert value == pytest.approx(rate, rel=0.2)  # it creeps up with answers after the report
    assert dict(attributes) == {"server.address": "127.0.0.1"}
