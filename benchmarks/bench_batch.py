"""``s3.batch`` against its peers: N x 1 KiB puts then gets on SeaweedFS and moto, one run.

Variants, each putting every object under a fresh prefix, then getting them all (into memory,
or files for the command-line tools); rounds rotate the order, medians are printed:

- ``crt-list`` / ``crt-off``: ``s3.batch`` with its default options (the CRT data plane,
  list-based verification, concurrency 32), and the same with verification off;
- ``batch-off`` / ``batch-object`` / ``batch-list``: ``s3.batch`` on the botocore data plane with
  verification off, per object (the facade's HeadObject after each put) and list-based
  (ListObjectsV2 pages);
- ``batch-list-2proc``: ``batch-list`` split over 2 worker processes (botocore's client CPU is
  the limit of one Python process);
- ``naive-pool``: a default boto3 client and ``ThreadPoolExecutor(64)``;
- ``s5cmd``, ``obstore`` (asyncio, 64 at once), ``aws-cli`` (``aws s3 cp --recursive``);
- ``crt-floor``: bare awscrt requests, 64 at once, with as little Python as it takes
  (``batch_crt_floor.py``): the CRT's own share of the CRT plane's CPU.

Other modes: ``--throttle RATE`` (behind a proxy that throttles above RATE requests/s: the
adaptive rate against botocore's adaptive mode), ``--memory N`` (peak RSS of an N-item
generator put, in a fresh process), ``--cpu`` (client CPU per request on canned answers).

    python benchmarks/bench_batch.py [--servers seaweedfs,moto] [--items 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import batch_crt_floor as floor
import batch_modes as modes
import batch_peers as peers
import boto3

import resilient_s3
from resilient_s3.batch import BatchReport

VARIANTS = [
    "crt-list",
    "crt-off",
    "batch-off",
    "batch-object",
    "batch-list",
    "batch-list-2proc",
    "naive-pool",
    "s5cmd",
    "obstore",
    "aws-cli",
    "crt-floor",
]
_worker: dict[str, Any] = {}


def _init_worker(kwargs: dict[str, Any]) -> None:
    _worker["batch"] = resilient_s3.client("s3", **kwargs).batch


def _noted(report: BatchReport) -> None:
    """A report that is not ok is printed on stderr (the figures still count its time)."""
    if not report.ok:
        print(f"!! {report.summary()}", file=sys.stderr)


def _worker_put(args: tuple[str, dict[str, bytes], int]) -> float:
    started = time.process_time()
    _noted(_worker["batch"].put(args[0], args[1], concurrency=args[2], data_plane="botocore"))
    return time.process_time() - started


def _worker_get(args: tuple[str, list[str], int]) -> float:
    started = time.process_time()
    _noted(_worker["batch"].get(args[0], args[1], concurrency=args[2], data_plane="botocore"))
    return time.process_time() - started


class Bench:
    """One server: clients built once, then :meth:`run` per variant and round."""

    def __init__(
        self, kwargs: dict[str, Any], bodies: dict[str, bytes], concurrency: int, stack: ExitStack
    ) -> None:
        self.kwargs, self.bodies, self.concurrency = kwargs, bodies, concurrency
        self.bucket = f"bench-{uuid.uuid4().hex[:12]}"
        boto3.client("s3", **kwargs).create_bucket(Bucket=self.bucket)
        self.batch = resilient_s3.client("s3", **kwargs).batch
        self.naive = peers.NaivePool(kwargs)
        self.files = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        peers.write_files(self.files / "src", bodies)
        context = multiprocessing.get_context("spawn")
        self.pool = stack.enter_context(context.Pool(2, _init_worker, (kwargs,)))

    def run(self, variant: str, prefix: str) -> tuple[float, float, float]:
        """(put seconds, get seconds, client CPU seconds) of one variant."""
        bodies = {prefix + k: v for k, v in self.bodies.items()}
        keys = list(bodies)
        cpu, children = time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
        extra_cpu = 0.0
        started = time.perf_counter()
        if variant.startswith("batch-list-2proc"):
            half = len(keys) // 2
            shards = [dict(list(bodies.items())[:half]), dict(list(bodies.items())[half:])]
            extra_cpu += sum(
                self.pool.map(_worker_put, [(self.bucket, s, self.concurrency) for s in shards])
            )
            put = time.perf_counter() - started
            started = time.perf_counter()
            extra_cpu += sum(
                self.pool.map(
                    _worker_get, [(self.bucket, list(s), self.concurrency) for s in shards]
                )
            )
            get = time.perf_counter() - started
        elif variant == "crt-floor":
            put = floor.crt_floor_put(self.kwargs, self.bucket, bodies)
            get = floor.crt_floor_get(self.kwargs, self.bucket, keys)
        elif variant.startswith(("batch-", "crt-")):
            plane, _, verify = variant.partition("-")
            options: dict[str, Any] = {"concurrency": self.concurrency}
            if plane == "batch":
                options["data_plane"] = "botocore"
            _noted(self.batch.put(self.bucket, bodies, verify_writes=verify, **options))  # type: ignore[arg-type]
            put = time.perf_counter() - started
            started = time.perf_counter()
            _noted(self.batch.get(self.bucket, keys, **options))
            get = time.perf_counter() - started
        elif variant == "naive-pool":
            put, get = self.naive.put(self.bucket, bodies), self.naive.get(self.bucket, keys)
        elif variant == "obstore":
            put = peers.obstore_put(self.kwargs, self.bucket, bodies)
            get = peers.obstore_get(self.kwargs, self.bucket, keys)
        else:
            tool = peers.s5cmd if variant == "s5cmd" else peers.aws_cli
            src, dst, url = self.files / "src", self.files / prefix, f"s3://{self.bucket}/{prefix}"
            put = tool(self.kwargs, f"{src}/*" if variant == "s5cmd" else str(src), url)
            get = tool(self.kwargs, f"{url}*" if variant == "s5cmd" else url, str(dst))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        extra_cpu += (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
        return put, get, time.process_time() - cpu + extra_cpu


def compare(name: str, kwargs: dict[str, Any], args: argparse.Namespace) -> None:
    """Every variant on one server; print throughput, CPU and the ratios."""
    bodies = {f"k/{i:05d}": os.urandom(args.size) for i in range(args.items)}
    variants = [v for v in VARIANTS if v not in args.skip.split(",")]
    results: dict[str, list[tuple[float, float, float]]] = {v: [] for v in variants}
    with ExitStack() as stack:
        bench = Bench(kwargs, bodies, args.concurrency, stack)
        for round_ in range(args.rounds):
            shift = round_ % len(variants)
            for variant in variants[shift:] + variants[:shift]:
                results[variant].append(bench.run(variant, f"{variant}-{round_}/"))
    n = args.items
    print(
        f"\n{name}: {n} x {args.size} B, put then get, median of {args.rounds} round(s), "
        f"s3.batch concurrency {args.concurrency}"
    )
    print(
        f"{'variant':<18}{'put/s':>8}{'get/s':>8}{'CPU ms/obj':>12}{'put x naive':>13}"
        f"{'get x naive':>13}"
    )
    rate = {
        v: (
            n / statistics.median(r[0] for r in rs),
            n / statistics.median(r[1] for r in rs),
            statistics.median(r[2] for r in rs) / (2 * n) * 1000,
        )
        for v, rs in results.items()
    }
    naive = rate.get("naive-pool", (1.0, 1.0, 0.0))
    for variant, (put, get, cpu) in rate.items():
        print(
            f"{variant:<18}{put:>8.0f}{get:>8.0f}{cpu:>12.2f}{put / naive[0]:>13.2f}"
            f"{get / naive[1]:>13.2f}"
        )
    if "crt-list" in rate and "obstore" in rate:
        crt, peer = rate["crt-list"], rate["obstore"]
        print(f"crt-list x obstore: put {crt[0] / peer[0]:.2f}, get {crt[1] / peer[1]:.2f}")
    if "crt-list" in rate and "crt-floor" in rate:
        share = rate["crt-floor"][2] / rate["crt-list"][2]
        print(f"crt-floor CPU is {share:.0%} of crt-list's: the rest is resilient_s3's")
    for mode in ("list", "object"):
        if f"batch-{mode}" in rate and "batch-off" in rate:
            cost = rate["batch-off"][0] / rate[f"batch-{mode}"][0] - 1
            print(f"verify={mode} costs {cost:+.1%} put time over verify off")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--servers", default="seaweedfs,moto")
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--skip", default="", help="comma-separated variants to leave out")
    parser.add_argument("--throttle", type=float, help="requests/s above which a proxy throttles")
    parser.add_argument("--memory", type=int, help="items of the memory run")
    parser.add_argument("--cpu", action="store_true", help="client CPU on canned answers")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--bucket", help=argparse.SUPPRESS)
    parser.add_argument("--kwargs", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        modes.memory_child(args)
        return 0
    if args.cpu:
        modes.cpu(args)
        return 0
    from resilient_s3.testing import S3Server, SeaweedFSServer

    for name in args.servers.split(","):
        with SeaweedFSServer() if name == "seaweedfs" else S3Server() as server:
            kwargs = dict(server.client_kwargs())
            if args.throttle:
                modes.throttled(kwargs, args)
            elif args.memory:
                modes.memory(kwargs, args, __file__)
            else:
                compare(name, kwargs, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
