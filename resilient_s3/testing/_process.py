"""The common part of the server classes (moto, LocalStack, SeaweedFS): a child process on
127.0.0.1, stopped by its PID.

:class:`ManagedServer` creates a scratch directory, launches the subclass's command in its own
process group with its output in a log file there, waits until the server answers S3 calls (a
bucket is created, written, read and deleted), and on :meth:`~ManagedServer.stop` sends SIGTERM to
the process group it started, SIGKILL after ``stop_timeout``, then deletes the scratch directory.

On Linux a server started from the main thread also gets SIGTERM when the process that started
it dies without stopping it (killed, or a test run cut short by a timeout: no teardown runs), so
no server outlives its owner (``PR_SET_PDEATHSIG``; the kernel ties it to the starting thread,
hence the main thread only). Signalling and reaping: ``_reaping.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import IO, ClassVar, TypeVar

from ._endpoint import ClientKwargs, StartStop, loopback_client_kwargs
from ._reaping import dies_with_parent, terminate

__all__ = ["ManagedServer", "ServerUnavailable"]

#: How much of the server's log to show when it fails to start.
_LOG_TAIL = 3000
#: How many times to pick new ports when the server could not bind the chosen ones.
_PORT_ATTEMPTS = 3
#: Words in a failed server's log that mean a port was taken between choosing and binding it.
_PORT_TAKEN = ("address already in use", "bind: address")

_Self = TypeVar("_Self", bound="ManagedServer")


class ServerUnavailable(RuntimeError):
    """A server's prerequisites are missing: it is not installed or not configured here.

    Distinct from a server that is installed but fails to start (a plain :class:`RuntimeError`),
    so that a test run can skip on the first and must fail on the second.
    """


class _PortTaken(RuntimeError):
    """The server exited because one of its ports was taken before it could bind it."""


class ManagedServer(StartStop):
    """Base of the real S3 servers run as child processes; subclasses say how to launch them.

    Args:
        start_timeout: Seconds to wait until the server serves S3 requests.
        stop_timeout: Seconds to wait after SIGTERM before SIGKILL.
    """

    #: Name used in messages and in the scratch directory's name.
    name: ClassVar[str] = "server"

    def __init__(self, *, start_timeout: float, stop_timeout: float) -> None:
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._scratch: str | None = None
        self._port = 0

    # Subclass hooks -----------------------------------------------------------------------------

    def _check_prerequisites(self) -> None:
        """Raise :class:`ServerUnavailable` if the server cannot be run here."""

    def _command(self, scratch: str) -> tuple[Sequence[str], Mapping[str, str], int]:
        """The argv, environment and S3 port of a launch, with fresh ports, inside ``scratch``."""
        raise NotImplementedError

    def _answers(self, port: int) -> bool:
        """Whether the server's HTTP side is up (before the S3 probe is tried)."""
        raise NotImplementedError

    def _serves(self) -> bool:
        """Whether the server does its job (after :meth:`_answers`): one S3 round trip."""
        return _serves_s3(self.client_kwargs(), self.ca_bundle)

    def _after_stop(self) -> None:
        """Remove what the server leaves outside its scratch directory (called after it exited)."""

    def _launch_attempts(self) -> int:
        """How many launches to try, each with new ports, while a port is taken before binding."""
        return _PORT_ATTEMPTS

    # Lifecycle ----------------------------------------------------------------------------------

    def start(self: _Self) -> _Self:
        """Start the server and wait until it serves S3 requests; returns ``self``. Idempotent.

        Raises:
            ServerUnavailable: If the server is not installed or not configured.
            RuntimeError: If it exits or does not serve S3 within ``start_timeout`` (the message
                ends with the tail of its log).
        """
        if self._process is not None:
            return self
        self._check_prerequisites()
        attempts = self._launch_attempts()
        for attempt in range(attempts):
            try:
                self._launch()
                return self
            except _PortTaken:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _launch(self) -> None:
        """Launch once in a new scratch directory and wait for it; clean up and raise on failure."""
        scratch = tempfile.mkdtemp(prefix=f"resilient-s3-{self.name}-")
        self._scratch = scratch
        try:
            argv, env, port = self._command(scratch)
            log = open(os.path.join(scratch, "server.log"), "w+b")  # noqa: SIM115 (see stop())
            self._log, self._port = log, port
            self._process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=dict(env),
                cwd=scratch,
                start_new_session=True,  # its own process group: stop() signals the group it leads
                preexec_fn=dies_with_parent(),  # one libc call, resolved before
            )
        except OSError as exc:
            self.stop()  # deletes the scratch directory
            raise ServerUnavailable(f"{self.name}: cannot run it: {exc}") from exc
        deadline = time.monotonic() + self._start_timeout
        error = self._wait(deadline)
        if error is not None:
            tail = self.log_tail()
            self.stop()
            taken = any(word in tail.lower() for word in _PORT_TAKEN)
            raise (_PortTaken if taken else RuntimeError)(f"{error}:\n{tail}")

    def _wait(self, deadline: float) -> str | None:
        """Wait until the server serves S3; ``None`` when it does, else what went wrong."""
        process = self._require()
        answered = False
        while True:
            code = process.poll()
            if code is not None:
                return f"{self.name} exited with code {code} before serving S3"
            if not answered:
                answered = self._answers(self._port)
            if answered and self._serves():
                return None
            if time.monotonic() > deadline:
                return (
                    f"{self.name} did not serve S3 on port {self._port} within "
                    f"{self._start_timeout:g} s"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop the server by its PID (SIGTERM to its process group, SIGKILL after
        ``stop_timeout``), then delete its scratch directory. Idempotent."""
        process, log, scratch = self._process, self._log, self._scratch
        self._process = self._log = self._scratch = None
        if process is not None:
            terminate(process, self._stop_timeout)
            self._after_stop()
        if log is not None:
            log.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    # Properties ---------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the server process was started and has not exited."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int:
        """The server process's PID (:class:`RuntimeError` if not started)."""
        return self._require().pid

    @property
    def port(self) -> int:
        """The S3 port the server listens on (:class:`RuntimeError` if not started)."""
        self._require()
        return self._port

    @property
    def endpoint_url(self) -> str:
        """The S3 endpoint, ``"http://127.0.0.1:PORT"`` (:class:`RuntimeError` if not started)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ca_bundle(self) -> str | None:
        """The CA bundle that verifies the server's TLS certificate, for boto3's ``verify=``;
        ``None`` when :attr:`endpoint_url` is http."""
        return None

    @property
    def scratch_dir(self) -> str:
        """The server's scratch directory, deleted by :meth:`stop` (:class:`RuntimeError` if not
        started)."""
        self._require()
        assert self._scratch is not None
        return self._scratch

    def client_kwargs(self) -> ClientKwargs:
        """Keyword arguments for ``boto3.client("s3", ...)`` or ``resilient_s3.client(...)``:
        :attr:`endpoint_url`, region :data:`TEST_REGION` and the dummy test keys, which every
        server class here accepts."""
        return loopback_client_kwargs(self.endpoint_url)

    def log_tail(self) -> str:
        """The last part of what the server wrote to stdout/stderr, decoded."""
        if self._log is None:
            return ""
        self._log.flush()
        size = self._log.seek(0, os.SEEK_END)
        self._log.seek(max(0, size - _LOG_TAIL))
        return self._log.read().decode("utf-8", "replace").strip()

    def _require(self) -> subprocess.Popen[bytes]:
        """The running process, or :class:`RuntimeError`."""
        if self._process is None:
            raise RuntimeError(
                f"{type(self).__name__} is not started; call start() or use it as a context manager"
            )
        return self._process

    def __repr__(self) -> str:
        """Show the endpoint and PID, or that the server is stopped."""
        if self._process is None:
            return f"{type(self).__name__}(stopped)"
        return f"{type(self).__name__}({self.endpoint_url!r}, pid={self._process.pid})"


def _serves_s3(kwargs: ClientKwargs, verify: str | None) -> bool:
    """Whether the server completes one S3 round trip: create a bucket, write, read, delete
    (``verify``: boto3's, a CA bundle for a self-signed https server)."""
    import boto3
    import botocore.exceptions
    from botocore.config import Config

    config = Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=10)
    s3 = boto3.client("s3", config=config, verify=verify, **kwargs)
    bucket = f"ready-probe-{uuid.uuid4().hex[:12]}"
    try:
        s3.create_bucket(Bucket=bucket)
        try:
            s3.put_object(Bucket=bucket, Key="probe", Body=b"ready")
            ok = s3.get_object(Bucket=bucket, Key="probe")["Body"].read() == b"ready"
            s3.delete_object(Bucket=bucket, Key="probe")
        finally:
            s3.delete_bucket(Bucket=bucket)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
        return False
    finally:
        s3.close()
    return ok
