"""The state directory and what is written into it: a local file's identity, JSON files written
atomically.

Where: ``resume=`` (a directory), else ``$RESILIENT_S3_STATE_DIR``, else
``$XDG_STATE_HOME/resilient-s3``, else ``~/.local/state/resilient-s3`` (the XDG state
directory: data kept between runs of a program, not worth a backup); on Windows
``%LOCALAPPDATA%\\resilient-s3\\state``. Made with mode 0700: the journals name local files and
objects (never a credential), which is nobody else's business.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ENV_VAR", "FileIdentity", "ResumeArg", "read_json", "state_dir", "write_json"]

#: The environment variable naming the state directory.
ENV_VAR = "RESILIENT_S3_STATE_DIR"
#: What ``resume=`` takes: on (the default directory), off, or a directory.
ResumeArg = bool | str | os.PathLike[str]


def state_dir(resume: ResumeArg) -> Path | None:
    """The state directory ``resume`` asks for (``None``: off); not created yet."""
    if resume is False:
        return None
    if resume is True:
        return default_state_dir()
    if isinstance(resume, (str, os.PathLike)):
        path = Path(os.fspath(resume)).expanduser()
        if path.exists() and not path.is_dir():
            raise NotADirectoryError(f"resume: {str(path)!r} is not a directory")
        return path
    raise TypeError(f"resume must be a bool or a directory path, got {type(resume).__name__}")


def default_state_dir() -> Path:
    """``$RESILIENT_S3_STATE_DIR``, else the platform's per-user state directory."""
    named = os.environ.get(ENV_VAR)
    if named:
        return Path(named).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "resilient-s3" / "state"
    xdg = os.environ.get("XDG_STATE_HOME")
    base_dir = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "state"
    return base_dir / "resilient-s3"


def ensure_dir(path: Path) -> Path:
    """Make ``path`` (a state directory's sub-folder) if missing: it and the state directory
    with mode 0700 (the levels above, as the system makes them)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.mkdir(exist_ok=True, mode=0o700)
    return path


@dataclass(frozen=True)
class FileIdentity:
    """What tells a local file's version without reading it: a change of content changes the
    size or the mtime (or, when the mtime is set back, the ctime); a replaced file changes the
    inode."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int

    @classmethod
    def of(cls, stat: os.stat_result) -> FileIdentity:
        return cls(stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev)

    @classmethod
    def from_json(cls, data: Any) -> FileIdentity:
        """From :meth:`as_json`'s list; raises ``ValueError`` on anything else."""
        if (
            not isinstance(data, list)
            or len(data) != 5
            or not all(isinstance(value, int) and not isinstance(value, bool) for value in data)
        ):
            raise ValueError(f"not a file identity: {data!r:.80}")
        return cls(*data)

    def as_json(self) -> list[int]:
        return [self.size, self.mtime_ns, self.ctime_ns, self.inode, self.device]


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file beside it, then a rename (a
    reader sees the old file or the new one, never a part)."""
    ensure_dir(path.parent)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(data, file, separators=(",", ":"), ensure_ascii=False)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> Any:
    """The JSON in ``path``; ``None`` if there is no such file. Raises ``ValueError`` for a
    file that is not JSON."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return json.loads(text)
