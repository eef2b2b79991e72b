"""CRT outcomes translated, at this one boundary, into what botocore would have raised.

A failed CRT request becomes the botocore exception the same failure raises on the botocore
plane, so the existing :func:`~resilient_s3.classify` tables sort it into the same
:class:`~resilient_s3.ErrorKind` and callers catch the same types:

- an error answer (``S3ResponseError``: status, headers, XML body) is parsed by botocore's own
  response parser into the operation's ``ClientError`` subclass (``NoSuchKey``, a ``SlowDown``
  ``ClientError`` with its ``Retry-After`` headers, a HeadObject's bare ``404``...), its
  ``before-parse`` handlers first: an error the server answered with a 200 (the CRT reports
  one as an ``S3ResponseError`` of status 200) is a 500, as botocore makes it;
  :func:`botocore_answer` does the same for an answer the CRT took for a success;
- a network failure is sorted by the CRT error name: the tables below say whether the request
  can have reached the server (connect, DNS, TLS handshake: it cannot) and whether it is a
  certificate problem (never retried, as on the botocore plane);
- a request body the CRT found shorter or longer than its length is botocore's
  ``HTTPClientError`` (retried: the next attempt measures it again);
- a checksum mismatch on a download is botocore's ``FlexibleChecksumError``;
- anything else stays an ``AwsCrtError`` (not retried: unknown errors are permanent), itself:
  never the bridge's private ``Failed`` wrapper.

The CRT error is kept as ``__cause__``. Messages carry the CRT's name and text, never a URL.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Sequence
from typing import Any

from awscrt.exceptions import AwsCrtError
from awscrt.s3 import S3ResponseError
from botocore import exceptions as bce
from botocore.awsrequest import HeadersDict
from botocore.client import BaseClient
from botocore.handlers import decode_list_object_v2

from ..._internals import parse_answer
from .bridge import Answer
from .headers import joined

__all__ = [
    "AFTER_CALL",
    "AFTER_SEND_ERRORS",
    "BEFORE_SEND_ERRORS",
    "BODILESS_ANSWERS",
    "BODY_ERRORS",
    "CERTIFICATE_ERRORS",
    "TIMEOUT_ERRORS",
    "botocore_answer",
    "translate",
]

#: CRT errors of a request that never reached the server: no connection was made.
BEFORE_SEND_ERRORS: frozenset[str] = frozenset(
    {
        "AWS_IO_SOCKET_CONNECTION_REFUSED",
        "AWS_IO_SOCKET_NO_ROUTE_TO_HOST",
        "AWS_IO_SOCKET_NETWORK_DOWN",
        "AWS_IO_SOCKET_CONNECT_ABORTED",
        "AWS_IO_DNS_QUERY_FAILED",
        "AWS_IO_DNS_INVALID_NAME",
        "AWS_IO_DNS_NO_ADDRESS_FOR_HOST",
        "AWS_IO_DNS_QUERY_AGAIN",
        "AWS_IO_DNS_HOST_REMOVED_FROM_CACHE",
        "AWS_IO_TLS_NEGOTIATION_TIMEOUT",
        "AWS_ERROR_HTTP_CONNECTION_MANAGER_ACQUISITION_TIMEOUT",
        "AWS_ERROR_HTTP_PROXY_CONNECT_FAILED_RETRYABLE",
    }
)
#: CRT errors of a certificate that does not verify: the next attempt fails the same way.
#: On Linux (s2n) an untrusted certificate is reported only as NEGOTIATION_FAILURE, which is
#: why that name is here: a handshake that fails is a configuration to fix (CA bundle, TLS
#: version), as botocore's "certificate verify failed" is; a connection lost meanwhile shows
#: as a socket error instead.
CERTIFICATE_ERRORS: frozenset[str] = frozenset(
    {
        "AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE",
        "AWS_IO_TLS_UNKNOWN_ROOT_CERTIFICATE",
        "AWS_IO_TLS_NO_ROOT_CERTIFICATE_FOUND",
        "AWS_IO_TLS_CERTIFICATE_EXPIRED",
        "AWS_IO_TLS_CERTIFICATE_NOT_YET_VALID",
        "AWS_IO_TLS_BAD_CERTIFICATE",
        "AWS_IO_TLS_PEER_CERTIFICATE_EXPIRED",
        "AWS_IO_TLS_BAD_PEER_CERTIFICATE",
        "AWS_IO_TLS_PEER_CERTIFICATE_REVOKED",
        "AWS_IO_TLS_PEER_CERTIFICATE_UNKNOWN",
        "AWS_IO_TLS_INVALID_CERTIFICATE_CHAIN",
        "AWS_IO_TLS_HOST_NAME_MISMATCH",
        "AWS_IO_TLS_ERROR_DEFAULT_TRUST_STORE_NOT_FOUND",
    }
)
#: CRT errors of a connection that failed after the request may have reached the server.
AFTER_SEND_ERRORS: frozenset[str] = frozenset(
    {
        "AWS_IO_SOCKET_CLOSED",
        "AWS_IO_SOCKET_NOT_CONNECTED",
        "AWS_IO_BROKEN_PIPE",
        "AWS_IO_TLS_ERROR_READ_FAILURE",
        "AWS_IO_TLS_ERROR_WRITE_FAILURE",
        "AWS_IO_TLS_CLOSED_ABORT",
        "AWS_IO_TLS_ALERT_NOT_GRACEFUL",
        "AWS_ERROR_HTTP_CONNECTION_CLOSED",
        "AWS_ERROR_HTTP_SERVER_CLOSED",
        "AWS_ERROR_HTTP_PROTOCOL_ERROR",
        "AWS_ERROR_S3_INCORRECT_CONTENT_LENGTH",
        "AWS_ERROR_S3_MISSING_CONTENT_LENGTH_HEADER",
        "AWS_ERROR_S3_INVALID_CONTENT_LENGTH_HEADER",
        "AWS_ERROR_S3_MISSING_ETAG",
        "AWS_ERROR_S3_OBJECT_MODIFIED",
    }
)
#: CRT errors of a request body that was not what was measured (a file that shrank or grew
#: after its length was taken): botocore's ``HTTPClientError``, retried as botocore retries it
#: (each attempt measures the body again).
BODY_ERRORS: frozenset[str] = frozenset(
    {"AWS_ERROR_HTTP_OUTGOING_STREAM_LENGTH_INCORRECT", "AWS_ERROR_HTTP_INVALID_BODY_STREAM"}
)
#: CRT errors of an answer that did not come in time (read timeouts).
TIMEOUT_ERRORS: frozenset[str] = frozenset(
    {
        "AWS_IO_SOCKET_TIMEOUT",
        "AWS_ERROR_HTTP_RESPONSE_FIRST_BYTE_TIMEOUT",
        "AWS_ERROR_S3_REQUEST_TIMEOUT",
    }
)
#: CRT errors of an answer without an XML error body (a HEAD's, or one the CRT read itself):
#: name -> (the S3 error code, the status when the CRT gave none). Without a known code, the
#: code is the status, as botocore makes it for a bodiless error answer.
BODILESS_ANSWERS: dict[str, tuple[str, int]] = {
    "AWS_ERROR_S3_SLOW_DOWN": ("SlowDown", 503),
    "AWS_ERROR_S3_INTERNAL_ERROR": ("InternalError", 500),
    "AWS_ERROR_S3_REQUEST_TIME_TOO_SKEWED": ("RequestTimeTooSkewed", 403),
}
#: botocore's ``after-call`` handlers of the operations whose XML answers the native transport
#: parses, by operation: what they change in an answer (a listing's url-encoded keys decoded
#: when botocore's own handler asked for ``encoding-type=url``, not the caller).
AFTER_CALL: dict[str, Callable[..., None]] = {"ListObjectsV2": decode_list_object_v2}
_CHECKSUM_ERRORS = frozenset(
    {"AWS_ERROR_S3_RESPONSE_CHECKSUM_MISMATCH", "AWS_ERROR_S3_RESUMED_PART_CHECKSUM_MISMATCH"}
)


def translate(
    error: BaseException,
    inner: BaseClient,
    operation: str,
    endpoint: str,
    status: int = 0,
    headers: Sequence[tuple[str, str]] = (),
) -> BaseException:
    """The botocore exception for the CRT failure ``error`` of ``operation`` (see the module
    docstring); ``endpoint`` names the server (scheme, host and port only); ``status`` and
    ``headers`` are those of the answer, if one came."""
    if isinstance(error, S3ResponseError) and error.status_code:
        return _client_error(error, inner, operation)
    if not isinstance(error, AwsCrtError):
        return error  # raised by our own callback (a local file, a cancellation): as it is
    name = str(error.name)
    translated: BaseException
    if name in BODILESS_ANSWERS or (
        status >= 300 and name == "AWS_ERROR_S3_INVALID_RESPONSE_STATUS"
    ):
        code, default_status = BODILESS_ANSWERS.get(name, (str(status), status))
        response = {
            "Error": {"Code": code, "Message": name},
            "ResponseMetadata": {
                "HTTPStatusCode": status or default_status,
                "HTTPHeaders": {k.lower(): v for k, v in headers},
            },
        }
        error_class: Any = inner.exceptions.from_code(code)
        translated = error_class(response, operation)
    elif name in CERTIFICATE_ERRORS:
        translated = bce.SSLError(
            endpoint_url=endpoint,
            error=ssl.SSLCertVerificationError(f"certificate verify failed: {name}"),
        )
    elif name in BEFORE_SEND_ERRORS:
        translated = bce.EndpointConnectionError(endpoint_url=endpoint, error=name)
    elif name in TIMEOUT_ERRORS:
        translated = bce.ReadTimeoutError(endpoint_url=endpoint, error=name)
    elif name in AFTER_SEND_ERRORS:
        translated = bce.ConnectionClosedError(endpoint_url=endpoint, error=name)
    elif name in BODY_ERRORS:
        translated = bce.HTTPClientError(error=name)
    elif name in _CHECKSUM_ERRORS:
        translated = bce.FlexibleChecksumError(error_msg=f"{operation}: {name}")
    else:
        unknown: BaseException = error
        return unknown
    translated.__cause__ = error
    return translated


def _parse(
    inner: BaseClient,
    operation: str,
    status: int,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An answer of ``operation`` parsed as botocore parses it: ``inner``'s ``before-parse``
    handlers and response parser (``_internals.parse_answer``), the ``RetryAttempts`` botocore's
    endpoint adds (0: one attempt, retries are ours), then botocore's ``after-call`` handler of
    the operation (:data:`AFTER_CALL`) with the call's ``context`` (what its
    ``before-parameter-build`` handlers noted when the request was built)."""
    lowered = HeadersDict(joined(headers))
    parsed = parse_answer(inner, operation, status, lowered, body)
    if isinstance(parsed.get("ResponseMetadata"), dict):
        parsed["ResponseMetadata"]["RetryAttempts"] = 0
    after_call = AFTER_CALL.get(operation)
    if after_call is not None:
        after_call(parsed=parsed, context={} if context is None else context)
    return parsed


def botocore_answer(
    inner: BaseClient, operation: str, answer: Answer, context: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An XML ``answer`` the CRT took for a success, parsed as botocore parses it (``context``:
    the call's, given to the request when it was built); raised as botocore's client raises it
    when parsing made it an error (a 200 whose body is an XML error, as CompleteMultipartUpload
    and CopyObject may answer, or is cut short: a 500)."""
    status = answer.status
    parsed = _parse(inner, operation, status, answer.headers, answer.body, context)
    if int(parsed.get("ResponseMetadata", {}).get("HTTPStatusCode", status)) >= 300:
        raise _error_of(inner, parsed, operation)
    return parsed


def _client_error(error: S3ResponseError, inner: BaseClient, operation: str) -> BaseException:
    name = error.operation_name or operation
    parsed = _parse(inner, name, error.status_code, error.headers or (), error.body or b"")
    translated = _error_of(inner, parsed, name)
    translated.__cause__ = error
    return translated


def _error_of(inner: BaseClient, parsed: dict[str, Any], operation: str) -> BaseException:
    """The ``ClientError`` subclass botocore raises for the error answer ``parsed``."""
    code = str(parsed.get("Error", {}).get("Code", ""))
    found: Any = inner.exceptions.from_code(code)
    translated: BaseException = found(parsed, operation)
    return translated
