"""The items a batch takes, checked and normalised one at a time (inputs are consumed lazily).

For put, ``items`` is a mapping key -> body, an iterable of ``(key, body)`` or
``(key, body, extra_args)`` tuples, or of :class:`PutItem`. A body is ``bytes`` (or
``bytearray``/``memoryview``), ``str`` (sent UTF-8 encoded), a path (``os.PathLike``: the
file is opened when its upload starts) or a binary file object.

Whatever can be checked before the first request is: the options, and, when the input is a
collection (a list, tuple, set or mapping), every item (a missing local file, a non-replayable
stream while verification is on, a wrong type). A generator is never consumed ahead: a bad item
from it becomes that item's failure (kind PERMANENT, 0 attempts), the others go on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Union

from ..._bodies.request import check_stream, start_position
from ..._errors import UnreplayableBodyError, describe

__all__ = [
    "Body",
    "CopyItem",
    "PutItem",
    "is_collection",
    "raw_items",
    "to_copy_item",
    "to_key",
    "to_put_item",
]

#: What a put body can be.
Body = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", IO[bytes]]
_RESERVED = frozenset({"Bucket", "Key", "Body", "CopySource"})


@dataclass(frozen=True)
class PutItem:
    """One object to put: ``key``, ``body`` and PutObject parameters in ``extra_args``
    (``ContentType``, ``Metadata``, ``ServerSideEncryption``...; not Bucket, Key or Body)."""

    key: str
    body: Body
    extra_args: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_key(self.key)
        check_extra(self.extra_args)


@dataclass(frozen=True)
class CopyItem:
    """One copy: from ``src_bucket``/``src_key`` to ``dst_bucket``/``dst_key``, with CopyObject
    parameters in ``extra_args`` (``MetadataDirective``, ``StorageClass``...)."""

    src_bucket: str
    src_key: str
    dst_bucket: str
    dst_key: str
    extra_args: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("src_bucket", "dst_bucket"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"copy: {name} must be a non-empty str")
        check_key(self.src_key)
        check_key(self.dst_key)
        check_extra(self.extra_args)


def check_key(key: object) -> str:
    """``key`` if it is a non-empty ``str``, else raise."""
    if not isinstance(key, str):
        raise TypeError(f"an object key must be a str, got {type(key).__name__}")
    if not key:
        raise ValueError("an object key must not be empty")
    return key


def check_extra(extra: object) -> None:
    """Raise unless ``extra`` is a mapping without the parameters the batch sets itself."""
    if not isinstance(extra, Mapping):
        raise TypeError(f"extra_args must be a mapping, got {type(extra).__name__}")
    reserved = _RESERVED & set(extra)
    if reserved:
        raise ValueError(f"extra_args must not set {sorted(reserved)}: the batch sets them")


def is_collection(items: object) -> bool:
    """Whether ``items`` can be iterated twice (checked ahead, then used)."""
    return isinstance(items, (list, tuple, set, frozenset, Mapping, range))


def raw_items(items: Iterable[Any] | Mapping[str, Any]) -> Iterator[Any]:
    """The entries of ``items``: a mapping's ``(key, value)`` pairs, else the items."""
    if isinstance(items, (str, bytes)):
        raise TypeError("expected an iterable of items, got a single str/bytes")
    if isinstance(items, Mapping):
        return iter(items.items())
    return iter(items)


def to_put_item(raw: Any, replayable: bool, bucket: str | None = None) -> PutItem:
    """A checked :class:`PutItem` from one entry; ``replayable``: the body must be resendable
    by the batch itself (verification on); errors name ``s3://bucket/key``."""
    if isinstance(raw, PutItem):
        item = raw
    elif isinstance(raw, tuple) and len(raw) in (2, 3):
        try:
            item = PutItem(*raw)
        except (TypeError, ValueError) as error:
            if not isinstance(raw[0], str) or not raw[0]:
                raise
            raise type(error)(f"put {describe(bucket, raw[0])}: {error}") from error
    else:
        raise TypeError(
            f"a put item must be a PutItem or a (key, body[, extra_args]) tuple, got {raw!r:.80}"
        )
    check_body(item, replayable, bucket)
    return item


def check_body(item: PutItem, replayable: bool, bucket: str | None = None) -> None:
    """Raise if ``item.body`` cannot be sent (or resent, when ``replayable``)."""
    body, target = item.body, f"put {describe(bucket, item.key)}"
    if isinstance(body, (bytes, bytearray, memoryview, str)):
        return
    if isinstance(body, os.PathLike):
        path = os.fspath(body)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{target}: {path!r} is not an existing file")
        return
    if not hasattr(body, "read"):
        raise TypeError(
            f"{target}: a body must be bytes, str, a path or a binary file object, "
            f"got {type(body).__name__}"
        )
    check_stream(body, target)
    if replayable and start_position(body) is None:  # the facade's test: one home
        raise UnreplayableBodyError(
            f"{target}: the body is a non-seekable stream, which cannot be uploaded "
            "again if verification finds the write lost; pass bytes, a path or a seekable "
            "file, or verify_writes=False"
        )


def to_key(raw: Any) -> str:
    """A checked key for get, head and delete."""
    return check_key(raw)


def to_copy_item(raw: Any) -> CopyItem:
    """A checked :class:`CopyItem` from a CopyItem or a 4- or 5-tuple."""
    if isinstance(raw, CopyItem):
        return raw
    if isinstance(raw, tuple) and len(raw) in (4, 5):
        return CopyItem(*raw)
    raise TypeError(
        "a copy item must be a CopyItem or a (src_bucket, src_key, dst_bucket, dst_key"
        f"[, extra_args]) tuple, got {raw!r:.80}"
    )
