"""Span and metric attribute names, and the attributes of a call or a batch.

Names follow OpenTelemetry's semantic conventions for AWS SDK calls where one exists
(``rpc.*``, ``aws.s3.*``, ``cloud.region``, ``server.*``, ``error.type``); ours are under
``resilient_s3.``. Nothing here reads a credential, a header, a URL query or an exception
message: only the bucket, the operation, error codes and kinds, counts, and the key when the
policy asks for it. Pure functions: importing this module imports no OpenTelemetry.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

__all__ = [
    "ATTEMPTS",
    "BATCH_PREFIX",
    "BUCKET",
    "ERROR_KIND",
    "ERROR_TYPE",
    "METHOD",
    "READ_BACK",
    "REQUEST_ID",
    "RESUME_OFFSET",
    "batch_attributes",
    "call_attributes",
    "client_attributes",
    "error_type",
    "request_id",
    "scope_version",
]

SYSTEM, SERVICE, METHOD = "rpc.system", "rpc.service", "rpc.method"
BUCKET, KEY, COPY_SOURCE = "aws.s3.bucket", "aws.s3.key", "aws.s3.copy_source"
PART = "aws.s3.part_number"
REQUEST_ID = "aws.request_id"
ERROR_TYPE = "error.type"
ATTEMPTS = "resilient_s3.attempts"
ERROR_KIND = "resilient_s3.error.kind"
READ_BACK = "resilient_s3.read_back"
RESUME_OFFSET = "resilient_s3.resume.offset"
BATCH_PREFIX = "resilient_s3.batch."


@functools.cache
def scope_version() -> str | None:
    """The installed resilient-s3 version, for the tracer's and meter's instrumentation scope."""
    try:
        return metadata.version("resilient-s3")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return None


def client_attributes(region: str | None, endpoint_url: str | None) -> dict[str, Any]:
    """What every span of one client carries: the RPC system and service, region, server."""
    attributes: dict[str, Any] = {SYSTEM: "aws-api", SERVICE: "S3"}
    if region:
        attributes["cloud.region"] = region
    if endpoint_url:
        parts = urlsplit(endpoint_url)  # scheme://host[:port]: credentials are never in it
        if parts.hostname:
            attributes["server.address"] = parts.hostname
        if parts.port:
            attributes["server.port"] = parts.port
    return attributes


def call_attributes(
    base: Mapping[str, Any], operation: str, params: Mapping[str, Any], record_keys: bool
) -> dict[str, Any]:
    """The attributes of a call span: ``base``, the operation, the bucket (the key if asked)."""
    attributes = {**base, METHOD: operation}
    bucket = params.get("Bucket")
    if isinstance(bucket, str):
        attributes[BUCKET] = bucket
    part = params.get("PartNumber")
    if isinstance(part, int):
        attributes[PART] = part
    if record_keys:
        key = params.get("Key")
        if isinstance(key, str):
            attributes[KEY] = key
        source = params.get("CopySource")
        if isinstance(source, Mapping):
            source = f"{source.get('Bucket', '')}/{source.get('Key', '')}"
        if isinstance(source, str):
            attributes[COPY_SOURCE] = source
    return attributes


def request_id(response: Any) -> str | None:
    """The request id S3 answered with (``ResponseMetadata.RequestId``), if any."""
    if isinstance(response, Mapping):
        metadata = response.get("ResponseMetadata")
        if isinstance(metadata, Mapping):
            value = metadata.get("RequestId")
            return value if isinstance(value, str) and value else None
    return None


def error_type(error: BaseException) -> str:
    """``error.type``: the S3 error code of a ClientError, else the exception's class name.

    Never the message: a message can hold a URL, and a URL can hold a signature.
    """
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code")
        if code:
            return str(code)
    return type(error).__name__


def batch_attributes(stats: Any, stopped: str | None) -> dict[str, Any]:
    """The counts of a finished batch (a :class:`~resilient_s3.batch.BatchStats`)."""
    attributes: dict[str, Any] = {
        BATCH_PREFIX + name: getattr(stats, name)
        for name in (
            "items", "succeeded", "failed", "bytes", "requests", "throttled", "verified",
            "reuploads", "list_requests",
        )
    }  # fmt: skip
    attributes[BATCH_PREFIX + "retries"] = sum(stats.retries.values())
    for kind, count in sorted(stats.retries.items()):
        attributes[f"{BATCH_PREFIX}retries.{kind}"] = count
    attributes[BATCH_PREFIX + "seconds"] = round(stats.seconds, 6)
    if stats.adaptive_rate is not None:
        attributes[BATCH_PREFIX + "adaptive_rate"] = stats.adaptive_rate
    if stopped is not None:
        attributes[BATCH_PREFIX + "stopped"] = stopped
    return attributes
