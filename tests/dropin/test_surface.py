"""The rest of boto3's surface on a resilient_s3 client, row by row as in docs/migration.md
("boto3's surface, audited"): each test sets the facade beside plain boto3 on a real moto server,
through the fault proxy where retries matter."""

from __future__ import annotations

import inspect
from typing import Any, Literal

import boto3
import pytest
import urllib3
from botocore import exceptions as bce
from botocore.client import BaseClient
from botocore.config import Config

import resilient_s3
from resilient_s3 import RetryPolicy
from resilient_s3.testing import Fault, FaultKind

from .conftest import established_to


def always(kind: FaultKind, operation: str, limit: int | None = None) -> Fault:
    return Fault(kind, rate=1.0, limit=limit, operations=frozenset({operation}))


def test_every_boto3_keyword_has_boto3s_default() -> None:
    ours = inspect.signature(resilient_s3.client).parameters
    for name, param in inspect.signature(boto3.Session.client).parameters.items():
        if name not in ("self", "service_name"):  # ours defaults to "s3"
            assert ours[name].default == param.default, name  # use_ssl=True, verify=None...
    plain = boto3.client("s3", region_name="eu-west-1")
    s3 = resilient_s3.client("s3", region_name="eu-west-1")
    assert s3.meta.endpoint_url == plain.meta.endpoint_url
    assert s3.meta.endpoint_url.startswith("https://")  # never plain http to AWS


def test_config_retries_attempts_are_ignored_with_a_warning(
    fault_proxy: Any, s3_bucket: str, quick_policy: RetryPolicy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="resilient_s3")
    config = Config(retries={"max_attempts": 9, "mode": "standard"})
    fault_proxy.set_faults([always(FaultKind.INTERNAL_ERROR, "PutObject")])
    plain = boto3.client("s3", config=config, **fault_proxy.client_kwargs())
    with pytest.raises(bce.ClientError):
        plain.put_object(Bucket=s3_bucket, Key="k", Body=b"x")
    assert fault_proxy.counters["op:PutObject"] == 10  # boto3: 9 retries, as the Config says
    fault_proxy.reset_counters()
    s3 = resilient_s3.client("s3", config=config, retry=quick_policy, **fault_proxy.client_kwargs())
    # (boto3.client above rewrote the Config's max_attempts 9 as total_max_attempts 10)
    assert "Config(retries={'total_max_attempts': 10}) is ignored" in caplog.text
    assert getattr(s3.meta.config, "retries", None) == {"mode": "standard", "total_max_attempts": 1}
    with pytest.raises(bce.ClientError):
        s3.put_object(Bucket=s3_bucket, Key="k", Body=b"x")
    assert fault_proxy.counters["op:PutObject"] == quick_policy.server.max_attempts  # not 9 x 5


def test_aws_max_attempts_and_retry_mode_in_the_environment(
    fault_proxy: Any, s3_bucket: str, quick_policy: RetryPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "7")
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    kwargs = fault_proxy.client_kwargs()
    fault_proxy.set_faults([always(FaultKind.INTERNAL_ERROR, "PutObject")])
    plain = boto3.client("s3", **kwargs)
    with pytest.raises(bce.ClientError):
        plain.put_object(Bucket=s3_bucket, Key="k", Body=b"x")
    assert fault_proxy.counters["op:PutObject"] == 7
    made = resilient_s3.client("s3", retry=quick_policy, **kwargs)
    wrapped = resilient_s3.wrap(boto3.client("s3", **kwargs), retry=quick_policy)
    for s3 in (made, wrapped):
        fault_proxy.reset_counters()
        with pytest.raises(bce.ClientError):
            s3.put_object(Bucket=s3_bucket, Key="k", Body=b"x")
        assert fault_proxy.counters["op:PutObject"] == quick_policy.server.max_attempts
    assert getattr(made.meta.config, "retries", None) == {
        "total_max_attempts": 1,
        "mode": "adaptive",
    }


PER_ATTEMPT = ("request-created", "before-sign", "before-send", "needs-retry")
PER_CALL = ("provide-client-params", "before-parameter-build", "before-call", "after-call")


def test_event_handlers_fire_on_every_attempt(
    fault_proxy: Any, s3_bucket: str, quick_policy: RetryPolicy
) -> None:
    kwargs = fault_proxy.client_kwargs()
    fault_proxy.set_faults([always(FaultKind.INTERNAL_ERROR, "PutObject", limit=2)])
    plain = boto3.client("s3", **kwargs)
    plain_seen: dict[str, int] = {}
    s3 = resilient_s3.client("s3", retry=quick_policy, verify_writes=False, **kwargs)
    seen: dict[str, int] = {}
    for client, counts in ((plain, plain_seen), (s3, seen)):
        for event in PER_ATTEMPT + PER_CALL:
            client.meta.events.register(
                f"{event}.s3.PutObject",
                lambda event=event, counts=counts, **_: counts.update(
                    {event: counts.get(event, 0) + 1}
                ),
            )
        client.put_object(Bucket=s3_bucket, Key="k", Body=b"x")  # 2 x 500, then 200
        fault_proxy.set_faults([always(FaultKind.INTERNAL_ERROR, "PutObject", limit=2)])
    assert {event: plain_seen[event] for event in PER_ATTEMPT} == dict.fromkeys(PER_ATTEMPT, 3)
    assert {event: seen[event] for event in PER_ATTEMPT} == dict.fromkeys(PER_ATTEMPT, 3)
    assert {event: plain_seen[event] for event in PER_CALL} == dict.fromkeys(PER_CALL, 1)
    # Documented difference: each of our attempts is a whole botocore call.
    assert {event: seen[event] for event in PER_CALL} == dict.fromkeys(PER_CALL, 3)


def test_client_exceptions_are_boto3s(rs3: Any, fault_proxy: Any, s3_bucket: str) -> None:
    plain = boto3.client("s3", **fault_proxy.client_kwargs())
    with pytest.raises(plain.exceptions.NoSuchKey) as plain_error:
        plain.get_object(Bucket=s3_bucket, Key="missing")
    with pytest.raises(rs3.exceptions.NoSuchKey) as error:
        rs3.get_object(Bucket=s3_bucket, Key="missing")
    assert type(error.value) is type(plain_error.value)
    assert error.value.response["Error"]["Code"] == "NoSuchKey"
    with pytest.raises(rs3.exceptions.NoSuchBucket):
        rs3.list_objects_v2(Bucket="no-such-bucket-here")
    assert fault_proxy.counters["op:ListObjectsV2"] == 1  # permanent: one attempt


@pytest.mark.parametrize("made_by", ["client", "wrap"])
def test_errors_read_as_boto3s(fault_proxy: Any, s3_bucket: str, made_by: str) -> None:
    """Message and ResponseMetadata as plain boto3's: no "(reached max retries: 0)", no
    MaxAttemptsReached (botocore's retry handler is unregistered, not set to one attempt)."""
    kwargs = fault_proxy.client_kwargs()
    plain = boto3.client("s3", **kwargs)
    rs3 = (
        resilient_s3.client("s3", **kwargs)
        if made_by == "client"
        else resilient_s3.wrap(boto3.client("s3", **kwargs))
    )
    calls = [
        ("get_object", {"Bucket": s3_bucket, "Key": "missing"}),
        ("head_object", {"Bucket": s3_bucket, "Key": "missing"}),
        ("list_objects_v2", {"Bucket": "no-such-bucket-here"}),
    ]
    for name, params in calls:
        with pytest.raises(bce.ClientError) as expected:
            getattr(plain, name)(**params)
        with pytest.raises(bce.ClientError) as found:
            getattr(rs3, name)(**params)
        assert str(found.value) == str(expected.value)
        meta, plain_meta = (
            found.value.response["ResponseMetadata"],
            expected.value.response["ResponseMetadata"],
        )
        assert sorted(meta) == sorted(plain_meta)
        assert meta["RetryAttempts"] == plain_meta["RetryAttempts"] == 0


def test_can_paginate_and_paginators(rs3: Any, fault_proxy: Any, s3_bucket: str) -> None:
    plain = boto3.client("s3", **fault_proxy.client_kwargs())
    for name in ("list_objects_v2", "list_buckets", "get_object", "put_object"):
        assert rs3.can_paginate(name) == plain.can_paginate(name)
    for i in range(5):
        rs3.put_object(Bucket=s3_bucket, Key=f"p/{i}", Body=b"x")
    fault_proxy.set_faults([always(FaultKind.SLOWDOWN, "ListObjectsV2", limit=1)])
    pages = rs3.get_paginator("list_objects_v2").paginate(
        Bucket=s3_bucket, PaginationConfig={"PageSize": 2}
    )
    assert [o["Key"] for page in pages for o in page["Contents"]] == [f"p/{i}" for i in range(5)]


def test_get_waiter_polls_through_the_retries(rs3: Any, fault_proxy: Any, s3_bucket: str) -> None:
    assert rs3.waiter_names == boto3.client("s3", **fault_proxy.client_kwargs()).waiter_names
    rs3.put_object(Bucket=s3_bucket, Key="w", Body=b"x")
    fault_proxy.reset_counters()
    fault_proxy.set_faults([always(FaultKind.SLOWDOWN, "HeadObject", limit=1)])
    rs3.get_waiter("object_exists").wait(Bucket=s3_bucket, Key="w")
    assert fault_proxy.counters["op:HeadObject"] == 2  # the 503 was retried inside one poll
    rs3.delete_object(Bucket=s3_bucket, Key="w")
    fault_proxy.reset_counters()
    rs3.get_waiter("object_not_exists").wait(Bucket=s3_bucket, Key="w")
    assert fault_proxy.counters["op:HeadObject"] == 1  # our own delete: the 404 is believed
    rs3.put_object(Bucket=s3_bucket, Key="gone", Body=b"x")
    boto3.client("s3", **fault_proxy.client_kwargs()).delete_object(Bucket=s3_bucket, Key="gone")
    fault_proxy.reset_counters()
    rs3.get_waiter("object_not_exists").wait(Bucket=s3_bucket, Key="gone")
    # Deleted behind this client's back within read-your-writes: the 404 is waited out first
    # (on the fixture's fake clock, so at once here; up to 10 s for real).
    assert fault_proxy.counters["op:HeadObject"] > 1


def test_presigned_url_and_post_are_boto3s_and_send_nothing(
    rs3: Any, fault_proxy: Any, s3_bucket: str
) -> None:
    rs3.put_object(Bucket=s3_bucket, Key="signed", Body=b"presigned body")
    fault_proxy.reset_counters()
    url = rs3.generate_presigned_url("get_object", Params={"Bucket": s3_bucket, "Key": "signed"})
    post = rs3.generate_presigned_post(s3_bucket, "posted")
    assert fault_proxy.counters["requests"] == 0  # local: signed, not sent
    assert urllib3.request("GET", url).data == b"presigned body"
    answer = urllib3.request(
        "POST", post["url"], fields={**post["fields"], "file": ("f", b"via post")}
    )
    assert answer.status in (200, 204), answer.data
    assert rs3.get_object(Bucket=s3_bucket, Key="posted")["Body"].read() == b"via post"


def test_close_closes_the_connections_as_boto3(fault_proxy: Any, s3_bucket: str) -> None:
    kwargs = fault_proxy.client_kwargs()
    for make in (boto3.client, resilient_s3.client):
        client = make("s3", **kwargs)
        client.head_bucket(Bucket=s3_bucket)
        assert established_to(fault_proxy.port) >= 1
        client.close()
        assert established_to(fault_proxy.port) == 0
        client.head_bucket(Bucket=s3_bucket)  # usable after close(), as boto3's (new connections)
        client.close()
        client.close()  # twice is fine, as in boto3


def test_with_block_closes_the_client(fault_proxy: Any, s3_bucket: str) -> None:
    kwargs = fault_proxy.client_kwargs()
    # botocore's clients are not context managers: ours is an addition
    # (Python 3.10 raises AttributeError: __enter__; 3.11 a TypeError naming the protocol)
    with pytest.raises((TypeError, AttributeError)), boto3.client("s3", **kwargs):  # type: ignore[attr-defined]
        pass
    with resilient_s3.client("s3", **kwargs) as s3:
        assert isinstance(s3, resilient_s3.ResilientS3Client)
        s3.head_bucket(Bucket=s3_bucket)
        assert established_to(fault_proxy.port) >= 1
    assert established_to(fault_proxy.port) == 0


def test_the_facade_is_not_a_botocore_client(rs3: Any) -> None:
    assert not isinstance(rs3, BaseClient)
    assert isinstance(rs3.inner, BaseClient)


def test_event_handlers_and_batches_above_the_pool_size(
    fault_proxy: Any, s3_bucket: str, quick_policy: RetryPolicy
) -> None:
    s3 = resilient_s3.client(
        "s3", retry=quick_policy, max_pool_connections=4, **fault_proxy.client_kwargs()
    )
    sends: list[str] = []
    s3.meta.events.register("before-send.s3.PutObject", lambda **_: sends.append("put"))
    bodies = {f"b/{i}": b"x" for i in range(8)}
    # The botocore data plane (the CRT plane's requests never pass through meta.events)
    plane: Literal["botocore"] = "botocore"
    assert s3.batch.put(s3_bucket, bodies, concurrency=4, verify_writes="off", data_plane=plane).ok
    assert len(sends) == 8  # within the pool size: this client's handlers fire
    assert s3.batch.put(s3_bucket, bodies, concurrency=8, verify_writes="off", data_plane=plane).ok
    assert len(sends) == 8  # above it: a bigger-pool copy sends, without your handlers
    s3.close()
