"""The native plane's certificate check (``_transports/crt/tls.py``): a certificate that does
not verify is botocore's ``SSLError`` at once, permanent, nothing sent; a good one (a CA bundle
given as ``verify=``) costs one handshake per endpoint; a handshake that fails otherwise
decides nothing."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import SSLError

import resilient_s3
from resilient_s3 import ErrorKind, RetryPolicy
from resilient_s3._transports.crt.tls import CertificateCheck
from resilient_s3.testing import S3Server


@pytest.fixture(scope="module")
def tls_server() -> Iterator[S3Server]:
    with S3Server(tls=True) as server:
        yield server


@pytest.mark.native
def test_ten_items_to_an_untrusted_endpoint_fail_at_once(tls_server: S3Server) -> None:
    config = Config(connect_timeout=5, read_timeout=5)
    s3 = resilient_s3.client("s3", config=config, **tls_server.client_kwargs())
    began = time.monotonic()

    put = s3.batch.put("b", {f"k{i}": b"x" for i in range(10)}, data_plane="crt")

    took = time.monotonic() - began
    assert len(put.failed) == 10
    for failure in put.failed:
        assert isinstance(failure.error, SSLError)  # was 5 read timeouts each (25 s)
        assert failure.kind is ErrorKind.PERMANENT
        assert failure.attempts == 1
    assert took < 5  # no blinding delay, no timeout


@pytest.mark.native
def test_a_trusted_endpoint_works_and_is_checked_once(tls_server: S3Server) -> None:
    kwargs: dict[str, Any] = {**tls_server.client_kwargs(), "verify": tls_server.ca_bundle}
    s3 = resilient_s3.client("s3", retry=RetryPolicy(deadline=30), **kwargs)
    s3.create_bucket(Bucket="trusted")

    put = s3.batch.put("trusted", {f"k{i}": b"x" for i in range(20)}, data_plane="crt")
    got = s3.batch.get("trusted", [f"k{i}" for i in range(20)], data_plane="crt")

    assert put.ok, put.summary()
    assert got.ok, got.summary()


def _check(verify: bool | str | None, host: str) -> BaseException | None:
    async def run() -> BaseException | None:
        guard = CertificateCheck(True, verify, 2.0).guard(host)
        if guard is None:
            return None
        try:
            await guard
        except SSLError as error:
            return error
        return None

    return asyncio.run(run())


def test_what_the_check_decides(tls_server: S3Server) -> None:
    host = f"127.0.0.1:{tls_server.port}"
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        refused = f"127.0.0.1:{unused.getsockname()[1]}"  # nothing listens there

    assert isinstance(_check(None, host), SSLError)  # self-signed: not in the default store
    assert _check(tls_server.ca_bundle, host) is None  # trusted through the bundle
    assert _check(False, host) is None  # verify=False: nothing checked
    assert _check(None, refused) is None  # refused: decides nothing, the CRT's outcome stands
