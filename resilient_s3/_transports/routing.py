"""Which transport serves a front door's call: awscrt's for the object operations it can serve
as botocore would, botocore for everything else.

A call goes **native** (``_transports/crt/door.py``) when all of these hold:

- awscrt is installed and new enough, and this botocore resolves endpoints by rules (the
  native requests are built by botocore's serializer and endpoint rules);
- the client's ``Config`` is one the native client honours: no HTTP proxy, no TLS client
  certificate, SigV4 (or unsigned) signing (``crt/s3client.unsupported``);
- the client has no ``rate_limit`` (its tokens are taken in botocore's ``before-send``);
- nobody registered a handler on ``s3.meta.events`` (a handler of the caller's must run, as in
  boto3): handlers of botocore, boto3 and s3transfer, and resilient_s3's own that the native
  path does itself (the CA bundle check, the batch's pacing hooks, which act only in a batch's
  worker threads) do not count, but botocore's ``Stubber`` does. Registrations are noticed when
  they happen (botocore's
  emitter replaces its lookup cache), at no cost per call otherwise;
- botocore is not instrumented (OpenTelemetry's botocore instrumentation: its spans are made
  around botocore's calls only);
- the operation is one of :data:`NATIVE_OPERATIONS`, and its body one the native transport
  sends (bytes, ``str``, a seekable file); a GetObject only when its answer is known to be
  small enough to arrive whole (``sizes.py``: a small ``Range``, or an object this client saw,
  pinned to its ETag); any other streams through botocore.

Otherwise botocore serves it. One DEBUG line per client (and again whenever the answer for the
client changes) says which path object operations take and why; ``s3.stats.paths`` counts the
requests each path sent (calls, the verifier's read-backs and re-uploads, resumed reads).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from botocore.client import BaseClient

from .._internals import (
    botocore_instrumented,
    can_resolve_endpoints,
    event_handlers,
    events_version,
    tls_verify,
)
from .._stats import Stats
from .sizes import KnownSizes

__all__ = ["NATIVE_OPERATIONS", "Routing", "door_refusal", "handlers_refusal"]

logger = logging.getLogger("resilient_s3")
T = TypeVar("T")

#: The operations the native transport serves for the front doors: the object operations of
#: the hot path (a header-only answer each: ``crt/headers.py``), CopyObject and ListObjectsV2
#: (XML answers parsed by botocore's own parser, its ``before-parse`` handlers first; a
#: listing's keys, url-encoded at botocore's request, decoded by botocore's ``after-call``
#: handler with the call's context: ``crt/outcome.py``). A paginator's pages are the door's
#: calls, so they go native too. And the multipart steps of boto3's managed transfers
#: (``upload_file``, ``upload_fileobj``: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
#: AbortMultipartUpload) and ListParts: their ``Callback=`` progress counts each byte once
#: (``crt/transport.py``), a Complete answered 200 with an XML error is raised as botocore raises
#: it. Measured on SeaweedFS (one run, two rounds): 3 x ``upload_file`` of 64 MiB in 8 MiB parts
#: took 0.45-0.59 s of client CPU natively against 1.48-1.76 s on botocore (wall 2.6-3.0 s
#: against 3.2-4.4 s); 30 ListObjectsV2 pages of 200 keys 0.86-0.89 s against 1.09-1.12 s (both
#: parse the XML with botocore's parser, which is most of a page's cost).
NATIVE_OPERATIONS = frozenset(
    {
        "PutObject",
        "GetObject",
        "HeadObject",
        "DeleteObject",
        "CopyObject",
        "ListObjectsV2",
        "CreateMultipartUpload",
        "UploadPart",
        "CompleteMultipartUpload",
        "AbortMultipartUpload",
        "ListParts",
    }
)
#: Handlers that do not keep a call on botocore: botocore's, boto3's and s3transfer's own, and
#: resilient_s3's whose work the native path does itself (``_tls.py``: the native client checks
#: the CA bundle; the batch's pacing hooks act only in a batch's worker threads).
_OWN_HANDLERS = (
    "botocore.",
    "boto3.",
    "s3transfer.",
    "resilient_s3._tls.",
    "resilient_s3.batch._pacing.worker_hooks.",
)
#: botocore's Stubber: a test's handlers (its answers must come from it, as in boto3).
_STUB = "botocore.stub."
_BODIES = (bytes, bytearray, memoryview, str)
_INSTRUMENTED = "botocore is instrumented (its spans are made around botocore's calls only)"


def door_refusal(inner: BaseClient, rate_limited: bool) -> str | None:
    """Why ``inner``'s calls cannot go native whatever they are (see the module docstring), or
    ``None``. The reason names a setting, never its value."""
    from .crt import crt_unavailable

    reason = crt_unavailable()
    if reason is None and not can_resolve_endpoints(inner):
        reason = "this botocore has no endpoint-rules resolver to build requests with"
    if reason is None:
        from .crt.s3client import unsupported

        reason = unsupported(inner)
    bundle = tls_verify(inner)
    if reason is None and isinstance(bundle, str) and not os.path.isfile(bundle):
        reason = "the CA bundle is not a readable file (botocore names it in its SSLError)"
    if reason is None and rate_limited:
        reason = "the client has a rate_limit (its tokens are taken in botocore's before-send)"
    return reason


def handlers_refusal(inner: BaseClient) -> str | None:
    """Why the handlers on ``inner.meta.events`` keep calls on botocore, or ``None``."""
    handlers = event_handlers(inner)
    if handlers is None:
        return "the client's event system is not botocore's (its handlers cannot be read)"
    foreign = sorted({f"{event}: {name}" for event, name in handlers
                      if not name.startswith(_OWN_HANDLERS) or name.startswith(_STUB)})  # fmt: skip
    if foreign:
        return f"handlers are registered on s3.meta.events ({'; '.join(foreign[:3])})"
    return None


class Routing(Generic[T]):
    """The route of one front door's calls: ``native`` (made on first use, ``None`` when the
    client cannot go native at all) or ``botocore`` (see the module docstring). ``door`` names
    the door in the DEBUG line (``"resilient_s3.aio"``); ``here()`` says why a call in the
    calling thread must stay on botocore (``None``: it need not)."""

    def __init__(
        self,
        inner: BaseClient,
        stats: Stats,
        botocore: T,
        native: Callable[[], T] | None,
        refusal: str | None,
        door: str,
        sizes: KnownSizes,
        here: Callable[[], str | None] | None = None,
    ) -> None:
        self._inner = inner
        self._sizes = sizes
        self._stats = stats
        self._botocore = botocore
        self._make_native = native
        self._native: T | None = None
        if refusal is None and native is not None:  # made now: a call's deadline is its own
            self._native = native()
        self._refusal = refusal  # the client's own, fixed
        self._door = door
        self._here = here
        self._lock = threading.Lock()
        self._seen: object = _UNSEEN  # the events version the current answer is for
        self._why: str | None = refusal
        self._told: str | object | None = _UNSEEN

    def reason(self) -> str | None:
        """Why object operations go to botocore now, or ``None`` (they go native)."""
        if self._refusal is not None:
            self._tell(self._refusal)
            return self._refusal
        version = events_version(self._inner)
        if version is not self._seen or version is None:
            why = handlers_refusal(self._inner)
            with self._lock:
                self._seen, self._why = version, why
        why = self._why
        if why is None and botocore_instrumented():  # may come at any time: asked each call
            why = _INSTRUMENTED
        self._tell(why)
        return why

    def route(self, operation: str, params: Mapping[str, Any]) -> T:
        """The transport that sends ``operation`` with ``params``; counted in ``stats.paths``."""
        if (
            operation in NATIVE_OPERATIONS
            and _servable(params)
            and (operation != "GetObject" or self._sizes.bound(params) is not None)
            and self.reason() is None
            and (self._here is None or self._here() is None)
        ):
            transport = self._native
            if transport is None:
                transport = self._native_transport()
            self._stats.path("crt")
            return transport
        self._stats.path("botocore")
        return self._botocore

    def _native_transport(self) -> T:
        with self._lock:
            if self._native is None:
                assert self._make_native is not None  # no refusal: awscrt is there
                self._native = self._make_native()
            return self._native

    def _tell(self, why: str | None) -> None:
        """The DEBUG line, once per client and answer."""
        if why == self._told:
            return
        self._told = why
        if why is None:
            logger.debug(
                "%s client: object operations (%s) on the native transport (awscrt), the "
                "rest on botocore",
                self._door,
                ", ".join(sorted(NATIVE_OPERATIONS)),
            )
        else:
            logger.debug("%s client: every operation on botocore: %s", self._door, why)


_UNSEEN = object()


def _servable(params: Mapping[str, Any]) -> bool:
    """Whether the native transport sends this request's body (none, bytes, ``str``, or a
    seekable file: ``crt/transport.py``; s3transfer's parts, ``ReadFileChunk``, seek and tell
    without ``seekable()``)."""
    body = params.get("Body")
    if body is None or isinstance(body, _BODIES):
        return True
    if not hasattr(body, "read"):
        return False
    seekable = getattr(body, "seekable", None)
    if seekable is None:
        return hasattr(body, "seek") and hasattr(body, "tell")
    return callable(seekable) and bool(seekable())
