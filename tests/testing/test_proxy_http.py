"""Tests of ``FaultProxy``'s HTTP mechanics: pass-through, 100-continue, streaming, shutdown.

The moto tests use plain boto3 clients; the framing tests use a tiny stub upstream that echoes
what it received and answers with chunked, close-delimited, HEAD, 204 and 304 responses.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from boto3.s3.transfer import TransferConfig

from resilient_s3.testing import Fault, FaultKind, FaultProxy

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MiB = 1024 * 1024


def _nonzero(proxy: FaultProxy) -> dict[str, int]:
    """The proxy's counters that are not zero."""
    return {key: value for key, value in proxy.counters.items() if value}


def test_passthrough_counts_every_operation(
    fault_proxy: FaultProxy, fault_proxy_client: S3Client, s3_bucket: str
) -> None:
    """Without faults every request is forwarded intact and counted under its operation."""
    s3 = fault_proxy_client
    s3.put_object(Bucket=s3_bucket, Key="a/1", Body=b"one")
    s3.copy_object(Bucket=s3_bucket, Key="a/2", CopySource={"Bucket": s3_bucket, "Key": "a/1"})
    assert s3.get_object(Bucket=s3_bucket, Key="a/2")["Body"].read() == b"one"
    assert s3.get_object(Bucket=s3_bucket, Key="a/1", Range="bytes=1-")["Body"].read() == b"ne"
    assert s3.head_object(Bucket=s3_bucket, Key="a/1")["ContentLength"] == 3
    assert s3.list_objects_v2(Bucket=s3_bucket)["KeyCount"] == 2
    s3.delete_objects(Bucket=s3_bucket, Delete={"Objects": [{"Key": "a/1"}]})
    s3.delete_object(Bucket=s3_bucket, Key="a/2")
    counters = _nonzero(fault_proxy)
    assert counters.pop("forwarded_bytes") > 3  # b"one" and the DeleteObjects XML
    assert counters == {
        "requests": 8,
        "forwarded": 8,
        "op:PutObject": 1,
        "op:CopyObject": 1,
        "op:GetObject": 2,
        "op:HeadObject": 1,
        "op:ListObjectsV2": 1,
        "op:DeleteObjects": 1,
        "op:DeleteObject": 1,
    }


def test_expect_100_continue_is_answered_by_the_proxy(
    fault_proxy: FaultProxy, s3_server_client: S3Client, s3_bucket: str
) -> None:
    """The proxy sends ``100 Continue`` before it has the body, then forwards the whole request."""
    with socket.create_connection(("127.0.0.1", fault_proxy.port), timeout=5) as sock:
        head = (
            f"PUT /{s3_bucket}/expect HTTP/1.1\r\nHost: 127.0.0.1:{fault_proxy.port}\r\n"
            "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n"
        )
        sock.sendall(head.encode())
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hello")
        assert sock.recv(100).startswith(b"HTTP/1.1 200 ")
    body = s3_server_client.get_object(Bucket=s3_bucket, Key="expect")["Body"].read()
    assert body == b"hello"


def test_boto3_put_does_not_stall(fault_proxy_client: S3Client, s3_bucket: str) -> None:
    """boto3 sends ``Expect: 100-continue`` on PutObject; it must not wait for its 1 s timeout."""
    fault_proxy_client.put_object(Bucket=s3_bucket, Key="warm", Body=b"x")
    start = time.monotonic()
    for i in range(5):
        fault_proxy_client.put_object(Bucket=s3_bucket, Key=f"k{i}", Body=b"x" * 1000)
    assert time.monotonic() - start < 2.5


def test_20_mib_multipart_round_trip(
    fault_proxy: FaultProxy, fault_proxy_client: S3Client, s3_bucket: str, tmp_path: Path
) -> None:
    """A 20 MiB upload_file/download_file (multipart, concurrent) round trip is byte-identical."""
    source, target = tmp_path / "source", tmp_path / "target"
    source.write_bytes(os.urandom(20 * MiB))
    config = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB)
    fault_proxy_client.upload_file(str(source), s3_bucket, "big", Config=config)
    fault_proxy_client.download_file(s3_bucket, "big", str(target), Config=config)
    assert (
        hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()
    )
    counters = fault_proxy.counters
    assert counters["op:CreateMultipartUpload"] == counters["op:CompleteMultipartUpload"] == 1
    assert counters["op:UploadPart"] == 3
    assert counters["op:GetObject"] >= 3  # ranged GETs
    assert counters["requests"] == counters["forwarded"]


def test_20_mib_single_request_streams(fault_proxy_client: S3Client, s3_bucket: str) -> None:
    """A 20 MiB PutObject and GetObject pass through in one request each."""
    body = os.urandom(20 * MiB)
    fault_proxy_client.put_object(Bucket=s3_bucket, Key="big", Body=body)
    assert fault_proxy_client.get_object(Bucket=s3_bucket, Key="big")["Body"].read() == body


class _Stub(BaseHTTPRequestHandler):
    """An upstream that echoes requests and serves odd but valid response framings."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet."""

    def _echo(self) -> None:
        """Answer with a JSON account of the request as received, raw body included."""
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            raw = self._read_chunked()
        else:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps(
            {
                "method": self.command,
                "path": self.path,
                "headers": self.headers.items(),
                "body": raw.decode("latin-1"),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PUT = do_POST = _echo

    def _read_chunked(self) -> bytes:
        """Read a chunked body and return it as it was framed on the wire."""
        raw = b""
        while True:
            line = self.rfile.readline()
            raw += line
            size = int(line.split(b";")[0], 16)
            if size == 0:
                break
            raw += self.rfile.read(size + 2)
        while True:
            line = self.rfile.readline()
            raw += line
            if line == b"\r\n":
                return raw

    def do_GET(self) -> None:
        """Serve /chunked, /close (close-delimited), /drop (then closed silently), /empty
        (Content-Length: 0, kept alive), /304, or echo."""
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (b"abc", b"defgh", b"i" * 100_000):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until close")
        elif self.path == "/drop":
            self.send_response(200)
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.write(b"drop")
            self.close_connection = True  # without saying so: an idle keep-alive close
        elif self.path == "/empty":
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/304":
            self.send_response(304)
            self.send_header("ETag", '"x"')
            self.end_headers()
        else:
            self._echo()

    def do_HEAD(self) -> None:
        """A HEAD with the Content-Length of a body that is not sent."""
        self.send_response(200)
        self.send_header("Content-Length", "123")
        self.end_headers()

    def do_DELETE(self) -> None:
        """204 No Content."""
        self.send_response(204)
        self.end_headers()


@pytest.fixture
def stub_proxy() -> Iterator[FaultProxy]:
    """A FaultProxy in front of a :class:`_Stub` upstream."""
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    upstream.daemon_threads = True
    thread = threading.Thread(target=upstream.serve_forever, daemon=True)
    thread.start()
    with FaultProxy(f"http://127.0.0.1:{upstream.server_address[1]}", seed=0) as proxy:
        yield proxy
    upstream.shutdown()
    upstream.server_close()
    thread.join()


def _connect(proxy: FaultProxy) -> http.client.HTTPConnection:
    """A keep-alive connection to ``proxy``."""
    return http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)


def test_request_passes_through_byte_for_byte(stub_proxy: FaultProxy) -> None:
    """Method, target, headers (Host, Authorization, order, repeats) and body arrive unchanged."""
    conn = _connect(stub_proxy)
    conn.putrequest(
        "PUT", "/bkt/a%2Fb?x-id=PutObject&z=1", skip_host=True, skip_accept_encoding=True
    )
    sent = [
        ("Host", "signed.example:9000"),
        ("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/x, Signature=abc"),
        ("X-Amz-Meta-Twice", "1"),
        ("X-Amz-Meta-Twice", "2"),
        ("Content-Length", "5"),
    ]
    for name, value in [*sent, ("Connection", "keep-alive"), ("Expect", "100-continue")]:
        conn.putheader(name, value)
    conn.endheaders(b"hello")
    echo = json.loads(conn.getresponse().read())
    assert echo["method"] == "PUT"
    assert echo["path"] == "/bkt/a%2Fb?x-id=PutObject&z=1"
    assert [tuple(h) for h in echo["headers"]] == sent  # hop-by-hop ones dropped
    assert echo["body"] == "hello"
    conn.close()


def test_chunked_request_body_is_passed_on_chunked(stub_proxy: FaultProxy) -> None:
    """A chunked request body reaches the upstream chunked, trailers included."""
    with socket.create_connection(("127.0.0.1", stub_proxy.port), timeout=10) as sock:
        sock.sendall(
            b"POST /bkt/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32: AAAAAA==\r\n\r\n"
        )
        response = http.client.HTTPResponse(sock)
        response.begin()
        echo = json.loads(response.read())
    assert ["Transfer-Encoding", "chunked"] in echo["headers"]
    assert (
        echo["body"] == "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32: AAAAAA==\r\n\r\n"
    )


def test_response_framings(stub_proxy: FaultProxy) -> None:
    """Chunked, close-delimited, HEAD, 204 and 304 answers relay intact on one connection."""
    conn = _connect(stub_proxy)
    conn.request("GET", "/chunked")
    response = conn.getresponse()
    assert response.read() == b"abcdefgh" + b"i" * 100_000
    conn.request("GET", "/close")
    response = conn.getresponse()
    assert response.getheader("Transfer-Encoding") == "chunked"  # re-framed for keep-alive
    assert response.read() == b"until close"
    conn.request("HEAD", "/bkt/k")
    response = conn.getresponse()
    assert (response.status, response.getheader("Content-Length"), response.read()) == (
        200,
        "123",
        b"",
    )
    conn.request("DELETE", "/bkt/k")
    response = conn.getresponse()
    assert (response.status, response.read()) == (204, b"")
    conn.request("GET", "/304")
    response = conn.getresponse()
    assert (response.status, response.read()) == (304, b"")
    conn.request("GET", "/drop")
    assert conn.getresponse().read() == b"drop"
    conn.request("GET", "/drop")  # the upstream closed its idle connection: reconnect
    assert conn.getresponse().read() == b"drop"
    conn.close()
    assert _nonzero(stub_proxy)["forwarded"] == 7


def test_empty_answers_keep_the_upstream_connection_usable(stub_proxy: FaultProxy) -> None:
    """After a kept-alive ``Content-Length: 0`` answer (SeaweedFS answers PutObject so), the next
    request on the same upstream connection is forwarded, not answered 502."""
    conn = _connect(stub_proxy)
    for _ in range(3):
        conn.request("GET", "/empty")
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b"")
    conn.request("PUT", "/bkt/k", body=b"after")
    assert json.loads(conn.getresponse().read())["body"] == "after"
    conn.close()
    assert stub_proxy.counters["upstream_errors"] == 0
    assert stub_proxy.counters["forwarded"] == 4


def _raw_exchange(proxy: FaultProxy, request: bytes) -> bytes:
    """Send raw bytes to ``proxy`` and read until it closes the connection."""
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while data := sock.recv(65536):
            received += data
        return received


def test_http10_client_gets_a_close_delimited_body(stub_proxy: FaultProxy) -> None:
    """An HTTP/1.0 client gets no chunks: a body of unknown length ends with the connection."""
    received = _raw_exchange(stub_proxy, b"GET /close HTTP/1.0\r\nHost: h\r\n\r\n")
    head, _, body = received.partition(b"\r\n\r\n")
    assert b"transfer-encoding" not in head.lower()
    assert body == b"until close"


def test_malformed_body_framing_answers_400(stub_proxy: FaultProxy) -> None:
    """A bad Content-Length gets 400, counted as a request, with no fault injected."""
    stub_proxy.set_faults([Fault(FaultKind.SLOWDOWN, limit=1)])
    received = _raw_exchange(stub_proxy, b"PUT /bkt/k HTTP/1.1\r\nContent-Length: x\r\n\r\n")
    assert received.startswith(b"HTTP/1.1 400 ")
    assert _nonzero(stub_proxy) == {"requests": 1, "op:PutObject": 1}


def test_reset_is_a_tcp_reset(stub_proxy: FaultProxy) -> None:
    """reset_before aborts the client connection with an RST, not an orderly close."""
    stub_proxy.set_faults([Fault(FaultKind.RESET_BEFORE)])
    with socket.create_connection(("127.0.0.1", stub_proxy.port), timeout=10) as sock:
        sock.sendall(b"PUT /bkt/k HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc")
        with pytest.raises(ConnectionResetError):
            sock.recv(100)


def test_upstream_down_answers_502() -> None:
    """An unreachable upstream gives 502 and counts an upstream error."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with FaultProxy(f"http://127.0.0.1:{port}") as proxy:
        conn = _connect(proxy)
        conn.request("GET", "/bkt/k")
        assert conn.getresponse().status == 502
        conn.close()
        # Refused while connecting: nothing was forwarded.
        assert _nonzero(proxy) == {"requests": 1, "upstream_errors": 1, "op:GetObject": 1}


def test_bad_upstream_urls_and_unstarted_proxy() -> None:
    """Only http(s) URLs without a path are accepted; a stopped proxy has no endpoint."""
    for url in ("ftp://127.0.0.1:1", "http://127.0.0.1:1/prefix", "127.0.0.1:1"):
        with pytest.raises(ValueError, match="upstream"):
            FaultProxy(url).start()
    proxy = FaultProxy("http://127.0.0.1:1")
    with pytest.raises(RuntimeError, match="not running"):
        _ = proxy.endpoint_url
    assert "stopped" in repr(proxy)


def test_stop_closes_every_socket(stub_proxy: FaultProxy) -> None:
    """stop() closes idle keep-alive client connections and the listening socket."""
    port = stub_proxy.port
    conn = _connect(stub_proxy)
    conn.request("GET", "/chunked")
    conn.getresponse().read()
    assert conn.sock is not None
    assert conn.sock.getpeername() == ("127.0.0.1", port)
    stub_proxy.stop()
    assert conn.sock.recv(10) == b""
    conn.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)
    stub_proxy.stop()  # idempotent


def test_logs_carry_no_credentials(
    fault_proxy_client: S3Client, s3_bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Debug logs name method and path only: no Authorization header, no presigned query."""
    caplog.set_level(logging.DEBUG, logger="resilient_s3.testing")
    fault_proxy_client.put_object(Bucket=s3_bucket, Key="k", Body=b"x")
    url = fault_proxy_client.generate_presigned_url(
        "get_object", Params={"Bucket": s3_bucket, "Key": "k"}
    )
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"x"
    messages = [r.getMessage() for r in caplog.records if r.name == "resilient_s3.testing"]
    assert any(f"/{s3_bucket}/k" in m for m in messages)
    for forbidden in ("Signature", "Credential", "X-Amz", "testing", "AWS4"):
        assert not any(forbidden in m for m in messages), forbidden


def test_plugin_import_is_light() -> None:
    """Loading the pytest plugin imports neither moto nor boto3 beyond what the package needs."""
    code = (
        "import sys, resilient_s3; before = set(sys.modules);"
        "import resilient_s3.testing.pytest_plugin;"
        "print(sorted(m for m in set(sys.modules) - before"
        " if m.split('.')[0] in ('moto', 'boto3', 'botocore', 'flask', 'werkzeug')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
