"""Derive a coarse S3 operation name from an HTTP request (path-style addressing).

The proxy never parses a request body or checks a signature: it only looks at the method, the path
and the query-parameter *names*, the way S3 itself routes a REST request. The result is deliberately
coarse: the operations a resilience test cares about get their own name, all else is ``"Other"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["OPERATION_NAMES", "RequestTarget", "classify_request"]

#: Every operation name :func:`classify_request` can return (and that ``Fault.operations`` accepts).
OPERATION_NAMES: frozenset[str] = frozenset(
    {
        "AbortMultipartUpload",
        "CompleteMultipartUpload",
        "CopyObject",
        "CreateBucket",
        "CreateMultipartUpload",
        "DeleteBucket",
        "DeleteObject",
        "DeleteObjects",
        "GetObject",
        "HeadBucket",
        "HeadObject",
        "ListBuckets",
        "ListMultipartUploads",
        "ListObjectVersions",
        "ListObjects",
        "ListObjectsV2",
        "ListParts",
        "Other",
        "PutObject",
        "UploadPart",
        "UploadPartCopy",
    }
)

#: Query parameters that select a variant of an object read rather than another sub-resource.
_OBJECT_READ_PARAMS = frozenset({"versionId", "partNumber", "x-id"})
#: Query parameters of a plain ListObjects (v1) call.
_LIST_V1_PARAMS = frozenset({"prefix", "delimiter", "marker", "max-keys", "encoding-type", "x-id"})
#: Query parameters that do not change which object operation a PUT/DELETE is.
_OBJECT_PLAIN_PARAMS = frozenset({"versionId", "x-id"})


@dataclass(frozen=True)
class RequestTarget:
    """What a request addresses: its bucket, its (decoded) object key and its operation name.

    ``bucket`` and ``key`` are ``""`` when absent (``GET /`` has neither; a bucket-level request has
    ``key == ""``). ``operation`` is one of :data:`OPERATION_NAMES`.
    """

    bucket: str
    key: str
    operation: str


def classify_request(method: str, target: str, copy_source: bool = False) -> RequestTarget:
    """Classify one request by its method, its request target (path and query) and one header.

    Args:
        method: The HTTP method, any case.
        target: The request target as sent on the request line, e.g. ``"/bucket/a%20b?uploads"``.
        copy_source: Whether the request carries an ``x-amz-copy-source`` header (CopyObject and
            UploadPartCopy are PUTs that differ from PutObject and UploadPart only by it).

    Returns:
        The bucket, the percent-decoded key and the operation name.
    """
    split = urlsplit(target)
    bucket, _, raw_key = split.path.lstrip("/").partition("/")
    bucket, key = unquote(bucket), unquote(raw_key)
    params = {name for name, _ in parse_qsl(split.query, keep_blank_values=True)}
    method = method.upper()
    if not bucket:
        operation = "ListBuckets" if method == "GET" else "Other"
    elif key:
        operation = _object_operation(method, params, copy_source)
    else:
        operation = _bucket_operation(method, params)
    return RequestTarget(bucket=bucket, key=key, operation=operation)


def _object_operation(method: str, params: set[str], copy_source: bool) -> str:
    """Name a request addressed to an object key."""
    plain = params <= _OBJECT_PLAIN_PARAMS
    if method == "HEAD":
        return "HeadObject"
    if method == "GET":
        if "uploadId" in params:
            return "ListParts"
        reads = {p for p in params if not p.startswith("response-")}
        return "GetObject" if reads <= _OBJECT_READ_PARAMS else "Other"
    if method == "PUT":
        if {"partNumber", "uploadId"} <= params:
            return "UploadPartCopy" if copy_source else "UploadPart"
        if plain:
            return "CopyObject" if copy_source else "PutObject"
        return "Other"
    if method == "DELETE":
        if "uploadId" in params:
            return "AbortMultipartUpload"
        return "DeleteObject" if plain else "Other"
    if method == "POST":
        if "uploads" in params:
            return "CreateMultipartUpload"
        if "uploadId" in params:
            return "CompleteMultipartUpload"
    return "Other"


def _bucket_operation(method: str, params: set[str]) -> str:
    """Name a request addressed to a bucket (no key)."""
    if method == "HEAD":
        return "HeadBucket"
    if method == "GET":
        if "list-type" in params:
            return "ListObjectsV2"
        if "versions" in params:
            return "ListObjectVersions"
        if "uploads" in params:
            return "ListMultipartUploads"
        return "ListObjects" if params <= _LIST_V1_PARAMS else "Other"
    if method == "PUT" and not params:
        return "CreateBucket"
    if method == "DELETE" and not params:
        return "DeleteBucket"
    if method == "POST" and "delete" in params:
        return "DeleteObjects"
    return "Other"
