"""Tests of ``S3Server``: a real moto process that starts, serves S3 and is gone after stop()."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import boto3
import pytest

from resilient_s3.testing import S3Server, ServerUnavailable
from resilient_s3.testing._process import ManagedServer

from ._procs import listening_on, pid_alive

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def test_start_serve_stop() -> None:
    """A started server answers S3 calls; after stop() its PID is gone and stop() is idempotent."""
    server = S3Server()
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.endpoint_url
    with server:
        assert server.running
        assert server.endpoint_url == f"http://127.0.0.1:{server.port}"
        pid = server.pid
        assert pid_alive(pid)
        assert repr(server).endswith(f"pid={pid})")
        s3 = boto3.client("s3", **server.client_kwargs())
        s3.create_bucket(Bucket="srv-test")
        s3.put_object(Bucket="srv-test", Key="k", Body=b"data")
        assert s3.get_object(Bucket="srv-test", Key="k")["Body"].read() == b"data"
    assert not server.running
    assert not pid_alive(pid)
    server.stop()
    assert repr(server) == "S3Server(stopped)"


def test_a_managed_server_on_loopback_in_its_own_process_group() -> None:
    """S3Server is a ManagedServer: it listens on 127.0.0.1 only, leads its own process group
    (stop() signals that group, not ours), and its scratch directory is gone after stop()."""
    server = S3Server(start_timeout=60)
    assert isinstance(server, ManagedServer)
    with server:
        pid, scratch = server.pid, server.scratch_dir
        assert {address for address, _ in listening_on(pid)} == {"127.0.0.1"}
        assert ("127.0.0.1", server.port) in listening_on(pid)
        assert os.getpgid(pid) == pid != os.getpgid(0)
        assert os.path.isdir(scratch)
    assert not os.path.exists(scratch)
    assert not pid_alive(pid)


def test_missing_moto_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without moto's server, start() raises ServerUnavailable (a RuntimeError) saying what to
    install, and starts nothing."""
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    server = S3Server()
    with pytest.raises(ServerUnavailable, match=r"pip install 'resilient-s3\[server\]'"):
        server.start()
    assert issubclass(ServerUnavailable, RuntimeError)
    assert not server.running


def test_client_kwargs(s3_server: S3Server) -> None:
    """client_kwargs() holds the endpoint, the region and the dummy keys."""
    assert s3_server.client_kwargs() == {
        "endpoint_url": s3_server.endpoint_url,
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }


def test_port_in_use_reports_stderr() -> None:
    """A server that dies at start raises an error that ends with its stderr tail."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        server = S3Server(port=port)
        with pytest.raises(RuntimeError, match="exited with code") as info:
            server.start()
    assert "in use" in str(info.value)
    assert not server.running


def test_stop_kills_a_server_that_ignores_sigterm(monkeypatch: pytest.MonkeyPatch) -> None:
    """stop() falls back to SIGKILL after stop_timeout."""
    server = S3Server(stop_timeout=0.2)
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(15, 1); print('x', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
    )
    assert stubborn.stdout is not None
    stubborn.stdout.readline()  # SIGTERM handler installed
    monkeypatch.setattr(server, "_process", stubborn)
    server.stop()
    assert stubborn.returncode == -9
    stubborn.stdout.close()


def test_s3_bucket_fixture(s3_bucket: str, s3_server_client: S3Client) -> None:
    """The s3_bucket fixture gives an existing, empty bucket."""
    assert s3_server_client.list_objects_v2(Bucket=s3_bucket)["KeyCount"] == 0


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_a_server_does_not_outlive_the_process_that_started_it() -> None:
    """Its owner killed (no stop(), no teardown: a test run cut short), the server goes too."""
    script = (
        "import sys, time\n"
        "from resilient_s3.testing import S3Server\n"
        "server = S3Server().start()\n"
        "print(server._require().pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None
        server_pid = int(owner.stdout.readline())
        assert _state(server_pid) not in ("gone", "Z")
    finally:
        owner.kill()
        owner.wait()
    deadline = time.monotonic() + 15
    while _state(server_pid) not in ("gone", "Z") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _state(server_pid) in ("gone", "Z")  # exited (a zombie until init reaps it)


def _state(pid: int) -> str:
    """The process state letter of ``pid`` from /proc (``"gone"`` when there is none)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"
