"""client() and wrap(): building a facade as boto3 builds a client, through a real moto server
and the project's fault proxy."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore import exceptions as bce

import resilient_s3
from resilient_s3 import RetryPolicy
from resilient_s3.testing import Fault, FaultKind


def only(kind: FaultKind, operation: str) -> Fault:
    return Fault(kind, rate=1.0, operations=frozenset({operation}))


def test_wrap_switches_off_botocore_retries(
    fault_proxy: Any, s3_bucket: str, quick_policy: RetryPolicy
) -> None:
    plain = boto3.client("s3", **fault_proxy.client_kwargs())
    fault_proxy.set_faults([only(FaultKind.INTERNAL_ERROR, "PutObject")])
    with pytest.raises(bce.ClientError):
        plain.put_object(Bucket=s3_bucket, Key="k", Body=b"x")
    botocore_attempts = fault_proxy.counters["op:PutObject"]
    assert botocore_attempts > 1  # boto3 retried on its own
    fault_proxy.reset_counters()
    s3 = resilient_s3.wrap(plain, retry=quick_policy)
    with pytest.raises(bce.ClientError):
        s3.put_object(Bucket=s3_bucket, Key="k", Body=b"x")
    assert fault_proxy.counters["op:PutObject"] == quick_policy.server.max_attempts


def test_client_checks_its_service_and_closes(fault_proxy: Any) -> None:
    with pytest.raises(ValueError, match="S3 clients only"):
        resilient_s3.client("sqs", region_name="us-east-1")
    with pytest.raises(ValueError, match="S3 clients only"):
        resilient_s3.wrap(boto3.client("sts", region_name="us-east-1"))
    with resilient_s3.client(**fault_proxy.client_kwargs()) as s3:
        assert s3.meta.service_model.service_name == "s3"


def test_session_keyword(fault_proxy: Any, s3_bucket: str) -> None:
    kwargs = fault_proxy.client_kwargs()
    session = boto3.Session(
        aws_access_key_id=kwargs.pop("aws_access_key_id"),
        aws_secret_access_key=kwargs.pop("aws_secret_access_key"),
    )
    s3 = resilient_s3.client("s3", session=session, max_pool_connections=5, **kwargs)
    config: Any = s3.meta.config
    assert config.max_pool_connections == 5
    s3.head_bucket(Bucket=s3_bucket)


def test_no_pool_warnings_at_64_threads(
    fault_proxy: Any, s3_bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    caplog.set_level("WARNING", logger="urllib3.connectionpool")

    def hammer(s3: Any) -> int:
        def one(i: int) -> None:
            s3.put_object(Bucket=s3_bucket, Key=f"pool/{i}", Body=b"x")

        caplog.clear()
        with ThreadPoolExecutor(max_workers=64) as pool:
            list(pool.map(one, range(256)))
        return sum("Connection pool is full" in r.getMessage() for r in caplog.records)

    assert hammer(boto3.client("s3", **fault_proxy.client_kwargs())) > 0  # the control
    assert hammer(resilient_s3.client("s3", **fault_proxy.client_kwargs())) == 0
