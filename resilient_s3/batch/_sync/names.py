"""The local side of a sync: the tree walked with each file's identity, and the names that
cannot be mirrored, each with its reason (reported, never silently left out).

A local name becomes the key ``prefix + relative/path`` and a key under the prefix becomes the
file ``root/relative/path``: byte for byte, Unicode in whatever normal form it has, spaces
included. What cannot cross: a local name that is not valid UTF-8 (S3 keys are Unicode), a key
over 1,024 bytes, a local entry that is not a regular file (a FIFO, a socket, a device; a
symbolic link to a file is followed, one to a folder is not walked: it could loop), and a key
that is not a local path (``.``/``..`` segments, an empty segment ``a//b``, a NUL, a segment
over 255 bytes, a key that is a file and the folder of other keys at once).
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .._resume.state import FileIdentity

__all__ = [
    "LocalFile",
    "SkippedName",
    "Temporary",
    "folder_conflicts",
    "key_problem",
    "walk",
]

#: S3's longest key, in UTF-8 bytes.
MAX_KEY_BYTES = 1024
#: The longest file name most local file systems take, in bytes.
MAX_NAME_BYTES = 255
#: A download's temporary file (``threaded.get_one``, ``download.py``): never synced.
_TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{8}\.part$")


@dataclass(frozen=True)
class LocalFile:
    """A regular file of the tree: its ``/``-separated relative name, path, identity, and when
    the identity was taken (``time.time_ns()``)."""

    relative: str
    path: str
    identity: FileIdentity
    seen_ns: int


@dataclass(frozen=True)
class Temporary:
    """A download's temporary file (``.NAME.XXXXXXXX.part``), left by an interrupted one."""

    relative: str
    path: str


@dataclass(frozen=True)
class SkippedName:
    """A name that cannot be mirrored: the key or the local path, and why; ``relative``: its
    name relative to the synced folder, when it has one (its counterpart is never deleted)."""

    name: str
    reason: str
    relative: str | None = None

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}"


def walk(root: Path, prefix: str = "") -> Iterator[LocalFile | SkippedName | Temporary]:
    """Every regular file under ``root`` (sorted by name in each folder), a download's
    temporary file, or why an entry is skipped; ``prefix`` is the keys' prefix (for the key
    length check)."""
    stack = [("", str(root))]
    while stack:
        relative_dir, directory = stack.pop()
        try:
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as error:
            yield SkippedName(directory, f"cannot list this folder ({error.strerror or error})")
            continue
        folders = []
        for entry in entries:
            relative = relative_dir + entry.name
            found = _entry(entry, relative, prefix)
            if found == "folder":
                folders.append((relative + "/", entry.path))
            elif isinstance(found, (LocalFile, SkippedName, Temporary)):
                yield found
        stack.extend(reversed(folders))


def _entry(
    entry: os.DirEntry[str], relative: str, prefix: str
) -> LocalFile | SkippedName | Temporary | str | None:
    """One directory entry: a file, a folder to walk (``"folder"``), or skipped."""
    shown = _shown(entry.path)
    try:
        is_link = entry.is_symlink()
        info = entry.stat()  # follows a symbolic link
    except OSError as error:
        return SkippedName(shown, f"cannot be read ({error.strerror or error})", relative)
    if stat.S_ISDIR(info.st_mode):
        if is_link:
            reason = "a symbolic link to a folder: not followed (it could loop)"
            return SkippedName(shown, reason, relative)
        return "folder"
    if not stat.S_ISREG(info.st_mode):
        return SkippedName(shown, "not a regular file (a FIFO, socket or device)", relative)
    if _TEMPORARY.match(entry.name):
        return Temporary(relative, entry.path)
    problem = name_problem(relative, prefix)
    if problem is not None:
        return SkippedName(shown, problem, relative)
    return LocalFile(relative, entry.path, FileIdentity.of(info), time.time_ns())


def name_problem(relative: str, prefix: str) -> str | None:
    """Why the local name ``relative`` cannot be a key under ``prefix``, or ``None``."""
    try:
        size = len((prefix + relative).encode("utf-8"))
    except UnicodeEncodeError:
        return "the name is not valid UTF-8, which S3 keys must be"
    if size > MAX_KEY_BYTES:
        return f"the key would be {size} bytes long, over S3's {MAX_KEY_BYTES}"
    return None


def key_problem(relative: str) -> str | None:
    """Why the key (``relative`` to the prefix) cannot be a local file, or ``None``."""
    if "\0" in relative:
        return "the key holds a NUL character, which no local file name can"
    parts = relative.split("/")
    if any(part == "" for part in parts):
        return "the key has an empty folder name ('//', or '/' at its start)"
    if any(part in (".", "..") for part in parts):
        return "the key has a '.' or '..' folder name, which would leave its folder"
    if any(len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES for part in parts):
        return f"a name in the key is longer than {MAX_NAME_BYTES} bytes"
    return None


def folder_conflicts(relatives: Iterable[str]) -> set[str]:
    """The names among ``relatives`` that are also the folder of another name (``a`` when
    ``a/b`` exists): they cannot be a file and a folder at once."""
    names, folders = set(), set()
    for relative in relatives:
        names.add(relative)
        parts = relative.split("/")
        for end in range(1, len(parts)):
            folders.add("/".join(parts[:end]))
    return names & folders


def _shown(path: str) -> str:
    """``path`` for a report: a name that is not UTF-8 shown with its bytes escaped."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "backslashreplace")
    return path
