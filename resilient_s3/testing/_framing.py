"""The CHUNKED_FRAMING fault: make the upstream store an upload's aws-chunked framing as its data.

Some S3 servers ignore ``Content-Encoding: aws-chunked`` and store the framed body as it came: a
1,024-byte upload sent the way boto3 sends it over https (``400\\r\\n`` + data + ``\\r\\n0\\r\\n``
+ a checksum trailer + ``\\r\\n``) is stored as 1,067 bytes, with no error. boto3 frames uploads
only over https, which the proxy does not serve, so the proxy frames the upload itself: a plain
body with a flexible checksum header (``x-amz-checksum-crc32: ...``, which boto3 would have sent
as the trailer) is forwarded as exactly those framed bytes, as plain data. A body that the client
did send ``aws-chunked`` is forwarded with its framing as data. Either way the headers that would
let the upstream see through it are rewritten (see :func:`frame_upload`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message

from ._http import HOP_BY_HOP, RequestBody, encode_chunk

__all__ = ["AWS_CHUNK", "FramedUpload", "frame_upload", "framed_length"]

#: The size of the data chunks boto3 frames (botocore's ``AwsChunkedWrapper``).
AWS_CHUNK = 1024 * 1024

#: Request headers dropped from a framed upload: they describe the real payload or its framing.
_DROPPED = frozenset(
    {
        "content-length",
        "content-md5",
        "x-amz-content-sha256",
        "x-amz-decoded-content-length",
        "x-amz-sdk-checksum-algorithm",
        "x-amz-trailer",
    }
)


@dataclass(frozen=True)
class FramedUpload:
    """What to send upstream instead of the request as received.

    Attributes:
        headers: Every header to send (hop-by-hop ones excluded, ``Content-Length`` included when
            the length is known).
        chunked: Whether to send the body with ``Transfer-Encoding: chunked`` (when the client did,
            so that its length is not known in advance).
        body: The data to send, not yet transfer-encoded.
    """

    headers: list[tuple[str, str]]
    chunked: bool
    body: Iterator[bytes]

    def wire(self) -> Iterator[bytes]:
        """The body as it goes on the wire (chunk-encoded when :attr:`chunked`)."""
        if not self.chunked:
            yield from self.body
            return
        for data in self.body:
            if data:
                yield encode_chunk(data)
        yield b"0\r\n\r\n"


def framed_length(size: int, trailer: bytes, chunk: int = AWS_CHUNK) -> int:
    """The length of ``size`` bytes framed aws-chunked in ``chunk``-byte chunks with ``trailer``
    (one ``name:value\\r\\n`` line): 1,067 for 1,024 bytes and a CRC32 trailer."""
    full, rest = divmod(size, chunk)
    length = full * (len(b"%x" % chunk) + 4 + chunk)
    if rest:
        length += len(b"%x" % rest) + 4 + rest
    return length + len(b"0\r\n") + len(trailer) + len(b"\r\n")


def frame_upload(headers: Message, body: RequestBody) -> FramedUpload | None:
    """The upload to forward so that the upstream stores its aws-chunked framing as data, or
    ``None`` if this request has neither an ``aws-chunked`` body nor a checksum header to frame.

    The forwarded request has no ``aws-chunked`` content encoding, no checksum, MD5 or decoded
    length headers, and ``x-amz-content-sha256: UNSIGNED-PAYLOAD``: so its SigV4 signature no
    longer matches, and only an upstream that does not verify signatures (moto, LocalStack) takes
    it; one that does (SeaweedFS) answers ``403 SignatureDoesNotMatch``.
    """
    encodings = [e.strip() for e in headers.get("Content-Encoding", "").split(",") if e.strip()]
    sent_framed = any(e.lower() == "aws-chunked" for e in encodings)
    checksums = [(n, v) for n, v in headers.items() if n.lower().startswith("x-amz-checksum-")]
    if not sent_framed and not checksums:
        return None
    kept = [
        (name, value)
        for name, value in headers.items()
        if name.lower() not in HOP_BY_HOP
        and name.lower() not in _DROPPED
        and name.lower() != "content-encoding"
        and not name.lower().startswith("x-amz-checksum-")
    ]
    other_encodings = [e for e in encodings if e.lower() != "aws-chunked"]
    if other_encodings:
        kept.append(("Content-Encoding", ", ".join(other_encodings)))
    kept.append(("x-amz-content-sha256", "UNSIGNED-PAYLOAD"))
    if sent_framed:
        data, length = body.payload(), body.length  # the client's own framing, passed on as data
    else:
        name, value = checksums[0]
        trailer = f"{name.lower()}:{value}\r\n".encode("latin-1")
        data, length = _frame(body.payload(), trailer), framed_length(body.length, trailer)
    if not body.chunked:
        kept.append(("Content-Length", str(length)))
    return FramedUpload(headers=kept, chunked=body.chunked, body=data)


def _frame(payload: Iterator[bytes], trailer: bytes) -> Iterator[bytes]:
    """Frame ``payload`` aws-chunked as botocore does: chunks of exactly :data:`AWS_CHUNK` bytes
    (the last one shorter), then the empty chunk, ``trailer`` and the final CRLF."""
    pending = b""
    for data in payload:
        pending += data
        while len(pending) >= AWS_CHUNK:
            piece, pending = pending[:AWS_CHUNK], pending[AWS_CHUNK:]
            yield b"%x\r\n%s\r\n" % (len(piece), piece)
    if pending:
        yield b"%x\r\n%s\r\n" % (len(pending), pending)
    yield b"0\r\n" + trailer + b"\r\n"
