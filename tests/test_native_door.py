"""The sync door's native path: a client made before ``fork()`` works in the child, a request
that hangs neither holds the process at exit nor outlives its read timeout."""

from __future__ import annotations

import multiprocessing
import socket
import subprocess
import sys
import time
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ReadTimeoutError

import resilient_s3
from resilient_s3 import RetryPolicy

pytest.importorskip("awscrt")
#: Needs the native transport itself (an awscrt it can run on: not the floor job's 0.23).
pytestmark = pytest.mark.native


def _use_in_child(s3: Any, bucket: str, answers: Any) -> None:
    s3.put_object(Bucket=bucket, Key="child", Body=b"from the child")
    answers.put((s3.get_object(Bucket=bucket, Key="child")["Body"].read(), s3.stats.paths["crt"]))


@pytest.mark.skipif(sys.platform == "win32", reason="fork() is POSIX")
def test_a_client_made_before_fork_works_natively_in_the_child(
    s3_server: Any, s3_bucket: str
) -> None:
    s3 = resilient_s3.client("s3", **s3_server.client_kwargs())
    s3.put_object(Bucket=s3_bucket, Key="parent", Body=b"x")  # the parent's native client exists
    assert s3.stats.paths["crt"] == 2  # the put and its read-back
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    child = context.Process(target=_use_in_child, args=(s3, s3_bucket, answers))
    child.start()
    try:
        assert answers.get(timeout=60) == (b"from the child", 5)  # 2 + put, read-back, get
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
    assert child.exitcode == 0
    s3.close()


def test_a_silent_server_times_out_after_read_timeout(s3_server: Any) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    kwargs = {**s3_server.client_kwargs(), "endpoint_url": f"http://{silent.getsockname()[0]}:"
              f"{silent.getsockname()[1]}"}  # fmt: skip
    s3 = resilient_s3.client(
        "s3", config=Config(read_timeout=1), retry=RetryPolicy.no_retries(), **kwargs
    )
    started = time.monotonic()
    with silent, pytest.raises(ReadTimeoutError):
        s3.head_object(Bucket="bucket", Key="k")
    assert 1.0 <= time.monotonic() - started < 3.0
    assert s3.stats.paths == {"crt": 1}


def test_nothing_keeps_the_process_alive_at_exit(s3_server: Any) -> None:
    """A native request still waiting on a silent server when the program's main thread ends
    (in a daemon thread): the interpreter exits at once."""
    code = f"""
import socket, threading, time, resilient_s3
from botocore.config import Config
silent = socket.socket(); silent.bind(("127.0.0.1", 0)); silent.listen()
kwargs = {s3_server.client_kwargs()!r}
kwargs["endpoint_url"] = "http://127.0.0.1:%d" % silent.getsockname()[1]
s3 = resilient_s3.client("s3", config=Config(read_timeout=60), **kwargs)
threading.Thread(target=s3.head_object, kwargs=dict(Bucket="b", Key="k"), daemon=True).start()
time.sleep(0.5)
print("bye")
"""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "bye"
    assert time.monotonic() - started < 10
