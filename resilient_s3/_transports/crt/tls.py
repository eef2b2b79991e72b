"""An endpoint's certificate checked at once: the CRT learns late that it does not verify.

On Linux the CRT's TLS (s2n) reports a handshake whose certificate does not verify only after
its *blinding* delay, 10 to 30 seconds (a defence against timing attacks); meanwhile a request
waits, times out as the batch's ``read_timeout``, or fails as a connection timeout, which is
retried. botocore raises ``SSLError`` at once, and does not retry it. So before the first
request to each https endpoint of a native client (in each process), a handshake of our own,
in a thread, with the trust the CRT client uses (boto3's ``verify=``: a CA bundle, or the
default trust store): if the certificate does not verify, every request to that endpoint fails
at once with botocore's ``SSLError`` (PERMANENT), none sent. A handshake that fails any other
way (refused, timed out after ``connect_timeout``, another TLS error) decides nothing: the
CRT's own outcome stands. A good certificate costs one handshake per endpoint and process
before the first requests (they wait for it; later ones do not).

The default trust store is checked this way only where Python's default store is the system's,
as the CRT's is (Linux); elsewhere only a CA bundle given as ``verify=`` is.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import ssl
import sys
import threading
from urllib.parse import urlsplit

from botocore.exceptions import SSLError

__all__ = ["CertificateCheck"]


class CertificateCheck:
    """The certificate checks of one native client's endpoints (see the module docstring):
    ``verify`` is boto3's (``None``/``True``: the default store, a path: that CA bundle,
    ``False``: none), ``tls`` whether the endpoint is https."""

    def __init__(self, tls: bool, verify: bool | str | None, timeout: float) -> None:
        self._on = tls and verify is not False
        if self._on and not isinstance(verify, str):
            self._on = sys.platform.startswith("linux")
        self._cafile = verify if isinstance(verify, str) else None
        self._timeout = timeout
        self._lock = threading.Lock()
        #: host[:port] -> the handshake's finding: the verification error, or None.
        self._checks: dict[str, concurrent.futures.Future[ssl.SSLError | None]] = {}

    def guard(self, host: str) -> asyncio.Future[None] | None:
        """A future on the running loop to await before a request to ``host``: it fails with
        ``SSLError`` if the certificate does not verify (a new error for each request); or
        ``None`` when there is nothing to wait for (checked good, or not checked)."""
        if not self._on or not host:
            return None
        check = self._check(host)
        if check.done() and check.result() is None:
            return None
        loop = asyncio.get_running_loop()
        guard: asyncio.Future[None] = loop.create_future()
        if check.done():
            _settle(guard, host, check)
        else:
            check.add_done_callback(lambda done: _settle_soon(loop, guard, host, done))
        return guard

    def wait(self, host: str) -> None:
        """:meth:`guard` for a blocking caller: raise ``SSLError`` if the certificate of
        ``host`` does not verify (waiting for its check, bounded by the connect timeout)."""
        if not self._on or not host:
            return
        finding = self._check(host).result()
        if finding is not None:
            raise SSLError(endpoint_url=f"https://{host}", error=finding)

    def _check(self, host: str) -> concurrent.futures.Future[ssl.SSLError | None]:
        """The check of ``host``, started on first use."""
        with self._lock:
            check = self._checks.get(host)
            if check is None:
                check = self._checks[host] = concurrent.futures.Future()
                threading.Thread(
                    target=self._handshake, args=(host, check), daemon=True,
                    name="resilient-s3-certificate-check",
                ).start()  # fmt: skip
        return check

    def _handshake(self, host: str, check: concurrent.futures.Future[ssl.SSLError | None]) -> None:
        finding: ssl.SSLError | None = None
        try:
            parts = urlsplit(f"//{host}")
            name, port = parts.hostname or host, parts.port or 443
            context = ssl.create_default_context(cafile=self._cafile)
            raw = socket.create_connection((name, port), timeout=self._timeout)
            with raw, context.wrap_socket(raw, server_hostname=name):
                pass
        except ssl.SSLCertVerificationError as error:
            finding = error
        except (OSError, ValueError):
            finding = None  # refused, timed out, another TLS failure: the CRT's outcome stands
        check.set_result(finding)


def _settle_soon(
    loop: asyncio.AbstractEventLoop,
    guard: asyncio.Future[None],
    host: str,
    check: concurrent.futures.Future[ssl.SSLError | None],
) -> None:
    if not loop.is_closed():
        loop.call_soon_threadsafe(_settle, guard, host, check)


def _settle(
    guard: asyncio.Future[None], host: str, check: concurrent.futures.Future[ssl.SSLError | None]
) -> None:
    if guard.done():
        return
    finding = check.result()
    if finding is None:
        guard.set_result(None)
    else:
        guard.set_exception(SSLError(endpoint_url=f"https://{host}", error=finding))
