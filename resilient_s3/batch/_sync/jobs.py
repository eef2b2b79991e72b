"""The job of each sync step: compared by content when the step is a ``"check"`` (the file's
ETag, then, if that cannot decide, one HeadObject), then transferred if it differs (an upload
through ``put_job``: journaled, verified; a download through the plane's get), the index told
what was found or made equal."""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from ..._fields import error_code
from .._engine.engine import Engine
from .._engine.jobs import Job
from .._engine.listverify import ListVerifier
from .._engine.writes import put_job, run_call, verified_by_facade
from .._inputs.items import PutItem
from .._planes.base import Plane
from .._report.report import ItemResult
from .._resume.state import FileIdentity
from .compare import Comparison, by_etag, by_head, encrypted
from .decide import Remote, Step
from .record import SyncRun

__all__ = ["NOTHING", "SyncJobs"]

#: What a job returns when nothing was transferred (equal, or a dry run).
NOTHING = ItemResult("", "")


class SyncJobs:
    """The job of each step: compare if needed, then transfer (see the module docstring)."""

    def __init__(
        self,
        engine: Engine,
        plane: Plane,
        run: SyncRun,
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
                    return NOTHING
                reason = comparison.reason
            self.run.act(action, step, reason)
            if settings.dry_run:
                return NOTHING
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
            if result is NOTHING:
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
