"""``s3.batch``: many objects at once, concurrent, rate-limited, verified, with a report.

    from resilient_s3.batch import BatchClient
    report = BatchClient(s3).put("bucket", {"a": b"1", "b": b"2"})   # s3.batch.put(...)
    report.raise_for_failures()

Sync methods (``put``, ``get``, ``delete``, ``copy``, ``head``, ``upload_dir``,
``download_prefix``) and their ``*_async`` twins; see docs/batch.md.
"""

from ._client import BatchClient, CopyItems, Keys, PutItems
from ._inputs.items import Body, CopyItem, PutItem
from ._options import DEFAULT_CONCURRENCY, BatchOptions, VerifyArg
from ._pacing.adaptive import AdaptivePolicy
from ._report.progress import BatchEvent
from ._report.report import BatchError, BatchReport, BatchStats, ItemFailure, ItemResult

__all__ = [
    "DEFAULT_CONCURRENCY",
    "AdaptivePolicy",
    "BatchClient",
    "BatchError",
    "BatchEvent",
    "BatchOptions",
    "BatchReport",
    "BatchStats",
    "Body",
    "CopyItem",
    "CopyItems",
    "ItemFailure",
    "ItemResult",
    "Keys",
    "PutItem",
    "PutItems",
    "VerifyArg",
]
