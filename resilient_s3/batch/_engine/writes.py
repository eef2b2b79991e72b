"""How a write of a batch becomes a job: the plane's put, or a journaled upload of a large file
by path (``_resume/``), then list verification; and what a write batch asks of the facade and of
the native plane for its verification mode. Used by ``plans.py`` (put, copy) and by
``sync`` (``_sync/``)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..._verify.policy import VerifyPolicy
from .._inputs.items import PutItem
from .._planes.base import Multipart, Plane
from .._report.report import ItemResult
from .._resume.journal import JournalStore
from .._resume.upload import ResumableUploads, Steps
from .engine import Engine
from .jobs import Job
from .listverify import ListVerifier, Pending

if TYPE_CHECKING:
    from ..._client import ResilientS3Client

__all__ = [
    "facade_verify",
    "native_refusal",
    "put_call",
    "put_job",
    "resumable",
    "run_call",
    "verified_by_facade",
]


async def run_call(engine: Engine, plane: Plane, call: Callable[[], Any]) -> Any:
    """One call of ``plane`` (a re-upload, a journaled upload's step), on the loop or in a
    worker thread, as its jobs run."""
    return await (call() if plane.awaited else engine.run_in_worker(call))


def resumable(
    engine: Engine, s3: ResilientS3Client, plane: Plane, root: Path | None
) -> ResumableUploads | None:
    """The journaled uploads of one batch, their state in ``root`` (``None``: none)."""
    if root is None:
        return None
    steps = Steps(
        plane,
        functools.partial(run_call, engine, plane),
        engine.run_in_worker,
        engine.context.pacer.cancelled,
    )
    return ResumableUploads(JournalStore(root, str(s3.meta.endpoint_url)), steps)


def put_job(
    engine: Engine,
    plane: Plane,
    uploads: ResumableUploads | None,
    verifier: ListVerifier | None,
    bucket: str,
    item: PutItem,
    position: int | None,
    multipart: Multipart,
) -> Job:
    """The job that uploads ``item``: through ``uploads`` (journaled) or the plane, then into
    ``verifier``'s windows (list verification), or settled as it returns."""
    call, awaited = put_call(plane, uploads, bucket, item, position, multipart)
    if verifier is None:
        return Job(bucket, (item.key,), call, None, awaited)

    async def rewrite(extra: Mapping[str, Any]) -> ItemResult:
        again = PutItem(item.key, item.body, {**item.extra_args, **extra})
        call, awaited = put_call(plane, uploads, bucket, again, position, multipart)
        result: ItemResult = await (call() if awaited else engine.run_in_worker(call))
        return result

    memory = len(item.body) if isinstance(item.body, (bytes, bytearray, str)) else 0

    async def written(result: ItemResult) -> None:
        await verifier.written(Pending(result, rewrite, item.extra_args, 0, memory))

    return Job(bucket, (item.key,), call, written, awaited)


def put_call(
    plane: Plane,
    uploads: ResumableUploads | None,
    bucket: str,
    item: PutItem,
    position: int | None,
    multipart: Multipart,
) -> tuple[Callable[[], Any], bool]:
    """The call that uploads ``item`` and whether it is awaited: journaled (``uploads``
    takes it) or the plane's own put."""
    if uploads is not None and uploads.takes(item, multipart):
        return functools.partial(uploads.put, bucket, item, multipart), True
    return plane.put(bucket, item, position, multipart), plane.awaited


def verified_by_facade(engine: Engine) -> Callable[[ItemResult], Any]:
    """A job's ``done`` when the facade verified the write itself (``verify_writes="object"``):
    counted as verified, settled."""

    async def verified(result: ItemResult) -> None:
        engine.verified += 1
        engine.succeed(result)

    return verified


def native_refusal(mode: str) -> str | None:
    """Why the CRT plane cannot serve a write batch verified in ``mode``, or ``None``."""
    if mode == "object":
        return "verify_writes='object' is the facade's read-back after each write (use 'list')"
    return None


def facade_verify(mode: str, policy: VerifyPolicy) -> VerifyPolicy:
    return policy if mode == "object" else VerifyPolicy(mode="off")
