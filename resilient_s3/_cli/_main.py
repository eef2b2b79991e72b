"""The entry point: parse, run the command, turn failures into one line and an exit code."""

from __future__ import annotations

import argparse
import sys

import botocore.exceptions

from . import _bench, _doctor, _stress, _sync
from ._args import CliError, Parser, positive

__all__ = ["build_parser", "main"]

EXAMPLES = """\
examples:
  resilient-s3 demo
  resilient-s3 stress --endpoint-url http://127.0.0.1:4566 --faults reset_before=0.05,slowdown=0.05
  resilient-s3 bench --endpoint-url http://127.0.0.1:9000 --plot bench.png
  resilient-s3 doctor --endpoint-url https://s3.eu-west-1.amazonaws.com --profile test
  resilient-s3 sync ./photos s3://my-bucket/photos --delete

Credentials for stress, bench, doctor and sync come from the usual AWS sources (environment, shared
files, --profile) and are never printed. Each command has its own --help. See docs/cli.md.
exit status: 0 success, 1 failure (or a problem found), 2 bad usage, 130 interrupted.
"""

DEMO_EXAMPLES = """\
examples:
  resilient-s3 demo
  resilient-s3 demo --objects 1000 --concurrency 128 --fault-rate 0.2 --seed 7

exit status: 0 when resilient_s3 lost nothing, 1 otherwise, 2 bad usage.
"""


def build_parser() -> Parser:
    """The ``resilient-s3`` parser with every subcommand."""
    parser = Parser(
        prog="resilient-s3",
        description="resilient-s3: an S3 client that never loses an acknowledged write silently.",
        epilog=EXAMPLES,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="plain boto3 vs resilient_s3 under injected faults, on an embedded server",
        description="Start an embedded S3 server (moto) and a fault proxy on 127.0.0.1, run the "
        "field scenario through them with plain boto3 and with resilient_s3, print both.",
        epilog=DEMO_EXAMPLES,
    )
    demo.add_argument("--objects", type=positive, default=400, help="default 400")
    demo.add_argument("--concurrency", type=positive, default=64, help="threads, default 64")
    demo.add_argument(
        "--fault-rate", type=float, default=0.10, help="share of requests hit, default 0.10"
    )
    demo.add_argument("--seed", type=int, default=1, help="default 1")
    demo.set_defaults(run=_run_demo)
    _stress.add_parser(commands)
    _bench.add_parser(commands)
    _doctor.add_parser(commands)
    _sync.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the command; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else 2
    prog = f"resilient-s3 {args.command}"
    try:
        return int(args.run(args))
    except CliError as exc:
        return _fail(prog, str(exc), exc.code)
    except botocore.exceptions.NoCredentialsError:
        return _fail(prog, "no AWS credentials found: set them in the environment or --profile")
    except (
        botocore.exceptions.EndpointConnectionError,
        botocore.exceptions.ConnectionClosedError,
        botocore.exceptions.ConnectTimeoutError,
        botocore.exceptions.ReadTimeoutError,
    ) as exc:
        return _fail(prog, f"lost the connection to the endpoint: {exc}")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        return _fail(prog, str(exc))
    except KeyboardInterrupt:
        return _fail(prog, "interrupted", 130)


def _run_demo(args: argparse.Namespace) -> int:
    """``demo``: ``._demo.run_demo``, whose server failures become one-line errors."""
    from ._demo import run_demo

    try:
        return run_demo(args.objects, args.concurrency, args.fault_rate, args.seed)
    except RuntimeError as exc:  # the embedded server could not start (moto missing, ...)
        raise CliError(str(exc).splitlines()[0]) from None


def _fail(prog: str, message: str, code: int = 1) -> int:
    """Print ``PROG: error: MESSAGE`` on stderr and return ``code``."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    return code
