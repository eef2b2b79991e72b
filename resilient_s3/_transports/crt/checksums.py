"""Checksums of the native transport: what an upload sends, what a download is checked against.

**Uploads**: the request checksum, as botocore computes it by default.

botocore (>= 1.36) sends a CRC32 of every PutObject body unless the client says
``request_checksum_calculation="when_required"``; a ``ChecksumAlgorithm`` parameter picks
another algorithm; a ``Checksum*`` value given by the caller is sent as it is. Over http
botocore puts the checksum in a header; here it always goes in a header (never ``aws-chunked``,
which some servers store as data over https), computed by botocore's own checksum classes
(CRT-backed where botocore uses them). The CRT's ``checksum_config`` applies only to its
multipart PUT_OBJECT requests, not to the plain PutObject this plane sends.

**Downloads** (:class:`WholeChecksum`): the object's full-object checksum, as an answer that
describes the whole object reports it (``x-amz-checksum-<algorithm>``, asked for with
``x-amz-checksum-mode: ENABLED``), picked as botocore picks it (CRC64NVME, CRC32C, CRC32, SHA1,
SHA256, the first present; a composite value, ``...-N``, is skipped: it is not a checksum of
the bytes), and checked against the bytes as botocore checks them: a mismatch is botocore's
``FlexibleChecksumError`` with botocore's message.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import FlexibleChecksumError

from ..._internals import checksum_class

__all__ = ["WHOLE_BODY_VALUES", "WholeChecksum", "checksum_headers"]

#: The response checksums botocore validates, in its order of preference.
_RESPONSE_ALGORITHMS = ("crc64nvme", "crc32c", "crc32", "sha1", "sha256")

#: PutObject parameters that carry a whole-object checksum already: none is computed then.
CHECKSUM_VALUES = frozenset(
    {"ChecksumCRC32", "ChecksumCRC32C", "ChecksumCRC64NVME", "ChecksumSHA1", "ChecksumSHA256"}
)
#: PutObject parameters that are a value of the whole body: the CRT's multipart upload cannot
#: send them (its parts are sent as they come), botocore's multipart steps check them.
WHOLE_BODY_VALUES = CHECKSUM_VALUES | {"ContentMD5"}


def checksum_headers(
    params: Mapping[str, Any], body: Any, default_on: bool
) -> list[tuple[str, str]]:
    """The checksum headers botocore would send with ``body`` (bytes-like, a path or a
    seekable file at its start); ``default_on``: the client computes checksums when none is
    asked."""
    algorithm = params.get("ChecksumAlgorithm")
    if CHECKSUM_VALUES & params.keys() or (algorithm is None and not default_on):
        return []
    name = str(algorithm or "CRC32").lower()
    found = checksum_class(name)
    if found is None:
        raise ValueError(f"checksum algorithm {algorithm!r} is not supported by this botocore")
    checksum = found()
    if isinstance(body, os.PathLike):
        with open(os.fspath(body), "rb") as file:
            checksum.handle(file)
    elif isinstance(body, memoryview):  # botocore's handle() takes it for a file
        checksum.update(body.cast("B"))
    else:
        checksum.handle(body)  # bytes, or a file: read, then put back where it was
    headers = [(f"x-amz-checksum-{name}", checksum.b64digest())]
    if algorithm is None:  # a ChecksumAlgorithm parameter is serialized as this header already
        headers.append(("x-amz-sdk-checksum-algorithm", name.upper()))
    return headers


@dataclass(frozen=True)
class WholeChecksum:
    """The full-object checksum an answer reports: its algorithm and base64 value."""

    algorithm: str
    value: str

    @classmethod
    def of(cls, headers: Mapping[str, str]) -> WholeChecksum | None:
        """The checksum of the whole object in ``headers`` (lower-case names), or ``None``."""
        if headers.get("x-amz-checksum-type", "").upper() == "COMPOSITE":
            return None
        for algorithm in _RESPONSE_ALGORITHMS:
            value = headers.get(f"x-amz-checksum-{algorithm}")
            if value and "-" not in value and checksum_class(algorithm) is not None:
                return cls(algorithm, value)
        return None

    def check(self, chunks: Iterable[bytes]) -> None:
        """Raise ``FlexibleChecksumError`` unless ``chunks`` (the object's bytes, in order)
        have this checksum."""
        checksum = checksum_class(self.algorithm)()
        for chunk in chunks:
            checksum.update(chunk)
        if checksum.digest() != base64.b64decode(self.value):
            raise FlexibleChecksumError(
                error_msg=f"Expected checksum {self.value} did not match calculated "
                f"checksum: {checksum.b64digest()}"
            )
