"""``s3.batch.put/get/copy/delete/head(..., executor=distributed_client)``: a batch on a Dask
cluster (docs/distributed.md).

The driver consumes the input lazily, ``chunk_size`` items at a time, and submits each chunk as
one task (``run_chunk``) with the pickled facade, keeping at most ``2 x`` the cluster's worker
threads of chunks in flight: memory on the driver stays bounded whatever the input's length.
Each worker runs the ordinary batch engine on its chunk (rate limits, adaptive rate,
verification), and the driver merges the chunk reports into one :class:`BatchReport`.

- A worker that dies mid-chunk: Dask runs the task again on another worker (up to its
  ``allowed-failures``); every operation of a batch is idempotent (a put writes the same bytes,
  a delete of a deleted key succeeds) and list verification checks what the server holds, so
  a re-run chunk neither loses nor duplicates anything. A chunk Dask gives up on has each of
  its items reported as failed, with the error.
- Ctrl-C on the driver (or an exception there) sets the batch's ``distributed.Event``: running
  chunks cancel their batch within ``POLL_SECONDS``, queued ones are cancelled, and
  ``KeyboardInterrupt`` is raised with the merged report as ``resilient_s3_report``.
- ``fail_fast``: no chunk is submitted after a chunk reports a failure.

``distributed`` is imported only when ``executor=`` is given.
"""

from __future__ import annotations

import importlib
import itertools
import pickle
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._inputs.items import raw_items, to_copy_item
from .._options import BatchOptions, Options
from .._report.report import BatchReport, ItemFailure, attach_report
from .chunk import run_chunk
from .merge import chunk_failed, merge_reports

if TYPE_CHECKING:
    from ..._client import ResilientS3Client

__all__ = ["DEFAULT_CHUNK_SIZE", "run_on_cluster"]

#: Items per task by default.
DEFAULT_CHUNK_SIZE = 250
#: Seconds to wait for the chunks to stop once the driver was interrupted.
_STOP_TIMEOUT = 60.0
_OPERATIONS = frozenset({"put", "get", "delete", "copy", "head"})


def run_on_cluster(
    s3: ResilientS3Client,
    operation: str,
    head: Sequence[Any],
    items: Any,
    tail: Sequence[Any],
    options: Mapping[str, Any],
) -> BatchReport:
    """Run ``s3.batch.<operation>(*head, items, *tail, **options)`` on ``options["executor"]``."""
    options = dict(options)
    executor = options.pop("executor")
    chunk_size = options.pop("chunk_size", DEFAULT_CHUNK_SIZE)
    _check(s3, operation, executor, chunk_size, items, options)
    first = head[0] if head else None
    event_name = f"resilient-s3-cancel-{uuid.uuid4().hex}"
    limit = max(2, 2 * sum(executor.nthreads().values()))
    started = time.monotonic()
    distributed: Any = importlib.import_module("distributed")  # untyped; imported on use
    pending: dict[Any, list[tuple[str | None, str]]] = {}
    done = distributed.as_completed()
    reports: list[BatchReport] = []
    lost: list[ItemFailure] = []
    stopped: str | None = None

    def collect_one() -> None:
        future = next(done)
        keys = pending.pop(future)
        try:
            reports.append(future.result())
        # The task raised: any type a worker raised comes back (KilledWorker, a bug); its items
        # are reported failed with it, and the other chunks' reports are kept.
        except Exception as error:  # noqa: BLE001
            lost.extend(chunk_failed(operation, keys, error))

    try:
        for chunk in _chunks(items, chunk_size):
            while len(pending) >= limit:
                collect_one()
            if options.get("fail_fast") and (lost or any(r.failed for r in reports)):
                stopped = "fail_fast"
                break
            future = executor.submit(
                run_chunk, s3, operation, head, chunk, tail, options, event_name, pure=False
            )
            pending[future] = [_target(operation, first, raw) for raw in chunk]
            done.add(future)
        while pending:
            collect_one()
    except BaseException as error:  # Ctrl-C or a failing input: stop the workers, then re-raise
        # Running chunks see the event within POLL_SECONDS and cancel their batch (cancelling
        # their futures would not stop them: Dask cannot interrupt a running task); queued
        # chunks see it before they start and return at once.
        distributed.Event(event_name, client=executor).set()
        for future in list(pending):
            keys = pending.pop(future)
            try:
                reports.append(future.result(timeout=_STOP_TIMEOUT))
            except Exception as chunk_error:  # noqa: BLE001 (it raised, or did not stop in time)
                lost.extend(chunk_failed(operation, keys, chunk_error))
        reason = "cancelled" if isinstance(error, KeyboardInterrupt) else "error"
        attach_report(error, merge_reports(operation, reports, _since(started), reason, lost))
        raise
    return merge_reports(operation, reports, _since(started), stopped, lost)


def _since(started: float) -> float:
    return time.monotonic() - started


def _check(
    s3: ResilientS3Client,
    operation: str,
    executor: Any,
    chunk_size: Any,
    items: Any,
    options: Mapping[str, Any],
) -> None:
    """Raise before anything is submitted: bad options, a client that cannot be pickled."""
    if operation not in _OPERATIONS:
        raise TypeError(f"executor= works with put, get, delete, copy and head, not {operation}")
    if not callable(getattr(executor, "submit", None)) or not hasattr(executor, "nthreads"):
        raise TypeError(f"executor must be a distributed.Client, got {type(executor).__name__}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be an int >= 1, got {chunk_size!r}")
    if hasattr(items, "__aiter__"):
        raise TypeError("executor= takes a (sync) iterable of items, not an async iterable")
    if options.get("progress"):
        raise TypeError("progress= is not available with executor= (the chunks run remotely)")
    Options.of({k: v for k, v in options.items() if k in BatchOptions.__annotations__})
    pickle.dumps(s3)  # TypeError naming the fix for a wrap() client


def _target(operation: str, bucket: str | None, raw: Any) -> tuple[str | None, str]:
    """``(bucket, key)`` an item is reported under if its chunk fails as a whole."""
    if operation == "copy":
        try:
            item = to_copy_item(raw)
        except (TypeError, ValueError):  # a bad item: its chunk reports it anyway
            return None, repr(raw)[:100]
        return item.dst_bucket, item.dst_key
    if operation == "put":
        key = raw[0] if isinstance(raw, tuple) and raw else getattr(raw, "key", raw)
        return bucket, str(key)
    return bucket, str(raw)


def _chunks(items: Any, size: int) -> Iterator[list[Any]]:
    """Lists of up to ``size`` items, pulled lazily."""
    iterator = raw_items(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
