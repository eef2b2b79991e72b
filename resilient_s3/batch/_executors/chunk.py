"""What a Dask worker runs: one chunk of a batch through the normal batch engine.

The task receives the pickled facade (rebuilt once per worker process, see
``resilient_s3/_fleet/recipe.py``) and runs the ``*_async`` batch method on an event loop of
its own, while a watcher polls the batch's ``distributed.Event``: once the driver sets it
(Ctrl-C or cancellation there), the chunk's batch is cancelled as Ctrl-C cancels a local one, and
its report says ``stopped="cancelled"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._report.report import BatchReport, BatchStats

if TYPE_CHECKING:
    from ..._client import ResilientS3Client

__all__ = ["POLL_SECONDS", "run_chunk"]

#: Seconds between two looks at the batch's cancel event.
POLL_SECONDS = 0.5


def run_chunk(
    s3: ResilientS3Client,
    operation: str,
    head: Sequence[Any],
    chunk: list[Any],
    tail: Sequence[Any],
    options: Mapping[str, Any],
    cancel_event: str,
) -> BatchReport:
    """Run ``s3.batch.<operation>_async(*head, chunk, *tail, **options)`` on this worker."""
    return asyncio.run(_run(s3, operation, head, chunk, tail, options, cancel_event))


async def _run(
    s3: ResilientS3Client,
    operation: str,
    head: Sequence[Any],
    chunk: list[Any],
    tail: Sequence[Any],
    options: Mapping[str, Any],
    cancel_event: str,
) -> BatchReport:
    distributed: Any = importlib.import_module("distributed")  # untyped
    event = distributed.Event(cancel_event)
    if event.is_set():  # the driver stopped before this chunk started
        return BatchReport(operation, 0, (), BatchStats(), stopped="cancelled")
    method = getattr(s3.batch, f"{operation}_async")
    batch = asyncio.ensure_future(method(*head, chunk, *tail, **options))
    while not batch.done():
        if await asyncio.to_thread(event.is_set):
            batch.cancel()
            break
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(batch), POLL_SECONDS)
    try:
        report: BatchReport = await batch
        return report
    except asyncio.CancelledError as cancelled:
        stopped: BatchReport | None = getattr(cancelled, "resilient_s3_report", None)
        if stopped is None:
            raise
        return stopped
