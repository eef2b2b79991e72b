"""Group commit for read-backs: concurrent checks of one bucket share a ListObjectsV2 page.

Verifying a write costs a HeadObject: a second request per write. When many writes to one bucket
are verified at once (many threads sharing a client), one ListObjectsV2 page can confirm them
all. A thread that must read a write back:

- reads it back alone (its own HeadObject, no waiting) while fewer than ``least`` read-backs of
  the bucket are in flight and no listing of the bucket is running;
- otherwise joins the bucket's queue. If no listing is running, it leads one: it takes the
  queue and lists the key range of those keys (one page, see :func:`listing_params`); every
  queued thread gets what the page shows for its key. Threads that arrive meanwhile queue for the
  next listing, so under load each listing confirms the writes finished during the previous one.

A page only ever *confirms*: a key it does not show (absent, beyond the page, or the listing
failed) gets ``None`` and its thread reads it back with HeadObject as usual, so lost writes,
stale reads and conflicts are judged exactly as without coalescing. A bucket whose listings keep
missing most of their keys (keys scattered among many others), or that refuses ListObjectsV2
(no ``s3:ListBucket`` permission), is read back with HeadObject only from then on.

:class:`ListingCoalescer` does this for threads (the sync door), :class:`AsyncListingCoalescer`
for the tasks of one event loop (the asyncio door); they share the bookkeeping (``_Coalescing``:
which buckets are queued, listing or given up, and what a page confirms).

An S3 Express One Zone *directory bucket* (a name ending in ``--x-s3``) lists neither in key
order nor from ``StartAfter`` (AWS's ListObjectsV2 documentation), so a page cannot be read as
a key range there: its writes are read back with HeadObject only (:func:`lists_in_order`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from .._retry.classify import ErrorKind, classify

__all__ = [
    "AsyncListingCoalescer",
    "Listed",
    "ListingCoalescer",
    "listing_params",
    "lists_in_order",
]

logger = logging.getLogger("resilient_s3")
T = TypeVar("T")

#: Listings in a row that confirm fewer than half their keys before a bucket stops coalescing.
MISSES_BEFORE_OFF = 3
#: A page asks for this many keys per key checked (room for other keys in the range), at most
#: S3's 1,000.
KEYS_PER_KEY = 4
_PAGE_MAX = 1000


@dataclass(frozen=True)
class Listed:
    """What a listing showed for a key."""

    size: int | None
    etag: str | None


class _Ticket:
    __slots__ = ("answer", "done", "key")

    def __init__(self, key: str) -> None:
        self.key = key
        self.answer: Listed | None = None
        self.done = False


class _Coalescing:
    """The state both coalescers keep, and what a listing page confirms."""

    def __init__(self, least: int) -> None:
        self._least = least
        self._inflight: dict[str, int] = {}
        self._queues: dict[str, list[_Ticket]] = {}
        self._listing: set[str] = set()
        self._misses: dict[str, int] = {}
        self._off: set[str] = set()

    def _alone(self, bucket: str) -> bool:
        """Whether a read-back of ``bucket`` goes alone: coalescing off, or for this bucket
        (given up on, or a directory bucket)."""
        return self._least <= 0 or bucket in self._off or not lists_in_order(bucket)

    def _enter(self, bucket: str) -> None:
        self._inflight[bucket] = self._inflight.get(bucket, 0) + 1

    def _leave(self, bucket: str) -> None:
        self._inflight[bucket] -= 1
        if not self._inflight[bucket]:
            del self._inflight[bucket]

    def _few(self, bucket: str) -> bool:
        """Few read-backs of ``bucket`` at once and no listing running: a HeadObject, no wait."""
        return bucket not in self._listing and self._inflight[bucket] < self._least

    def _lead(self, bucket: str) -> list[_Ticket]:
        """Take ``bucket``'s queue: the caller lists for it."""
        batch = self._queues.pop(bucket)
        self._listing.add(bucket)
        return batch

    def _answer(self, bucket: str, batch: list[_Ticket], answers: dict[str, Listed]) -> None:
        """A listing ended: every ticket of ``batch`` gets what it showed (``None``: nothing)."""
        if bucket in self._off:  # those queued meanwhile read back with HeadObject
            batch.extend(self._queues.pop(bucket, []))
        for queued in batch:
            queued.answer, queued.done = answers.get(queued.key), True
        self._listing.discard(bucket)

    def _confirmed(
        self, bucket: str, keys: list[str], answer: Mapping[str, Any]
    ) -> dict[str, Listed]:
        """What a page listing ``keys`` shows of them; a bucket whose listings keep missing
        most of their keys stops coalescing."""
        wanted = set(keys)
        found = {
            entry["Key"]: Listed(entry.get("Size"), entry.get("ETag"))
            for entry in answer.get("Contents", [])
            if entry.get("Key") in wanted
        }
        misses = self._misses.get(bucket, 0) + 1 if 2 * len(found) < len(keys) else 0
        self._misses[bucket] = misses
        if misses >= MISSES_BEFORE_OFF:
            self._off.add(bucket)
            logger.info(
                "s3://%s: %d listings in a row confirmed under half their keys; its writes are "
                "read back with HeadObject from now on",
                bucket, misses,
            )  # fmt: skip
        return found

    def _listing_failed(self, bucket: str, error: BotoCoreError | ClientError) -> None:
        if classify(error) is ErrorKind.PERMANENT:
            self._off.add(bucket)
            logger.info(
                "s3://%s: ListObjectsV2 refused (%s); its writes are read back with HeadObject",
                bucket, type(error).__name__,
            )  # fmt: skip
        else:
            logger.debug("s3://%s: a shared listing failed (%s)", bucket, type(error).__name__)


class ListingCoalescer(_Coalescing):
    """Shares ListObjectsV2 pages between concurrent read-backs of threads (see the module
    docstring).

    ``list_page(params)`` sends one ListObjectsV2 request (retried by the facade); ``least``
    read-backs of a bucket in flight at once make them share listings (``0``: never).
    """

    def __init__(
        self, list_page: Callable[[dict[str, Any]], Mapping[str, Any]], least: int
    ) -> None:
        super().__init__(least)
        self._list_page = list_page
        self._cond = threading.Condition()

    def read_back(self, bucket: str, key: str, head: Callable[[], T]) -> Listed | T:
        """What a shared listing shows for ``key``, or ``head()`` when no listing shows it."""
        if self._alone(bucket):
            return head()
        with self._cond:
            self._enter(bucket)
        try:
            listed = self._shared_answer(bucket, key)
            return listed if listed is not None else head()
        finally:
            with self._cond:
                self._leave(bucket)

    def _shared_answer(self, bucket: str, key: str) -> Listed | None:
        ticket = _Ticket(key)
        with self._cond:
            if self._few(bucket):
                return None
            self._queues.setdefault(bucket, []).append(ticket)
            while not ticket.done and bucket in self._listing:
                self._cond.wait()
            if ticket.done:
                return ticket.answer
            batch = self._lead(bucket)
        answers: dict[str, Listed] = {}
        try:
            answers = self._list(bucket, sorted({t.key for t in batch}))
        except (BotoCoreError, ClientError) as error:  # it only confirms: HeadObject decides
            self._listing_failed(bucket, error)
        finally:
            with self._cond:
                self._answer(bucket, batch, answers)
                self._cond.notify_all()
        return ticket.answer

    def _list(self, bucket: str, keys: list[str]) -> dict[str, Listed]:
        return self._confirmed(bucket, keys, self._list_page(listing_params(bucket, keys)))


class AsyncListingCoalescer(_Coalescing):
    """:class:`ListingCoalescer` for the tasks of one event loop: ``list_page`` is awaited,
    waiting is on the loop (a listing's end wakes the tasks queued behind it)."""

    def __init__(
        self, list_page: Callable[[dict[str, Any]], Awaitable[Mapping[str, Any]]], least: int
    ) -> None:
        super().__init__(least)
        self._list_page = list_page
        self._ended: dict[str, asyncio.Event] = {}

    async def read_back(
        self, bucket: str, key: str, head: Callable[[], Awaitable[T]]
    ) -> Listed | T:
        """What a shared listing shows for ``key``, or ``await head()`` when none shows it."""
        if self._alone(bucket):
            return await head()
        self._enter(bucket)
        try:
            listed = await self._shared_answer(bucket, key)
            return listed if listed is not None else await head()
        finally:
            self._leave(bucket)

    async def _shared_answer(self, bucket: str, key: str) -> Listed | None:
        if self._few(bucket):
            return None
        ticket = _Ticket(key)
        self._queues.setdefault(bucket, []).append(ticket)
        while not ticket.done and bucket in self._listing:
            await self._ended.setdefault(bucket, asyncio.Event()).wait()
        if ticket.done:
            return ticket.answer
        batch = self._lead(bucket)
        answers: dict[str, Listed] = {}
        try:
            keys = sorted({t.key for t in batch})
            page = await self._list_page(listing_params(bucket, keys))
            answers = self._confirmed(bucket, keys, page)
        except (BotoCoreError, ClientError) as error:  # it only confirms: HeadObject decides
            self._listing_failed(bucket, error)
        finally:  # cancelled too: the queued tasks read back on their own
            self._answer(bucket, batch, answers)
            ended = self._ended.pop(bucket, None)
            if ended is not None:
                ended.set()
        return ticket.answer


def lists_in_order(bucket: str) -> bool:
    """Whether ListObjectsV2 on ``bucket`` lists keys in order and honours ``StartAfter``:
    not on an S3 Express One Zone directory bucket (a name ending in ``--x-s3``)."""
    return not bucket.endswith("--x-s3")


def listing_params(bucket: str, keys: list[str], max_keys: int | None = None) -> dict[str, Any]:
    """ListObjectsV2 over the range of the sorted ``keys``: their common prefix, starting just
    before the smallest, ``max_keys`` a page (default ``KEYS_PER_KEY`` per key, at most 1,000)."""
    prefix = os.path.commonprefix(keys)  # noqa: RUF071 (keys, not paths: char by char)
    if max_keys is None:
        max_keys = min(_PAGE_MAX, KEYS_PER_KEY * len(keys))
    params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": max_keys}
    first = keys[0]
    if first != prefix and first[-1] > "\x00":
        # Every key >= first sorts after this one; few keys fall in between ("p/36..." for
        # "p/37"). Never a lone surrogate, which UTF-8 cannot carry.
        before = ord(first[-1]) - 1
        before = 0xD7FF if 0xD800 <= before <= 0xDFFF else before
        # A control character cannot travel in XML, and servers echo StartAfter in the answer
        # (moto unencoded): after a key ending in a space or below, start after its stem.
        start = first[:-1] + chr(before) if before >= 0x20 else first[:-1]
        if start:
            params["StartAfter"] = start
    return params
