"""The soak: 10,000 objects put by one batch through mixed faults and lost writes, then every
acknowledged object checked on the server itself (no proxy): 0 lost. Marked ``slow``; the
README's test command (CI) runs it. Measured on moto, on 2 cores shared with other test runs
(load average 17): the batch took 137 s on the botocore plane, 106 s on the CRT plane (the
default with awscrt), the whole test 125-183 s (bucket clean-up included)."""

from __future__ import annotations

import hashlib
import random
import time
from typing import Any

import pytest

import resilient_s3
from resilient_s3 import Backoff, RetryPolicy
from resilient_s3.testing import Fault, FaultKind, mixed_faults

OBJECTS = 10_000
SIZE = 256


@pytest.mark.slow
def test_ten_thousand_objects_through_faults_and_lost_writes_lose_nothing(
    fault_proxy: Any, s3_server_client: Any, s3_bucket: str
) -> None:
    rng = random.Random(13)
    bodies = {f"soak/{i:05d}": rng.randbytes(SIZE) for i in range(OBJECTS)}
    fault_proxy.set_faults([*mixed_faults(0.05), Fault(FaultKind.LOST_WRITE, rate=0.02)])
    policy = RetryPolicy(
        throttled=Backoff(max_attempts=8, base=0.05, cap=0.5),
        server=Backoff(max_attempts=6, base=0.02, cap=0.5),
    )
    with resilient_s3.client("s3", retry=policy, **fault_proxy.client_kwargs()) as s3:
        started = time.monotonic()
        report = s3.batch.put(s3_bucket, bodies, concurrency=32)
        took = time.monotonic() - started

    counters = fault_proxy.counters
    assert counters["lost_write"] > 100  # the proxy did lose writes...
    assert report.stats.reuploads >= counters["lost_write"] // 2  # ...and they were redone
    failed = {failure.key for failure in report.failed}
    for failure in report.failed:  # an error names its object; it is never silent
        assert f"s3://{s3_bucket}/{failure.key}" in str(failure)
    assert len(failed) <= OBJECTS // 1000, report.summary()
    assert report.succeeded + len(failed) == OBJECTS

    on_server: dict[str, str] = {}
    for page in s3_server_client.get_paginator("list_objects_v2").paginate(Bucket=s3_bucket):
        for entry in page.get("Contents", []):
            on_server[entry["Key"]] = entry["ETag"].strip('"')
    lost = [
        key
        for key, body in bodies.items()
        if key not in failed and on_server.get(key) != hashlib.md5(body).hexdigest()
    ]
    assert lost == [], f"{len(lost)} acknowledged objects missing or different: {lost[:5]}"
    print(f"soak: {OBJECTS} objects in {took:.1f} s, {report.summary()}")
