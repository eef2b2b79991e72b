"""The transport protocol: one attempt of one S3 operation, answered as botocore answers it.

What a front door's core (``_core.py``) and the batch's planes call to reach the server, as
httpx's ``Client`` calls ``BaseTransport.handle_request``. ``send(operation, params)`` takes an
API operation name (``"PutObject"``) and boto3's parameters, ``Body`` included, and makes one
attempt: no retries (the caller's :class:`~resilient_s3._retry.retrier.Retrier` decides), no
verification. It returns the dict botocore returns (``ResponseMetadata`` included) and raises
botocore's exception types, so the same :func:`~resilient_s3.classify` tables sort failures on
every transport.

- :class:`~resilient_s3._transports.botocore.BotocoreTransport`: the boto3 client's own method,
  blocking (:class:`Transport`); every operation, every ``Config`` botocore honours;
- :class:`~resilient_s3._transports.botocore.AsyncBotocoreTransport`: the same method run in a
  bounded pool of worker threads, awaited (:class:`AsyncTransport`; the asyncio front door);
- :class:`~resilient_s3._transports.crt.transport.CrtTransport`: awscrt's S3 client, awaited on
  an event loop (:class:`AsyncTransport`); object operations, requests built by botocore's
  serializer and endpoint rules (the ``[crt]`` extra).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

__all__ = ["AsyncBody", "AsyncTransport", "Transport"]


class Transport(Protocol):
    """A blocking transport."""

    name: str

    def send(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """One attempt of ``operation`` with boto3's ``params``; botocore's answer."""
        ...


class AsyncBody(Protocol):
    """A response body read without blocking the event loop: what an :class:`AsyncTransport`'s
    GetObject answer holds as its ``Body`` (the asyncio door makes it resumable on top)."""

    async def read(self, amt: int | None = None) -> bytes:
        """At most ``amt`` bytes (all that is left when ``None``); ``b""`` at the end."""
        ...

    def close(self) -> None:
        """Release the connection (unread bytes are dropped)."""
        ...


class AsyncTransport(Protocol):
    """An awaited transport. A GetObject answer's ``Body`` is an :class:`AsyncBody`."""

    name: str

    async def send(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """One attempt of ``operation`` with boto3's ``params``; botocore's answer."""
        ...
