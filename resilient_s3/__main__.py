"""``python -m resilient_s3`` / ``resilient-s3``: the command line (``demo`` for now)."""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the command; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="resilient-s3",
        description="resilient-s3: an S3 client that never loses an acknowledged write silently.",
        epilog="example: resilient-s3 demo --objects 400 --concurrency 64",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="plain boto3 vs resilient_s3 under injected faults, on an embedded server"
    )
    demo.add_argument("--objects", type=_positive, default=400)
    demo.add_argument("--concurrency", type=_positive, default=64)
    demo.add_argument("--fault-rate", type=float, default=0.10)
    demo.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    from ._demo import run_demo

    return run_demo(args.objects, args.concurrency, args.fault_rate, args.seed)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


if __name__ == "__main__":
    sys.exit(main())
