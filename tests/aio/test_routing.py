"""Which path the asyncio door's calls take: object operations on the native transport, the
rest on botocore; botocore for every call when the client's settings or a caller's event
handler need it; one DEBUG line per client saying which and why; ``stats.paths`` counting."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from botocore.config import Config

import resilient_s3.aio
from resilient_s3 import RetryPolicy, SharedLimiter

from .conftest import run

pytest.importorskip("awscrt")
#: Needs the native transport itself (an awscrt it can run on: not the floor job's 0.23).
pytestmark = pytest.mark.native


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "resilient_s3.aio client" in r.getMessage()]


def test_object_operations_go_native_the_rest_botocore(
    s3_server: Any, s3_bucket: str, quick_policy: RetryPolicy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="resilient_s3")

    async def main(s3: Any) -> Any:
        await s3.put_object(Bucket=s3_bucket, Key="k", Body=b"v")  # + its read-back (HEAD)
        assert await (await s3.get_object(Bucket=s3_bucket, Key="k"))["Body"].read() == b"v"
        await s3.get_object_tagging(Bucket=s3_bucket, Key="k")
        assert [c["Key"] for c in (await s3.list_objects_v2(Bucket=s3_bucket))["Contents"]] == ["k"]
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=s3_bucket)
        assert len([page async for page in pages]) == 1
        await s3.delete_object(Bucket=s3_bucket, Key="k")
        return s3.stats.paths

    client = resilient_s3.aio.client("s3", retry=quick_policy, **s3_server.client_kwargs())
    assert run(client, main) == {"crt": 6, "botocore": 1}
    [line] = _lines(caplog)
    assert "on the native transport" in line
    assert "ListObjectsV2" in line


def test_a_callers_handler_keeps_every_call_on_botocore(
    s3_server: Any, s3_bucket: str, quick_policy: RetryPolicy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="resilient_s3")
    seen: list[str] = []

    def handler(request: Any, **_: Any) -> None:
        seen.append(request.method)

    async def main(s3: Any) -> Any:
        await s3.put_object(Bucket=s3_bucket, Key="before", Body=b"v")
        s3.meta.events.register("before-send.s3.PutObject", handler)
        await s3.put_object(Bucket=s3_bucket, Key="after", Body=b"v")
        s3.meta.events.unregister("before-send.s3.PutObject", handler)
        await s3.put_object(Bucket=s3_bucket, Key="again", Body=b"v")
        return s3.stats.paths

    client = resilient_s3.aio.client(
        "s3", retry=quick_policy, verify_writes=False, **s3_server.client_kwargs()
    )
    assert run(client, main) == {"crt": 2, "botocore": 1}
    assert seen == ["PUT"]  # the handler ran, as in boto3
    lines = _lines(caplog)
    assert len(lines) == 3, lines
    assert "handlers are registered on s3.meta.events (before-send.s3.PutObject:" in lines[1]
    assert "test_routing" in lines[1]


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"config": Config(proxies={"http": "http://127.0.0.1:9"})}, "HTTP proxy"),
        ({"config": Config(signature_version="s3")}, "is not SigV4"),
        ({"rate_limit": SharedLimiter("redis://127.0.0.1:9", "t", per_second=1000)}, "rate_limit"),
    ],
)
def test_settings_the_native_client_cannot_honour_keep_botocore(
    s3_server: Any, options: dict[str, Any], reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="resilient_s3")
    client = resilient_s3.aio.client("s3", **s3_server.client_kwargs(), **options)

    async def main(s3: Any) -> Any:
        return s3._routing.reason()

    why = run(client, main)
    assert why is not None
    assert reason in why
    [line] = _lines(caplog)
    assert "every operation on botocore" in line
    assert reason in line
