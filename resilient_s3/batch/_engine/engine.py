"""The asyncio engine: items pulled lazily, at most ``concurrency`` in flight, each a
:class:`Job` (a coroutine on the loop, or a blocking call in a worker thread), every outcome
settled into counts (successes) or failures. The engine knows no data plane: the plans make the
jobs (``plans.py``), the runner chooses the plane (``runner.py``).

- **Bounded**: an item is pulled from the input only when one of ``concurrency`` slots is free,
  so a generator of any length runs in memory bounded by the concurrency (plus the list-based
  verifier's windows). The worker pool has ``concurrency`` threads.
- **Failures**: an item whose preparation or call raises any ``Exception`` (a botocore or
  resilient_s3 error, a local ``OSError``/``ValueError``, or whatever the caller's file object
  raises while it is read) fails alone; the others go on (``fail_fast`` stops pulling new
  items after the first failure). An exception raised by the caller's iterator or progress
  callback, or by the engine itself, stops the batch like a cancellation, then propagates.
- **One key at a time**: a put item whose key is still being written or verified by an earlier
  item of the batch fails as a duplicate (:meth:`claim`).
- **Cancellation** (task cancelled, Ctrl-C in the sync methods): no item is pulled and no
  request sent any more (worker threads waiting for a token are woken; the request hook refuses
  new requests); requests in flight get ``cancel_grace`` seconds to finish, then are abandoned
  (their worker threads are daemons: an abandoned request never keeps the process alive);
  multipart uploads still open are aborted; the report (``stopped="cancelled"``) is attached to
  the ``CancelledError``/``KeyboardInterrupt`` as ``resilient_s3_report`` and sent as the
  ``"finished"`` progress event.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import MappingProxyType
from typing import Any, Protocol

from ..._workers import DaemonThreadPool
from .._options import Options
from .._pacing.context import RequestContext
from .._pacing.pacer import BatchCancelled
from .._report.progress import Progress
from .._report.report import (
    KEPT_TRACEBACKS,
    BatchReport,
    BatchStats,
    ItemFailure,
    ItemResult,
    attach_report,
)
from .jobs import BadItem, Job

__all__ = ["Engine", "Unfinished"]

logger = logging.getLogger("resilient_s3")


class Unfinished(Protocol):
    """Work the engine's items leave behind (a list verifier's windows)."""

    def flush(self) -> bool:
        """Start what waits; whether there was anything."""

    def pending_keys(self) -> list[str]:
        """Keys whose work is not finished (reported incomplete if the batch stops)."""


class Engine:
    """Runs one batch on the running event loop (see the module docstring).

    ``plane`` names the data plane in the report; ``worker_init`` runs first in every worker
    thread (the threaded plane's request context).
    """

    def __init__(
        self,
        operation: str,
        context: RequestContext,
        options: Options,
        progress: Progress,
        abort_upload: Callable[[str, str, str], None],
        plane: str = "botocore",
        worker_init: Callable[[], None] | None = None,
    ) -> None:
        self.operation = operation
        self.context = context
        self.plane = plane
        self._worker_init = worker_init
        self.options = options
        self.progress = progress
        self._abort_upload = abort_upload
        self._slots = asyncio.Semaphore(options.concurrency)
        self._tasks: dict[asyncio.Task[None], tuple[str, ...]] = {}
        self._stopping: str | None = None
        self._fatal: BaseException | None = None
        self._incomplete: list[str] = []
        self._succeeded = self._bytes = 0
        self._failures: list[ItemFailure] = []
        self._results: list[ItemResult] = []
        self._data: dict[str, bytes] = {}
        self._claimed: set[tuple[str, str]] = set()
        self._executor: DaemonThreadPool | None = None
        self.verified = self.reuploads = self.unverified = 0
        self._pending: list[Unfinished] = []

    def leaves(self, pending: Unfinished) -> None:
        """Register work the items leave behind (a list verifier): flushed before the batch
        ends, its keys reported incomplete if the batch stops."""
        self._pending.append(pending)

    def flush(self) -> bool:
        """Start what the registered :class:`Unfinished` hold; whether anything was started."""
        return any([pending.flush() for pending in self._pending])

    def pending_keys(self) -> list[str]:
        """Keys whose work is registered but not finished."""
        return [key for pending in self._pending for key in pending.pending_keys()]

    async def run(
        self, source: Iterator[Any] | AsyncIterator[Any], make_job: Callable[[Any], Job]
    ) -> BatchReport:
        """Run every item of ``source`` (``make_job`` turns one into a :class:`Job`)."""
        started = time.monotonic()
        self._executor = DaemonThreadPool(
            self.options.concurrency, "resilient-s3-batch", self._worker_init
        )
        try:
            self.progress.started()
            await self._feed(source, make_job)
            await self._drain()
        except BaseException as error:  # cancellation, Ctrl-C, or a bug: stop, then re-raise
            stopped = "cancelled" if isinstance(error, (asyncio.CancelledError,)) else "error"
            report = await self._shutdown(stopped, started)
            attach_report(error, report)
            try:
                self._finish(report)
            except Exception:  # the progress callback failing again: the first error wins
                logger.warning("batch %s: progress callback failed", self.operation, exc_info=True)
            raise
        finally:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self.progress.close()
        report = self._report(started, self._stopping, ())
        self._finish(report)
        return report

    async def submit(self, job: Job) -> None:
        """Run ``job`` when a slot is free (verifiers re-submit writes through this)."""
        await self._slots.acquire()
        self._spawn(self._run_job(job), job.keys)

    async def run_in_worker(self, call: Callable[[], Any]) -> Any:
        """Run ``call`` in a worker thread without a slot (an input listing: the feed holds one)."""
        return await self._in_worker(call)

    async def run_in_slot(self, call: Callable[[], Any], awaited: bool = False) -> Any:
        """Run ``call`` in a worker thread (``awaited``: await it on the loop), holding a slot."""
        async with self._slots:
            return await (call() if awaited else self._in_worker(call))

    def _in_worker(self, call: Callable[[], Any]) -> asyncio.Future[Any]:
        """``call`` in a worker, in this task's context (the batch span is its calls' parent)."""
        run = contextvars.copy_context().run  # as asyncio.to_thread does
        return asyncio.get_running_loop().run_in_executor(self._executor, run, call)

    def spawn(self, coroutine: Awaitable[None], keys: tuple[str, ...] = ()) -> None:
        """Run ``coroutine`` as a task of this batch (awaited before the batch ends)."""
        self._spawn(coroutine, keys)

    def claim(self, bucket: str, key: str) -> bool:
        """Mark ``key`` as being written until its item settles; ``False`` if it already is."""
        if (bucket, key) in self._claimed:
            return False
        self._claimed.add((bucket, key))
        return True

    def succeed(self, result: ItemResult) -> None:
        """Settle one item as completed."""
        self._claimed.discard((result.bucket, result.key))
        self._succeeded += 1
        size = result.size or 0
        self._bytes += size
        if result.data is not None:
            self._data[result.key] = result.data
        if self.options.keep_results:
            self._results.append(result)
        self.progress.succeeded(result.key, size)

    def fail(
        self, bucket: str | None, key: str, error: BaseException, release: bool = True
    ) -> None:
        """Settle one item as failed with ``error`` (``release``: its key's claim ends; not for
        an item refused before it claimed its key)."""
        if release:
            self._claimed.discard((bucket or "", key))
        if len(self._failures) >= KEPT_TRACEBACKS:
            error.__traceback__ = None  # frames keep locals (bodies): keep memory bounded
        failure = ItemFailure.of(self.operation, bucket, key, error)
        self._failures.append(failure)
        self.progress.failed_item(failure)
        if self.options.fail_fast and self._stopping is None:
            self._stopping = "fail_fast"

    async def _feed(
        self, source: Iterator[Any] | AsyncIterator[Any], make_job: Callable[[Any], Job]
    ) -> None:
        while self._stopping is None:
            await self._slots.acquire()
            try:
                raw = await source.__anext__() if hasattr(source, "__anext__") else next(source)
            except (StopIteration, StopAsyncIteration):
                self._slots.release()
                return
            if self._fatal is not None or self._stopping is not None:
                self._slots.release()
                break
            try:
                job = make_job(raw)
            except BadItem as bad:
                self._slots.release()
                self.fail(bad.bucket, bad.key, bad.error, release=False)
                continue
            self._spawn(self._run_job(job), job.keys)
        if self._fatal is not None:
            raise self._fatal

    async def _drain(self) -> None:
        while True:
            while self._tasks:
                await asyncio.wait(list(self._tasks))
                if self._fatal is not None:
                    raise self._fatal
            if not self.flush():
                return

    async def _run_job(self, job: Job) -> None:
        try:
            if job.awaited:
                result = await job.call()
            else:
                result = await self._in_worker(job.call)
        except BatchCancelled:
            self._incomplete.extend(job.keys)
            return
        except Exception as error:  # noqa: BLE001 - the item's own failure, whatever it is
            for key in job.keys:
                self.fail(job.bucket, key, error)
            return
        finally:
            self._slots.release()
        if job.done is not None:
            await job.done(result)
        else:
            self.succeed(result)

    def _spawn(self, coroutine: Awaitable[None], keys: tuple[str, ...]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks[task] = keys
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)
        if not task.cancelled() and task.exception() is not None and self._fatal is None:
            self._fatal = task.exception()
            self._stopping = self._stopping or "error"

    async def _shutdown(self, stopped: str, started: float) -> BatchReport:
        """Stop: no new requests, a grace period for those in flight, open uploads aborted."""
        self._stopping = stopped
        self.context.pacer.cancel()
        abandoned: list[str] = []
        try:
            if self._tasks:
                _, pending = await asyncio.wait(
                    list(self._tasks), timeout=self.options.cancel_grace
                )
                for task in pending:
                    abandoned.extend(self._tasks.get(task, ()))
                    task.cancel()
            unverified = self.pending_keys()
            uploads = self.context.open_uploads()
            if uploads:
                aborts = DaemonThreadPool(1, "resilient-s3-abort")  # never joined at exit
                loop = asyncio.get_running_loop()
                try:
                    await asyncio.wait_for(
                        loop.run_in_executor(aborts, self._abort_all, uploads),
                        self.options.cancel_grace,
                    )
                finally:
                    aborts.shutdown(wait=False)
        except (asyncio.CancelledError, asyncio.TimeoutError):
            logger.warning("batch %s: stopped without waiting for cleanup", self.operation)
            abandoned.extend(k for keys in self._tasks.values() for k in keys)
            unverified = self.pending_keys()
        incomplete = tuple(dict.fromkeys([*self._incomplete, *abandoned, *unverified]))
        return self._report(started, stopped, incomplete)

    def _abort_all(self, uploads: list[tuple[str, str, str]]) -> None:
        for bucket, key, upload_id in uploads:
            self._abort_upload(bucket, key, upload_id)

    def _finish(self, report: BatchReport) -> None:
        self.progress.finished(report)

    def _report(
        self, started: float, stopped: str | None, incomplete: tuple[str, ...]
    ) -> BatchReport:
        context, adaptive = self.context, self.context.pacer.adaptive
        stats = BatchStats(
            items=self._succeeded + len(self._failures),
            succeeded=self._succeeded,
            failed=len(self._failures),
            bytes=self._bytes,
            seconds=time.monotonic() - started,
            requests=context.requests,
            retries=MappingProxyType(dict(context.retries)),
            throttled=context.throttled,
            verified=self.verified,
            reuploads=self.reuploads,
            unverified=self.unverified,
            list_requests=context.list_requests,
            adaptive_rate=adaptive.rate if adaptive is not None else None,
            plane=self.plane,
        )
        return BatchReport(
            self.operation, self._succeeded, tuple(self._failures), stats,
            tuple(self._results), MappingProxyType(self._data), stopped, incomplete,
        )  # fmt: skip
