"""What verify-after-put costs: the same concurrent puts with verification off, "head" and "read".

Against a real S3 server process on 127.0.0.1 (moto by default, SeaweedFS with ``--server
seaweedfs``, or ``--endpoint-url``): N objects put by C threads sharing one client, once per
mode, rounds interleaved so the noise of a shared machine falls on every mode alike. Prints wall
time per mode (median of the rounds), the ratio to the unverified run, the requests each mode
sent per put and the share of writes confirmed by a shared listing. "head" is the default policy
(concurrent read-backs share ListObjectsV2 pages); "head-each" is ``coalesce=0``, a HeadObject
per write. No faults: this is the price on the happy path.

    python benchmarks/bench_verify.py [--objects 400] [--concurrency 64] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import resilient_s3

POLICIES = {
    "off": resilient_s3.VerifyPolicy(mode="off"),
    "head": resilient_s3.VerifyPolicy(),
    "head-each": resilient_s3.VerifyPolicy(coalesce=0),
    "read": resilient_s3.VerifyPolicy(mode="read"),
}
MODES = tuple(POLICIES)


def run(s3: Any, bucket: str, objects: int, concurrency: int, size: int) -> float:
    prefix = uuid.uuid4().hex
    body = b"v" * size

    def put(i: int) -> None:
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{i}", Body=body)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(put, range(objects)))
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--objects", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server", choices=("moto", "seaweedfs"), default="moto")
    parser.add_argument("--endpoint-url", help="an S3 endpoint instead of starting a server")
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        if args.endpoint_url:
            kwargs: dict[str, Any] = {"endpoint_url": args.endpoint_url}
        else:
            from resilient_s3.testing import S3Server, SeaweedFSServer

            server = SeaweedFSServer() if args.server == "seaweedfs" else S3Server()
            kwargs = dict(stack.enter_context(server).client_kwargs())
        clients = {
            mode: resilient_s3.client("s3", verify_writes=policy, **kwargs)
            for mode, policy in POLICIES.items()
        }
        bucket = f"bench-{uuid.uuid4().hex[:12]}"
        clients["off"].create_bucket(Bucket=bucket)
        for s3 in clients.values():  # warm up
            run(s3, bucket, 64, args.concurrency, args.size)
        before = {mode: s3.stats for mode, s3 in clients.items()}
        seconds: dict[str, list[float]] = {mode: [] for mode in MODES}
        for i in range(args.rounds):
            turn = i % len(MODES)
            for mode in MODES[turn:] + MODES[:turn]:
                seconds[mode].append(
                    run(clients[mode], bucket, args.objects, args.concurrency, args.size)
                )
        after = {mode: s3.stats for mode, s3 in clients.items()}
    base = statistics.median(seconds["off"])
    print(
        f"{args.rounds} rounds x {args.objects} puts of {args.size} B, "
        f"{args.concurrency} threads sharing one client:"
    )
    puts = args.rounds * args.objects
    for mode in MODES:
        median = statistics.median(seconds[mode])
        per_put = (after[mode].calls - before[mode].calls) / puts
        listed = after[mode].verified_by_listing - before[mode].verified_by_listing
        print(
            f"  verify={mode:9s} {median:6.2f} s  ratio {median / base:4.2f}  "
            f"{per_put:4.2f} requests per put  {listed / puts:4.0%} confirmed by listing"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
