"""Input sources: delete's chunks of keys, from an iterable or an async iterable, pulled lazily."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from resilient_s3.batch import BatchClient
from resilient_s3.batch._inputs.sources import chunks

from .conftest import stored


def test_chunks_of_an_async_iterator_are_pulled_lazily() -> None:
    pulled: list[int] = []

    async def numbers() -> AsyncIterator[int]:
        for i in range(5):
            pulled.append(i)
            yield i

    async def main() -> tuple[list[int], list[list[int]]]:
        source: Any = chunks(numbers(), 2)
        first = await source.__anext__()
        seen = list(pulled)
        return seen, [first] + [chunk async for chunk in source]

    seen, result = asyncio.run(main())
    assert seen == [0, 1]  # the first chunk pulled nothing ahead
    assert result == [[0, 1], [2, 3], [4]]


def test_chunks_of_an_iterator() -> None:
    assert list(chunks(iter(range(5)), 2)) == [[0, 1], [2, 3], [4]]  # type: ignore[arg-type]


def test_delete_async_takes_an_async_generator_lazily(
    batch: BatchClient, fault_proxy: Any, s3_server_client: Any, s3_bucket: str
) -> None:
    existing = {f"del/{i:04d}": b"x" for i in range(30)}
    assert batch.put(s3_bucket, existing, verify_writes="off").ok
    consumed = 0
    ahead: list[int] = []

    async def keys() -> AsyncIterator[str]:
        nonlocal consumed
        for i in range(2100):  # three DeleteObjects requests: 1,000 + 1,000 + 100 keys
            await asyncio.sleep(0)
            consumed += 1
            yield f"del/{i:04d}"

    def progress(event: Any) -> None:
        if event.kind == "succeeded":
            ahead.append(consumed - event.done)

    report = asyncio.run(batch.delete_async(s3_bucket, keys(), concurrency=1, progress=progress))

    assert report.ok, report.summary()
    assert report.succeeded == 2100
    assert fault_proxy.counters["op:DeleteObjects"] == 3
    assert stored(s3_server_client, s3_bucket, "del/") == {}
    assert max(ahead) <= 2 * 1000  # the chunk deleted and at most the next one pulled
    assert report.stats.items == consumed == 2100


def test_a_bad_key_from_an_async_generator_fails_alone(batch: BatchClient, s3_bucket: str) -> None:
    async def keys() -> AsyncIterator[Any]:
        for key in ("ok-1", 42, "", "ok-2"):
            yield key

    report = asyncio.run(batch.delete_async(s3_bucket, keys()))

    assert report.succeeded == 2
    assert sorted(f.key for f in report.failed) == ["", "42"]
    assert {f.attempts for f in report.failed} == {0}
