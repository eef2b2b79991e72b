"""One ``awscrt.s3.S3Client`` built from a facade's boto3 client settings.

What carries over from the boto3 client (its ``meta`` and ``Config``):

- **region**: ``meta.region_name`` (the signing region; a request may override it with the
  region botocore's endpoint rules give for its bucket, see ``requests.py``);
- **credentials**: the boto3 client's own (``_get_credentials()``, as boto3's CRT transfer
  manager reads them). Fixed keys (static, env, a profile's keys: botocore's plain
  ``Credentials``) become a static CRT provider; any other kind (assume-role, SSO, IMDS,
  container, a custom refreshable provider) a delegate provider that asks botocore at every
  signing, so they keep refreshing (a Python call per request, ~20 us). A client with
  ``signature_version=UNSIGNED`` (or no credentials at all) sends unsigned requests;
- **TLS**: ``https`` endpoints use TLS; boto3's ``verify`` (``False``, or a CA bundle path) sets
  the trust store (``verify=False``: the peer is not verified);
- **timeouts**: ``connect_timeout`` becomes the CRT's connect timeout; ``read_timeout`` is kept
  by the plane itself (a request that receives nothing for that long is cancelled, see
  ``bridge.py``: the CRT S3 client has no read timeout of its own);
- **connections**: at least ``max_pool_connections`` (and at least the batch's concurrency)
  active connections.

Settings it cannot honour (an HTTP proxy, a TLS client certificate, a signature other than SigV4)
make the batch run on the botocore plane instead (:func:`unsupported`).

**One per process** (:class:`NativeClient`): awscrt's native resources (its event-loop threads,
the connections, the client) do not survive ``fork()`` (the child has only the thread that
forked: a request waits forever). A :class:`NativeClient` notices it is in another process
(``os.getpid()``) and builds its ``S3Client`` again there, on a client bootstrap (event-loop
group and DNS resolver) of that process, never awscrt's static default (the parent's, dead in
the child). The parent's objects are kept, never released in the child (releasing them would
wait on the parent's threads). So a module-level client, a gunicorn or Celery prefork worker or
a ``multiprocessing`` pool with the fork start method work as the botocore plane does.

CRT retries are off (``S3RetryMode.NONE``): resilient_s3's classified retries are the only ones.
Nothing secret is kept on :class:`CrtSettings` (credentials are fetched by the delegate at signing
time), and its repr shows the endpoint, region and TLS mode only.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import weakref
from dataclasses import dataclass
from typing import Any

from awscrt import auth
from awscrt import io as crt_io
from awscrt import s3 as crt_s3
from botocore import UNSIGNED
from botocore.client import BaseClient
from botocore.credentials import Credentials
from botocore.exceptions import NoCredentialsError

from ..._internals import credentials, proxied, tls_verify
from .tls import CertificateCheck

__all__ = ["CrtSettings", "NativeClient", "build_crt_client", "settings_of", "unsupported"]

_DEFAULT_READ_TIMEOUT = 60.0
_DEFAULT_CONNECT_TIMEOUT = 60.0


@dataclass(frozen=True)
class CrtSettings:
    """The settings of one boto3 client that the CRT client needs (nothing secret)."""

    region: str
    tls: bool
    #: boto3's ``verify``: ``None``/``True`` (default trust store), ``False``, or a CA bundle path.
    verify: bool | str | None
    connect_timeout: float
    read_timeout: float
    connections: int
    signed: bool
    #: boto3's ``response_checksum_validation`` is not ``"when_required"``: downloads ask for
    #: the object's checksum (``x-amz-checksum-mode: ENABLED``), as botocore does by default.
    checksum_mode: bool = True

    def with_connections(self, connections: int) -> CrtSettings:
        """The same settings with at least ``connections`` connections."""
        if connections <= self.connections:
            return self
        return dataclasses.replace(self, connections=connections)


def settings_of(inner: BaseClient) -> CrtSettings:
    """Read the CRT-relevant settings of the boto3 client ``inner``."""
    config: Any = inner.meta.config
    meta = inner.meta
    endpoint = str(meta.endpoint_url or "")
    return CrtSettings(
        region=meta.region_name or "us-east-1",
        tls=not endpoint.startswith("http://"),
        verify=tls_verify(inner),
        connect_timeout=float(config.connect_timeout or _DEFAULT_CONNECT_TIMEOUT),
        read_timeout=float(config.read_timeout or _DEFAULT_READ_TIMEOUT),
        connections=int(config.max_pool_connections or 10),
        signed=config.signature_version is not UNSIGNED,
        checksum_mode=getattr(config, "response_checksum_validation", None) != "when_required",
    )


def unsupported(inner: BaseClient) -> str | None:
    """A setting of ``inner`` the CRT client cannot honour (the botocore plane runs then), or
    ``None``. The reason names the setting, never its value (a proxy URL can hold a password)."""
    config: Any = inner.meta.config
    if proxied(inner, str(inner.meta.endpoint_url or "")):
        return "the boto3 client goes through an HTTP proxy (Config(proxies) or HTTP(S)_PROXY)"
    if getattr(config, "client_cert", None):
        return "the boto3 client presents a TLS client certificate (Config(client_cert))"
    if config.signature_version not in (None, UNSIGNED, "s3v4", "v4"):
        return f"signature_version={config.signature_version!r} is not SigV4"
    return None


class _Credentials:
    """The delegate behind the CRT's credentials provider: asks the boto3 client each time."""

    __slots__ = ("_inner",)

    def __init__(self, inner: BaseClient) -> None:
        self._inner = weakref.ref(inner)  # the client's batch state holds this: no cycle

    def __call__(self) -> auth.AwsCredentials:
        inner: Any = self._inner()
        found: Any = credentials(inner) if inner is not None else None
        if found is None:
            raise NoCredentialsError()
        frozen = found.get_frozen_credentials()  # refreshes refreshable credentials
        return auth.AwsCredentials(frozen.access_key, frozen.secret_key, frozen.token)

    def __repr__(self) -> str:
        return "<boto3 client credentials>"


class NativeClient:
    """The awscrt S3 client of one boto3 client's settings in this process (built on first
    use, and again in a new process: see the module docstring), and the certificate checks of
    its endpoints (``tls.py``). Its :meth:`make_request` is the ``S3Client``'s."""

    def __init__(self, inner: BaseClient, settings: CrtSettings) -> None:
        self.settings = settings
        self._inner = weakref.ref(inner)  # the client's batch state holds this: no cycle
        self._lock = threading.Lock()
        self._pid = -1
        self._client: crt_s3.S3Client | None = None
        self._certificates = self._new_checks()
        _LIVE.add(self)

    def make_request(self, **options: Any) -> crt_s3.S3Request:
        """``S3Client.make_request`` of this process's client."""
        return self.current().make_request(**options)

    def guard(self, host: str) -> Any:
        """The certificate check of ``host`` for a request (``CertificateCheck.guard``)."""
        self.current()
        return self._certificates.guard(host)

    def wait_guard(self, host: str) -> None:
        """:meth:`guard` for a blocking caller (``CertificateCheck.wait``)."""
        self.current()
        self._certificates.wait(host)

    def current(self) -> crt_s3.S3Client:
        """This process's ``S3Client``, built if this process has none yet."""
        client, pid = self._client, os.getpid()
        if client is not None and self._pid == pid:
            return client
        with self._lock:
            if self._client is None or self._pid != pid:
                inner = self._inner()
                if inner is None:
                    raise RuntimeError("the boto3 client of this native client is gone")
                if self._client is not None:  # the parent's: never released in this process
                    _INHERITED.append(self._client)
                self._client = _build(inner, self.settings, _bootstrap())
                self._pid = pid
            return self._client

    def close(self, timeout: float = 0.0) -> None:
        """Release this process's ``S3Client`` (a later request builds another): the CRT shuts
        it down once its requests are over; wait at most ``timeout`` s for that (``0``: do not
        wait: a client closed at interpreter exit, or by Ctrl-C, with requests hanging must not
        hold the process)."""
        with self._lock:
            client, self._client = self._client, None
            ours = self._pid == os.getpid()
        if client is None or not ours:
            return  # none, or a parent's: never released in this process
        shutdown = client.shutdown_event
        del client  # the last reference: the CRT shuts it down, then sets the event
        if timeout > 0:
            shutdown.wait(timeout)

    def _new_checks(self) -> CertificateCheck:
        settings = self.settings
        return CertificateCheck(settings.tls, settings.verify, settings.connect_timeout)

    def _forked(self) -> None:
        """In a new child (one thread): no lock held, no check waiting on a parent's thread."""
        self._lock = threading.Lock()
        self._certificates = self._new_checks()


def build_crt_client(inner: BaseClient, settings: CrtSettings) -> NativeClient:
    """The native client for ``inner``'s endpoint, credentials and settings (built on first
    use)."""
    return NativeClient(inner, settings)


#: Every native client alive in this process; the objects a parent built, kept in its children.
_LIVE: weakref.WeakSet[NativeClient] = weakref.WeakSet()
_INHERITED: list[object] = []
#: The client bootstrap (event-loop group, DNS resolver) of each process that had one.
_BOOTSTRAPS: dict[int, crt_io.ClientBootstrap] = {}
_BOOTSTRAP_LOCK = threading.Lock()


def _bootstrap() -> crt_io.ClientBootstrap:
    """This process's client bootstrap (awscrt's static default would be the parent's in a
    forked child, with no thread left to run it)."""
    pid = os.getpid()
    with _BOOTSTRAP_LOCK:
        found = _BOOTSTRAPS.get(pid)
        if found is None:
            group = crt_io.EventLoopGroup()
            found = crt_io.ClientBootstrap(group, crt_io.DefaultHostResolver(group))
            _BOOTSTRAPS[pid] = found
        return found


def _after_fork_in_child() -> None:
    global _BOOTSTRAP_LOCK
    _BOOTSTRAP_LOCK = threading.Lock()
    for native in list(_LIVE):
        native._forked()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _build(
    inner: BaseClient, settings: CrtSettings, bootstrap: crt_io.ClientBootstrap
) -> crt_s3.S3Client:
    """A CRT S3 client for ``inner``'s endpoint, credentials and settings, retries off."""
    signing = None
    found = credentials(inner) if settings.signed else None
    if found is not None:
        if type(found) is Credentials:  # fixed keys: no Python call per signing
            frozen = found.get_frozen_credentials()
            provider = auth.AwsCredentialsProvider.new_static(
                frozen.access_key, frozen.secret_key, frozen.token
            )
        else:  # refreshable, deferred...: asked at each signing, so they keep refreshing
            provider = auth.AwsCredentialsProvider.new_delegate(_Credentials(inner))
        signing = crt_s3.create_default_s3_signing_config(
            region=settings.region, credential_provider=provider
        )
    tls_options = None
    if settings.tls and settings.verify not in (None, True):
        context = crt_io.TlsContextOptions()
        if isinstance(settings.verify, str):
            context.override_default_trust_store_from_path(ca_filepath=settings.verify)
        else:
            context.verify_peer = False
        tls_options = crt_io.ClientTlsContext(context).new_connection_options()
    mode = crt_s3.S3RequestTlsMode.ENABLED if settings.tls else crt_s3.S3RequestTlsMode.DISABLED
    return crt_s3.S3Client(
        bootstrap=bootstrap,
        region=settings.region,
        tls_mode=mode,
        signing_config=signing,
        tls_connection_options=tls_options,
        max_active_connections_override=settings.connections,
        retry_config=crt_s3.S3RetryConfig(retry_mode=crt_s3.S3RetryMode.NONE),
        connect_timeout_ms=max(1, int(settings.connect_timeout * 1000)),
    )
