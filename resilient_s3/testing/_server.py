"""``S3Server``: a real moto S3 server in a child process on a free port of 127.0.0.1.

It is a :class:`~resilient_s3.testing._process.ManagedServer` like the LocalStack and SeaweedFS
classes: the same start, stop by PID, scratch directory and properties; only the command and the
"is it up" check are moto's. The test constants and :func:`free_port` are re-exported from
:mod:`._endpoint` for the modules that import them from here.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Mapping, Sequence

from ._certificates import CERT_FILE, write_self_signed_certificate
from ._endpoint import (
    TEST_ACCESS_KEY_ID,
    TEST_REGION,
    TEST_SECRET_ACCESS_KEY,
    ClientKwargs,
    free_port,
    http_answers,
)
from ._process import ManagedServer, ServerUnavailable

__all__ = [
    "TEST_ACCESS_KEY_ID",
    "TEST_REGION",
    "TEST_SECRET_ACCESS_KEY",
    "ClientKwargs",
    "S3Server",
    "free_port",
]

_free_port = free_port  # the former private name, still used by tests


class S3Server(ManagedServer):
    """A moto S3 server (``python -m moto.server``) running as a child process on 127.0.0.1.

    The server keeps everything in memory and accepts any credentials; it is a real HTTP server in
    another process, so clients exercise their real network stack. Requires the ``server`` extra
    (``pip install 'resilient-s3[server]'``, i.e. ``moto[server]``).

    Args:
        port: Port to listen on; ``None`` picks a free one (and another one if it was taken
            before moto could bind it).
        start_timeout: Seconds to wait until the server serves S3.
        stop_timeout: Seconds to wait after SIGTERM before SIGKILL.
        tls: Serve https with a new self-signed certificate for 127.0.0.1 (moto's
            ``--ssl-cert``/``--ssl-key``): :attr:`endpoint_url` is ``https://``, and
            :attr:`ca_bundle` is the certificate's file, for boto3's ``verify=``.

    :meth:`start` raises :class:`~resilient_s3.testing.ServerUnavailable` (a
    :class:`RuntimeError`) when moto's server is not installed.

    Example::

        with S3Server() as server:
            s3 = boto3.client("s3", **server.client_kwargs())
    """

    name = "moto"

    def __init__(
        self,
        *,
        port: int | None = None,
        start_timeout: float = 30.0,
        stop_timeout: float = 10.0,
        tls: bool = False,
    ) -> None:
        super().__init__(start_timeout=start_timeout, stop_timeout=stop_timeout)
        self._requested_port = port
        self.tls = tls

    @property
    def endpoint_url(self) -> str:
        """``"http://127.0.0.1:PORT"``, or ``https://`` with ``tls`` (:class:`RuntimeError` if
        not started)."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ca_bundle(self) -> str | None:
        """With ``tls``: the self-signed certificate's file (in :attr:`scratch_dir`), which
        verifies the server; ``None`` without."""
        return os.path.join(self.scratch_dir, CERT_FILE) if self.tls else None

    def _check_prerequisites(self) -> None:
        """Check that moto and its server's Flask are importable."""
        if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None:
            raise ServerUnavailable(
                "S3Server needs moto's server: pip install 'resilient-s3[server]' (moto[server])"
            )

    def _launch_attempts(self) -> int:
        """Only one launch on a port the caller chose: it will not come free by trying again."""
        return 1 if self._requested_port is not None else super()._launch_attempts()

    def _command(self, scratch: str) -> tuple[Sequence[str], Mapping[str, str], int]:
        """``python -m moto.server`` on the requested or a free port, in our environment."""
        port = self._requested_port or free_port()
        argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
        if self.tls:
            cert, key = write_self_signed_certificate(scratch)
            argv += ["--ssl-cert", cert, "--ssl-key", key]
        return argv, dict(os.environ), port

    def _answers(self, port: int) -> bool:
        """Whether moto's HTTP side answers (any status)."""
        return http_answers(port, "/moto-api/", tls=self.tls)
