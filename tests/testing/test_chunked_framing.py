"""Tests of the CHUNKED_FRAMING fault: the upstream stores an upload's aws-chunked framing.

The framing is checked byte for byte against botocore's own ``AwsChunkedWrapper`` (what boto3 sends
over https), and end to end through the proxy in front of the moto server.
"""

from __future__ import annotations

import http.client
import io
import zlib
from base64 import b64encode
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.config import Config
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from resilient_s3.testing import Fault, FaultKind, FaultProxy
from resilient_s3.testing._framing import AWS_CHUNK, _frame, framed_length

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def _botocore_framing(data: bytes) -> bytes:
    """The body boto3 sends for ``data`` over https: aws-chunked with a CRC32 trailer."""
    wrapper = AwsChunkedWrapper(
        io.BytesIO(data), checksum_cls=Crc32Checksum, checksum_name="x-amz-checksum-crc32"
    )
    return b"".join(iter(wrapper))


def _crc32_header(data: bytes) -> str:
    """The ``x-amz-checksum-crc32`` value of ``data``."""
    return b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


@pytest.mark.parametrize("size", [0, 1, 1024, AWS_CHUNK, AWS_CHUNK + 5, 2 * AWS_CHUNK])
def test_framing_is_botocores(size: int) -> None:
    """The proxy frames exactly as botocore does, and framed_length predicts the length."""
    data = bytes(i % 251 for i in range(size))
    trailer = f"x-amz-checksum-crc32:{_crc32_header(data)}\r\n".encode()
    pieces = [data[i : i + 65536] for i in range(0, size, 65536)]
    framed = b"".join(_frame(iter(pieces), trailer))
    assert framed == _botocore_framing(data)
    assert len(framed) == framed_length(size, trailer)


def test_1024_bytes_frame_to_1067() -> None:
    """The figure seen in the field: 1,024 bytes in, 1,067 stored."""
    trailer = f"x-amz-checksum-crc32:{_crc32_header(b'x' * 1024)}\r\n".encode()
    assert framed_length(1024, trailer) == 1067
    assert len(_botocore_framing(b"x" * 1024)) == 1067


def test_boto3_upload_is_stored_framed(
    fault_proxy: FaultProxy, s3_server_client: S3Client, s3_bucket: str
) -> None:
    """boto3's default client (a CRC32 header): the server stores the framing, 1,067 bytes; with
    request_checksum_calculation="when_required" nothing is framed and nothing counted."""
    fault_proxy.set_faults([Fault(FaultKind.CHUNKED_FRAMING)])
    data = bytes(range(256)) * 4
    default = boto3.client("s3", **fault_proxy.client_kwargs())
    default.put_object(Bucket=s3_bucket, Key="framed", Body=data)
    stored = s3_server_client.get_object(Bucket=s3_bucket, Key="framed")["Body"].read()
    assert stored == _botocore_framing(data)
    assert len(stored) == 1067
    assert fault_proxy.counters["chunked_framing"] == 1
    config = Config(request_checksum_calculation="when_required")
    fixed = boto3.client("s3", config=config, **fault_proxy.client_kwargs())
    fixed.put_object(Bucket=s3_bucket, Key="plain", Body=data)
    assert s3_server_client.get_object(Bucket=s3_bucket, Key="plain")["Body"].read() == data
    assert fault_proxy.counters["chunked_framing"] == 1  # not applicable: forwarded, uncounted
    assert fault_proxy.counters["op:PutObject"] == 2


def test_aws_chunked_request_is_stored_framed(
    fault_proxy: FaultProxy, s3_server_client: S3Client, s3_bucket: str
) -> None:
    """A body the client sent aws-chunked is stored with its framing, uncut."""
    data = b"hello, framing"
    framed = _botocore_framing(data)
    fault_proxy.set_faults([Fault(FaultKind.CHUNKED_FRAMING, limit=1)])
    conn = http.client.HTTPConnection("127.0.0.1", fault_proxy.port, timeout=10)
    conn.request(
        "PUT",
        f"/{s3_bucket}/sent-framed",
        body=framed,
        headers={
            "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(data)),
            "x-amz-trailer": "x-amz-checksum-crc32",
            "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        },
    )
    response = conn.getresponse()
    assert (response.status, response.read()) == (200, b"")
    conn.close()
    stored = s3_server_client.get_object(Bucket=s3_bucket, Key="sent-framed")["Body"].read()
    assert stored == framed
    assert fault_proxy.counters["chunked_framing"] == 1
