"""Helpers for the asyncio door's tests: clients through the fault proxy, run with
``asyncio.run`` (the project's pattern; no pytest plugin)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import resilient_s3.aio
from resilient_s3 import RetryPolicy

# The telemetry tests' fixtures (the OpenTelemetry SDK in memory), for test_telemetry.py.
from ..telemetry.conftest import botocore_spans, otel  # noqa: F401

T = TypeVar("T")


def aio_client(proxy: Any, retry: RetryPolicy | None = None, **kwargs: Any) -> Any:
    """An asyncio client through ``proxy`` (made outside any loop: it belongs to none)."""
    return resilient_s3.aio.client("s3", retry=retry, **proxy.client_kwargs(), **kwargs)


def run(client: Any, main: Callable[[Any], Awaitable[T]]) -> T:
    """``main(client)`` on a new event loop, the client closed at the end (``async with``)."""

    async def scoped() -> T:
        async with client as s3:
            return await main(s3)

    return asyncio.run(scoped())
