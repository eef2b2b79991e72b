"""Whether the awscrt in this process can carry the native transport, decided by what the
transport uses rather than by a version number.

The ``[crt]`` extra takes awscrt at any version from the one botocore's own ``crt`` extra pins
at our botocore floor, with no upper bound, so that ``boto3[crt]`` (which pins awscrt exactly,
and moves the pin with each botocore release) always installs beside it. The awscrt found may
then be older or newer than the transport was written for: :func:`missing` looks up every class,
enum member and keyword argument the transport hands to awscrt (:data:`NEEDED`,
:data:`KEYWORDS`), and names the first that is not there. The batch then runs on the threaded
plane, with one INFO line per client saying why (``batch/_planes/native.py``).

``BOTO_DISABLE_CRT=true``, botocore's switch (boto3's CRT transfer manager honours it too), turns
the native transport off as well (:func:`disabled_reason`): with it, nothing in the process uses
awscrt's S3 client.

Nothing here imports awscrt at module level; :func:`missing` imports it when asked.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

__all__ = [
    "INSTALL_HINT",
    "KEYWORDS",
    "NEEDED",
    "disabled_reason",
    "missing",
]

INSTALL_HINT = "pip install 'resilient-s3[crt]' for the native transport"

#: Per awscrt module, the names the native transport reads from it (``Class.MEMBER`` for enum
#: members and class methods). ``tests/batch/test_native_support.py`` checks that every awscrt
#: name used in ``_transports/crt/`` is listed here.
NEEDED: Mapping[str, tuple[str, ...]] = {
    "awscrt.s3": (
        "S3Client",
        "S3Request",
        "S3RequestType.DEFAULT",
        "S3RequestType.PUT_OBJECT",
        "S3RequestTlsMode.ENABLED",
        "S3RequestTlsMode.DISABLED",
        "S3RetryConfig",
        "S3RetryMode.NONE",  # the CRT's own retries off: 0.38 and later
        "S3ChecksumConfig",
        "S3ChecksumAlgorithm.CRC32",
        "S3ChecksumAlgorithm.CRC32C",
        "S3ChecksumAlgorithm.CRC64NVME",
        "S3ChecksumAlgorithm.SHA1",
        "S3ChecksumAlgorithm.SHA256",
        "S3ChecksumLocation.HEADER",
        "S3ResponseError",
        "create_default_s3_signing_config",
    ),
    "awscrt.auth": (
        "AwsCredentials",
        "AwsCredentialsProvider.new_static",
        "AwsCredentialsProvider.new_delegate",
        "AwsSigningConfig",
    ),
    "awscrt.http": ("HttpHeaders", "HttpRequest"),
    "awscrt.io": (
        "ClientBootstrap",
        "ClientTlsContext",
        "DefaultHostResolver",
        "EventLoopGroup",
        "TlsContextOptions",
    ),
    "awscrt.exceptions": ("AwsCrtError",),
}

#: Per callable (module, then its dotted name), the keyword arguments the transport passes.
KEYWORDS: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("awscrt.s3", "S3Client"): (
        "bootstrap",
        "region",
        "tls_mode",
        "signing_config",
        "tls_connection_options",
        "max_active_connections_override",
        "retry_config",
        "connect_timeout_ms",
    ),
    ("awscrt.s3", "S3Client.make_request"): (
        "type",
        "request",
        "operation_name",
        "on_headers",
        "on_body",
        "on_done",
        "on_progress",
        "signing_config",
        "checksum_config",
        "part_size",
        "multipart_upload_threshold",
        "send_filepath",
    ),
    ("awscrt.s3", "S3ChecksumConfig"): ("algorithm", "location"),
    ("awscrt.s3", "S3RetryConfig"): ("retry_mode",),
    ("awscrt.s3", "create_default_s3_signing_config"): ("region", "credential_provider"),
    ("awscrt.auth", "AwsSigningConfig"): ("region",),
}


def missing(load: Callable[[str], ModuleType] = importlib.import_module) -> str | None:
    """Why the native transport cannot run on the awscrt that ``load`` imports (the installed
    one by default), or ``None``: awscrt not installed, failing to import, or lacking a name or
    a keyword argument the transport uses (the first one found is named)."""
    try:
        modules = {name: load(name) for name in ("awscrt", *NEEDED)}
    except ModuleNotFoundError as error:
        if error.name == "awscrt":
            return f"awscrt is not installed ({INSTALL_HINT})"
        return f"awscrt does not import ({error})"
    except ImportError as error:  # a broken build: its native library fails to load
        return f"awscrt does not import ({error})"
    version = getattr(modules["awscrt"], "__version__", "?")
    for module, names in NEEDED.items():
        for name in names:
            if _lookup(modules[module], name) is None:
                return f"awscrt {version} has no {module}.{name}, which the native transport uses"
    for (module, name), keywords in KEYWORDS.items():
        accepted = _keywords(_lookup(modules[module], name))
        for keyword in keywords:
            if accepted is not None and keyword not in accepted:
                return (
                    f"awscrt {version}'s {module}.{name}() takes no {keyword}=, which the native "
                    "transport passes"
                )
    return None


def disabled_reason() -> str | None:
    """``BOTO_DISABLE_CRT=true`` in the environment (read as botocore reads it), or ``None``."""
    if os.environ.get("BOTO_DISABLE_CRT", "false").lower() == "true":
        return "BOTO_DISABLE_CRT=true (botocore's switch, which boto3's CRT transfers honour too)"
    return None


def _lookup(module: ModuleType, dotted: str) -> Any:
    found: Any = module
    for part in dotted.split("."):
        found = getattr(found, part, None)
        if found is None:
            return None
    return found


def _keywords(target: Any) -> frozenset[str] | None:
    """The keyword arguments ``target`` accepts, or ``None`` when it takes any (``**kwargs``)
    or its signature cannot be read (a C function: then the call itself will tell)."""
    try:
        parameters = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return frozenset(p.name for p in parameters if p.kind is not inspect.Parameter.POSITIONAL_ONLY)
