"""Batches on a real Dask cluster (``executor=``): a 2-worker LocalCluster of worker processes,
the S3 traffic through the fault proxy, the pickled client rebuilt on each worker."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest

import resilient_s3
from resilient_s3 import Backoff, RetryPolicy
from resilient_s3.batch import BatchReport
from resilient_s3.testing import Fault, FaultKind, FaultProxy, mixed_faults

from .conftest import make_bodies, stored

distributed = pytest.importorskip("distributed")

#: Retries that do not sleep a whole second on SlowDown (the default for production).
QUICK = RetryPolicy(throttled=Backoff(max_attempts=8, base=0.05, cap=0.5))


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    """A real LocalCluster: 2 worker processes (each its own Python), 2 threads each."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=2,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _faulty_client(proxy: FaultProxy) -> Any:
    return resilient_s3.client("s3", retry=QUICK, **proxy.client_kwargs())


def test_put_3000_through_faults_and_lost_writes(
    dask_client: Any, fault_proxy: FaultProxy, s3_bucket: str, s3_server_client: Any
) -> None:
    lost = Fault(FaultKind.LOST_WRITE, rate=0.03)
    fault_proxy.set_faults((*mixed_faults(0.08), lost))
    s3 = _faulty_client(fault_proxy)
    bodies = make_bodies(3000, prefix="cluster/", size=64)
    consumed: list[str] = []

    def items() -> Iterator[tuple[str, bytes]]:  # consumed lazily, chunk by chunk
        for key, body in bodies.items():
            consumed.append(key)
            yield key, body

    # adaptive off: the SlowDowns of the mix are random, not a rate to adapt to
    report = s3.batch.put(
        s3_bucket, items(), executor=dask_client, chunk_size=250, concurrency=16, adaptive=False
    )
    print(report.summary(), report.stats.as_dict(), fault_proxy.counters["lost_write"])
    assert report.ok, report.summary()
    assert report.succeeded == 3000
    assert report.stats.reuploads > 0  # lost writes were found and written again
    on_server = stored(s3_server_client, s3_bucket, "cluster/")
    assert sorted(on_server) == sorted(bodies)  # 0 missing
    assert all(on_server[key] == 64 for key in bodies)
    assert len(consumed) == 3000


def test_a_worker_killed_mid_batch_loses_nothing(
    dask_client: Any, fault_proxy: FaultProxy, s3_bucket: str, s3_server_client: Any
) -> None:
    fault_proxy.set_faults([Fault(FaultKind.LATENCY, rate=1.0, seconds=0.02)])
    s3 = _faulty_client(fault_proxy)
    bodies = make_bodies(600, prefix="killed/", size=32)
    pids = dask_client.run(os.getpid)  # worker address -> PID of the processes the cluster made
    killed: list[int] = []

    def items() -> Iterator[tuple[str, bytes]]:
        for index, (key, body) in enumerate(bodies.items()):
            if index == 300:  # chunks are running by now: kill a worker that holds one
                busy = {a: len(keys) for a, keys in dask_client.processing().items() if keys}
                victim = pids[max(busy, key=busy.__getitem__)] if busy else min(pids.values())
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)
            yield key, body

    report = s3.batch.put(s3_bucket, items(), executor=dask_client, chunk_size=50)
    puts = fault_proxy.counters["op:PutObject"]
    print(report.summary(), "PUTs sent:", puts)
    assert len(killed) == 1
    assert puts >= 600
    assert report.ok, report.summary()
    assert report.succeeded == 600
    on_server = stored(s3_server_client, s3_bucket, "killed/")
    assert sorted(on_server) == sorted(bodies)
    dask_client.wait_for_workers(2, timeout=60)  # the nanny started a new one


def test_get_head_copy_delete_merge_their_reports(
    dask_client: Any, fault_proxy: FaultProxy, s3_bucket: str, s3_server_client: Any
) -> None:
    s3 = _faulty_client(fault_proxy)
    bodies = make_bodies(40, prefix="ops/", size=16)
    s3.batch.put(s3_bucket, bodies).raise_for_failures()
    keys = [*bodies, "ops/missing"]
    options: dict[str, Any] = {"executor": dask_client, "chunk_size": 7}

    got = s3.batch.get(s3_bucket, keys, **options)
    assert got.succeeded == 40
    assert dict(got.data) == bodies
    assert [(f.key, f.kind.value) for f in got.failed] == [("ops/missing", "not_found")]

    head = s3.batch.head(s3_bucket, keys, keep_results=True, **options)
    assert head.succeeded == 40
    assert sorted(r.key for r in head.results) == sorted(bodies)

    pairs = [(s3_bucket, key, s3_bucket, "copied/" + key) for key in bodies]
    copied = s3.batch.copy(pairs, **options)
    assert copied.ok, copied.summary()
    assert len(stored(s3_server_client, s3_bucket, "copied/")) == 40

    deleted = s3.batch.delete(s3_bucket, ["copied/" + key for key in bodies], **options)
    assert deleted.ok
    assert stored(s3_server_client, s3_bucket, "copied/") == {}


def test_interrupt_on_the_driver_stops_the_batch_with_a_report(
    dask_client: Any, fault_proxy: FaultProxy, s3_bucket: str
) -> None:
    s3 = _faulty_client(fault_proxy)

    def items() -> Iterator[tuple[str, bytes]]:
        for index in range(10_000):
            if index == 120:
                raise KeyboardInterrupt
            yield f"stop/{index:05d}", b"x"

    with pytest.raises(KeyboardInterrupt) as raised:
        s3.batch.put(s3_bucket, items(), executor=dask_client, chunk_size=40)
    report: BatchReport = raised.value.resilient_s3_report  # type: ignore[attr-defined]
    assert report.stopped == "cancelled"
    assert report.succeeded + len(report.failed) <= 120


def test_bad_arguments_raise_before_anything_is_submitted(dask_client: Any, s3_server: Any) -> None:
    import boto3

    wrapped = resilient_s3.wrap(boto3.client("s3", **s3_server.client_kwargs()))
    with pytest.raises(TypeError, match="wrap"):
        wrapped.batch.put("bucket", {"k": b"v"}, executor=dask_client)
    s3 = resilient_s3.client("s3", **s3_server.client_kwargs())
    with pytest.raises(ValueError, match="chunk_size"):
        s3.batch.head("bucket", ["k"], executor=dask_client, chunk_size=0)
    with pytest.raises(TypeError, match="executor"):
        s3.batch.head("bucket", ["k"], executor=object())
    with pytest.raises(ValueError, match="concurrency"):
        s3.batch.head("bucket", ["k"], executor=dask_client, concurrency=0)
