"""pytest fixtures for testing S3 code against a real server, with and without injected faults.

Opt-in: ``pytest_plugins = ["resilient_s3.testing.pytest_plugin"]`` in a ``conftest.py`` (or
``pytest -p resilient_s3.testing.pytest_plugin``); installing resilient-s3 loads nothing into
pytest runs that do not ask. Loading it imports the ``resilient_s3`` package (botocore, boto3);
moto only runs in the server's process.

Fixtures:
    ``s3_server`` (session): a running :class:`~resilient_s3.testing.S3Server`.
    ``s3_server_client`` (session): a plain boto3 S3 client straight to ``s3_server`` (no proxy), to
        check what the server really holds.
    ``fault_proxy`` (function): a :class:`~resilient_s3.testing.FaultProxy` in front of
        ``s3_server``, with no faults and seed 0; call ``set_faults`` in the test.
    ``fault_proxy_client`` (function): a plain boto3 S3 client through ``fault_proxy`` that makes
        exactly one attempt per call (``total_max_attempts=1``), so the test controls every attempt.
    ``s3_bucket`` (function): the name of a new, empty bucket on ``s3_server``, emptied and deleted
        afterwards.
    ``real_s3_server`` (session, parametrized ``localstack`` / ``seaweedfs``): a running
        :class:`~resilient_s3.testing.LocalStackServer` or
        :class:`~resilient_s3.testing.SeaweedFSServer`. Tests that use it are marked
        ``real_server``. A server whose prerequisites are missing skips them, unless the
        environment sets ``CI=true`` or ``RESILIENT_S3_REQUIRE_REAL_SERVERS=1``: then it fails them.
    ``real_s3_server_client`` (function): a plain boto3 S3 client straight to ``real_s3_server``.
    ``real_s3_bucket`` (function): a new, empty bucket on ``real_s3_server``, deleted afterwards.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

    from . import FaultProxy, S3Server
    from ._process import ManagedServer

__all__ = [
    "REAL_SERVERS",
    "fault_proxy",
    "fault_proxy_client",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "real_s3_bucket",
    "real_s3_server",
    "real_s3_server_client",
    "require_real_servers",
    "s3_bucket",
    "s3_server",
    "s3_server_client",
]

#: The real servers ``real_s3_server`` is parametrized over (its ids).
REAL_SERVERS = ("localstack", "seaweedfs")
#: The marker given to every test that uses ``real_s3_server``.
_MARKER = "real_server"


def require_real_servers() -> bool:
    """Whether a real server that cannot start must fail the tests rather than skip them: in CI
    (``CI=true``) or when ``RESILIENT_S3_REQUIRE_REAL_SERVERS`` is ``1``/``true``/``yes``."""
    truthy = ("1", "true", "yes")
    return (
        os.environ.get("CI", "").strip().lower() in truthy
        or os.environ.get("RESILIENT_S3_REQUIRE_REAL_SERVERS", "").strip().lower() in truthy
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``real_server`` marker."""
    config.addinivalue_line(
        "markers",
        f"{_MARKER}: runs against a real S3 server (LocalStack, SeaweedFS) started by the "
        "real_s3_server fixture; deselect with -m 'not real_server'",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``real_server`` every test that uses ``real_s3_server``, directly or through another
    fixture."""
    for item in items:
        if "real_s3_server" in getattr(item, "fixturenames", ()):
            item.add_marker(_MARKER)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A moto S3 server process on 127.0.0.1, shared by the whole session and stopped at its end."""
    from ._server import S3Server

    with S3Server() as server:
        yield server


@pytest.fixture(scope="session")
def s3_server_client(s3_server: S3Server) -> S3Client:
    """A plain boto3 S3 client talking to ``s3_server`` directly."""
    import boto3

    return boto3.client("s3", **s3_server.client_kwargs())


@pytest.fixture
def fault_proxy(s3_server: S3Server) -> Iterator[FaultProxy]:
    """A fault proxy in front of ``s3_server``, no faults, seed 0; stopped after the test."""
    from ._proxy import FaultProxy

    with FaultProxy(s3_server.endpoint_url, seed=0) as proxy:
        yield proxy


@pytest.fixture
def fault_proxy_client(fault_proxy: FaultProxy) -> S3Client:
    """A plain boto3 S3 client through ``fault_proxy``: one attempt per call, no retries."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30)
    return boto3.client("s3", config=config, **fault_proxy.client_kwargs())


@pytest.fixture
def s3_bucket(s3_server_client: S3Client) -> Iterator[str]:
    """The name of a new, unique bucket on ``s3_server``; emptied and deleted afterwards."""
    with _new_bucket(s3_server_client) as name:
        yield name


@pytest.fixture(scope="session", params=REAL_SERVERS)
def real_s3_server(request: pytest.FixtureRequest) -> Iterator[ManagedServer]:
    """A real S3 server process on 127.0.0.1 (LocalStack, then SeaweedFS), one at a time.

    Missing prerequisites (no LocalStack Python configured, no ``weed`` binary) skip the test, or
    fail it when :func:`require_real_servers`. A server that is there but fails to start always
    fails the test, with the tail of its log.
    """
    from ._localstack import LocalStackServer
    from ._seaweedfs import SeaweedFSServer

    server: ManagedServer
    server = LocalStackServer() if request.param == "localstack" else SeaweedFSServer()
    with _serving(server):
        yield server


@pytest.fixture
def real_s3_server_client(real_s3_server: ManagedServer) -> Iterator[S3Client]:
    """A plain boto3 S3 client talking to ``real_s3_server`` directly."""
    import boto3

    s3 = boto3.client("s3", **real_s3_server.client_kwargs())
    yield s3
    s3.close()


@pytest.fixture
def real_s3_bucket(real_s3_server_client: S3Client) -> Iterator[str]:
    """The name of a new, unique bucket on ``real_s3_server``; emptied and deleted afterwards."""
    with _new_bucket(real_s3_server_client) as name:
        yield name


@contextlib.contextmanager
def _serving(server: ManagedServer) -> Iterator[ManagedServer]:
    """``server`` started, stopped on leaving. Missing prerequisites skip the test, or fail it
    when :func:`require_real_servers`; a server that fails to start fails it."""
    from ._process import ServerUnavailable

    try:
        server.start()
    except ServerUnavailable as exc:
        if require_real_servers():
            pytest.fail(f"{exc} (real servers are required here)", pytrace=False)
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def _new_bucket(s3: S3Client, prefix: str = "test") -> Iterator[str]:
    """A new, unique bucket on ``s3``'s server; emptied and deleted on leaving."""
    name = f"{prefix}-{uuid.uuid4().hex[:20]}"
    s3.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        _delete_bucket(s3, name)


def _delete_bucket(s3: S3Client, name: str) -> None:
    """Abort the uploads, delete the objects, then delete the bucket (frees the server's memory)."""
    for uploads in s3.get_paginator("list_multipart_uploads").paginate(Bucket=name):
        for upload in uploads.get("Uploads", []):
            s3.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    for listing in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        keys: list[ObjectIdentifierTypeDef] = [
            {"Key": o["Key"]} for o in listing.get("Contents", [])
        ]
        if keys:
            s3.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
    s3.delete_bucket(Bucket=name)
