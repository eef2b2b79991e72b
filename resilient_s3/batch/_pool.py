"""A facade whose connection pool holds at least as many connections as a batch's workers.

With more threads than pooled connections, urllib3 opens a connection for each extra request
and throws it away afterwards ("Connection pool is full, discarding connection"): connection
churn. A botocore client's pool size is fixed at creation, so when a batch asks for more
concurrency than the client's ``max_pool_connections``, its calls go through a second boto3
client built like the first with a bigger pool (once per client and size), wrapped in a facade
that shares the first one's stats, retry budget and recent writes.

The second client gets the first one's region, the endpoint URL the caller gave (if any), its
``Config`` (addressing style, timeouts, checksums...), its TLS verification setting and the
very same credentials object (refreshable credentials keep refreshing). Handlers the caller
registered on the first client's events are not copied.
"""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore.client import BaseClient
from botocore.config import Config

from .._client import ResilientS3Client
from .._config import disable_botocore_retries
from ._state import ClientState

__all__ = ["pool_size", "with_pool"]


def pool_size(client: BaseClient) -> int:
    """The client's ``max_pool_connections`` (botocore's default: 10)."""
    size = getattr(client.meta.config, "max_pool_connections", None)
    return int(size) if size else 10


def with_pool(s3: ResilientS3Client, size: int, state: ClientState) -> ResilientS3Client:
    """``s3`` if its pool holds ``size`` connections, else a facade over a bigger-pool clone."""
    if pool_size(s3.inner) >= size:
        return s3
    inner = state.pooled(size, lambda: clone_client(s3.inner, size))
    shared = s3._shared  # same stats, budget and recent writes (the facade's own constructor)
    return ResilientS3Client(inner, s3.retry_policy, s3.verify_policy, _shared=shared)


def clone_client(inner: BaseClient, size: int) -> BaseClient:
    """A new boto3 S3 client configured as ``inner``, with ``max_pool_connections=size``."""
    private: Any = inner
    resolver = getattr(private, "_ruleset_resolver", None)
    endpoint_url = getattr(resolver, "_builtins", {}).get("SDK::Endpoint")
    http_session = getattr(getattr(private, "_endpoint", None), "http_session", None)
    tls_verify = getattr(http_session, "_verify", None)
    config = inner.meta.config.merge(Config(max_pool_connections=size))
    clone: Any = botocore.session.Session().create_client(
        "s3",
        region_name=inner.meta.region_name,
        endpoint_url=endpoint_url,
        verify=tls_verify,
        config=config,
        aws_access_key_id="placeholder",  # replaced below by the original's credentials object
        aws_secret_access_key="placeholder",
    )
    clone._request_signer._credentials = private._get_credentials()
    disable_botocore_retries(clone)
    result: BaseClient = clone
    return result
