"""The request checksum of an upload, as botocore computes it by default.

botocore (>= 1.36) sends a CRC32 of every PutObject body unless the client says
``request_checksum_calculation="when_required"``; a ``ChecksumAlgorithm`` parameter picks
another algorithm; a ``Checksum*`` value given by the caller is sent as it is. Over http
botocore puts the checksum in a header; here it always goes in a header (never ``aws-chunked``,
which some servers store as data over https), computed by botocore's own checksum classes
(CRT-backed where botocore uses them). The CRT's ``checksum_config`` applies only to its
multipart PUT_OBJECT requests, not to the plain PutObject this plane sends.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ..._internals import checksum_class

__all__ = ["checksum_headers"]

#: PutObject parameters that carry a whole-object checksum already: none is computed then.
CHECKSUM_VALUES = frozenset(
    {"ChecksumCRC32", "ChecksumCRC32C", "ChecksumCRC64NVME", "ChecksumSHA1", "ChecksumSHA256"}
)


def checksum_headers(
    params: Mapping[str, Any], body: Any, default_on: bool
) -> list[tuple[str, str]]:
    """The checksum headers botocore would send with ``body`` (bytes, a path or a seekable
    file at its start); ``default_on``: the client computes checksums when none is asked."""
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
    else:
        checksum.handle(body)  # bytes, or a file: read, then put back where it was
    headers = [(f"x-amz-checksum-{name}", checksum.b64digest())]
    if algorithm is None:  # a ChecksumAlgorithm parameter is serialized as this header already
        headers.append(("x-amz-sdk-checksum-algorithm", name.upper()))
    return headers
