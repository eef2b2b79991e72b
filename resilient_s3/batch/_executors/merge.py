"""One :class:`BatchReport` from the reports of a batch's chunks (each run on a worker)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from ..._retry.classify import classify
from .._report.report import BatchReport, BatchStats, ItemFailure

__all__ = ["chunk_failed", "merge_reports"]


def merge_reports(
    operation: str,
    reports: Iterable[BatchReport],
    seconds: float,
    stopped: str | None,
    lost: Iterable[ItemFailure] = (),
) -> BatchReport:
    """The sum of ``reports`` plus ``lost`` (the items of chunks that raised), over ``seconds``
    of wall time; ``stopped`` if the driver stopped early, else the first chunk's reason."""
    reports = list(reports)
    failed = [failure for report in reports for failure in report.failed] + list(lost)
    succeeded = sum(report.succeeded for report in reports)
    retries: Counter[str] = Counter()
    for report in reports:
        retries.update(report.stats.retries)
    rates = [r.stats.adaptive_rate for r in reports if r.stats.adaptive_rate is not None]
    stats = BatchStats(
        items=succeeded + len(failed),
        succeeded=succeeded,
        failed=len(failed),
        bytes=sum(r.stats.bytes for r in reports),
        seconds=seconds,
        requests=sum(r.stats.requests for r in reports),
        retries=dict(retries),
        throttled=sum(r.stats.throttled for r in reports),
        verified=sum(r.stats.verified for r in reports),
        reuploads=sum(r.stats.reuploads for r in reports),
        list_requests=sum(r.stats.list_requests for r in reports),
        adaptive_rate=min(rates) if rates else None,
    )
    data: dict[str, bytes] = {}
    for report in reports:
        data.update(report.data)
    if stopped is None:
        stopped = next((r.stopped for r in reports if r.stopped is not None), None)
    return BatchReport(
        operation,
        succeeded,
        tuple(failed),
        stats,
        tuple(result for report in reports for result in report.results),
        data,
        stopped,
        tuple(key for report in reports for key in report.incomplete),
    )


def chunk_failed(
    operation: str, keys: Iterable[tuple[str | None, str]], error: BaseException
) -> list[ItemFailure]:
    """Every item of a chunk whose task raised (a bug, or Dask gave up on it: KilledWorker)."""
    kind = classify(error)
    return [ItemFailure(key, kind, error, 0, bucket, operation) for bucket, key in keys]
