"""The input of a sync's transfer batch: the prefix listed, the local side walked (upload) or
stat'ed (download) in a worker thread a few hundred entries at a time, each name decided by
``decide.py``; what needs no transfer is settled here, the rest yielded as steps. The
deletion candidates are collected on the way (``SyncRun.doomed``)."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator
from typing import Any

from .._engine.engine import Engine
from .._engine.writes import run_call
from .._planes.base import Plane
from .._planes.threaded import local_path
from .decide import Remote, Step, decide_download, decide_upload, doomed_keys
from .names import SkippedName, Temporary, folder_conflicts, walk
from .record import SyncRun

__all__ = ["download_steps", "listing", "local_doomed", "upload_steps"]

#: Local entries walked (or stat'ed) per hop to a worker thread.
_CHUNK = 256
_TEMPORARY = "a temporary file of an interrupted download"


async def listing(engine: Engine, plane: Plane, run: SyncRun) -> dict[str, Remote]:
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


async def upload_steps(engine: Engine, plane: Plane, run: SyncRun) -> AsyncIterator[Step]:
    if run.uploads is not None:
        await run.uploads.clean_up()
    remote = await listing(engine, plane, run)
    prefix, protected = run.sides.remote.prefix, []
    walker = walk(run.sides.root, prefix)
    while chunk := await engine.run_in_worker(lambda: list(itertools.islice(walker, _CHUNK))):
        for entry in chunk:
            if isinstance(entry, Temporary):
                entry = SkippedName(entry.path, _TEMPORARY, entry.relative)
            if isinstance(entry, SkippedName):
                run.skip(entry)
                if entry.relative is not None:
                    protected.append(entry.relative)
                continue
            key = prefix + entry.relative
            decision = decide_upload(entry, key, remote.pop(key, None), run.index)
            if decision == "same":
                run.unchanged += 1
            elif isinstance(decision, Step):
                yield decision
    for key in doomed_keys(remote, prefix, run.sides.root, protected):
        run.doomed.append((key[len(prefix) :], key))


async def download_steps(engine: Engine, plane: Plane, run: SyncRun) -> AsyncIterator[Step]:
    remote = await listing(engine, plane, run)
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
                _mkdir(run, found.key, names[found.key])
            elif isinstance(decision, SkippedName):
                run.skip(decision)
            elif isinstance(decision, Step):
                yield decision
    run.kept = set(names.values())


def local_doomed(run: SyncRun) -> None:
    """The local files the prefix does not have (``run.doomed``), walked once the downloads
    are done (their temporary files gone); leftover temporary files of interrupted downloads
    too. Blocking: in a worker thread."""
    root = run.sides.root
    if not root.is_dir():
        return
    kept = run.kept | {s.relative for s in run.skipped if s.relative}
    for entry in walk(root):
        if isinstance(entry, SkippedName):
            run.skip(SkippedName(entry.name, f"not deleted: {entry.reason}", entry.relative))
        elif entry.relative not in kept:
            run.doomed.append((entry.relative, entry.path))


def _mkdir(run: SyncRun, key: str, relative: str) -> None:
    """The local folder of a folder marker (``relative`` ends in ``/``)."""
    folder = str(local_path(run.sides.root, relative[:-1]))
    if not run.settings.dry_run:
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as error:
            run.skip(SkippedName(key, f"its folder cannot be made ({error.strerror})", relative))
            return
    run.act("mkdir", Step("send", relative, key, folder, 0), "a folder marker")
