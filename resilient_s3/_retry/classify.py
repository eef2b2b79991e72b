"""Sort an exception into an :class:`ErrorKind`: a pure function over frozen tables.

The tables are ``frozenset`` constants gathered in :class:`ErrorTables`; pass your own
``ErrorTables(...)`` (for instance ``dataclasses.replace(DEFAULT_TABLES, ...)``) to
:func:`classify` or to :class:`~resilient_s3.RetryPolicy` to change them. docs/errors.md
documents every row.
"""

from __future__ import annotations

import enum
import socket
import ssl
from dataclasses import dataclass

from botocore import exceptions as bce
from urllib3 import exceptions as u3e

from .._fields import error_code, http_status

__all__ = [
    "DEFAULT_TABLES",
    "ErrorKind",
    "ErrorTables",
    "classify",
    "classify_code",
    "raised_before_send",
]


class ErrorKind(str, enum.Enum):
    """What went wrong, in the terms a retry decision needs."""

    #: The request never reached the server (connection refused, connect timeout, DNS).
    NETWORK_BEFORE_SEND = "network_before_send"
    #: The connection failed after the request may have reached the server.
    NETWORK_AFTER_SEND = "network_after_send"
    #: The server asked us to slow down (SlowDown, 503, 429, botocore's throttling codes).
    THROTTLED = "throttled"
    #: A transient server fault (500, 502, 504, InternalError, RequestTimeout).
    SERVER = "server"
    #: The object does not exist (NoSuchKey, a 404 on an object).
    NOT_FOUND = "not_found"
    #: Retrying cannot help (AccessDenied, NoSuchBucket, 4xx, bad parameters or credentials).
    PERMANENT = "permanent"


#: Error codes botocore treats as throttling (botocore/retries/standard.py), S3's SlowDown included.
THROTTLING_CODES: frozenset[str] = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
#: HTTP statuses that mean "slow down" when the error code is not more specific.
THROTTLING_STATUSES: frozenset[int] = frozenset({429, 503})
#: Error codes of transient server faults. ``ConditionalRequestConflict`` (409): a conditional
#: write that met another write of the key in flight; AWS says to retry it.
SERVER_CODES: frozenset[str] = frozenset(
    {
        "InternalError",
        "ServiceUnavailable",
        "RequestTimeout",
        "RequestTimeoutException",
        "ConditionalRequestConflict",
    }
)
#: HTTP statuses of transient server faults.
SERVER_STATUSES: frozenset[int] = frozenset({500, 502, 504})
#: Error codes meaning "this object does not exist" (HeadObject's bare 404 has code "404").
NOT_FOUND_CODES: frozenset[str] = frozenset({"NoSuchKey", "NotFound", "404", "NoSuchVersion"})


@dataclass(frozen=True)
class ErrorTables:
    """The tables :func:`classify` reads. Every field is a ``frozenset``; replace any of them.

    A code is looked up before a status, so ``ServiceUnavailable`` (503) is SERVER while a bare
    503 is THROTTLED, and ``NoSuchBucket`` (404) is PERMANENT while ``NoSuchKey`` is NOT_FOUND.
    """

    throttling_codes: frozenset[str] = THROTTLING_CODES
    throttling_statuses: frozenset[int] = THROTTLING_STATUSES
    server_codes: frozenset[str] = SERVER_CODES
    server_statuses: frozenset[int] = SERVER_STATUSES
    not_found_codes: frozenset[str] = NOT_FOUND_CODES


DEFAULT_TABLES = ErrorTables()

# Exception classes, most specific first. botocore's ConnectionError family means the request
# was never sent; its HTTPClientError family (ConnectionClosedError, ReadTimeoutError,
# ResponseStreamingError) means it may have been.
_BEFORE_SEND: tuple[type[BaseException], ...] = (
    bce.ConnectTimeoutError,
    bce.EndpointConnectionError,
    bce.ProxyConnectionError,
    u3e.ConnectTimeoutError,
    u3e.NewConnectionError,
    u3e.NameResolutionError,
    ConnectionRefusedError,
    socket.gaierror,
)
_AFTER_SEND: tuple[type[BaseException], ...] = (
    bce.HTTPClientError,
    bce.IncompleteReadError,
    u3e.ProtocolError,
    u3e.ReadTimeoutError,
    ConnectionError,  # builtin: reset, aborted, broken pipe
    TimeoutError,
)
_CERTIFICATE_MARKERS = ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed")
# Raised while a request is prepared (parameters, credentials, region, the body), so nothing
# was sent: the attempt is not counted (docs/errors.md). TypeError/ValueError/AttributeError
# come from the caller's parameters or body (a text-mode or closed file).
_LOCAL: tuple[type[BaseException], ...] = (
    bce.ParamValidationError,
    bce.NoCredentialsError,
    bce.PartialCredentialsError,
    bce.NoRegionError,
    bce.InvalidRegionError,
    TypeError,
    ValueError,
    AttributeError,
)


def raised_before_send(exc: BaseException) -> bool:
    """Whether ``exc`` was raised before any byte of the request was sent. Pure.

    True for botocore's parameter, credential and region errors, for TypeError/ValueError/
    AttributeError raised while a request is prepared, and for a TLS setup that cannot load its
    CA bundle (a missing or unreadable file: the connection never started TLS).
    """
    if isinstance(exc, (bce.SSLError, ssl.SSLError)):
        return _ca_bundle_unusable(exc)
    return isinstance(exc, _LOCAL)


#: What loading a CA bundle raises when the file is missing, unreadable or not a file.
_FILE_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)


def _ca_bundle_unusable(exc: BaseException) -> bool:
    """An SSL error caused by a file error (the CA bundle could not be opened or read)."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, _FILE_ERRORS):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def classify(exc: BaseException, tables: ErrorTables = DEFAULT_TABLES) -> ErrorKind:
    """Return the :class:`ErrorKind` of ``exc``. Pure: reads only ``exc`` and ``tables``.

    Anything not recognised is PERMANENT, so unknown errors are never retried.
    """
    if isinstance(exc, bce.ClientError):
        return _classify_response(exc, tables)
    if isinstance(exc, (bce.SSLError, ssl.SSLError)):
        # A certificate that does not verify will not verify on the next attempt either, nor
        # will a CA bundle that cannot be read.
        if _ca_bundle_unusable(exc):
            return ErrorKind.PERMANENT
        text = str(exc)
        if isinstance(exc, ssl.SSLCertVerificationError) or any(
            marker in text for marker in _CERTIFICATE_MARKERS
        ):
            return ErrorKind.PERMANENT
        return ErrorKind.NETWORK_BEFORE_SEND
    if isinstance(exc, _BEFORE_SEND):
        return ErrorKind.NETWORK_BEFORE_SEND
    if isinstance(exc, _AFTER_SEND):
        return ErrorKind.NETWORK_AFTER_SEND
    return ErrorKind.PERMANENT


def _classify_response(exc: bce.ClientError, tables: ErrorTables) -> ErrorKind:
    return classify_code(error_code(exc), http_status(exc) or 0, tables)


def classify_code(code: str, status: int = 0, tables: ErrorTables = DEFAULT_TABLES) -> ErrorKind:
    """The kind of an S3 error code (and HTTP status, if known), as for a ``ClientError``.

    Also classifies the per-key ``Errors`` entries of a DeleteObjects answer.
    """
    if code in tables.throttling_codes:
        return ErrorKind.THROTTLED
    if code in tables.server_codes:
        return ErrorKind.SERVER
    if code in tables.not_found_codes:
        return ErrorKind.NOT_FOUND
    if status in tables.throttling_statuses:
        return ErrorKind.THROTTLED
    if status in tables.server_statuses:
        return ErrorKind.SERVER
    return ErrorKind.PERMANENT
