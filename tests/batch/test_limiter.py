"""Rate limits, measured against the real server with generous tolerances, and the pacer's
pieces in isolation."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from resilient_s3 import VerifyPolicy
from resilient_s3.batch import BatchClient, BatchEvent
from resilient_s3.batch._pacing.pacer import (
    BatchCancelled,
    LoopLimiters,
    Pacer,
    VariableGate,
    make_limiter,
)

from .conftest import make_bodies


def _max_in_window(times: list[float], window: float) -> int:
    """The most events in any ``window`` seconds."""
    best, start = 0, 0
    for end, now in enumerate(times):
        while now - times[start] > window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_rate_limit_bounds_the_requests_per_second(
    batch: BatchClient, fault_proxy: Any, s3_bucket: str
) -> None:
    times: list[float] = []

    def progress(event: BatchEvent) -> None:
        if event.kind in ("succeeded", "failed"):
            times.append(time.monotonic())

    keys = [f"missing/{i}" for i in range(60)]  # one HeadObject each, answered 404
    report = batch.head(s3_bucket, keys, rate_limit=20, concurrency=16, progress=progress)

    assert fault_proxy.counters["requests"] == report.stats.requests == 60
    assert report.stats.seconds >= (60 - 2) / 20 * 0.95  # a burst of 2 (0.1 s), then 20/s
    assert report.stats.seconds < 60 / 20 * 2  # and not much slower than asked
    assert _max_in_window(times, 1.0) <= 20 + 2 + 2


def test_every_request_counts_verification_included(
    batch: BatchClient, fault_proxy: Any, s3_bucket: str
) -> None:
    one_head_each = VerifyPolicy(coalesce=0)
    report = batch.put(
        s3_bucket, make_bodies(15, size=1), verify_writes=one_head_each, rate_limit=20
    )

    assert report.ok
    assert report.stats.requests == fault_proxy.counters["requests"] == 30  # PUT + HEAD each
    assert report.stats.seconds >= (30 - 2) / 20 * 0.95


def test_concurrent_batches_of_one_client_share_the_limit(
    batch: BatchClient, fault_proxy: Any, s3_bucket: str
) -> None:
    async def both() -> list[Any]:
        first = batch.head_async(s3_bucket, [f"a/{i}" for i in range(30)], rate_limit=20)
        second = batch.head_async(s3_bucket, [f"b/{i}" for i in range(30)], rate_limit=20)
        return list(await asyncio.gather(first, second))

    started = time.monotonic()
    reports = asyncio.run(both())
    elapsed = time.monotonic() - started

    assert sum(r.stats.requests for r in reports) == 60
    assert elapsed >= (60 - 2) / 20 * 0.95  # 20/s together, not 20/s each


def test_bytes_per_second_bounds_upload_bytes(batch: BatchClient, s3_bucket: str) -> None:
    report = batch.put(
        s3_bucket, make_bodies(8, size=50_000), bytes_per_second=200_000, verify_writes="off"
    )

    assert report.ok
    # 400 kB at 200 kB/s, less the first burst (20 kB): at least ~1.9 s
    assert report.stats.seconds >= (400_000 - 20_000) / 200_000 * 0.95


def test_make_limiter_has_a_tenth_of_a_second_burst_and_a_one_second_period() -> None:
    limiter = make_limiter(50.0)
    assert limiter.max_rate == 5.0
    assert limiter.time_period == pytest.approx(0.1)
    slow = make_limiter(2.0)
    assert slow.max_rate == 1.0  # at least one request
    assert slow.time_period == pytest.approx(0.5)


def test_loop_limiters_are_shared_by_kind_and_rate() -> None:
    limiters = LoopLimiters()
    assert limiters.get("requests", 10.0) is limiters.get("requests", 10.0)
    assert limiters.get("requests", 10.0) is not limiters.get("bytes", 10.0)
    assert limiters.get("requests", 10.0) is not limiters.get("requests", 11.0)


def test_variable_gate_follows_the_rate_given_at_each_acquisition() -> None:
    async def paced() -> tuple[float, float]:
        gate, loop = VariableGate(), asyncio.get_running_loop()
        started = loop.time()
        await asyncio.gather(*(gate.acquire(50.0) for _ in range(26)))  # burst 5, then 50/s
        fast = loop.time() - started
        started = loop.time()
        await asyncio.gather(*(gate.acquire(20.0) for _ in range(10)))  # slower at once
        return fast, loop.time() - started

    fast, slow = asyncio.run(paced())
    assert 0.4 * 0.95 <= fast < 0.4 * 1.5  # 21 after the burst at 50/s
    assert 10 / 20 * 0.95 <= slow < 10 / 20 * 1.5


def test_pacer_without_limits_never_touches_the_loop() -> None:
    loop = asyncio.new_event_loop()  # never run: a wait that needed it would hang
    try:
        pacer = Pacer(loop, LoopLimiters(), None, None, None)
        pacer.wait(1, 1000)
        pacer.cancel()
        with pytest.raises(BatchCancelled):
            pacer.wait(1, 0)
    finally:
        loop.close()
