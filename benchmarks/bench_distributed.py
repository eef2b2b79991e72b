"""Coordination cost and per-worker throughput of the fleet features (docs/distributed.md).

Three measurements, one run each (the machine is shared: read them as orders of magnitude):

- ``grants``: SharedLimiter against a local redis-server with a rate that never limits: time
  per grant on one thread, grants/s on 8 threads of one process, and round trips per grant for
  ``block`` 1, 8 and 32;
- ``hook``: HeadObject/s of one process on 8 threads without and with ``rate_limit=`` (a
  SharedLimiter that never limits): the client-side cost of a token per request;
- ``cluster``: ``s3.batch.put`` of N x 1 KiB in this process, and with ``executor=`` on a
  LocalCluster of 1 and 2 worker processes (2 threads each): items/s and items/s per worker.

    python benchmarks/bench_distributed.py [--items 1000] [--server seaweedfs|moto]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import resilient_s3
from resilient_s3 import SharedLimiter
from resilient_s3.testing import RedisServer, S3Server, SeaweedFSServer
from resilient_s3.testing._process import ManagedServer

_NEVER = 1e9  # requests/s: a rate that never limits


def _on_threads(threads: int, seconds: float, work: Callable[[], object]) -> float:
    """Calls of ``work`` per second on ``threads`` threads during ``seconds``."""
    counts = [0] * threads
    end = time.monotonic() + seconds

    def run(index: int) -> None:
        while time.monotonic() < end:
            work()
            counts[index] += 1

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / seconds


def grants(redis_url: str) -> None:
    print("SharedLimiter grants (local redis-server, rate never limiting):")
    for block in (1, 8, 32):
        limiter = SharedLimiter(redis_url, uuid.uuid4().hex, per_second=_NEVER, block=block)
        started = time.perf_counter()
        for _ in range(2000):
            limiter.acquire()
        serial = (time.perf_counter() - started) / 2000
        trips = limiter.round_trips / 2000
        rate = _on_threads(8, 2.0, limiter.acquire)
        print(
            f"  block={block:2d}: {serial * 1e6:7.0f} us/grant on 1 thread, "
            f"{rate:8.0f} grants/s on 8 threads, {trips:.3f} round trips/grant"
        )


def hook(server: ManagedServer, redis_url: str) -> None:
    kwargs = server.client_kwargs()
    plain = resilient_s3.client("s3", **kwargs)
    bucket = f"bench-{uuid.uuid4().hex[:12]}"
    plain.create_bucket(Bucket=bucket)
    plain.put_object(Bucket=bucket, Key="k", Body=b"x")
    limiter = SharedLimiter(redis_url, uuid.uuid4().hex, per_second=_NEVER)
    limited = resilient_s3.client("s3", rate_limit=limiter, **kwargs)
    results = {}
    for name, s3 in (("plain", plain), ("rate_limit", limited), ("plain again", plain)):

        def head(s3: Any = s3) -> object:
            return s3.head_object(Bucket=bucket, Key="k")

        results[name] = _on_threads(8, 4.0, head)
    print("HeadObject/s, one process, 8 threads:")
    for name, rate in results.items():
        print(f"  {name:12s} {rate:7.0f}/s")
    print(f"  round trips to Redis per request: {limiter.round_trips / max(limiter.grants, 1):.2f}")


def cluster(server: ManagedServer, items: int) -> None:
    import importlib

    distributed: Any = importlib.import_module("distributed")  # untyped

    s3 = resilient_s3.client("s3", **server.client_kwargs())
    body = b"x" * 1024
    print(f"s3.batch.put of {items} x 1 KiB (verify='list', concurrency 32 per batch):")

    def put(label: str, **options: Any) -> float:
        bucket = f"bench-{uuid.uuid4().hex[:12]}"
        s3.create_bucket(Bucket=bucket)
        keys = ((f"k/{i:06d}", body) for i in range(items))
        report = s3.batch.put(bucket, keys, **options)
        rate = report.stats.items_per_second if report.ok else 0.0
        print(f"  {label:34s} {rate:6.0f} items/s  {report.summary()}")
        return rate

    put("in this process")
    for workers in (1, 2):
        with (
            distributed.LocalCluster(
                n_workers=workers,
                processes=True,
                threads_per_worker=2,
                host="127.0.0.1",
                dashboard_address=None,
            ) as local,
            distributed.Client(local) as client,
        ):
            rate = put(f"LocalCluster, {workers} worker(s)", executor=client, chunk_size=250)
            print(f"  {'':34s} {rate / workers:6.0f} items/s per worker")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--server", choices=("seaweedfs", "moto"), default="seaweedfs")
    args = parser.parse_args()
    with ExitStack() as stack:
        redis = stack.enter_context(RedisServer())
        server: ManagedServer = stack.enter_context(
            SeaweedFSServer() if args.server == "seaweedfs" else S3Server()
        )
        print(f"server: {args.server}")
        grants(redis.url)
        hook(server, redis.url)
        cluster(server, args.items)
    return 0


if __name__ == "__main__":
    sys.exit(main())
