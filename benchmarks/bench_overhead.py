"""Happy-path overhead: client CPU per request, plain boto3 vs resilient_s3, in one run.

Against a real S3 server process on 127.0.0.1 (moto by default, or ``--endpoint-url``), both
clients run the same sequential loop: PutObject of a fresh key, then GetObject and read. Client
CPU is ``time.process_time()`` of this process (the server is another process), so server
speed does not enter the figures. Rounds alternate between the clients to spread the noise of
a shared machine evenly; the medians of the per-round figures are compared. The third client,
plain boto3 with its retries switched off as resilient_s3 does, isolates the cost of our layer
from the work botocore's retry handler does on every call.

    python benchmarks/bench_overhead.py [--requests 400] [--rounds 8] [--endpoint-url URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import boto3
from botocore.config import Config

import resilient_s3


def loop(s3: Any, bucket: str, pairs: int, body: bytes) -> float:
    """CPU seconds per request for ``pairs`` put+get pairs."""
    prefix = uuid.uuid4().hex
    started = time.process_time()
    for i in range(pairs):
        key = f"{prefix}/{i}"
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return (time.process_time() - started) / (2 * pairs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=400, help="put+get pairs per round")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--endpoint-url", help="an S3 endpoint; default: start a moto server")
    args = parser.parse_args(argv)

    with ExitStack() as stack:
        if args.endpoint_url:
            kwargs: dict[str, Any] = {"endpoint_url": args.endpoint_url}
        else:
            from resilient_s3.testing import S3Server

            kwargs = dict(stack.enter_context(S3Server()).client_kwargs())
        plain = boto3.client("s3", **kwargs)
        bare = boto3.client("s3", config=Config(retries={"total_max_attempts": 1}), **kwargs)
        ours = resilient_s3.client("s3", **kwargs)
        bucket = f"bench-{uuid.uuid4().hex[:12]}"
        plain.create_bucket(Bucket=bucket)
        body = b"x" * args.size
        clients: dict[str, Callable[[], float]] = {
            "boto3": lambda: loop(plain, bucket, args.requests, body),
            "boto3-no-retry": lambda: loop(bare, bucket, args.requests, body),
            "resilient_s3": lambda: loop(ours, bucket, args.requests, body),
        }
        for run in clients.values():  # warm up: connections, caches, imports
            run()
        per_round: dict[str, list[float]] = {name: [] for name in clients}
        for i in range(args.rounds):
            names = list(clients)
            for name in names[i % 3 :] + names[: i % 3]:  # rotate the order each round
                per_round[name].append(clients[name]())
        attempts = ours.stats.attempts
        calls = ours.stats.calls

    medians = {name: statistics.median(values) for name, values in per_round.items()}
    print(
        f"{args.rounds} rounds x {2 * args.requests} requests ({args.size} B bodies), client CPU:"
    )
    for name, values in per_round.items():
        spread = f"{min(values) * 1e3:.3f}-{max(values) * 1e3:.3f}"
        print(f"  {name:15s} median {medians[name] * 1e3:.3f} ms/request (rounds: {spread})")
    for base in ("boto3", "boto3-no-retry"):
        ratio = medians["resilient_s3"] / medians[base]
        print(f"  ratio resilient_s3 / {base} = {ratio:.3f}")
    print(f"  resilient_s3 calls={calls} attempts={attempts} (no faults: equal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
