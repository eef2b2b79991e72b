"""botocore ``Config`` for a resilient client: the caller's settings, our defaults, no retries.

Precedence, lowest first: our defaults (below) < what the caller's ``Config`` set explicitly <
the ``max_pool_connections=`` keyword. Whatever the caller set, botocore's own retries are
switched off, so retries never stack: ``total_max_attempts=1`` in the ``Config`` (an attempt
count the caller set there is ignored with a WARNING, the rest of the caller's ``retries`` dict,
``mode``, is kept), and botocore's retry handler unregistered from the client
(:func:`disable_botocore_retries`): with one attempt allowed, that handler would still mark every
error ``MaxAttemptsReached`` and add "(reached max retries: 0)" to its message, which plain
boto3 does not.
"""

from __future__ import annotations

import logging
from typing import Any

from botocore.client import BaseClient
from botocore.config import Config

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_POOL_CONNECTIONS",
    "DEFAULT_READ_TIMEOUT",
    "disable_botocore_retries",
    "note_small_pool",
    "pool_size",
    "resilient_config",
]

logger = logging.getLogger("resilient_s3")

#: Connections kept per client: covers 64 threads sharing one client without urllib3
#: discarding connections ("Connection pool is full"). botocore's default is 10.
DEFAULT_MAX_POOL_CONNECTIONS = 64
#: Seconds to establish a TCP (and TLS) connection. botocore's default is 60; a connect that
#: takes longer than this on a working network has failed, and retrying it is always safe.
DEFAULT_CONNECT_TIMEOUT = 10.0
#: Seconds without a byte from the server before a read fails (botocore's default, kept: large
#: CopyObject and CompleteMultipartUpload calls can be slow to answer).
DEFAULT_READ_TIMEOUT = 60.0


#: ``Config(retries=...)`` keys that set botocore's attempt count: replaced by ours.
_ATTEMPT_KEYS = frozenset({"max_attempts", "total_max_attempts"})


def resilient_config(user: Config | None, max_pool_connections: int | None) -> Config:
    """Merge the caller's ``Config`` with our defaults and switch botocore's retries off."""
    if max_pool_connections is not None and max_pool_connections < 1:
        raise ValueError(f"max_pool_connections must be >= 1, got {max_pool_connections}")
    config = Config(
        max_pool_connections=DEFAULT_MAX_POOL_CONNECTIONS,
        connect_timeout=DEFAULT_CONNECT_TIMEOUT,
        read_timeout=DEFAULT_READ_TIMEOUT,
    )
    retries: dict[str, Any] = {}
    if user is not None:
        config = config.merge(user)
        user_retries = getattr(user, "retries", None) or {}
        retries = {k: v for k, v in user_retries.items() if k not in _ATTEMPT_KEYS}
        ignored = {k: v for k, v in user_retries.items() if k in _ATTEMPT_KEYS}
        if ignored:
            logger.warning(
                "Config(retries=%r) is ignored: botocore's retries are off and "
                "resilient_s3.RetryPolicy decides (pass retry=RetryPolicy(...), or "
                "RetryPolicy.no_retries() for one attempt per call)",
                ignored,
            )
    retries["total_max_attempts"] = 1
    config = config.merge(Config(retries=retries))  # type: ignore[arg-type]
    if max_pool_connections is not None:
        config = config.merge(Config(max_pool_connections=max_pool_connections))
    return config


def disable_botocore_retries(client: BaseClient) -> None:
    """Switch off the retry handler botocore registered on an existing client.

    botocore registers its retry handler (legacy, standard and adaptive modes alike) on
    ``needs-retry.<service>`` with the unique id ``retry-config-<service>``.
    """
    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.unregister(f"needs-retry.{service}", unique_id=f"retry-config-{service}")


def note_small_pool(client: BaseClient) -> None:
    """One INFO line when a wrapped client keeps fewer connections than our default."""
    pool = getattr(client.meta.config, "max_pool_connections", None)
    if pool is not None and pool < DEFAULT_MAX_POOL_CONNECTIONS:
        logger.info(
            "wrapped client has max_pool_connections=%d; more concurrent requests than that "
            "churn connections (use resilient_s3.client(...) or Config(max_pool_connections=%d))",
            pool,
            DEFAULT_MAX_POOL_CONNECTIONS,
        )


def pool_size(client: BaseClient) -> int:
    """A boto3 client's ``max_pool_connections`` (botocore's default: 10)."""
    size = getattr(client.meta.config, "max_pool_connections", None)
    return int(size) if size else 10
