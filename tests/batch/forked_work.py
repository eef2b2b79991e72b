"""Work for forked children: a module-level client, made and used by the parent before the
fork (``test_crt_fork.py``)."""

from __future__ import annotations

import os
from typing import Any

#: The module-level client the parent makes and uses, and the children inherit.
CLIENT: Any = None


def get_in_child(bucket: str, keys: list[str]) -> tuple[int, bool, dict[str, bytes]]:
    """Download ``keys`` on the native plane in this (forked) process."""
    report = CLIENT.batch.get(bucket, keys, data_plane="crt")
    return os.getpid(), report.ok, dict(report.data)


def put_in_child(bucket: str, key: str) -> None:
    """Upload one object on the native plane, then let the process exit as it would."""
    report = CLIENT.batch.put(bucket, {key: key.encode()}, data_plane="crt")
    report.raise_for_failures()
