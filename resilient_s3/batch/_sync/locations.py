"""The two sides of a sync: a local directory and ``s3://bucket/prefix``, checked before any
request."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .._inputs.checks import check_bucket

__all__ = ["Direction", "S3Location", "Sides", "sides"]

Direction = Literal["upload", "download"]
_SCHEME = "s3://"


@dataclass(frozen=True)
class S3Location:
    """A bucket and a prefix that is a folder: ``""`` or ending in ``/``."""

    bucket: str
    prefix: str

    def __str__(self) -> str:
        return f"{_SCHEME}{self.bucket}/{self.prefix}"

    def key(self, relative: str) -> str:
        return self.prefix + relative


@dataclass(frozen=True)
class Sides:
    """What a sync goes from and to."""

    direction: Direction
    root: Path
    remote: S3Location

    @property
    def source(self) -> str:
        return str(self.root) if self.direction == "upload" else str(self.remote)

    @property
    def dest(self) -> str:
        return str(self.remote) if self.direction == "upload" else str(self.root)


def parse_s3(text: str) -> S3Location:
    """``s3://bucket[/prefix]``; the prefix as a folder (``a`` and ``a/`` are the same)."""
    bucket, _, prefix = text[len(_SCHEME) :].partition("/")
    check_bucket(bucket)
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    if prefix.startswith("/") or "//" in prefix:
        raise ValueError(f"sync: {text!r}: the prefix has an empty folder name")
    return S3Location(bucket, prefix)


def sides(source: str | os.PathLike[str], dest: str | os.PathLike[str]) -> Sides:
    """The sides of ``sync(source, dest)``: exactly one is ``s3://bucket/prefix`` (a ``str``);
    the other a local directory (a ``str`` or any path; a ``Path`` is always local). The source
    directory must exist; a destination directory is made when needed."""
    remote = [_remote(side) for side in (source, dest)]
    if remote[0] is not None and remote[1] is not None:
        raise ValueError("sync: both sides are s3:// locations; one must be a local directory")
    if remote[0] is None and remote[1] is None:
        raise ValueError("sync: neither side is an s3://bucket/prefix location")
    if remote[1] is not None:
        root = Path(os.fspath(source))
        if not root.is_dir():
            raise NotADirectoryError(f"sync: the source {str(root)!r} is not a directory")
        return Sides("upload", root, remote[1])
    assert remote[0] is not None
    root = Path(os.fspath(dest))
    if root.exists() and not root.is_dir():
        raise NotADirectoryError(f"sync: the destination {str(root)!r} is not a directory")
    return Sides("download", root, remote[0])


def _remote(side: str | os.PathLike[str]) -> S3Location | None:
    if isinstance(side, str) and side.startswith(_SCHEME):
        return parse_s3(side)
    if not isinstance(side, (str, os.PathLike)):
        raise TypeError(f"sync: expected a path or an s3:// location, got {type(side).__name__}")
    return None
