"""The sync index: which local file (by identity) was last found equal to which object (by ETag),
so that an unchanged pair is decided without reading the file (docs/batch.md, rule 3).

``<state>/sync/<sha256 of endpoint, bucket, prefix, local root>.json``, one per synced pair,
rewritten atomically at the end of every run (a cancelled one included) with the pairs this run
found or made equal. An entry is trusted only if the file's mtime and ctime were at least
:data:`RACY_NS` older than the moment its identity was taken: a write within the same clock
tick would not change them (git's "racy" rule). A lost or stale index costs reading files,
never a wrong answer: a hit needs the listing to show the very ETag recorded.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..._verify.judgment import normal_etag
from .._resume.state import FileIdentity, read_json, write_json

__all__ = ["RACY_NS", "SyncIndex"]

logger = logging.getLogger("resilient_s3")
VERSION = 1
#: How much older than the moment it was seen a file must be for its entry to be trusted.
RACY_NS = 2_000_000_000


@dataclass(frozen=True)
class _Entry:
    identity: FileIdentity
    seen_ns: int
    etag: str
    part_size: int | None

    def as_json(self) -> list[Any]:
        return [self.identity.as_json(), self.seen_ns, self.etag, self.part_size]


class SyncIndex:
    """The index of one synced pair (see the module docstring); ``path=None``: kept nowhere."""

    def __init__(self, path: Path | None, header: dict[str, str]) -> None:
        self.path = path
        self.header = header
        self._old: dict[str, _Entry] = {}
        self._new: dict[str, _Entry] = {}

    @classmethod
    def open(
        cls, state: Path | None, endpoint: str, bucket: str, prefix: str, root: Path
    ) -> SyncIndex:
        """The index of this pair in ``state`` (``None``: an empty one, never saved)."""
        local = os.path.realpath(root)
        header = {"endpoint": endpoint, "bucket": bucket, "prefix": prefix, "root": local}
        if state is None:
            return cls(None, header)
        name = hashlib.sha256("\0".join(header.values()).encode()).hexdigest()[:40]
        index = cls(state / "sync" / f"{name}.json", header)
        index._load()
        return index

    def hit(self, relative: str, identity: FileIdentity, etag: str | None) -> bool:
        """Whether ``relative`` is known equal to the object with ``etag`` (rule 3); a hit is
        kept for the next run."""
        entry = self._old.get(relative)
        if entry is None or entry.identity != identity or etag is None:
            return False
        if normal_etag(etag) != entry.etag:
            return False
        newest = max(identity.mtime_ns, identity.ctime_ns)
        if newest >= entry.seen_ns - RACY_NS:
            return False  # racy: changed in the tick it was seen in, maybe
        self._new[relative] = entry
        return True

    def part_size(self, relative: str) -> int | None:
        """The multipart part size recorded for ``relative``, if any."""
        entry = self._old.get(relative)
        return entry.part_size if entry is not None else None

    def record(
        self,
        relative: str,
        identity: FileIdentity,
        seen_ns: int,
        etag: str | None,
        part_size: int | None = None,
    ) -> None:
        """``relative`` (its identity taken at ``seen_ns``) holds the object with ``etag``."""
        if etag:
            self._new[relative] = _Entry(identity, seen_ns, str(normal_etag(etag)), part_size)

    def save(self) -> None:
        """Write this run's entries (the pairs found or made equal) atomically."""
        if self.path is None:
            return
        entries = {name: entry.as_json() for name, entry in sorted(self._new.items())}
        try:
            write_json(self.path, {"version": VERSION, **self.header, "entries": entries})
        except OSError as error:
            logger.warning("sync: could not write the index %s (%s)", self.path, error)

    def _load(self) -> None:
        assert self.path is not None
        try:
            data = read_json(self.path)
        except (OSError, ValueError) as error:
            logger.warning("sync: the index %s cannot be read (%s): ignored", self.path, error)
            return
        if not isinstance(data, dict) or data.get("version") != VERSION:
            return
        if any(data.get(name) != value for name, value in self.header.items()):
            return
        entries = data.get("entries")
        for name, raw in (entries if isinstance(entries, dict) else {}).items():
            try:
                identity, seen, etag, part = raw
                entry = _Entry(FileIdentity.from_json(identity), int(seen), str(etag), part)
            except (TypeError, ValueError):
                continue
            if entry.part_size is not None and not isinstance(entry.part_size, int):
                continue
            self._old[str(name)] = entry
