"""Checks that need no request, made in the caller's call before anything is sent: the bucket,
``dest``, every item of a collection; and, for a bad item's failure, its key."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..._bodies.request import start_position
from .items import is_collection, raw_items

__all__ = ["body_position", "check_all", "check_bucket", "check_dest", "key_of"]


def check_bucket(bucket: object) -> None:
    """A bucket name is a non-empty ``str`` (``ValueError``)."""
    if not isinstance(bucket, str) or not bucket:
        raise ValueError(f"bucket must be a non-empty str, got {bucket!r}")


def check_dest(dest: str | os.PathLike[str] | None) -> Path | None:
    """``dest`` as a directory path (``None`` stays ``None``); ``NotADirectoryError`` if it is a
    file."""
    if dest is None:
        return None
    root = Path(dest)
    if root.exists() and not root.is_dir():
        raise NotADirectoryError(f"dest {str(root)!r} exists and is not a directory")
    return root


def check_all(items: Any, check: Callable[[Any], object]) -> int | None:
    """Check every item of a collection now (before any request); its length, else ``None``."""
    if isinstance(items, (str, bytes)):
        raise TypeError("expected an iterable of items, got a single str/bytes")
    if not is_collection(items):
        if not isinstance(items, Iterable) and not hasattr(items, "__aiter__"):
            raise TypeError(f"expected an iterable of items, got {type(items).__name__}")
        return None
    for raw in raw_items(items):
        check(raw)
    return len(items)


def body_position(body: Any) -> int | None:
    """Where a file-like body starts (it is sent, and resent, from there), or ``None`` for bytes,
    a path, or a stream that cannot seek back (read once, then spooled)."""
    if isinstance(body, (bytes, bytearray, memoryview, str, os.PathLike)):
        return None
    return start_position(body)


def key_of(raw: Any, index: int = 0) -> str:
    """The key of a raw item, for its failure (its repr when there is none)."""
    if isinstance(raw, str):
        return raw
    key = getattr(raw, "key", None) or getattr(raw, "dst_key", None)
    if key is None and isinstance(raw, tuple) and len(raw) > index:
        key = raw[index]
    return key if isinstance(key, str) else repr(raw)[:100]
