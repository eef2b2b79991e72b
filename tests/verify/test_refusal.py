"""The rule every read-back follows (``_verify/refusal.py``): which errors refuse the read
rather than judge the write (pure unit: errors built as botocore builds them)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from resilient_s3._verify.refusal import read_refusal


def answered(status: int, code: str, operation: str = "HeadObject") -> ClientError:
    response = {
        "Error": {"Code": code, "Message": ""},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, operation)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [
        (403, "AccessDenied", "403 AccessDenied"),
        (403, "403", "403"),  # a HEAD's error has no body: botocore names it by its status
        (400, "400", "400"),  # an SSE-C object read without its key
        (400, "InvalidRequest", "400 InvalidRequest"),
        (405, "MethodNotAllowed", "405 MethodNotAllowed"),
        (501, "NotImplemented", "501 NotImplemented"),
    ],
)
def test_refusals(status: int, code: str, reason: str) -> None:
    assert read_refusal(answered(status, code)) == reason


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (404, "404"),  # absent: a verdict
        (404, "NoSuchKey"),
        (404, "NoSuchBucket"),  # permanent, but not a refusal to read: raised
        (500, "InternalError"),  # transient: retried, then raised
        (503, "SlowDown"),
        (400, "RequestTimeout"),  # transient although a 400
        (409, "OperationAborted"),
    ],
)
def test_verdicts_and_other_errors_are_not_refusals(status: int, code: str) -> None:
    assert read_refusal(answered(status, code)) is None


def test_an_error_without_an_answer_is_not_a_refusal() -> None:
    assert read_refusal(EndpointConnectionError(endpoint_url="http://127.0.0.1:1")) is None
