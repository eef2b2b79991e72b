"""Fixtures of the batch tests: a BatchClient over the ``rs3`` facade (through the fault proxy,
retries that never sleep), and helpers to read what the server really holds."""

from __future__ import annotations

import random
from typing import Any

import pytest

from resilient_s3.batch import BatchClient


@pytest.fixture
def batch(rs3: Any) -> BatchClient:
    """``rs3.batch``: the facade's batch client over ``rs3``."""
    client = rs3.batch
    assert isinstance(client, BatchClient)
    return client


def make_bodies(
    count: int, prefix: str = "data/", size: int = 1024, seed: int = 0
) -> dict[str, bytes]:
    """``count`` distinct random bodies of ``size`` bytes under sequential keys."""
    rng = random.Random(seed)
    return {f"{prefix}{i:05d}": rng.randbytes(size) for i in range(count)}


def stored(s3: Any, bucket: str, prefix: str = "") -> dict[str, int]:
    """key -> size of every object the server holds under ``prefix`` (no proxy in between)."""
    sizes: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            sizes[entry["Key"]] = entry["Size"]
    return sizes
