"""The answers the proxy makes up itself instead of forwarding: S3 errors, a lost write's
acknowledgement, plain-text errors and connection resets (a mixin of :class:`ProxyHandler`)."""

from __future__ import annotations

import contextlib
import itertools
import socket
import struct
from http.server import BaseHTTPRequestHandler

from ._faults import FaultKind
from ._http import error_body
from ._injector import Decision

__all__ = ["ERRORS", "FabricatedAnswers"]

#: Kinds answered with a fabricated S3 error: (status, error code).
ERRORS = {
    FaultKind.SLOWDOWN: (503, "SlowDown"),
    FaultKind.THROTTLE: (503, "SlowDown"),
    FaultKind.INTERNAL_ERROR: (500, "InternalError"),
    FaultKind.ACCESS_DENIED: (403, "AccessDenied"),
    FaultKind.STALE_READ: (404, "NoSuchKey"),
}
_request_ids = itertools.count(1)


class FabricatedAnswers(BaseHTTPRequestHandler):
    """Methods that answer the current request without the upstream."""

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
