"""The native transport: awscrt's S3 client, its retries off, under our retries.

Importing this package does not import awscrt: :func:`crt_unavailable` says whether it can run.
"""

from __future__ import annotations

import functools

__all__ = ["crt_unavailable"]


@functools.cache
def crt_unavailable() -> str | None:
    """Why the native transport cannot run in this process (awscrt not installed, failing to
    import, or lacking something the transport uses: ``support.py``), or ``None``. Asked once
    per process."""
    from .support import missing

    return missing()
