"""Defect 7: a CA bundle that does not exist or cannot be read is a permanent error, raised
before any request, whose message names the path."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3
import pytest

import resilient_s3
from resilient_s3 import ErrorKind, RetryPolicy, classify

from .conftest import DUMMY


def _unreadable(tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    path.write_text("not a certificate")
    path.chmod(0)
    return str(path)


@pytest.mark.parametrize("kind", ["missing", "a directory"])
def test_a_bad_ca_bundle_fails_at_once_naming_the_path(
    fault_proxy: Any, tmp_path: Path, kind: str
) -> None:
    bundle = str(tmp_path / "no-such-ca.pem") if kind == "missing" else str(tmp_path)
    make: Any = boto3.client
    inner = make(
        "s3", verify=bundle, endpoint_url=f"https://127.0.0.1:{fault_proxy.port}", **DUMMY
    )
    s3 = resilient_s3.wrap(inner, retry=RetryPolicy(deadline=30))
    with pytest.raises(Exception) as caught:  # noqa: PT011 - the type is asserted below
        s3.head_object(Bucket="bucket", Key="k")
    error = caught.value
    assert classify(error) is ErrorKind.PERMANENT
    assert getattr(error, "resilient_s3_attempts", None) in (0, 1)
    assert type(error).__name__ == "SSLError"  # botocore's type, as boto3 raises it
    assert bundle in str(error)
    assert "s3://bucket/k" in " ".join(getattr(error, "__notes__", []))
    assert fault_proxy.counters["requests"] == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_an_unreadable_ca_bundle_fails_at_once(fault_proxy: Any, tmp_path: Path) -> None:
    bundle = _unreadable(tmp_path)
    make: Any = boto3.client
    inner = make(
        "s3", verify=bundle, endpoint_url=f"https://127.0.0.1:{fault_proxy.port}", **DUMMY
    )
    with pytest.raises(Exception, match=bundle):
        resilient_s3.wrap(inner).head_object(Bucket="bucket", Key="k")
