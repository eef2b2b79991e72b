"""The verification rules both doors share reach the asyncio door (issues 18 and 22): a
read-back the server refuses leaves the write unverified (returned, counted), a 409
``ConditionalRequestConflict`` to a conditional re-upload is raised (transient), never read as
"the key is taken", and a directory bucket's writes are read back with HeadObject only."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from botocore.exceptions import ClientError

from resilient_s3 import RetryPolicy
from resilient_s3._verify.listing import AsyncListingCoalescer
from resilient_s3._verify.reupload import ConditionalWrites, KeyTaken
from resilient_s3.testing import Fault, FaultKind

from .conftest import aio_client, run

_READS = frozenset({"HeadObject", "GetObject", "ListObjectsV2"})


def test_a_refused_read_back_leaves_the_write_unverified(
    fault_proxy: Any, s3_bucket: str, s3_server_client: Any, quick_policy: RetryPolicy
) -> None:
    fault_proxy.set_faults([Fault(FaultKind.ACCESS_DENIED, rate=1.0, operations=_READS)])

    async def main(s3: Any) -> Any:
        answer = await s3.put_object(Bucket=s3_bucket, Key="w", Body=b"data")
        return answer, s3.stats

    answer, stats = run(aio_client(fault_proxy, quick_policy), main)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert (stats.unverified, stats.verified, stats.reuploads) == (1, 0, 0)
    assert s3_server_client.get_object(Bucket=s3_bucket, Key="w")["Body"].read() == b"data"


def _answer(status: int, code: str) -> ClientError:
    response: Any = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "PutObject")


def test_a_conflicting_conditional_reupload_is_raised_not_taken() -> None:
    conflict, taken = _answer(409, "ConditionalRequestConflict"), _answer(412, "PreconditionFailed")

    async def refused(error: ClientError) -> Any:
        async def write(_extra: Any) -> None:
            raise error

        return await ConditionalWrites().areupload(write, {}, {"IfNoneMatch": "*"})

    with pytest.raises(ClientError) as raised:
        asyncio.run(refused(conflict))
    assert raised.value is conflict
    assert isinstance(asyncio.run(refused(taken)), KeyTaken)


def test_a_directory_bucket_is_read_back_with_head_only() -> None:
    pages: list[Any] = []

    async def list_page(params: dict[str, Any]) -> Any:
        pages.append(params)
        return {"Contents": []}

    async def main() -> list[str]:
        coalescer = AsyncListingCoalescer(list_page, least=1)

        async def head(key: str) -> str:
            await asyncio.sleep(0)
            return f"head {key}"

        async def one(bucket: str, key: str) -> Any:
            return await coalescer.read_back(bucket, key, lambda: head(key))

        keys = [f"k{i}" for i in range(8)]
        return list(await asyncio.gather(*(one("b--usw2-az1--x-s3", k) for k in keys)))

    assert asyncio.run(main()) == [f"head k{i}" for i in range(8)]
    assert pages == []
