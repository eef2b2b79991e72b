"""The native transport: awscrt's S3 client, its retries off, under our retries.

Importing this package does not import awscrt: :func:`crt_unavailable` says whether it can run.
"""

from __future__ import annotations

__all__ = ["crt_unavailable"]


def crt_unavailable() -> str | None:
    """Why the native transport cannot run in this process (awscrt missing or too old), or
    ``None``."""
    try:
        import awscrt
        import awscrt.s3
    except ImportError as error:
        return f"awscrt is not importable ({error})"
    if not hasattr(awscrt.s3, "S3RetryMode"):  # its retries cannot be switched off before 0.38
        return f"awscrt {awscrt.__version__} cannot switch its own retries off (0.38 can)"
    return None
