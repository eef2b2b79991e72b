"""The native transport: awscrt's S3 client, its retries off, under our retries.

Importing this package does not import awscrt: :func:`crt_unavailable` says whether it can run.
"""

from __future__ import annotations

import functools

from .support import forked_reason

__all__ = ["crt_unavailable"]


def crt_unavailable() -> str | None:
    """Why the native transport cannot run in this process (awscrt not installed, failing to
    import, or lacking something the transport uses; or this process is a forked child of one
    that ran it: ``support.py``), or ``None``."""
    return _installed() or forked_reason()


@functools.cache
def _installed() -> str | None:
    from .support import missing

    return missing()
