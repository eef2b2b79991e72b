"""``S3Server``: a real moto S3 server in a child process on a free port of 127.0.0.1."""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
from types import TracebackType
from typing import IO, TypedDict

__all__ = [
    "TEST_ACCESS_KEY_ID",
    "TEST_REGION",
    "TEST_SECRET_ACCESS_KEY",
    "ClientKwargs",
    "S3Server",
    "free_port",
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


#: How many new ports to try when the chosen free port was taken before the server bound it.
_PORT_ATTEMPTS = 3
#: How much of the server's stderr to show when it fails to start.
_STDERR_TAIL = 2000


class S3Server:
    """A moto S3 server (``python -m moto.server``) running as a child process on 127.0.0.1.

    The server keeps everything in memory and accepts any credentials; it is a real HTTP server in
    another process, so clients exercise their real network stack. Requires the ``server`` extra
    (``pip install 'resilient-s3[server]'``, i.e. ``moto[server]``).

    Args:
        port: Port to listen on; ``None`` picks a free one.
        start_timeout: Seconds to wait for the server to answer HTTP.
        stop_timeout: Seconds to wait after SIGTERM before SIGKILL.

    Example::

        with S3Server() as server:
            s3 = boto3.client("s3", **server.client_kwargs())
    """

    def __init__(
        self, *, port: int | None = None, start_timeout: float = 30.0, stop_timeout: float = 10.0
    ) -> None:
        self._requested_port = port
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._port = 0

    def start(self) -> S3Server:
        """Start the server process and wait until it answers HTTP; returns ``self``. Idempotent.

        Raises:
            RuntimeError: If moto's server is not installed, or the process exits or does not answer
                within ``start_timeout`` (the message ends with the tail of its stderr).
        """
        if self._process is not None:
            return self
        if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None:
            raise RuntimeError(
                "S3Server needs moto's server: pip install 'resilient-s3[server]' (moto[server])"
            )
        attempts = 1 if self._requested_port is not None else _PORT_ATTEMPTS
        for attempt in range(attempts):
            port = self._requested_port or free_port()
            try:
                self._launch(port)
                return self
            except _PortTaken:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _launch(self, port: int) -> None:
        """Start the process on ``port`` and wait for it; clean up and raise if it fails."""
        stderr = tempfile.TemporaryFile(prefix="moto-server-")  # noqa: SIM115 (closed in stop())
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
        )
        self._process, self._stderr, self._port = process, stderr, port
        deadline = time.monotonic() + self._start_timeout
        while True:
            code = process.poll()
            if code is not None:
                tail = self._stderr_tail()
                self.stop()
                error = _PortTaken if "in use" in tail else RuntimeError
                raise error(f"moto server exited with code {code} before answering:\n{tail}")
            if _answers(port) and process.poll() is None:
                return
            if time.monotonic() > deadline:
                tail = self._stderr_tail()
                self.stop()
                raise RuntimeError(
                    f"moto server did not answer on port {port} within "
                    f"{self._start_timeout} s:\n{tail}"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the process by its PID: SIGTERM, then SIGKILL after ``stop_timeout``. Idempotent."""
        process, stderr = self._process, self._stderr
        self._process = self._stderr = None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(self._stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if stderr is not None:
            stderr.close()

    def __enter__(self) -> S3Server:
        """Start the server (if not yet started) and return it."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server process was started and has not exited."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int:
        """The server process's PID.

        Raises:
            RuntimeError: If the server is not started.
        """
        return self._require().pid

    @property
    def port(self) -> int:
        """The port the server listens on (raises :class:`RuntimeError` if not started)."""
        self._require()
        return self._port

    @property
    def endpoint_url(self) -> str:
        """The server's URL, ``"http://127.0.0.1:PORT"`` (:class:`RuntimeError` if not started)."""
        return f"http://127.0.0.1:{self.port}"

    def client_kwargs(self) -> ClientKwargs:
        """Keyword arguments for ``boto3.client("s3", ...)`` or ``resilient_s3.client(...)``.

        ``endpoint_url``, ``region_name`` (:data:`TEST_REGION`), ``aws_access_key_id`` and
        ``aws_secret_access_key`` (the dummy :data:`TEST_ACCESS_KEY_ID` /
        :data:`TEST_SECRET_ACCESS_KEY`).
        """
        return {
            "endpoint_url": self.endpoint_url,
            "region_name": TEST_REGION,
            "aws_access_key_id": TEST_ACCESS_KEY_ID,
            "aws_secret_access_key": TEST_SECRET_ACCESS_KEY,
        }

    def _require(self) -> subprocess.Popen[bytes]:
        """The running process, or :class:`RuntimeError`."""
        if self._process is None:
            raise RuntimeError(
                "S3Server is not started; call start() or use it as a context manager"
            )
        return self._process

    def _stderr_tail(self) -> str:
        """The last bytes the process wrote to stdout/stderr, decoded."""
        if self._stderr is None:
            return ""
        self._stderr.flush()
        size = self._stderr.seek(0, os.SEEK_END)
        self._stderr.seek(max(0, size - _STDERR_TAIL))
        return self._stderr.read().decode("utf-8", "replace").strip()

    def __repr__(self) -> str:
        """Show the endpoint and PID, or that the server is stopped."""
        if self._process is None:
            return "S3Server(stopped)"
        return f"S3Server({self.endpoint_url!r}, pid={self._process.pid})"


class _PortTaken(RuntimeError):
    """The server could not bind its port (another process took it first)."""


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_free_port = free_port  # the former private name, still used by tests


def _answers(port: int) -> bool:
    """Whether an HTTP server on 127.0.0.1:``port`` answers a request (any status)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    with contextlib.closing(conn):
        try:
            conn.request("GET", "/moto-api/")
            conn.getresponse().read()
        except (OSError, http.client.HTTPException):
            return False
        return True
