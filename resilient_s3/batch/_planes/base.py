"""What every data plane gives the batch plans: one item's work as a callable.

A plane's ``put``/``get``/``head``/``copy`` return a zero-argument callable for a
:class:`~resilient_s3.batch._engine.jobs.Job`: a blocking call run in a worker thread when the
plane's ``awaited`` is false (botocore), a coroutine function awaited on the batch's loop when it
is true (CRT). ``list_page(params)`` is one ListObjectsV2 page for list verification, in
botocore's shape (``Contents`` with ``Key``, ``Size``, ``ETag``; ``IsTruncated``;
``NextContinuationToken``). ``put_now``/``copy_now`` are the blocking forms, for work that
already runs in a worker thread (list verification's re-uploads).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .._inputs.items import CopyItem, PutItem
from .._report.report import ItemResult
from .botocore.ops import Multipart, copy_one, get_one, head_one, put_one

if TYPE_CHECKING:
    from ..._client import ResilientS3Client

__all__ = ["BotocorePlane", "Plane"]


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
    def put_now(
        self, bucket: str, item: PutItem, position: int | None, multipart: Multipart
    ) -> ItemResult: ...
    def copy_now(self, item: CopyItem) -> ItemResult: ...


class BotocorePlane:
    """Every item through the facade in a worker thread (``botocore/ops.py``)."""

    name = "botocore"
    awaited = False

    def __init__(self, s3: ResilientS3Client) -> None:
        self.s3 = s3

    def put(
        self, bucket: str, item: PutItem, position: int | None, multipart: Multipart
    ) -> Callable[[], Any]:
        return functools.partial(put_one, self.s3, bucket, item, position, multipart)

    def get(self, bucket: str, key: str, target: Path | None) -> Callable[[], Any]:
        return functools.partial(get_one, self.s3, bucket, key, target)

    def head(self, bucket: str, key: str) -> Callable[[], Any]:
        return functools.partial(head_one, self.s3, bucket, key)

    def copy(self, item: CopyItem) -> Callable[[], Any]:
        return functools.partial(copy_one, self.s3, item)

    def list_page(self, params: dict[str, Any]) -> Callable[[], Any]:
        return functools.partial(self.s3.list_objects_v2, **params)

    def put_now(
        self, bucket: str, item: PutItem, position: int | None, multipart: Multipart
    ) -> ItemResult:
        return put_one(self.s3, bucket, item, position, multipart)

    def copy_now(self, item: CopyItem) -> ItemResult:
        return copy_one(self.s3, item)
