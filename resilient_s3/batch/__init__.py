"""``s3.batch``: many objects at once, concurrent, rate-limited, verified, with a report.

    report = s3.batch.put("bucket", {"a": b"1", "b": b"2"})   # s3: a resilient_s3 client
    report.raise_for_failures()

Sync methods (``put``, ``get``, ``delete``, ``copy``, ``head``, ``upload_dir``,
``download_prefix``, ``sync``) and their ``*_async`` twins; see docs/batch.md.
"""

from .._adaptive import AdaptivePolicy
from ._client import BatchClient, CopyItems, Keys, PutItems
from ._inputs.items import Body, CopyItem, PutItem
from ._options import DEFAULT_CONCURRENCY, BatchOptions, VerifyArg
from ._report.progress import BatchEvent
from ._report.report import BatchError, BatchReport, BatchStats, ItemFailure, ItemResult
from ._sync.names import SkippedName
from ._sync.report import SyncAction, SyncError, SyncReport

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
    "SkippedName",
    "SyncAction",
    "SyncError",
    "SyncReport",
    "VerifyArg",
]

# One home per public name (type aliases have no __module__ of their own to set).
for _name in __all__:
    _value = globals()[_name]
    if isinstance(_value, type):
        _value.__module__ = __name__
del _name, _value
