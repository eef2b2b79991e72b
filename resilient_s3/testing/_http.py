"""HTTP/1.1 pieces for the proxy: request-body framing, hop-by-hop headers, S3 error bodies."""

from __future__ import annotations

import http.client
import selectors
from collections.abc import Iterator
from email.message import Message
from typing import BinaryIO
from xml.sax.saxutils import escape

__all__ = [
    "HOP_BY_HOP",
    "PIECE",
    "ClientBodyError",
    "RequestBody",
    "encode_chunk",
    "error_body",
    "idle_connection_dropped",
]

#: Bytes copied per read/write when streaming a body.
PIECE = 64 * 1024

#: Headers that describe one connection, not the message, and so are never passed on as they are
#: (``Expect`` included: the proxy answers ``100 Continue`` itself and forwards the whole body).
HOP_BY_HOP = frozenset(
    {
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)

#: Message of each S3 error code the proxy fabricates.
_MESSAGES = {
    "AccessDenied": "Access Denied",
    "InternalError": "We encountered an internal error. Please try again.",
    "NoSuchKey": "The specified key does not exist.",
    "SlowDown": "Please reduce your request rate.",
}


class ClientBodyError(Exception):
    """The client closed its connection inside a request body, or framed the body wrongly."""


def error_body(code: str, resource: str, request_id: str) -> bytes:
    """An S3 REST error document (``<Error><Code>...``) for ``code`` on ``resource`` (a path)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(_MESSAGES[code])}</Message>"
        f"<Resource>{escape(resource)}</Resource><RequestId>{request_id}</RequestId></Error>"
    ).encode()


def encode_chunk(data: bytes) -> bytes:
    """One HTTP/1.1 chunk (``data`` must not be empty: the empty chunk ends the body)."""
    return b"%x\r\n%s\r\n" % (len(data), data)


def idle_connection_dropped(conn: http.client.HTTPConnection) -> bool:
    """Whether an idle upstream connection was closed by its peer (readable while idle)."""
    if conn.sock is None:
        return False
    with selectors.DefaultSelector() as selector:
        selector.register(conn.sock, selectors.EVENT_READ)
        return bool(selector.select(timeout=0))


class RequestBody:
    """The body of one incoming request, read from the client connection as it is consumed.

    A body is framed either by ``Content-Length`` (absent means empty; an ``aws-chunked`` content
    encoding is just bytes here) or by ``Transfer-Encoding: chunked``. It can be consumed once, by
    :meth:`payload` (the data), :meth:`wire` (what to send upstream) or :meth:`drain`.

    Raises:
        ValueError: From the constructor, on a malformed ``Content-Length`` or transfer encoding.
        ClientBodyError: While reading, if the client goes away or sends a malformed chunk.
    """

    def __init__(self, rfile: BinaryIO, headers: Message) -> None:
        self._rfile = rfile
        encodings = [e.strip().lower() for e in headers.get("Transfer-Encoding", "").split(",")]
        encodings = [e for e in encodings if e]
        if encodings and encodings != ["chunked"]:
            raise ValueError(f"unsupported Transfer-Encoding {encodings}")
        self.chunked = bool(encodings)
        self.length = 0
        if not self.chunked:
            text = headers.get("Content-Length", "0").strip()
            if not text.isdigit():
                raise ValueError(f"bad Content-Length {text!r}")
            self.length = int(text)
        self.trailers = b""

    @property
    def empty(self) -> bool:
        """Whether the body is known to be empty (a zero or absent Content-Length)."""
        return not self.chunked and self.length == 0

    def payload(self) -> Iterator[bytes]:
        """Yield the body's data, in pieces of at most :data:`PIECE` bytes."""
        if not self.chunked:
            remaining = self.length
            while remaining:
                data = self._read(min(remaining, PIECE))
                remaining -= len(data)
                yield data
            return
        while True:
            line = self._readline(1024)
            if not line.endswith(b"\n"):
                raise ClientBodyError("client closed the connection inside a chunked body")
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise ClientBodyError(f"bad chunk size line {line[:40]!r}") from None
            if size == 0:
                self.trailers = self._read_trailers()
                return
            while size:
                data = self._read(min(size, PIECE))
                size -= len(data)
                yield data
            self._read(2)  # the CRLF after the chunk data

    def wire(self) -> Iterator[bytes]:
        """Yield the body framed for the upstream: as is, or re-chunked with the trailers kept."""
        if not self.chunked:
            yield from self.payload()
            return
        for data in self.payload():
            yield encode_chunk(data)
        yield b"0\r\n" + self.trailers + b"\r\n"

    def drain(self) -> None:
        """Read and discard the whole body, so that the connection can carry the next request."""
        for _ in self.payload():
            pass

    def _read(self, size: int) -> bytes:
        """Read exactly ``size`` bytes, or raise :class:`ClientBodyError` if the client left."""
        try:
            data = self._rfile.read(size)
        except OSError as exc:
            raise ClientBodyError(f"reading the request body failed: {exc}") from exc
        if len(data) != size:
            raise ClientBodyError("client closed the connection inside the request body")
        return data

    def _readline(self, limit: int) -> bytes:
        """Read one line of chunk framing (at most ``limit`` bytes)."""
        try:
            return self._rfile.readline(limit)
        except OSError as exc:
            raise ClientBodyError(f"reading the request body failed: {exc}") from exc

    def _read_trailers(self) -> bytes:
        """Read the trailer section after the last chunk, up to its empty line (not included)."""
        trailers = b""
        while True:
            line = self._readline(64 * 1024)
            if not line.endswith(b"\n"):
                raise ClientBodyError("client closed the connection inside the chunked trailers")
            if line in (b"\r\n", b"\n"):
                return trailers
            trailers += line
