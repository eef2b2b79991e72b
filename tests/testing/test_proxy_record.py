"""``FaultProxy.record_requests`` and ``Fault.after``, against a real moto server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError

from resilient_s3.testing import Fault, FaultKind, FaultProxy

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def test_recorded_requests_carry_the_asked_headers_and_the_fault(
    fault_proxy: FaultProxy, fault_proxy_client: S3Client, s3_server_client: S3Client,
    s3_bucket: str,
) -> None:  # fmt: skip
    s3_server_client.put_object(Bucket=s3_bucket, Key="k", Body=b"x" * 100)
    fault_proxy.set_faults([Fault(FaultKind.SLOWDOWN, after=1, limit=1)])
    fault_proxy.record_requests(("Range",))

    fault_proxy_client.get_object(Bucket=s3_bucket, Key="k", Range="bytes=10-")  # spared
    with pytest.raises(ClientError, match="503"):
        fault_proxy_client.head_object(Bucket=s3_bucket, Key="k")
    fault_proxy_client.head_object(Bucket=s3_bucket, Key="k")  # the limit is used up

    seen = fault_proxy.requests
    assert [(r.method, r.key, r.operation, r.fault) for r in seen] == [
        ("GET", "k", "GetObject", None),
        ("HEAD", "k", "HeadObject", "slowdown"),
        ("HEAD", "k", "HeadObject", None),
    ]
    assert [dict(r.headers) for r in seen] == [{"range": "bytes=10-"}, {}, {}]
    assert fault_proxy.counters["slowdown"] == 1


def test_credentials_are_never_recorded(fault_proxy: FaultProxy) -> None:
    with pytest.raises(ValueError, match="authorization"):
        fault_proxy.record_requests(("Range", "Authorization"))
    assert fault_proxy.requests == ()  # not recording


def test_after_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="after"):
        Fault(FaultKind.SLOWDOWN, after=-1)
