"""A CA bundle that cannot be read fails the request before it is sent, naming the file.

boto3 takes a CA bundle path (``verify="/path/ca.pem"``, ``AWS_CA_BUNDLE``, ``ca_bundle`` in
the config file) and loads it only when a connection starts TLS; a missing or unreadable file
then surfaces as ``SSLError: SSL validation failed for <url> [Errno 2] No such file or
directory``, naming no file. A ``before-send`` handler checks the path botocore resolved
(kept on the client's HTTP session: botocore has no public accessor for it) before each
https request, until it has been found readable once, and raises botocore's own ``SSLError``
with the path, caused by the ``OSError``: :func:`~resilient_s3.classify` sorts that
PERMANENT, raised before sending (0 attempts).
"""

from __future__ import annotations

from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import SSLError

from ._internals import tls_verify

__all__ = ["check_ca_bundle"]

_UNIQUE_ID = "resilient-s3-ca-bundle"


def check_ca_bundle(inner: BaseClient) -> None:
    """Register the check on ``inner`` (once; nothing when it has no CA bundle path)."""
    path = tls_verify(inner)
    if not isinstance(path, str):
        return  # True/False/None: the default bundle, or no verification
    readable = False

    def before_send(request: Any, **_: Any) -> None:
        nonlocal readable
        if readable or not str(getattr(request, "url", "")).lower().startswith("https:"):
            return
        problem = _problem(path)
        if problem is None:
            readable = True
            return
        raise SSLError(endpoint_url=request.url, error=problem) from problem

    inner.meta.events.register_first("before-send.s3", before_send, unique_id=_UNIQUE_ID)


def _problem(path: str) -> OSError | None:
    """Why ``path`` cannot serve as a CA bundle (botocore loads it as a file), or ``None``."""
    try:
        with open(path, "rb") as bundle:
            bundle.read(1)
    except OSError as error:
        return type(error)(
            error.errno, f"the TLS CA bundle {path!r} cannot be read ({error.strerror})"
        )
    return None
