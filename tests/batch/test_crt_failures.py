"""Failures of the native plane outside the answer tables: what cannot be sent fails before any
request with a clear error; a body that is not what was measured is retried; an unknown CRT
error reaches the caller as itself, never as the bridge's private wrapper."""

from __future__ import annotations

import io
from typing import Any

import pytest
from botocore.exceptions import ParamValidationError

from resilient_s3 import ErrorKind
from resilient_s3.testing import FaultProxy

from ..conftest import NO_NATIVE

if NO_NATIVE is not None:  # before the native transport's awscrt modules are imported
    pytest.skip(NO_NATIVE, allow_module_level=True)

from awscrt.exceptions import AwsCrtError

from resilient_s3._transports.crt import outcome

pytestmark = pytest.mark.native


def test_a_header_that_cannot_be_sent_fails_before_any_request(
    rs3: Any, fault_proxy: FaultProxy, s3_bucket: str
) -> None:
    fault_proxy.reset_counters()

    put = rs3.batch.put(s3_bucket, [("k", b"x", {"Metadata": {"m": "a\r\nb"}})], data_plane="crt")

    (failure,) = put.failed
    assert isinstance(failure.error, ValueError)
    assert "s3://" in str(failure.error)
    assert "x-amz-meta-m" in str(failure.error)
    assert "a\r\nb" not in str(failure.error)  # a header's value is never shown
    assert (failure.kind, failure.attempts) == (ErrorKind.PERMANENT, 0)
    assert fault_proxy.counters["requests"] == 0  # nothing sent (the CRT's failure counted 1)


@pytest.mark.parametrize("bucket", ["bkt/evil", "bkt?x=1", "Bad_Bucket!"])
def test_a_bucket_botocore_refuses_is_refused_before_any_request(
    rs3: Any, fault_proxy: FaultProxy, bucket: str
) -> None:
    fault_proxy.reset_counters()

    got = rs3.batch.get(bucket, ["k"], data_plane="crt")

    (failure,) = got.failed
    assert isinstance(failure.error, ParamValidationError)
    assert (failure.kind, failure.attempts) == (ErrorKind.PERMANENT, 0)
    assert fault_proxy.counters["requests"] == 0  # was sent as s3://bkt/evil/k


class _Shrunk(io.RawIOBase):
    """A seekable stream of ``size`` bytes that ends after ``real`` (a file that shrank)."""

    def __init__(self, size: int, real: int) -> None:
        self.size, self.real, self.pos = size, real, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = base + offset
        return self.pos

    def readinto(self, buffer: Any) -> int:
        count = max(0, min(len(buffer), self.real - self.pos))
        buffer[:count] = b"x" * count
        self.pos += count
        return count


def test_a_body_shorter_than_measured_is_retried(rs3: Any, s3_bucket: str) -> None:
    put = rs3.batch.put(s3_bucket, [("k", _Shrunk(1000, 900))], data_plane="crt")

    (failure,) = put.failed
    assert failure.kind is ErrorKind.NETWORK_AFTER_SEND  # each attempt measures it again
    assert failure.attempts == 5


def test_an_unknown_crt_error_is_itself() -> None:
    error = AwsCrtError(code=0, name="AWS_ERROR_SOMETHING_NEW", message="new")
    assert outcome.translate(error, None, "GetObject", "http://h") is error  # type: ignore[arg-type]


def test_a_dns_failure_is_an_endpoint_connection_error() -> None:
    error = AwsCrtError(code=1059, name="AWS_IO_DNS_INVALID_NAME", message="invalid")
    translated = outcome.translate(error, None, "GetObject", "http://h")  # type: ignore[arg-type]
    assert type(translated).__name__ == "EndpointConnectionError"
    assert translated.__cause__ is error
