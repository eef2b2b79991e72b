"""Tests of ``LocalStackServer`` and ``SeaweedFSServer``: prerequisites, loopback only, stop.

The prerequisite tests need no server. The others use the real servers (``real_s3_server``), so
they are marked ``real_server`` and skipped where a server is not installed (failed in CI).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest

from resilient_s3.testing import LocalStackServer, SeaweedFSServer, ServerUnavailable
from resilient_s3.testing._process import ManagedServer

from ._procs import listening_on, pid_alive

if TYPE_CHECKING:
    from collections.abc import Iterator


def test_missing_localstack_python_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """No configured Python, a missing path, or a Python without localstack: ServerUnavailable,
    with what to do in the message."""
    monkeypatch.delenv("RESILIENT_S3_LOCALSTACK_PYTHON", raising=False)
    with pytest.raises(ServerUnavailable, match="RESILIENT_S3_LOCALSTACK_PYTHON"):
        LocalStackServer().start()
    with pytest.raises(ServerUnavailable, match="not an executable"):
        LocalStackServer("/nonexistent/python").start()
    with pytest.raises(ServerUnavailable, match="cannot import localstack"):
        LocalStackServer(sys.executable).start()


def test_localstack_pins_match_ci() -> None:
    """The pins the error message names are the ones .ci/install-real-servers installs."""
    from resilient_s3.testing._localstack import LOCALSTACK_REQUIREMENTS

    text = (Path(__file__).parents[2] / ".ci" / "localstack-requirements.txt").read_text()
    lines = [line.strip() for line in text.splitlines()]
    assert tuple(line for line in lines if line and not line.startswith("#")) == (
        LOCALSTACK_REQUIREMENTS
    )


def test_missing_weed_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A weed path that is not an executable: ServerUnavailable."""
    monkeypatch.setenv("RESILIENT_S3_WEED", "/nonexistent/weed")
    server = SeaweedFSServer()
    assert server.weed == "/nonexistent/weed"
    with pytest.raises(ServerUnavailable, match="not an executable"):
        server.start()
    assert not server.running
    assert repr(server) == "SeaweedFSServer(stopped)"


def test_a_binary_that_cannot_run_is_unavailable(tmp_path: Path) -> None:
    """A weed path that passes the executable check but cannot be run (a directory):
    ServerUnavailable, and no scratch directory left behind."""
    before = set(Path("/tmp").glob("resilient-s3-seaweedfs-*"))
    server = SeaweedFSServer(str(tmp_path))
    with pytest.raises(ServerUnavailable, match="cannot run it"):
        server.start()
    assert not server.running
    assert set(Path("/tmp").glob("resilient-s3-seaweedfs-*")) <= before


def test_serves_on_loopback_only(real_s3_server: ManagedServer) -> None:
    """Every port the server listens on (SeaweedFS has ten) is on 127.0.0.1, none on 0.0.0.0."""
    listening = listening_on(real_s3_server.pid)
    assert ("127.0.0.1", real_s3_server.port) in listening
    assert {address for address, _ in listening} == {"127.0.0.1"}, listening
    assert real_s3_server.endpoint_url == f"http://127.0.0.1:{real_s3_server.port}"
    assert repr(real_s3_server).endswith(f"pid={real_s3_server.pid})")


@pytest.fixture
def fresh_server(real_s3_server: ManagedServer) -> Iterator[ManagedServer]:
    """A second, not yet started server of the same kind as ``real_s3_server``."""
    server: ManagedServer
    if isinstance(real_s3_server, LocalStackServer):
        server = LocalStackServer(real_s3_server.python)
    else:
        assert isinstance(real_s3_server, SeaweedFSServer)
        server = SeaweedFSServer(real_s3_server.weed)
    yield server
    server.stop()


def test_start_serve_stop_leaves_nothing(fresh_server: ManagedServer) -> None:
    """A started server stores objects; stop() ends its PID, frees its port, deletes its scratch
    directory (data, logs, sockets) and is idempotent."""
    with fresh_server as server:
        assert server.running
        pid, port, scratch = server.pid, server.port, server.scratch_dir
        s3 = boto3.client("s3", **server.client_kwargs())
        s3.create_bucket(Bucket="lifecycle")
        s3.put_object(Bucket="lifecycle", Key="k", Body=b"data")
        assert s3.get_object(Bucket="lifecycle", Key="k")["Body"].read() == b"data"
        s3.close()
    assert not server.running
    assert not pid_alive(pid)
    assert not os.path.exists(scratch)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    server.stop()
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.endpoint_url


def test_stop_kills_a_process_group_that_ignores_sigterm(monkeypatch: pytest.MonkeyPatch) -> None:
    """stop() sends SIGTERM to the group, SIGKILL after stop_timeout, children included."""
    server = SeaweedFSServer("/bin/true", stop_timeout=0.3)
    script = (
        "import signal, subprocess, sys, time; signal.signal(15, signal.SIG_IGN); "
        "child = subprocess.Popen([sys.executable, '-c', "
        "'import signal, time; signal.signal(15, signal.SIG_IGN); time.sleep(60)']); "
        "print(child.pid, flush=True); time.sleep(60)"
    )
    stubborn = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, start_new_session=True
    )
    assert stubborn.stdout is not None
    grandchild = int(stubborn.stdout.readline())
    monkeypatch.setattr(server, "_process", stubborn)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 5
    assert stubborn.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 5
    while pid_alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)  # killed, then reaped by init
    assert not pid_alive(grandchild)
    stubborn.stdout.close()
