"""Whether a local file holds an object's bytes, decided by content (docs/batch.md, rules 4 to 6):
the file's MD5 or multipart ETag against the object's ETag, and, for a multipart ETag whose
part size could only be guessed, what one HeadObject tells (the first part's length, the
object's encryption and full-object checksum). Blocking: run in a worker thread."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..._internals import checksum_class

__all__ = [
    "COMMON_PART_SIZES",
    "Comparison",
    "ETagForm",
    "by_etag",
    "by_head",
    "etag_form",
    "part_size_candidates",
]

MIB = 1024 * 1024
#: Part sizes other tools use (boto3 and the AWS CLI 8 MiB, s5cmd 50 MiB, rclone 5 MiB,
#: resilient_s3 16 MiB...), tried when a multipart ETag's part size is not known.
COMMON_PART_SIZES = tuple(n * MIB for n in (5, 8, 15, 16, 32, 50, 64, 100, 128, 256, 512))
#: Part sizes hashed at most in one pass over a file.
MAX_CANDIDATES = 6
_CHUNK = 1024 * 1024
_ETAG = re.compile(r'^(?:W/)?"?([0-9a-fA-F]{32})(?:-([0-9]+))?"?$')
_CHECKSUMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
_KMS = frozenset({"aws:kms", "aws:kms:dsse"})


@dataclass(frozen=True)
class ETagForm:
    """An ETag read: ``"md5"`` (32 hex digits: the MD5 of a single-part object),
    ``"multipart"`` (``<32 hex>-N``: the MD5 of N part MD5s) or ``"other"``."""

    kind: str
    digest: str = ""
    parts: int = 0


@dataclass(frozen=True)
class Comparison:
    """``same``: the bytes are equal (``True``), different (``False``) or undecided (``None``:
    transferred, as different). ``part_size``: the multipart part size that matched. ``head``:
    a HeadObject could decide (a multipart ETag whose part size was guessed, none matched)."""

    same: bool | None
    reason: str
    part_size: int | None = None
    head: bool = False

    @property
    def transfer(self) -> bool:
        return self.same is not True


def etag_form(etag: str | None) -> ETagForm:
    """What kind of ETag ``etag`` is (quotes and a weak marker ignored)."""
    match = _ETAG.match(etag or "")
    if match is None:
        return ETagForm("other")
    digest, parts = match.group(1).lower(), match.group(2)
    if parts is None:
        return ETagForm("md5", digest)
    return ETagForm("multipart", digest, int(parts))


def part_size_candidates(size: int, parts: int, known: Iterable[int]) -> tuple[list[int], bool]:
    """The part sizes ``p`` with ``ceil(size / p) == parts`` worth hashing: those ``known``
    (recorded for this key, the batch's), the common ones, and ``ceil(size / parts)`` rounded up
    to a MiB; whether a known one fits (then the answer is certain)."""

    def fits(part: int) -> bool:
        return part > 0 and -(-size // part) == parts

    certain = [p for p in dict.fromkeys(known) if fits(p)]
    even = -(-size // parts) if parts else 0
    guesses = [*COMMON_PART_SIZES, -(-even // MIB) * MIB, even]
    found = [*certain, *(p for p in guesses if fits(p) and p not in certain)]
    return found[:MAX_CANDIDATES], bool(certain)


def by_etag(path: str, size: int, etag: str | None, known: Iterable[int] = ()) -> Comparison:
    """Compare the file at ``path`` (``size`` bytes, as listed) with an object's ``etag``;
    ``known``: part sizes that may have been used (rule 4 of docs/batch.md)."""
    form = etag_form(etag)
    if form.kind == "other":
        return Comparison(
            None, "undecided: the object's ETag is not an MD5 (its server's own form)"
        )
    if form.kind == "md5":
        md5, _, read = _hashes(path, ())
        if read != size:
            return Comparison(False, "the file changed while it was read")
        if md5 == form.digest:
            return Comparison(True, "same MD5")
        return Comparison(False, "content differs (MD5)")
    sizes, certain = part_size_candidates(size, form.parts, known)
    if not sizes:
        return Comparison(None, f"undecided: no part size gives {form.parts} parts", head=True)
    _, etags, read = _hashes(path, sizes)
    if read != size:
        return Comparison(False, "the file changed while it was read")
    for part in sizes:
        if etags[part] == form.digest:
            return Comparison(True, "same multipart ETag", part)
    if certain:
        return Comparison(False, f"content differs (multipart ETag, part size {_mib(sizes[0])})")
    tried = ", ".join(_mib(p) for p in sizes)
    return Comparison(None, f"undecided: no guessed part size matched ({tried})", head=True)


def by_head(
    path: str,
    size: int,
    etag: str | None,
    first_part: Mapping[str, Any],
    whole: Mapping[str, Any] | None,
) -> Comparison:
    """Rule 5: decide with ``first_part`` (``HeadObject(PartNumber=1)``'s answer) and, for an
    encrypted object, ``whole`` (``HeadObject(ChecksumMode="ENABLED")``'s)."""
    if encrypted(first_part):
        return _by_checksum(path, whole or {})
    form = etag_form(etag)
    part = first_part.get("ContentLength")
    if form.kind != "multipart" or not isinstance(part, int) or part <= 0:
        return Comparison(None, "undecided: the object's first part has no length")
    return by_etag(path, size, etag, (part,))


def encrypted(answer: Mapping[str, Any]) -> bool:
    """Whether a HeadObject ``answer`` shows SSE-KMS or SSE-C (an ETag that is not an MD5)."""
    return answer.get("ServerSideEncryption") in _KMS or bool(answer.get("SSECustomerAlgorithm"))


def _by_checksum(path: str, whole: Mapping[str, Any]) -> Comparison:
    """An encrypted object: its full-object checksum against the file's."""
    if whole.get("ChecksumType") not in (None, "FULL_OBJECT"):
        return Comparison(None, "undecided: encrypted (SSE-KMS/SSE-C), no full-object checksum")
    for name in _CHECKSUMS:
        value = whole.get(f"Checksum{name}")
        checksum = checksum_class(name) if value else None
        if checksum is None or "-" in str(value):
            continue
        computed = checksum()
        with open(path, "rb") as file:
            computed.handle(file)
        if computed.b64digest() == value:
            return Comparison(True, f"same {name} checksum")
        return Comparison(False, f"content differs ({name} checksum)")
    return Comparison(None, "undecided: encrypted (SSE-KMS/SSE-C), no full-object checksum")


def _hashes(path: str, part_sizes: Iterable[int]) -> tuple[str, dict[int, str], int]:
    """One pass over ``path``: its MD5 (when no part size is given), the multipart ETag digest
    for each part size, and the bytes read."""
    sizes = list(part_sizes)
    whole = hashlib.md5(usedforsecurity=False) if not sizes else None
    parts = {p: _Parts(p) for p in sizes}
    read = 0
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            read += len(chunk)
            if whole is not None:
                whole.update(chunk)
            for state in parts.values():
                state.update(chunk)
    md5 = whole.hexdigest() if whole is not None else ""
    return md5, {p: state.etag() for p, state in parts.items()}, read


class _Parts:
    """The part MD5s of a file cut in parts of ``size`` bytes, fed chunk by chunk."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.digests: list[bytes] = []
        self.current = hashlib.md5(usedforsecurity=False)
        self.filled = 0

    def update(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        while view:
            take = min(len(view), self.size - self.filled)
            self.current.update(view[:take])
            self.filled += take
            view = view[take:]
            if self.filled == self.size:
                self.digests.append(self.current.digest())
                self.current, self.filled = hashlib.md5(usedforsecurity=False), 0

    def etag(self) -> str:
        digests = [*self.digests, self.current.digest()] if self.filled else self.digests
        return hashlib.md5(b"".join(digests), usedforsecurity=False).hexdigest()


def _mib(size: int) -> str:
    return f"{size / MIB:g} MiB" if size % (MIB // 4) == 0 else f"{size} bytes"
