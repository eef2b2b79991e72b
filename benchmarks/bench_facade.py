"""The front doors' own benchmark (issue 19): single calls, sync and asyncio, against boto3 and
obstore, on a SeaweedFS process on 127.0.0.1.

- **sync, 64 threads**: N objects put then got (each thread one call at a time), through plain
  boto3 (default pool of 10, and a pool of 64) and the sync facade with **default options
  (verification on)**: on its native path (the default), and kept on botocore (a handler on
  ``meta.events``) for comparison;
- **asyncio, 64 tasks in flight**: the asyncio facade (default options) against obstore's async
  ``put_async``/``get_async``;
- **one thread**: the client CPU of one call at a time, boto3 against the sync facade.

Each figure: puts/s, gets/s, the put+get throughput (2N over both phases' wall time) and the
client CPU per request (this process's CPU, every thread's, over 2N). Rounds are interleaved.

    python benchmarks/bench_facade.py [--objects 1000] [--size 1024] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.config import Config

import resilient_s3
import resilient_s3.aio
from resilient_s3.testing import SeaweedFSServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from batch_peers import obstore_get, obstore_put

THREADS = 64


def _keep_on_botocore(**_: Any) -> None:
    """An event handler: the facade's calls stay on botocore."""


def threaded(client: Any, bucket: str, body: bytes, objects: int) -> tuple[float, float, float]:
    """(put wall s, get wall s, client CPU s) of ``objects`` puts then gets on 64 threads."""
    prefix = uuid.uuid4().hex
    keys = [f"{prefix}/{i}" for i in range(objects)]
    cpu = time.process_time()
    with ThreadPoolExecutor(THREADS) as pool:
        started = time.perf_counter()
        list(pool.map(lambda k: client.put_object(Bucket=bucket, Key=k, Body=body), keys))
        put = time.perf_counter() - started
        started = time.perf_counter()
        got = list(pool.map(lambda k: client.get_object(Bucket=bucket, Key=k)["Body"].read(), keys))
        get = time.perf_counter() - started
    assert all(len(g) == len(body) for g in got)
    return put, get, time.process_time() - cpu


def tasks(kwargs: Mapping[str, Any], bucket: str, body: bytes, objects: int) -> tuple[float, ...]:
    """The same on the asyncio facade, 64 tasks in flight."""
    prefix = uuid.uuid4().hex
    keys = [f"{prefix}/{i}" for i in range(objects)]

    async def gather(call: Callable[[str], Awaitable[Any]]) -> float:
        gate = asyncio.Semaphore(THREADS)

        async def one(key: str) -> Any:
            async with gate:
                return await call(key)

        started = time.perf_counter()
        await asyncio.gather(*(one(k) for k in keys))
        return time.perf_counter() - started

    async def main() -> tuple[float, float]:
        async with resilient_s3.aio.client("s3", **kwargs) as s3:

            async def get(key: str) -> bytes:
                data: bytes = await (await s3.get_object(Bucket=bucket, Key=key))["Body"].read()
                return data

            put = await gather(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=body))
            return put, await gather(get)

    cpu = time.process_time()
    put, get = asyncio.run(main())
    return put, get, time.process_time() - cpu


def obstore(kwargs: Mapping[str, Any], bucket: str, body: bytes, objects: int) -> tuple[float, ...]:
    prefix = uuid.uuid4().hex
    bodies = {f"{prefix}/{i}": body for i in range(objects)}
    cpu = time.process_time()
    put = obstore_put(kwargs, bucket, bodies, THREADS)
    get = obstore_get(kwargs, bucket, list(bodies), THREADS)
    return put, get, time.process_time() - cpu


def single(client: Any, bucket: str, body: bytes, calls: int) -> float:
    """Client CPU ms per request, one call at a time (put then get)."""
    prefix = uuid.uuid4().hex
    cpu = time.process_time()
    for i in range(calls):
        client.put_object(Bucket=bucket, Key=f"{prefix}/{i}", Body=body)
        client.get_object(Bucket=bucket, Key=f"{prefix}/{i}")["Body"].read()
    return 1000 * (time.process_time() - cpu) / (2 * calls)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--single", type=int, default=200, help="calls of the one-thread run")
    args = parser.parse_args(argv)
    body = os.urandom(args.size)
    with SeaweedFSServer() as server:
        kwargs = server.client_kwargs()
        bucket = f"facade-{uuid.uuid4().hex[:8]}"
        boto3.client("s3", **kwargs).create_bucket(Bucket=bucket)
        plain = boto3.client("s3", **kwargs)
        plain64 = boto3.client("s3", config=Config(max_pool_connections=64), **kwargs)
        facade = resilient_s3.client("s3", **kwargs)
        on_botocore = resilient_s3.client("s3", **kwargs)
        on_botocore.meta.events.register("before-send.s3", _keep_on_botocore)
        runs: dict[str, Callable[[], tuple[float, ...]]] = {
            "boto3 (pool 10)": lambda: threaded(plain, bucket, body, args.objects),
            "boto3 (pool 64)": lambda: threaded(plain64, bucket, body, args.objects),
            "sync facade, native": lambda: threaded(facade, bucket, body, args.objects),
            "sync facade, botocore": lambda: threaded(on_botocore, bucket, body, args.objects),
            "aio facade, 64 tasks": lambda: tasks(kwargs, bucket, body, args.objects),
            "obstore async, 64": lambda: obstore(kwargs, bucket, body, args.objects),
        }
        threaded(facade, bucket, body, 100)  # warm up: connections, the native client
        results: dict[str, list[tuple[float, ...]]] = {name: [] for name in runs}
        for _ in range(args.rounds):
            for name, run in runs.items():
                results[name].append(run())
                print(f"  {name}: done", file=sys.stderr, flush=True)
        singles = {
            "boto3": single(plain, bucket, body, args.single),
            "sync facade": single(facade, bucket, body, args.single),
        }
        paths = facade.stats.paths
    n = args.objects
    print(f"{n} x {args.size} B put then get, SeaweedFS on 127.0.0.1, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}; verification on (facades' defaults)")  # fmt: skip
    print(f"{'client':24s} {'put/s':>7s} {'get/s':>7s} {'put+get/s':>9s} {'CPU ms/req':>10s}")
    for name, rounds in results.items():
        for put, get, cpu in rounds:
            both, per_request = 2 * n / (put + get), 1000 * cpu / (2 * n)
            print(f"{name:24s} {n / put:7.0f} {n / get:7.0f} {both:9.0f} {per_request:10.3f}")
    print("one thread, CPU ms per request: " +
          ", ".join(f"{k} {v:.3f}" for k, v in singles.items()))  # fmt: skip
    print(f"sync facade paths: {dict(paths)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
