"""Where a batch's items come from: the caller's iterable (sync or async), chunks of keys for
DeleteObjects (from either, pulled a chunk at a time), a directory walked lazily, or a prefix
listed page by page."""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._engine.engine import Engine
from .items import PutItem, raw_items

if TYPE_CHECKING:
    from ..._client import ResilientS3Client

__all__ = ["after", "chunks", "listed_keys", "source", "walk_files"]


def source(items: Any) -> Iterator[Any] | AsyncIterator[Any]:
    """An iterator over ``items``: its async iterator if it is only async-iterable, else
    :func:`~resilient_s3.batch._inputs.items.raw_items` (a mapping's pairs)."""
    if hasattr(items, "__aiter__") and not isinstance(items, Iterable):
        iterator: AsyncIterator[Any] = items.__aiter__()
        return iterator
    return raw_items(items)


def after(
    first: Callable[[], Awaitable[Any]], iterator: Iterator[Any] | AsyncIterator[Any]
) -> AsyncIterator[Any]:
    """The items of ``iterator``, once ``first()`` is done (a batch's cleanup before its items)."""

    async def items() -> AsyncIterator[Any]:
        await first()
        if isinstance(iterator, Iterator):
            for item in iterator:
                yield item
        else:
            async for item in iterator:
                yield item

    return items()


def chunks(
    iterator: Iterator[Any] | AsyncIterator[Any], size: int
) -> Iterator[list[Any]] | AsyncIterator[list[Any]]:
    """Lists of up to ``size`` items, pulled lazily (async ones from an async iterator)."""
    if isinstance(iterator, Iterator):
        return _sync_chunks(iterator, size)
    return _async_chunks(iterator, size)


def _sync_chunks(iterator: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


async def _async_chunks(iterator: AsyncIterator[Any], size: int) -> AsyncIterator[list[Any]]:
    chunk: list[Any] = []
    while True:
        try:
            chunk.append(await iterator.__anext__())  # as the engine pulls: no __aiter__ needed
        except StopAsyncIteration:
            break
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def walk_files(root: Path, prefix: str) -> Iterator[PutItem]:
    """``PutItem(prefix + relative path, path)`` for every file under ``root``, sorted by name
    within each directory (neighbouring keys: cheap list-based verification)."""
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        base = Path(directory)
        for name in sorted(files):
            path = base / name
            yield PutItem(prefix + path.relative_to(root).as_posix(), path)


def listed_keys(
    bucket: str, prefix: str
) -> Callable[[Engine, ResilientS3Client], AsyncIterator[str]]:
    """The keys under ``prefix`` (directory markers, ending in ``/``, skipped), listed page by
    page in a worker thread as the batch consumes them (paced and counted like any request)."""

    async def keys(engine: Engine, s3: ResilientS3Client) -> AsyncIterator[str]:
        params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        while True:
            page = await engine.run_in_worker(functools.partial(s3.list_objects_v2, **params))
            for entry in page.get("Contents", []):
                if not entry["Key"].endswith("/"):
                    yield entry["Key"]
            if not page.get("IsTruncated"):
                return
            params["ContinuationToken"] = page["NextContinuationToken"]

    return keys
