"""The CPU a small PUT costs on this machine, client and server, and the throughput that bounds.

Puts N x 1 KiB objects into a SeaweedFS process on 127.0.0.1 from a naive pool (a default boto3
client, 64 threads) and from a resilient_s3 client with verification off (64 threads, pool of
64), measuring the client's CPU (this process) and the server's (its process, from
``/proc/<pid>/stat``) per put. With both on the same machine, no client, however parallel, can
put faster than ``cores / (client CPU + server CPU)`` per put; the run prints that bound next to
three times the naive pool's throughput (issue 4's target for ``s3.batch``).

    python benchmarks/bench_cpu_budget.py [--objects 2000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3

import resilient_s3
from resilient_s3.testing import SeaweedFSServer

BODY = b"x" * 1024


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(put: Callable[[str], Any], server_pid: int, objects: int) -> tuple[float, float, float]:
    """(puts per second, client CPU ms per put, server CPU ms per put)."""
    prefix = uuid.uuid4().hex
    server_before, client_before = process_cpu(server_pid), time.process_time()
    started = time.monotonic()
    with ThreadPoolExecutor(64) as pool:
        list(pool.map(lambda i: put(f"{prefix}/{i}"), range(objects)))
    wall = time.monotonic() - started
    client = time.process_time() - client_before
    server = process_cpu(server_pid) - server_before
    return objects / wall, 1000 * client / objects, 1000 * server / objects


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--objects", type=int, default=2000)
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    with SeaweedFSServer() as server:
        kwargs = server.client_kwargs()
        naive = boto3.client("s3", **kwargs)
        facade = resilient_s3.client("s3", verify_writes=False, **kwargs)
        bucket = f"cpu-{uuid.uuid4().hex[:8]}"
        naive.create_bucket(Bucket=bucket)
        clients = {
            "naive boto3 pool": lambda key: naive.put_object(Bucket=bucket, Key=key, Body=BODY),
            "resilient_s3, verify off": lambda key: facade.put_object(
                Bucket=bucket, Key=key, Body=BODY
            ),
        }
        for put in clients.values():  # warm up
            measure(put, server.pid, 200)
        results = {name: measure(put, server.pid, args.objects) for name, put in clients.items()}
    print(f"{args.objects} x 1 KiB puts into SeaweedFS on 127.0.0.1, 64 threads, {cores} cores")
    print(f"{'client':26s} {'put/s':>7s} {'client ms':>10s} {'server ms':>10s} {'bound/s':>8s}")
    for name, (rate, client_ms, server_ms) in results.items():
        bound = 1000 * cores / (client_ms + server_ms)
        print(f"{name:26s} {rate:7.0f} {client_ms:10.3f} {server_ms:10.3f} {bound:8.0f}")
    naive_rate = results["naive boto3 pool"][0]
    best = max(
        1000 * cores / (client_ms + server_ms) for _, client_ms, server_ms in results.values()
    )
    print(
        f"3x the naive pool: {3 * naive_rate:.0f} puts/s; the CPU bound of the cheaper client "
        f"here: {best:.0f} puts/s ({3 * naive_rate / best:.1f}x short)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
