"""Two faults that let the server act, but not as the client asked or was told.

- CORRUPT_WRITE: a PutObject is forwarded with one byte of its body flipped (same length), and
  without the checksum headers that would let the server notice. The server stores other bytes
  and answers their ETag: only a client that compares the bytes themselves can tell.
- DELETE_ERRORS: a DeleteObjects is forwarded (the server deletes every key), then the first half
  of the keys in its answer (at least one) are reported as ``<Error>`` entries with the code
  ``InternalError``, as S3 does for keys it failed to delete: a client must retry them.
"""

from __future__ import annotations

import re
from email.message import Message

from ._framing import FramedUpload
from ._http import HOP_BY_HOP, RequestBody

__all__ = ["corrupt_upload", "fail_half_the_deletes"]

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
