"""A write the server stored is never raised as an error because this client may not read it
back (issue 22): write-only principals, and SSE-C key headers a caller adds through
``meta.events``, on moto and LocalStack, through the facade and both batch data planes.

The write-only principal is real where the server enforces it: on moto, an IAM user whose policy
allows ``s3:PutObject`` (and ``s3:ListBucket``, or not), with moto's IAM authentication switched
on (``/moto-api/reset-auth``) on a moto server of this module's own; moto then answers
HeadObject and GetObject 403, as S3 does for a principal without ``s3:GetObject``. (A bucket
policy denying ``s3:GetObject`` is not enough on moto: without IAM authentication, moto checks a
bucket policy against the action ``s3:HeadObject`` for a HEAD, which S3 does not have.)
LocalStack enforces no IAM without a licence, so there the fault proxy answers 403
``AccessDenied`` to HeadObject and GetObject (and ListObjectsV2). SSE-C is real on LocalStack,
which, like S3, answers a HeadObject of an SSE-C object without its key with 400; moto does not
ask for the key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

import resilient_s3
from resilient_s3 import RetryPolicy, VerificationError, VerifyPolicy
from resilient_s3.testing import Fault, FaultKind, FaultProxy, S3Server
from resilient_s3.testing._process import ManagedServer
from resilient_s3.testing.pytest_plugin import _new_bucket

_READS = frozenset({"HeadObject", "GetObject"})


@dataclass
class WriteOnly:
    """How to be a principal that may write to ``bucket`` but not read it back."""

    server: str
    bucket: str
    admin: Any  # a boto3 client that may do anything
    kwargs: Any  # can_list -> client keyword arguments of the write-only principal

    def client(self, can_list: bool, policy: RetryPolicy, **options: Any) -> Any:
        return resilient_s3.client("s3", retry=policy, **self.kwargs(can_list), **options)

    def plain(self, can_list: bool) -> Any:
        return boto3.client("s3", **self.kwargs(can_list))


def _reset_auth(endpoint: str, count: str) -> None:
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth", data=count.encode(), method="POST",
        headers={"Content-Type": "text/plain"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()


@pytest.fixture(scope="module")
def iam_moto() -> Iterator[tuple[str, Any, dict[bool, Any]]]:
    """A moto server of this module's own with IAM authentication on: a bucket, an admin client,
    and the keys of two write-only users (``True``: may list the bucket)."""
    with S3Server() as server:
        kwargs = server.client_kwargs()
        iam: Any = boto3.client("iam", **kwargs)
        bucket = f"write-only-{uuid.uuid4().hex[:12]}"
        boto3.client("s3", **kwargs).create_bucket(Bucket=bucket)

        def user(name: str, statements: list[dict[str, Any]]) -> Any:
            iam.create_user(UserName=name)
            document = {"Version": "2012-10-17", "Statement": statements}
            iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(document))
            key = iam.create_access_key(UserName=name)["AccessKey"]
            return {
                "endpoint_url": server.endpoint_url, "region_name": "us-east-1",
                "aws_access_key_id": key["AccessKeyId"],
                "aws_secret_access_key": key["SecretAccessKey"],
            }  # fmt: skip

        put = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
        listing = {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{bucket}",
        }
        admin = user("admin", [{"Effect": "Allow", "Action": "*", "Resource": "*"}])
        keys = {True: user("put-and-list", [put, listing]), False: user("put-only", [put])}
        _reset_auth(server.endpoint_url, "0")  # every request from now on is checked
        try:
            yield bucket, boto3.client("s3", **admin), keys
        finally:
            _reset_auth(server.endpoint_url, "inf")


@pytest.fixture(params=["moto", pytest.param("localstack", marks=pytest.mark.real_server)])
def write_only(request: pytest.FixtureRequest) -> Iterator[WriteOnly]:
    if request.param == "moto":
        bucket, admin, keys = request.getfixturevalue("iam_moto")
        yield WriteOnly("moto", bucket, admin, lambda can_list: keys[can_list])
        return
    server: ManagedServer = request.getfixturevalue("localstack_server")
    admin = boto3.client("s3", **server.client_kwargs())
    with (
        _new_bucket(admin, "write-only") as bucket,
        FaultProxy(server.endpoint_url, seed=0) as put_and_list,
        FaultProxy(server.endpoint_url, seed=0) as put_only,
    ):
        denied = Fault(FaultKind.ACCESS_DENIED, operations=_READS)
        put_and_list.set_faults([denied])
        put_only.set_faults([Fault(FaultKind.ACCESS_DENIED, operations=_READS | {"ListObjectsV2"})])
        proxies = {True: put_and_list, False: put_only}
        yield WriteOnly(
            "localstack", bucket, admin, lambda can_list: proxies[can_list].client_kwargs()
        )


def _kept(answer: Mapping[str, Any]) -> set[str]:
    return set(answer) - {"ResponseMetadata"}


def test_a_write_only_principal_gets_boto3s_answer(
    write_only: WriteOnly, quick_policy: RetryPolicy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="resilient_s3")
    bucket, key = write_only.bucket, f"put-only/{uuid.uuid4().hex}"
    theirs = write_only.plain(False).put_object(Bucket=bucket, Key=key + "-boto3", Body=b"x")
    with write_only.client(False, quick_policy) as s3:
        for n in range(2):
            ours = s3.put_object(Bucket=bucket, Key=f"{key}-{n}", Body=b"data")
            assert _kept(ours) == _kept(theirs)
        assert (s3.stats.unverified, s3.stats.verified) == (2, 0)
    warnings = [r.getMessage() for r in caplog.records if "unverified" in r.getMessage()]
    assert len(warnings) == 1, warnings  # one per client, naming the refusals
    assert "HeadObject 403" in warnings[0]
    assert "ListObjectsV2 403" in warnings[0]
    for n in range(2):  # stored, as the answer said
        assert (
            write_only.admin.get_object(Bucket=bucket, Key=f"{key}-{n}")["Body"].read() == b"data"
        )


def test_a_principal_that_may_list_is_verified_by_a_listing(
    write_only: WriteOnly, quick_policy: RetryPolicy
) -> None:
    bucket, key = write_only.bucket, f"put-and-list/{uuid.uuid4().hex}"
    with write_only.client(True, quick_policy) as s3:
        s3.put_object(Bucket=bucket, Key=key, Body=b"data")
        stats = s3.stats
        assert (stats.verified, stats.verified_by_listing, stats.unverified) == (1, 1, 0)


def test_unreadable_raise_is_an_error_naming_the_object(
    write_only: WriteOnly, quick_policy: RetryPolicy
) -> None:
    bucket, key = write_only.bucket, f"raise/{uuid.uuid4().hex}"
    strict = VerifyPolicy(unreadable="raise")
    with write_only.client(False, quick_policy, verify_writes=strict) as s3:
        with pytest.raises(VerificationError) as raised:
            s3.put_object(Bucket=bucket, Key=key, Body=b"data")
        assert raised.value.reason == "unreadable"
        assert f"s3://{bucket}/{key}" in str(raised.value)
        assert s3.stats.unverified == 1
    assert write_only.admin.head_object(Bucket=bucket, Key=key)["ContentLength"] == 4


@pytest.mark.parametrize("plane", ["botocore", "crt"])
@pytest.mark.parametrize("can_list", [True, False], ids=["put-and-list", "put-only"])
def test_batches_of_a_write_only_principal_succeed(
    write_only: WriteOnly,
    quick_policy: RetryPolicy,
    plane: str,
    can_list: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="resilient_s3")
    bucket, prefix = write_only.bucket, f"batch-{plane}-{can_list}/{uuid.uuid4().hex}/"
    items = [(f"{prefix}{n:03d}", os.urandom(100)) for n in range(20)]
    with write_only.client(can_list, quick_policy) as s3:
        report = s3.batch.put(bucket, items, data_plane=plane)
        assert report.ok, report.failed
        assert report.stats.plane == plane
        if can_list:
            assert (report.stats.verified, report.stats.unverified) == (20, 0)
        else:
            assert (report.stats.verified, report.stats.unverified) == (0, 20)
            assert s3.stats.unverified == 20
            warnings = [r.getMessage() for r in caplog.records if "unverified" in r.getMessage()]
            assert len(warnings) == 1, warnings
            assert "ListObjectsV2 403 AccessDenied, HeadObject 403" in warnings[0]
        strict = s3.with_options(verify_writes=VerifyPolicy(unreadable="raise"))
        report = strict.batch.put(bucket, items, data_plane=plane)
        assert report.ok is can_list
        if not can_list:
            reasons = {getattr(failure.error, "reason", None) for failure in report.failed}
            assert reasons == {"unreadable"}
            assert len(report.failed) == 20


def _sse_c_headers(key: bytes) -> dict[str, str]:
    return {
        "x-amz-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-server-side-encryption-customer-key": base64.b64encode(key).decode(),
        "x-amz-server-side-encryption-customer-key-MD5": base64.b64encode(
            hashlib.md5(key, usedforsecurity=False).digest()
        ).decode(),
    }


def test_sse_c_headers_added_by_an_event_handler(
    dropin_server: ManagedServer, dropin_admin: Any, dropin_bucket: str, quick_policy: RetryPolicy
) -> None:
    """A conformance suite adds SSE-C key headers in a ``before-call.s3.PutObject`` handler;
    LocalStack, like S3, refuses a HeadObject without them (400)."""
    secret = os.urandom(32)
    headers = _sse_c_headers(secret)

    def add_sse_c(params: dict[str, Any], **_: Any) -> None:
        params["headers"].update(headers)

    plain = boto3.client("s3", **dropin_server.client_kwargs())
    plain.meta.events.register("before-call.s3.PutObject", add_sse_c)
    theirs = plain.put_object(Bucket=dropin_bucket, Key="boto3", Body=b"secret")
    with resilient_s3.client("s3", retry=quick_policy, **dropin_server.client_kwargs()) as s3:
        s3.meta.events.register("before-call.s3.PutObject", add_sse_c)
        ours = s3.put_object(Bucket=dropin_bucket, Key="ours", Body=b"secret")
        assert _kept(ours) == _kept(theirs)
        assert s3.stats.verified == 1
        assert s3.stats.unverified == 0
    for key in ("boto3", "ours"):
        got = dropin_admin.get_object(
            Bucket=dropin_bucket, Key=key, SSECustomerAlgorithm="AES256", SSECustomerKey=secret
        )
        assert got["Body"].read() == b"secret"
