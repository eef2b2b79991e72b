"""The request hooks act in batch workers only."""

from __future__ import annotations

import time
from typing import Any

from resilient_s3.batch import BatchClient

from .conftest import make_bodies


def test_calls_outside_batch_workers_are_neither_paced_nor_counted(
    rs3: Any, fault_proxy: Any, s3_bucket: str
) -> None:
    report = rs3.batch.put(s3_bucket, make_bodies(5, size=1), rate_limit=5)
    assert report.stats.requests == 6  # five puts and one list page

    started = time.monotonic()
    for i in range(20):  # the same client, from this thread: the hooks are registered on it
        rs3.head_object(Bucket=s3_bucket, Key=f"data/{i % 5:05d}")
    assert time.monotonic() - started < 2.0  # 20 requests at rate_limit=5 would take 4 s
    assert report.stats.requests == 6
    assert fault_proxy.counters["requests"] == 26


def test_list_pages_are_counted(batch: BatchClient, s3_bucket: str) -> None:
    report = batch.put(s3_bucket, make_bodies(3, size=1))
    assert report.stats.list_requests == 1
    assert report.stats.requests == 4
