"""What every test endpoint here shares: 127.0.0.1 only, free ports, the dummy client keys, and
``start()``/``stop()`` used as a context manager.

The servers (:class:`~resilient_s3.testing._process.ManagedServer` and its subclasses) and the
:class:`~resilient_s3.testing.FaultProxy` build on these pieces, so that their client keyword
arguments and their ``with`` behaviour are one piece of code.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
from types import TracebackType
from typing import TypedDict, TypeVar

__all__ = [
    "TEST_ACCESS_KEY_ID",
    "TEST_REGION",
    "TEST_SECRET_ACCESS_KEY",
    "ClientKwargs",
    "StartStop",
    "free_port",
    "free_ports",
    "http_answers",
    "loopback_client_kwargs",
]

#: Region for clients of the test server (moto accepts any; us-east-1 needs no LocationConstraint).
TEST_REGION = "us-east-1"
#: Dummy access key id for clients of the test server (moto accepts any keys).
TEST_ACCESS_KEY_ID = "testing"
#: Dummy secret access key for clients of the test server.
TEST_SECRET_ACCESS_KEY = "testing"


class ClientKwargs(TypedDict):
    """Keyword arguments for ``boto3.client("s3", **kwargs)`` that point it at a test endpoint."""

    endpoint_url: str
    region_name: str
    aws_access_key_id: str
    aws_secret_access_key: str


def loopback_client_kwargs(endpoint_url: str) -> ClientKwargs:
    """``endpoint_url`` with region :data:`TEST_REGION` and the dummy test keys."""
    return {
        "endpoint_url": endpoint_url,
        "region_name": TEST_REGION,
        "aws_access_key_id": TEST_ACCESS_KEY_ID,
        "aws_secret_access_key": TEST_SECRET_ACCESS_KEY,
    }


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports of 127.0.0.1 that were free a moment ago."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def http_answers(port: int, path: str, *, tls: bool = False) -> bool:
    """Whether an HTTP server on 127.0.0.1:``port`` answers ``GET path`` (with any status);
    ``tls``: over https, whatever its certificate."""
    conn: http.client.HTTPConnection
    if tls:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=2, context=context)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    with contextlib.closing(conn):
        try:
            conn.request("GET", path)
            conn.getresponse().read()
        except (OSError, http.client.HTTPException):
            return False
    return True


_Self = TypeVar("_Self", bound="StartStop")


class StartStop:
    """A ``with`` block starts the object (if not yet started) and always stops it.

    Subclasses define :meth:`start` (idempotent, returns ``self``) and :meth:`stop` (idempotent).
    """

    def start(self: _Self) -> _Self:
        """Start; returns ``self``."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop."""
        raise NotImplementedError

    def __enter__(self: _Self) -> _Self:
        """Start (if not yet started) and return ``self``."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop."""
        self.stop()
