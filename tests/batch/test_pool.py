"""More concurrency than the client's connection pool: a bigger-pool clone, sharing stats."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

import resilient_s3
from resilient_s3 import RetryPolicy
from resilient_s3.batch import BatchClient
from resilient_s3.batch._pool import pool_size, with_pool
from resilient_s3.batch._state import client_state
from resilient_s3.testing import Fault, FaultKind

from .conftest import make_bodies


def test_a_batch_above_the_pool_size_runs_on_a_bigger_pool_clone(
    rs3: Any, fault_proxy: Any, s3_bucket: str, caplog: Any
) -> None:
    assert pool_size(rs3.inner) == 64
    before = rs3.stats.calls

    report = BatchClient(rs3).put(s3_bucket, make_bodies(100, size=1), concurrency=80)

    assert report.ok
    assert "Connection pool is full" not in caplog.text
    clone = client_state(rs3.inner)._pools[80]
    assert pool_size(clone) == 80
    assert clone._get_credentials() is rs3.inner._get_credentials()  # type: ignore[attr-defined]
    assert clone.meta.endpoint_url == fault_proxy.endpoint_url
    assert rs3.stats.calls - before == report.stats.requests  # stats shared with the facade


def test_with_pool_keeps_a_client_whose_pool_is_big_enough(rs3: Any) -> None:
    state = client_state(rs3.inner)
    assert with_pool(rs3, 64, state) is rs3
    bigger = with_pool(rs3, 65, state)
    assert bigger is not rs3
    assert bigger.inner is with_pool(rs3, 65, state).inner  # built once per size
    assert bigger.retry_policy is rs3.retry_policy


def test_a_wrapped_client_clone_keeps_botocore_retries_off(
    fault_proxy: Any, s3_bucket: str
) -> None:
    plain = boto3.client("s3", config=Config(retries={"mode": "standard"}),
                         **fault_proxy.client_kwargs())  # fmt: skip
    s3 = resilient_s3.wrap(plain, retry=RetryPolicy.no_retries())
    assert pool_size(plain) == 10
    fault_proxy.set_faults(
        [Fault(FaultKind.SLOWDOWN, limit=1, operations=frozenset({"PutObject"}))]
    )

    report = BatchClient(s3).put(s3_bucket, {"k": b"v"}, concurrency=16)

    assert 16 in client_state(plain)._pools
    (failure,) = report.failed  # one attempt: neither we nor botocore retried
    assert failure.attempts == 1
    assert fault_proxy.counters["op:PutObject"] == 1
