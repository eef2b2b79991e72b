"""Helpers of the drop-in tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from resilient_s3.testing._process import ManagedServer

#: /proc/net/tcp's state code of an established connection.
_ESTABLISHED = "01"


def established_to(port: int) -> int:
    """How many TCP connections on this machine are established to 127.0.0.1:``port`` (the
    client side of each: its remote port is ``port``), read from ``/proc/net/tcp``."""
    count = 0
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            remote, state = fields[2], fields[3]
            if state == _ESTABLISHED and int(remote.split(":")[1], 16) == port:
                count += 1
    return count


# -- moto and LocalStack, each test of a module run on both ----------------------------------


#: The servers the drop-in tests that ask for ``dropin_server`` run on: moto (the session's),
#: then LocalStack (marked ``real_server``: skipped without its Python, failed in CI).
DROPIN_SERVERS = ("moto", pytest.param("localstack", marks=pytest.mark.real_server))


@pytest.fixture(scope="session")
def localstack_server() -> Iterator[ManagedServer]:
    """A LocalStack started for the drop-in tests (skipped without its Python; failed in CI)."""
    from resilient_s3.testing._localstack import LocalStackServer
    from resilient_s3.testing.pytest_plugin import _serving

    with _serving(LocalStackServer()) as server:
        yield server


@pytest.fixture(scope="session", params=DROPIN_SERVERS)
def dropin_server(request: pytest.FixtureRequest) -> ManagedServer:
    """The session's moto server, then :func:`localstack_server`."""
    fixture = "s3_server" if request.param == "moto" else "localstack_server"
    server: ManagedServer = request.getfixturevalue(fixture)
    return server


@pytest.fixture
def dropin_admin(dropin_server: ManagedServer) -> Iterator[Any]:
    """A plain boto3 client straight to ``dropin_server``."""
    import boto3

    s3 = boto3.client("s3", **dropin_server.client_kwargs())
    yield s3
    s3.close()


@pytest.fixture
def dropin_bucket(dropin_admin: Any) -> Iterator[str]:
    """A new bucket on ``dropin_server``, emptied and deleted afterwards."""
    from resilient_s3.testing.pytest_plugin import _new_bucket

    with _new_bucket(dropin_admin, "dropin") as name:
        yield name
