"""Fixtures of the hostile tests: a silent TCP listener (accepts, never answers) and helpers to
build clients that point at it or at the fault proxy."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.config import Config

import resilient_s3
from resilient_s3 import RetryPolicy

DUMMY: dict[str, Any] = {
    "region_name": "us-east-1",
    "aws_access_key_id": "test",
    "aws_secret_access_key": "test",
}


@dataclass
class SilentListener:
    """A TCP server on 127.0.0.1 that accepts every connection, reads nothing, answers nothing."""

    port: int
    accepted: int = 0
    connections: list[socket.socket] = field(default_factory=list)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client_kwargs(self) -> dict[str, Any]:
        return {"endpoint_url": self.endpoint_url, **DUMMY}


@pytest.fixture
def silent_listener() -> Iterator[SilentListener]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.2)
    listener = SilentListener(server.getsockname()[1])
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:  # the 0.2 s accept timeout, or the socket closed
                continue
            listener.connections.append(conn)
            listener.accepted += 1

    thread = threading.Thread(target=accept, name="silent-listener", daemon=True)
    thread.start()
    yield listener
    stop.set()
    thread.join(timeout=5)
    for conn in listener.connections:
        conn.close()
    server.close()


def proxied(proxy: Any, retry: RetryPolicy | None = None, **kwargs: Any) -> Any:
    """A resilient client through ``proxy`` (``kwargs`` go to ``resilient_s3.client``)."""
    return resilient_s3.client("s3", retry=retry, **proxy.client_kwargs(), **kwargs)


def plain_boto3(endpoint_url: str, **config: Any) -> Any:
    """A plain boto3 client, one attempt per call."""
    cfg = Config(retries={"total_max_attempts": 1}, **config)
    make: Any = boto3.client
    return make("s3", endpoint_url=endpoint_url, config=cfg, **DUMMY)
