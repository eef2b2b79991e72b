"""Defects 9 and 10 on the facade: an error raised before any request reports 0 attempts; a
closed file as a body is refused naming the object."""

from __future__ import annotations

import io
from typing import Any

import pytest
from botocore.exceptions import ParamValidationError

from .conftest import proxied


def test_an_error_before_any_request_reports_zero_attempts(
    fault_proxy: Any, s3_bucket: str
) -> None:
    s3 = proxied(fault_proxy)
    with pytest.raises(ParamValidationError) as caught:
        s3.put_object(Bucket=s3_bucket, Key="k", Body=b"x", ContentLength="many")
    assert caught.value.resilient_s3_attempts == 0  # type: ignore[attr-defined]
    assert "after 0 attempts" in " ".join(getattr(caught.value, "__notes__", []))
    assert fault_proxy.counters["requests"] == 0


def test_a_closed_file_is_refused_naming_the_object(fault_proxy: Any, s3_bucket: str) -> None:
    s3 = proxied(fault_proxy)
    body = io.BytesIO(b"data")
    body.close()
    with pytest.raises(ValueError, match=f"s3://{s3_bucket}/k.*closed"):
        s3.put_object(Bucket=s3_bucket, Key="k", Body=body)
    assert fault_proxy.counters["requests"] == 0
