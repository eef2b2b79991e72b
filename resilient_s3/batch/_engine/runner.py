"""Run a planned batch: on the caller's event loop (``*_async``) or, for the sync methods, on
the client's background loop while the calling thread waits.

The sync methods never touch the caller's event loop, so they work the same from plain code,
from any thread, and from inside a running loop (Jupyter), without "event loop is running"
errors. Ctrl-C while waiting cancels the batch on the background loop, waits for it to stop
(a second Ctrl-C stops waiting) and re-raises ``KeyboardInterrupt`` carrying the report as
``resilient_s3_report``.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import functools
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ..._retry.policy import RetryEvent
from ..._verify.policy import VerifyPolicy
from .._options import Options
from .._pacing.context import RequestContext
from .._pacing.pacer import Pacer
from .._pacing.worker_hooks import install_hooks, set_context
from .._planes.base import Plane
from .._planes.native import native_plane, wants_native
from .._planes.pool import with_pool
from .._planes.threaded import BotocorePlane
from .._report.progress import Progress
from .._report.report import BatchReport, Summarized, attach_report
from .engine import Engine
from .jobs import Job
from .state import ClientState

if TYPE_CHECKING:
    from ..._client import ResilientS3Client
    from ..._shared import SharedParts

__all__ = ["Plan", "run_plan", "run_sync"]

Source = Iterator[Any] | AsyncIterator[Any]
#: What a sync method returns: a batch's report (or a sync's).
R = TypeVar("R", bound=Summarized)


@dataclass(frozen=True)
class Plan:
    """A checked batch, ready to run.

    Attributes:
        operation: the report's operation name.
        options: the checked options.
        verify: the facade's verify policy for the batch's calls (off for list-based).
        total: the item count, when known.
        setup: ``setup(engine, s3, plane) -> (source, make_job)``, with the batch's facade and
            data plane.
        bucket: the bucket, for the batch's span (``None`` for copy: several may be involved).
        crt_refusal: why the native data plane cannot serve this batch, or ``None``.
    """

    operation: str
    options: Options
    verify: VerifyPolicy
    total: int | None
    setup: Callable[[Engine, ResilientS3Client, Plane], tuple[Source, Callable[[Any], Job]]]
    bucket: str | None = None
    crt_refusal: str | None = None


async def run_plan(s3: ResilientS3Client, shared: SharedParts, plan: Plan) -> BatchReport:
    """Run ``plan`` on the running loop through ``s3`` (``shared``: its shared parts)."""
    state = shared.batch_state()
    options = plan.options
    loop = asyncio.get_running_loop()
    adaptive = state.adaptive(options.adaptive) if options.adaptive is not None else None
    pacer = Pacer(
        loop,
        state.limiters(loop),
        options.rate_limit,
        options.bytes_per_second,
        adaptive,
        options.shared,
    )
    crt = wants_native(options.data_plane, _crt_refusal(plan, state, s3), s3, state)
    # The botocore plane needs a pool as large as the batch; the CRT plane keeps its own
    # connections and uses botocore only for list verification and deletes.
    base = s3 if crt else with_pool(s3, options.concurrency, state)
    install_hooks(base.inner)
    context = RequestContext(pacer, base.retry_policy.tables)
    retry = dataclasses.replace(
        base.retry_policy, on_retry=_chain(base.retry_policy.on_retry, context.on_retry)
    )
    batch_s3 = base.with_options(retry=retry, verify_writes=plan.verify)

    def abort(bucket: str, key: str, upload_id: str) -> None:
        batch_s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)

    progress = Progress(plan.operation, options.progress, plan.total)
    worker_init = functools.partial(set_context, context)
    name = "crt" if crt else "botocore"
    engine = Engine(plan.operation, context, options, progress, abort, name, worker_init)
    plane: Plane = (
        native_plane(batch_s3, shared, context, options.concurrency, engine.run_in_worker)
        if crt
        else BotocorePlane(batch_s3)
    )
    source, make_job = plan.setup(engine, batch_s3, plane)
    telemetry = state.telemetry
    if telemetry is None:
        return await engine.run(source, make_job)
    if adaptive is not None:
        telemetry.watch_rate(adaptive)
    with telemetry.batch(plan.operation, plan.bucket, plane.name) as scope:
        report = await engine.run(source, make_job)
        scope.finished(report)
    return report


def run_sync(state: ClientState, coroutine: Coroutine[Any, Any, R]) -> R:
    """Run ``coroutine`` on the client's background loop and wait for it (see the module
    docstring for Ctrl-C)."""
    background = state.background()
    if threading.current_thread() is background.thread:
        coroutine.close()
        raise RuntimeError(
            "a sync batch method was called from the batch loop's thread (a progress callback "
            "or an input generator): use the *_async method there"
        )
    done = threading.Event()
    holder: dict[str, Any] = {}

    async def guarded() -> R:
        try:
            return await coroutine
        except asyncio.CancelledError as cancelled:
            holder["report"] = getattr(cancelled, "resilient_s3_report", None)
            raise

    def start() -> None:
        task = background.loop.create_task(guarded())
        holder["task"] = task
        task.add_done_callback(lambda _: done.set())

    # The caller's context goes with the batch (its current span is the batch span's parent).
    background.loop.call_soon_threadsafe(start, context=contextvars.copy_context())
    try:
        done.wait()
    except KeyboardInterrupt as interrupt:
        background.loop.call_soon_threadsafe(lambda: holder["task"].cancel())
        done.wait()  # a second Ctrl-C stops waiting
        report = holder.get("report")
        if report is not None:
            attach_report(interrupt, report)
        raise
    task: asyncio.Task[R] = holder["task"]
    if task.cancelled():
        raise asyncio.CancelledError("the batch was cancelled on its background loop")
    error = task.exception()
    if error is not None:
        raise error
    return task.result()


def _crt_refusal(plan: Plan, state: ClientState, s3: ResilientS3Client) -> str | None:
    """Why the CRT plane cannot serve ``plan`` for this client, or ``None``."""
    telemetry = state.telemetry
    if telemetry is not None and telemetry.policy.batch_item_spans:
        return "telemetry batch_item_spans=True asks for a span per botocore call"
    if s3.rate_limit is not None:  # its botocore hook would not see the CRT's requests
        return "the client paces every botocore request with client(rate_limit=...)"
    return plan.crt_refusal


def _chain(
    first: Callable[[RetryEvent], None] | None, second: Callable[[RetryEvent], None]
) -> Callable[[RetryEvent], None]:
    if first is None:
        return second

    def both(event: RetryEvent) -> None:
        second(event)
        first(event)

    return both
