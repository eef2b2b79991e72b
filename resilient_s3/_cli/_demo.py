"""``resilient-s3 demo``: the field failure and its fix, side by side, with no setup.

Starts the embedded S3 server (moto) and the fault proxy in front of it, runs the field
scenario through the proxy with plain boto3 and then with resilient_s3, and prints both.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import boto3

from .._factory import client
from ._scenario import ScenarioResult, format_table, run_field_scenario

__all__ = ["run_demo"]


def run_demo(
    objects: int = 400, concurrency: int = 64, fault_rate: float = 0.10, seed: int = 1
) -> int:
    """Run the demo and print the comparison; 0 when resilient_s3 lost and hid nothing."""
    from ..testing import Fault, FaultKind, FaultProxy, S3Server, mixed_faults  # server extra

    logging.getLogger("resilient_s3").setLevel(logging.ERROR)
    faults = (
        *mixed_faults(fault_rate),
        Fault(FaultKind.LOST_WRITE, rate=0.05),
        Fault(FaultKind.STALE_READ, rate=0.30),
    )
    print(f"Field scenario: {objects} objects, {concurrency} threads sharing one client, each")
    print("put then read back at once, through a fault proxy in front of a real S3 server")
    print("(moto) on 127.0.0.1 that acknowledges 5% of PUTs without storing them (lost writes),")
    print("answers 30% of reads of fresh keys with a stale 404, and injects")
    print(f"{fault_rate:.0%} mixed faults (resets before/after the server acts, SlowDown,")
    print("InternalError, truncated downloads).\n")
    with (
        S3Server() as server,
        FaultProxy(server.endpoint_url, faults, seed=seed) as proxy,
    ):
        direct = boto3.client("s3", **server.client_kwargs())
        results: list[ScenarioResult] = []
        stats: Any = None
        for label in ("plain boto3", "resilient_s3"):
            bucket = "demo-" + label.replace(" ", "-").replace("_", "-")
            direct.create_bucket(Bucket=bucket)
            if label == "plain boto3":
                s3: Any = boto3.client("s3", **proxy.client_kwargs())
            else:
                s3 = client("s3", **proxy.client_kwargs())
            results.append(
                run_field_scenario(
                    s3,
                    direct,
                    bucket,
                    label=label,
                    objects=objects,
                    concurrency=concurrency,
                    seed=seed,
                )
            )
            stats = getattr(s3, "stats", None)
        injected = {k: v for k, v in proxy.counters.items() if v and not k.startswith("op:")}
    _print_table(results)
    if stats is not None:
        print(f"\nresilient_s3 retries by kind: {dict(stats.retries)}")
        print(f"resilient_s3 resumed downloads: {stats.resumes}")
        print(
            f"resilient_s3 verified writes: {stats.verified}; lost writes re-uploaded: "
            f"{stats.reuploads}"
        )
    print(f"proxy counters: {injected}")
    ours = results[-1]
    ok = ours.lost_nothing and not ours.put_errors
    print(f"\nresilient_s3 {'lost nothing' if ok else 'LOST OR FAILED OBJECTS'}.")
    return 0 if ok else 1


def _print_table(results: list[ScenarioResult]) -> None:
    print(format_table([dataclasses.asdict(r) for r in results]))
    for r in results:
        if r.errors:
            print(f"  {r.label} errors: {r.errors}")
