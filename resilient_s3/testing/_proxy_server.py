"""The fault proxy's HTTP server: its client connections, and the handler each one gets.

:class:`ProxyServer` knows the upstream, the :class:`FaultInjector` and its open client sockets
(shut down on stop). Each client connection gets a thread running one :class:`ProxyHandler`,
which keeps its own keep-alive connection to the upstream. A request is classified, offered to
the :class:`FaultInjector`, then either answered by the proxy itself (a fabricated error, an
acknowledgement of a lost write, a reset) or forwarded byte for byte: same method, request
target, headers (``Host`` included, so a SigV4 signature still verifies) and body, and the
upstream's status, headers and body relayed back.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import logging
import socket
import threading
import time
from http.server import ThreadingHTTPServer
from typing import BinaryIO, cast
from urllib.parse import urlsplit

from ._answers import ERRORS, FabricatedAnswers
from ._faults import FaultKind
from ._framing import FramedUpload, frame_upload
from ._http import (
    HOP_BY_HOP,
    PIECE,
    ClientBodyError,
    RequestBody,
    encode_chunk,
    idle_connection_dropped,
)
from ._injector import Decision, FaultInjector
from ._operations import RequestTarget, classify_request
from ._sabotage import ALTERED_BODIES, alter_body, corrupt_upload, fail_half_the_deletes

__all__ = ["ProxyHandler", "ProxyServer"]

_log = logging.getLogger("resilient_s3.testing")


class ProxyHandler(FabricatedAnswers):
    """Handles the requests of one client connection (see the module docstring)."""

    protocol_version = "HTTP/1.1"  # keep-alive, and ``100 Continue`` answered by http.server
    #: Headers and body go out in separate writes: with Nagle's algorithm the body would wait for
    #: the client's delayed ACK of the headers (40 ms per small answer on Linux).
    disable_nagle_algorithm = True
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
        conditional = "If-Match" in self.headers
        decision = self.proxy.injector.decide(self.command, target, conditional)
        self.proxy.injector.note(self.command, target, self.headers.items(), decision)
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
        elif kind in ERRORS:
            body.drain()
            status, code = ERRORS[kind]
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
        upload = None
        if decision.kind in (FaultKind.CHUNKED_FRAMING, FaultKind.CORRUPT_WRITE):
            sabotage = (
                frame_upload if decision.kind is FaultKind.CHUNKED_FRAMING else corrupt_upload
            )
            upload = sabotage(self.headers, body)
            if upload is None:
                injector.cancel(decision)  # no checksum to frame: forwarded as is, uncounted
        try:
            response = self._send_upstream(body, upload, decision.ignore_if_match)
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
        if decision.kind is FaultKind.DELETE_ERRORS:
            self._relay_rewritten(response, decision)
            return
        if decision.kind in ALTERED_BODIES:
            self._relay_altered(response, decision)
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

    def _send_upstream(
        self, body: RequestBody, upload: FramedUpload | None = None, no_if_match: bool = False
    ) -> http.client.HTTPResponse:
        """Send the request (or ``upload`` in its place) on the pooled upstream connection and
        return the response head; ``no_if_match``: without its ``If-Match`` header.

        A reused connection that the upstream closed while idle is detected before use; if it fails
        anyway on a request without a body, the request is sent once more on a new connection.
        """
        if self._upstream is not None and idle_connection_dropped(self._upstream):
            self._drop_upstream()
        reused = self._upstream is not None and self._upstream.sock is not None
        for attempt in range(2):
            if self._upstream is None:
                self._upstream = self.proxy.new_upstream()
            conn = self._upstream
            try:
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                headers = self.headers.items() if upload is None else upload.headers
                for name, value in headers:
                    lower = name.lower()
                    if lower not in HOP_BY_HOP and not (no_if_match and lower == "if-match"):
                        conn.putheader(name, value)
                if body.chunked:
                    conn.putheader("Transfer-Encoding", "chunked")
                conn.endheaders()
                if attempt == 0:
                    self.proxy.injector.count("forwarded")
                for data in body.wire() if upload is None else upload.wire():
                    conn.send(data)
                    self.proxy.injector.count("forwarded_bytes", len(data))
                return conn.getresponse()
            except (ConnectionError, http.client.RemoteDisconnected):
                self._drop_upstream()
                if not (reused and body.empty and upload is None and attempt == 0):
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

    def _relay_rewritten(self, response: http.client.HTTPResponse, decision: Decision) -> None:
        """Relay a DeleteObjects answer with half its deleted keys reported as errors."""
        answer = response.read()
        rewritten = fail_half_the_deletes(answer) if response.status == 200 else None
        if rewritten is None:
            self.proxy.injector.cancel(decision)  # nothing deleted: relayed as is, uncounted
        body = answer if rewritten is None else rewritten
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _relay_altered(self, response: http.client.HTTPResponse, decision: Decision) -> None:
        """Relay a GetObject answer with its body altered (BIT_FLIP, EXTRA_BYTES, SLOW_BODY):
        read whole from the upstream, then sent as :func:`alter_body` says."""
        answer = response.read()
        fault = decision.fault
        assert fault is not None
        altered = None
        if self.command == "GET" and 200 <= response.status < 300:
            altered = alter_body(fault, answer)
        if altered is None:
            self.proxy.injector.cancel(decision)  # nothing to alter: relayed as is, uncounted
        pieces, pause = altered or ([answer], 0.0)
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(sum(len(piece) for piece in pieces)))
        self.end_headers()
        try:
            for i, piece in enumerate(pieces):
                if i and pause:
                    self.wfile.flush()
                    time.sleep(pause)
                self.wfile.write(piece)
        except OSError:
            self.close_connection = True  # the client went away meanwhile

    def _copy(self, response: http.client.HTTPResponse, size: int) -> None:
        """Copy exactly ``size`` body bytes from the upstream response to the client."""
        while size > 0:
            data = response.read(min(size, PIECE))
            if not data:
                raise http.client.IncompleteRead(b"", size)
            self.wfile.write(data)
            size -= len(data)

    def _drop_upstream(self) -> None:
        """Close and forget the upstream connection."""
        if self._upstream is not None:
            self._upstream.close()
            self._upstream = None


class ProxyServer(ThreadingHTTPServer):
    """A threaded HTTP server that knows its upstream, its injector and its open client sockets."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(
        self, port: int, upstream_url: str, injector: FaultInjector, timeout: float
    ) -> None:
        parts = urlsplit(upstream_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"upstream must be an http:// or https:// URL, got {upstream_url!r}")
        if parts.path not in ("", "/") or parts.query:
            raise ValueError(f"upstream URL must have no path or query, got {upstream_url!r}")
        self.upstream_https = parts.scheme == "https"
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or (443 if self.upstream_https else 80)
        self.injector = injector
        self.timeout_seconds = timeout
        self._open: set[socket.socket] = set()
        self._closing = False
        self._open_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), ProxyHandler)

    def track(self, sock: socket.socket, open_: bool) -> None:
        """Add or remove a client socket from the set that :meth:`close_clients` shuts down."""
        with self._open_lock:
            if not open_:
                self._open.discard(sock)
                return
            self._open.add(sock)
            closing = self._closing
        if closing:  # accepted just before stop(): close it too
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: object, client_address: object) -> None:
        """Log a handler's unexpected failure at debug level instead of printing a traceback."""
        _log.debug("proxy handler failed", exc_info=True)

    def close_clients(self) -> None:
        """Shut down every open client connection, waking the threads that wait on them."""
        with self._open_lock:
            self._closing = True
            open_sockets = list(self._open)
        for sock in open_sockets:
            with contextlib.suppress(OSError):  # already closed by its handler
                sock.shutdown(socket.SHUT_RDWR)

    def new_upstream(self) -> http.client.HTTPConnection:
        """A new (unconnected) connection to the upstream."""
        if self.upstream_https:
            return http.client.HTTPSConnection(
                self.upstream_host, self.upstream_port, timeout=self.timeout_seconds
            )
        return http.client.HTTPConnection(
            self.upstream_host, self.upstream_port, timeout=self.timeout_seconds
        )
