"""``LocalStackServer``: LocalStack's S3 (the system of the field report) on 127.0.0.1.

LocalStack (``localstack-core``) needs Python 3.13 of its own, so it runs from the interpreter of
a separate virtual environment, given by path. It is started without Docker and without the
``localstack`` CLI (which asks for an account): ``python -m localstack.runtime.main`` with the
``hypercorn`` gateway, because the default ``twisted`` gateway ignores the host it is given and
binds 0.0.0.0. Every file it writes goes to a scratch directory deleted on stop.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
from collections.abc import Mapping, Sequence

from ._endpoint import free_ports
from ._process import ManagedServer, ServerUnavailable

__all__ = ["LOCALSTACK_PYTHON_ENV", "LOCALSTACK_REQUIREMENTS", "LocalStackServer"]

#: Environment variable naming the Python interpreter that has ``localstack-core`` installed.
LOCALSTACK_PYTHON_ENV = "RESILIENT_S3_LOCALSTACK_PYTHON"

#: What to install in a Python 3.13 virtual environment for :class:`LocalStackServer` (the pins
#: that are known to work together; see docs/testing.md).
LOCALSTACK_REQUIREMENTS = (
    "localstack-core[runtime]==2026.3.0",
    "cbor2<6",
    "pyopenssl<24.3",
    "cryptography<44",
    "service_identity",
)

#: Runs LocalStack's main module after pointing its S3 object store, which would otherwise be the
#: fixed, shared and never emptied ``/tmp/localstack-s3-storage``, at a directory of the scratch
#: directory (argv[1]).
_LAUNCHER = """
import runpy, sys
import localstack.services.s3.provider as provider
if hasattr(provider, "DEFAULT_S3_TMP_DIR"):
    provider.DEFAULT_S3_TMP_DIR = sys.argv[1]
else:
    print("resilient-s3: LocalStack has no DEFAULT_S3_TMP_DIR; S3 data goes to its default",
          file=sys.stderr)
sys.argv = ["localstack.runtime.main"]
runpy.run_module("localstack.runtime.main", run_name="__main__", alter_sys=True)
"""

#: Environment variables passed through from ours to LocalStack's process (nothing else is: a
#: stray DEBUG or GATEWAY_LISTEN of the caller must not change the server).
_PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "HOME")


class LocalStackServer(ManagedServer):
    """LocalStack's S3 in a child process on a free port of 127.0.0.1, http and https on one port.

    Args:
        python: Path of a Python (3.13) that has ``localstack-core[runtime]`` installed; default:
            the environment variable ``RESILIENT_S3_LOCALSTACK_PYTHON``.
        start_timeout: Seconds to wait until it serves S3 (a first start takes ~11 s, later ~5 s).
        stop_timeout: Seconds to wait after SIGTERM before SIGKILL (it takes 3-5 s to shut down;
            its data is in the scratch directory, deleted anyway).

    Raises :class:`~resilient_s3.testing.ServerUnavailable` from :meth:`start` when no such Python
    is given or it cannot import ``localstack``.

    Example::

        with LocalStackServer("/opt/localstack-venv/bin/python") as server:
            s3 = boto3.client("s3", **server.client_kwargs())
    """

    name = "localstack"

    def __init__(
        self,
        python: str | None = None,
        *,
        start_timeout: float = 90.0,
        stop_timeout: float = 10.0,
    ) -> None:
        super().__init__(start_timeout=start_timeout, stop_timeout=stop_timeout)
        self.python = python or os.environ.get(LOCALSTACK_PYTHON_ENV, "")

    @property
    def https_endpoint_url(self) -> str:
        """The same server over TLS, ``"https://127.0.0.1:PORT"`` (a self-signed certificate:
        clients need ``verify=False``). Over https, boto3 sends uploads ``aws-chunked``."""
        return f"https://127.0.0.1:{self.port}"

    def _check_prerequisites(self) -> None:
        """Check that :attr:`python` exists and imports ``localstack``."""
        hint = (
            f"set {LOCALSTACK_PYTHON_ENV} to the python of a Python 3.13 venv with "
            f"{' '.join(repr(r) for r in LOCALSTACK_REQUIREMENTS)} installed (.ci/run does it)"
        )
        if not self.python:
            raise ServerUnavailable(f"LocalStack: no Python for it given; {hint}")
        if not os.access(self.python, os.X_OK):
            raise ServerUnavailable(f"LocalStack: {self.python!r} is not an executable; {hint}")
        check = subprocess.run(
            [self.python, "-c", "import localstack.runtime.main"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        if check.returncode != 0:
            error = check.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
            raise ServerUnavailable(
                f"LocalStack: {self.python!r} cannot import localstack ({' '.join(error)}); {hint}"
            )

    def _command(self, scratch: str) -> tuple[Sequence[str], Mapping[str, str], int]:
        """LocalStack's runtime with S3 only, on a fresh port, every file in ``scratch``."""
        (port,) = free_ports(1)
        tmp = os.path.join(scratch, "tmp")
        os.mkdir(tmp)
        env = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
        env.update(
            {
                "GATEWAY_SERVER": "hypercorn",  # the twisted gateway would bind 0.0.0.0
                "GATEWAY_LISTEN": f"127.0.0.1:{port}",
                "SERVICES": "s3",
                "EAGER_SERVICE_LOADING": "1",
                "DISABLE_EVENTS": "1",
                "SKIP_SSL_CERT_DOWNLOAD": "1",
                "DNS_ADDRESS": "0",
                # A /.dockerenv makes LocalStack think it runs in a container and write to
                # /var/lib/localstack: host mode keeps every file under FILESYSTEM_ROOT.
                "OVERRIDE_IN_DOCKER": "0",
                "FILESYSTEM_ROOT": os.path.join(scratch, "fs"),
                "LOCALSTACK_VOLUME_DIR": os.path.join(scratch, "fs", "volume"),
                "XDG_CACHE_HOME": os.path.join(scratch, "cache"),
                "TMPDIR": tmp,
            }
        )
        storage = os.path.join(scratch, "s3-storage")
        return [self.python, "-c", _LAUNCHER, storage], env, port

    def _answers(self, port: int) -> bool:
        """Whether LocalStack's health endpoint reports S3 running."""
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        with contextlib.closing(conn):
            try:
                conn.request("GET", "/_localstack/health")
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException):
                return False
        if response.status != 200:
            return False
        try:
            services = json.loads(body).get("services", {})
        except ValueError:
            return False
        return services.get("s3") in ("running", "available")
