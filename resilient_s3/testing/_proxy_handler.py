"""The proxy's per-connection request handler.

Each client connection gets a thread running one :class:`ProxyHandler`, which keeps its own
keep-alive connection to the upstream. A request is classified, offered to the
:class:`FaultInjector`, then either answered by the proxy itself (a fabricated error, an
acknowledgement of a lost write, a reset) or forwarded byte for byte: same method, request target,
headers (``Host`` included, so a SigV4 signature still verifies) and body, and the upstream's
status, headers and body relayed back.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import itertools
import logging
import selectors
import socket
import struct
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, BinaryIO, cast

from ._faults import FaultKind
from ._http import HOP_BY_HOP, PIECE, ClientBodyError, RequestBody, encode_chunk, error_body
from ._injector import Decision
from ._operations import RequestTarget, classify_request

if TYPE_CHECKING:
    from ._proxy import ProxyServer

__all__ = ["ProxyHandler"]

_log = logging.getLogger("resilient_s3.testing")

#: Kinds answered with a fabricated S3 error: (status, error code).
_ERRORS = {
    FaultKind.SLOWDOWN: (503, "SlowDown"),
    FaultKind.INTERNAL_ERROR: (500, "InternalError"),
    FaultKind.ACCESS_DENIED: (403, "AccessDenied"),
    FaultKind.STALE_READ: (404, "NoSuchKey"),
}
_request_ids = itertools.count(1)


class ProxyHandler(BaseHTTPRequestHandler):
    """Handles the requests of one client connection (see the module docstring)."""

    protocol_version = "HTTP/1.1"  # keep-alive, and ``100 Continue`` answered by http.server
    _upstream: http.client.HTTPConnection | None = None

    @property
    def proxy(self) -> ProxyServer:
        """The server this handler belongs to."""
        return cast("ProxyServer", self.server)

    def setup(self) -> None:
        """Set the idle timeout and register the client socket."""
        super().setup()
        self.connection.settimeout(self.proxy.timeout_seconds)
        self.proxy.track(self.connection, True)

    def finish(self) -> None:
        """Close the upstream connection and unregister the client socket."""
        try:
            super().finish()
        finally:
            if self._upstream is not None:
                self._upstream.close()
            self.proxy.track(self.connection, False)

    def log_message(self, format: str, *args: object) -> None:
        """Log nothing: http.server's lines carry the query string, which may hold a signature."""

    def do_GET(self) -> None:
        """Handle a GET."""
        self._handle()

    do_HEAD = do_PUT = do_POST = do_DELETE = do_OPTIONS = do_PATCH = do_GET

    def _handle(self) -> None:
        """Classify, decide, then inject or forward one request."""
        target = classify_request(self.command, self.path, "x-amz-copy-source" in self.headers)
        decision = self.proxy.injector.decide(self.command, target)
        kind = decision.kind
        _log.debug(
            "%s %s (%s)%s",
            self.command,
            self.path.split("?", 1)[0],
            target.operation,
            f" fault={kind.value}" if kind else "",
        )
        try:
            body = RequestBody(cast(BinaryIO, self.rfile), self.headers)
        except ValueError as exc:
            self.proxy.injector.cancel(decision)  # counted as received, but nothing injected
            self.send_error(400, str(exc))
            return
        if decision.delay:
            time.sleep(decision.delay)
        try:
            self._dispatch(target, body, decision)
        except ClientBodyError as exc:
            _log.debug("client request body failed: %s", exc)
            self._drop_upstream()
            self.close_connection = True

    def _dispatch(self, target: RequestTarget, body: RequestBody, decision: Decision) -> None:
        """Carry out ``decision`` for one request."""
        kind = decision.kind
        if kind is FaultKind.RESET_BEFORE:
            body.drain()
            self._reset()
        elif kind in _ERRORS:
            body.drain()
            status, code = _ERRORS[kind]
            self._send_error(status, code, decision)
        elif kind is FaultKind.LOST_WRITE:
            md5 = hashlib.md5(usedforsecurity=False)
            for data in body.payload():
                md5.update(data)
            self._ack_lost_write(md5.hexdigest())
            self.proxy.injector.record_write(target, 200)
        else:
            self._forward(target, body, decision)

    def _forward(self, target: RequestTarget, body: RequestBody, decision: Decision) -> None:
        """Send the request upstream and relay (or sabotage) the response."""
        injector = self.proxy.injector
        try:
            response = self._send_upstream(body)
        except (OSError, ValueError, http.client.HTTPException) as exc:
            injector.count("upstream_errors")
            _log.debug("upstream failed: %s", type(exc).__name__)
            self._drop_upstream()
            self.close_connection = True  # the request body may be half read
            self._send_plain(502, f"upstream failed: {type(exc).__name__}")
            return
        status = response.status
        if decision.kind is FaultKind.RESET_AFTER:
            try:
                response.read()  # wait until the upstream has fully acted and answered
            except (OSError, http.client.HTTPException):
                self._drop_upstream()
            injector.record_write(target, status)
            self._reset()
            return
        length = response.length
        truncate = decision.kind is FaultKind.TRUNCATE_BODY
        if truncate and (self.command != "GET" or not length or not 200 <= status < 300):
            injector.cancel(decision)  # nothing to truncate: relay normally, uncounted
            truncate = False
        self._relay(
            response, truncate_to=min(length // 2, length - 1) if truncate and length else None
        )
        injector.record_write(target, status)

    def _send_upstream(self, body: RequestBody) -> http.client.HTTPResponse:
        """Send the request on the pooled upstream connection and return the response head.

        A reused connection that the upstream closed while idle is detected before use; if it fails
        anyway on a request without a body, the request is sent once more on a new connection.
        """
        if self._upstream is not None and _dropped(self._upstream):
            self._drop_upstream()
        reused = self._upstream is not None and self._upstream.sock is not None
        for attempt in range(2):
            if self._upstream is None:
                self._upstream = self.proxy.new_upstream()
            conn = self._upstream
            try:
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in self.headers.items():
                    if name.lower() not in HOP_BY_HOP:
                        conn.putheader(name, value)
                if body.chunked:
                    conn.putheader("Transfer-Encoding", "chunked")
                conn.endheaders()
                if attempt == 0:
                    self.proxy.injector.count("forwarded")
                for data in body.wire():
                    conn.send(data)
                return conn.getresponse()
            except (ConnectionError, http.client.RemoteDisconnected):
                self._drop_upstream()
                if not (reused and body.empty and attempt == 0):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _relay(self, response: http.client.HTTPResponse, truncate_to: int | None) -> None:
        """Relay status, headers and body; with ``truncate_to``, send that many bytes and close."""
        no_body = self.command == "HEAD" or response.status in (204, 304) or response.status < 200
        # A body of unknown length is re-chunked for keep-alive; an HTTP/1.0 client gets it raw,
        # delimited by closing the connection.
        until_close = not no_body and response.length is None
        rechunk = until_close and self.request_version == "HTTP/1.1"
        if until_close and not rechunk:
            self.close_connection = True
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            lower = name.lower()
            if lower in HOP_BY_HOP or (until_close and lower == "content-length"):
                continue
            self.send_header(name, value)
        if rechunk:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if no_body:
            response.read()
            return
        try:
            if truncate_to is not None:
                self._copy(response, truncate_to)
                self._drop_upstream()  # the rest of the body is never read
                self.close_connection = True
            elif until_close:
                while data := response.read1(PIECE):
                    self.wfile.write(encode_chunk(data) if rechunk else data)
                if rechunk:
                    self.wfile.write(b"0\r\n\r\n")
            else:
                self._copy(response, response.length or 0)
                response.read()  # b"": frees the upstream connection even after an empty body
        except (OSError, http.client.HTTPException):
            # Headers are out, so the only honest signal left is closing the client connection.
            self._drop_upstream()
            self.close_connection = True

    def _copy(self, response: http.client.HTTPResponse, size: int) -> None:
        """Copy exactly ``size`` body bytes from the upstream response to the client."""
        while size > 0:
            data = response.read(min(size, PIECE))
            if not data:
                raise http.client.IncompleteRead(b"", size)
            self.wfile.write(data)
            size -= len(data)

    def _send_error(self, status: int, code: str, decision: Decision) -> None:
        """Answer with a fabricated S3 error (no body for HEAD)."""
        request_id = f"resilient-s3-fault-{next(_request_ids)}"
        body = (
            b"" if self.command == "HEAD" else error_body(code, self.path.split("?")[0], request_id)
        )
        self.send_response_only(status)
        self.send_header("Date", self.date_time_string())
        self.send_header("x-amz-request-id", request_id)
        self.send_header("x-resilient-s3-fault", decision.kind.value if decision.kind else "")
        if decision.fault is not None and decision.fault.retry_after is not None:
            self.send_header("Retry-After", f"{decision.fault.retry_after:g}")
        if body:
            self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _ack_lost_write(self, md5_hex: str) -> None:
        """Answer a PutObject 200 with its ETag and echoed checksum headers; store nothing."""
        self.send_response_only(200)
        self.send_header("Date", self.date_time_string())
        self.send_header("x-amz-request-id", f"resilient-s3-fault-{next(_request_ids)}")
        self.send_header("x-resilient-s3-fault", FaultKind.LOST_WRITE.value)
        self.send_header("ETag", f'"{md5_hex}"')
        for name, value in self.headers.items():
            if name.lower().startswith("x-amz-checksum-"):
                self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send_plain(self, status: int, text: str) -> None:
        """Answer with a short text/plain body."""
        body = text.encode()
        self.send_response_only(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _reset(self) -> None:
        """Abort the client connection with a TCP RST (SO_LINGER 0, then close)."""
        self.close_connection = True
        sock = self.connection
        with contextlib.suppress(OSError):  # already gone: nothing left to reset
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        self.rfile.close()  # drops the last reference, so the socket really closes now

    def _drop_upstream(self) -> None:
        """Close and forget the upstream connection."""
        if self._upstream is not None:
            self._upstream.close()
            self._upstream = None


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """Whether an idle upstream connection was closed by its peer (readable while idle)."""
    if conn.sock is None:
        return False
    with selectors.DefaultSelector() as selector:
        selector.register(conn.sock, selectors.EVENT_READ)
        return bool(selector.select(timeout=0))
