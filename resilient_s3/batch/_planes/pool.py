"""A facade whose connection pool holds at least as many connections as a batch's workers.

With more threads than pooled connections, urllib3 opens a connection for each extra request
and throws it away afterwards ("Connection pool is full, discarding connection"): connection
churn. A botocore client's pool size is fixed at creation, so when a batch asks for more
concurrency than the client's ``max_pool_connections``:

- a client made by :func:`resilient_s3.client` gives one with a bigger pool,
  ``s3.with_options(max_pool_connections=concurrency)``: a copy of its boto3 client built
  through boto3's public API as ``client()`` built it (same session, so refreshable credentials
  keep refreshing; same endpoint, region, TLS setting and ``Config``; botocore's retries off),
  sharing the first one's stats, retry budget and recent writes. Handlers the caller registered
  on the first client's events are not copied.
- a client given to :func:`resilient_s3.wrap` has no recipe, and its credentials cannot be read
  through a public API: the batch runs on it as it is, at the concurrency asked for, and logs
  one WARNING per client naming the fix (``Config(max_pool_connections=N)``), as a boto3 thread
  pool over that client would churn connections too.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..._config import pool_size

if TYPE_CHECKING:
    from ..._client import ResilientS3Client
    from .._engine.state import ClientState

__all__ = ["with_pool"]

logger = logging.getLogger("resilient_s3")


def with_pool(s3: ResilientS3Client, size: int, state: ClientState) -> ResilientS3Client:
    """``s3`` if its pool holds ``size`` connections, else a facade over a bigger-pool copy of
    its boto3 client (``s3`` itself, with one WARNING, when there is no recipe for a copy)."""
    current = pool_size(s3.inner)
    if current >= size:
        return s3
    try:
        return s3.with_options(max_pool_connections=size)
    except ValueError:
        if state.first_warning("pool"):
            logger.warning(
                "s3.batch: concurrency %d is more than the wrapped boto3 client's "
                "max_pool_connections=%d, so requests beyond %d open and discard a connection "
                "each; build that client with Config(max_pool_connections=%d), or with "
                "resilient_s3.client(...), which batches can enlarge",
                size,
                current,
                current,
                size,
            )
        return s3
