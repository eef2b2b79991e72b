"""classify(): one row per ErrorKind and the table precedence rules."""

from __future__ import annotations

import socket
import ssl
from dataclasses import replace
from typing import Any

import pytest
from botocore import exceptions as bce
from urllib3 import exceptions as u3e

from resilient_s3 import ErrorKind, ErrorTables, classify

DEFAULT_TABLES = ErrorTables()


def client_error(code: str, status: int, operation: str = "GetObject") -> bce.ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}},
    }
    return bce.ClientError(response, operation)


ROWS: list[tuple[BaseException, ErrorKind]] = [
    # the request never reached the server
    (bce.EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), ErrorKind.NETWORK_BEFORE_SEND),
    (bce.ConnectTimeoutError(endpoint_url="http://x"), ErrorKind.NETWORK_BEFORE_SEND),
    (bce.ProxyConnectionError(proxy_url="http://p"), ErrorKind.NETWORK_BEFORE_SEND),
    (ConnectionRefusedError(), ErrorKind.NETWORK_BEFORE_SEND),
    (socket.gaierror(), ErrorKind.NETWORK_BEFORE_SEND),
    (
        bce.SSLError(endpoint_url="https://x", error=OSError("EOF occurred")),
        ErrorKind.NETWORK_BEFORE_SEND,
    ),
    # it may have
    (bce.ConnectionClosedError(endpoint_url="http://x"), ErrorKind.NETWORK_AFTER_SEND),
    (bce.ReadTimeoutError(endpoint_url="http://x"), ErrorKind.NETWORK_AFTER_SEND),
    (bce.ResponseStreamingError(error="reset"), ErrorKind.NETWORK_AFTER_SEND),
    (bce.IncompleteReadError(actual_bytes=1, expected_bytes=2), ErrorKind.NETWORK_AFTER_SEND),
    (u3e.ProtocolError("Connection aborted."), ErrorKind.NETWORK_AFTER_SEND),
    (ConnectionResetError(), ErrorKind.NETWORK_AFTER_SEND),
    (TimeoutError(), ErrorKind.NETWORK_AFTER_SEND),
    # slow down
    (client_error("SlowDown", 503), ErrorKind.THROTTLED),
    (client_error("ThrottlingException", 400), ErrorKind.THROTTLED),
    (client_error("RequestLimitExceeded", 400), ErrorKind.THROTTLED),
    (client_error("503", 503), ErrorKind.THROTTLED),
    (client_error("", 429), ErrorKind.THROTTLED),
    # transient server faults
    (client_error("InternalError", 500), ErrorKind.SERVER),
    (client_error("ServiceUnavailable", 503), ErrorKind.SERVER),
    (client_error("RequestTimeout", 400), ErrorKind.SERVER),
    (client_error("BadGateway", 502), ErrorKind.SERVER),
    (client_error("504", 504), ErrorKind.SERVER),
    # the object is not there
    (client_error("NoSuchKey", 404), ErrorKind.NOT_FOUND),
    (client_error("404", 404, "HeadObject"), ErrorKind.NOT_FOUND),
    # nothing a retry can fix
    (client_error("AccessDenied", 403), ErrorKind.PERMANENT),
    (client_error("NoSuchBucket", 404), ErrorKind.PERMANENT),
    (client_error("NoSuchUpload", 404), ErrorKind.PERMANENT),
    (client_error("InvalidBucketName", 400), ErrorKind.PERMANENT),
    (client_error("SignatureDoesNotMatch", 403), ErrorKind.PERMANENT),
    (client_error("PreconditionFailed", 412), ErrorKind.PERMANENT),
    (bce.ParamValidationError(report="missing Key"), ErrorKind.PERMANENT),
    (bce.NoCredentialsError(), ErrorKind.PERMANENT),
    (
        bce.SSLError(
            endpoint_url="https://x", error=OSError("[SSL: CERTIFICATE_VERIFY_FAILED] failed")
        ),
        ErrorKind.PERMANENT,
    ),
    (ssl.SSLCertVerificationError("certificate verify failed"), ErrorKind.PERMANENT),
    (ValueError("not an S3 error"), ErrorKind.PERMANENT),
]


@pytest.mark.parametrize(("error", "kind"), ROWS, ids=lambda v: type(v).__name__)
def test_classification_table(error: BaseException, kind: ErrorKind) -> None:
    assert classify(error) is kind


def test_every_kind_has_a_row() -> None:
    assert {kind for _, kind in ROWS} == set(ErrorKind)


def test_tables_are_overridable() -> None:
    tables = replace(
        DEFAULT_TABLES, throttling_codes=DEFAULT_TABLES.throttling_codes | {"TeapotBusy"}
    )
    error = client_error("TeapotBusy", 418)
    assert classify(error) is ErrorKind.PERMANENT
    assert classify(error, tables) is ErrorKind.THROTTLED


def test_tables_are_frozensets() -> None:
    for name in ("throttling_codes", "server_codes", "not_found_codes"):
        assert isinstance(getattr(DEFAULT_TABLES, name), frozenset)
