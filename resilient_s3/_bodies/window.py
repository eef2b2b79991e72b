"""A file body uploaded from the middle, presented to botocore as a file that starts there.

With awscrt installed, botocore signs through the CRT, whose input stream seeks a body back to
its absolute position 0 after hashing it (SigV4 over http hashes the payload): a file handed
over at position 1234 was then sent whole, 1,234 bytes too many (verification caught it as a
size mismatch; unverified, the wrong bytes would have been stored). A :class:`Window` makes
position 0 the caller's starting position, so every reader (botocore, its checksums, the CRT,
urllib3) sees exactly the bytes from there to the end.
"""

from __future__ import annotations

import io
from typing import IO

__all__ = ["Window"]


class Window(io.RawIOBase):
    """The bytes of ``file`` from ``start`` to its end, as a seekable file of their own."""

    def __init__(self, file: IO[bytes], start: int) -> None:
        super().__init__()
        self._file, self._start = file, start
        self._file.seek(start)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._file.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            return self._file.seek(self._start + offset) - self._start
        return self._file.seek(offset, whence) - self._start

    def tell(self) -> int:
        return self._file.tell() - self._start
