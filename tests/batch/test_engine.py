"""Cancellation: task cancellation and Ctrl-C stop requests, report what completed, abort
multipart uploads, abandon requests that outlive the grace period."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from typing import Any

import pytest

from resilient_s3 import ErrorTables
from resilient_s3.batch import BatchClient, BatchEvent, BatchReport
from resilient_s3.batch._engine.engine import Engine
from resilient_s3.batch._options import Options
from resilient_s3.batch._pacing.context import RequestContext
from resilient_s3.batch._pacing.pacer import LoopLimiters, Pacer
from resilient_s3.batch._report.progress import Progress
from resilient_s3.batch._report.report import KEPT_TRACEBACKS
from resilient_s3.testing import Fault, FaultKind

from .conftest import make_bodies, stored

MIB = 1024 * 1024


def _cancel_after(seconds: float, coroutine: Any) -> tuple[BatchReport, float]:
    """Run ``coroutine`` as a task, cancel it after ``seconds``; the report its CancelledError
    carried, and how long the task took to end after the cancel."""
    caught: list[BaseException] = []

    async def guarded() -> None:
        try:
            await coroutine
        except asyncio.CancelledError as cancelled:
            caught.append(cancelled)
            raise

    async def main() -> float:
        task = asyncio.create_task(guarded())
        await asyncio.sleep(seconds)
        task.cancel()
        cancelled_at = time.monotonic()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - cancelled_at

    took = asyncio.run(main())
    (cancelled,) = caught
    report: BatchReport = cancelled.resilient_s3_report  # type: ignore[attr-defined]
    return report, took


def test_task_cancellation_stops_sending_and_reports_what_completed(
    batch: BatchClient, fault_proxy: Any, s3_server_client: Any, s3_bucket: str
) -> None:
    events: list[BatchEvent] = []
    bodies = make_bodies(400, size=10)
    coroutine = batch.put_async(
        s3_bucket,
        bodies,
        rate_limit=40,
        verify_writes="off",
        keep_results=True,
        progress=events.append,
    )

    report, took = _cancel_after(1.0, coroutine)

    assert took < 1.0
    sent = fault_proxy.counters["requests"]
    time.sleep(0.5)
    assert fault_proxy.counters["requests"] == sent  # no request after the cancellation
    assert report.stopped == "cancelled"
    assert not report.ok
    assert 20 <= report.succeeded <= 60  # ~1 s at 40/s (plus the first burst)
    completed = {result.key for result in report.results}
    on_server = set(stored(s3_server_client, s3_bucket))
    assert completed <= on_server <= completed | set(report.incomplete)
    assert events[-1].kind == "finished"
    assert events[-1].report == report


def test_cancelled_list_verification_reports_unverified_writes_as_incomplete(
    batch: BatchClient, s3_server_client: Any, s3_bucket: str
) -> None:
    coroutine = batch.put_async(s3_bucket, make_bodies(400, size=10), rate_limit=40)

    report, _ = _cancel_after(1.0, coroutine)

    assert report.succeeded == 0  # written, but no window of 1,000 was full yet to verify
    assert set(stored(s3_server_client, s3_bucket)) <= set(report.incomplete)
    assert len(report.incomplete) >= 20


def test_cancellation_aborts_the_multipart_uploads_it_started(
    batch: BatchClient, fault_proxy: Any, s3_server_client: Any, s3_bucket: str
) -> None:
    body = os.urandom(16 * MIB)
    coroutine = batch.put_async(
        s3_bucket, {"big": body}, multipart_threshold=5 * MIB, part_size=5 * MIB,
        bytes_per_second=4 * MIB, data_plane="botocore",  # the CRT's: test_crt_multipart.py
    )  # fmt: skip

    report, _ = _cancel_after(0.8, coroutine)

    assert report.stopped == "cancelled"
    assert report.incomplete == ("big",)
    assert fault_proxy.counters["op:CreateMultipartUpload"] == 1
    assert fault_proxy.counters["op:AbortMultipartUpload"] == 1
    assert not s3_server_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads")
    assert "big" not in stored(s3_server_client, s3_bucket)


def test_requests_outliving_the_grace_period_are_abandoned(
    batch: BatchClient, fault_proxy: Any, s3_bucket: str
) -> None:
    slow = Fault(FaultKind.LATENCY, seconds=3.0, operations=frozenset({"PutObject"}))
    fault_proxy.set_faults([slow])
    coroutine = batch.put_async(
        s3_bucket, make_bodies(20, size=1), concurrency=4, verify_writes="off", cancel_grace=0.2
    )

    report, took = _cancel_after(0.5, coroutine)

    assert took < 1.5  # did not wait for the 3 s requests
    assert report.succeeded == 0
    assert len(report.incomplete) == 4  # the four in flight


def test_ctrl_c_during_a_sync_batch(
    batch: BatchClient, fault_proxy: Any, s3_server_client: Any, s3_bucket: str
) -> None:
    assert threading.current_thread() is threading.main_thread()
    main = threading.main_thread().ident
    assert main is not None
    timer = threading.Timer(1.0, signal.pthread_kill, (main, signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt) as interrupted:
            batch.put(s3_bucket, make_bodies(400, size=10), rate_limit=40, verify_writes="off")
    finally:
        timer.cancel()

    report: BatchReport = interrupted.value.resilient_s3_report  # type: ignore[attr-defined]
    assert report.stopped == "cancelled"
    assert 20 <= report.succeeded <= 60
    sent = fault_proxy.counters["requests"]
    time.sleep(0.3)
    assert fault_proxy.counters["requests"] == sent
    assert len(stored(s3_server_client, s3_bucket)) >= report.succeeded


def test_an_error_from_the_progress_callback_stops_the_batch_and_propagates(
    batch: BatchClient, s3_bucket: str
) -> None:
    def progress(event: BatchEvent) -> None:
        if event.done == 5:
            raise RuntimeError("callback failed")

    with pytest.raises(RuntimeError, match="callback failed") as raised:
        batch.put(s3_bucket, make_bodies(100, size=1), verify_writes="off", progress=progress)
    report: BatchReport = raised.value.resilient_s3_report  # type: ignore[attr-defined]
    assert report.stopped == "error"
    assert report.succeeded < 100


def test_failures_beyond_the_kept_tracebacks_lose_their_traceback() -> None:
    loop = asyncio.new_event_loop()  # never run: the engine is only counted into
    try:
        pacer = Pacer(loop, LoopLimiters(), None, None, None)
        engine = Engine(
            "put", RequestContext(pacer, ErrorTables()), Options(concurrency=1, cancel_grace=0.0),
            Progress("put", False, None), lambda *_: None,
        )  # fmt: skip
        errors = []
        for i in range(KEPT_TRACEBACKS + 1):
            try:
                raise OSError(f"local failure {i}")
            except OSError as error:
                errors.append(error)
                engine.fail("b", f"k{i}", error)
    finally:
        loop.close()
    assert errors[0].__traceback__ is not None
    assert errors[-1].__traceback__ is None
