"""boto3's TLS habits keep their meaning: ``verify=False``, a CA bundle path, ``AWS_CA_BUNDLE``
and the default, against a real https S3 server (moto) with a self-signed certificate."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore import exceptions as bce

import resilient_s3
from resilient_s3 import RetryPolicy, VerifyPolicy
from resilient_s3.testing import S3Server

#: boto3 warns on every unverified https request; so does resilient_s3, which is boto3 inside.
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


@pytest.fixture(scope="module")
def https_server() -> Iterator[S3Server]:
    """A moto server serving https with a new self-signed certificate, stopped by its PID."""
    with S3Server(tls=True) as server:
        yield server


@pytest.fixture
def https_bucket(https_server: S3Server) -> str:
    name = f"tls-{uuid.uuid4().hex[:16]}"
    admin = boto3.client("s3", verify=https_server.ca_bundle, **https_server.client_kwargs())
    admin.create_bucket(Bucket=name)
    return name


def round_trip(s3: Any, bucket: str) -> bytes:
    key = f"k-{uuid.uuid4().hex[:8]}"
    s3.put_object(Bucket=bucket, Key=key, Body=b"over tls")
    body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return body


def test_the_server_is_https_with_a_certificate_of_its_own(
    https_server: S3Server, s3_server: S3Server
) -> None:
    assert (s3_server.endpoint_url.startswith("http://"), s3_server.ca_bundle) == (True, None)
    assert https_server.endpoint_url.startswith("https://127.0.0.1:")
    assert https_server.ca_bundle is not None
    with open(https_server.ca_bundle) as pem:
        assert "BEGIN CERTIFICATE" in pem.read()


def test_verify_false_connects_as_in_boto3(https_server: S3Server, https_bucket: str) -> None:
    kwargs = https_server.client_kwargs()
    assert round_trip(boto3.client("s3", verify=False, **kwargs), https_bucket) == b"over tls"
    with resilient_s3.client("s3", verify=False, **kwargs) as s3:
        assert round_trip(s3, https_bucket) == b"over tls"
        assert s3.verify_policy.enabled  # verify-after-put is another keyword: still on
        assert s3.stats.verified == 1


def test_a_ca_bundle_path_connects_as_in_boto3(https_server: S3Server, https_bucket: str) -> None:
    kwargs, bundle = https_server.client_kwargs(), https_server.ca_bundle
    assert round_trip(boto3.client("s3", verify=bundle, **kwargs), https_bucket) == b"over tls"
    with resilient_s3.client("s3", verify=bundle, **kwargs) as s3:
        assert round_trip(s3, https_bucket) == b"over tls"


def test_aws_ca_bundle_in_the_environment_is_used_as_in_boto3(
    https_server: S3Server, https_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert https_server.ca_bundle is not None
    monkeypatch.setenv("AWS_CA_BUNDLE", https_server.ca_bundle)
    kwargs = https_server.client_kwargs()
    assert round_trip(boto3.client("s3", **kwargs), https_bucket) == b"over tls"
    with resilient_s3.client("s3", **kwargs) as s3:  # boto3's default session, as boto3.client
        assert round_trip(s3, https_bucket) == b"over tls"


def test_by_default_the_certificate_is_rejected_as_in_boto3_after_one_attempt(
    https_server: S3Server, https_bucket: str, quick_policy: RetryPolicy
) -> None:
    kwargs = https_server.client_kwargs()
    plain = boto3.client("s3", **kwargs)
    plain_sends = count_sends(plain)
    with pytest.raises(bce.SSLError) as plain_error:
        plain.head_bucket(Bucket=https_bucket)
    with resilient_s3.client("s3", retry=quick_policy, **kwargs) as s3:
        sends = count_sends(s3)
        with pytest.raises(bce.SSLError) as error:
            s3.head_bucket(Bucket=https_bucket)
    assert type(error.value) is type(plain_error.value)  # the same exception type as boto3
    assert "CERTIFICATE_VERIFY_FAILED" in str(error.value)
    assert len(plain_sends) > 1  # boto3 retries it as a connection error
    assert len(sends) == 1  # a certificate that does not verify will not on the next attempt
    assert getattr(error.value, "resilient_s3_attempts", None) == 1


def test_a_verify_policy_given_as_verify_is_refused_with_the_new_name() -> None:
    with pytest.raises(TypeError, match="verify_writes="):
        resilient_s3.client("s3", region_name="us-east-1", verify=VerifyPolicy())  # type: ignore[arg-type]
    s3 = resilient_s3.client("s3", region_name="us-east-1", verify_writes=VerifyPolicy(mode="read"))
    assert s3.verify_policy.mode == "read"
    assert resilient_s3.client(
        "s3", region_name="us-east-1", verify_writes=False
    ).verify_policy == (VerifyPolicy(mode="off"))


def count_sends(s3: Any) -> list[str]:
    """Every HTTP attempt of ``s3``, as botocore's ``before-send`` event sees it."""
    sends: list[str] = []
    s3.meta.events.register("before-send.s3", lambda **kw: sends.append("send"))
    return sends


def test_the_cli_no_verify_ssl_flag_is_boto3s_verify_false(
    https_server: S3Server, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from resilient_s3._cli import main

    kwargs = https_server.client_kwargs()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", kwargs["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", kwargs["aws_secret_access_key"])
    code = main(["doctor", "--endpoint-url", https_server.endpoint_url, "--no-verify-ssl"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "        verify=False,  # TLS certificate checks off, as with boto3\n" in out
    assert main(["doctor", "--endpoint-url", https_server.endpoint_url]) == 1  # TLS checks on
    err = capsys.readouterr().err
    assert "CERTIFICATE_VERIFY_FAILED" in err
    assert "--no-verify-ssl skips the check" in err
