"""The asyncio door reports as the sync door does: one span per call (its retries as events,
its read-backs as children), botocore's own spans nested under ours although botocore runs in
a worker thread, a resumed download linked to its GetObject, metrics matching stats."""

from __future__ import annotations

import os
from typing import Any

import pytest

import resilient_s3.aio
from resilient_s3 import RetryPolicy
from resilient_s3.testing import Fault, FaultKind

from ..conftest import FakeTime
from ..telemetry.conftest import Otel
from .conftest import run


def only(kind: FaultKind, operation: str, limit: int | None = None) -> Fault:
    return Fault(kind, rate=1.0, limit=limit, operations=frozenset({operation}))


@pytest.fixture
def stepped(fake_time: FakeTime) -> RetryPolicy:
    return RetryPolicy(sleep=fake_time.sleep, clock=fake_time.clock, random=lambda: 1.0)


def make(otel: Otel, proxy: Any, retry: RetryPolicy) -> Any:
    return resilient_s3.aio.client(
        "s3", retry=retry, telemetry=otel.policy(), **proxy.client_kwargs()
    )


def test_spans_nest_across_the_worker_threads(
    otel: Otel, botocore_spans: None, fault_proxy: Any, s3_bucket: str, stepped: RetryPolicy
) -> None:
    fault_proxy.set_faults([only(FaultKind.SLOWDOWN, "PutObject", limit=2)])
    app = otel.tracer_provider.get_tracer("app")

    async def main(s3: Any) -> Any:
        with app.start_as_current_span("handler") as handler:
            await s3.put_object(Bucket=s3_bucket, Key="nested", Body=b"x")
        return handler

    handler = run(make(otel, fault_proxy, stepped), main)
    ours = {s.context.span_id: s for s in otel.ours()}
    [put] = [s for s in ours.values() if s.name == "S3.PutObject"]
    assert put.parent is not None
    assert put.parent.span_id == handler.get_span_context().span_id
    attributes = dict(put.attributes or {})
    assert attributes["resilient_s3.attempts"] == 3
    assert attributes["resilient_s3.verified"] is True
    assert [e.name for e in put.events].count("resilient_s3.retry") == 2
    attempts = [s for s in otel.spans("S3.PutObject") if s.context.span_id not in ours]
    assert len(attempts) == 3  # botocore's, one per attempt, made in worker threads
    assert all(s.parent is not None and s.parent.span_id == put.context.span_id for s in attempts)
    [head] = [s for s in ours.values() if s.name == "S3.HeadObject"]
    assert head.parent is not None
    assert head.parent.span_id == put.context.span_id
    assert dict(head.attributes or {})["resilient_s3.read_back"] is True
    assert otel.total("resilient_s3.retries", **{"resilient_s3.error.kind": "throttled"}) == 2


def test_a_resumed_download_is_a_span_linked_to_its_get(
    otel: Otel, fault_proxy: Any, s3_bucket: str, s3_server_client: Any, stepped: RetryPolicy
) -> None:
    data = os.urandom(200_000)
    s3_server_client.put_object(Bucket=s3_bucket, Key="big", Body=data)
    fault_proxy.set_faults([only(FaultKind.TRUNCATE_BODY, "GetObject", limit=1)])

    async def main(s3: Any) -> Any:
        s3.meta.events.register("before-send.s3", _keep_on_botocore)  # a body that streams
        body = (await s3.get_object(Bucket=s3_bucket, Key="big"))["Body"]
        assert await body.read() == data
        return s3.stats

    stats = run(make(otel, fault_proxy, stepped), main)
    first, resumed = otel.spans("S3.GetObject")
    offset = dict(resumed.attributes or {})["resilient_s3.resume.offset"]
    assert isinstance(offset, int)
    assert 0 < offset < len(data)
    assert [link.context.span_id for link in resumed.links] == [first.context.span_id]
    assert stats.resumes == 1 == otel.total("resilient_s3.resumes")


def test_batch_and_with_options_share_the_clients_parts(
    fault_proxy: Any, s3_bucket: str, s3_server_client: Any, stepped: RetryPolicy
) -> None:
    async def main(s3: Any) -> tuple[Any, int]:
        report = await s3.batch.put_async(s3_bucket, [(f"b/{i}", b"y") for i in range(10)])
        assert report.ok
        quiet = s3.with_options(verify_writes=False)
        fault_proxy.reset_counters()
        await quiet.put_object(Bucket=s3_bucket, Key="unverified", Body=b"z")
        heads = fault_proxy.counters["op:HeadObject"]
        assert quiet.stats == s3.stats  # one set of counters
        return s3.stats, heads

    stats, heads = run(
        resilient_s3.aio.client("s3", retry=stepped, **fault_proxy.client_kwargs()), main
    )
    assert heads == 0  # verify_writes=False reads nothing back
    listed = s3_server_client.list_objects_v2(Bucket=s3_bucket, Prefix="b/")["KeyCount"]
    assert listed == 10
    assert stats.calls >= 1


def _keep_on_botocore(**_: Any) -> None:
    """A caller's event handler: it keeps every call on botocore (whose bodies resume)."""
