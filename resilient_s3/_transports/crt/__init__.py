"""The native transport: awscrt's S3 client, its retries off, under our retries.

Importing this package does not import awscrt: :func:`crt_unavailable` says whether it can run.
"""

from __future__ import annotations

import functools

from .support import disabled_reason

__all__ = ["crt_unavailable"]


def crt_unavailable() -> str | None:
    """Why the native transport cannot run in this process (``BOTO_DISABLE_CRT=true``; awscrt
    not installed, failing to import, or lacking something the transport uses: ``support.py``),
    or ``None``."""
    return disabled_reason() or _installed()


@functools.cache
def _installed() -> str | None:
    from .support import missing

    return missing()
