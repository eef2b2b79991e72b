"""What every data plane gives the batch plans: one item's work as a callable.

A plane's ``put``/``get``/``head``/``copy`` return a zero-argument callable for a
:class:`~resilient_s3.batch._engine.jobs.Job`: a blocking call run in a worker thread when the
plane's ``awaited`` is false (``threaded.py``), a coroutine function awaited on the batch's loop
when it is true (``native.py``). ``list_page(params)`` is one ListObjectsV2 page for list
verification, in botocore's shape (``Contents`` with ``Key``, ``Size``, ``ETag``; ``IsTruncated``;
``NextContinuationToken``). ``call(operation, params)`` is any other operation of the item's
(a journaled upload's CreateMultipartUpload, UploadPart, ListParts...): one call under the
client's retry policy, paced and counted like the item's own requests, botocore's answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .._inputs.items import CopyItem, PutItem

__all__ = ["Multipart", "Plane", "check_multipart"]


@dataclass(frozen=True)
class Multipart:
    """When and how a put uses a multipart upload."""

    threshold: int = 64 * 1024 * 1024
    part_size: int = 16 * 1024 * 1024


def check_multipart(threshold: object, part_size: object) -> Multipart:
    """A checked :class:`Multipart`: ints of at least 5 MiB (S3's smallest part); a wrong one
    is refused naming it (``part_size="5MB"`` is a ``TypeError`` saying ``part_size``)."""
    return Multipart(_bytes("multipart_threshold", threshold), _bytes("part_size", part_size))


def _bytes(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int (bytes), got {value!r}")
    if value < 5 * 1024 * 1024:
        raise ValueError(f"{name} must be at least 5 MiB (S3's minimum), got {value!r}")
    return value


class Plane(Protocol):
    """One batch's data plane."""

    name: str
    awaited: bool

    def put(
        self, bucket: str, item: PutItem, position: int | None, multipart: Multipart
    ) -> Callable[[], Any]: ...
    def get(self, bucket: str, key: str, target: Path | None) -> Callable[[], Any]: ...
    def head(self, bucket: str, key: str) -> Callable[[], Any]: ...
    def copy(self, item: CopyItem) -> Callable[[], Any]: ...
    def list_page(self, params: dict[str, Any]) -> Callable[[], Any]: ...
    def call(self, operation: str, params: dict[str, Any]) -> Callable[[], Any]: ...
