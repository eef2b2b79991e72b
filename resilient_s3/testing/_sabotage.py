"""Faults that let the server act, but not as the client asked or was told.

- CORRUPT_WRITE: a PutObject is forwarded with one byte of its body flipped (same length), and
  without the checksum headers that would let the server notice. The server stores other bytes
  and answers their ETag: only a client that compares the bytes themselves can tell.
- DELETE_ERRORS: a DeleteObjects is forwarded (the server deletes every key), then the first half
  of the keys in its answer (at least one) are reported as ``<Error>`` entries with the code
  ``InternalError``, as S3 does for keys it failed to delete: a client must retry them.
- BIT_FLIP, EXTRA_BYTES, SLOW_BODY: a GetObject answer's body altered on its way to the client
  (:func:`alter_body`): one bit flipped, bytes appended, or sent slowly in pieces.
"""

from __future__ import annotations

import re
from email.message import Message

from ._faults import Fault, FaultKind
from ._framing import FramedUpload
from ._http import HOP_BY_HOP, RequestBody

__all__ = ["ALTERED_BODIES", "alter_body", "corrupt_upload", "fail_half_the_deletes"]

#: The kinds whose answer body :func:`alter_body` changes.
ALTERED_BODIES = frozenset({FaultKind.BIT_FLIP, FaultKind.EXTRA_BYTES, FaultKind.SLOW_BODY})
#: What EXTRA_BYTES appends to a body.
EXTRA = b"<resilient-s3 extra bytes>"
#: How many pieces a second SLOW_BODY sends.
SLOW_PIECES = 16

_DROPPED = frozenset({"content-md5", "x-amz-content-sha256", "x-amz-sdk-checksum-algorithm"})
_DELETED = re.compile(rb"<Deleted>(.*?)</Deleted>", re.DOTALL)
_KEY = re.compile(rb"<Key>(.*?)</Key>", re.DOTALL)


def corrupt_upload(headers: Message, body: RequestBody) -> FramedUpload | None:
    """The upload to forward with its middle byte flipped, or ``None`` when the body is empty,
    chunked or aws-chunked (nothing simple to corrupt)."""
    encodings = headers.get("Content-Encoding", "").lower()
    if body.chunked or body.empty or "aws-chunked" in encodings:
        return None
    data = bytearray(b"".join(body.payload()))
    data[len(data) // 2] ^= 0xFF
    kept = [
        (name, value)
        for name, value in headers.items()
        if name.lower() not in HOP_BY_HOP
        and name.lower() not in _DROPPED
        and not name.lower().startswith("x-amz-checksum-")
    ]
    kept.append(("x-amz-content-sha256", "UNSIGNED-PAYLOAD"))
    return FramedUpload(headers=kept, chunked=False, body=iter([bytes(data)]))


def fail_half_the_deletes(answer: bytes) -> bytes | None:
    """A DeleteObjects answer with its first half of ``<Deleted>`` keys turned into
    ``InternalError`` entries, or ``None`` if it deleted nothing."""
    deleted = list(_DELETED.finditer(answer))
    if not deleted:
        return None
    failing = deleted[: (len(deleted) + 1) // 2]
    out, last = [], 0
    for match in failing:
        key = _KEY.search(match.group(1))
        out.append(answer[last : match.start()])
        out.append(
            b"<Error><Key>%s</Key><Code>InternalError</Code><Message>injected by the fault "
            b"proxy</Message></Error>" % (key.group(1) if key else b"")
        )
        last = match.end()
    out.append(answer[last:])
    return b"".join(out)


def alter_body(fault: Fault, body: bytes) -> tuple[list[bytes], float] | None:
    """The pieces to send instead of a successful GetObject ``body`` and the pause between two
    of them, or ``None`` when there is nothing to alter (an empty body, for BIT_FLIP and
    SLOW_BODY)."""
    if fault.kind is FaultKind.EXTRA_BYTES:
        return [body, EXTRA], 0.0
    if not body:
        return None
    if fault.kind is FaultKind.BIT_FLIP:
        flipped = bytearray(body)
        flipped[len(flipped) // 2] ^= 0x01
        return [bytes(flipped)], 0.0
    step = max(1, int((fault.bytes_per_second or 1) / SLOW_PIECES))
    pieces = [body[i : i + step] for i in range(0, len(body), step)]
    return pieces, 1 / SLOW_PIECES
