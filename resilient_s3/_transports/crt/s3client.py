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

CRT retries are off (``S3RetryMode.NONE``): resilient_s3's classified retries are the only ones.
Nothing secret is kept on :class:`CrtSettings` (credentials are fetched by the delegate at signing
time), and its repr shows the endpoint, region and TLS mode only.
"""

from __future__ import annotations

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
from .support import note_started

__all__ = ["CrtSettings", "build_crt_client", "settings_of", "unsupported"]

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

    def with_connections(self, connections: int) -> CrtSettings:
        """The same settings with at least ``connections`` connections."""
        if connections <= self.connections:
            return self
        return CrtSettings(
            self.region, self.tls, self.verify, self.connect_timeout, self.read_timeout,
            connections, self.signed,
        )  # fmt: skip


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


def build_crt_client(inner: BaseClient, settings: CrtSettings) -> crt_s3.S3Client:
    """A CRT S3 client for ``inner``'s endpoint, credentials and settings, retries off."""
    note_started()  # awscrt's event loops run in this process from now on (not in a fork)
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
        region=settings.region,
        tls_mode=mode,
        signing_config=signing,
        tls_connection_options=tls_options,
        max_active_connections_override=settings.connections,
        retry_config=crt_s3.S3RetryConfig(retry_mode=crt_s3.S3RetryMode.NONE),
        connect_timeout_ms=max(1, int(settings.connect_timeout * 1000)),
    )
