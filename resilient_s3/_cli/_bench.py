"""``resilient-s3 bench``: throughput and latency percentiles, plain boto3 vs resilient_s3.

For each operation (put, get, head) and each client in turn, N requests on C threads sharing the
client; the latency of each successful request (a get includes reading its body) and the wall
time. Both clients run against the same endpoint in one run, after a short warm-up each.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import botocore.exceptions

from ._args import add_endpoint_options, positive, size
from ._plot import plot_bench, require_matplotlib
from ._session import open_endpoint, temporary_bucket
from ._status import StatusBar

__all__ = ["Measurement", "add_parser", "measure", "run"]

EXAMPLES = """\
examples:
  resilient-s3 bench --endpoint-url http://127.0.0.1:9000
  resilient-s3 bench --endpoint-url http://127.0.0.1:4566 --requests 1000 --concurrency 16 \\
      --plot bench.png
  resilient-s3 bench --endpoint-url https://s3.eu-west-1.amazonaws.com --addressing-style virtual \\
      --profile test --bucket my-test-bucket --json

--plot needs matplotlib (pip install 'resilient-s3[plot]').
exit status: 0 when every request succeeded, 1 otherwise, 2 bad usage.
"""

#: The operations measured, in order.
OPERATIONS = ("put", "get", "head")
#: The clients compared, in order.
CLIENTS = ("plain boto3", "resilient_s3")
#: Requests of each operation per client before measuring (connections, endpoint caches).
_WARMUP = 5


@dataclass(frozen=True)
class Measurement:
    """One operation measured with one client.

    Attributes:
        client: ``"plain boto3"`` or ``"resilient_s3"``.
        operation: ``"put"``, ``"get"`` or ``"head"``.
        latencies: Seconds taken by each successful request, sorted.
        errors: Requests that failed.
        seconds: Wall time of the whole batch.
    """

    client: str
    operation: str
    latencies: tuple[float, ...]
    errors: int
    seconds: float

    @property
    def throughput(self) -> float:
        """Successful requests per second of wall time."""
        return len(self.latencies) / self.seconds if self.seconds > 0 else 0.0

    def percentile_ms(self, p: float) -> float:
        """The ``p``-th percentile latency in milliseconds (nearest rank); NaN without data."""
        if not self.latencies:
            return math.nan
        rank = max(1, math.ceil(p / 100 * len(self.latencies)))
        return 1000 * self.latencies[rank - 1]

    def as_dict(self) -> dict[str, Any]:
        """The summary, JSON-ready."""
        mean = 1000 * sum(self.latencies) / len(self.latencies) if self.latencies else math.nan
        return {
            "client": self.client,
            "operation": self.operation,
            "requests": len(self.latencies) + self.errors,
            "errors": self.errors,
            "seconds": round(self.seconds, 4),
            "throughput": round(self.throughput, 1),
            "mean_ms": round(mean, 3),
            "p50_ms": round(self.percentile_ms(50), 3),
            "p90_ms": round(self.percentile_ms(90), 3),
            "p99_ms": round(self.percentile_ms(99), 3),
        }


def add_parser(commands: Any) -> None:
    """Add the ``bench`` subcommand to ``commands`` (an argparse subparsers object)."""
    parser = commands.add_parser(
        "bench",
        help="throughput and latency percentiles for put/get/head, plain boto3 vs resilient_s3",
        description="Measure put, get and head against an endpoint with plain boto3 and with "
        "resilient_s3 in one run: requests per second and latency p50/p90/p99.",
        epilog=EXAMPLES,
    )
    add_endpoint_options(
        parser, bucket_help="bucket to use (default: a new temporary one, deleted afterwards)"
    )
    parser.add_argument(
        "--requests", type=positive, default=200, metavar="N", help="per operation, default 200"
    )
    parser.add_argument(
        "--concurrency", type=positive, default=8, metavar="C", help="threads, default 8"
    )
    parser.add_argument(
        "--size", type=size, default=1024, metavar="BYTES", help="object size, default 1024"
    )
    parser.add_argument("--plot", metavar="FILE.png", help="draw latencies and throughput")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Measure, print a table (or JSON), draw the plot if asked; 0 if no request failed."""
    if args.plot:
        require_matplotlib()
    endpoint = open_endpoint(args)
    logging.getLogger("resilient_s3").setLevel(logging.ERROR)
    body = random.Random(0).randbytes(args.size)
    direct = endpoint.resilient_client()
    measurements: list[Measurement] = []
    with temporary_bucket(direct, args.bucket, "bench") as (bucket, prefix):
        clients = {"plain boto3": endpoint.boto3_client(), "resilient_s3": direct}
        total = len(OPERATIONS) * len(CLIENTS) * args.requests
        with StatusBar("bench", total, "requests") as progress:
            for label, client in clients.items():
                warm = [f"{prefix}warmup/{label}/{i}" for i in range(_WARMUP)]
                for operation in OPERATIONS:
                    measure(client, label, operation, bucket, warm, body, 1)
            for operation in OPERATIONS:
                for label, client in clients.items():
                    keys = [f"{prefix}{label}/{i:06d}" for i in range(args.requests)]
                    measurements.append(
                        measure(
                            client, label, operation, bucket, keys, body, args.concurrency, progress
                        )
                    )
        clients["plain boto3"].close()
    if args.plot:
        subtitle = f"{endpoint.url}, {args.size}-byte objects, {args.concurrency} threads"
        plot_bench(measurements, args.plot, subtitle)
    if args.json:
        report = {
            "endpoint": endpoint.url,
            "requests": args.requests,
            "concurrency": args.concurrency,
            "size": args.size,
            "results": [m.as_dict() for m in measurements],
            "plot": args.plot,
        }
        print(json.dumps(report, indent=2))
    else:
        _print_table(endpoint.url, args, measurements)
    return 0 if all(m.errors == 0 for m in measurements) else 1


def measure(
    client: Any,
    label: str,
    operation: str,
    bucket: str,
    keys: list[str],
    body: bytes,
    concurrency: int,
    progress: StatusBar | None = None,
) -> Measurement:
    """Run ``operation`` once per key on ``concurrency`` threads; time each request."""

    def one(key: str) -> float | None:
        started = time.perf_counter()
        try:
            if operation == "put":
                client.put_object(Bucket=bucket, Key=key, Body=body)
            elif operation == "get":
                client.get_object(Bucket=bucket, Key=key)["Body"].read()
            else:
                client.head_object(Bucket=bucket, Key=key)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
            return None
        finally:
            if progress is not None:
                progress.tick("requests")
        return time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        timings = list(pool.map(one, keys))
    seconds = time.perf_counter() - started
    latencies = tuple(sorted(t for t in timings if t is not None))
    return Measurement(label, operation, latencies, len(timings) - len(latencies), seconds)


def _print_table(url: str, args: argparse.Namespace, measurements: list[Measurement]) -> None:
    """The results, one row per operation and client, then resilient_s3's p50 difference."""
    print(
        f"\nBench against {url}: {args.requests} requests per operation and client, "
        f"{args.size}-byte objects, {args.concurrency} threads.\n"
    )
    print(_row(("op", "client", "req/s", "p50 ms", "p90 ms", "p99 ms", "errors")))
    for m in measurements:
        cells = (
            m.operation,
            m.client,
            f"{m.throughput:.1f}",
            f"{m.percentile_ms(50):.2f}",
            f"{m.percentile_ms(90):.2f}",
            f"{m.percentile_ms(99):.2f}",
            str(m.errors),
        )
        print(_row(cells))
    by_key = {(m.operation, m.client): m for m in measurements}
    print()
    for operation in OPERATIONS:
        plain, ours = by_key[(operation, CLIENTS[0])], by_key[(operation, CLIENTS[1])]
        diff = ours.percentile_ms(50) - plain.percentile_ms(50)
        print(f"{operation}: resilient_s3 p50 {diff:+.2f} ms vs plain boto3")
    if args.plot:
        print(f"\nplot written to {args.plot}")


#: Column widths of the table; the first two columns are left-aligned, the others right-aligned.
_WIDTHS = (6, 14, 9, 9, 9, 9, 8)


def _row(cells: tuple[str, ...]) -> str:
    """One line of the table."""
    pairs = enumerate(zip(cells, _WIDTHS, strict=True))
    return "".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in pairs)
