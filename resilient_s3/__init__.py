"""resilient-s3: a drop-in boto3 S3 client that never loses an acknowledged write silently.

    import resilient_s3
    s3 = resilient_s3.client("s3", endpoint_url=..., region_name=...)   # was: boto3.client(...)

Every S3 operation, paginator, waiter, presign and managed transfer works as with boto3; errors
are classified (:func:`classify`) and retried per kind (:class:`RetryPolicy`), writes are read
back (:class:`VerifyPolicy`), GetObject bodies resume after a connection fails mid-body, and
``s3.stats`` counts what happened. Many objects at once: ``s3.batch`` (:mod:`resilient_s3.batch`).
A fault bench for your own tests: :mod:`resilient_s3.testing`.

The floor plan is in docs/architecture.md.
"""

import logging

from ._client import ResilientS3Client
from ._errors import (
    ObjectChangedError,
    ResilientS3Error,
    UnreplayableBodyError,
    VerificationError,
)
from ._factory import client, wrap
from ._fleet.limiter import SharedLimiter
from ._retry.classify import ErrorKind, ErrorTables, classify
from ._retry.policy import Backoff, BudgetPolicy, RetryEvent, RetryPolicy
from ._stats import StatsSnapshot
from ._telemetry import TelemetryPolicy
from ._verify.policy import VerifyPolicy

__version__ = "0.2.0"

# A library logs, an application decides where logs go: without this handler Python's "last
# resort" would print our WARNINGs on stderr in applications that configured no logging.
logging.getLogger("resilient_s3").addHandler(logging.NullHandler())

__all__ = [
    "Backoff",
    "BudgetPolicy",
    "ErrorKind",
    "ErrorTables",
    "ObjectChangedError",
    "ResilientS3Client",
    "ResilientS3Error",
    "RetryEvent",
    "RetryPolicy",
    "SharedLimiter",
    "StatsSnapshot",
    "TelemetryPolicy",
    "UnreplayableBodyError",
    "VerificationError",
    "VerifyPolicy",
    "__version__",
    "classify",
    "client",
    "wrap",
]

# One home per public name: shown as resilient_s3.RetryPolicy, not resilient_s3._retry.policy
# (as httpx/__init__.py does).
for _name in __all__:
    if not _name.startswith("__"):
        globals()[_name].__module__ = __name__
del _name
