"""A download's temporary file: written beside its target, renamed onto it once complete.

A download into a file never leaves a partial target: its bytes go to
``.<name>.<8 hex>.part`` in the target's directory (made if missing), written at their offsets
(any order, any thread: ``os.pwrite``), and only a download that completed and passed its
checks is renamed onto the target (``os.replace``, atomic on one file system). A failed or
cancelled download removes it. One home for both data planes' downloads.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

__all__ = ["PartFile"]


class PartFile:
    """The ``.part`` file of one download into ``target`` (created at once)."""

    def __init__(self, target: Path) -> None:
        self.target = target
        target.parent.mkdir(parents=True, exist_ok=True)
        self.path = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
        self._lock = threading.Lock()
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)

    def write_at(self, data: bytes | memoryview, offset: int) -> None:
        """Write ``data`` at ``offset`` (nothing once the file is committed or discarded)."""
        with self._lock:
            fd = self._fd
            if fd is None:
                return
            view = memoryview(data)
            while view:
                written = os.pwrite(fd, view, offset)
                view, offset = view[written:], offset + written

    def chunks(self, size: int = 1024 * 1024) -> Iterator[bytes]:
        """What was written so far, from its start, in chunks of ``size`` bytes."""
        with open(self.path, "rb") as file:
            while chunk := file.read(size):
                yield chunk

    def truncate(self) -> None:
        """Forget everything written (a download that starts again)."""
        with self._lock:
            if self._fd is not None:
                os.ftruncate(self._fd, 0)

    def commit(self) -> None:
        """Close the file and rename it onto the target."""
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
            os.replace(self.path, self.target)

    def discard(self) -> None:
        """Close and remove the file (the download failed or was cancelled); idempotent."""
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
        self.path.unlink(missing_ok=True)
