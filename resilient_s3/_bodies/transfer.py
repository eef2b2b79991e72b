"""boto3's managed transfers (``upload_file`` & co.) run through the facade, not around it.

boto3 injects ``upload_file``, ``download_file``, ``upload_fileobj``, ``download_fileobj`` and
``copy`` into its S3 client as functions of the client. Calling them with the facade as the
client makes every request s3transfer sends (PutObject, the multipart steps, HeadObject,
GetObject) go through our retries and resumable bodies. The transfer config is copied with two
changes: ``num_download_attempts=1`` (s3transfer's own download retries would stack on ours)
and ``preferred_transfer_client="classic"`` (the CRT client would bypass the facade entirely).

s3transfer sends from threads of its own, which do not inherit the caller's ``contextvars``.
When the facade reports to OpenTelemetry, s3transfer gets it through :class:`_InCallerContext`,
which runs each request in a copy of the caller's context: the requests' spans are children of
the caller's current span instead of roots of traces of their own.
"""

from __future__ import annotations

import contextvars
import copy
import inspect
from collections.abc import Callable
from typing import Any

from boto3.s3 import inject
from boto3.s3.transfer import TransferConfig

__all__ = ["TRANSFER_METHODS", "transfer_method"]

TRANSFER_METHODS: dict[str, Callable[..., Any]] = {
    "upload_file": inject.upload_file,
    "download_file": inject.download_file,
    "upload_fileobj": inject.upload_fileobj,
    "download_fileobj": inject.download_fileobj,
    "copy": inject.copy,
}


def transfer_method(client: Any, name: str) -> Callable[..., Any]:
    """boto3's transfer function ``name`` bound to ``client``, with the config adjusted."""
    function = TRANSFER_METHODS[name]
    signature = inspect.signature(function)

    def method(*args: Any, **kwargs: Any) -> Any:
        traced = getattr(client, "telemetry_policy", None) is not None
        bound = signature.bind(_InCallerContext(client) if traced else client, *args, **kwargs)
        config = copy.copy(bound.arguments.get("Config") or TransferConfig())
        config.num_download_attempts = 1
        config.preferred_transfer_client = "classic"
        bound.arguments["Config"] = config
        return function(*bound.args, **bound.kwargs)

    method.__name__ = name
    method.__doc__ = function.__doc__
    return method


class _InCallerContext:
    """The facade as s3transfer sees it: each S3 operation runs in a copy of the context that
    was current when the transfer started (from whichever thread s3transfer calls it)."""

    def __init__(self, facade: Any) -> None:
        self._facade = facade
        self._context = contextvars.copy_context()
        self._operations = facade.meta.method_to_api_mapping

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._facade, name)
        if name not in self._operations:
            return value
        context = self._context

        def in_context(*args: Any, **kwargs: Any) -> Any:
            return context.copy().run(value, *args, **kwargs)  # a Context runs in one thread

        return in_context
