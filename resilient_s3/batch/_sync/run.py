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
import os
import time
from collections.abc import Callable
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .._engine.engine import Engine
from .._engine.jobs import Job
from .._engine.listverify import ListVerifier
from .._engine.plans import delete_plan
from .._engine.runner import Plan, run_plan
from .._engine.writes import facade_verify, native_refusal, resumable
from .._options import Options, resolve_verify
from .._planes.base import Plane
from .._report.report import BatchReport, BatchStats, ItemFailure, attach_report
from .index import SyncIndex
from .jobs import SyncJobs
from .locations import Sides
from .record import SyncRun, SyncSettings
from .report import SyncAction, SyncReport
from .steps import download_steps, local_doomed, upload_steps

if TYPE_CHECKING:
    from ..._client import ResilientS3Client
    from ..._shared import SharedParts

__all__ = ["sync"]


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
    run = SyncRun(sides, settings, index)
    try:
        transfers = await run_plan(s3, shared, _transfer_plan(s3, shared, run, options))
    except BaseException as stop:
        partial = getattr(stop, "resilient_s3_report", None)
        if not settings.dry_run:
            index.save()
        if isinstance(partial, BatchReport):
            attach_report(stop, run.report(partial, held=_held(settings, run, partial)))
        raise
    if not settings.dry_run:
        index.save()
    if settings.delete and sides.direction == "download":
        await asyncio.get_running_loop().run_in_executor(None, local_doomed, run)
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


def _held(settings: SyncSettings, run: SyncRun, transfers: BatchReport) -> str | None:
    """Why deletes must not run after ``transfers`` (``None``: they may)."""
    if not settings.delete or not run.doomed or settings.dry_run:
        return None
    if transfers.stopped:
        return f"the run stopped early ({transfers.stopped})"
    if transfers.failed:
        return f"{len(transfers.failed)} transfer(s) failed"
    return None


async def _delete(
    s3: ResilientS3Client, shared: SharedParts, run: SyncRun, options: Options
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
    client: ResilientS3Client, shared: SharedParts, run: SyncRun, options: Options
) -> Plan:
    sides, settings = run.sides, run.settings
    upload = sides.direction == "upload"
    mode, policy = resolve_verify(settings.verify, client.verify_policy)
    if not upload:
        mode = "off"

    def setup(engine: Engine, s3: Any, plane: Plane) -> tuple[Any, Callable[[Any], Job]]:
        live = not settings.dry_run
        verifier = (
            ListVerifier(engine, s3, plane, shared, policy) if mode == "list" and live else None
        )
        run.uploads = resumable(engine, s3, plane, settings.state) if upload and live else None
        jobs = SyncJobs(engine, plane, run, verifier, mode == "object")
        source = upload_steps if upload else download_steps
        return source(engine, plane, run), jobs.make

    return Plan(
        sides.direction, options, facade_verify(mode, policy), None, setup, sides.remote.bucket,
        crt_refusal=native_refusal(mode),
    )  # fmt: skip
