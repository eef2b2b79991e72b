"""resilient-s3: a drop-in boto3 S3 client that never loses an acknowledged write silently.

    import resilient_s3
    s3 = resilient_s3.client("s3", endpoint_url=..., region_name=...)   # was: boto3.client(...)

Every S3 operation, paginator, waiter, presign and managed transfer works as with boto3; errors
are classified (:func:`classify`) and retried per kind (:class:`RetryPolicy`), GetObject bodies
resume after a connection fails mid-body, and ``s3.stats`` counts what happened.
"""

from ._bodies.resumable import ResumableBody
from ._client import ResilientS3Client
from ._errors import (
    ObjectChangedError,
    ResilientS3Error,
    UnreplayableBodyError,
    VerificationError,
)
from ._factory import client, wrap
from ._retry.classify import DEFAULT_TABLES, ErrorKind, ErrorTables, classify
from ._retry.policy import (
    NON_IDEMPOTENT_OPERATIONS,
    Backoff,
    BudgetPolicy,
    RetryEvent,
    RetryPolicy,
)
from ._stats import StatsSnapshot
from ._verify.policy import VerifyPolicy

__version__ = "0.1.0"

#: Names of resilient_s3.batch re-exported here, imported on first use (PEP 562).
_BATCH_NAMES = frozenset({"BatchError", "BatchReport", "CopyItem", "PutItem"})


def __getattr__(name: str) -> object:
    if name in _BATCH_NAMES:
        from . import batch

        return getattr(batch, name)
    raise AttributeError(f"module 'resilient_s3' has no attribute {name!r}")


__all__ = [
    "DEFAULT_TABLES",
    "NON_IDEMPOTENT_OPERATIONS",
    "Backoff",
    "BatchError",
    "BatchReport",
    "BudgetPolicy",
    "CopyItem",
    "ErrorKind",
    "ErrorTables",
    "ObjectChangedError",
    "PutItem",
    "ResilientS3Client",
    "ResilientS3Error",
    "ResumableBody",
    "RetryEvent",
    "RetryPolicy",
    "StatsSnapshot",
    "UnreplayableBodyError",
    "VerificationError",
    "VerifyPolicy",
    "__version__",
    "classify",
    "client",
    "wrap",
]
