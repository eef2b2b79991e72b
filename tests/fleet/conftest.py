"""Fixtures of the fleet tests: a real redis-server process on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from resilient_s3.testing import RedisServer, ServerUnavailable
from resilient_s3.testing.pytest_plugin import require_real_servers


def start_redis() -> RedisServer:
    """A started RedisServer; skips the test if redis-server is not installed (fails in CI)."""
    try:
        return RedisServer().start()
    except ServerUnavailable as missing:
        if require_real_servers():
            raise
        pytest.skip(str(missing))


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    """One redis-server for the module, stopped by its PID at the end."""
    server = start_redis()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A redis-server of the test's own (a test may stop it)."""
    server = start_redis()
    try:
        yield server
    finally:
        server.stop()
