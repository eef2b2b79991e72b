"""An error S3 answers with a 200: both paths raise what botocore raises, on both doors.

S3 may answer CopyObject and CompleteMultipartUpload with ``200 OK`` and an XML error in the
body (the error came while it worked); botocore's ``before-parse`` handler makes such an answer,
or one whose XML is cut short, a 500, and its client raises the error. A server on 127.0.0.1
answers every request that way; a native client and one kept on botocore (a caller's handler)
are compared: the error's type, ``Error``, HTTP status and message.
"""

from __future__ import annotations

import asyncio
import http.server
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from botocore.exceptions import ClientError

import resilient_s3.aio
from resilient_s3 import Backoff, RetryPolicy

pytest.importorskip("awscrt")
#: Needs the native transport itself (an awscrt it can run on: not the floor job's 0.23).
pytestmark = pytest.mark.native

_DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Access Denied</Message><RequestId>r1</RequestId></Error>"
)
_NO_UPLOAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code>'
    b"<Message>The specified upload does not exist.</Message></Error>"
)
_CUT = b'<?xml version="1.0" encoding="UTF-8"?>\n<CopyObjectResult><ETag>"ab'
#: The calls whose answers botocore parses from XML, on the native path.
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("copy_object", {"Bucket": "bkt", "Key": "k", "CopySource": "bkt/src"}),
    ("list_objects_v2", {"Bucket": "bkt"}),
    ("complete_multipart_upload", {"Bucket": "bkt", "Key": "k", "UploadId": "u",
                                   "MultipartUpload": {"Parts": [{"PartNumber": 1, "ETag": "e"}]}}),
]  # fmt: skip


class _Answer200(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # connections kept, as S3 keeps them
    body = b""

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.send_header("Content-Type", "application/xml")
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_PUT = do_POST = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture(params=[_DENIED, _NO_UPLOAD, _CUT], ids=["denied", "no-upload", "cut"])
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    """The endpoint of a server that answers every request ``200`` with the param's body."""
    handler = type("Handler", (_Answer200,), {"body": request.param})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def keep_on_botocore(**_: Any) -> None:
    """A caller's handler: it keeps every call on botocore."""


def _kwargs(endpoint: str) -> dict[str, Any]:
    once = Backoff(max_attempts=1, base=0.0, cap=0.0)
    return {
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
        "verify_writes": False,
        "retry": RetryPolicy(server=once, network_after_send=once, sleep=lambda _: None),
    }


def _seen(error: BaseException) -> tuple[Any, ...]:
    assert isinstance(error, ClientError), repr(error)
    status = error.response["ResponseMetadata"]["HTTPStatusCode"]
    return type(error).__name__, error.response["Error"], status, str(error)


def _errors(endpoint: str, door: str, native: bool) -> tuple[list[Any], Mapping[str, int]]:
    async def aio() -> tuple[list[Any], Mapping[str, int]]:
        async with resilient_s3.aio.client("s3", **_kwargs(endpoint)) as s3:
            if not native:
                s3.meta.events.register("before-send.s3", keep_on_botocore)
            found = []
            for name, params in CALLS:
                with pytest.raises(ClientError) as caught:
                    await getattr(s3, name)(**params)
                found.append(_seen(caught.value))
            return found, s3.stats.paths

    if door == "aio":
        return asyncio.run(aio())
    with resilient_s3.client("s3", **_kwargs(endpoint)) as s3:
        if not native:
            s3.meta.events.register("before-send.s3", keep_on_botocore)
        found = []
        for name, params in CALLS:
            with pytest.raises(ClientError) as caught:
                getattr(s3, name)(**params)
            found.append(_seen(caught.value))
        return found, s3.stats.paths


@pytest.mark.parametrize("door", ["aio", "sync"])
def test_an_error_in_a_200_is_raised_as_botocore_raises_it(server: str, door: str) -> None:
    native, native_paths = _errors(server, door, True)
    plain, plain_paths = _errors(server, door, False)
    assert native_paths == {"crt": len(CALLS)}
    assert plain_paths == {"botocore": len(CALLS)}
    assert native == plain
    assert {status for _, _, status, _ in plain} == {500}
