"""Large objects through ``s3.batch`` on each data plane: N x SIZE puts (multipart from
``--threshold``), then gets into memory and into files, on SeaweedFS; one run, rounds rotate the
order, medians printed (MiB/s and client CPU ms per object).

    python benchmarks/bench_large.py [--items 20] [--size 8388608] [--threshold 5242880]
                                     [--part-size 5242880] [--rounds 3] [--verify list]
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

import resilient_s3
from resilient_s3.batch import BatchReport
from resilient_s3.testing import SeaweedFSServer

PLANES = ("crt", "botocore")
PHASES = ("put", "get", "get-files")
_MIB = 1024 * 1024


def _timed(call: Callable[[], BatchReport]) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of one batch; a failed report is printed."""
    cpu, started = time.process_time(), time.perf_counter()
    report = call()
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    if not report.ok:
        print(f"!! {report.summary()}")
    return wall, used


def _phase(
    batch: Any, bucket: str, phase: str, plane: str, items: dict[str, bytes], dest: Path,
    args: argparse.Namespace,
) -> BatchReport:  # fmt: skip
    options = {"data_plane": plane, "concurrency": args.concurrency}
    if phase == "put":
        report: BatchReport = batch.put(
            bucket, items, verify_writes=args.verify, multipart_threshold=args.threshold,
            part_size=args.part_size, **options,
        )  # fmt: skip
    else:
        report = batch.get(bucket, list(items), dest=dest if phase == "get-files" else None,
                           **options)  # fmt: skip
    return report


def run(args: argparse.Namespace) -> None:
    bodies = {f"k/{i:04d}": os.urandom(args.size) for i in range(args.items)}
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with SeaweedFSServer() as server, tempfile.TemporaryDirectory() as scratch:
        kwargs: dict[str, Any] = dict(server.client_kwargs())
        bucket = f"large-{uuid.uuid4().hex[:12]}"
        boto3.client("s3", **kwargs).create_bucket(Bucket=bucket)
        batch = resilient_s3.client("s3", **kwargs).batch
        for round_ in range(args.rounds):
            planes = PLANES[round_ % 2 :] + PLANES[: round_ % 2]
            for plane in planes:
                prefix = f"{plane}-{round_}/"
                items = {prefix + k: v for k, v in bodies.items()}
                dest = Path(scratch) / prefix
                for phase in PHASES:
                    call = functools.partial(_phase, batch, bucket, phase, plane, items, dest, args)
                    results.setdefault((plane, phase), []).append(_timed(call))
    total = args.items * args.size / _MIB
    print(
        f"\nSeaweedFS: {args.items} x {args.size / _MIB:g} MiB, multipart from "
        f"{args.threshold / _MIB:g} MiB in {args.part_size / _MIB:g} MiB parts, "
        f"verify={args.verify}, concurrency {args.concurrency}, median of {args.rounds} round(s)"
    )
    print(f"{'plane':<10}{'phase':<11}{'MiB/s':>9}{'CPU ms/obj':>12}")
    for (plane, phase), runs in sorted(results.items()):
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        print(f"{plane:<10}{phase:<11}{total / wall:>9.0f}{cpu / args.items * 1000:>12.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--size", type=int, default=8 * _MIB)
    parser.add_argument("--threshold", type=int, default=5 * _MIB)
    parser.add_argument("--part-size", type=int, default=5 * _MIB)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--verify", default="list", choices=("list", "off"))
    run(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
