"""``resilient-s3 stress``: the field scenario against any endpoint, plain boto3 vs resilient_s3.

Both clients run the same scenario (``._scenario.run_field_scenario``: N objects put
on C threads sharing one client, each read back at once, then the bucket listed directly) in the
same bucket under prefixes of their own, optionally through a fault proxy started in front of the
endpoint. Everything the run wrote is deleted afterwards.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from contextlib import ExitStack
from typing import Any

from ..testing import FaultKind, FaultProxy
from ._args import CliError, add_endpoint_options, fault_spec, positive, size
from ._scenario import ScenarioResult, format_table, run_field_scenario
from ._session import Endpoint, PoolFullCounter, open_endpoint, temporary_bucket
from ._status import CountingClient, StatusBar

__all__ = ["add_parser", "run"]

EXAMPLES = """\
examples:
  resilient-s3 stress --endpoint-url http://127.0.0.1:4566
  resilient-s3 stress --endpoint-url http://127.0.0.1:9000 --faults reset_before=0.05,slowdown=0.05
  resilient-s3 stress --endpoint-url https://s3.eu-west-1.amazonaws.com \\
      --addressing-style virtual --profile test --bucket my-test-bucket \\
      --objects 2000 --concurrency 128 --json

fault spec (--faults): comma-separated KIND=RATE items, kinds: {kinds};
  latency=RATE:SECONDS, stale_read=RATE:WINDOW, slowdown=RATE:RETRY_AFTER,
  throttle=RATE:PER_SECOND. See docs/testing.md.
exit status: 0 when resilient_s3 lost nothing and surfaced no error, 1 otherwise, 2 bad usage.
""".format(kinds=", ".join(k.value for k in FaultKind))


def add_parser(commands: Any) -> None:
    """Add the ``stress`` subcommand to ``commands`` (an argparse subparsers object)."""
    parser = commands.add_parser(
        "stress",
        help="the field scenario against any endpoint: plain boto3 vs resilient_s3",
        description="Put N objects from C threads sharing one client, read each back at once, "
        "then count what the server really holds: first with plain boto3, then with "
        "resilient_s3, optionally through a fault-injecting proxy in front of the endpoint.",
        epilog=EXAMPLES,
    )
    add_endpoint_options(
        parser, bucket_help="bucket to use (default: a new temporary one, deleted afterwards)"
    )
    parser.add_argument("--objects", type=positive, default=400, metavar="N", help="default 400")
    parser.add_argument(
        "--concurrency", type=positive, default=64, metavar="C", help="threads, default 64"
    )
    parser.add_argument(
        "--size", type=size, default=1024, metavar="BYTES", help="object size, default 1024"
    )
    parser.add_argument(
        "--faults",
        type=fault_spec,
        default=(),
        metavar="SPEC",
        help="inject faults through a proxy on 127.0.0.1, e.g. reset_before=0.05,slowdown=0.05",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of bodies and faults, default 1")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the scenario with both clients; print a table (or JSON); 0 if resilient_s3 lost
    nothing."""
    if args.faults and args.addressing_style != "path":
        raise CliError("--faults needs --addressing-style path (the fault proxy routes by path)")
    endpoint = open_endpoint(args)
    logging.getLogger("resilient_s3").setLevel(logging.ERROR)  # retries are counted, not logged
    spec = ",".join(f"{f.kind.value}={f.rate:g}" for f in args.faults) or "none"
    results: list[dict[str, Any]] = []
    direct = endpoint.resilient_client()
    with ExitStack() as stack:
        bucket, prefix = stack.enter_context(temporary_bucket(direct, args.bucket, "stress"))
        url = endpoint.url
        proxy = None
        if args.faults:
            proxy = stack.enter_context(FaultProxy(endpoint.url, args.faults, seed=args.seed))
            url = proxy.endpoint_url
        for label in ("plain boto3", "resilient_s3"):
            results.append(_run_one(endpoint, url, label, direct, bucket, prefix, proxy, args))
    ours = results[-1]
    ok = ours["lost_nothing"] and not ours["put_errors"] and not ours["get_errors"]
    if args.json:
        report = {
            "endpoint": endpoint.url,
            "objects": args.objects,
            "concurrency": args.concurrency,
            "size": args.size,
            "faults": spec,
            "seed": args.seed,
            "results": results,
            "resilient_s3_lost_nothing": ok,
        }
        print(json.dumps(report, indent=2))
    else:
        _print_table(endpoint.url, spec, args, results, ok)
    return 0 if ok else 1


def _run_one(
    endpoint: Endpoint,
    url: str,
    label: str,
    direct: Any,
    bucket: str,
    prefix: str,
    proxy: FaultProxy | None,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Run the scenario once with a new client of kind ``label``; its result as a dict."""
    plain = label == "plain boto3"
    client = endpoint.boto3_client(url) if plain else endpoint.resilient_client(url)
    if proxy is not None:
        proxy.reset_counters()
    with PoolFullCounter().installed() as pool_full, ExitStack() as stack:
        progress = stack.enter_context(StatusBar(label, args.objects, "objects"))
        result: ScenarioResult = run_field_scenario(
            CountingClient(client, progress),
            direct,
            bucket,
            label=label,
            objects=args.objects,
            concurrency=args.concurrency,
            size=args.size,
            seed=args.seed,
            prefix=f"{prefix}{'boto3' if plain else 'resilient_s3'}/",
        )
    row: dict[str, Any] = dataclasses.asdict(result)
    row["seconds"] = round(result.seconds, 3)
    row["lost_nothing"] = result.lost_nothing
    row["connections_discarded"] = pool_full.count
    row["stats"] = None if plain else client.stats.as_dict()
    if proxy is not None:
        counters = proxy.counters
        row["faults_injected"] = {
            k.value: counters[k.value] for k in FaultKind if counters[k.value]
        }
        row["requests"] = counters["requests"]
    client.close()
    return row


def _print_table(
    url: str, spec: str, args: argparse.Namespace, results: list[dict[str, Any]], ok: bool
) -> None:
    """The side-by-side table and what each client did."""
    print(
        f"\nField scenario against {url}: {args.objects} objects of {args.size} bytes, "
        f"{args.concurrency} threads sharing one client, faults: {spec} (seed {args.seed}).\n"
    )
    print(format_table(results))
    print()
    for r in results:
        if r["errors"]:
            print(f"{r['label']} errors: {r['errors']}")
        if r["connections_discarded"]:
            print(f"{r['label']} connections discarded (pool full): {r['connections_discarded']}")
        if r.get("faults_injected") is not None:
            print(f"{r['label']} faults injected: {r['faults_injected'] or 'none'}")
        if r["stats"] is not None:
            stats = r["stats"]
            print(f"{r['label']} retries by kind: {stats['retries'] or 'none'}")
            print(f"{r['label']} resumed downloads: {stats['resumes']}")
            if stats.get("reuploads"):
                print(f"{r['label']} lost writes uploaded again: {stats['reuploads']}")
    verdict = "lost nothing" if ok else "LOST OBJECTS OR SURFACED ERRORS"
    print(f"\nresilient_s3 {verdict}.")
