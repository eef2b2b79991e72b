"""``RedisServer``: a real ``redis-server`` on 127.0.0.1, for SharedLimiter tests.

Debian's ``redis-server`` package (``apt-get install redis-server``), started on a free port of
127.0.0.1 with persistence off (``--save '' --appendonly no``), its working directory and log in
the scratch directory, stopped by its PID like the S3 servers.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Mapping, Sequence

from ._endpoint import free_port
from ._process import ManagedServer, ServerUnavailable

__all__ = ["RedisServer"]


class RedisServer(ManagedServer):
    """``redis-server`` in a child process on a free port of 127.0.0.1.

    Args:
        binary: the ``redis-server`` executable; default: the one on ``PATH``.
        port: the port to listen on; default: a free one (a test restarting Redis where its
            clients expect it passes the port of the one it stopped).
        start_timeout: seconds to wait until it answers PING.
        stop_timeout: seconds to wait after SIGTERM before SIGKILL.

    Raises :class:`~resilient_s3.testing.ServerUnavailable` from :meth:`start` when there is no
    ``redis-server`` (``apt-get install redis-server``).
    """

    name = "redis"

    def __init__(
        self,
        binary: str | None = None,
        *,
        port: int | None = None,
        start_timeout: float = 20.0,
        stop_timeout: float = 5.0,
    ) -> None:
        super().__init__(start_timeout=start_timeout, stop_timeout=stop_timeout)
        self.binary = binary or shutil.which("redis-server") or ""
        self._fixed_port = port

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0`` (:class:`RuntimeError` if not started)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def __repr__(self) -> str:
        return f"RedisServer({self.url!r}, pid={self.pid})" if self.running else "RedisServer()"

    def _check_prerequisites(self) -> None:
        if not self.binary or not os.access(self.binary, os.X_OK):
            raise ServerUnavailable("Redis: no redis-server found; apt-get install redis-server")

    def _command(self, scratch: str) -> tuple[Sequence[str], Mapping[str, str], int]:
        port = self._fixed_port or free_port()
        argv = [
            self.binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            scratch,
        ]
        return argv, {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, port

    def _answers(self, port: int) -> bool:
        return _ping(port)

    def _serves(self) -> bool:
        return True  # _answers got +PONG


def _ping(port: int) -> bool:
    """Whether 127.0.0.1:``port`` answers the Redis ``PING`` with ``+PONG``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False
