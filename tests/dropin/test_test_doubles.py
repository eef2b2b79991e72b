"""The test doubles boto3 users write unit tests with, on a resilient_s3 client: botocore's
``Stubber`` (pure: no server) and moto's in-process ``mock_aws``."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore import exceptions as bce
from botocore.stub import Stubber

import resilient_s3
from resilient_s3 import RetryPolicy

#: Offline clients: Stubber answers before anything is sent.
OFFLINE: dict[str, Any] = {
    "region_name": "us-east-1",
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
}


@pytest.fixture
def no_aws_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """No user's config or credentials files: the tests' keys and region only."""
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


def test_stubber_sees_the_read_back_of_a_put(no_aws_files: None) -> None:
    s3 = resilient_s3.client("s3", **OFFLINE)
    with Stubber(s3) as stubber:
        stubber.add_response(
            "put_object", {"ETag": '"e"'}, {"Bucket": "b", "Key": "k", "Body": b"x"}
        )
        with pytest.raises(bce.UnStubbedResponseError, match="HeadObject"):
            s3.put_object(Bucket="b", Key="k", Body=b"x")  # verify-after-put reads it back
    quiet = resilient_s3.client("s3", verify_writes=False, **OFFLINE)
    with Stubber(quiet) as stubber:
        stubber.add_response(
            "put_object", {"ETag": '"e"'}, {"Bucket": "b", "Key": "k", "Body": b"x"}
        )
        assert quiet.put_object(Bucket="b", Key="k", Body=b"x")["ETag"] == '"e"'
        stubber.assert_no_pending_responses()


def test_stubber_errors_are_retried_by_kind(no_aws_files: None, quick_policy: RetryPolicy) -> None:
    plain = boto3.client("s3", **OFFLINE)
    with Stubber(plain) as stubber:
        stubber.add_client_error("get_object", "InternalError", http_status_code=500)
        with pytest.raises(bce.ClientError):
            plain.get_object(Bucket="b", Key="k")  # boto3: a stub skips botocore's retries
    s3 = resilient_s3.client("s3", retry=quick_policy, **OFFLINE)
    with Stubber(s3) as stubber:
        stubber.add_client_error("get_object", "InternalError", http_status_code=500)
        stubber.add_response("get_object", {"ContentLength": 1})
        assert s3.get_object(Bucket="b", Key="k")["ContentLength"] == 1  # each attempt, a stub
    once = resilient_s3.client("s3", retry=RetryPolicy.no_retries(), **OFFLINE)
    with Stubber(once) as stubber:
        stubber.add_client_error("get_object", "InternalError", http_status_code=500)
        with pytest.raises(bce.ClientError):
            once.get_object(Bucket="b", Key="k")


def test_moto_mock_aws_works_unchanged(no_aws_files: None) -> None:
    from moto import mock_aws

    with mock_aws():
        s3 = resilient_s3.client("s3", **OFFLINE)
        s3.create_bucket(Bucket="mocked")
        s3.put_object(Bucket="mocked", Key="k", Body=b"in process")
        assert s3.get_object(Bucket="mocked", Key="k")["Body"].read() == b"in process"
        assert s3.stats.verified == 1
