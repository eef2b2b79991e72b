"""``resilient-s3 doctor``: probe an endpoint, print the findings and a recommended config.

The checks are in :mod:`._reachability` and :mod:`._probes`. Those that write run in a temporary
bucket (or under a unique prefix of ``--bucket``) that is cleaned up afterwards, whatever happens.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from typing import Any

import botocore.exceptions

from ._args import add_endpoint_options
from ._probes import PROBES, Finding, Target
from ._reachability import reachability
from ._session import Endpoint, open_endpoint, temporary_bucket

__all__ = ["add_parser", "recommended_config", "run"]

EXAMPLES = """\
examples:
  resilient-s3 doctor --endpoint-url http://127.0.0.1:4566
  resilient-s3 doctor --endpoint-url https://127.0.0.1:4566 --no-verify-ssl --json
  resilient-s3 doctor --endpoint-url https://s3.eu-west-1.amazonaws.com \\
      --addressing-style virtual --profile test --bucket my-test-bucket

checks: reachability and latency, clock skew, aws-chunked uploads (is the framing stored as
data?), conditional writes (If-None-Match), list after write, Range reads, multipart ETag format.
exit status: 0 when no problem was found, 1 on a problem or failure, 2 bad usage.
"""

#: How each status is shown in the table.
_SHOWN = {"ok": "ok", "info": "info", "warn": "WARN", "problem": "PROBLEM"}


def add_parser(commands: Any) -> None:
    """Add the ``doctor`` subcommand to ``commands`` (an argparse subparsers object)."""
    parser = commands.add_parser(
        "doctor",
        help="probe an endpoint and recommend a configuration",
        description="Probe an S3 endpoint for the behaviours that decide how to configure a "
        "client for it, print what was found and the configuration to use.",
        epilog=EXAMPLES,
    )
    add_endpoint_options(
        parser,
        bucket_help="bucket to probe in, under a unique prefix (default: a new temporary "
        "bucket); everything written is deleted afterwards",
    )
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Probe, print the findings and the recommended configuration; 1 if a problem was found."""
    endpoint = open_endpoint(args)
    findings = reachability(endpoint)
    setup = endpoint.boto3_client()
    applied: dict[str, Any] = {}  # settings found necessary so far: later checks use them
    try:
        with temporary_bucket(setup, args.bucket, "doctor") as (bucket, prefix):
            for check, probe in PROBES:
                client = endpoint.boto3_client(**applied)
                try:
                    finding = probe(Target(endpoint, client, bucket, prefix))
                except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
                    finding = Finding(check, "problem", f"the check failed: {exc}")
                finally:
                    client.close()
                if applied:
                    finding.details["ran_with"] = dict(applied)
                findings.append(finding)
                applied.update(finding.config)
    finally:
        setup.close()
    config = recommended_config(endpoint, findings)
    notes = [f.note for f in findings if f.note]
    problems = sum(f.status == "problem" for f in findings)
    if args.json:
        report = {
            "endpoint": endpoint.url,
            "region": endpoint.region,
            "findings": [
                {
                    "check": f.check,
                    "status": f.status,
                    "summary": f.summary,
                    "details": f.details,
                    "note": f.note,
                }
                for f in findings
            ],
            "recommended_config": config,
            "notes": notes,
            "problems": problems,
        }
        print(json.dumps(report, indent=2))
    else:
        _print_report(endpoint, findings, config, notes)
    return 1 if problems else 0


def recommended_config(endpoint: Endpoint, findings: list[Finding]) -> dict[str, Any]:
    """The botocore ``Config`` keyword arguments the findings call for (addressing style always)."""
    config: dict[str, Any] = {"s3": {"addressing_style": endpoint.addressing_style}}
    for finding in findings:
        config.update(finding.config)
    return config


def _print_report(
    endpoint: Endpoint, findings: list[Finding], config: dict[str, Any], notes: list[str]
) -> None:
    """The findings table, the notes and the configuration as Python code."""
    print(f"\nresilient-s3 doctor: {endpoint.url} (region {endpoint.region})\n")
    width = max(len(f.check) for f in findings) + 2
    indent = " " * (2 + 9 + width)
    for f in findings:
        head = f"  {_SHOWN.get(f.status, f.status):<9}{f.check:<{width}}"
        lines = textwrap.wrap(f.summary, 100 - len(indent)) or [""]
        print(head + lines[0])
        for line in lines[1:]:
            print(indent + line)
    ran_with = next((f.details["ran_with"] for f in findings if "ran_with" in f.details), None)
    if ran_with:
        settings = ", ".join(f"{k}={_python(v)}" for k, v in ran_with.items())
        print(f"\nThe checks after the first recommendation ran with it: {settings}.")
    if notes:
        print("\nNotes:")
        for note in notes:
            print(f"  - {note}")
    print("\nRecommended configuration:\n")
    print("    import resilient_s3")
    print("    from botocore.config import Config\n")
    print("    s3 = resilient_s3.client(")
    print('        "s3",')
    print(f"        endpoint_url={_python(endpoint.url)},")
    print(f"        region_name={_python(endpoint.region)},")
    if not endpoint.verify:
        print("        verify=False,  # TLS certificate checks off, as with boto3")
    print("        config=Config(")
    for name, value in config.items():
        print(f"            {name}={_python(value)},")
    print("        ),")
    print("    )")
    problems = sum(f.status == "problem" for f in findings)
    print(f"\n{problems} problem{'s' if problems != 1 else ''} found.")


def _python(value: object) -> str:
    """``value`` as Python source, strings in double quotes (as ruff and black write them)."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_python(k)}: {_python(v)}" for k, v in value.items()) + "}"
    return repr(value)
