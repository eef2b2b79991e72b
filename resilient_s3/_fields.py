"""The fields of a botocore answer, read in one place: S3 error code, HTTP status, headers.

Each accessor takes a ``ClientError`` (its ``response``), a parsed response ``dict`` (what an
operation returns, or what botocore's ``needs-retry`` event hands over), or ``None``, and never
raises for a missing field: botocore fills ``Error`` and ``ResponseMetadata`` only when the
server answered, as botocore's own ``RetryContext.get_error_code`` reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

__all__ = ["error_code", "error_label", "http_headers", "http_status"]


def _response(source: BaseException | Mapping[str, Any] | None) -> Mapping[str, Any]:
    if isinstance(source, ClientError):
        return source.response
    if isinstance(source, Mapping):
        return source
    return {}


def error_code(source: BaseException | Mapping[str, Any] | None) -> str:
    """The S3 error code (``"NoSuchKey"``, ``"SlowDown"``...), or ``""`` when there is none."""
    error = _response(source).get("Error") or {}
    return str(error.get("Code") or "")


def error_label(error: BaseException) -> str:
    """``"ClientError(SlowDown)"``: the class and, for an answer, its S3 error code; never the
    message (it can hold a URL, and a URL can hold a signature)."""
    if isinstance(error, ClientError):
        return f"{type(error).__name__}({error_code(error) or '?'})"
    return type(error).__name__


def http_status(source: BaseException | Mapping[str, Any] | None) -> int | None:
    """The HTTP status the server answered with, or ``None`` when none is known."""
    status = (_response(source).get("ResponseMetadata") or {}).get("HTTPStatusCode")
    return status if isinstance(status, int) else None


def http_headers(source: BaseException | Mapping[str, Any] | None) -> Mapping[str, str]:
    """The answer's HTTP headers (lower-case names), or an empty mapping."""
    headers = (_response(source).get("ResponseMetadata") or {}).get("HTTPHeaders")
    return headers if isinstance(headers, Mapping) else {}
