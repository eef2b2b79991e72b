"""The botocore transport: one attempt through the boto3 client's own method.

botocore's retries are off in every client resilient_s3 makes or wraps (``_config.py``), so a
call of the client's method is one HTTP request: serialization, endpoint rules, signing,
checksums, event handlers the caller registered, parsing and errors are all botocore's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore import xform_name
from botocore.client import BaseClient

__all__ = ["BotocoreTransport"]


class BotocoreTransport:
    """Requests through ``inner``, a boto3 S3 client (thread-safe, as the client is)."""

    name = "botocore"

    def __init__(self, inner: BaseClient) -> None:
        self.inner = inner
        self._methods: dict[str, Callable[..., Any]] = {}

    def send(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """One attempt of ``operation`` (an API name, ``"PutObject"``) with ``params``."""
        method = self._methods.get(operation)
        if method is None:
            method = self._methods[operation] = getattr(self.inner, xform_name(operation))
        response: dict[str, Any] = method(**params)
        return response
