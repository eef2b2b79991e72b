"""The journal of one multipart upload in progress, its lock, and the rule that cleans up old ones.

One journal per destination object, ``<state>/uploads/<sha256 of endpoint, bucket, key>.jsonl``:
JSON lines, the first the upload's header (endpoint, bucket, key, upload id, part size, size,
the local file's path and identity, a SHA-256 of the CreateMultipartUpload parameters,
creation time), each further line one part the server acknowledged (number, size, ETag, MD5,
the checksum it answered). A part is one appended line, so a journal costs the same per part
whatever the object's size; a line cut short by a crash is ignored (that part is reconciled
from ``ListParts`` instead). Nothing secret is written: no credential, no SSE-C key (the
parameters' digest replaces the key by its MD5, which S3 receives anyway).

A ``.lock`` file beside it is held (``flock``) while a process uploads: a second process never
resumes the same upload at the same time, and a process that dies holds nothing. Where
``fcntl`` is missing (Windows), nothing is locked.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..._errors import describe
from .state import FileIdentity, ensure_dir

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["MAX_AGE", "Journal", "JournalLock", "JournalStore", "PartDone", "params_digest"]

logger = logging.getLogger("resilient_s3")
VERSION = 1
#: Seconds without a new part after which a journal and its upload are cleaned up.
MAX_AGE = 7 * 24 * 3600.0
_SUFFIX = ".jsonl"


@dataclass(frozen=True)
class PartDone:
    """A part the server acknowledged: its ETag, the MD5 of the bytes sent, and the checksum
    fields it answered (``{"ChecksumCRC32": ...}``)."""

    number: int
    size: int
    etag: str
    md5: str
    checksums: Mapping[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "part": self.number,
            "size": self.size,
            "etag": self.etag,
            "md5": self.md5,
            "checksums": dict(self.checksums),
            "at": round(time.time(), 3),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PartDone:
        checksums = data.get("checksums") or {}
        if not isinstance(checksums, dict):
            raise ValueError("checksums must be an object")
        return cls(
            _int(data, "part"), _int(data, "size"), _str(data, "etag"), _str(data, "md5"),
            {str(k): str(v) for k, v in checksums.items()},
        )  # fmt: skip


@dataclass
class Journal:
    """One multipart upload in progress (see the module docstring)."""

    endpoint: str
    bucket: str
    key: str
    upload_id: str
    part_size: int
    size: int
    path: str
    identity: FileIdentity
    params: str
    created: float = field(default_factory=time.time)
    parts: dict[int, PartDone] = field(default_factory=dict)

    @property
    def part_count(self) -> int:
        return max(1, -(-self.size // self.part_size))

    def part_range(self, number: int) -> tuple[int, int]:
        """``(offset, length)`` of part ``number`` in the file."""
        offset = (number - 1) * self.part_size
        return offset, min(self.part_size, self.size - offset)

    def header(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "endpoint": self.endpoint,
            "bucket": self.bucket,
            "key": self.key,
            "upload_id": self.upload_id,
            "part_size": self.part_size,
            "size": self.size,
            "path": self.path,
            "identity": self.identity.as_json(),
            "params": self.params,
            "created": round(self.created, 3),
        }

    @classmethod
    def from_lines(cls, lines: list[str]) -> Journal:
        """Parse a journal file's lines; ``ValueError`` if its header is not one. A part line
        that does not parse (the last one, cut short by a crash) is skipped."""
        if not lines:
            raise ValueError("empty journal")
        head = json.loads(lines[0])
        if not isinstance(head, dict) or head.get("version") != VERSION:
            raise ValueError(f"not a version {VERSION} journal")
        journal = cls(
            _str(head, "endpoint"), _str(head, "bucket"), _str(head, "key"),
            _str(head, "upload_id"), _int(head, "part_size"), _int(head, "size"),
            _str(head, "path"), FileIdentity.from_json(head.get("identity")),
            _str(head, "params"), float(head.get("created") or 0.0),
        )  # fmt: skip
        if journal.part_size < 1 or journal.size < 0:
            raise ValueError("bad part size or size")
        for line in lines[1:]:
            try:
                part = PartDone.from_json(json.loads(line))
            except (ValueError, TypeError, AttributeError):
                continue
            journal.parts[part.number] = part
        return journal

    def mismatch(
        self, endpoint: str, bucket: str, key: str, path: str, identity: FileIdentity, params: str
    ) -> str | None:
        """Why this journal cannot be resumed for an upload of ``path`` to ``bucket``/``key``
        (``None``: it can)."""
        if (self.endpoint, self.bucket, self.key) != (endpoint, bucket, key):
            return f"the journal is for another object ({describe(self.bucket, self.key)})"
        if self.path != path:
            return f"the journal is for another local file ({self.path!r})"
        if self.identity != identity:
            return f"the local file {path!r} changed since the interrupted upload"
        if self.params != params:
            return "the upload's parameters (extra_args) changed since the interrupted upload"
        return None


def params_digest(params: Mapping[str, Any]) -> str:
    """A SHA-256 of CreateMultipartUpload parameters, an SSE-C key replaced by its MD5."""
    safe: dict[str, Any] = {}
    for name, value in params.items():
        if name == "SSECustomerKey":
            raw = value.encode() if isinstance(value, str) else bytes(value)
            value = base64.b64encode(hashlib.md5(raw, usedforsecurity=False).digest()).decode()
            name = "SSECustomerKeyMD5"
        safe[name] = value
    text = json.dumps(safe, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class JournalLock:
    """The held lock of one object's journal: load, start, append, delete, release."""

    def __init__(self, path: Path, descriptor: int | None) -> None:
        self.path = path
        self._descriptor = descriptor

    def load(self) -> Journal | None:
        """The journal, or ``None``; a journal that cannot be read is deleted (logged)."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            logger.warning("journal %s cannot be read (%s): ignored", self.path, error)
            return None
        try:
            return Journal.from_lines(lines)
        except (ValueError, TypeError, AttributeError) as error:
            logger.warning("journal %s is not a journal (%s): deleted", self.path, error)
            self.path.unlink(missing_ok=True)
            return None

    def start(self, journal: Journal) -> None:
        """Write a new journal (its header, and the parts it holds) atomically."""
        lines = [json.dumps(journal.header())]
        lines += [json.dumps(part.as_json()) for part in journal.parts.values()]
        temporary = self.path.with_name(f".{self.path.name}.new")
        temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(temporary, self.path)

    def append(self, part: PartDone) -> None:
        """Record one more part the server acknowledged (one line appended)."""
        with open(self.path, "a", encoding="utf-8") as file:
            file.write(json.dumps(part.as_json()) + "\n")

    def delete(self) -> None:
        """Delete the journal (the lock file too; released by :meth:`release`)."""
        self.path.unlink(missing_ok=True)
        self.path.with_suffix(".lock").unlink(missing_ok=True)

    def release(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)  # closing releases the flock
            self._descriptor = None


class JournalStore:
    """The journals of one endpoint in a state directory."""

    def __init__(self, root: Path, endpoint: str) -> None:
        self.directory = root / "uploads"
        self.endpoint = endpoint

    def lock(self, bucket: str, key: str) -> JournalLock | None:
        """The lock of ``bucket``/``key``'s journal; ``None`` while another process holds it."""
        ensure_dir(self.directory)
        name = hashlib.sha256(f"{self.endpoint}\0{bucket}\0{key}".encode()).hexdigest()[:40]
        return _acquire(self.directory / (name + _SUFFIX))

    def held(self) -> Iterator[tuple[JournalLock, Journal]]:
        """Every readable journal of this endpoint no other process holds, locked; the caller
        releases each."""
        try:
            names = sorted(self.directory.iterdir())
        except FileNotFoundError:
            return
        for path in names:
            if path.suffix != _SUFFIX or path.name.startswith("."):
                continue
            lock = _acquire(path)
            if lock is None:
                continue
            journal = lock.load()
            if journal is None or journal.endpoint != self.endpoint:
                lock.release()
                continue
            yield lock, journal


def stale_reason(journal: Journal, lock: JournalLock, now: float) -> str | None:
    """Why ``journal`` is to be cleaned up (its upload aborted), or ``None`` (see MAX_AGE)."""
    try:
        identity = FileIdentity.of(os.stat(journal.path))
    except FileNotFoundError:
        return f"its local file {journal.path!r} is gone"
    except OSError as error:
        return f"its local file {journal.path!r} cannot be read ({error.strerror})"
    if identity != journal.identity:
        return f"its local file {journal.path!r} changed"
    try:
        age = now - lock.path.stat().st_mtime
    except FileNotFoundError:
        return "it was deleted"
    if age > MAX_AGE:
        return f"it was not updated for {age / 86400:.1f} days"
    return None


def _acquire(path: Path) -> JournalLock | None:
    """Lock ``path``'s ``.lock`` file (made if missing); ``None`` if another process holds it."""
    if fcntl is None:  # pragma: no cover - Windows: no locking
        return JournalLock(path, None)
    lock_path = path.with_suffix(".lock")
    for _ in range(5):  # the file may be deleted and made again between open and flock
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return None
        try:
            same = os.fstat(descriptor).st_ino == os.stat(lock_path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return JournalLock(path, descriptor)
        os.close(descriptor)  # locked a file deleted meanwhile: lock the new one
    raise BlockingIOError(f"cannot lock {lock_path}: it keeps being replaced")


def _int(data: Mapping[str, Any], name: str) -> int:
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name} must be an integer")
    return value


def _str(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    return value
