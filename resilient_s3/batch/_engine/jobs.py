"""What the engine runs: a :class:`Job` per item (or delete chunk), a :class:`BadItem` for an
input that cannot be run, and the errors that fail one item rather than the batch."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from urllib3.exceptions import HTTPError

from ..._errors import ResilientS3Error

__all__ = ["ITEM_ERRORS", "BadItem", "Job"]

#: Errors that fail one item. Anything else is a bug and stops the batch.
ITEM_ERRORS: tuple[type[BaseException], ...] = (
    ClientError, BotoCoreError, ResilientS3Error, OSError, ValueError, HTTPError,
)  # fmt: skip


class BadItem(Exception):
    """An input item that cannot be run: it fails alone, with ``error``, before any request."""

    def __init__(self, bucket: str | None, key: str, error: BaseException) -> None:
        super().__init__(key)
        self.bucket, self.key, self.error = bucket, key, error


@dataclass
class Job:
    """Work for ``keys`` (one key, or a delete chunk): ``call()`` in a worker thread, or, when
    ``awaited``, ``await call()`` on the loop (the CRT plane).

    ``done(result)`` continues on the loop after success (default: the item succeeded).
    """

    bucket: str
    keys: tuple[str, ...]
    call: Callable[[], Any]
    done: Callable[[Any], Awaitable[None]] | None = None
    awaited: bool = False
