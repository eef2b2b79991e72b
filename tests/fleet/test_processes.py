"""One rate for many processes: 3 spawned processes, each with the pickled client, share a
SharedLimiter in a real redis-server, through the fault proxy in front of a moto server."""

from __future__ import annotations

import uuid
from typing import Any

import resilient_s3
from resilient_s3 import SharedLimiter
from resilient_s3.testing import Fault, FaultKind, FaultProxy, RedisServer

from . import _workers

PROCESSES = 3


def test_three_processes_share_40_requests_a_second(
    redis_server: RedisServer, fault_proxy: FaultProxy, s3_bucket: str
) -> None:
    limiter = SharedLimiter(redis_server.url, f"rate-{uuid.uuid4().hex[:8]}", per_second=40)
    s3 = resilient_s3.client("s3", rate_limit=limiter, **fault_proxy.client_kwargs())
    s3.put_object(Bucket=s3_bucket, Key="k", Body=b"x")
    seconds = 5.0
    calls = [(s3, s3_bucket, "k", seconds)] * PROCESSES
    sent: list[list[float]] = _workers.run_together(
        _workers.paced_heads, calls, warm=_workers.warm_heads
    )
    # while all three were sending: from the last first request (plus the 0.1 s burst) to the
    # first last request
    start = max(min(times) for times in sent) + 0.1
    end = min(max(times) for times in sent)
    counts = [sum(start <= t < end for t in times) for times in sent]
    rate = sum(counts) / (end - start)
    print(
        f"3 processes, SharedLimiter(per_second=40): {rate:.1f} requests/s sent over "
        f"{end - start:.2f} s, per process {counts}"
    )
    assert end - start >= 2.0
    assert all(count > 0 for count in counts)  # every process got a share
    assert 40 * 0.75 <= rate <= 40 * 1.25


def _run_heads(
    s3: Any, bucket: str, keys: list[str], limiter: SharedLimiter | None
) -> list[dict[str, Any]]:
    calls = [(s3, bucket, keys[i::PROCESSES], limiter) for i in range(PROCESSES)]
    results: list[dict[str, Any]] = _workers.run_together(_workers.head_batch, calls)
    return results


def test_shared_adaptive_rate_meets_throttling_with_fewer_slowdowns(
    redis_server: RedisServer, fault_proxy: FaultProxy, s3_bucket: str
) -> None:
    server_rate = 25.0
    s3 = resilient_s3.client("s3", **fault_proxy.client_kwargs())
    keys = [f"k{i:04d}" for i in range(180)]
    for key in keys:
        s3.put_object(Bucket=s3_bucket, Key=key, Body=b"x")
    fault_proxy.set_faults([Fault(FaultKind.THROTTLE, per_second=server_rate)])

    fault_proxy.reset_counters()
    independent = _run_heads(s3, s3_bucket, keys, None)
    throttled_alone = fault_proxy.counters["throttle"]

    fault_proxy.set_faults([Fault(FaultKind.THROTTLE, per_second=server_rate)])
    fault_proxy.reset_counters()
    name = f"adaptive-{uuid.uuid4().hex[:8]}"
    limiter = SharedLimiter(redis_server.url, name, per_second=3 * server_rate)
    shared = _run_heads(s3, s3_bucket, keys, limiter)
    throttled_shared = fault_proxy.counters["throttle"]
    passed = fault_proxy.counters["throttle_passed"]
    seconds = max(result["seconds"] for result in shared)
    final_rates = [result["rate"] for result in shared]
    print(
        f"throttled answers: 3 independent adaptive clients {throttled_alone} "
        f"({[r['throttled'] for r in independent]}), shared adaptive rate {throttled_shared}; "
        f"shared: {passed / seconds:.1f} accepted/s, final shared rate {final_rates}, "
        f"server rate {server_rate:g}/s"
    )
    assert all(result["ok"] for result in independent + shared)
    assert throttled_shared <= throttled_alone
    assert passed / seconds >= 0.5 * server_rate  # converged near the server's rate, not far below
