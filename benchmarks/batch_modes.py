"""The other modes of ``bench_batch.py``: behind a throttling proxy (``--throttle``), the
peak memory of a long generator (``--memory``) and client CPU on canned answers (``--cpu``)."""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import batch_peers as peers
import boto3
from canned import canned_client

import resilient_s3

__all__ = ["cpu", "memory", "memory_child", "throttled"]


def throttled(kwargs: dict[str, Any], args: argparse.Namespace) -> None:
    """Puts behind a proxy throttling above ``args.throttle`` requests/s."""
    from resilient_s3.testing import Fault, FaultKind, FaultProxy

    throttle = Fault(FaultKind.THROTTLE, per_second=args.throttle)
    bodies = {f"t/{i:05d}": os.urandom(args.size) for i in range(args.items)}
    bucket = f"bench-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", **kwargs).create_bucket(Bucket=bucket)
    print(f"\n{args.items} puts behind a proxy throttling above {args.throttle:g} requests/s")
    print(f"{'client':<34}{'seconds':>9}{'put/s':>8}{'throttled':>11}{'failed':>8}")
    runs: list[tuple[str, Callable[[Any, dict[str, bytes]], int]]] = [
        ("naive pool, botocore standard", lambda p, b: _naive(p, b, bucket, "standard")),
        ("naive pool, botocore adaptive", lambda p, b: _naive(p, b, bucket, "adaptive")),
        ("s3.batch adaptive=False", lambda p, b: _batch(p, b, bucket, False)),
        ("s3.batch (adaptive)", lambda p, b: _batch(p, b, bucket, True)),
    ]
    for index, (label, run) in enumerate(runs):
        with FaultProxy(kwargs["endpoint_url"], faults=[throttle], seed=0) as proxy:
            keyed = {f"run{index}/{k}": v for k, v in bodies.items()}
            started = time.perf_counter()
            failed = run(proxy, keyed)
            seconds = time.perf_counter() - started
            print(
                f"{label:<34}{seconds:>9.1f}{args.items / seconds:>8.0f}"
                f"{proxy.counters['throttle']:>11}{failed:>8}"
            )


def _client_kwargs(proxy: Any) -> dict[str, Any]:
    return {**proxy.client_kwargs()}


def _naive(proxy: Any, bodies: dict[str, bytes], bucket: str, mode: str) -> int:
    pool = peers.NaivePool(_client_kwargs(proxy), retries={"mode": mode, "max_attempts": 10})
    failed = 0

    def put(item: tuple[str, bytes]) -> None:
        nonlocal failed
        try:
            pool.client.put_object(Bucket=bucket, Key=item[0], Body=item[1])
        except pool.client.exceptions.ClientError:
            failed += 1

    with ThreadPoolExecutor(64) as threads:
        list(threads.map(put, bodies.items()))
    return failed


def _batch(proxy: Any, bodies: dict[str, bytes], bucket: str, adaptive: bool) -> int:
    s3 = resilient_s3.client("s3", **_client_kwargs(proxy))
    return len(s3.batch.put(bucket, bodies, adaptive=adaptive, concurrency=64).failed)


def cpu(args: argparse.Namespace) -> None:
    """Client CPU per PutObject with canned answers (no server): where the time goes."""
    s3 = canned_client()
    inner: Any = s3.inner
    bodies = {f"c/{i:07d}": os.urandom(args.size) for i in range(args.items)}
    batch = s3.batch

    def pool() -> None:
        with ThreadPoolExecutor(args.concurrency) as threads:
            list(
                threads.map(
                    lambda kv: s3.put_object(Bucket="b", Key=kv[0], Body=kv[1]), bodies.items()
                )
            )

    variants: list[tuple[str, Callable[[], object]]] = [
        (
            "botocore, one thread",
            lambda: [inner.put_object(Bucket="b", Key=k, Body=v) for k, v in bodies.items()],
        ),
        (
            "facade, one thread",
            lambda: [s3.put_object(Bucket="b", Key=k, Body=v) for k, v in bodies.items()],
        ),
        (f"facade, {args.concurrency} threads", pool),
        (
            f"s3.batch botocore plane, verify off, {args.concurrency}",
            lambda: batch.put(
                "b",
                bodies,
                verify_writes="off",
                concurrency=args.concurrency,
                data_plane="botocore",
            ),
        ),
    ]
    print(
        f"\nclient CPU per PutObject, canned answers, {args.items} x {args.size} B "
        f"(median of {args.rounds} rounds)"
    )
    times: dict[str, list[float]] = {name: [] for name, _ in variants}
    for _ in range(args.rounds):
        for name, run in variants:
            started = time.process_time()
            run()
            times[name].append((time.process_time() - started) / args.items * 1000)
    for name, values in times.items():
        print(f"  {name:<40}{statistics.median(values):7.3f} ms")


def memory(kwargs: dict[str, Any], args: argparse.Namespace, script: str) -> None:
    """Peak RSS of generator puts of 10,000 and ``args.memory`` items, each in a new process."""
    bucket = f"bench-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", **kwargs).create_bucket(Bucket=bucket)
    print(f"\ngenerator put of 1 KiB items, verify list, concurrency {args.concurrency}")
    for count in sorted({10_000, args.memory}):
        child = [
            sys.executable,
            script,
            "--memory-child",
            str(count),
            "--bucket",
            bucket,
            "--concurrency",
            str(args.concurrency),
            "--kwargs",
            json.dumps(kwargs),
        ]
        out = json.loads(subprocess.run(child, check=True, capture_output=True).stdout)
        print(
            f"{count:>8} items: {out['seconds']:7.1f} s, {count / out['seconds']:5.0f} put/s, "
            f"RSS before {out['rss_before_mb']:.0f} MB, peak {out['peak_rss_mb']:.0f} MB, "
            f"ok={out['ok']}"
        )


def memory_child(args: argparse.Namespace) -> None:
    kwargs = json.loads(args.kwargs)
    batch = resilient_s3.client("s3", **kwargs).batch
    batch.head(args.bucket, ["warm-up"])  # imports and threads in place before "before"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def items() -> Iterator[tuple[str, bytes]]:
        for i in range(args.memory_child):
            yield f"m/{i:07d}", os.urandom(1024)

    started = time.perf_counter()
    report = batch.put(args.bucket, items(), concurrency=args.concurrency)
    print(
        json.dumps(
            {
                "seconds": time.perf_counter() - started,
                "ok": report.ok,
                "rss_before_mb": before,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )
