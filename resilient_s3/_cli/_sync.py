"""``resilient-s3 sync SRC DST``: ``s3.batch.sync`` from the command line.

The endpoint, region and credentials are found the boto3 way: ``--endpoint-url`` or the
environment (``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_S3``) or the profile's ``endpoint_url``;
``--region`` or the profile's or ``AWS_REGION``/``AWS_DEFAULT_REGION``; credentials from the
environment, the shared files or ``--profile``. Nothing secret is printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from botocore.config import Config

from .._factory import client as resilient_client
from ..batch import SyncReport
from ._args import CliError, endpoint_url, positive, size
from ._session import DEFAULT_REGION, check_reachable, credentials_session

__all__ = ["add_parser", "run"]

EXAMPLES = """\
examples:
  resilient-s3 sync ./photos s3://my-bucket/photos
  resilient-s3 sync s3://my-bucket/photos ./photos --delete
  resilient-s3 sync ./site s3://my-bucket/www --dry-run
  AWS_ENDPOINT_URL=http://127.0.0.1:9000 resilient-s3 sync ./data s3://bucket/data --profile dev

Only what is missing or different (by size and content: MD5 or multipart ETag) is sent; an
unchanged file costs no request. Large uploads are journaled in the state directory and resume
where they stopped when the same command runs again. --delete deletes only after every transfer
succeeded. Names that cannot be mirrored are listed and make the exit status 1.
exit status: 0 the destination mirrors the source, 1 failures or skipped names, 2 bad usage,
130 interrupted (run the same command again to finish).
"""


def add_parser(commands: Any) -> None:
    """Add the ``sync`` subcommand to ``commands`` (an argparse subparsers object)."""
    parser = commands.add_parser(
        "sync",
        help="make a bucket prefix like a local folder, or a local folder like a prefix",
        description="Sync a local directory and s3://bucket/prefix, either way: send only what "
        "is missing or different, verify every transfer, resume interrupted large uploads.",
        epilog=EXAMPLES,
    )
    parser.add_argument("source", metavar="SRC", help="a local directory or s3://bucket/prefix")
    parser.add_argument("dest", metavar="DST", help="a local directory or s3://bucket/prefix")
    parser.add_argument(
        "--delete", action="store_true",
        help="delete what the source does not have (after every transfer succeeded)",
    )  # fmt: skip
    parser.add_argument(
        "--dry-run", action="store_true", help="print what would be done; send and write nothing"
    )
    parser.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None,
        help="a progress bar on stderr (default: when stderr is a terminal)",
    )  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="print the summary line only")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--concurrency", type=positive, default=32, help="default 32")
    parser.add_argument("--part-size", type=size, default=16 * 1024**2, help="default 16MiB")
    parser.add_argument(
        "--multipart-threshold", type=size, default=64 * 1024**2, help="default 64MiB"
    )
    state = parser.add_mutually_exclusive_group()
    state.add_argument(
        "--state-dir", metavar="DIR",
        help="where the sync index and upload journals live (default: $RESILIENT_S3_STATE_DIR, "
        "else ~/.local/state/resilient-s3)",
    )  # fmt: skip
    state.add_argument(
        "--no-state", action="store_true",
        help="keep no index or journal (files are read to be compared; no resumed uploads)",
    )  # fmt: skip
    group = parser.add_argument_group("endpoint and credentials (the boto3 way)")
    group.add_argument(
        "--endpoint-url", type=endpoint_url, metavar="URL",
        help="default: AWS_ENDPOINT_URL(_S3) or the profile's endpoint_url, else AWS",
    )  # fmt: skip
    group.add_argument(
        "--region", metavar="R",
        help="default: the profile's or AWS_REGION/AWS_DEFAULT_REGION, else us-east-1",
    )  # fmt: skip
    group.add_argument("--profile", metavar="NAME", help="AWS profile (default: the usual chain)")
    group.add_argument(
        "--addressing-style", choices=("path", "virtual"),
        help="S3 addressing style (default: the profile's, else boto3's)",
    )  # fmt: skip
    group.add_argument(
        "--no-verify-ssl", action="store_true", help="do not verify the TLS certificate"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Sync, print what was done and the summary; 0 when the destination mirrors the source."""
    session = credentials_session(args.profile)
    config = (
        Config(s3={"addressing_style": args.addressing_style}) if args.addressing_style else None
    )
    region = args.region or session.region_name or DEFAULT_REGION
    s3 = resilient_client(
        "s3", endpoint_url=args.endpoint_url, region_name=region, session=session,
        verify=not args.no_verify_ssl, config=config,
    )  # fmt: skip
    with s3:
        check_reachable(str(s3.meta.endpoint_url))
        progress = sys.stderr.isatty() if args.progress is None else args.progress
        resume: Any = False if args.no_state else (args.state_dir or True)
        try:
            report = s3.batch.sync(
                args.source, args.dest, delete=args.delete, dry_run=args.dry_run,
                resume=resume, multipart_threshold=args.multipart_threshold,
                part_size=args.part_size, concurrency=args.concurrency,
                progress=progress and not args.json,
            )  # fmt: skip
        except (ValueError, TypeError, OSError) as error:
            raise CliError(str(error), 2) from None
        except KeyboardInterrupt as interrupt:
            stopped = getattr(interrupt, "resilient_s3_report", None)
            if isinstance(stopped, SyncReport):
                _print(stopped, args)
            raise CliError("interrupted: run the same command again to finish", 130) from None
    _print(report, args)
    return 0 if report.ok else 1


def _print(report: SyncReport, args: argparse.Namespace) -> None:
    """The actions (stdout), what was skipped or failed (stderr), the summary (stdout)."""
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
        return
    if not args.quiet:
        marker = "(dry run) " if report.dry_run else ""
        for action in report.actions:
            print(f"{marker}{action}")
    for skipped in report.skipped:
        print(f"skipped: {skipped}", file=sys.stderr)
    for failure in report.failed:
        print(f"failed: {failure}", file=sys.stderr)
    print(report.summary())
