"""Fixtures of the batch tests: a BatchClient over the ``rs3`` facade (through the fault proxy,
retries that never sleep), and helpers to read what the server really holds."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

import resilient_s3
from resilient_s3 import RetryPolicy
from resilient_s3.batch import BatchClient
from resilient_s3.testing import FaultProxy, SeaweedFSServer, ServerUnavailable
from resilient_s3.testing.pytest_plugin import require_real_servers


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


def files_under(root: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every file under ``root`` (a ``.part`` file left would show)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def stored(s3: Any, bucket: str, prefix: str = "") -> dict[str, int]:
    """key -> size of every object the server holds under ``prefix`` (no proxy in between)."""
    sizes: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            sizes[entry["Key"]] = entry["Size"]
    return sizes


@dataclass
class Place:
    """A bucket on a server, through a fault proxy; ``direct`` talks to the server itself."""

    proxy: FaultProxy
    bucket: str
    direct: Any

    def client(self, policy: RetryPolicy) -> Any:
        return resilient_s3.client("s3", retry=policy, **self.proxy.client_kwargs())


@pytest.fixture(scope="session")
def seaweedfs() -> Iterator[SeaweedFSServer]:
    """A SeaweedFS server for the session (skipped where it cannot run, unless required)."""
    server = SeaweedFSServer()
    try:
        server.start()
    except ServerUnavailable as exc:
        if require_real_servers():
            pytest.fail(str(exc), pytrace=False)
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["moto", pytest.param("seaweedfs", marks=pytest.mark.real_server)])
def place(request: pytest.FixtureRequest, s3_server: Any) -> Iterator[Place]:
    """A new bucket on moto, then on SeaweedFS (a real server: marked ``real_server``), behind a
    fresh fault proxy (seed 0)."""
    server = s3_server if request.param == "moto" else request.getfixturevalue("seaweedfs")
    direct = boto3.client("s3", **server.client_kwargs())
    bucket = f"place-{random.getrandbits(40):010x}"
    direct.create_bucket(Bucket=bucket)
    with FaultProxy(server.endpoint_url, seed=0) as proxy:
        yield Place(proxy, bucket, direct)
    for upload in direct.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        direct.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    for entry in direct.list_objects_v2(Bucket=bucket).get("Contents", []):
        direct.delete_object(Bucket=bucket, Key=entry["Key"])
    direct.delete_bucket(Bucket=bucket)
