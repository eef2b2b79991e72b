"""One sync: the prefix listed, the local side walked (or stat'ed), each pair decided, what
differs transferred by the batch engine (paced, retried, verified like ``put``/``get``), then,
if asked and only once every transfer succeeded, the deletes; the index kept for the next run.

The transfers are one batch whose input is the comparison itself: an async generator lists the
prefix, walks the tree (in a worker thread, a few hundred entries at a time), settles what
needs no reading (missing, another size, an index hit, an odd name) and yields the rest as
steps: ``"send"`` (transferred) or ``"check"`` (a job compares by content, then transfers if it
differs). So transfers start while the tree is still being walked, and files are hashed by
``concurrency`` worker threads at once.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ..._fields import error_code
from ..._verify.reupload import ConditionalWrites
from .._engine.engine import Engine
from .._engine.jobs import Job
from .._engine.listverify import ListVerifier
from .._engine.plans import (
    delete_plan,
    facade_verify,
    native_refusal,
    put_job,
    resumable,
    run_call,
    verified_by_facade,
)
from .._engine.runner import Plan, run_plan
from .._inputs.items import PutItem
from .._options import Options, VerifyArg, resolve_verify
from .._planes.base import Multipart, Plane
from .._planes.threaded import local_path
from .._report.report import BatchReport, BatchStats, ItemFailure, ItemResult, attach_report
from .._resume.state import FileIdentity
from .._resume.upload import ResumableUploads
from .compare import Comparison, by_etag, by_head, encrypted
from .decide import Remote, Step, decide_download, decide_upload, doomed_keys
from .index import SyncIndex
from .locations import Sides
from .names import LocalFile, Skipped, folder_conflicts, walk
from .report import SyncAction, SyncReport

if TYPE_CHECKING:
    from ..._client import ResilientS3Client
    from ..._shared import SharedParts

__all__ = ["SyncSettings", "sync"]

#: Local entries walked (or stat'ed) per hop to a worker thread.
_CHUNK = 256
#: What a job returns when nothing was transferred (equal, or a dry run).
_NOTHING = ItemResult("", "")


@dataclass(frozen=True)
class SyncSettings:
    """What ``sync`` was asked besides its sides and batch options."""

    delete: bool = False
    dry_run: bool = False
    state: Path | None = None
    verify: VerifyArg = "list"
    multipart: Multipart = field(default_factory=Multipart)
    extra_args: Mapping[str, Any] = field(default_factory=dict)


class _Run:
    """What one run found and did, shared by its generator and its jobs (on the loop)."""

    def __init__(self, sides: Sides, settings: SyncSettings, index: SyncIndex) -> None:
        self.sides, self.settings, self.index = sides, settings, index
        self.actions: list[SyncAction] = []
        self.skipped: list[Skipped] = []
        self.unchanged = 0
        self.doomed: list[tuple[str, str]] = []  # (relative name, key or local path)
        self.uploads: ResumableUploads | None = None

    def act(self, action: str, step: Step, reason: str) -> None:
        size = step.size if action != "delete" else None
        bucket = self.sides.remote.bucket
        self.actions.append(
            SyncAction(action, step.relative, bucket, step.key, step.path, size, reason)
        )

    def report(
        self, transfers: BatchReport, deletes: BatchReport | None = None, held: str | None = None
    ) -> SyncReport:
        uploads = self.uploads
        resumed = (uploads.resumed, uploads.parts_kept) if uploads is not None else (0, 0)
        return SyncReport(
            self.sides.source, self.sides.dest, self.settings.dry_run, tuple(self.actions),
            self.unchanged, tuple(self.skipped), transfers, deletes, held, resumed,
        )  # fmt: skip


async def sync(
    s3: ResilientS3Client,
    shared: SharedParts,
    sides: Sides,
    settings: SyncSettings,
    options: Options,
) -> SyncReport:
    """Run one sync (see the module docstring) on the running loop."""
    remote = sides.remote
    index = SyncIndex.open(
        settings.state, str(s3.meta.endpoint_url), remote.bucket, remote.prefix, sides.root
    )
    run = _Run(sides, settings, index)
    try:
        transfers = await run_plan(s3, shared, _transfer_plan(s3, shared.writes, run, options))
    except BaseException as stop:
        partial = getattr(stop, "resilient_s3_report", None)
        if not settings.dry_run:
            index.save()
        if isinstance(partial, BatchReport):
            attach_report(stop, run.report(partial, held=_held(settings, run, partial)))
        raise
    if not settings.dry_run:
        index.save()
    if not settings.delete or not run.doomed:
        return run.report(transfers)
    for relative, target in run.doomed:
        key = remote.key(relative) if sides.direction == "upload" else ""
        path = "" if sides.direction == "upload" else target
        deleted = SyncAction(
            "delete", relative, remote.bucket, key, path, None, "not in the source"
        )
        run.actions.append(deleted)
    held = _held(settings, run, transfers)
    if settings.dry_run or held is not None:
        return run.report(transfers, held=held)
    try:
        deletes = await _delete(s3, shared, run, options)
    except BaseException as stop:
        partial = getattr(stop, "resilient_s3_report", None)
        if isinstance(partial, BatchReport):
            attach_report(stop, run.report(transfers, partial))
        raise
    return run.report(transfers, deletes)


def _held(settings: SyncSettings, run: _Run, transfers: BatchReport) -> str | None:
    """Why deletes must not run after ``transfers`` (``None``: they may)."""
    if not settings.delete or not run.doomed or settings.dry_run:
        return None
    if transfers.stopped:
        return f"the run stopped early ({transfers.stopped})"
    if transfers.failed:
        return f"{len(transfers.failed)} transfer(s) failed"
    return None


async def _delete(
    s3: ResilientS3Client, shared: SharedParts, run: _Run, options: Options
) -> BatchReport:
    """Delete the doomed objects (DeleteObjects) or local files."""
    if run.sides.direction == "upload":
        keys = [target for _, target in run.doomed]
        return await run_plan(s3, shared, delete_plan(run.sides.remote.bucket, keys, options))
    paths = [target for _, target in run.doomed]
    return await asyncio.get_running_loop().run_in_executor(None, _unlink_all, paths)


def _unlink_all(paths: list[str]) -> BatchReport:
    """Delete local files: a report like a delete batch's (its keys are the paths)."""
    started, failures = time.monotonic(), []
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as error:
            failures.append(ItemFailure.of("delete", None, path, error))
    done = len(paths) - len(failures)
    stats = BatchStats(
        items=len(paths), succeeded=done, failed=len(failures),
        seconds=time.monotonic() - started, plane="local",
    )  # fmt: skip
    return BatchReport("delete", done, tuple(failures), stats, data=MappingProxyType({}))


def _transfer_plan(
    client: ResilientS3Client, writes: ConditionalWrites, run: _Run, options: Options
) -> Plan:
    sides, settings = run.sides, run.settings
    upload = sides.direction == "upload"
    mode, policy = resolve_verify(settings.verify, client.verify_policy)
    if not upload:
        mode = "off"

    def setup(engine: Engine, s3: Any, plane: Plane) -> tuple[Any, Callable[[Any], Job]]:
        live = not settings.dry_run
        verifier = (
            ListVerifier(engine, s3, plane, writes, policy) if mode == "list" and live else None
        )
        run.uploads = resumable(engine, s3, plane, settings.state) if upload and live else None
        jobs = _Jobs(engine, plane, run, verifier, mode == "object")
        source = _upload_steps if upload else _download_steps
        return source(engine, plane, run), jobs.make

    return Plan(
        sides.direction, options, facade_verify(mode, policy), None, setup, sides.remote.bucket,
        crt_refusal=native_refusal(mode),
    )  # fmt: skip


async def _listing(engine: Engine, plane: Plane, run: _Run) -> dict[str, Remote]:
    """Every object under the prefix, in listing order (ListObjectsV2 pages, through the
    plane: paced, retried, counted)."""
    remote = run.sides.remote
    params: dict[str, Any] = {"Bucket": remote.bucket, "Prefix": remote.prefix}
    found: dict[str, Remote] = {}
    while True:
        page = await run_call(engine, plane, plane.list_page(dict(params)))
        for entry in page.get("Contents", []):
            key = entry["Key"]
            found[key] = Remote(key, int(entry.get("Size") or 0), entry.get("ETag"))
        if not page.get("IsTruncated"):
            return found
        params["ContinuationToken"] = page["NextContinuationToken"]


async def _upload_steps(engine: Engine, plane: Plane, run: _Run) -> AsyncIterator[Step]:
    if run.uploads is not None:
        await run.uploads.clean_up()
    remote = await _listing(engine, plane, run)
    prefix, protected = run.sides.remote.prefix, []
    walker = walk(run.sides.root, prefix)
    while chunk := await engine.run_in_worker(lambda: list(itertools.islice(walker, _CHUNK))):
        for entry in chunk:
            if isinstance(entry, Skipped):
                run.skipped.append(entry)
                if entry.relative is not None:
                    protected.append(entry.relative)
                continue
            assert isinstance(entry, LocalFile)
            key = prefix + entry.relative
            decision = decide_upload(entry, key, remote.pop(key, None), run.index)
            if decision == "same":
                run.unchanged += 1
            elif isinstance(decision, Step):
                yield decision
    for key in doomed_keys(remote, prefix, run.sides.root, protected):
        run.doomed.append((key[len(prefix) :], key))


async def _download_steps(engine: Engine, plane: Plane, run: _Run) -> AsyncIterator[Step]:
    remote = await _listing(engine, plane, run)
    prefix, root = run.sides.remote.prefix, run.sides.root
    names = {key: key[len(prefix) :] for key in remote}
    conflicts = folder_conflicts(names.values())
    entries = iter(remote.values())

    def decide() -> list[Any]:
        chunk = list(itertools.islice(entries, _CHUNK))
        return [
            (found, decide_download(found, names[found.key], root, conflicts, run.index))
            for found in chunk
        ]

    while decided := await engine.run_in_worker(decide):
        for found, decision in decided:
            if decision == "same":
                run.unchanged += 1
            elif decision == "mkdir":
                relative = names[found.key]
                folder = str(local_path(root, relative[:-1]))
                step = Step("send", relative, found.key, folder, 0)
                run.act("mkdir", step, "a folder marker")
                if not run.settings.dry_run:
                    os.makedirs(step.path, exist_ok=True)
            elif isinstance(decision, Skipped):
                run.skipped.append(decision)
            elif isinstance(decision, Step):
                yield decision
    if run.settings.delete and root.is_dir():
        kept = set(names.values()) | {s.relative for s in run.skipped if s.relative}
        for entry in await engine.run_in_worker(lambda: list(walk(root))):
            if isinstance(entry, LocalFile) and entry.relative not in kept:
                run.doomed.append((entry.relative, entry.path))


class _Jobs:
    """The job of each step: compare if needed, then transfer (see the module docstring)."""

    def __init__(
        self,
        engine: Engine,
        plane: Plane,
        run: _Run,
        verifier: ListVerifier | None,
        facade_verifies: bool,
    ) -> None:
        self.engine, self.plane, self.run = engine, plane, run
        self.verifier, self.facade_verifies = verifier, facade_verifies
        self.bucket = run.sides.remote.bucket
        self.upload = run.sides.direction == "upload"

    def make(self, step: Step) -> Job:
        settings, engine = self.run.settings, self.engine
        action = "upload" if self.upload else "download"
        transfer: Job | None = None
        if self.upload and not settings.dry_run:
            item = PutItem(step.key, Path(step.path), settings.extra_args)
            transfer = put_job(
                engine, self.plane, self.run.uploads, self.verifier, self.bucket, item, None,
                settings.multipart,
            )  # fmt: skip
            if self.facade_verifies:
                transfer.done = verified_by_facade(engine)

        async def call() -> ItemResult:
            reason = step.reason
            if step.kind == "check":
                comparison = await self._judge(step)
                if not comparison.transfer:
                    self._record(
                        step, step.identity, step.seen_ns, step.remote, comparison.part_size
                    )
                    self.run.unchanged += 1
                    return _NOTHING
                reason = comparison.reason
            self.run.act(action, step, reason)
            if settings.dry_run:
                return _NOTHING
            if transfer is not None:
                result: ItemResult = await (
                    transfer.call() if transfer.awaited else engine.run_in_worker(transfer.call)
                )
                part = settings.multipart
                part_size = part.part_size if step.size >= part.threshold else None
                self._record(step, step.identity, step.seen_ns, result, part_size)
                return result
            result = await run_call(engine, self.plane, self.plane.get(
                self.bucket, step.key, Path(step.path)
            ))  # fmt: skip
            identity = FileIdentity.of(os.stat(step.path))
            self._record(step, identity, time.time_ns(), result, None)
            return result

        async def done(result: ItemResult) -> None:
            if result is _NOTHING:
                return
            if transfer is not None and transfer.done is not None:
                await transfer.done(result)
            else:
                engine.succeed(result)

        return Job(self.bucket, (step.key,), call, done, awaited=True)

    def _record(
        self,
        step: Step,
        identity: FileIdentity | None,
        seen_ns: int,
        found: Remote | ItemResult | None,
        part_size: int | None,
    ) -> None:
        if identity is not None and found is not None:
            self.run.index.record(step.relative, identity, seen_ns, found.etag, part_size)

    async def _judge(self, step: Step) -> Comparison:
        """Rules 4 and 5: the file's ETag, then, if that cannot decide, one HeadObject."""
        assert step.remote is not None
        known = [self.run.index.part_size(step.relative), self.run.settings.multipart.part_size]
        etag = step.remote.etag
        judge = functools.partial(by_etag, step.path, step.size, etag, [p for p in known if p])
        comparison: Comparison = await self.engine.run_in_worker(judge)
        if not comparison.head:
            return comparison
        params = {"Bucket": self.bucket, "Key": step.key}
        try:
            first = await self._call("HeadObject", {**params, "PartNumber": 1})
            whole = None
            if encrypted(first):
                whole = await self._call("HeadObject", {**params, "ChecksumMode": "ENABLED"})
        except ClientError as error:
            return Comparison(
                None, f"undecided: HeadObject failed ({error_code(error) or 'error'})"
            )
        decide = functools.partial(by_head, step.path, step.size, etag, first, whole)
        decided: Comparison = await self.engine.run_in_worker(decide)
        return decided

    async def _call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = await run_call(
            self.engine, self.plane, self.plane.call(operation, params)
        )
        return answer
