"""``FaultProxy``: an HTTP/1.1 proxy on 127.0.0.1 injecting S3 faults in front of any endpoint."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from ._endpoint import ClientKwargs, StartStop, loopback_client_kwargs
from ._faults import Fault
from ._injector import FaultInjector, SeenRequest
from ._proxy_server import ProxyServer

__all__ = ["FaultProxy"]

_log = logging.getLogger("resilient_s3.testing")


class FaultProxy(StartStop):
    """A threaded HTTP/1.1 proxy on 127.0.0.1 that forwards to an S3 endpoint and injects faults.

    Point an S3 client at :attr:`endpoint_url` (path-style addressing) instead of the real endpoint.
    Every request is passed through byte for byte (method, target, headers including ``Host``, so
    SigV4 signatures still verify, and body, streamed), unless a :class:`Fault` hits it. Faults are
    drawn from one ``random.Random(seed)``: a seed and a sequential request order reproduce a run.

    Args:
        upstream_url: The endpoint to forward to, e.g. ``"http://127.0.0.1:5000"`` (http or https,
            no path).
        faults: The initial fault set (see :meth:`set_faults`).
        seed: Seed of the random generator; ``None`` seeds it from the OS.
        port: Port to listen on (on 127.0.0.1 only); ``0`` picks a free one.
        timeout: Seconds a client connection may stay idle, and the upstream may take to answer.

    Example::

        with FaultProxy(server.endpoint_url, faults=[Fault(FaultKind.SLOWDOWN, limit=2)]) as proxy:
            s3 = boto3.client("s3", **proxy.client_kwargs())
            ...
            assert proxy.counters["slowdown"] == 2
    """

    def __init__(
        self,
        upstream_url: str,
        faults: Iterable[Fault] = (),
        *,
        seed: int | None = None,
        port: int = 0,
        timeout: float = 60.0,
    ) -> None:
        self.upstream_url = upstream_url.rstrip("/")
        self._injector = FaultInjector(faults, seed=seed)
        self._port = port
        self._timeout = timeout
        self._server: ProxyServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FaultProxy:
        """Start listening and serving in a daemon thread; returns ``self``. Idempotent."""
        if self._server is None:
            server = ProxyServer(self._port, self.upstream_url, self._injector, self._timeout)
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"FaultProxy:{server.server_address[1]}",
                daemon=True,
            )
            thread.start()
            self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket and every client connection. Idempotent."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.shutdown()
        server.close_clients()
        server.server_close()
        if thread is not None:
            thread.join()

    @property
    def port(self) -> int:
        """The port the proxy listens on.

        Raises:
            RuntimeError: If the proxy is not running.
        """
        if self._server is None:
            raise RuntimeError(
                "FaultProxy is not running; call start() or use it as a context manager"
            )
        return int(self._server.server_address[1])

    @property
    def endpoint_url(self) -> str:
        """The URL to give an S3 client, ``"http://127.0.0.1:PORT"``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def faults(self) -> tuple[Fault, ...]:
        """The current fault set."""
        return self._injector.faults

    @property
    def counters(self) -> dict[str, int]:
        """A snapshot of the exact counters, all keys always present.

        ``"requests"``: requests received; ``"forwarded"``: requests sent to the upstream;
        ``"forwarded_bytes"``: request body bytes sent to the upstream (as framed on the wire);
        ``"upstream_errors"``: requests answered 502 because the upstream failed; one key per
        :class:`FaultKind` value: injections of that kind (``"throttle"``: requests throttled);
        ``"throttle_passed"``: requests that a THROTTLE fault applied to and let through;
        ``"op:<Operation>"`` for each name in :data:`OPERATION_NAMES`: requests received per
        derived operation.
        """
        return self._injector.counters()

    def set_faults(self, faults: Iterable[Fault]) -> None:
        """Replace the fault set (thread-safe, effective from the next request).

        Each fault's ``limit`` counts from zero again and each THROTTLE fault's token bucket starts
        full; the counters and the random generator go on.
        """
        self._injector.set_faults(faults)

    def reset_counters(self) -> None:
        """Set every counter to zero (fault limits and the random generator are not affected)."""
        self._injector.reset_counters()

    def record_requests(self, headers: Iterable[str] = ("Range", "If-Match")) -> None:
        """Record every request from now on (a fresh record), with the values of ``headers``
        it carries; read them from :attr:`requests`. Credential headers cannot be recorded.

        Raises:
            ValueError: If ``headers`` names ``Authorization`` or another credential header.
        """
        self._injector.record(headers)

    @property
    def requests(self) -> tuple[SeenRequest, ...]:
        """The requests recorded since :meth:`record_requests`, in the order received."""
        return self._injector.seen()

    def client_kwargs(self) -> ClientKwargs:
        """Keyword arguments for ``boto3.client("s3", ...)`` or ``resilient_s3.client``, via proxy.

        ``endpoint_url`` is :attr:`endpoint_url`; region and keys are the dummy ones of
        :meth:`S3Server.client_kwargs`, which suit moto: another upstream needs its own keys.
        """
        return loopback_client_kwargs(self.endpoint_url)

    def __repr__(self) -> str:
        """Show the upstream and, when running, the local endpoint."""
        where = self.endpoint_url if self._server is not None else "stopped"
        return f"FaultProxy({self.upstream_url!r}, {where})"
