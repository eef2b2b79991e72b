"""Which GetObject answers are small enough to arrive whole: what a front door knows of objects'
sizes.

The native transport hands an answer over only once it has arrived whole (``crt/bridge.py``):
awscrt 0.38 has no read backpressure, so a native GetObject holds its whole body in memory
(the CRT's buffer, then Python's bytes). A front door therefore sends a GetObject natively
only when its answer is known to be at most :data:`NATIVE_GET_LIMIT` bytes
(:meth:`KnownSizes.bound`):

- a ``Range`` of at most that many bytes (``bytes=0-1023``, ``bytes=-100``);
- or an object whose size and ETag this client saw in an answer (a PutObject of bytes, a
  HeadObject, the verifier's read-back, an unranged GetObject; with a ``VersionId``, only the
  version seen): the request is then pinned to that ETag (``If-Match``), so an object replaced
  since by a bigger one is answered 412 and read through botocore instead, never held in memory.
  An ETag the caller gave as ``IfMatch`` pins it already.

Everything else (an object the client knows nothing of, or knows is bigger, ``PartNumber``)
streams through botocore, reading a 1 GiB object in flat memory. The knowledge is a bounded LRU
(:data:`CAPACITY` objects, ~200 bytes each), shared by a client and those ``with_options``
derives; this client's own writes and deletes update it.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["CAPACITY", "NATIVE_GET_LIMIT", "KnownSizes"]

#: The largest GetObject answer the native transport receives (boto3's multipart chunk size).
NATIVE_GET_LIMIT = 8 * 1024 * 1024
#: How many objects' sizes a client remembers.
CAPACITY = 10_000
_RANGE = re.compile(r"bytes=(?:(\d+)-(\d+)|-(\d+))")
#: Writes whose stored size the answer does not tell (the object is forgotten).
_REPLACING = frozenset({"CopyObject", "CompleteMultipartUpload", "DeleteObject"})
_BYTES = (bytes, bytearray, memoryview)


class KnownSizes:
    """``(bucket, key) -> (ETag, size, VersionId)`` of the last :data:`CAPACITY` objects seen
    (see the module docstring); thread-safe."""

    __slots__ = ("_capacity", "_entries", "_lock")

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[tuple[str, str], tuple[str, int, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def bound(self, params: Mapping[str, Any]) -> str | None:
        """How a GetObject with ``params`` may go native: ``None`` (its answer may be bigger
        than :data:`NATIVE_GET_LIMIT`: botocore streams it), ``""`` (bounded as asked), or
        the ETag to pin it to (``If-Match``)."""
        if "PartNumber" in params:
            return None
        asked = params.get("Range")
        if asked is not None:
            return "" if _range_size(asked) <= NATIVE_GET_LIMIT else None
        seen = self._entries.get((params.get("Bucket"), params.get("Key")))  # type: ignore[arg-type]
        if seen is None or seen[1] > NATIVE_GET_LIMIT:
            return None
        if "VersionId" in params and params["VersionId"] != seen[2]:
            return None
        given = params.get("IfMatch")
        if given is None:
            return seen[0]
        return "" if given == seen[0] else None

    def saw(self, operation: str, params: Mapping[str, Any], response: Any) -> None:
        """Learn from an answer of this client's (a changed object is forgotten)."""
        bucket, key = params.get("Bucket"), params.get("Key")
        if not isinstance(bucket, str) or not isinstance(key, str):
            return
        if operation in ("HeadObject", "GetObject"):
            if "Range" in params or "PartNumber" in params or "VersionId" in params:
                return
            etag, size = response.get("ETag"), response.get("ContentLength")
            self._remember(bucket, key, etag, size, response.get("VersionId"))
        elif operation == "PutObject":
            body = params.get("Body")
            size = memoryview(body).nbytes if isinstance(body, _BYTES) else None
            if isinstance(body, str):
                size = len(body.encode())
            self._remember(bucket, key, response.get("ETag"), size, response.get("VersionId"))
        elif operation in _REPLACING:
            self.forget(bucket, [key])

    def forget(self, bucket: str, keys: Iterable[str]) -> None:
        """Drop what is known of ``keys`` (deleted, replaced, or changed by another writer)."""
        with self._lock:
            for key in keys:
                self._entries.pop((bucket, key), None)

    def _remember(self, bucket: str, key: str, etag: Any, size: Any, version: Any = None) -> None:
        if not isinstance(etag, str) or not isinstance(size, int):
            self.forget(bucket, [key])
            return
        with self._lock:
            self._entries[(bucket, key)] = (etag, size, version)
            self._entries.move_to_end((bucket, key))
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)


def _range_size(asked: Any) -> float:
    """How many bytes ``Range`` asks for at most (``inf`` when it is not one bounded range)."""
    found = _RANGE.fullmatch(str(asked).strip())
    if found is None:
        return float("inf")
    first, last, suffix = found.groups()
    if suffix is not None:
        return int(suffix)
    return int(last) - int(first) + 1 if int(last) >= int(first) else float("inf")
