"""What the spawned processes of the fleet tests run (importable by a fresh interpreter)."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from typing import Any

from resilient_s3 import ResilientS3Client, SharedLimiter


def run_together(
    target: Callable[..., Any],
    calls: list[tuple[Any, ...]],
    warm: Callable[..., Any] | None = None,
) -> list[Any]:
    """``target(*args)`` for each ``args`` of ``calls``, each in a spawned process, all started
    at once when every process has unpickled its arguments (and run ``warm(*args)``: first
    connections, first-request costs); the results in order."""
    context = multiprocessing.get_context("spawn")
    ready, results = context.Queue(), context.Queue()
    go = context.Event()
    processes = [
        context.Process(target=_serve, args=(index, target, warm, args, ready, go, results))
        for index, args in enumerate(calls)
    ]
    for process in processes:
        process.start()
    try:
        for _ in processes:
            ready.get(timeout=120)
        go.set()
        answers = dict(results.get(timeout=120) for _ in processes)
    finally:
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join()
    return [answers[index] for index in range(len(calls))]


def _serve(
    index: int,
    target: Callable[..., Any],
    warm: Callable[..., Any] | None,
    args: tuple[Any, ...],
    ready: Any,
    go: Any,
    results: Any,
) -> None:
    if warm is not None:
        warm(*args)
    ready.put(index)
    go.wait(120)
    results.put((index, target(*args)))


def warm_heads(s3: ResilientS3Client, bucket: str, key: str, seconds: float) -> None:
    """One HeadObject on each of 8 threads: the connections and first-request costs paid."""
    threads = [
        threading.Thread(target=s3.head_object, kwargs={"Bucket": bucket, "Key": key})
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def paced_heads(s3: ResilientS3Client, bucket: str, key: str, seconds: float) -> list[float]:
    """For ``seconds``, HeadObject ``key`` on 8 threads; the wall times at which each request
    was sent (every request of ``s3`` first takes a token of its rate_limit)."""
    sent: list[float] = []
    # registered after the rate limit's handler: runs once the token is granted
    s3.meta.events.register("before-send.s3", lambda **_: sent.append(time.time()))
    end = time.time() + seconds

    def run() -> None:
        while time.time() < end:
            s3.head_object(Bucket=bucket, Key=key)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sent


def head_batch(
    s3: ResilientS3Client,
    bucket: str,
    keys: list[str],
    limiter: SharedLimiter | None,
) -> dict[str, Any]:
    """``s3.batch.head`` of ``keys``: with the batch's own adaptive rate (``limiter`` None) or
    with the shared one (the batch's own off)."""
    if limiter is None:
        report = s3.batch.head(bucket, keys, concurrency=8)
    else:
        report = s3.batch.head(bucket, keys, concurrency=8, adaptive=False, rate_limit=limiter)
    return {
        "ok": report.ok,
        "seconds": report.stats.seconds,
        "throttled": report.stats.throttled,
        "rate": limiter.rate if limiter is not None else report.stats.adaptive_rate,
    }
