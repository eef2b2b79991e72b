"""A multipart upload that survives a restart: journaled part by part, resumed from its journal
reconciled with ``ListParts`` (docs/batch.md, "The journal of a multipart upload").

Every request goes through the batch's data plane (``Plane.call``: the facade in a worker
thread on the threaded plane, the native transport's ``send`` on the native plane), so each is
retried by the client's policy, paced and counted like the batch's other requests. Up to
:data:`PARTS_IN_FLIGHT` parts of one upload are sent at once. A cancelled or failed upload is not
aborted: its journal stays for the next run (the cleanup rule, :meth:`ResumableUploads.clean_up`,
aborts the ones that can no longer be resumed).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from botocore.exceptions import ClientError

from ..._errors import VerificationError, describe
from ..._fields import error_code
from ..._verify.judgment import normal_etag
from .._inputs.items import PutItem
from .._pacing.pacer import BatchCancelled
from .._planes.base import Multipart, Plane
from .._planes.threaded import multipart_params
from .._report.report import ItemResult
from .journal import Journal, JournalLock, JournalStore, PartDone, params_digest, stale_reason
from .state import FileIdentity

__all__ = ["PARTS_IN_FLIGHT", "ResumableUploads", "Steps"]

logger = logging.getLogger("resilient_s3")
#: Parts of one upload sent at once (so up to this many x part_size bytes in memory).
PARTS_IN_FLIGHT = 4
_CHECKSUMS = (
    "ChecksumCRC32", "ChecksumCRC32C", "ChecksumCRC64NVME", "ChecksumSHA1", "ChecksumSHA256",
)  # fmt: skip
_GONE = frozenset({"NoSuchUpload", "404"})


@dataclass(frozen=True)
class Steps:
    """How an upload of one batch reaches the server and the disk: ``run`` awaits a plane
    call (on the loop or in a worker thread, as the plane's jobs), ``in_worker`` runs local work
    in a worker thread; ``cancelled`` is set once the batch is cancelled."""

    plane: Plane
    run: Callable[[Callable[[], Any]], Awaitable[Any]]
    in_worker: Callable[[Callable[[], Any]], Awaitable[Any]]
    cancelled: threading.Event

    async def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """One call of ``operation`` through the plane (retried, paced, counted)."""
        answer: dict[str, Any] = await self.run(self.plane.call(operation, params))
        return answer


class ResumableUploads:
    """The journaled uploads of one batch: which items they take, the cleanup, the uploads."""

    def __init__(self, store: JournalStore, steps: Steps) -> None:
        self.store = store
        self.steps = steps
        #: Uploads resumed from a journal, parts found on the server, parts sent, restarts.
        self.resumed = self.parts_kept = self.parts_sent = self.started_over = 0

    @staticmethod
    def takes(item: PutItem, multipart: Multipart) -> bool:
        """Whether ``item`` is uploaded journaled: a file by path of a multipart size."""
        body = item.body
        return isinstance(body, os.PathLike) and os.path.getsize(body) >= multipart.threshold

    async def clean_up(self) -> int:
        """Abort the uploads of this endpoint's journals that can no longer be resumed (their
        file gone or changed, or no part for ``MAX_AGE``) and delete them; how many."""

        def stale() -> list[tuple[JournalLock, Journal, str]]:
            found, now = [], time.time()
            for lock, journal in self.store.held():
                reason = stale_reason(journal, lock, now)
                if reason is None:
                    lock.release()
                else:
                    found.append((lock, journal, reason))
            return found

        cleaned = 0
        for lock, journal, reason in await self.steps.in_worker(stale):
            try:
                logger.info(
                    "resume: aborting the upload of %s: %s",
                    describe(journal.bucket, journal.key), reason,
                )  # fmt: skip
                if await self.abort(journal):
                    await self.steps.in_worker(lock.delete)
                    cleaned += 1
            finally:
                lock.release()
        return cleaned

    async def put(self, bucket: str, item: PutItem, multipart: Multipart) -> ItemResult:
        """Upload ``item`` (a file by path) in journaled parts, resuming a journal of it."""
        lock = await self.steps.in_worker(lambda: self.store.lock(bucket, item.key))
        if lock is None:
            raise BlockingIOError(
                f"put {describe(bucket, item.key)}: another process is uploading it (its "
                f"journal {self.store.directory} is locked); run again once it is done"
            )
        try:
            return await _Upload(self, lock, bucket, item, multipart).run()
        finally:
            lock.release()

    async def abort(self, journal: Journal) -> bool:
        """Abort ``journal``'s upload; whether it is gone (``NoSuchUpload`` counts as done)."""
        params = {"Bucket": journal.bucket, "Key": journal.key, "UploadId": journal.upload_id}
        try:
            await self.steps.call("AbortMultipartUpload", params)
        except ClientError as error:
            if error_code(error) not in _GONE:
                logger.warning(
                    "resume: could not abort the upload of %s (%s): kept for later",
                    describe(journal.bucket, journal.key), error_code(error),
                )  # fmt: skip
                return False
        return True


class _Upload:
    """One journaled upload (see the module docstring)."""

    def __init__(
        self,
        uploads: ResumableUploads,
        lock: JournalLock,
        bucket: str,
        item: PutItem,
        multipart: Multipart,
    ) -> None:
        self.uploads, self.steps, self.lock = uploads, uploads.steps, lock
        self.bucket, self.key, self.multipart = bucket, item.key, multipart
        self.path = os.path.abspath(os.fspath(item.body))  # type: ignore[arg-type]
        self.create, self.complete, self.part_extra = multipart_params(item.extra_args)
        self.target = describe(bucket, item.key)

    async def run(self) -> ItemResult:
        journal = await self._journal()
        missing = [n for n in range(1, journal.part_count + 1) if n not in journal.parts]
        await self._send(journal, missing)
        response = await self._complete(journal)
        await self.steps.in_worker(self.lock.delete)
        return ItemResult.of(self.bucket, self.key, journal.size, response)

    # -- the journal -------------------------------------------------------------------------

    async def _journal(self) -> Journal:
        """The journal to go on with: the old one reconciled, or a new upload's."""
        identity = FileIdentity.of(await self.steps.in_worker(lambda: os.stat(self.path)))
        digest = params_digest(self.create)
        old: Journal | None = await self.steps.in_worker(self.lock.load)
        if old is not None:
            endpoint = self.uploads.store.endpoint
            reason = old.mismatch(endpoint, self.bucket, self.key, self.path, identity, digest)
            listed = None if reason is not None else await self._list_parts(old)
            if reason is None and listed is None:
                reason = f"the server no longer has upload {old.upload_id[:16]}..."
            if reason is None and listed is not None:
                await self._reconcile(old, listed)
                self.uploads.resumed += 1
                logger.info(
                    "resume: %s: %d of %d parts already on the server, sending %d",
                    self.target, len(old.parts), old.part_count, old.part_count - len(old.parts),
                )  # fmt: skip
                return old
            logger.info("resume: %s starts over: %s", self.target, reason)
            self.uploads.started_over += 1
            await self.uploads.abort(old)
            await self.steps.in_worker(self.lock.delete)
        params = {**self.create, "Bucket": self.bucket, "Key": self.key}
        answer = await self.steps.call("CreateMultipartUpload", params)
        journal = Journal(
            self.uploads.store.endpoint, self.bucket, self.key, str(answer["UploadId"]),
            self.multipart.part_size, identity.size, self.path, identity, digest,
        )  # fmt: skip
        await self.steps.in_worker(lambda: self.lock.start(journal))
        return journal

    async def _list_parts(self, journal: Journal) -> dict[int, Mapping[str, Any]] | None:
        """The parts the server holds for ``journal``'s upload; ``None``: it has no such upload."""
        params: dict[str, Any] = {
            "Bucket": self.bucket, "Key": self.key, "UploadId": journal.upload_id,
        }  # fmt: skip
        if "RequestPayer" in self.part_extra:
            params["RequestPayer"] = self.part_extra["RequestPayer"]
        parts: dict[int, Mapping[str, Any]] = {}
        for _ in range(10_001):  # at most 10,000 parts, a page of at least one
            try:
                page = await self.steps.call("ListParts", dict(params))
            except ClientError as error:
                if error_code(error) in _GONE:
                    return None
                raise
            for part in page.get("Parts", []):
                parts[int(part["PartNumber"])] = part
            if not page.get("IsTruncated"):
                break
            params["PartNumberMarker"] = page["NextPartNumberMarker"]
        return parts

    async def _reconcile(self, journal: Journal, listed: dict[int, Mapping[str, Any]]) -> None:
        """Keep the journal's parts the server lists as they were sent; adopt a listed part
        the journal missed if it holds the local bytes; forget the rest (sent again)."""
        kept: dict[int, PartDone] = {}
        for number in range(1, journal.part_count + 1):
            part = listed.get(number)
            offset, length = journal.part_range(number)
            if part is None or part.get("Size") != length:
                continue
            etag = str(part.get("ETag") or "")
            known = journal.parts.get(number)
            if known is not None and normal_etag(known.etag) == normal_etag(etag):
                kept[number] = known
                continue
            md5 = await self.steps.in_worker(functools.partial(_md5, self.path, offset, length))
            if normal_etag(etag) == md5:
                checksums = {k: str(part[k]) for k in _CHECKSUMS if part.get(k)}
                kept[number] = PartDone(number, length, etag, md5, checksums)
                self.lock.append(kept[number])
        journal.parts = kept
        self.uploads.parts_kept += len(kept)

    # -- the parts ---------------------------------------------------------------------------

    async def _send(self, journal: Journal, numbers: list[int]) -> None:
        """Send parts ``numbers``, up to PARTS_IN_FLIGHT at once, each journaled when done. After
        a failure no new part starts, the parts in flight finish (and are journaled), then the
        first failure is raised."""
        queue: Iterator[int] = iter(numbers)
        failed = False

        async def sender() -> None:
            nonlocal failed
            for number in queue:
                if failed:
                    return
                if self.steps.cancelled.is_set():
                    raise BatchCancelled
                try:
                    part = await self._part(journal, number)
                except BaseException:
                    failed = True
                    raise
                journal.parts[number] = part
                self.lock.append(part)
                self.uploads.parts_sent += 1

        tasks = [asyncio.ensure_future(sender()) for _ in range(min(PARTS_IN_FLIGHT, len(numbers)))]
        try:
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            for task in tasks:  # cancelled from outside: the parts in flight too
                task.cancel()
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _part(self, journal: Journal, number: int) -> PartDone:
        offset, length = journal.part_range(number)
        data, md5 = await self.steps.in_worker(lambda: _read(self.path, offset, length))
        params = {
            **self.part_extra, "Bucket": self.bucket, "Key": self.key,
            "UploadId": journal.upload_id, "PartNumber": number, "Body": data,
        }  # fmt: skip
        answer = await self.steps.call("UploadPart", params)
        checksums = {k: str(answer[k]) for k in _CHECKSUMS if answer.get(k)}
        return PartDone(number, length, str(answer.get("ETag") or ""), md5, checksums)

    # -- the end -----------------------------------------------------------------------------

    async def _complete(self, journal: Journal) -> dict[str, Any]:
        """CompleteMultipartUpload, once the file is checked unchanged; its ETag checked."""
        now = FileIdentity.of(await self.steps.in_worker(lambda: os.stat(self.path)))
        if now != journal.identity:
            await self.uploads.abort(journal)
            await self.steps.in_worker(self.lock.delete)
            raise ValueError(
                f"put {self.target}: {self.path!r} changed while it was uploaded; the upload "
                "was aborted: run again to upload it as it is now"
            )
        parts = [journal.parts[n] for n in sorted(journal.parts)]
        same_checksums = len({tuple(sorted(p.checksums)) for p in parts}) == 1
        listed = [
            {"ETag": p.etag, "PartNumber": p.number, **(p.checksums if same_checksums else {})}
            for p in parts
        ]
        params = {
            **self.complete, "Bucket": self.bucket, "Key": self.key,
            "UploadId": journal.upload_id, "MultipartUpload": {"Parts": listed},
        }  # fmt: skip
        expected = _multipart_etag(parts)
        try:
            answer = await self.steps.call("CompleteMultipartUpload", params)
        except ClientError as error:
            if error_code(error) != "NoSuchUpload":
                raise
            # A retry of a Complete whose answer was lost: the upload is done (or gone); list
            # verification finds the object, or uploads it again.
            return {"ETag": f'"{expected}"' if expected else None}
        if answer.get("Error"):
            raise ClientError(cast(Any, answer), "CompleteMultipartUpload")
        etag = normal_etag(answer.get("ETag"))
        if expected is not None and isinstance(etag, str) and "-" in etag and etag != expected:
            raise VerificationError(
                self.bucket, self.key, "mismatch", {"ETag": expected}, {"ETag": etag},
                "the completed upload's ETag is not the MD5 of the MD5s of the parts sent",
            )  # fmt: skip
        return answer


def _multipart_etag(parts: list[PartDone]) -> str | None:
    """``<md5 of the part MD5s>-N`` when every part's ETag is its MD5 (no SSE-KMS/SSE-C)."""
    if not parts or any(normal_etag(p.etag) != p.md5 for p in parts):
        return None
    digest = hashlib.md5(b"".join(bytes.fromhex(p.md5) for p in parts), usedforsecurity=False)
    return f"{digest.hexdigest()}-{len(parts)}"


def _read(path: str, offset: int, length: int) -> tuple[bytes, str]:
    """``length`` bytes of ``path`` from ``offset``, and their MD5."""
    with open(path, "rb") as file:
        file.seek(offset)
        data = file.read(length)
    if len(data) != length:
        raise OSError(f"{path!r} is shorter than when its upload started")
    return data, hashlib.md5(data, usedforsecurity=False).hexdigest()


def _md5(path: str, offset: int, length: int) -> str:
    return _read(path, offset, length)[1]
