"""A facade whose connection pool holds at least as many connections as a batch's workers.

With more threads than pooled connections, urllib3 opens a connection for each extra request
and throws it away afterwards ("Connection pool is full, discarding connection"): connection
churn. A botocore client's pool size is fixed at creation, so when a batch asks for more
concurrency than the client's ``max_pool_connections``:

- a client made by :func:`resilient_s3.client` is built again through boto3's public API, by
  the recipe ``client()`` kept: ``session.client("s3", **the same arguments,
  config=config.merge(Config(max_pool_connections=concurrency)))``, once per client and size.
  Same session (refreshable credentials keep refreshing), endpoint, region, TLS setting and
  ``Config``; botocore's retries stay off. It is wrapped in a facade sharing the first one's
  stats, retry budget and recent writes. Handlers the caller registered on the first client's
  events are not copied.
- a client given to :func:`resilient_s3.wrap` has no recipe, and its credentials cannot be read
  through a public API: the batch runs on it as it is, at the concurrency asked for, and logs
  one WARNING per client naming the fix (``Config(max_pool_connections=N)``), as a boto3 thread
  pool over that client would churn connections too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from botocore.client import BaseClient
from botocore.config import Config

from ...._client import ResilientS3Client
from ...._factory import rebuilder
from ..._engine.state import ClientState

__all__ = ["pool_size", "with_pool"]

logger = logging.getLogger("resilient_s3")


def pool_size(client: BaseClient) -> int:
    """The client's ``max_pool_connections`` (botocore's default: 10)."""
    size = getattr(client.meta.config, "max_pool_connections", None)
    return int(size) if size else 10


def with_pool(s3: ResilientS3Client, size: int, state: ClientState) -> ResilientS3Client:
    """``s3`` if its pool holds ``size`` connections, else a facade over a bigger-pool copy of
    its boto3 client (``s3`` itself, with one WARNING, when there is no recipe for a copy)."""
    current = pool_size(s3.inner)
    if current >= size:
        return s3
    build = rebuilder(s3.inner)
    if build is None:
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
    inner = state.pooled(size, lambda: _build(build, size))
    shared = s3._shared  # same stats, budget and recent writes (the facade's own constructor)
    return ResilientS3Client(inner, s3.retry_policy, s3.verify_policy, _shared=shared)


def _build(build: Callable[[Config], BaseClient], size: int) -> BaseClient:
    inner = build(Config(max_pool_connections=size))
    return inner
