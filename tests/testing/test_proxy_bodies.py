"""The fault kinds that alter a download's answer (BIT_FLIP, EXTRA_BYTES, SLOW_BODY) or ignore
its condition (IGNORE_IF_MATCH), against a real moto server with plain boto3 clients making one
attempt per call."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, FlexibleChecksumError

from resilient_s3.testing import Fault, FaultKind, FaultProxy, parse_faults

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BODY = bytes(range(256)) * 40  # 10,240 bytes


def _client(proxy: FaultProxy) -> S3Client:
    config = Config(retries={"total_max_attempts": 1})
    return boto3.client("s3", config=config, **proxy.client_kwargs())


@pytest.fixture
def stored(s3_server_client: Any, s3_bucket: str) -> str:
    s3_server_client.put_object(Bucket=s3_bucket, Key="k", Body=BODY)  # with its CRC32
    s3_server_client.put_object(Bucket=s3_bucket, Key="empty", Body=b"")
    return s3_bucket


def test_bit_flip_corrupts_one_bit_of_a_download(fault_proxy: FaultProxy, stored: str) -> None:
    fault_proxy.set_faults([Fault(FaultKind.BIT_FLIP, limit=1)])
    s3 = _client(fault_proxy)

    with pytest.raises(FlexibleChecksumError):  # botocore checks the CRC32 the server sends
        s3.get_object(Bucket=stored, Key="k", ChecksumMode="ENABLED")["Body"].read()
    fault_proxy.set_faults([Fault(FaultKind.BIT_FLIP, limit=1)])
    ranged = s3.get_object(Bucket=stored, Key="k", Range="bytes=0-99")["Body"].read()
    empty = s3.get_object(Bucket=stored, Key="empty")["Body"].read()  # nothing to flip

    flipped = [a ^ b for a, b in zip(ranged, BODY[:100], strict=True)]
    assert flipped.count(0) == 99
    assert flipped.index(1) == 50  # one bit of the middle byte
    assert empty == b""
    assert fault_proxy.counters["bit_flip"] == 2


def test_extra_bytes_make_a_download_longer(fault_proxy: FaultProxy, stored: str) -> None:
    fault_proxy.set_faults([Fault(FaultKind.EXTRA_BYTES)])
    s3 = _client(fault_proxy)

    answer = s3.get_object(Bucket=stored, Key="k", Range="bytes=0-99")
    body = answer["Body"].read()
    with pytest.raises(FlexibleChecksumError):
        s3.get_object(Bucket=stored, Key="k", ChecksumMode="ENABLED")["Body"].read()

    assert body[:100] == BODY[:100]
    assert len(body) > 100
    assert answer["ContentRange"] == f"bytes 0-99/{len(BODY)}"  # as the server sent it
    assert fault_proxy.counters["extra_bytes"] == 2


def test_slow_body_keeps_flowing_at_its_rate(fault_proxy: FaultProxy, stored: str) -> None:
    fault_proxy.set_faults([Fault(FaultKind.SLOW_BODY, bytes_per_second=len(BODY) / 0.6)])
    # botocore's read timeout is between two reads: a body that keeps flowing is read whole
    config = Config(retries={"total_max_attempts": 1}, read_timeout=0.3)
    s3 = boto3.client("s3", config=config, **fault_proxy.client_kwargs())

    began = time.monotonic()
    body = s3.get_object(Bucket=stored, Key="k")["Body"].read()
    took = time.monotonic() - began

    assert body == BODY
    assert took >= 0.55  # 16 pieces a second
    assert fault_proxy.counters["slow_body"] == 1


def test_ignore_if_match_forwards_without_the_condition(
    fault_proxy: FaultProxy, stored: str
) -> None:
    s3 = _client(fault_proxy)
    with pytest.raises(ClientError) as refused:
        s3.get_object(Bucket=stored, Key="k", IfMatch='"not-its-etag"')
    fault_proxy.set_faults([Fault(FaultKind.IGNORE_IF_MATCH)])

    body = s3.get_object(Bucket=stored, Key="k", IfMatch='"not-its-etag"')["Body"].read()
    plain = s3.get_object(Bucket=stored, Key="k")["Body"].read()  # no condition: not counted

    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert body == plain == BODY
    assert fault_proxy.counters["ignore_if_match"] == 1


def test_the_new_kinds_validate_their_settings() -> None:
    Fault(FaultKind.SLOW_BODY, bytes_per_second=1000)
    with pytest.raises(ValueError, match="slow_body needs bytes_per_second > 0"):
        Fault(FaultKind.SLOW_BODY)
    with pytest.raises(ValueError, match="bytes_per_second applies to slow_body only"):
        Fault(FaultKind.BIT_FLIP, bytes_per_second=1.0)
    assert parse_faults("slow_body=1:2048") == (Fault(FaultKind.SLOW_BODY, bytes_per_second=2048),)
    assert Fault(FaultKind.BIT_FLIP).applies_to("GET", "k", "GetObject")
    assert not Fault(FaultKind.BIT_FLIP).applies_to("PUT", "k", "PutObject")
    assert Fault(FaultKind.IGNORE_IF_MATCH).applies_to("HEAD", "k", "HeadObject")
