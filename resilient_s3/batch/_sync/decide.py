"""What to do with each name, from the listing and the local side, before reading any file:
rules 1 to 3 of docs/batch.md (missing, size, the index). What these cannot decide is a
``"check"`` step, compared by content in a job (``compare.py``)."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .._planes.threaded import local_path
from .._resume.state import FileIdentity
from .index import SyncIndex
from .names import LocalFile, SkippedName, key_problem

__all__ = ["Remote", "Step", "decide_download", "decide_upload", "doomed_keys"]


@dataclass(frozen=True)
class Remote:
    """An object as listed: its key, size and ETag."""

    key: str
    size: int
    etag: str | None


@dataclass(frozen=True)
class Step:
    """A name whose pair is to be sent (``"send"``: ``reason`` says why) or compared by content
    (``"check"``); ``identity``/``seen_ns``: the local file's, when it exists."""

    kind: Literal["send", "check"]
    relative: str
    key: str
    path: str
    size: int
    reason: str = ""
    remote: Remote | None = None
    identity: FileIdentity | None = None
    seen_ns: int = 0


#: Rules 1 to 3 say: equal (nothing to do), a folder to make, or what cannot be mirrored.
Decision = Step | SkippedName | Literal["same", "mkdir"] | None


def decide_upload(local: LocalFile, key: str, remote: Remote | None, index: SyncIndex) -> Decision:
    """A local file against the object of the same name (``None``: there is none)."""
    size = local.identity.size
    if remote is None:
        return Step("send", local.relative, key, local.path, size, "new", None, local.identity,
                    local.seen_ns)  # fmt: skip
    if remote.size != size:
        reason = f"size differs (local {size}, object {remote.size})"
        return Step("send", local.relative, key, local.path, size, reason, remote,
                    local.identity, local.seen_ns)  # fmt: skip
    if index.hit(local.relative, local.identity, remote.etag):
        return "same"
    return Step("check", local.relative, key, local.path, size, "", remote, local.identity,
                local.seen_ns)  # fmt: skip


def decide_download(
    remote: Remote, relative: str, root: Path, conflicts: set[str], index: SyncIndex
) -> Decision:
    """An object (``relative`` to the prefix) against the local file of the same name."""
    if not relative:
        return None  # the prefix's own folder marker
    if relative.endswith("/"):
        if remote.size:
            return SkippedName(
                remote.key, "a key ending in '/' holds data: a folder cannot", relative
            )
        problem = key_problem(relative[:-1])
        if problem is not None:
            return SkippedName(remote.key, problem, relative)
        return None if local_path(root, relative[:-1]).is_dir() else "mkdir"
    problem = key_problem(relative)
    if problem is None and relative in conflicts:
        problem = "the key is also the folder of other keys ('a' and 'a/b'): it cannot be both"
    if problem is not None:
        return SkippedName(remote.key, problem, relative)
    path = local_path(root, relative)
    seen_ns = time.time_ns()
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return Step("send", relative, remote.key, str(path), remote.size, "new", remote)
    except OSError as error:
        return SkippedName(
            remote.key, f"the local {path} cannot be read ({error.strerror})", relative
        )
    if stat.S_ISDIR(info.st_mode):
        return SkippedName(remote.key, f"a local folder has its name ({path})", relative)
    if not stat.S_ISREG(info.st_mode):
        return SkippedName(remote.key, f"the local {path} is not a regular file", relative)
    identity = FileIdentity.of(info)
    if identity.size != remote.size:
        reason = f"size differs (local {identity.size}, object {remote.size})"
        return Step("send", relative, remote.key, str(path), remote.size, reason, remote,
                    identity, seen_ns)  # fmt: skip
    if index.hit(relative, identity, remote.etag):
        return "same"
    return Step("check", relative, remote.key, str(path), remote.size, "", remote, identity,
                seen_ns)  # fmt: skip


def doomed_keys(
    remote: Mapping[str, Remote], prefix: str, root: Path, protected: Iterable[str]
) -> list[str]:
    """The objects the local side does not have (``remote``: those not matched by a local
    file), but those whose local counterpart was skipped, and folder markers of local
    folders."""
    kept = set(protected)
    doomed = []
    for key, found in remote.items():
        relative = key[len(prefix) :]
        if relative in kept:
            continue
        if not relative:
            continue  # the prefix's own folder marker
        stem = relative[:-1]
        marker = relative.endswith("/") and not found.size and not key_problem(stem)
        if marker and local_path(root, stem).is_dir():
            continue  # the marker of a local folder
        doomed.append(key)
    return doomed
